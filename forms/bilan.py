"""The bilan form (mid-term or final): written pre-filled for one convention, filled by the porteur, read back.

Sheet « Bilan »: the convention's figures (grey, pre-filled), the quantitative
inputs beside their objectives, the qualitative part and the situation
budgétaire; sheet « Justificatifs »: one row per supporting document attached to
the same e-mail; hidden sheet ``aap``: the request's token, convention and period.
Every input cell carries a workbook-scoped defined name (``bilan_…``), so reading
never depends on where cells sit. Reading treats the file as hostile, like the
dossier de réponse: container checks, then openpyxl in read-only mode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from forms.classeur import (
    CADRE,
    FOND_SAISIE,
    GRAS,
    RETOUR,
    TITRE,
    Valeurs,
    Zone,
    check_zones,
    create_form_workbook,
    define_name,
    find_zone,
    is_empty,
    open_hostile_workbook,
    preview,
    read_cells,
    read_source,
    set_print_layout,
    table_bounds,
    table_rows,
    text_of,
    value_of,
    write_input_rows,
    write_line,
    write_section,
    write_technical_sheet,
    write_value,
)
from forms.dossier_reponse import parse_decimal_fr
from forms.tableur import FORMATS_EXCEL, Format, save_classeur, set_valeur
from forms.xlsx_safety import FormulaireIllisible, defines_name
from francais.formats import format_date, format_decimal_fr
from francais.saisie import cle_de_saisie
from models.bilan import (
    CATEGORIES_DEPENSES,
    LIBELLES_DEPENSES,
    LIBELLES_RESSOURCES,
    LIBELLES_SORTIES_POSITIVES,
    QUANTITATIFS,
    SORTIES_POSITIVES,
    SOURCES_RESSOURCES,
    BilanLu,
    JustificatifLigne,
)

__all__ = [
    "CATEGORIES_DEPENSES",
    "LIBELLES",
    "QUANTITATIFS",
    "SORTIES_POSITIVES",
    "SOURCES_RESSOURCES",
    "BilanLu",
    "BilanPrefill",
    "FormulaireIllisible",
    "JustificatifLigne",
    "fill_bilan_form",
    "is_bilan_form",
    "read_bilan_form",
    "write_bilan_form",
]

NOM_JETON, NOM_CONVENTION, NOM_PERIODE = "bilan_jeton", "bilan_convention", "bilan_periode"
NOM_QUALITATIF, NOM_JUSTIFICATIFS = "bilan_qualitatif", "bilan_justificatifs"
NOMS_QUANTITATIFS = {champ: f"bilan_{champ}" for champ, _ in QUANTITATIFS}
NOMS_SORTIES_POSITIVES = {sorte: f"bilan_sp_{sorte}" for sorte, _ in SORTIES_POSITIVES}
NOMS_DEPENSES = {cat: f"bilan_depense_{cat}" for cat, _ in CATEGORIES_DEPENSES}
NOMS_RESSOURCES = {src: f"bilan_ressource_{src}" for src, _ in SOURCES_RESSOURCES}
NOMS_CELLULES = (
    NOM_JETON, NOM_CONVENTION, NOM_PERIODE, *NOMS_QUANTITATIFS.values(), *NOMS_SORTIES_POSITIVES.values(),
    NOM_QUALITATIF, *NOMS_DEPENSES.values(), *NOMS_RESSOURCES.values(),
)  # fmt: skip
"""Every single-cell defined name of the form (the table ``bilan_justificatifs`` aside)."""

LIBELLES: dict[str, str] = {
    **{NOMS_QUANTITATIFS[champ]: libelle for champ, libelle in QUANTITATIFS},
    **{NOMS_SORTIES_POSITIVES[s]: libelle for s, libelle in LIBELLES_SORTIES_POSITIVES.items()},
    **{NOMS_DEPENSES[c]: libelle for c, libelle in LIBELLES_DEPENSES.items()},
    **{NOMS_RESSOURCES[s]: libelle for s, libelle in LIBELLES_RESSOURCES.items()},
}
"""The French label of each input, as it starts every message about it (``"Entrées : …"``)."""

JUSTIFICATIF_COLONNES = ("categorie", "libelle", "montant", "fichier")
JUSTIFICATIF_TITRES = ("Catégorie", "Libellé", "Montant", "Fichier joint")
SHEET_BILAN, SHEET_JUSTIFICATIFS, SHEET_TECHNIQUE = "Bilan", "Justificatifs", "aap"
PERIODES = {"mi-parcours": "à mi-parcours", "final": "final"}

LIGNE_MAX = 10_000
"""Defined names pointing below this row are refused (bounds the read)."""
COLONNE_MAX = 100
JUSTIFICATIFS_LIGNES_MAX = 1_000
"""Rows of the justificatifs table read at most (a porteur may insert rows in it)."""
ENTIER_MAX = 10**9
WORKBOOK_XML_MAX = 2 * 1024 * 1024
"""``is_bilan_form`` reads at most this many bytes of ``xl/workbook.xml``."""
FORMAT_EURO = FORMATS_EXCEL["euros"]
MOTIF_ETRANGER = "ce fichier n'est pas un formulaire de bilan envoyé par le PLIE"


@dataclass(frozen=True)
class BilanPrefill:
    """What the PLIE knows before the porteur fills the form.

    ``objectifs`` (already pro rata): ``entrees``, ``file_active``, ``partenariats`` and
    ``taux_sorties_positives`` as a fraction (0.5 is 50 %); ``budget_prevu`` is keyed by
    ``CATEGORIES_DEPENSES``, ``ressources_prevues`` by ``SOURCES_RESSOURCES``.
    """

    jeton: str
    convention_numero: str
    periode: Literal["mi-parcours", "final"]
    periode_debut: date
    periode_fin: date
    porteur_nom: str
    porteur_siret: str | None
    etp: Decimal
    objectifs: dict[str, Decimal]
    budget_prevu: dict[str, Decimal]
    ressources_prevues: dict[str, Decimal]
    date_limite: date


# --------------------------------------------------------------------------- writing

_FOND_PREREMPLI = PatternFill("solid", fgColor="E7E6E6")
_PREREMPLI = Font(color="404040")
_LARGEURS = {"A": 58, "B": 20, "C": 20, "D": 20, "E": 4}
_DERNIERE_COLONNE = 4
_CENTRE = Alignment(wrap_text=True, vertical="center")
_QUALITATIF_LIGNES = 14

_INDICATEURS: tuple[tuple[str, str, str | None], ...] = (
    ("entrees", "Entrées de participants sur la période", "entrees"),
    ("file_active", "Personnes en file active à la fin de la période", "file_active"),
    ("sorties", "Sorties du dispositif sur la période", None),
)
_AUTRES_INDICATEURS: tuple[tuple[str, str, str | None], ...] = (
    ("entreprises_rencontrees", "Entreprises rencontrées", None),
    ("partenariats", "Partenariats durables noués avec des entreprises", "partenariats"),
    ("participants_qpv", "Participants résidant dans un quartier prioritaire (QPV)", None),
    ("participants_rsa", "Participants bénéficiaires du RSA", None),
)


def write_bilan_form(path: Path, prefill: BilanPrefill, *, lignes_justificatifs: int = 40) -> Path:
    """Write the pre-filled bilan form for one convention and period to ``path`` (0o600, atomically)."""
    if prefill.periode not in PERIODES:
        raise ValueError(f"période de bilan inconnue : {prefill.periode!r}")
    if lignes_justificatifs < 1:
        raise ValueError("le tableau des justificatifs a au moins une ligne")
    titre = f"Bilan {PERIODES[prefill.periode]} — convention {prefill.convention_numero}"
    wb, ws = create_form_workbook(SHEET_BILAN, titre, _LARGEURS)

    _ligne(ws, 1, titre, font=TITRE, hauteur=24)
    _ligne(ws, 2, prefill.porteur_nom, font=Font(bold=True, size=12))
    _ligne(ws, 3, (
        f"À retourner au plus tard le {format_date(prefill.date_limite)}, par courriel, avec les "
        "justificatifs des dépenses (factures, bulletins de salaire) joints au même message."
    ), font=Font(bold=True, color="C00000"), hauteur=30)  # fmt: skip
    consignes = (
        "Complétez les cellules sur fond jaune ; les cellules grises rappellent la convention. Ne "
        "renommez pas les feuilles et ne déplacez pas les cellules : le formulaire est lu automatiquement.",
        "Les nombres de participants et d'entreprises sont des nombres entiers (0 s'il n'y en a aucun). "
        "Les montants sont en euros.",
        "Listez chaque justificatif sur la feuille « Justificatifs » : le total de chaque catégorie doit "
        "être égal aux dépenses réalisées déclarées. Enregistrez au format Excel .xlsx, sans macros.",
    )
    for i, consigne in enumerate(consignes):
        _ligne(ws, 5 + i, f"• {consigne}", hauteur=30)

    row = _section(ws, 9, "1. La convention (rappel)")
    periode = f"du {format_date(prefill.periode_debut)} au {format_date(prefill.periode_fin)}"
    for libelle, valeur in (
        ("Structure", prefill.porteur_nom),
        ("SIRET", prefill.porteur_siret or "non renseigné"),
        ("Convention", prefill.convention_numero),
        ("Période couverte par le bilan", periode),
        ("ETP conventionnés", format_decimal_fr(prefill.etp)),
    ):
        _libelle(ws, row, libelle)
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=_DERNIERE_COLONNE)
        _prerempli(ws.cell(row=row, column=2), valeur)
        row += 1

    row = _section(ws, row + 1, "2. Bilan quantitatif")
    row = _entetes(ws, row, ("Indicateur", "Objectif (au prorata)", "Réalisé"))
    lignes_sorties: dict[str, int] = {}
    for champ, libelle, objectif in _INDICATEURS:
        _indicateur(wb, ws, row, champ, libelle, prefill.objectifs.get(objectif) if objectif else None)
        lignes_sorties[champ] = row
        row += 1
    _libelle(ws, row, "Sorties positives (cahier des charges, § 1.3.2), par type :", font=Font(italic=True))
    row += 1
    premiere_sp = row
    for sorte, libelle in SORTIES_POSITIVES:
        _saisie(wb, ws, row, NOMS_SORTIES_POSITIVES[sorte], f"dont {libelle}", "entier")
        ws.cell(row=row, column=1).alignment = Alignment(vertical="center", wrap_text=True, indent=2)
        ws.row_dimensions[row].height = 30
        row += 1
    _libelle(ws, row, "Taux de sorties positives", font=GRAS)
    _prerempli(ws.cell(row=row, column=2), prefill.objectifs.get("taux_sorties_positives"), "pourcent")
    sorties = f"C{lignes_sorties['sorties']}"
    taux = ws.cell(row=row, column=3, value=f'=IF(N({sorties})>0,SUM(C{premiere_sp}:C{row - 1})/{sorties},"")')
    taux.number_format, taux.fill, taux.border, taux.font = FORMATS_EXCEL["pourcent"], _FOND_PREREMPLI, CADRE, GRAS
    row += 1
    for champ, libelle, objectif in _AUTRES_INDICATEURS:
        _indicateur(wb, ws, row, champ, libelle, prefill.objectifs.get(objectif) if objectif else None)
        row += 1

    row = _section(ws, row + 1, "3. Bilan qualitatif")
    _ligne(ws, row, (
        "Déroulement de l'action, profil des participants, actions menées avec les entreprises, "
        "difficultés rencontrées, perspectives."
    ), font=Font(italic=True), hauteur=30)  # fmt: skip
    row += 1
    _qualitatif(wb, ws, row)
    row += _QUALITATIF_LIGNES

    row = _section(ws, row + 1, "4. Situation budgétaire (en euros)")
    row = _entetes(ws, row, ("Dépenses", "Prévu (convention)", "Réalisé", "Justificatifs listés"))
    debut = row
    fin_justificatifs = 5 + lignes_justificatifs
    for cat, libelle in CATEGORIES_DEPENSES:
        _libelle(ws, row, libelle)
        _prerempli(ws.cell(row=row, column=2), prefill.budget_prevu.get(cat), "euros")
        _saisie_cellule(wb, ws, row, 3, NOMS_DEPENSES[cat], "euros")
        zone = f"{quote_sheetname(SHEET_JUSTIFICATIFS)}!$%s$6:$%s${fin_justificatifs}"
        somme = ws.cell(row=row, column=4, value=f'=SUMIF({zone % ("B", "B")},"{cat}",{zone % ("D", "D")})')
        somme.number_format, somme.fill, somme.border = FORMAT_EURO, _FOND_PREREMPLI, CADRE
        row += 1
    row = _total(ws, row, "Total des dépenses", debut, colonnes=(2, 3, 4)) + 1
    row = _entetes(ws, row, ("Ressources", "Prévu (convention)", "Reçu"))
    debut = row
    for src, libelle in SOURCES_RESSOURCES:
        _libelle(ws, row, libelle)
        _prerempli(ws.cell(row=row, column=2), prefill.ressources_prevues.get(src), "euros")
        _saisie_cellule(wb, ws, row, 3, NOMS_RESSOURCES[src], "euros")
        row += 1
    _total(ws, row, "Total des ressources", debut, colonnes=(2, 3))

    _feuille_justificatifs(wb, prefill, lignes_justificatifs)
    _feuille_technique(wb, prefill)
    set_print_layout(ws, "portrait")
    premiere = f"C{lignes_sorties['entrees']}"
    ws.sheet_view.selection[0].activeCell = ws.sheet_view.selection[0].sqref = premiere
    return save_classeur(wb, path)


def _ligne(ws, row: int, texte: str, *, font: Font | None = None, hauteur: float | None = None) -> None:
    """One line of text across the form's width."""
    write_line(ws, row, texte, colonnes=_DERNIERE_COLONNE, alignment=_CENTRE, font=font, hauteur=hauteur)


