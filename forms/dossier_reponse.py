"""The Excel *dossier de réponse*: write the blank form, fill samples, read answers.

Every input cell carries a workbook-scoped defined name (``SCALAR_NAMES`` and
``referents``), so reading never depends on where the cells sit on the sheet.
Reading treats the file as hostile: container checks first
(``forms.xlsx_safety``), then openpyxl in read-only mode, one pass per sheet.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from babel.numbers import format_currency
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
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
    write_value,
)
from forms.reponse import FormulaireReponse, Referent
from forms.xlsx_safety import FormulaireIllisible, defines_name
from models.adresse import check_address
from models.siret import normalize_siret
from models.texte import without_format_characters

__all__ = [
    "MONEY_NAMES",
    "REFERENT_COLUMNS",
    "SCALAR_NAMES",
    "FormulaireIllisible",
    "FormulaireReponse",
    "Referent",
    "fill_dossier_reponse",
    "parse_decimal_fr",
    "read_dossier_reponse",
    "write_dossier_reponse",
]

REFERENT_COLUMNS = ("nom", "prenom", "etp", "salaire_charge_annuel", "cv_fichier")
SCALAR_NAMES = (
    "porteur_nom", "porteur_siret", "porteur_adresse",
    "contact_nom", "contact_email", "contact_telephone",
    "budget_salaires", "budget_deplacements", "budget_autres",
    "ressources_fse", "ressources_plie", "ressources_autres",
)  # fmt: skip
MONEY_NAMES = tuple(n for n in SCALAR_NAMES if n.startswith(("budget_", "ressources_")))
OPTIONAL_NAMES = ("budget_autres", "ressources_autres")
REFERENTS_NAME = "referents"
SHEET_TITLE = "Formulaire"

LIBELLES = {
    "porteur_nom": "Nom de la structure",
    "porteur_siret": "SIRET de la structure",
    "porteur_adresse": "Adresse postale de la structure",
    "contact_nom": "Nom et prénom de la personne à contacter",
    "contact_email": "Courriel de la personne à contacter",
    "contact_telephone": "Téléphone de la personne à contacter",
    "budget_salaires": "Salaires chargés des référents",
    "budget_deplacements": "Frais de déplacement",
    "budget_autres": "Autres dépenses",
    "ressources_fse": "Cofinancement FSE sollicité",
    "ressources_plie": "Financement PLIE sollicité",
    "ressources_autres": "Autres ressources",
}
LIBELLES_REFERENT = {
    "nom": "nom",
    "prenom": "prénom",
    "etp": "ETP",
    "salaire_charge_annuel": "salaire chargé annuel",
    "cv_fichier": "fichier du CV",
}
MANQUE_REFERENT = "au moins un référent de parcours (tableau des référents)"

LIGNE_MAX = 10_000
"""Defined names pointing below this row are refused (bounds the read)."""
COLONNE_MAX = 100
REFERENTS_LIGNES_MAX = 200
"""Rows of the référents table read at most (a porteur may insert rows in it)."""
SOUS_TABLEAU_LIGNES = 50
"""Rows read under the référents table, to tell the SA of référents typed there."""
_SOUS_REFERENTS = "_sous_referents"
MONTANT_MAX = Decimal(10) ** 12
CENTIME = Decimal("0.01")
FORMAT_EURO = '#,##0.00 "€"'


# --------------------------------------------------------------------------- writing

_FOND_TOTAL = PatternFill("solid", fgColor="E7E6E6")
_TECHNIQUE = Font(italic=True, size=8, color="808080")
_LARGEURS = {"A": 6, "B": 36, "C": 22, "D": 14, "E": 24, "F": 34}
_COLONNES = len(_LARGEURS)

_RUBRIQUES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("1. La structure porteuse", (
        ("porteur_nom", "Nom de la structure"),
        ("porteur_siret", "SIRET (14 chiffres)"),
        ("porteur_adresse", "Adresse postale"),
    )),
    ("2. La personne à contacter", (
        ("contact_nom", "Nom et prénom"),
        ("contact_email", "Courriel"),
        ("contact_telephone", "Téléphone"),
    )),
)  # fmt: skip
_DEPENSES = (
    ("budget_salaires", "Salaires chargés des référents"),
    ("budget_deplacements", "Frais de déplacement (rencontres avec les entreprises)"),
    ("budget_autres", "Autres dépenses (facultatif)"),
)
_RESSOURCES = (
    ("ressources_fse", "Cofinancement FSE sollicité"),
    ("ressources_plie", "Financement PLIE sollicité"),
    ("ressources_autres", "Autres ressources (facultatif)"),
)


def write_dossier_reponse(
    path: Path,
    *,
    annee: int,
    titre: str,
    date_limite: str,
    plafond_etp: Decimal,
    lignes_referents: int = 20,
) -> Path:
    """Write the blank form for one call to ``path`` and return it."""
    entete = f"Appel à projets PLIE {annee} — Dossier de réponse"
    wb, ws = create_form_workbook(SHEET_TITLE, entete, _LARGEURS)

    _texte(ws, 1, entete, font=TITRE, hauteur=24)
    _texte(ws, 2, titre, font=Font(bold=True, size=12))
    _texte(ws, 3, f"Date limite de réponse : {date_limite}, par courriel et par voie postale.",
           font=Font(bold=True, color="C00000"))
    _texte(ws, 5, "Mode d'emploi", font=GRAS)
    consignes = (
        "Complétez les cellules sur fond jaune. Ne renommez pas la feuille et ne déplacez "
        "pas les cellules : le formulaire est lu automatiquement.",
        "Enregistrez le fichier au format Excel .xlsx (sans macros, sans mot de passe) et "
        "joignez-le à votre réponse, avec le CV de chaque référent proposé.",
        "Les montants sont en euros. Les ETP s'écrivent en nombre décimal : 1 pour un temps "
        "plein, 0,5 pour un mi-temps.",
    )
    for i, consigne in enumerate(consignes):
        _texte(ws, 6 + i, f"• {consigne}", hauteur=30)

    row = 10
    for intitule, champs in _RUBRIQUES:
        row = _section(ws, row, intitule)
        for name, libelle in champs:
            _saisie(wb, ws, row, name, libelle, number_format="@")
            row += 1
        row += 1

    row = _section(ws, row, f"3. Budget prévisionnel de l'action {annee} (en euros)")
    for bloc, total in ((_DEPENSES, "Total des dépenses"), (_RESSOURCES, "Total des ressources")):
        debut = row
        for name, libelle in bloc:
            _saisie(wb, ws, row, name, libelle, number_format=FORMAT_EURO)
            row += 1
        _total(ws, row, total, f"=SUM(C{debut}:C{row - 1})")
        row += 1
    plafond = format_currency(plafond_etp, "EUR", locale="fr_FR")
    demi = format_currency(plafond_etp / 2, "EUR", locale="fr_FR")
    _texte(ws, row, (
        f"Plafond : le coût salarial chargé d'un référent ne doit pas dépasser {plafond} "
        f"par ETP (au prorata pour un temps partiel : 0,5 ETP → {demi}). Le budget doit "
        "inclure des frais de déplacement pour les rencontres avec les entreprises."
    ), hauteur=45, font=Font(italic=True))
    row += 2

    row = _section(ws, row, "4. Les référents de parcours proposés")
    _texte(ws, row, (
        "Une ligne par salarié proposé. Joignez son CV à votre réponse et indiquez dans la "
        "dernière colonne le nom du fichier joint (par exemple cv_dupont.pdf). "
        "Besoin de plus de lignes ? Insérez-les à l'intérieur du tableau."
    ), hauteur=30)
    row += 1
    _tableau_referents(wb, ws, row, lignes_referents)
    set_print_layout(ws, "portrait")
    ws.sheet_view.selection[0].activeCell = ws.sheet_view.selection[0].sqref = "C11"

    path = Path(path)
    wb.save(path)
    return path


def _texte(ws, row: int, valeur: str, *, font: Font | None = None, hauteur: float | None = None) -> None:
    """One line of text across the form's width."""
    write_line(ws, row, valeur, colonnes=_COLONNES, alignment=RETOUR, font=font, hauteur=hauteur, nettoyer=False)


