"""The Excel dossier de réponse: the blank form, filled samples, and hostile files."""

from __future__ import annotations

import dataclasses
import io
import re
import struct
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from babel.numbers import format_currency

from forms.dossier_reponse import (
    MONEY_NAMES,
    REFERENT_COLUMNS,
    SCALAR_NAMES,
    FormulaireIllisible,
    FormulaireReponse,
    Referent,
    fill_dossier_reponse,
    parse_decimal_fr,
    read_dossier_reponse,
    write_dossier_reponse,
)
from forms.xlsx_safety import TAILLE_DECOMPRESSEE_MAX, check_xlsx_container

PLAFOND = Decimal("44500")


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    return write_dossier_reponse(
        tmp_path_factory.mktemp("vierge") / "dossier_reponse_2018.xlsx",
        annee=2018,
        titre="Portage des référents de parcours du PLIE du bassin dijonnais",
        date_limite="7 décembre 2017 à 17 h 00",
        plafond_etp=PLAFOND,
    )


def a_formulaire(**changes) -> FormulaireReponse:
    base = FormulaireReponse(
        porteur_nom="Association Emploi Dijon",
        porteur_siret="73282932000074",
        porteur_adresse="12 rue des Forges, 21000 Dijon",
        contact_nom="Claire Morel",
        contact_email="claire.morel@example.org",
        contact_telephone="03 80 00 00 01",
        budget_salaires=Decimal("66750.00"),
        budget_deplacements=Decimal("1834.57"),
        budget_autres=None,
        ressources_fse=Decimal("34292.29"),
        ressources_plie=Decimal("34292.28"),
        ressources_autres=None,
        referents=(
            Referent("Dupont", "Marie", Decimal("1.00"), Decimal("44500.00"), "cv_dupont.pdf"),
            Referent("Nguyen", "Linh", Decimal("0.50"), Decimal("22250.00"), "cv_nguyen.pdf"),
        ),
        champs_manquants=(),
        anomalies=(),
    )
    return dataclasses.replace(base, **changes)


def a_filled_form(blank: Path, tmp_path: Path, **changes) -> Path:
    return fill_dossier_reponse(blank, tmp_path / "rempli.xlsx", a_formulaire(**changes))


def edit_cells(path: Path, scalars: dict | None = None, referents: dict | None = None) -> Path:
    """Type values into a form as a porteur would, by defined name or (ligne, colonne)."""
    wb = openpyxl.load_workbook(path)
    for name, value in (scalars or {}).items():
        ((sheet, coord),) = wb.defined_names[name].destinations
        wb[sheet][coord.replace("$", "")].value = value
    ((sheet, ref),) = wb.defined_names["referents"].destinations
    first = wb[sheet][ref.replace("$", "")][0]
    for (ligne, colonne), value in (referents or {}).items():
        header = first[REFERENT_COLUMNS.index(colonne)]
        wb[sheet].cell(row=header.row + ligne, column=header.column, value=value)
    wb.save(path)
    return path


def motif(source, filename: str = "formulaire.xlsx") -> str:
    with pytest.raises(FormulaireIllisible) as exc:
        read_dossier_reponse(source, filename=filename)
    return exc.value.motif


# --------------------------------------------------------------------------- the blank form


def test_blank_form_names_every_input_cell_at_workbook_scope(blank):
    wb = openpyxl.load_workbook(blank)
    assert set(wb.defined_names) >= {*SCALAR_NAMES, "referents"}
    assert wb.sheetnames == ["Formulaire"]
    ws = wb["Formulaire"]
    assert not ws.defined_names


def test_referents_range_is_the_header_and_twenty_rows(blank):
    wb = openpyxl.load_workbook(blank)
    ((sheet, ref),) = wb.defined_names["referents"].destinations
    rows = wb[sheet][ref.replace("$", "")]
    assert len(rows) == 21
    assert tuple(c.value for c in rows[0]) == REFERENT_COLUMNS