def _section(ws, row: int, intitule: str) -> int:
    return write_section(ws, row, intitule, colonnes=_DERNIERE_COLONNE, alignment=_CENTRE)


def _entetes(ws, row: int, intitules: tuple[str, ...]) -> int:
    for col, intitule in enumerate(intitules, start=1):
        cell = ws.cell(row=row, column=col)
        set_valeur(cell, intitule)
        cell.font, cell.border = GRAS, CADRE
        cell.alignment = Alignment(horizontal="left" if col == 1 else "center", vertical="center", wrap_text=True)
    ws.row_dimensions[row].height = 30  # « Objectif (au prorata) » and « Prévu (convention) » take two lines
    return row + 1


def _libelle(ws, row: int, texte: str, *, font: Font | None = None) -> None:
    cell = ws.cell(row=row, column=1)
    set_valeur(cell, texte)
    cell.alignment = Alignment(vertical="center", wrap_text=True)
    cell.border = CADRE
    if font is not None:
        cell.font = font


def _prerempli(cell, valeur: Any, format: Format = "texte") -> None:
    """A grey, locked cell the porteur reads but does not fill."""
    set_valeur(cell, valeur, format)
    cell.fill, cell.border, cell.font = _FOND_PREREMPLI, CADRE, _PREREMPLI
    cell.alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    cell.protection = Protection(locked=True)