def _section(ws, row: int, intitule: str) -> int:
    return write_section(ws, row, intitule, colonnes=_COLONNES, alignment=RETOUR, nettoyer=False)


def _saisie(wb: Workbook, ws, row: int, name: str, libelle: str, *, number_format: str) -> None:
    """A label in A:B and a named input cell in C (merged over C:F)."""
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    ws.cell(row=row, column=1, value=libelle).alignment = Alignment(vertical="center", wrap_text=True)
    ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=6)
    for col in range(3, 7):
        ws.cell(row=row, column=col).border = CADRE
    cell = ws.cell(row=row, column=3)
    cell.fill = FOND_SAISIE
    cell.number_format = number_format
    cell.alignment = Alignment(horizontal="left", vertical="center")
    ws.row_dimensions[row].height = 18
    _nommer(wb, name, f"$C${row}")


def _total(ws, row: int, libelle: str, formule: str) -> None:
    ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=2)
    ws.cell(row=row, column=1, value=libelle).font = GRAS
    ws.merge_cells(start_row=row, start_column=3, end_row=row, end_column=6)
    cell = ws.cell(row=row, column=3, value=formule)
    cell.font = GRAS
    cell.fill = _FOND_TOTAL
    cell.number_format = FORMAT_EURO
    cell.alignment = Alignment(horizontal="left")


