"""The comité de pilotage's synthesis workbook: written before the meeting, read back after.

One row per dossier with the instruction's figures and opinion; the SA fills the
*Décision* (drop-down list) and *Motif ou questions* cells during or after the
meeting. Three workbook-scoped defined names tie the file to the software:
``aap_annee`` and ``aap_jeton`` (on the hidden sheet ``aap``) and
``aap_decisions`` (the table, header included). Reading treats the file as
hostile, like the dossier de réponse, and validates nothing: the caller checks
the decisions against the database and reports every problem at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from config.refus import Refus
from forms.classeur import (
    CADRE,
    FOND_SAISIE,
    Zone,
    create_form_workbook,
    define_name,
    find_zone,
    open_hostile_workbook,
    read_source,
    set_print_layout,
    text_of,
    write_line,
    write_technical_sheet,
)
from forms.tableur import save_classeur, set_valeur
from francais.formats import format_date, format_decimal_fr

__all__ = [
    "COLONNES",
    "DECISIONS",
    "DecisionLue",
    "LigneSynthese",
    "SyntheseIllisible",
    "SyntheseLue",
    "read_synthese",
    "write_synthese",
]

DECISIONS = ("Retenu", "Non retenu", "Ajourné")
AVIS_COULEURS = {"favorable": "C6EFCE", "réservé": "FFEB9C", "défavorable": "FFC7CE"}

SHEET_TITLE = "Synthèse"
SHEET_TECHNIQUE = "aap"
NOM_ANNEE = "aap_annee"
NOM_JETON = "aap_jeton"
NOM_DECISIONS = "aap_decisions"

COLONNES: tuple[tuple[str, float], ...] = (
    ("N° dossier", 15), ("Structure", 30), ("SIRET", 16), ("Référents (ETP)", 34),
    ("ETP", 7), ("Coût salarial", 14), ("Coût par ETP", 14), ("Frais de déplacement", 16),
    ("Total dépenses", 14), ("Constats", 50), ("Réponse aux questions", 24), ("Avis", 13),
    ("Décision", 14), ("Motif ou questions", 50),
)  # fmt: skip
COL_NUMERO, COL_AVIS, COL_DECISION, COL_MOTIF = 0, 11, 12, 13
"""Positions in ``COLONNES`` (used when the SA retyped the header)."""
COLONNES_EUROS = frozenset({5, 6, 7, 8})
HAUTEUR_LIGNE = 15.0
"""Points per line of wrapped 11-point text: a row is as high as its longest cell needs."""

LIGNES_MAX = 2_000
"""Rows of the decisions table read at most."""
COLONNES_MAX = 100
LIGNE_MAX = 100_000

MOTIF_ETRANGER = "ce classeur n'est pas une synthèse produite par aap pour le comité"

_TITRE = Font(bold=True, size=14, color="1F3864")
_ENTETE = Font(bold=True, color="FFFFFF")
_FOND_ENTETE = PatternFill("solid", fgColor="2F5496")


class SyntheseIllisible(Refus):
    """A synthesis that cannot be read; ``motif`` is the French reason shown to the SA."""

    def __init__(self, motif: str) -> None:
        super().__init__(motif)
        self.motif = motif


@dataclass(frozen=True)
class LigneSynthese:
    """One dossier as the comité sees it (``avis``: favorable, réservé or défavorable)."""

    numero: str
    porteur: str
    siret: str | None
    referents: str
    etp: Decimal
    cout_salarial: Decimal | None
    cout_par_etp: Decimal | None
    deplacements: Decimal | None
    total_depenses: Decimal | None
    constats: str
    avis: str
    reponse: str = ""
    """For an ajourné dossier: its answer's deadline and whether the answer came."""


@dataclass(frozen=True)
class DecisionLue:
    """One row read back: raw stripped texts (``""`` when empty); ``ligne`` is the Excel row."""

    ligne: int
    numero: str
    decision: str
    motif: str


@dataclass(frozen=True)
class SyntheseLue:
    annee: int | None
    jeton: str | None
    decisions: tuple[DecisionLue, ...]


# --------------------------------------------------------------------------- writing