def _indicateur(wb: Workbook, ws, row: int, champ: str, libelle: str, objectif: Decimal | None) -> None:
    _saisie(wb, ws, row, NOMS_QUANTITATIFS[champ], libelle, "entier")
    _prerempli(ws.cell(row=row, column=2), objectif)


def _saisie(wb: Workbook, ws, row: int, name: str, libelle: str, sorte: str) -> None:
    _libelle(ws, row, libelle)
    ws.cell(row=row, column=2).border = CADRE
    _saisie_cellule(wb, ws, row, 3, name, sorte)


def _saisie_cellule(wb: Workbook, ws, row: int, col: int, name: str, sorte: str) -> None:
    """A yellow, unlocked, named input cell, validated as a whole number or an amount ≥ 0."""
    cell = ws.cell(row=row, column=col)
    cell.fill, cell.border = FOND_SAISIE, CADRE
    cell.protection = Protection(locked=False)
    cell.alignment = Alignment(horizontal="right", vertical="center")
    cell.number_format = FORMAT_EURO if sorte == "euros" else FORMATS_EXCEL["nombre"]
    _valider(ws, cell.coordinate, sorte)
    define_name(wb, name, ws.title, f"${get_column_letter(col)}${row}")


def _valider(ws, zone: str, sorte: str) -> None:
    if sorte == "entier":
        dv = DataValidation(
            type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
            showErrorMessage=True, errorTitle="Nombre entier",
            error="Indiquez un nombre entier, positif ou nul (0 s'il n'y en a aucun).",
        )  # fmt: skip
    else:
        dv = DataValidation(
            type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
            showErrorMessage=True, errorTitle="Montant", error="Indiquez un montant positif ou nul, en euros.",
        )  # fmt: skip
    dv.add(zone)
    ws.add_data_validation(dv)


