"""The workbook primitives the forms share: reading a hostile workbook, named zones, cell values, writing text safely, styles.

Used by the dossier de réponse, the bilan and the comité's synthesis. Every
input cell of those forms carries a workbook-scoped defined name; reading
resolves the names to zones (``Zone``: sheet title and bounds), then reads every
needed cell in one bounded pass per sheet (``Valeurs``, keyed by sheet, row, column).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, time
from io import BytesIO
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import quote_sheetname, range_boundaries
from openpyxl.workbook.defined_name import DefinedName

from adapters.library_errors import french_detail
from forms.tableur import set_valeur
from forms.xlsx_safety import FormulaireIllisible, check_xlsx_container

__all__ = [
    "CADRE",
    "FIN",
    "FOND_SAISIE",
    "FOND_SECTION",
    "GRAS",
    "MOTIF_ILLISIBLE",
    "RETOUR",
    "SECTION",
    "TITRE",
    "Valeurs",
    "Zone",
    "check_zones",
    "create_form_workbook",
    "define_name",
    "describe_illisible",
    "find_zone",
    "find_zones",
    "is_empty",
    "open_hostile_workbook",
    "preview",
    "read_cells",
    "read_source",
    "set_print_layout",
    "table_bounds",
    "table_rows",
    "text_of",
    "value_of",
    "write_input_rows",
    "write_line",
    "write_section",
    "write_technical_sheet",
    "write_value",
]

Zone = tuple[str, tuple[int, int, int, int]]
"""(sheet title, (min_col, min_row, max_col, max_row)) of a defined name."""
Valeurs = dict[tuple[str, int, int], Any]
"""Non-empty cell values, keyed by (sheet title, row, column)."""

GRAS = Font(bold=True)
TITRE = Font(bold=True, size=16, color="1F3864")
SECTION = Font(bold=True, size=12, color="FFFFFF")
FOND_SECTION = PatternFill("solid", fgColor="2F5496")
FOND_SAISIE = PatternFill("solid", fgColor="FFF2CC")
FIN = Side(style="thin", color="A6A6A6")
CADRE = Border(left=FIN, right=FIN, top=FIN, bottom=FIN)
RETOUR = Alignment(wrap_text=True, vertical="top")

CREATEUR = "PLIE — appel à projets"
"""The author written in every form's properties."""
MOTIF_ILLISIBLE = "le formulaire ne peut pas être lu"
APERCU_MAX = 60
"""Characters of a cell's text quoted in an anomaly at most."""


# --------------------------------------------------------------------------- reading a hostile workbook


def read_source(source: Path | bytes, filename: str | None, defaut: str) -> tuple[bytes, str]:
    """The file's bytes and the name the porteur gave it (``defaut`` for bare bytes)."""
    if isinstance(source, (bytes, bytearray)):
        return bytes(source), filename or defaut
    return Path(source).read_bytes(), filename or Path(source).name


def describe_illisible(exc: Exception) -> str:
    """The French reason for a workbook openpyxl could not read (never openpyxl's English text)."""
    return f"{MOTIF_ILLISIBLE} : {french_detail(exc)}"


@contextmanager
def open_hostile_workbook(
    data: bytes, nom: str, *, erreur: type[Exception] = FormulaireIllisible
) -> Iterator[Any]:
    """Check the container, open it read-only, close it after; every failure becomes ``erreur``.

    ``erreur`` is built from a French reason: the container's own reason, or
    ``describe_illisible`` of whatever openpyxl raised, on opening or inside the block.
    """
    try:
        check_xlsx_container(data, nom)
    except FormulaireIllisible as exc:
        if erreur is FormulaireIllisible:
            raise
        raise erreur(exc.motif) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except MemoryError:  # a worker's memory limit: the message is held whole
        raise
    except Exception as exc:  # openpyxl raises anything on a hostile file
        raise erreur(describe_illisible(exc)) from None
    try:
        yield wb
    except (erreur, MemoryError):
        raise
    except Exception as exc:
        raise erreur(describe_illisible(exc)) from None
    finally:
        wb.close()


# --------------------------------------------------------------------------- named zones


def find_zone(wb: Any, name: str, *, sheet_scoped: bool = True) -> Zone:
    """The zone of a defined name; ``KeyError`` if absent, another error if unusable.

    Workbook-scoped names first, then (with ``sheet_scoped``) names scoped to a sheet.
    """
    defn = wb.defined_names.get(name)
    if defn is None and sheet_scoped:
        for ws in wb.worksheets:
            defn = getattr(ws, "defined_names", {}).get(name)
            if defn is not None:
                break
    if defn is None:
        raise KeyError(name)
    for feuille, reference in defn.destinations:
        bornes = range_boundaries(reference.replace("$", ""))
        if feuille in wb.sheetnames and None not in bornes:
            return feuille, bornes  # type: ignore[return-value]
    raise ValueError(name)