def write_synthese(
    path: Path,
    *,
    annee: int,
    titre: str,
    comite_le: date,
    referents_voulus: int,
    lignes: list[LigneSynthese],
    jeton: str,
) -> Path:
    """Write the synthesis for the comité of ``comite_le`` to ``path`` (0o600, atomically)."""
    entete_texte = f"Comité de pilotage du {format_date(comite_le)} — appel à projets {annee}"
    largeurs = {get_column_letter(j): largeur for j, (_, largeur) in enumerate(COLONNES, start=1)}
    wb, ws = create_form_workbook(SHEET_TITLE, entete_texte, largeurs, quadrillage=True)

    _ligne_texte(ws, 1, entete_texte, font=_TITRE)
    _ligne_texte(ws, 2, titre, font=Font(bold=True))
    _ligne_texte(ws, 3, (
        "Pour chaque dossier, choisissez la décision dans la liste (Retenu, Non retenu, "
        "Ajourné) et notez le motif ou les questions complémentaires, dans les cellules sur "
        "fond jaune. Laissez vide la décision d'un dossier ajourné qui peut encore répondre "
        "(colonne « Réponse aux questions »). Ne renommez pas la feuille : ce classeur est relu "
        "automatiquement."
    ), font=Font(italic=True))  # fmt: skip

    entete = 5
    for j, (intitule, _) in enumerate(COLONNES, start=1):
        cell = ws.cell(row=entete, column=j)
        set_valeur(cell, intitule)
        cell.font, cell.fill, cell.border = _ENTETE, _FOND_ENTETE, CADRE
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[entete].height = HAUTEUR_LIGNE * max(
        _lignes_affichees(intitule, largeur, gras=True) for intitule, largeur in COLONNES
    )
    for i, ligne in enumerate(lignes, start=entete + 1):
        _ligne_dossier(ws, i, ligne)
    derniere = entete + len(lignes)
    fin_colonnes = get_column_letter(len(COLONNES))

    ws.freeze_panes = ws.cell(row=entete + 1, column=3).coordinate
    ws.auto_filter.ref = f"A{entete}:{fin_colonnes}{max(derniere, entete + 1)}"
    if lignes:
        _liste_decisions(ws, entete + 1, derniere)
        _couleurs_avis(ws, entete + 1, derniere)
    _couverture(ws, derniere + 2, lignes, referents_voulus)

    define_name(wb, NOM_DECISIONS, SHEET_TITLE, f"$A${entete}:${fin_colonnes}${derniere}")
    _feuille_technique(wb, annee, jeton)

    ws.print_title_rows = f"{entete}:{entete}"
    set_print_layout(ws, "landscape")
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    premiere_saisie = ws.cell(row=entete + 1, column=COL_DECISION + 1).coordinate
    for selection in ws.sheet_view.selection:
        if selection.pane == "bottomRight":
            selection.activeCell = selection.sqref = premiere_saisie
    return save_classeur(wb, path)


def _ligne_texte(ws, row: int, texte: str, *, font: Font) -> None:
    write_line(
        ws, row, texte, colonnes=len(COLONNES), alignment=Alignment(wrap_text=True, vertical="center"),
        font=font, hauteur=3 * HAUTEUR_LIGNE if row == 3 else 20,
    )  # fmt: skip


def _ligne_dossier(ws, row: int, ligne: LigneSynthese) -> None:
    valeurs = (
        ligne.numero, ligne.porteur, ligne.siret, ligne.referents, ligne.etp,
        ligne.cout_salarial, ligne.cout_par_etp, ligne.deplacements, ligne.total_depenses,
        ligne.constats, ligne.reponse, ligne.avis, None, None,
    )  # fmt: skip
    for j, valeur in enumerate(valeurs):
        cell = ws.cell(row=row, column=j + 1)
        set_valeur(cell, valeur, "euros" if j in COLONNES_EUROS else "texte")
        cell.border = CADRE
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    textes = [(str(v), COLONNES[j][1]) for j, v in enumerate(valeurs) if isinstance(v, str)]
    ws.row_dimensions[row].height = HAUTEUR_LIGNE * max(
        [_lignes_affichees(texte, largeur) for texte, largeur in textes] or [1]
    )
    for j in (COL_DECISION, COL_MOTIF):
        cell = ws.cell(row=row, column=j + 1)
        cell.fill = FOND_SAISIE
        cell.protection = Protection(locked=False)
        cell.number_format = "@"