def _total(ws, row: int, libelle: str, debut: int, *, colonnes: tuple[int, ...]) -> int:
    _libelle(ws, row, libelle, font=GRAS)
    for col in colonnes:
        lettre = get_column_letter(col)
        cell = ws.cell(row=row, column=col, value=f"=SUM({lettre}{debut}:{lettre}{row - 1})")
        cell.font, cell.fill, cell.border, cell.number_format = GRAS, _FOND_PREREMPLI, CADRE, FORMAT_EURO
    return row + 1


def _qualitatif(wb: Workbook, ws, row: int) -> None:
    fin = row + _QUALITATIF_LIGNES - 1
    ws.merge_cells(start_row=row, start_column=1, end_row=fin, end_column=_DERNIERE_COLONNE)
    for r in range(row, fin + 1):
        ws.row_dimensions[r].height = 22
        for col in range(1, _DERNIERE_COLONNE + 1):
            ws.cell(row=r, column=col).border = CADRE
    cell = ws.cell(row=row, column=1)
    cell.fill, cell.alignment, cell.number_format = FOND_SAISIE, RETOUR, "@"
    cell.protection = Protection(locked=False)
    define_name(wb, NOM_QUALITATIF, ws.title, f"$A${row}")


def _feuille_justificatifs(wb: Workbook, prefill: BilanPrefill, lignes: int) -> None:
    """Headings, then the named table: its header row and ``lignes`` empty rows (from row 6)."""
    ws = wb.create_sheet(SHEET_JUSTIFICATIFS)
    ws.sheet_view.showGridLines = False
    for lettre, largeur in {"A": 6, "B": 16, "C": 48, "D": 16, "E": 34}.items():
        ws.column_dimensions[lettre].width = largeur
    textes = (
        (f"Justificatifs des dépenses — convention {prefill.convention_numero}", Font(bold=True, size=14)),
        ("Une ligne par justificatif (facture, bulletin de salaire…) joint au même courriel que ce bilan. "
         "Dans la dernière colonne, le nom exact du fichier joint (par exemple facture_mars.pdf).", None),
        ("Catégories : " + " ; ".join(f"{cle} = {libelle}" for cle, libelle in CATEGORIES_DEPENSES), None),
    )  # fmt: skip
    for row, (texte, font) in enumerate(textes, start=1):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
        cell = ws.cell(row=row, column=1)
        set_valeur(cell, texte)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.font = font or Font(italic=True)
        ws.row_dimensions[row].height = 30
    entete, premiere, derniere = 5, 6, 5 + lignes
    for col, titre in enumerate(("N°", *JUSTIFICATIF_TITRES), start=1):
        cell = ws.cell(row=entete, column=col)
        set_valeur(cell, titre)
        cell.font, cell.fill, cell.border = GRAS, _FOND_PREREMPLI, CADRE
        cell.alignment = Alignment(horizontal="center", vertical="center")
    write_input_rows(ws, entete, derniere, ("@", "@", FORMAT_EURO, "@"), deverrouiller=True)
    cles = [cle for cle, _ in CATEGORIES_DEPENSES]
    liste = DataValidation(
        type="list", formula1='"' + ",".join(cles) + '"', allow_blank=True,
        showErrorMessage=True, errorStyle="stop", errorTitle="Catégorie",
        error="Choisissez la catégorie dans la liste : " + ", ".join(cles) + ".",
        showInputMessage=True, promptTitle="Catégorie de la dépense",
        prompt=" ; ".join(f"{cle} : {libelle}" for cle, libelle in CATEGORIES_DEPENSES),
    )  # fmt: skip
    liste.add(f"B{premiere}:B{derniere}")
    ws.add_data_validation(liste)
    _valider(ws, f"D{premiere}:D{derniere}", "euros")
    define_name(wb, NOM_JUSTIFICATIFS, SHEET_JUSTIFICATIFS, f"$B${entete}:$E${derniere}")
    ws.freeze_panes = f"A{premiere}"
    ws.print_title_rows = f"{entete}:{entete}"
    set_print_layout(ws, "landscape")