def test_the_porteur_sees_french_headings_and_no_field_names(blank):
    wb = openpyxl.load_workbook(blank)
    ((sheet, ref),) = wb.defined_names["referents"].destinations
    ws = wb[sheet]
    technique = ws[ref.replace("$", "")][0][0].row
    assert ws.row_dimensions[technique].hidden  # the reader's row of field names is not shown
    visible = [str(c.value) for row in ws.iter_rows() for c in row
               if c.value is not None and not ws.row_dimensions[c.row].hidden]
    assert not [v for v in visible if v in REFERENT_COLUMNS or re.fullmatch(r"[a-z]+(_[a-z]+)+", v)]
    assert {"Nom", "Prénom", "Fichier du CV"} <= set(visible)


def test_blank_form_formats_money_siret_and_validates_etp(blank):
    wb = openpyxl.load_workbook(blank)
    ws = wb["Formulaire"]

    def cell(name):
        ((_, coord),) = wb.defined_names[name].destinations
        return ws[coord.replace("$", "")]

    assert {cell(n).number_format for n in MONEY_NAMES} == {'#,##0.00 "€"'}
    assert cell("porteur_siret").number_format == "@"
    etp = [dv for dv in ws.data_validations.dataValidation if dv.type == "decimal" and dv.formula2 == "1"]
    assert len(etp) == 1 and etp[0].operator == "between"
    texts = " ".join(str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str))
    assert format_currency(PLAFOND, "EUR", locale="fr_FR") in texts
    assert "Appel à projets PLIE 2018 — Dossier de réponse" in texts
    assert "7 décembre 2017 à 17 h 00" in texts


def test_blank_form_lists_every_required_field_as_missing(blank):
    lu = read_dossier_reponse(blank)
    assert "SIRET de la structure" in lu.champs_manquants
    assert "au moins un référent de parcours (tableau des référents)" in lu.champs_manquants
    assert not [m for m in lu.champs_manquants if re.search(r"[a-z]_[a-z]|\breferents\b", m)]  # labels, not cell names
    assert not any("budget_autres" in m or "ressources_autres" in m for m in lu.champs_manquants)
    assert len(lu.champs_manquants) == len(SCALAR_NAMES) - 2 + 1
    assert lu.anomalies == ()


# --------------------------------------------------------------------------- round trip


def test_filled_form_reads_back_exactly(blank, tmp_path):
    lu = read_dossier_reponse(a_filled_form(blank, tmp_path))
    assert lu == a_formulaire()
    assert isinstance(lu.budget_deplacements, Decimal)


def test_form_read_from_bytes_equals_form_read_from_path(blank, tmp_path):
    path = a_filled_form(blank, tmp_path)
    assert read_dossier_reponse(path.read_bytes()) == read_dossier_reponse(path)


def test_etp_and_salary_typed_as_french_text_are_read_as_decimals(blank, tmp_path):
    path = edit_cells(
        a_filled_form(blank, tmp_path),
        scalars={"budget_salaires": "66 750,00 €", "ressources_fse": "34292,29"},
        referents={(2, "etp"): "0,5", (2, "salaire_charge_annuel"): "22 250 €"},
    )
    lu = read_dossier_reponse(path)
    assert lu.referents[1].etp == Decimal("0.50")
    assert lu.referents[1].salaire_charge_annuel == Decimal("22250.00")
    assert lu.budget_salaires == Decimal("66750.00")
    assert lu.ressources_fse == Decimal("34292.29")
    assert lu.anomalies == ()


def test_name_starting_with_equals_stays_text(blank, tmp_path):
    path = a_filled_form(blank, tmp_path, porteur_nom="=HYPERLINK(\"http://example.org\";\"x\")")
    assert read_dossier_reponse(path).porteur_nom == '=HYPERLINK("http://example.org";"x")'
    wb = openpyxl.load_workbook(path)
    ((_, coord),) = wb.defined_names["porteur_nom"].destinations
    coord = coord.replace("$", "")
    assert wb["Formulaire"][coord].data_type == "s"
    with zipfile.ZipFile(path) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    (xml,) = re.findall(rf'<c r="{coord}"[^>]*>.*?</c>', sheet)
    assert 't="inlineStr"' in xml and "<f>" not in xml