def _lignes_affichees(texte: str, largeur: float, *, gras: bool = False) -> int:
    """How many lines ``texte`` takes in a wrapped cell ``largeur`` characters wide (words kept whole).

    A column's width counts digits; an average letter of text is narrower (about 1.1 per digit, a little
    less than seen in LibreOffice, to keep a margin), a bold one wider (about 0.75)."""
    par_ligne = max(1, int(largeur * (0.75 if gras else 1.1)))
    total = 0
    for paragraphe in texte.split("\n"):
        lignes, courante = 1, 0
        for mot in paragraphe.split():
            if courante and courante + 1 + len(mot) > par_ligne:
                lignes, courante = lignes + 1, 0
            courante += (1 if courante else 0) + len(mot)
            while courante > par_ligne:  # a word longer than the line breaks anywhere
                lignes, courante = lignes + 1, courante - par_ligne
        total += lignes
    return max(1, total)


def _liste_decisions(ws, premiere: int, derniere: int) -> None:
    """The Décision drop-down: exactly ``DECISIONS``, anything else refused in French."""
    colonne = get_column_letter(COL_DECISION + 1)
    liste = DataValidation(
        type="list", formula1='"' + ",".join(DECISIONS) + '"', allow_blank=True,
        showErrorMessage=True, errorStyle="stop", errorTitle="Décision",
        error="Choisissez la décision dans la liste : " + ", ".join(DECISIONS) + ".",
        showInputMessage=True, promptTitle="Décision du comité",
        prompt="Retenu, Non retenu ou Ajourné (avec les questions dans la colonne suivante).",
    )  # fmt: skip
    liste.add(f"{colonne}{premiere}:{colonne}{derniere}")
    ws.add_data_validation(liste)


def _couleurs_avis(ws, premiere: int, derniere: int) -> None:
    colonne = get_column_letter(COL_AVIS + 1)
    for avis, couleur in AVIS_COULEURS.items():
        ws.conditional_formatting.add(
            f"{colonne}{premiere}:{colonne}{derniere}",
            CellIsRule(operator="equal", formula=[f'"{avis}"'], fill=PatternFill("solid", bgColor=couleur)),
        )


def _couverture(ws, row: int, lignes: list[LigneSynthese], referents_voulus: int) -> None:
    """How many of the wanted ETP the favourable opinions cover, and the total proposed."""
    favorables = sum((ligne.etp for ligne in lignes if ligne.avis == "favorable"), Decimal(0))
    total = sum((ligne.etp for ligne in lignes), Decimal(0))
    textes = (
        f"ETP proposés avec un avis favorable : {format_decimal_fr(favorables)} "
        f"sur {referents_voulus} voulus",
        f"ETP proposés au total : {format_decimal_fr(total)}",
    )
    for i, texte in enumerate(textes):
        cell = ws.cell(row=row + i, column=1)
        set_valeur(cell, texte)
        cell.font = Font(bold=True)


def _feuille_technique(wb: Workbook, annee: int, jeton: str) -> None:
    """The hidden sheet ``aap``: the call's year and the token that ties the file to aap."""
    write_technical_sheet(
        wb, SHEET_TECHNIQUE, (("Année de l'appel", annee, NOM_ANNEE), ("Jeton", jeton, NOM_JETON)),
        largeurs={"A": 20, "B": 40},
    )


# --------------------------------------------------------------------------- reading


def read_synthese(path: Path | bytes) -> SyntheseLue:
    """Read the decisions typed into a synthesis; raise ``SyntheseIllisible`` if it cannot be read."""
    data, nom = read_source(path, None, "synthese.xlsx")
    with open_hostile_workbook(data, nom, erreur=SyntheseIllisible) as wb:
        zones = _zones(wb)
        annee = _annee(_cellule(wb, zones[NOM_ANNEE]))
        jeton = _texte_de(_cellule(wb, zones[NOM_JETON])) or None
        decisions = _decisions(wb, zones[NOM_DECISIONS])
    return SyntheseLue(annee=annee, jeton=jeton, decisions=decisions)


