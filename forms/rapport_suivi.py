"""The consolidated follow-up workbook the SA and the financeurs read.

Sheet *Suivi*: one row per (convention, période) with each indicator beside
its pro-rata objective, the realised value filled green, orange or red by the
colour the caller computed (``models.indicateurs``), a bold PLIE-wide total
row and the legend. Sheet *Graphiques*: realised against the pro-rata
objective per porteur, for entrées, file active and taux de sorties
positives, drawn from a small table above them on the same sheet. Every text is written
as text (a porteur named ``=1+1`` stays a name); the file is written
atomically, readable by its owner only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from forms.tableur import FORMATS_EXCEL, clean_texte, save_classeur, set_valeur
from models.indicateurs import COULEURS, NON_RENSEIGNE
from francais.formats import format_date

__all__ = [
    "COLONNES",
    "FONDS",
    "SHEET_GRAPHIQUES",
    "SHEET_SUIVI",
    "LigneSuivi",
    "write_rapport_suivi",
]

SHEET_SUIVI = "Suivi"
SHEET_GRAPHIQUES = "Graphiques"
FONDS: dict[str, str] = {"vert": "C6EFCE", "orange": "FFEB9C", "rouge": "FFC7CE"}
"""Light fill of a realised value, by its colour (``—``: no fill)."""

FORMAT_OBJECTIF = "#,##0.0"
FORMAT_ETP = "0.0#"

COLONNES: tuple[tuple[str, float, str], ...] = (
    ("Convention", 16, "texte"),
    ("Porteur", 30, "texte"),
    ("Période", 16, "texte"),
    ("ETP", 7, FORMAT_ETP),
    ("Part de l'année écoulée", 11, FORMATS_EXCEL["pourcent"]),
    ("Entrées", 10, FORMATS_EXCEL["nombre"]),
    ("Objectif entrées au prorata", 12, FORMAT_OBJECTIF),
    ("File active", 10, FORMATS_EXCEL["nombre"]),
    ("Objectif file active au prorata", 12, FORMAT_OBJECTIF),
    ("Taux de sorties positives", 11, FORMATS_EXCEL["pourcent"]),
    ("Objectif taux", 10, FORMATS_EXCEL["pourcent"]),
    ("Partenariats", 12, FORMATS_EXCEL["nombre"]),
    ("Objectif partenariats au prorata", 13, FORMAT_OBJECTIF),
    ("Budget consommé", 15, FORMATS_EXCEL["euros"]),
    ("Budget prévu", 15, FORMATS_EXCEL["euros"]),
    ("Statut du bilan", 13, "texte"),
    ("Points d'attention", 34, "texte"),
)
"""Heading, width and number format of each column of *Suivi* (``texte``: written as text)."""

INDICATEURS: tuple[tuple[str, str, str], ...] = (
    ("entrees", "couleur_entrees", "entrées"),
    ("file_active", "couleur_file_active", "file active"),
    ("taux_sorties_positives", "couleur_taux", "sorties positives"),
    ("partenariats", "couleur_partenariats", "partenariats"),
    ("budget_consomme", "couleur_budget", "budget"),
)
"""Each realised field, the field holding its colour, and its name in *Points d'attention*."""

GRAPHIQUES: tuple[tuple[str, str, str, str, str | None], ...] = (
    ("Entrées", "entrees", "objectif_entrees", "Entrées (personnes)", None),
    ("File active", "file_active", "objectif_file_active", "Personnes en file active", None),
    ("Taux de sorties positives", "taux_sorties_positives", "objectif_taux", "Taux", "0 %"),
)
"""Each chart: title, realised field, objective field, value-axis title, value-axis format."""
SERIES = ("Réalisé", "Objectif au prorata")
NON_RENSEIGNE_MOTS = "non renseigné"
"""How a structure without a bilan is labelled on the charts."""

ENTETE = 4
"""Row of the header on *Suivi* (title, situation date and a blank row above)."""