def test_siret_typed_as_a_number_gets_its_leading_zero_back(blank, tmp_path):
    path = edit_cells(a_filled_form(blank, tmp_path), scalars={"porteur_siret": 1234567800017})
    lu = read_dossier_reponse(path)
    assert lu.porteur_siret == "01234567800017"
    assert lu.anomalies == ()


def test_siret_with_spaces_is_compacted(blank, tmp_path):
    path = a_filled_form(blank, tmp_path, porteur_siret=" 732 829 320 00074 ")
    assert read_dossier_reponse(path).porteur_siret == "73282932000074"


def test_siret_of_the_wrong_length_is_an_anomaly(blank, tmp_path):
    lu = read_dossier_reponse(a_filled_form(blank, tmp_path, porteur_siret="7328293200007"))
    assert lu.anomalies == ("SIRET de la structure illisible : « 7328293200007 » (14 chiffres attendus)",)


# --------------------------------------------------------------------------- what the porteur left out


def test_unreadable_amount_is_an_anomaly_not_a_missing_field(blank, tmp_path):
    path = edit_cells(a_filled_form(blank, tmp_path), scalars={"budget_deplacements": "beaucoup"})
    lu = read_dossier_reponse(path)
    assert lu.budget_deplacements is None
    assert lu.anomalies == ("Montant illisible pour Frais de déplacement : « beaucoup »",)
    assert lu.champs_manquants == ()


def test_empty_required_fields_are_listed_in_french(blank, tmp_path):
    lu = read_dossier_reponse(
        a_filled_form(blank, tmp_path, porteur_siret="", budget_deplacements=None, contact_email="   ")
    )
    assert lu.champs_manquants == (
        "SIRET de la structure",
        "Courriel de la personne à contacter",
        "Frais de déplacement",
    )
    assert lu.contact_email == ""


def test_referent_rows_skip_blanks_and_name_incomplete_or_unreadable_lines(blank, tmp_path):
    path = edit_cells(
        a_filled_form(blank, tmp_path),
        referents={(2, "etp"): "abc", (5, "nom"): "Durand", (5, "etp"): 0.8},
    )
    lu = read_dossier_reponse(path)
    assert [r.nom for r in lu.referents] == ["Dupont", "Nguyen", "Durand"]
    assert lu.referents[1].etp is None
    assert lu.referents[2] == Referent("Durand", "", Decimal("0.80"), None, "")
    assert lu.anomalies == (
        "ETP de la ligne 2 illisible : « abc »",
        "Référent de la ligne 5 incomplet, à compléter : prénom, salaire chargé annuel, fichier du CV",
    )


def test_referent_columns_are_found_by_their_header(blank, tmp_path):
    dupont = Referent("Dupont", "Marie", Decimal("1.00"), Decimal("44500.00"), "cv_dupont.pdf")
    path = edit_cells(
        a_filled_form(blank, tmp_path, referents=(dupont,)),
        referents={(0, "nom"): "prenom", (0, "prenom"): "nom", (1, "nom"): "Marie", (1, "prenom"): "Dupont"},
    )
    assert read_dossier_reponse(path).referents == (dupont,)


def test_form_without_referent_asks_for_one(blank, tmp_path):
    lu = read_dossier_reponse(a_filled_form(blank, tmp_path, referents=()))
    assert lu.champs_manquants == ("au moins un référent de parcours (tableau des référents)",)


def test_more_referents_than_table_rows_cannot_be_filled(blank, tmp_path):
    trop = tuple(Referent(f"Nom{i}", "P", Decimal("1"), PLAFOND, "cv.pdf") for i in range(21))
    with pytest.raises(ValueError):
        a_filled_form(blank, tmp_path, referents=trop)


# --------------------------------------------------------------------------- French numbers


