"""The convention de partenariat with a retained porteur: its data and French context.

``convention_context`` is pure: every value comes out already formatted in
French (dates, euros, ETP, objectives, échéances), the totals are computed
here, so the .docx template and the e-mail ``convention_a_signer`` only place
strings. ``engagements_context`` is the part an avenant restates (référents,
budget, objectives, échéances); ``templates.avenant`` reuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from templates.attestation import format_siret
from francais.formats import (
    NBSP,
    format_date,
    format_decimal_fr,
    format_euros,
    format_objectif,
    to_paris,
)
from templates.render import render_docx

TEMPLATE = "convention.docx"
REPRESENTANT_INCONNU = "son représentant légal"


@dataclass(frozen=True)
class ReferentConvention:
    """One référent de parcours carried by the structure, at ``etp`` for a loaded ``salaire``."""

    nom_complet: str
    etp: Decimal
    salaire: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) < self.etp <= Decimal(1):
            raise ValueError(f"ETP de {self.nom_complet} hors de l'intervalle ]0 ; 1] : {self.etp}")


@dataclass(frozen=True)
class ObjectifsConvention:
    """The yearly objectives, already pro rata of the ETP.

    ``taux_sorties_positives`` is a fraction, as in the call's config
    (``Decimal("0.50")`` -> ``"50 %"``).
    """

    entrees: Decimal
    file_active: Decimal
    taux_sorties_positives: Decimal
    partenariats: Decimal

    def __post_init__(self) -> None:
        if not Decimal(0) <= self.taux_sorties_positives <= Decimal(1):
            raise ValueError(
                f"taux de sorties positives attendu entre 0 et 1 (0.50 pour 50 %) : {self.taux_sorties_positives}"
            )
        for valeur in (self.entrees, self.file_active, self.partenariats):
            if valeur < 0:
                raise ValueError(f"objectif négatif : {valeur}")


@dataclass(frozen=True)
class EcheanceConvention:
    """One document the structure owes the PLIE, and the day it is due."""

    libelle: str
    due_le: date


@dataclass(frozen=True)
class ConventionData:
    """Everything one convention states (``emise_le`` is aware)."""

    numero: str
    appel_titre: str
    appel_annee: int
    dossier_numero: str
    porteur_nom: str
    porteur_siret: str | None
    porteur_adresse: str | None
    representant: str | None
    debut: date
    fin: date
    referents: tuple[ReferentConvention, ...]
    etp_total: Decimal
    budget_salaires: Decimal
    budget_deplacements: Decimal
    budget_autres: Decimal
    ressources_fse: Decimal
    ressources_plie: Decimal
    ressources_autres: Decimal
    objectifs: ObjectifsConvention
    echeances: tuple[EcheanceConvention, ...]
    renouvellements_max: int
    emise_le: datetime

    def __post_init__(self) -> None:
        to_paris(self.emise_le)  # refuses a naive datetime
        check_periode(self.debut, self.fin)
        check_referents(self.referents, self.etp_total)
        check_echeances(self.echeances, self.debut)
        if self.renouvellements_max < 0:
            raise ValueError(f"nombre maximal de renouvellements invalide : {self.renouvellements_max}")


def convention_context(c: ConventionData) -> dict[str, object]:
    """The docx/e-mail context of a convention, every value formatted in French."""
    return {
        "numero": c.numero,
        "appel_titre": c.appel_titre,
        "appel_annee": str(c.appel_annee),
        "dossier_numero": c.dossier_numero,
        **parties_context(c.porteur_nom, c.porteur_siret, c.porteur_adresse, c.representant),
        "debut": format_date(c.debut),
        "fin": format_date(c.fin),
        "renouvelable": c.renouvellements_max > 0,
        "limite_renouvellements": limite_renouvellements(c.renouvellements_max),
        **engagements_context(
            referents=c.referents, etp_total=c.etp_total,
            budget_salaires=c.budget_salaires, budget_deplacements=c.budget_deplacements,
            budget_autres=c.budget_autres, ressources_fse=c.ressources_fse,
            ressources_plie=c.ressources_plie, ressources_autres=c.ressources_autres,
            objectifs=c.objectifs, echeances=c.echeances,
        ),
        "emise_le": format_date(c.emise_le),
    }


def render_convention(c: ConventionData, out: Path) -> Path:
    """Renders the convention of ``c`` into ``out``."""
    return render_docx(TEMPLATE, convention_context(c), out)


def parties_context(nom: str, siret: str | None, adresse: str | None,
                    representant: str | None) -> dict[str, str | None]:
    """The porteur as the parties' paragraph and the signature block name it."""
    return {
        "porteur_nom": nom,
        "porteur_siret": format_siret(siret) if siret else None,
        "porteur_adresse": _une_ligne(adresse),
        "representant": representant.strip() if representant and representant.strip() else None,
        "represente_par": representant.strip() if representant and representant.strip() else REPRESENTANT_INCONNU,
    }