def _zones(wb) -> dict[str, Zone]:
    """The three defined names, each resolved to (sheet, bounds) and bounded."""
    zones: dict[str, Zone] = {}
    absentes, invalides = [], []
    for name in (NOM_ANNEE, NOM_JETON, NOM_DECISIONS):
        try:
            zone: Zone | None = find_zone(wb, name, sheet_scoped=False)
        except KeyError:
            absentes.append(name)
            continue
        except Exception:
            zone = None
        if zone is None or zone[1][1] > LIGNE_MAX or zone[1][2] > COLONNES_MAX:
            invalides.append(name)
        else:
            zones[name] = zone
    if absentes:
        raise SyntheseIllisible(f"{MOTIF_ETRANGER} : zones nommées absentes : " + ", ".join(absentes))
    if invalides:
        raise SyntheseIllisible(
            "la synthèse du comité a été modifiée : zones nommées invalides : " + ", ".join(invalides)
        )
    return zones


def _cellule(wb, zone: Zone) -> Any:
    feuille, (col, row, _, _) = zone
    for ligne in wb[feuille].iter_rows(min_row=row, max_row=row, min_col=col, max_col=col, values_only=True):
        return ligne[0]
    return None


def _decisions(wb, zone: Zone) -> tuple[DecisionLue, ...]:
    """Rows under the header with a N°: their decision and motif, as stripped texts."""
    feuille, (min_col, entete, max_col, max_row) = zone
    derniere = min(max_row, entete + LIGNES_MAX)
    lignes = wb[feuille].iter_rows(
        min_row=entete, max_row=derniere, min_col=min_col, max_col=max_col, values_only=True
    )
    titres: tuple[Any, ...] | None = None
    decisions = []
    for row, valeurs in enumerate(lignes, start=entete):
        if titres is None:
            titres = valeurs
            i_numero, i_decision, i_motif = _colonnes(titres)
            continue
        numero = _texte_de(_a(valeurs, i_numero))
        if not numero:
            continue
        decisions.append(DecisionLue(
            ligne=row, numero=numero,
            decision=" ".join(_texte_de(_a(valeurs, i_decision)).split()),
            motif=_texte_de(_a(valeurs, i_motif)),
        ))  # fmt: skip
    return tuple(decisions)


def _colonnes(titres: tuple[Any, ...]) -> tuple[int, int, int]:
    """Indexes of N°, Décision and Motif: by their header, else by their place in ``COLONNES``."""
    lus = [" ".join(_texte_de(t).casefold().split()) for t in titres]
    indexes = []
    for position in (COL_NUMERO, COL_DECISION, COL_MOTIF):
        intitule = COLONNES[position][0].casefold()
        if intitule in lus:
            indexes.append(lus.index(intitule))
        elif position < len(titres):
            indexes.append(position)
        else:
            raise SyntheseIllisible(
                f"la synthèse du comité a été modifiée : colonne « {COLONNES[position][0]} » introuvable"
            )
    return indexes[0], indexes[1], indexes[2]


def _a(valeurs: tuple[Any, ...], i: int) -> Any:
    return valeurs[i] if i < len(valeurs) else None


def _annee(valeur: Any) -> int | None:
    if isinstance(valeur, bool):
        return None
    if isinstance(valeur, int):
        return valeur
    if isinstance(valeur, float) and valeur.is_integer():
        return int(valeur)
    texte = _texte_de(valeur)
    return int(texte) if len(texte) == 4 and texte.isascii() and texte.isdigit() else None


def _texte_de(valeur: Any) -> str:
    """A cell's value as stripped text, with the time of a date when it is not midnight."""
    return text_of(valeur, avec_heure=True)


# --------------------------------------------------------------------------- filling (demo, tests)


def fill_decisions(path: Path, choix: dict[str, tuple[str, str]], out: Path | None = None) -> Path:
    """Type decisions into a synthesis as the SA does in the meeting: ``{numero: (décision, motif)}``."""
    wb = load_workbook(path)
    feuille, (min_col, entete, _, max_row) = _zones(wb)[NOM_DECISIONS]
    ws = wb[feuille]
    titres = tuple(c.value for c in ws[entete][min_col - 1:])
    i_numero, i_decision, i_motif = _colonnes(titres)
    for row in range(entete + 1, max_row + 1):
        numero = _texte_de(ws.cell(row, min_col + i_numero).value)
        if numero in choix:
            decision, motif = choix[numero]
            set_valeur(ws.cell(row, min_col + i_decision), decision)
            set_valeur(ws.cell(row, min_col + i_motif), motif)
    return save_classeur(wb, out or path)