_TITRE = Font(bold=True, size=14, color="1F3864")
_SOUS_TITRE = Font(bold=True, size=12)
_ENTETE = Font(bold=True, color="FFFFFF")
_FOND_ENTETE = PatternFill("solid", fgColor="2F5496")
_FOND_TOTAL = PatternFill("solid", fgColor="D9E1F2")
_FIN = Side(style="thin", color="A6A6A6")
_CADRE = Border(left=_FIN, right=_FIN, top=_FIN, bottom=_FIN)
_CADRE_TOTAL = Border(left=_FIN, right=_FIN, top=Side(style="medium", color="1F3864"), bottom=_FIN)


@dataclass(frozen=True)
class LigneSuivi:
    """One convention at one report (``periode``: ``mi-parcours 2018``, ``final 2018``).

    Realised values are ``None`` when not reported; ``fraction`` is the elapsed
    share of the year at the report date; rates are fractions (0.5 → 50 %);
    each ``couleur_*`` is ``vert``, ``orange``, ``rouge`` or ``—``; ``statut``
    is a ``models.suivi.StatutBilan`` value (``bilan reçu``, ``à corriger``, ``en retard``, ``attendu``).
    """

    convention: str
    porteur: str
    periode: str
    etp: Decimal
    fraction: Decimal
    entrees: int | None
    objectif_entrees: Decimal
    couleur_entrees: str
    file_active: int | None
    objectif_file_active: Decimal
    couleur_file_active: str
    taux_sorties_positives: Decimal | None
    objectif_taux: Decimal
    couleur_taux: str
    partenariats: int | None
    objectif_partenariats: Decimal
    couleur_partenariats: str
    budget_consomme: Decimal | None
    budget_prevu: Decimal
    couleur_budget: str
    statut: str


def write_rapport_suivi(
    path: Path,
    *,
    titre: str,
    arrete_au: date,
    lignes: list[LigneSuivi],
    total: LigneSuivi,
    seuils_texte: list[str],
) -> Path:
    """Write the follow-up report at ``arrete_au`` to ``path`` (0o600, atomically) and return it.

    ``total`` is written as given (its ``convention`` is the row's label, e.g.
    ``Total PLIE``); ``seuils_texte`` are the legend's lines
    (``models.indicateurs.describe_seuils`` gives them).
    """
    for ligne in (*lignes, total):
        _check_couleurs(ligne)
    situation = f"Situation au {format_date(arrete_au)}"
    wb = Workbook()
    wb.properties.title = clean_texte(f"{titre} — {situation}")
    wb.properties.creator = "PLIE — appel à projets"
    ws = wb.active
    ws.title = SHEET_SUIVI
    _write_suivi(ws, titre, situation, lignes, total, seuils_texte)
    _write_graphiques(wb.create_sheet(SHEET_GRAPHIQUES), titre, situation, lignes)
    return save_classeur(wb, path)


def _check_couleurs(ligne: LigneSuivi) -> None:
    for _, champ, _ in INDICATEURS:
        if getattr(ligne, champ) not in COULEURS:
            raise ValueError(
                f"{ligne.convention} ({ligne.periode}) : couleur inconnue pour {champ} : "
                f"{getattr(ligne, champ)!r} (attendu : {', '.join(COULEURS)})"
            )


# --------------------------------------------------------------------------- Suivi