def _tableau_referents(wb: Workbook, ws, row: int, lignes: int) -> None:
    """French headings, then the named range: technical header (hidden) + empty rows."""
    intitules = ("N°", "Nom", "Prénom", "ETP (ex. 0,5)", "Salaire chargé annuel", "Fichier du CV")
    for col, intitule in enumerate(intitules, start=1):
        cell = ws.cell(row=row, column=col, value=intitule)
        cell.font, cell.fill, cell.border = GRAS, _FOND_TOTAL, CADRE
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    entete = row + 1
    for col, name in enumerate(REFERENT_COLUMNS, start=2):
        cell = ws.cell(row=entete, column=col, value=name)
        cell.font, cell.alignment = _TECHNIQUE, Alignment(horizontal="center")
    ws.row_dimensions[entete].hidden = True  # the field names are for the reader, not for the porteur
    formats = ("@", "@", "0.00", FORMAT_EURO, "@")
    premiere, derniere = entete + 1, entete + lignes
    write_input_rows(ws, entete, derniere, formats)
    _nommer(wb, REFERENTS_NAME, f"$B${entete}:$F${derniere}")
    etp = DataValidation(
        type="decimal", operator="between", formula1="0.01", formula2="1", allow_blank=True,
        showErrorMessage=True, errorTitle="ETP",
        error="L'ETP est un nombre décimal supérieur à 0 et au plus égal à 1 (par exemple 0,5).",
    )  # fmt: skip
    etp.add(f"D{premiere}:D{derniere}")
    salaire = DataValidation(
        type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
        showErrorMessage=True, errorTitle="Salaire", error="Le salaire est un montant positif, en euros.",
    )  # fmt: skip
    salaire.add(f"E{premiere}:E{derniere}")
    ws.add_data_validation(etp)
    ws.add_data_validation(salaire)


def _nommer(wb: Workbook, name: str, reference: str) -> None:
    define_name(wb, name, SHEET_TITLE, reference)


# --------------------------------------------------------------------------- filling