def _feuille_technique(wb: Workbook, prefill: BilanPrefill) -> None:
    """The hidden sheet ``aap``: what ties the returned file to its request."""
    write_technical_sheet(wb, SHEET_TECHNIQUE, (
        ("Jeton", prefill.jeton, NOM_JETON),
        ("Convention", prefill.convention_numero, NOM_CONVENTION),
        ("Période", prefill.periode, NOM_PERIODE),
    ), largeurs={"B": 40})  # fmt: skip


# --------------------------------------------------------------------------- filling


def fill_bilan_form(blank: Path, out: Path, values: dict) -> Path:
    """Write ``values`` (keyed by defined name) into a copy of ``blank``; for demos and tests.

    ``values["justificatifs"]`` is a list of ``(categorie, libelle, montant, fichier)``.
    Text is written as text (never a formula); numbers as they are.
    """
    wb = load_workbook(blank)
    for name, valeur in values.items():
        if name == "justificatifs":
            continue
        if name == NOM_JUSTIFICATIFS or name not in NOMS_CELLULES:
            raise KeyError(f"zone nommée inconnue dans le bilan : {name}")
        feuille, (col, row, _, _) = find_zone(wb, name)
        write_value(wb[feuille].cell(row=row, column=col), valeur)
    justificatifs = values.get("justificatifs", [])
    feuille, (col, entete, _, derniere) = find_zone(wb, NOM_JUSTIFICATIFS)
    if len(justificatifs) > derniere - entete:
        raise ValueError(f"{len(justificatifs)} justificatifs pour {derniere - entete} lignes de tableau")
    ws = wb[feuille]
    for i, ligne in enumerate(justificatifs, start=1):
        if len(ligne) != len(JUSTIFICATIF_COLONNES):
            raise ValueError(f"justificatif {i} : (categorie, libelle, montant, fichier) attendu, reçu {ligne!r}")
        for j, valeur in enumerate(ligne):
            write_value(ws.cell(row=entete + i, column=col + j), valeur)
    return save_classeur(wb, Path(out))


