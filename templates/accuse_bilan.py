"""The accusé de réception of a bilan returned by a porteur: its data and French context.

Like the attestation de dépôt, it is numbered (``BIL-2018-0001``) and lists
every file received with its SHA-256. It then says either that the bilan is
accepted, or why it cannot be, in French. ``accuse_context`` is pure: the same
context renders the .docx and the e-mail ``accuse_bilan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from francais.formats import (
    format_date,
    format_datetime_paris,
    format_taille,
    to_paris,
)
from templates.render import render_docx

Periode = Literal["mi-parcours", "final"]

TEMPLATE = "accuse_bilan.docx"
QUALIFICATIFS_PERIODE: dict[str, str] = {"mi-parcours": "à mi-parcours", "final": "final"}


@dataclass(frozen=True)
class AccuseBilanData:
    """Everything one accusé de réception states (datetimes are aware).

    ``pieces`` are ``(nom, taille en octets, sha256)``; ``erreurs`` are French
    sentences, empty when the bilan is accepted.
    """

    numero: str
    convention_numero: str
    periode: Periode
    periode_debut: date
    periode_fin: date
    porteur_nom: str
    recu_le: datetime
    pieces: tuple[tuple[str, int, str], ...]
    erreurs: tuple[str, ...]
    emis_le: datetime

    def __post_init__(self) -> None:
        check_periode(self.periode, self.periode_debut, self.periode_fin)
        for moment in (self.recu_le, self.emis_le):
            to_paris(moment)  # refuses naive datetimes
        for nom, taille, _ in self.pieces:
            format_taille(taille)  # refuses a negative or non-integer size
            if not nom.strip():
                raise ValueError("pièce sans nom")
        if not self.erreurs and not self.pieces:
            raise ValueError("un bilan accepté comporte au moins une pièce")
        if any(not erreur.strip() for erreur in self.erreurs):
            raise ValueError("erreur vide dans l'accusé de réception")


def accuse_context(a: AccuseBilanData) -> dict[str, object]:
    """The docx/e-mail context of an accusé de réception, every value formatted in French."""
    return {
        "numero": a.numero,
        "convention_numero": a.convention_numero,
        "porteur_nom": a.porteur_nom,
        **{k: v for k, v in periode_context(a.periode, a.periode_debut, a.periode_fin).items() if k != "periode"},
        "recu_le": format_datetime_paris(a.recu_le),
        "pieces": [
            {"nom": nom, "taille": format_taille(taille), "sha256": sha256}
            for nom, taille, sha256 in a.pieces
        ],
        "erreurs": [erreur.strip() for erreur in a.erreurs],
        "accepte": not a.erreurs,
        "emis_le": format_date(a.emis_le),
    }


def render_accuse(a: AccuseBilanData, out: Path) -> Path:
    """Renders the accusé de réception of ``a`` into ``out``."""
    return render_docx(TEMPLATE, accuse_context(a), out)


def periode_context(periode: str, debut: date, fin: date) -> dict[str, str]:
    """``periode`` (``"à mi-parcours"`` / ``"final"``), ``bilan`` and the period's days, in French."""
    check_periode(periode, debut, fin)
    qualificatif = QUALIFICATIFS_PERIODE[periode]
    return {
        "periode": qualificatif,
        "bilan": f"bilan {qualificatif}",
        "periode_debut": format_date(debut),
        "periode_fin": format_date(fin),
    }


def check_periode(periode: str, debut: date, fin: date) -> None:
    """Raises ``ValueError`` for an unknown period kind or a period ending before it starts."""
    if periode not in QUALIFICATIFS_PERIODE:
        raise ValueError(f"période de bilan inconnue : {periode!r} (attendu : mi-parcours ou final)")
    if fin < debut:
        raise ValueError(f"période de bilan invalide : du {format_date(debut)} au {format_date(fin)}")