def fill_dossier_reponse(blank: Path, out: Path, data: FormulaireReponse) -> Path:
    """Write ``data`` into a copy of the blank form (samples for demo, tests, bench)."""
    wb = load_workbook(blank)
    zones = {name: find_zone(wb, name) for name in (*SCALAR_NAMES, REFERENTS_NAME)}
    for name in SCALAR_NAMES:
        feuille, (col, row, _, _) = zones[name]
        write_value(wb[feuille].cell(row=row, column=col), getattr(data, name))
    feuille, (col, row, _, derniere) = zones[REFERENTS_NAME]
    if len(data.referents) > derniere - row:
        raise ValueError(f"{len(data.referents)} référents pour {derniere - row} lignes de tableau")
    ws = wb[feuille]
    for i, referent in enumerate(data.referents, start=1):
        for j, champ in enumerate(REFERENT_COLUMNS):
            write_value(ws.cell(row=row + i, column=col + j), getattr(referent, champ))
    out = Path(out)
    wb.save(out)
    return out


# --------------------------------------------------------------------------- reading


def is_response_form(data: bytes) -> bool:
    """Whether ``data`` is a workbook defining the dossier de réponse's ``porteur_siret`` (cheap, safe)."""
    return defines_name(data, "porteur_siret")


def read_dossier_reponse(source: Path | bytes, *, filename: str | None = None) -> FormulaireReponse:
    """Read a porteur's form; raise ``FormulaireIllisible`` when it cannot be read at all.

    ``filename`` is the name the porteur gave the file (defaults to the path's name).
    """
    data, nom = read_source(source, filename, "formulaire.xlsx")
    with open_hostile_workbook(data, nom) as wb:
        zones = _zones_lues(wb)
        masquees = {n: f for n, (f, _) in zones.items() if getattr(wb[f], "sheet_state", "visible") != "visible"}
        dessous = _below(zones[REFERENTS_NAME])
        valeurs = read_cells(wb, {**zones, _SOUS_REFERENTS: dessous},
                             {REFERENTS_NAME: REFERENTS_LIGNES_MAX, _SOUS_REFERENTS: SOUS_TABLEAU_LIGNES})
    form = _formulaire(zones, valeurs)
    return replace(form, anomalies=(*form.anomalies, *_hidden_fields(masquees), *_typed_below(dessous, valeurs)))


def _below(zone: Zone) -> Zone:
    """The rows under the référents table (as far as it is read), same columns."""
    feuille, (min_col, entete, max_col, max_row) = zone
    fin = min(max_row, entete + REFERENTS_LIGNES_MAX)
    return feuille, (min_col, fin + 1, max_col, fin + SOUS_TABLEAU_LIGNES)


def _hidden_fields(masquees: dict[str, str]) -> list[str]:
    """One anomaly per field read from a hidden sheet: its value is kept, the SA checks it."""
    return [
        f"{LIBELLES.get(name, 'Tableau des référents')} lu sur la feuille masquée « {preview(feuille)} » : "
        "valeur conservée, à vérifier"
        for name, feuille in masquees.items()
    ]


def _typed_below(zone: Zone, valeurs: Valeurs) -> list[str]:
    """An anomaly when something is typed under the référents table: it is not read as a référent."""
    feuille, (min_col, premiere, max_col, derniere) = zone
    lignes = sorted({r for (f, r, c) in valeurs if f == feuille and premiere <= r <= derniere and min_col <= c <= max_col
                     and not is_empty(valeurs[(f, r, c)])})
    if not lignes:
        return []
    return [f"des valeurs sont saisies sous le tableau des référents (lignes {lignes[0]} à {lignes[-1]} de la feuille) : "
            "elles ne sont pas lues ; insérez ces référents à l'intérieur du tableau et renvoyez le formulaire"]