def _write_suivi(ws, titre: str, situation: str, lignes: list[LigneSuivi], total: LigneSuivi,
                 seuils_texte: list[str]) -> None:  # fmt: skip
    fin_colonnes = get_column_letter(len(COLONNES))
    for row, (texte, font) in enumerate(((titre, _TITRE), (situation, _SOUS_TITRE)), start=1):
        ws.merge_cells(f"A{row}:{fin_colonnes}{row}")
        cell = ws.cell(row=row, column=1)
        set_valeur(cell, texte)
        cell.font = font
        ws.row_dimensions[row].height = 22
    for j, (intitule, largeur, _) in enumerate(COLONNES, start=1):
        cell = ws.cell(row=ENTETE, column=j)
        set_valeur(cell, intitule)
        cell.font, cell.fill, cell.border = _ENTETE, _FOND_ENTETE, _CADRE
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(j)].width = largeur
    ws.row_dimensions[ENTETE].height = 45

    for row, ligne in enumerate(lignes, start=ENTETE + 1):
        _write_ligne(ws, row, ligne, total=False)
    derniere = ENTETE + len(lignes)
    ligne_total = derniere + 1
    _write_ligne(ws, ligne_total, total, total=True)

    if seuils_texte:
        legende = ligne_total + 2
        cell = ws.cell(row=legende, column=1)
        set_valeur(cell, "Légende")
        cell.font = Font(bold=True)
        for i, texte in enumerate(seuils_texte, start=1):
            set_valeur(ws.cell(row=legende + i, column=1), texte)

    ws.freeze_panes = ws.cell(row=ENTETE + 1, column=3).coordinate
    ws.auto_filter.ref = f"A{ENTETE}:{fin_colonnes}{max(derniere, ENTETE + 1)}"
    ws.print_title_rows = f"{ENTETE}:{ENTETE}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _write_ligne(ws, row: int, ligne: LigneSuivi, *, total: bool) -> None:
    valeurs = (
        ligne.convention, ligne.porteur, ligne.periode, ligne.etp, ligne.fraction,
        ligne.entrees, ligne.objectif_entrees, ligne.file_active, ligne.objectif_file_active,
        ligne.taux_sorties_positives, ligne.objectif_taux,
        ligne.partenariats, ligne.objectif_partenariats,
        ligne.budget_consomme, ligne.budget_prevu, ligne.statut, _attention(ligne),
    )  # fmt: skip
    fonds = {_COLONNE_REALISE[champ]: getattr(ligne, couleur) for champ, couleur, _ in INDICATEURS}
    for j, ((_, largeur, format), valeur) in enumerate(zip(COLONNES, valeurs, strict=True)):
        cell = ws.cell(row=row, column=j + 1)
        if format == "texte" or valeur is None:
            set_valeur(cell, NON_RENSEIGNE if valeur is None else valeur)
            cell.alignment = Alignment(
                vertical="top", wrap_text=largeur >= 30, horizontal="center" if valeur is None else None
            )
        else:
            set_valeur(cell, valeur, "euros" if format == FORMATS_EXCEL["euros"] else "nombre")
            cell.number_format = format
            cell.alignment = Alignment(vertical="top")
        cell.border = _CADRE_TOTAL if total else _CADRE
        if total:
            cell.font = Font(bold=True)
            cell.fill = _FOND_TOTAL
        if j in fonds and fonds[j] in FONDS:
            cell.fill = PatternFill("solid", fgColor=FONDS[fonds[j]])


_INTITULES = [intitule for intitule, _, _ in COLONNES]
_COLONNE_REALISE = {
    "entrees": _INTITULES.index("Entrées"),
    "file_active": _INTITULES.index("File active"),
    "taux_sorties_positives": _INTITULES.index("Taux de sorties positives"),
    "partenariats": _INTITULES.index("Partenariats"),
    "budget_consomme": _INTITULES.index("Budget consommé"),
}
"""Position in ``COLONNES`` of each realised value (the cell that gets the fill)."""


def _attention(ligne: LigneSuivi) -> str:
    """``rouge : entrées ; orange : budget`` — the colours in words, for print and filters."""
    parties = []
    for teinte in ("rouge", "orange"):
        noms = [nom for _, champ, nom in INDICATEURS if getattr(ligne, champ) == teinte]
        if noms:
            parties.append(f"{teinte} : {', '.join(noms)}")
    return " ; ".join(parties)


# --------------------------------------------------------------------------- Graphiques


