"""The first page of the FSE audit pack: what the pack holds, and every justificatif declared."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from templates.attestation import format_siret
from francais.formats import format_date, format_euros, to_paris
from models.bilan import CATEGORIES_DEPENSES
from templates.render import render_docx

TEMPLATE = "index_fse.docx"
CATEGORIES = dict(CATEGORIES_DEPENSES)
"""A justificatif's category as people read it (« Frais de déplacement », not ``deplacements``)."""


@dataclass(frozen=True)
class JustificatifIndex:
    bilan: str
    periode: str
    categorie: str
    libelle: str
    montant: str | Decimal | None
    fichier: str
    sha256: str | None  # None when the file named in the bilan was not received


@dataclass(frozen=True)
class IndexFseData:
    convention_numero: str
    porteur_nom: str
    porteur_siret: str | None
    documents: tuple[str, ...]
    justificatifs: tuple[JustificatifIndex, ...]
    emis_le: datetime

    def __post_init__(self) -> None:
        to_paris(self.emis_le)  # refuses a naive datetime


def index_context(i: IndexFseData) -> dict[str, object]:
    total = sum((Decimal(str(j.montant)) for j in i.justificatifs if j.montant not in (None, "")), Decimal("0"))
    return {
        "convention_numero": i.convention_numero,
        "porteur_nom": i.porteur_nom,
        "porteur_siret": format_siret(i.porteur_siret) if i.porteur_siret else "non renseigné",
        "documents": list(i.documents),
        "justificatifs": [{
            "bilan": j.bilan, "periode": j.periode, "categorie": CATEGORIES.get(j.categorie, j.categorie),
            "libelle": j.libelle,
            "montant": format_euros(Decimal(str(j.montant))) if j.montant not in (None, "") else "non renseigné",
            "fichier": j.fichier or "—",
            "empreinte": j.sha256[:16] + "…" if j.sha256 else "fichier non reçu",
        } for j in i.justificatifs],
        "total": format_euros(total),
        "emis_le": format_date(i.emis_le),
    }


def render_index_fse(i: IndexFseData, out: Path) -> Path:
    return render_docx(TEMPLATE, index_context(i), out)