def find_zones(
    wb: Any, largeurs: Mapping[str, int], *, ligne_max: int, colonne_max: int
) -> tuple[dict[str, Zone], list[str], list[str]]:
    """The zones of the names in ``largeurs``, and the names absent, then invalid.

    A zone is invalid when it cannot be resolved, is narrower than its
    ``largeurs`` value (columns), starts below ``ligne_max`` or ends right of ``colonne_max``.
    """
    zones: dict[str, Zone] = {}
    absentes, invalides = [], []
    for name in largeurs:
        try:
            zones[name] = find_zone(wb, name)
        except KeyError:
            absentes.append(name)
        except Exception:
            invalides.append(name)
    for name, (_, (min_col, min_row, max_col, _)) in zones.items():
        if max_col - min_col + 1 < largeurs[name] or min_row > ligne_max or max_col > colonne_max:
            invalides.append(name)
    return zones, absentes, invalides


def check_zones(
    wb: Any,
    largeurs: Mapping[str, int],
    *,
    ligne_max: int,
    colonne_max: int,
    motif_absentes: str,
    motif_invalides: str,
) -> dict[str, Zone]:
    """``find_zones``, raising ``FormulaireIllisible`` when a name is absent, then when one is invalid.

    The reason is ``motif_absentes`` (or ``motif_invalides``), then ``: zones nommées
    absentes : `` (``invalides``) and the names.
    """
    zones, absentes, invalides = find_zones(wb, largeurs, ligne_max=ligne_max, colonne_max=colonne_max)
    if absentes:
        raise FormulaireIllisible(f"{motif_absentes} : zones nommées absentes : " + ", ".join(absentes))
    if invalides:
        raise FormulaireIllisible(f"{motif_invalides} : zones nommées invalides : " + ", ".join(invalides))
    return zones


def table_bounds(zone: Zone, lignes_max: int) -> tuple[str, range, range]:
    """Sheet, columns and rows (header first) of a table zone, at most ``lignes_max`` rows below the header."""
    feuille, (min_col, entete, max_col, max_row) = zone
    return feuille, range(min_col, max_col + 1), range(entete, min(max_row, entete + lignes_max) + 1)


def read_cells(wb: Any, zones: Mapping[str, Zone], tables: Mapping[str, int]) -> Valeurs:
    """Values of every needed cell, reading each sheet once within a bounding box.

    A zone named in ``tables`` is read whole (``table_bounds`` with that many
    rows at most); any other zone is its top-left cell.
    """
    voulues: dict[str, set[tuple[int, int]]] = {}
    for name, zone in zones.items():
        feuille, (min_col, min_row, _, _) = zone
        if name in tables:
            _, cols, rows = table_bounds(zone, tables[name])
            cellules = {(r, c) for r in rows for c in cols}
        else:
            cellules = {(min_row, min_col)}
        voulues.setdefault(feuille, set()).update(cellules)
    valeurs: Valeurs = {}
    for feuille, cellules in voulues.items():
        rows = [r for r, _ in cellules]
        cols = [c for _, c in cellules]
        r0, c0 = min(rows), min(cols)
        lignes = wb[feuille].iter_rows(
            min_row=r0, max_row=max(rows), min_col=c0, max_col=max(cols), values_only=True
        )
        for r, ligne in enumerate(lignes, start=r0):
            for c, valeur in enumerate(ligne, start=c0):
                if valeur is not None and (r, c) in cellules:
                    valeurs[(feuille, r, c)] = valeur
    return valeurs