def _zones_lues(wb) -> dict[str, Zone]:
    """Every defined name the reader needs, checked and bounded."""
    return check_zones(
        wb, {**dict.fromkeys(SCALAR_NAMES, 1), REFERENTS_NAME: len(REFERENT_COLUMNS)},
        ligne_max=LIGNE_MAX, colonne_max=COLONNE_MAX,
        motif_absentes="ce fichier n'est pas le dossier de réponse de l'appel",
        motif_invalides="le dossier de réponse a été modifié",
    )  # fmt: skip


def _formulaire(zones: dict[str, Zone], valeurs: Valeurs) -> FormulaireReponse:
    manquants: list[str] = []
    anomalies: list[str] = []
    nettoyes: list[str] = []
    champs: dict[str, Any] = {}
    for name in SCALAR_NAMES:
        brut = value_of(valeurs, zones[name])
        libelle = LIBELLES[name]  # the label the porteur reads in the form, never the cell's name
        if is_empty(brut):
            champs[name] = None if name in MONEY_NAMES else ""
            if name not in OPTIONAL_NAMES:
                manquants.append(libelle)
        elif name in MONEY_NAMES:
            champs[name] = _nombre_ou_anomalie(brut, f"Montant illisible pour {libelle}", anomalies)
        elif name == "porteur_siret":
            champs[name] = _siret(brut, libelle, anomalies)
        elif name == "contact_telephone":
            champs[name] = _visible(_telephone(brut), libelle, nettoyes)
        elif name == "contact_email":
            champs[name] = _courriel(brut, libelle, anomalies)
        else:
            champs[name] = _visible(text_of(brut), libelle, nettoyes)
    referents = _referents(zones[REFERENTS_NAME], valeurs, anomalies, nettoyes)
    if not referents:
        manquants.append(MANQUE_REFERENT)
    return FormulaireReponse(
        **champs, referents=referents, champs_manquants=tuple(manquants), anomalies=tuple(anomalies),
        nettoyes=tuple(dict.fromkeys(nettoyes)),
    )


def _visible(texte: str, libelle: str, nettoyes: list[str]) -> str:
    """``texte`` without invisible format characters; ``libelle`` noted in ``nettoyes`` when some went."""
    propre = without_format_characters(texte)
    if propre != texte:
        nettoyes.append(libelle)
    return propre


def _referents(zone: Zone, valeurs: Valeurs, anomalies: list[str], nettoyes: list[str]) -> tuple[Referent, ...]:
    """One Referent per non-empty row; columns found by their header, else by order."""
    feuille, cols, rows = table_bounds(zone, REFERENTS_LIGNES_MAX)
    titres = [text_of(valeurs.get((feuille, rows[0], c))).lower() for c in cols]
    if set(REFERENT_COLUMNS) <= set(titres):
        colonnes = {champ: cols[titres.index(champ)] for champ in REFERENT_COLUMNS}
    else:  # header retyped by the porteur: trust the columns' order
        colonnes = {champ: cols[j] for j, champ in enumerate(REFERENT_COLUMNS)}
    referents = []
    for numero, brut in table_rows(valeurs, feuille, rows, colonnes):
        a_completer = [LIBELLES_REFERENT[c] for c, v in brut.items() if is_empty(v)]
        if a_completer:
            manque = ", ".join(a_completer)
            anomalies.append(f"Référent de la ligne {numero} incomplet, à compléter : {manque}")
        etp = salaire = None
        if not is_empty(brut["etp"]):
            etp = _nombre_ou_anomalie(brut["etp"], f"ETP de la ligne {numero} illisible", anomalies, etp=True)
        if not is_empty(salaire_brut := brut["salaire_charge_annuel"]):
            motif = f"Salaire chargé annuel de la ligne {numero} illisible"
            salaire = _nombre_ou_anomalie(salaire_brut, motif, anomalies)
        ligne = f"référent de la ligne {numero}"
        referents.append(Referent(
            nom=_visible(text_of(brut["nom"]), ligne, nettoyes), prenom=_visible(text_of(brut["prenom"]), ligne, nettoyes),
            etp=etp, salaire_charge_annuel=salaire, cv_fichier=_visible(text_of(brut["cv_fichier"]), ligne, nettoyes),
        ))  # fmt: skip
    return tuple(referents)