@pytest.mark.parametrize(
    ("texte", "attendu"),
    [
        (format_currency(Decimal("44500"), "EUR", locale="fr_FR"), "44500.00"),
        ("44 500,00 €", "44500.00"),
        ("44500,5", "44500.50"),
        ("44.500", "44500.00"),
        ("1.234.567,89 €", "1234567.89"),
        ("44,500.00", "44500.00"),
        ("44500.5", "44500.50"),
        ("1 200 euros", "1200.00"),
        ("0,125", "0.13"),
        (44500.5, "44500.50"),
        (22250, "22250.00"),
    ],
)
def test_french_money_is_read_as_exact_decimal(texte, attendu):
    assert parse_decimal_fr(texte) == Decimal(attendu)


@pytest.mark.parametrize("texte", ["abc", "1,2,3", "12 000 € environ", "", True, "NaN", "1e400"])
def test_unreadable_money_is_refused(texte):
    with pytest.raises(ValueError):
        parse_decimal_fr(texte)


@pytest.mark.parametrize(("texte", "attendu"), [("0,5", "0.50"), ("0.5 ETP", "0.50"), ("80 %", "0.80"), (1, "1.00")])
def test_etp_accepts_french_forms(texte, attendu):
    assert parse_decimal_fr(texte, etp=True) == Decimal(attendu)


# --------------------------------------------------------------------------- hostile files


def test_random_bytes_are_not_a_workbook():
    assert motif(b"ceci n'est pas un classeur") == (
        "le fichier n'est pas un classeur Excel valide (fichier corrompu ou tronqué)"
    )


