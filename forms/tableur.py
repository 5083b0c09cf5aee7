"""A generic, formula-safe table workbook: one sheet per ``Feuille``, one row per tuple.

Used by exports (dossiers for the comité, conventions). Every ``str`` is written
as text (``data_type "s"``), so ``=cmd|' /C calc'!A0`` stays a name and never
becomes a formula; money stays exact until the cell (``Decimal`` rounded to
cents, then a number). The file is written atomically, readable by its owner only.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from francais.formats import to_paris

if TYPE_CHECKING:
    from openpyxl import Workbook

__all__ = [
    "FORMATS_EXCEL",
    "Colonne",
    "Feuille",
    "clean_nom_feuille",
    "clean_texte",
    "save_classeur",
    "set_valeur",
    "write_tableur",
]

Format = Literal["texte", "euros", "date", "datetime", "nombre", "decimal", "pourcent"]

FORMATS_EXCEL: dict[str, str] = {
    "texte": "@",
    "euros": '#,##0.00 "€"',
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
    "nombre": "#,##0",
    "decimal": "#,##0.00",
    "pourcent": "0 %",
}
"""Number format of each column format (``pourcent`` expects a fraction: 0.5 → 50 %)."""

LARGEUR_RETOUR = 30
"""A text column at least this wide wraps its text."""
TEXTE_MAX = 32_767
"""Most characters an Excel cell holds; longer texts are cut and end with ``…``."""
NOM_FEUILLE_MAX = 31
CENTIME = Decimal("0.01")

_INTERDITS_FEUILLE = re.compile(r"[\[\]:*?/\\]")
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
"""What an XML cell cannot hold (openpyxl's own rule, here so that a module describing its columns does not load
openpyxl: a command that lists conventions writes no workbook)."""


@cache
def _styles() -> tuple[Any, Any, Any]:
    """The header's font and fill, the title's font."""
    from openpyxl.styles import Font, PatternFill

    return (Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="2F5496"),
            Font(bold=True, size=14, color="1F3864"))


@dataclass(frozen=True)
class Colonne:
    """One column: its heading, its width (in characters) and how its values show."""

    titre: str
    largeur: float = 18
    format: Format = "texte"


@dataclass(frozen=True)
class Feuille:
    """One sheet: its name (sanitized on writing), its columns and its rows.

    A row's values are ``str``, ``Decimal``, ``int``, ``date``, aware ``datetime``
    (shown in Paris time), ``bool`` (``oui``/``non``), ``None`` or ``list[str]``
    (one item per line).
    """

    nom: str
    colonnes: tuple[Colonne, ...]
    lignes: list[tuple]


def write_tableur(path: Path, feuilles: list[Feuille], *, titre: str | None = None) -> Path:
    """Write ``feuilles`` to ``path`` (mode 0o600, atomically) and return it.

    With ``titre``, each sheet starts with that title on its own row, above the header.
    """
    if not feuilles:
        raise ValueError("un tableur a au moins une feuille")
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    if titre:
        wb.properties.title = clean_texte(titre)
    wb.properties.creator = "PLIE — appel à projets"
    noms: set[str] = set()
    for feuille in feuilles:
        nom = clean_nom_feuille(feuille.nom, pris=noms, defaut=f"Feuille {len(noms) + 1}")
        noms.add(nom.casefold())
        _write_feuille(wb.create_sheet(nom), feuille, titre)
    return save_classeur(wb, path)


def _write_feuille(ws, feuille: Feuille, titre: str | None) -> None:
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    entete_font, entete_fond, titre_font = _styles()
    colonnes = feuille.colonnes
    if not colonnes:
        raise ValueError(f"feuille « {feuille.nom} » sans colonne")
    derniere_col = get_column_letter(len(colonnes))
    entete = 1
    if titre:
        cell = ws.cell(row=1, column=1)
        set_valeur(cell, titre)
        cell.font = titre_font
        entete = 2
    for j, colonne in enumerate(colonnes, start=1):
        cell = ws.cell(row=entete, column=j)
        set_valeur(cell, colonne.titre)
        cell.font, cell.fill = entete_font, entete_fond
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        ws.column_dimensions[get_column_letter(j)].width = colonne.largeur
    for i, ligne in enumerate(feuille.lignes, start=entete + 1):
        if len(ligne) != len(colonnes):
            raise ValueError(
                f"feuille « {feuille.nom} », ligne {i} : {len(ligne)} valeurs pour {len(colonnes)} colonnes"
            )
        for j, (colonne, valeur) in enumerate(zip(colonnes, ligne, strict=True), start=1):
            cell = ws.cell(row=i, column=j)
            set_valeur(cell, valeur, colonne.format)
            retour = colonne.format == "texte" and colonne.largeur >= LARGEUR_RETOUR
            if retour or (isinstance(cell.value, str) and "\n" in cell.value):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    fin = entete + max(len(feuille.lignes), 1)
    ws.freeze_panes = f"A{entete + 1}"
    ws.auto_filter.ref = f"A{entete}:{derniere_col}{fin}"
    ws.print_title_rows = f"{entete}:{entete}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def set_valeur(cell, valeur: Any, format: Format = "texte") -> None:
    """Write one value into ``cell``: text as text, exact numbers, Paris dates."""
    if valeur is None:
        cell.value = None
    elif isinstance(valeur, bool):
        _texte(cell, "oui" if valeur else "non")
    elif isinstance(valeur, str):
        _texte(cell, valeur)
    elif isinstance(valeur, (list, tuple)):
        _texte(cell, "\n".join(str(v) for v in valeur))
    elif isinstance(valeur, datetime):
        cell.value = to_paris(valeur).replace(tzinfo=None)
        cell.number_format = FORMATS_EXCEL["datetime"]
    elif isinstance(valeur, date):
        cell.value = valeur
        cell.number_format = FORMATS_EXCEL["date"]
    elif isinstance(valeur, (Decimal, int)):
        if isinstance(valeur, Decimal) and not valeur.is_finite():
            raise ValueError(f"nombre invalide : {valeur}")
        if format == "euros":
            valeur = Decimal(valeur).quantize(CENTIME, rounding=ROUND_HALF_UP)
        cell.value = float(valeur) if isinstance(valeur, Decimal) else valeur
        cell.number_format = FORMATS_EXCEL[format] if format != "texte" else "General"
    else:
        raise TypeError(f"valeur de type {type(valeur).__name__} refusée dans un tableur : {valeur!r}")


def _texte(cell, texte: str) -> None:
    cell.value = clean_texte(texte)
    cell.data_type = "s"


def clean_texte(texte: str) -> str:
    """Text Excel accepts: no control characters, at most ``TEXTE_MAX`` characters."""
    texte = ILLEGAL_CHARACTERS_RE.sub("\ufffd", texte)
    return texte if len(texte) <= TEXTE_MAX else texte[: TEXTE_MAX - 1] + "…"


def clean_nom_feuille(nom: str, *, pris: Collection[str] = (), defaut: str = "Feuille") -> str:
    """A valid, unused sheet name: no ``[]:*?/\\``, no edge apostrophe, 31 characters at most.

    ``pris`` holds the names already used, casefolded (Excel ignores case).
    """
    propre = _INTERDITS_FEUILLE.sub("-", ILLEGAL_CHARACTERS_RE.sub("", nom))
    propre = propre.strip().strip("'").strip()[:NOM_FEUILLE_MAX].strip()
    if not propre or propre.casefold() == "history":
        propre = defaut[:NOM_FEUILLE_MAX]
    candidat, n = propre, 1
    while candidat.casefold() in pris:
        n += 1
        suffixe = f" ({n})"
        candidat = propre[: NOM_FEUILLE_MAX - len(suffixe)].rstrip() + suffixe
    return candidat


def save_classeur(wb: Workbook, path: Path) -> Path:
    """Save ``wb`` to ``path`` atomically (temporary file, then ``os.replace``), mode 0o600."""
    path = Path(path)
    fd, temporaire = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fichier:
            wb.save(fichier)
            fichier.flush()
            os.fsync(fichier.fileno())
        os.chmod(temporaire, 0o600)
        os.replace(temporaire, path)
    except BaseException:
        Path(temporaire).unlink(missing_ok=True)
        raise
    return path
