"""The FSE pack's journal extract: a dossier's entries, the seals that cover them, and how to check them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from francais.formats import format_date, to_paris
from templates.render import render_docx

TEMPLATE = "journal_fse.docx"


@dataclass(frozen=True)
class EntreeExtrait:
    numero: int
    moment: datetime
    texte: str
    utilisateur: str | None
    empreinte: str


@dataclass(frozen=True)
class SceauExtrait:
    jour: date
    entree: int
    empreinte: str
    fichier: str


@dataclass(frozen=True)
class JournalFseData:
    dossier_numero: str
    convention_numero: str
    porteur_nom: str
    entrees: tuple[EntreeExtrait, ...]
    sceaux: tuple[SceauExtrait, ...]
    piece_jointe: str  # the name of the JSON file attached to the pack
    emis_le: datetime

    def __post_init__(self) -> None:
        to_paris(self.emis_le)  # refuses a naive datetime


def journal_context(j: JournalFseData) -> dict[str, object]:
    return {
        "dossier_numero": j.dossier_numero, "convention_numero": j.convention_numero, "porteur_nom": j.porteur_nom,
        "emis_le": format_date(j.emis_le), "nombre": len(j.entrees), "piece_jointe": j.piece_jointe,
        "entrees": [{"numero": e.numero, "le": f"{to_paris(e.moment):%d/%m/%Y %H:%M:%S}", "texte": e.texte,
                     "par": e.utilisateur or "", "empreinte": e.empreinte} for e in j.entrees],
        "sceaux": [{"jour": format_date(s.jour), "entree": s.entree, "empreinte": s.empreinte, "fichier": s.fichier}
                   for s in j.sceaux],
    }


def render_journal_fse(data: JournalFseData, out: Path) -> Path:
    return render_docx(TEMPLATE, journal_context(data), out)
