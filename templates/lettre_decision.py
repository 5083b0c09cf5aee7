"""The lettre de notification of the comité de pilotage's decision on a dossier.

One template, three sections (retenu / non retenu / ajourné) chosen by
``decision``. ``lettre_context`` is pure and formats everything in French; the
same context renders the accompanying e-mail (``notification_decision``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal

from francais.elision import de
from francais.formats import format_date, format_decimal_fr, to_paris
from templates.render import render_docx

Decision = Literal["retenu", "non retenu", "ajourné"]

TEMPLATE = "lettre_decision.docx"
DECISIONS = ("retenu", "non retenu", "ajourné")


@dataclass(frozen=True)
class LettreDecisionData:
    """Everything one notification letter states (``emis_le`` is aware)."""

    appel_titre: str
    appel_annee: int
    dossier_numero: str
    porteur_nom: str
    porteur_adresse: str | None
    contact_nom: str | None
    decision: Decision
    motif: str | None
    questions: str | None  # the comité's questions complémentaires, one or more lines
    reponse_avant: date | None
    comite_le: date
    etp_retenus: Decimal
    debut_convention: date
    emis_le: datetime
    numero_courrier: str  # e.g. "DEC-2018-001-1"
    points_bloquants: tuple[str, ...] = ()  # the instruction's blocking findings, for a dossier not retained

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"décision inconnue : {self.decision!r}")
        to_paris(self.emis_le)  # refuses a naive datetime
        if self.decision == "retenu" and self.etp_retenus <= 0:
            raise ValueError("un dossier retenu l'est pour un nombre d'ETP positif")
        if self.decision == "non retenu" and not _lignes(self.motif):
            raise ValueError("une décision de non-retenue doit être motivée")
        if self.decision == "ajourné" and (not _lignes(self.questions) or self.reponse_avant is None):
            raise ValueError("un ajournement doit porter des questions et une date de réponse")


def lettre_context(l: LettreDecisionData) -> dict[str, object]:
    """The docx/e-mail context of a notification letter, every value formatted in French."""
    return {
        "appel_titre": l.appel_titre,
        "appel_annee": str(l.appel_annee),
        "dossier_numero": l.dossier_numero,
        "porteur_nom": l.porteur_nom,
        "adresse_lignes": _lignes(l.porteur_adresse),
        "contact_nom": l.contact_nom,
        "de_contact": de(l.contact_nom) if l.contact_nom else None,  # « À l'attention d'Hervé Bonnot »
        "decision": l.decision,
        "motif_lignes": _lignes(l.motif),
        "points_bloquants": liste_francaise(l.points_bloquants) if l.decision == "non retenu" else [],
        "questions_lignes": _lignes(l.questions),
        "reponse_avant": format_date(l.reponse_avant) if l.reponse_avant else None,
        "comite_le": format_date(l.comite_le),
        "etp_retenus": f"{format_decimal_fr(l.etp_retenus)}\xa0ETP",
        "debut_convention": format_date(l.debut_convention),
        "emis_le": format_date(l.emis_le),
        "numero_courrier": l.numero_courrier,
    }


def render_lettre(l: LettreDecisionData, out: Path) -> Path:
    """Renders the notification letter of ``l`` into ``out``."""
    return render_docx(TEMPLATE, lettre_context(l), out)


def liste_francaise(items: tuple[str, ...] | list[str]) -> list[str]:
    """The items of a bulleted French list: each ends with « ; » (after a narrow no-break space), the last
    with a full stop."""
    textes = [t.strip().rstrip(" ;.\u202f") for t in items if t and t.strip()]
    return [t + ("." if i == len(textes) - 1 else "\u202f;") for i, t in enumerate(textes)]


def _lignes(texte: str | None) -> list[str]:
    """The non-blank lines of a multi-line text, stripped."""
    return [ligne.strip() for ligne in (texte or "").splitlines() if ligne.strip()]