def _write_graphiques(ws, titre: str, situation: str, lignes: list[LigneSuivi]) -> None:
    """The charts' table (rows 3 and 4 the headers, one row per porteur), then three bar charts below it."""
    set_valeur(ws.cell(row=1, column=1), f"{titre} — {situation}")
    ws.cell(row=1, column=1).font = _TITRE
    groupes, intitules = 3, 4
    set_valeur(ws.cell(row=intitules, column=1), "Porteur")
    ws.column_dimensions["A"].width = 30
    for k, (nom, *_) in enumerate(GRAPHIQUES):
        debut = 2 + 2 * k
        ws.merge_cells(start_row=groupes, start_column=debut, end_row=groupes, end_column=debut + 1)
        set_valeur(ws.cell(row=groupes, column=debut), nom)
        for d, serie in enumerate(SERIES):
            set_valeur(ws.cell(row=intitules, column=debut + d), serie)
            ws.column_dimensions[get_column_letter(debut + d)].width = 12
    ws.row_dimensions[intitules].height = 30
    for row in (groupes, intitules):
        for j in range(1, 2 + 2 * len(GRAPHIQUES)):
            cell = ws.cell(row=row, column=j)
            cell.font, cell.fill, cell.border = _ENTETE, _FOND_ENTETE, _CADRE
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    rapportees = _lignes_graphiques(lignes)
    for row, (etiquette, ligne) in enumerate(rapportees, start=intitules + 1):
        set_valeur(ws.cell(row=row, column=1), etiquette)
        for k, (_, realise, objectif, _, format_axe) in enumerate(GRAPHIQUES):
            for d, champ in enumerate((realise, objectif)):
                cell = ws.cell(row=row, column=2 + 2 * k + d)
                set_valeur(cell, getattr(ligne, champ), "nombre")
                cell.number_format = format_axe or (FORMATS_EXCEL["nombre"] if d == 0 else FORMAT_OBJECTIF)
    if not rapportees:
        set_valeur(ws.cell(row=intitules + 1, column=1), "Aucune convention suivie à cette date.")
        return

    derniere = intitules + len(rapportees)
    categories = Reference(ws, min_col=1, min_row=intitules + 1, max_row=derniere)
    for k, (nom, _, _, titre_axe, format_axe) in enumerate(GRAPHIQUES):
        chart = BarChart()
        chart.type, chart.grouping = "col", "clustered"
        chart.title = f"{nom} : réalisé et objectif au prorata"
        chart.x_axis.title = "Porteur"
        chart.y_axis.title = titre_axe
        chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes otherwise
        chart.y_axis.scaling.min = 0
        if format_axe:
            chart.y_axis.number_format = format_axe
            chart.y_axis.majorUnit = 0.25
        donnees = Reference(ws, min_col=2 + 2 * k, max_col=3 + 2 * k, min_row=intitules, max_row=derniere)
        chart.add_data(donnees, titles_from_data=True)
        for serie in chart.series:  # names, not numbers: a string reference
            serie.cat = AxDataSource(strRef=StrRef(f=str(categories)))
        chart.legend.position = "b"
        chart.width, chart.height = 20, 9
        ws.add_chart(chart, f"A{derniere + 3 + 20 * k}")
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _lignes_graphiques(lignes: list[LigneSuivi]) -> list[tuple[str, LigneSuivi]]:
    """One row per convention, from the first day: its latest row with a charted value reported, else its
    latest row, labelled by its porteur — « (non renseigné) » when it has reported nothing yet, so that its
    objective stands alone. Two conventions of the same porteur get their number appended."""
    champs = [realise for _, realise, _, _, _ in GRAPHIQUES]

    def rapportee(ligne: LigneSuivi) -> bool:
        return any(getattr(ligne, c) is not None for c in champs)

    par_convention: dict[str, LigneSuivi] = {}
    for ligne in lignes:
        courante = par_convention.get(ligne.convention)
        if courante is None or rapportee(ligne) or not rapportee(courante):
            par_convention[ligne.convention] = ligne
    choisies = list(par_convention.values())
    etiquettes = [ligne.porteur for ligne in choisies]
    doublons = {e for e in etiquettes if etiquettes.count(e) > 1}
    etiquettes = [f"{e} — {l.convention}" if e in doublons else e for e, l in zip(etiquettes, choisies, strict=True)]
    etiquettes = [e if rapportee(l) else f"{e} ({NON_RENSEIGNE_MOTS})" for e, l in zip(etiquettes, choisies, strict=True)]
    return list(zip(etiquettes, choisies, strict=True))
