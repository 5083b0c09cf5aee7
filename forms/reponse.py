"""What a porteur's dossier de réponse says, as read (``forms.dossier_reponse`` reads it).

Apart from the reader, so that the process recording dépôts (which receives these from its reading workers)
loads neither openpyxl nor the reader."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Referent:
    """One salarié proposed as référent de parcours."""

    nom: str
    prenom: str
    etp: Decimal | None
    salaire_charge_annuel: Decimal | None
    cv_fichier: str


@dataclass(frozen=True)
class FormulaireReponse:
    """What a porteur's form says, plus what is missing or unreadable in it."""

    porteur_nom: str
    porteur_siret: str
    porteur_adresse: str
    contact_nom: str
    contact_email: str
    contact_telephone: str
    budget_salaires: Decimal | None
    budget_deplacements: Decimal | None
    budget_autres: Decimal | None
    ressources_fse: Decimal | None
    ressources_plie: Decimal | None
    ressources_autres: Decimal | None
    referents: tuple[Referent, ...]
    champs_manquants: tuple[str, ...]
    anomalies: tuple[str, ...]
    nettoyes: tuple[str, ...] = ()
    """Fields whose invisible format characters (bidi controls, zero-width marks) were removed."""