def table_rows(
    valeurs: Valeurs, feuille: str, rows: range, colonnes: Mapping[str, int]
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-empty row below the header ``rows[0]``: its N° in the table (from 1), its values by key.

    ``colonnes`` maps each key to its column on ``feuille``.
    """
    for numero, row in enumerate(rows[1:], start=1):
        brut = {cle: valeurs.get((feuille, row, col)) for cle, col in colonnes.items()}
        if not all(is_empty(v) for v in brut.values()):
            yield numero, brut


def value_of(valeurs: Valeurs, zone: Zone) -> Any:
    """The value read in the top-left cell of ``zone`` (``None`` when empty)."""
    feuille, (col, row, _, _) = zone
    return valeurs.get((feuille, row, col))


# --------------------------------------------------------------------------- cell values


def is_empty(valeur: Any) -> bool:
    """Whether a cell holds nothing but blanks."""
    return valeur is None or (isinstance(valeur, str) and not valeur.strip())


def text_of(valeur: Any, *, avec_heure: bool = False) -> str:
    """A cell's value as stripped text (numbers without a spurious ``.0``, dates ``dd/mm/yyyy``).

    With ``avec_heure``, a date with a time other than midnight shows it (``dd/mm/yyyy hh:mm``).
    """
    if valeur is None:
        return ""
    if isinstance(valeur, float) and valeur.is_integer():
        return str(int(valeur))
    if avec_heure and isinstance(valeur, datetime) and valeur.time() != time(0):
        return valeur.strftime("%d/%m/%Y %H:%M")
    if isinstance(valeur, date):
        return valeur.strftime("%d/%m/%Y")
    return str(valeur).strip()


def preview(valeur: Any) -> str:
    """A cell's text, cut to ``APERCU_MAX`` characters, to quote it in an anomaly."""
    texte = text_of(valeur)
    return texte if len(texte) <= APERCU_MAX else texte[: APERCU_MAX - 1] + "…"


# --------------------------------------------------------------------------- writing


def create_form_workbook(
    feuille: str, titre: str, largeurs: Mapping[str, float], *, quadrillage: bool = False
) -> tuple[Workbook, Any]:
    """A new workbook and its first sheet ``feuille``: columns' widths, ``titre`` and author set."""
    wb = Workbook()
    ws = wb.active
    ws.title = feuille
    if not quadrillage:
        ws.sheet_view.showGridLines = False
    for lettre, largeur in largeurs.items():
        ws.column_dimensions[lettre].width = largeur
    wb.properties.title = titre
    wb.properties.creator = CREATEUR
    return wb, ws


def write_line(
    ws: Any,
    row: int,
    texte: str,
    *,
    colonnes: int,
    alignment: Alignment,
    font: Font | None = None,
    hauteur: float | None = None,
    nettoyer: bool = True,
) -> None:
    """One line of text merged over the first ``colonnes`` columns, written as text.

    ``nettoyer`` writes it with ``tableur.set_valeur`` (control characters
    replaced, length bounded); without it, the text is written as it is.
    """
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=colonnes)
    cell = ws.cell(row=row, column=1)
    if nettoyer:
        set_valeur(cell, texte)
    else:
        write_value(cell, texte)
    cell.alignment = alignment
    if font is not None:
        cell.font = font
    if hauteur is not None:
        ws.row_dimensions[row].height = hauteur


def write_section(ws: Any, row: int, intitule: str, *, colonnes: int, alignment: Alignment, nettoyer: bool = True) -> int:
    """A section's heading (white on blue) as a ``write_line``; return the next row."""
    write_line(ws, row, intitule, colonnes=colonnes, alignment=alignment, font=SECTION, hauteur=20, nettoyer=nettoyer)
    ws.cell(row=row, column=1).fill = FOND_SECTION
    return row + 1


def write_input_rows(
    ws: Any, entete: int, derniere: int, formats: Iterable[str], *, deverrouiller: bool = False
) -> None:
    """The rows of a table below its header ``entete``, down to ``derniere``.

    Column A holds the row's N° (from 1); then one framed, yellow input cell per
    number format in ``formats``, unlocked with ``deverrouiller``.
    """
    formats = tuple(formats)
    for r in range(entete + 1, derniere + 1):
        numero = ws.cell(row=r, column=1, value=r - entete)
        numero.alignment, numero.border = Alignment(horizontal="center"), CADRE
        for col, fmt in enumerate(formats, start=2):
            cell = ws.cell(row=r, column=col)
            cell.number_format, cell.fill, cell.border = fmt, FOND_SAISIE, CADRE
            if deverrouiller:
                cell.protection = Protection(locked=False)


def write_value(cell: Any, valeur: object) -> None:
    """Text stays text (never a formula); anything else (money, counts) is written as it is."""
    cell.value = valeur
    if isinstance(valeur, str):
        cell.data_type = "s"


def define_name(wb: Workbook, name: str, feuille: str, reference: str) -> None:
    """A workbook-scoped defined name for ``reference`` (``$C$11``, ``$B$5:$F$25``) on ``feuille``."""
    wb.defined_names[name] = DefinedName(name, attr_text=f"{quote_sheetname(feuille)}!{reference}")


def write_technical_sheet(
    wb: Workbook, titre: str, lignes: Iterable[tuple[str, Any, str]], *, largeurs: Mapping[str, float]
) -> None:
    """A hidden sheet, one ``(libelle, valeur, name)`` a row: the value in B, named ``name``."""
    ws = wb.create_sheet(titre)
    ws.sheet_state = "hidden"
    for row, (libelle, valeur, nom) in enumerate(lignes, start=1):
        set_valeur(ws.cell(row=row, column=1), libelle)
        set_valeur(ws.cell(row=row, column=2), valeur)
        define_name(wb, nom, titre, f"$B${row}")
    for lettre, largeur in largeurs.items():
        ws.column_dimensions[lettre].width = largeur


def set_print_layout(ws: Any, orientation: str) -> None:
    """Print the sheet on A4 in ``orientation`` (portrait, landscape), one page wide."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = orientation
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