def engagements_context(*, referents: tuple[ReferentConvention, ...], etp_total: Decimal,
                        budget_salaires: Decimal, budget_deplacements: Decimal, budget_autres: Decimal,
                        ressources_fse: Decimal, ressources_plie: Decimal, ressources_autres: Decimal,
                        objectifs: ObjectifsConvention,
                        echeances: tuple[EcheanceConvention, ...]) -> dict[str, object]:
    """Référents, budget with its totals, objectives and échéances (sorted by date), in French."""
    total_depenses = budget_salaires + budget_deplacements + budget_autres
    total_ressources = ressources_fse + ressources_plie + ressources_autres
    return {
        "referents": [
            {"nom": r.nom_complet, "etp": format_decimal_fr(r.etp), "salaire": format_euros(r.salaire)}
            for r in referents
        ],
        "nb_referents": f"{len(referents)} référent{'s' if len(referents) > 1 else ''}",
        "etp_total": format_decimal_fr(etp_total),
        "total_salaires_referents": format_euros(sum((r.salaire for r in referents), Decimal(0))),
        "budget_salaires": format_euros(budget_salaires),
        "budget_deplacements": format_euros(budget_deplacements),
        "budget_autres": format_euros(budget_autres),
        "ressources_fse": format_euros(ressources_fse),
        "ressources_plie": format_euros(ressources_plie),
        "ressources_autres": format_euros(ressources_autres),
        "total_depenses": format_euros(total_depenses),
        "total_ressources": format_euros(total_ressources),
        "objectifs_lignes": objectifs_lignes(objectifs),
        "echeances": [
            {"libelle": e.libelle, "due_le": format_date(e.due_le)}
            for e in sorted(echeances, key=lambda e: e.due_le)
        ],
    }


def objectifs_lignes(o: ObjectifsConvention) -> list[str]:
    """The objectives as the convention's bullet lines (French plural from 2)."""
    return [
        f"au moins {_compte(o.entrees, 'entrée', 'entrées')} de demandeurs d'emploi dans le PLIE ;",
        f"au moins {_compte(o.file_active, 'personne', 'personnes')} en file active ;",
        f"{format_pourcentage(o.taux_sorties_positives)} de sorties positives ;",
        f"{_compte(o.partenariats, 'partenariat durable', 'partenariats durables')} avec des entreprises, "
        "dans le cadre du travail en binôme par secteur d'activité.",
    ]


def format_pourcentage(fraction: Decimal) -> str:
    """``Decimal("0.50")`` -> ``"50 %"`` (U+00A0 before ``%``); keeps decimals (``"52,5 %"``)."""
    return f"{format_decimal_fr(fraction * 100)}{NBSP}%"


def check_periode(debut: date, fin: date) -> None:
    """Refuses a period that ends before it starts."""
    if fin < debut:
        raise ValueError(f"période invalide : fin ({fin.isoformat()}) avant le début ({debut.isoformat()})")


def check_referents(referents: tuple[ReferentConvention, ...], etp_total: Decimal) -> None:
    """At least one référent, and ``etp_total`` is the sum of their ETP."""
    if not referents:
        raise ValueError("une convention porte au moins un référent de parcours")
    somme = sum((r.etp for r in referents), Decimal(0))
    if somme != etp_total:
        raise ValueError(f"ETP total ({etp_total}) différent de la somme des ETP des référents ({somme})")


def check_echeances(echeances: tuple[EcheanceConvention, ...], debut: date) -> None:
    """Refuses an échéance due before the period starts (an earlier period's, surely)."""
    for e in echeances:
        if e.due_le < debut:
            raise ValueError(f"échéance « {e.libelle} » du {format_date(e.due_le)} antérieure au début de la "
                             f"période ({format_date(debut)})")


def _compte(valeur: Decimal, singulier: str, pluriel: str) -> str:
    """``40 entrées`` (for 39,2), ``1 partenariat durable``: whole numbers, French plural from 2 on."""
    return f"{format_objectif(valeur)} {pluriel if valeur > 1 else singulier}"  # 1,2 → « 2 » : plural


def limite_renouvellements(maximum: int) -> str:
    """``2`` -> ``"de 2 renouvellements"``, ``1`` -> ``"d'un renouvellement"`` (after « dans la limite »)."""
    return "d'un renouvellement" if maximum == 1 else f"de {maximum} renouvellements"


def _une_ligne(texte: str | None) -> str | None:
    """A multi-line postal address on one line, parts separated by commas."""
    lignes = [ligne.strip() for ligne in (texte or "").splitlines() if ligne.strip()]
    return ", ".join(lignes) or None