def test_truncated_workbook_is_refused(blank, tmp_path):
    data = a_filled_form(blank, tmp_path).read_bytes()
    assert "tronqué" in motif(data[: len(data) // 2])


def test_zip_that_is_not_a_workbook_is_unreadable():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("notes.txt", "bonjour")
    assert motif(buf.getvalue()).startswith("le formulaire ne peut pas être lu : ")


def test_workbook_with_vba_project_is_refused(blank, tmp_path):
    path = a_filled_form(blank, tmp_path)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/vbaProject.bin", b"\x00" * 64)
    expected = "classeur avec macros (.xlsm) refusé : enregistrez-le au format .xlsx sans macros"
    assert motif(path) == expected
    assert motif(path.read_bytes(), filename="dossier.xlsx") == expected


def test_xlsm_file_name_is_refused_even_without_vba(blank, tmp_path):
    data = a_filled_form(blank, tmp_path).read_bytes()
    assert "macros" in motif(data, filename="Dossier PLIE.XLSM")


def test_password_protected_or_old_excel_file_is_refused():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    reason = motif(ole, filename="dossier.xlsx")
    assert "mot de passe" in reason and ".xls" in reason


def _zip_bomb(taille: int, membres: tuple[str, ...] = ("xl/worksheets/sheet1.xml",)) -> bytes:
    """Each member holds ``taille`` bytes of highly compressible XML."""
    bloc = b"<row/>" * (64 * 1024 // 6)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        for membre in membres:
            with z.open(membre, "w", force_zip64=True) as f:
                for _ in range(taille // len(bloc)):
                    f.write(bloc)
    return buf.getvalue()


def _spoil_compressed_data(data: bytes, membre: str) -> bytes:
    """Overwrite a member's compressed bytes: any attempt to inflate it would now fail."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(membre)
    nom_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    debut = info.header_offset + 30 + nom_len + extra_len + 64
    abime = bytearray(data)
    abime[debut : debut + 512] = b"\xff" * 512
    return bytes(abime)


BOMBE = "fichier refusé : contenu compressé anormalement volumineux (archive piégée ?)"


def test_huge_member_is_refused_from_the_directory_without_inflating():
    taille = TAILLE_DECOMPRESSEE_MAX + 1024 * 1024
    bombe = _spoil_compressed_data(_zip_bomb(taille), "xl/worksheets/sheet1.xml")
    assert len(bombe) < 1024 * 1024
    assert motif(bombe) == BOMBE


def test_parts_adding_up_past_the_limit_are_refused():
    membres = tuple(f"xl/worksheets/sheet{i}.xml" for i in range(TAILLE_DECOMPRESSEE_MAX // (1024 * 1024) + 1))
    bombe = _spoil_compressed_data(_zip_bomb(1024 * 1024, membres), membres[-1])
    assert motif(bombe) == BOMBE


def test_highly_compressed_member_is_refused_below_the_total_limit():
    assert motif(_zip_bomb(4 * 1024 * 1024, ("xl/sharedStrings.xml",))) == BOMBE


def test_small_highly_compressed_parts_are_normal():
    check_xlsx_container(_zip_bomb(512 * 1024), "formulaire.xlsx")


@pytest.mark.parametrize("partie", ["xl/workbook.xml", "xl/worksheets/sheet1.xml"])
def test_xml_entity_expansion_is_refused(blank, tmp_path, partie):
    entites = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    with zipfile.ZipFile(a_filled_form(blank, tmp_path)) as source:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as piege:
            for info in source.infolist():
                xml = source.read(info.filename)
                if info.filename == partie:
                    texte = xml.decode().replace("?>", "?>" + entites, 1)
                    xml = re.sub(r"(<(sheets|sheetData)>)", r"\1&b;", texte, count=1).encode()
                piege.writestr(info, xml)
    assert motif(buf.getvalue()).startswith("le formulaire ne peut pas être lu : ")


def test_other_workbook_is_not_the_dossier_de_reponse(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Budget"
    wb.save(tmp_path / "budget.xlsx")
    reason = motif(tmp_path / "budget.xlsx")
    assert reason.startswith("ce fichier n'est pas le dossier de réponse de l'appel : zones nommées absentes : ")
    assert "porteur_siret" in reason and "referents" in reason


def test_form_with_a_deleted_named_cell_is_refused(blank, tmp_path):
    path = a_filled_form(blank, tmp_path)
    wb = openpyxl.load_workbook(path)
    del wb.defined_names["contact_email"]
    wb.save(path)
    assert motif(path).endswith("zones nommées absentes : contact_email")


# --------------------------------------------------------------------------- cells that hide (issue 8, §4)


def test_a_field_resolving_to_a_hidden_sheet_is_read_and_flagged(blank, tmp_path):
    path = a_filled_form(blank, tmp_path)
    wb = openpyxl.load_workbook(path)
    cache = wb.create_sheet("Cache")
    cache.sheet_state = "hidden"
    cache["A1"] = "Structure fantôme"
    wb.defined_names["porteur_nom"].attr_text = "'Cache'!$A$1"
    wb.save(path)

    lu = read_dossier_reponse(path)

    assert lu.porteur_nom == "Structure fantôme"
    assert ("Nom de la structure lu sur la feuille masquée « Cache » : valeur conservée, à vérifier"
            in lu.anomalies)


def test_the_blank_form_itself_has_no_hidden_field(blank, tmp_path):
    assert not [a for a in read_dossier_reponse(a_filled_form(blank, tmp_path)).anomalies if "masquée" in a]


def test_referents_typed_below_the_table_are_flagged_not_silently_dropped(blank, tmp_path):
    path = a_filled_form(blank, tmp_path)
    wb = openpyxl.load_workbook(path)
    ((sheet, ref),) = wb.defined_names["referents"].destinations
    last = wb[sheet][ref.replace("$", "")][-1][0].row
    wb[sheet].cell(row=last + 2, column=2, value="Martin")
    wb[sheet].cell(row=last + 3, column=3, value="Paul")
    wb.save(path)

    lu = read_dossier_reponse(path)

    assert [r.nom for r in lu.referents] == ["Dupont", "Nguyen"]
    assert (f"des valeurs sont saisies sous le tableau des référents (lignes {last + 2} à {last + 3} de la feuille) : "
            "elles ne sont pas lues ; insérez ces référents à l'intérieur du tableau et renvoyez le formulaire"
            in lu.anomalies)
