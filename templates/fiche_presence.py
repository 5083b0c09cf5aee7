"""The blank fiche de présence (émargement) a référent prints for one month.

Participants sign it at each physical meeting (face à face or bilan d'action);
the structure keeps it as a supporting document for the FSE's contrôle de
service fait. ``fiche_context`` is pure: the month comes out in French
(``"mars 2018"``) and the empty rows as a list the template loops over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from babel.dates import format_date as babel_format_date

from francais.formats import LOCALE
from templates.render import render_docx

TEMPLATE = "fiche_presence.docx"
LIGNES_MAX = 200


@dataclass(frozen=True)
class FichePresenceData:
    """One référent's attendance sheet for the month starting on ``mois``."""

    convention_numero: str
    porteur_nom: str
    referent: str
    mois: date  # first day of the month
    lignes: int = 20

    def __post_init__(self) -> None:
        if self.mois.day != 1:
            raise ValueError(f"le mois d'une fiche de présence est donné par son premier jour : {self.mois}")
        if isinstance(self.lignes, bool) or not 1 <= self.lignes <= LIGNES_MAX:
            raise ValueError(f"nombre de lignes invalide : {self.lignes!r} (de 1 à {LIGNES_MAX})")
        if not self.referent.strip():
            raise ValueError("une fiche de présence nomme son référent")


def fiche_context(f: FichePresenceData) -> dict[str, object]:
    """The docx context of a fiche de présence, every value formatted in French."""
    return {
        "convention_numero": f.convention_numero,
        "porteur_nom": f.porteur_nom,
        "referent": f.referent.strip(),
        "mois": format_mois(f.mois),
        "lignes": list(range(1, f.lignes + 1)),
    }


def render_fiche(f: FichePresenceData, out: Path) -> Path:
    """Renders the fiche de présence of ``f`` into ``out``."""
    return render_docx(TEMPLATE, fiche_context(f), out)


def format_mois(jour: date) -> str:
    """``date(2018, 3, 1)`` -> ``"mars 2018"``."""
    return babel_format_date(jour, "MMMM y", locale=LOCALE)