# --------------------------------------------------------------------------- recognising


def is_bilan_form(data: bytes) -> bool:
    """Whether ``data`` is a workbook whose ``xl/workbook.xml`` defines ``bilan_jeton`` (cheap, safe)."""
    return defines_name(data, NOM_JETON, WORKBOOK_XML_MAX)


# --------------------------------------------------------------------------- reading


def read_bilan_form(source: Path | bytes, *, filename: str | None = None) -> BilanLu:
    """Read a returned bilan; raise ``FormulaireIllisible`` when it cannot be read at all.

    ``filename`` is the name the porteur gave the file (defaults to the path's name).
    Unreadable values become ``None`` with a French line in ``anomalies``.
    """
    data, nom = read_source(source, filename, "bilan.xlsx")
    with open_hostile_workbook(data, nom) as wb:
        zones = _zones_lues(wb)
        valeurs = read_cells(wb, zones, {NOM_JUSTIFICATIFS: JUSTIFICATIFS_LIGNES_MAX})
    return _bilan(zones, valeurs)


def _zones_lues(wb) -> dict[str, Zone]:
    """Every defined name the reader needs, checked and bounded."""
    try:
        find_zone(wb, NOM_JETON)
    except KeyError:
        raise FormulaireIllisible(f"{MOTIF_ETRANGER} : zone nommée {NOM_JETON} absente") from None
    except Exception:  # noqa: BLE001 - reported below, among the invalid zones
        pass
    return check_zones(
        wb, {**dict.fromkeys(NOMS_CELLULES, 1), NOM_JUSTIFICATIFS: len(JUSTIFICATIF_COLONNES)},
        ligne_max=LIGNE_MAX, colonne_max=COLONNE_MAX,
        motif_absentes="le formulaire de bilan a été modifié", motif_invalides="le formulaire de bilan a été modifié",
    )  # fmt: skip