# --------------------------------------------------------------------------- cell values


def _siret(valeur: Any, libelle: str, anomalies: list[str]) -> str:
    """Digits as text (``models.siret.normalize_siret``); a number keeps its leading zeros back (14 digits)."""
    if isinstance(valeur, (int, float)) and not isinstance(valeur, bool) and float(valeur).is_integer():
        siret = str(int(valeur)).zfill(14)
    else:
        siret = normalize_siret(text_of(valeur))
    if not re.fullmatch(r"[0-9]{14}", siret):
        anomalies.append(f"{libelle} illisible : « {preview(valeur)} » (14 chiffres attendus)")
    return siret


def _courriel(valeur: Any, libelle: str, anomalies: list[str]) -> str:
    """Exactly one address, else "" and the reason: the dépôt's sender is then the contact."""
    check = check_address(text_of(valeur) if not isinstance(valeur, str) else valeur)
    if check.address is None:
        anomalies.append(f"{libelle} refusé : {check.reason} (« {preview(valeur)} ») ; "
                         "l'adresse de l'expéditeur est utilisée")
        return ""
    return check.address


def _telephone(valeur: Any) -> str:
    """A number typed in a numeric cell lost its leading 0: give it back."""
    if isinstance(valeur, (int, float)) and not isinstance(valeur, bool) and float(valeur).is_integer():
        chiffres = str(int(valeur))
        return "0" + chiffres if len(chiffres) == 9 else chiffres
    return text_of(valeur)


def _nombre_ou_anomalie(
    valeur: Any, motif: str, anomalies: list[str], *, etp: bool = False
) -> Decimal | None:
    """The number, or None with ``motif`` and the value shown recorded as an anomaly."""
    try:
        return parse_decimal_fr(valeur, etp=etp)
    except ValueError:
        anomalies.append(f"{motif} : « {preview(valeur)} »")
        return None


_UNITES = re.compile(r"(€|\beuros?\b|\beur\b|\betp\b)", re.IGNORECASE)


def parse_decimal_fr(valeur: Any, quantum: Decimal = CENTIME, *, etp: bool = False) -> Decimal:
    """A cell's number or French text (``44 500,00 €``, ``44500,5``, ``0,5``) as a Decimal.

    For money, a single dot followed by three digits is a thousands separator
    (``44.500`` is 44 500 €); for an ETP, ``50 %`` means 0.5. Raise ``ValueError``.
    """
    if isinstance(valeur, bool):
        raise ValueError(valeur)
    if isinstance(valeur, (int, float)):
        nombre = Decimal(str(valeur))
    elif isinstance(valeur, str):
        nombre = _decimal_du_texte(valeur, etp=etp)
    else:
        raise ValueError(valeur)
    if not nombre.is_finite() or abs(nombre) >= MONTANT_MAX:
        raise ValueError(valeur)
    try:
        return nombre.quantize(quantum, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ValueError(valeur) from None


def _decimal_du_texte(texte: str, *, etp: bool) -> Decimal:
    t = re.sub(r"\s", "", _UNITES.sub("", texte))
    pourcent = etp and t.endswith("%")
    t = t.removesuffix("%") if pourcent else t
    if "," in t and "." in t:
        milliers = "." if t.rfind(",") > t.rfind(".") else ","
        t = t.replace(milliers, "").replace(",", ".")
    elif "," in t:
        if t.count(",") > 1:
            raise ValueError(texte)
        t = t.replace(",", ".")
    elif not etp and re.fullmatch(r"-?\d{1,3}(\.\d{3})+", t):
        t = t.replace(".", "")
    if not re.fullmatch(r"-?\d+(\.\d+)?", t):
        raise ValueError(texte)
    nombre = Decimal(t)
    return nombre / 100 if pourcent else nombre
