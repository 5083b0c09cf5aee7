"""The synthèse du suivi des conventions, for the comité de pilotage.

Per convention, then for the whole PLIE: each indicator's réalisé against its
objective au prorata, with an appréciation (vert / orange / rouge, shown as
``satisfaisant`` / ``à surveiller`` / ``insuffisant`` and as the cell's
shading), and the budget consumed against the budget planned. The
indicators' figures come pre-formatted from the consolidation;
``synthese_suivi_context`` formats the rest (ETP, euros, dates) in French.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

from francais.formats import (
    NBSP,
    format_date,
    format_decimal_fr,
    format_euros,
    to_paris,
)
from templates.render import render_docx

Couleur = Literal["vert", "orange", "rouge", "—"]

TEMPLATE = "synthese_suivi.docx"
NON_RENSEIGNE = "non renseigné"
NON_CALCULABLE = "non calculable"
# couleur -> (appréciation in words, cell shading)
APPRECIATIONS: dict[str, tuple[str, str]] = {
    "vert": ("satisfaisant", "C6EFCE"),
    "orange": ("à surveiller", "FFEB9C"),
    "rouge": ("insuffisant", "FFC7CE"),
    "—": ("non évaluable", "FFFFFF"),
}


@dataclass(frozen=True)
class IndicateurLigne:
    """One indicator: réalisé and objectif already formatted (``"28"``, ``"50 %"``)."""

    libelle: str
    realise: str
    objectif: str
    couleur: Couleur

    def __post_init__(self) -> None:
        if self.couleur not in APPRECIATIONS:
            raise ValueError(f"couleur d'indicateur inconnue : {self.couleur!r}")


@dataclass(frozen=True)
class ConventionSuivi:
    """The follow-up of one convention (or of the whole PLIE, for the total)."""

    convention_numero: str
    porteur_nom: str
    periode: str  # already in French, e.g. "du 1er janvier 2018 au 30 juin 2018"
    etp: Decimal
    indicateurs: tuple[IndicateurLigne, ...]
    budget_consomme: Decimal | None
    budget_prevu: Decimal
    commentaire: str | None

    def __post_init__(self) -> None:
        if self.etp < 0:
            raise ValueError(f"ETP négatif : {self.etp}")
        if self.budget_prevu < 0 or (self.budget_consomme is not None and self.budget_consomme < 0):
            raise ValueError(f"budget négatif pour la convention {self.convention_numero}")


@dataclass(frozen=True)
class SyntheseSuiviData:
    """The consolidated follow-up of one call's conventions, as of ``arrete_au``."""

    appel_annee: int
    arrete_au: date
    conventions: tuple[ConventionSuivi, ...]
    total: ConventionSuivi
    points_attention: tuple[str, ...]
    emise_le: datetime

    def __post_init__(self) -> None:
        to_paris(self.emise_le)  # refuses a naive datetime


def synthese_suivi_context(s: SyntheseSuiviData) -> dict[str, object]:
    """The docx context of the synthèse, every value formatted in French."""
    nb = len({c.convention_numero for c in s.conventions})  # conventions, not their bilans (rows)
    return {
        "appel_annee": str(s.appel_annee),
        "arrete_au": format_date(s.arrete_au),
        "nb_conventions": f"{nb} convention{'s' if nb > 1 else ''}",
        "conventions": [convention_suivi_context(c) for c in s.conventions],
        "total": convention_suivi_context(s.total),
        "points_attention": [p.strip() for p in s.points_attention if p.strip()],
        "emise_le": format_date(s.emise_le),
    }


def render_synthese_suivi(s: SyntheseSuiviData, out: Path) -> Path:
    """Renders the synthèse of ``s`` into ``out``."""
    return render_docx(TEMPLATE, synthese_suivi_context(s), out)


def convention_suivi_context(c: ConventionSuivi) -> dict[str, object]:
    """One convention's block: indicators with their appréciation, budget sentence, comment lines."""
    consomme = format_euros(c.budget_consomme) if c.budget_consomme is not None else NON_RENSEIGNE
    taux = _taux(c.budget_consomme, c.budget_prevu)
    prevu = format_euros(c.budget_prevu)
    if c.budget_consomme is None:
        budget = f"Budget consommé : {NON_RENSEIGNE} (budget prévu : {prevu})."
    else:
        budget = f"Budget consommé : {consomme} sur {prevu} prévus ({taux})."
    return {
        "convention_numero": c.convention_numero,
        "porteur_nom": c.porteur_nom,
        "periode": c.periode,
        "etp": f"{format_decimal_fr(c.etp)}{NBSP}ETP",
        "indicateurs": [_indicateur_context(i) for i in c.indicateurs],
        "budget_consomme": consomme,
        "budget_prevu": prevu,
        "taux_consommation": taux,
        "budget": budget,
        "commentaire_lignes": [ligne.strip() for ligne in (c.commentaire or "").splitlines() if ligne.strip()],
    }


def _indicateur_context(i: IndicateurLigne) -> dict[str, str]:
    appreciation, fond = APPRECIATIONS[i.couleur]
    return {"libelle": i.libelle, "realise": i.realise, "objectif": i.objectif,
            "appreciation": appreciation, "fond": fond}


def _taux(consomme: Decimal | None, prevu: Decimal) -> str:
    """``consomme / prevu`` as a whole percentage (``"27 %"``), or ``"non calculable"``."""
    if consomme is None or prevu <= 0:
        return NON_CALCULABLE
    pourcentage = (consomme * 100 / prevu).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{format_decimal_fr(pourcentage)}{NBSP}%"