def _bilan(zones: dict[str, Zone], valeurs: Valeurs) -> BilanLu:
    anomalies: list[str] = []

    def brut(name: str) -> Any:
        return value_of(valeurs, zones[name])

    def entier(name: str) -> int | None:
        return _entier(brut(name), LIBELLES[name], anomalies)

    def montant(name: str) -> Decimal | None:
        return _montant(brut(name), LIBELLES[name], anomalies)

    jeton = text_of(brut(NOM_JETON))
    if not jeton:
        anomalies.append("Jeton du bilan absent : reprenez le formulaire envoyé par le PLIE")
    quantitatifs = {champ: entier(NOMS_QUANTITATIFS[champ]) for champ, _ in QUANTITATIFS}
    return BilanLu(
        jeton=jeton,
        convention_numero=text_of(brut(NOM_CONVENTION)),
        periode=text_of(brut(NOM_PERIODE)),
        **quantitatifs,
        sorties_positives={s: entier(NOMS_SORTIES_POSITIVES[s]) for s, _ in SORTIES_POSITIVES},
        qualitatif=text_of(brut(NOM_QUALITATIF)),
        depenses={cat: montant(NOMS_DEPENSES[cat]) for cat, _ in CATEGORIES_DEPENSES},
        ressources_recues={src: montant(NOMS_RESSOURCES[src]) for src, _ in SOURCES_RESSOURCES},
        justificatifs=_justificatifs(zones[NOM_JUSTIFICATIFS], valeurs, anomalies),
        anomalies=tuple(anomalies),
    )


def _justificatifs(zone: Zone, valeurs: Valeurs, anomalies: list[str]) -> tuple[JustificatifLigne, ...]:
    """One line per non-empty row; columns found by their header, else by their order."""
    feuille, cols, rows = table_bounds(zone, JUSTIFICATIFS_LIGNES_MAX)
    titres = [cle_de_saisie(text_of(valeurs.get((feuille, rows[0], c)))) for c in cols]
    reconnus = {cle_de_saisie(t): cle for cle, t in zip(JUSTIFICATIF_COLONNES, JUSTIFICATIF_TITRES, strict=True)}
    reconnus |= {cle: cle for cle in JUSTIFICATIF_COLONNES}
    trouves = {reconnus[t]: cols[i] for i, t in reversed(list(enumerate(titres))) if t in reconnus}
    if set(trouves) != set(JUSTIFICATIF_COLONNES):  # header retyped: trust the columns' order
        trouves = {cle: cols[j] for j, cle in enumerate(JUSTIFICATIF_COLONNES)}
    lignes = []
    for numero, brut in table_rows(valeurs, feuille, rows, trouves):
        montant = _montant(brut["montant"], f"Justificatif ligne {numero}", anomalies)
        lignes.append(JustificatifLigne(
            ligne=numero, categorie=_categorie(brut["categorie"]), libelle=text_of(brut["libelle"]),
            montant=montant, fichier=text_of(brut["fichier"]),
        ))  # fmt: skip
    return tuple(lignes)


# --------------------------------------------------------------------------- cell values


_CATEGORIES_LUES = {cle_de_saisie(cle): cle for cle, _ in CATEGORIES_DEPENSES} | {
    cle_de_saisie(libelle): cle for cle, libelle in CATEGORIES_DEPENSES
}


def _categorie(valeur: Any) -> str:
    """A key of ``CATEGORIES_DEPENSES`` (typed as key or label, any case), else the text typed."""
    texte = text_of(valeur)
    return _CATEGORIES_LUES.get(cle_de_saisie(texte), texte)


def _entier(valeur: Any, libelle: str, anomalies: list[str]) -> int | None:
    """A whole number (negative ones kept for the rules to refuse), or None with an anomaly."""
    if is_empty(valeur):
        return None
    nombre: int | None = None
    if isinstance(valeur, int) and not isinstance(valeur, bool):
        nombre = valeur
    elif isinstance(valeur, float) and valeur.is_integer():
        nombre = int(valeur)
    elif isinstance(valeur, str):
        texte = re.sub(r"\s", "", valeur)
        if re.fullmatch(r"[+-]?\d{1,12}([.,]0*)?", texte):
            nombre = int(re.split(r"[.,]", texte)[0])
    if nombre is None or abs(nombre) >= ENTIER_MAX:
        anomalies.append(f"{libelle} : valeur illisible « {preview(valeur)} » (nombre entier attendu)")
        return None
    return nombre


def _montant(valeur: Any, libelle: str, anomalies: list[str]) -> Decimal | None:
    if is_empty(valeur):
        return None
    try:
        return parse_decimal_fr(valeur)
    except ValueError:
        anomalies.append(f"{libelle} : montant illisible « {preview(valeur)} »")
        return None
