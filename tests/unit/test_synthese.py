"""The comité's synthesis workbook (write, fill, read back) and the generic table writer."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from forms.synthese import (
    DECISIONS,
    DecisionLue,
    LigneSynthese,
    SyntheseIllisible,
    read_synthese,
    write_synthese,
)
from forms.tableur import Colonne, Feuille, write_tableur
from forms.xlsx_safety import MOTIF_CORROMPU, MOTIF_MACROS

FORMULE_HOSTILE = "=cmd|' /C calc'!A0"
JETON = "c0m1t3-2018-jeton"


def a_ligne(numero: str, **changes) -> LigneSynthese:
    valeurs = dict(
        numero=numero,
        porteur="Association Emploi Dijon",
        siret="73282932000074",
        referents="Sophie Durand (1 ETP) ; Karim Petit (0,5 ETP)",
        etp=Decimal("1.5"),
        cout_salarial=Decimal("66750.00"),
        cout_par_etp=Decimal("44500.00"),
        deplacements=Decimal("1834.567"),
        total_depenses=Decimal("68584.57"),
        constats="Budget conforme, frais de déplacement prévus.",
        avis="favorable",
    )
    valeurs.update(changes)
    return LigneSynthese(**valeurs)


LIGNES = [
    a_ligne("AAP-2018-0001", etp=Decimal("1")),
    a_ligne("AAP-2018-0002", porteur=FORMULE_HOSTILE, etp=Decimal("0.5"), siret=None),
    a_ligne("AAP-2018-0003", etp=Decimal("1"), avis="réservé", cout_salarial=None, constats="+33 @x -1"),
]


def write(path: Path, lignes: list[LigneSynthese] = LIGNES) -> Path:
    return write_synthese(
        path,
        annee=2018,
        titre="Portage des référents de parcours du PLIE du bassin dijonnais",
        comite_le=date(2017, 12, 11),
        referents_voulus=14,
        lignes=lignes,
        jeton=JETON,
    )


@pytest.fixture
def synthese(tmp_path) -> Path:
    return write(tmp_path / "synthese_comite_2018.xlsx")


def feuille(path: Path):
    return openpyxl.load_workbook(path)["Synthèse"]


def textes_colonne_a(path: Path) -> list[str]:
    return [c.value for c in feuille(path)["A"] if isinstance(c.value, str)]


def zone_decisions(wb) -> tuple[str, str]:
    ((nom_feuille, reference),) = wb.defined_names["aap_decisions"].destinations
    return nom_feuille, reference


# --------------------------------------------------------------------------- synthesis: writing


def test_unfilled_synthesis_reads_back_every_dossier_with_empty_decisions(synthese):
    lue = read_synthese(synthese)

    assert lue.annee == 2018
    assert lue.jeton == JETON
    assert [d.numero for d in lue.decisions] == ["AAP-2018-0001", "AAP-2018-0002", "AAP-2018-0003"]
    assert all(d.decision == "" and d.motif == "" for d in lue.decisions)
    ws = feuille(synthese)
    assert [ws.cell(row=d.ligne, column=1).value for d in lue.decisions] == [d.numero for d in lue.decisions]


def test_title_names_the_comite_date_and_the_call_year(synthese):
    assert feuille(synthese)["A1"].value == "Comité de pilotage du 11 décembre 2017 — appel à projets 2018"


def test_header_lists_the_comite_columns_and_is_frozen_with_number_and_structure(synthese):
    ws = feuille(synthese)
    header = [c.value for c in ws[5]]
    assert header == [
        "N° dossier", "Structure", "SIRET", "Référents (ETP)", "ETP", "Coût salarial",
        "Coût par ETP", "Frais de déplacement", "Total dépenses", "Constats",
        "Réponse aux questions", "Avis", "Décision", "Motif ou questions",
    ]  # fmt: skip
    assert ws.freeze_panes == "C6"
    assert ws.auto_filter.ref == "A5:N8"


def test_decision_cells_offer_exactly_the_three_decisions(synthese):
    ws = feuille(synthese)
    (validation,) = [v for v in ws.data_validations.dataValidation if v.type == "list"]

    assert validation.formula1 == '"Retenu,Non retenu,Ajourné"'
    assert validation.formula1.strip('"').split(",") == list(DECISIONS)
    assert str(validation.sqref) == "M6:M8"
    assert validation.showErrorMessage and validation.errorStyle in (None, "stop")
    assert "Choisissez la décision" in validation.error
    assert not validation.showDropDown  # in OOXML, showDropDown=1 *hides* the arrow


def test_input_cells_are_yellow_and_unlocked_on_an_unprotected_sheet(synthese):
    ws = feuille(synthese)
    for coordonnee in ("M6", "N6", "M8", "N8"):
        assert ws[coordonnee].fill.fgColor.rgb.endswith("FFF2CC")
        assert ws[coordonnee].protection.locked is False
    assert ws["B6"].fill.fgColor.rgb != ws["M6"].fill.fgColor.rgb
    assert not ws.protection.sheet


def test_money_is_a_number_in_euros_rounded_to_cents(synthese):
    ws = feuille(synthese)
    assert ws["H6"].value == pytest.approx(1834.57)
    assert ws["H6"].number_format == '#,##0.00 "€"'
    assert ws["F6"].value == 66750 and ws["F6"].number_format == '#,##0.00 "€"'
    assert ws["F8"].value is None  # cout_salarial=None stays empty
    assert ws["E7"].value == 0.5


def test_coverage_line_counts_only_favourable_etp_in_french(synthese):
    textes = textes_colonne_a(synthese)
    assert "ETP proposés avec un avis favorable : 1,5 sur 14 voulus" in textes
    assert "ETP proposés au total : 2,5" in textes


def test_coverage_with_no_favourable_opinion_is_zero(tmp_path):
    path = write(tmp_path / "s.xlsx", [a_ligne("AAP-2018-0001", avis="défavorable", etp=Decimal("0.50"))])
    textes = textes_colonne_a(path)
    assert "ETP proposés avec un avis favorable : 0 sur 14 voulus" in textes
    assert "ETP proposés au total : 0,5" in textes


def test_avis_column_is_coloured_by_opinion(synthese):
    regles = {
        regle.formula[0]: regle.dxf.fill.bgColor.rgb[-6:]
        for plage in feuille(synthese).conditional_formatting
        for regle in plage.rules
    }
    assert regles == {'"favorable"': "C6EFCE", '"réservé"': "FFEB9C", '"défavorable"': "FFC7CE"}


def test_formula_like_porteur_name_stays_text_in_the_saved_file(synthese):
    ws = feuille(synthese)
    assert ws["B7"].value == FORMULE_HOSTILE
    assert ws["B7"].data_type == "s"
    assert ws["J8"].value == "+33 @x -1" and ws["J8"].data_type == "s"
    with zipfile.ZipFile(synthese) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_year_and_token_sit_on_a_hidden_sheet_behind_defined_names(synthese):
    wb = openpyxl.load_workbook(synthese)
    assert wb["aap"].sheet_state == "hidden"
    assert wb.defined_names["aap_jeton"].attr_text == "'aap'!$B$2"
    assert wb["aap"]["B2"].value == JETON and wb["aap"]["B2"].data_type == "s"
    assert wb["aap"]["B1"].value == 2018
    assert zone_decisions(wb) == ("Synthèse", "$A$5:$N$8")


def test_synthesis_file_is_private_and_written_without_leftovers(synthese):
    assert stat.S_IMODE(synthese.stat().st_mode) == 0o600
    assert sorted(p.name for p in synthese.parent.iterdir()) == [synthese.name]


def test_synthesis_without_dossiers_still_reads(tmp_path):
    path = write(tmp_path / "vide.xlsx", [])
    lue = read_synthese(path)
    assert lue.decisions == () and lue.annee == 2018
    assert "ETP proposés avec un avis favorable : 0 sur 14 voulus" in textes_colonne_a(path)


# --------------------------------------------------------------------------- synthesis: filled and read back


def fill_with_openpyxl(path: Path, saisies: dict[str, tuple[str | None, str | None]], out: Path) -> Path:
    """What the SA does in a spreadsheet: type decisions and motifs, save."""
    wb = openpyxl.load_workbook(path)
    ws = wb["Synthèse"]
    for row in range(6, ws.max_row + 1):
        numero = ws.cell(row=row, column=1).value
        if numero in saisies:
            decision, motif = saisies[numero]
            ws.cell(row=row, column=13).value = decision
            ws.cell(row=row, column=14).value = motif
    wb.save(out)
    return out


def test_decisions_typed_and_saved_with_openpyxl_are_read_back(synthese, tmp_path):
    rempli = fill_with_openpyxl(synthese, {
        "AAP-2018-0001": ("Retenu", None),
        "AAP-2018-0002": ("  Non \t  retenu ", "  Budget hors plafond.\nÀ revoir.  "),
        "AAP-2018-0003": ("Ajourné", "Préciser les frais de déplacement ?"),
    }, tmp_path / "rempli.xlsx")  # fmt: skip

    wb = openpyxl.load_workbook(rempli)
    assert wb["aap"].sheet_state == "hidden"
    assert set(wb.defined_names) >= {"aap_annee", "aap_jeton", "aap_decisions"}
    lue = read_synthese(rempli.read_bytes())
    assert lue.annee == 2018 and lue.jeton == JETON
    assert lue.decisions == (
        DecisionLue(6, "AAP-2018-0001", "Retenu", ""),
        DecisionLue(7, "AAP-2018-0002", "Non retenu", "Budget hors plafond.\nÀ revoir."),
        DecisionLue(8, "AAP-2018-0003", "Ajourné", "Préciser les frais de déplacement ?"),
    )


def test_unknown_decisions_are_returned_as_typed_for_the_caller_to_check(synthese, tmp_path):
    rempli = fill_with_openpyxl(synthese, {"AAP-2018-0001": ("peut-être", "  à voir  ")}, tmp_path / "r.xlsx")
    (premiere, *_) = read_synthese(rempli).decisions
    assert (premiere.decision, premiere.motif) == ("peut-être", "à voir")


def test_rows_whose_number_was_erased_are_skipped(synthese, tmp_path):
    wb = openpyxl.load_workbook(synthese)
    wb["Synthèse"]["A7"].value = "   "
    wb.save(tmp_path / "r.xlsx")
    assert [d.numero for d in read_synthese(tmp_path / "r.xlsx").decisions] == ["AAP-2018-0001", "AAP-2018-0003"]


def test_round_trip_through_libreoffice_keeps_names_and_decisions(synthese, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) absent : aller-retour par LibreOffice non vérifié")
    rempli = fill_with_openpyxl(synthese, {"AAP-2018-0002": ("Retenu", "Dossier complet")}, tmp_path / "in.xlsx")
    sortie = tmp_path / "out"
    profil = tmp_path / "profil_lo"
    try:
        subprocess.run(
            [soffice, f"-env:UserInstallation={profil.as_uri()}", "--headless", "--norestore",
             "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(sortie), str(rempli)],
            capture_output=True, timeout=180, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.skip("LibreOffice (soffice) n'a pas converti le classeur en 180 s")
    converti = sortie / "in.xlsx"
    if not converti.exists():
        pytest.skip("LibreOffice (soffice) présent mais sans Calc (libreoffice-calc) : conversion .xlsx impossible")
    lue = read_synthese(converti)
    assert lue.annee == 2018 and lue.jeton == JETON
    assert [(d.numero, d.decision, d.motif) for d in lue.decisions] == [
        ("AAP-2018-0001", "", ""),
        ("AAP-2018-0002", "Retenu", "Dossier complet"),
        ("AAP-2018-0003", "", ""),
    ]
    assert openpyxl.load_workbook(converti)["aap"].sheet_state == "hidden"


# --------------------------------------------------------------------------- synthesis: not ours, broken


def test_workbook_without_aap_names_is_not_a_synthesis(tmp_path):
    path = write_tableur(tmp_path / "autre.xlsx", [Feuille("Synthèse", (Colonne("N° dossier"),), [("AAP-2018-0001",)])])
    with pytest.raises(SyntheseIllisible) as refus:
        read_synthese(path)
    assert refus.value.motif.startswith("ce classeur n'est pas une synthèse produite par aap pour le comité : ")
    assert "aap_jeton" in refus.value.motif and "aap_decisions" in refus.value.motif


def test_name_pointing_to_a_deleted_sheet_is_reported(synthese, tmp_path):
    wb = openpyxl.load_workbook(synthese)
    wb.defined_names["aap_jeton"].attr_text = "'Disparue'!$B$2"
    wb.save(tmp_path / "r.xlsx")
    with pytest.raises(SyntheseIllisible, match="zones nommées invalides : aap_jeton"):
        read_synthese(tmp_path / "r.xlsx")


@pytest.mark.parametrize(
    ("contenu", "motif"),
    [
        (b"PK\x03\x04" + b"\x00" * 200, MOTIF_CORROMPU),
        (b"ceci n'est pas un classeur", MOTIF_CORROMPU),
        (b"", MOTIF_CORROMPU),
    ],
)
def test_corrupt_bytes_are_unreadable_with_a_french_reason(contenu, motif):
    with pytest.raises(SyntheseIllisible) as refus:
        read_synthese(contenu)
    assert refus.value.motif == motif


def test_truncated_synthesis_is_unreadable(synthese):
    donnees = synthese.read_bytes()
    with pytest.raises(SyntheseIllisible) as refus:
        read_synthese(donnees[: len(donnees) // 2])
    assert refus.value.motif == MOTIF_CORROMPU


def test_macro_workbook_is_refused(synthese, tmp_path):
    xlsm = tmp_path / "synthese.xlsm"
    xlsm.write_bytes(synthese.read_bytes())
    with pytest.raises(SyntheseIllisible) as refus:
        read_synthese(xlsm)
    assert refus.value.motif == MOTIF_MACROS


def test_damaged_part_inside_a_valid_zip_is_unreadable(synthese, tmp_path):
    abime = tmp_path / "abime.xlsx"
    with zipfile.ZipFile(synthese) as source, zipfile.ZipFile(abime, "w") as cible:
        for membre in source.infolist():
            contenu = source.read(membre)
            cible.writestr(membre, b"<workbook>pas du xml" if membre.filename == "xl/workbook.xml" else contenu)
    with pytest.raises(SyntheseIllisible) as refus:
        read_synthese(abime)
    assert refus.value.motif.startswith("le formulaire ne peut pas être lu")


# --------------------------------------------------------------------------- tableur

COLONNES = (
    Colonne("Texte", 40),
    Colonne("Montant", 14, "euros"),
    Colonne("Reçu le", 12, "date"),
    Colonne("Reçu à", 18, "datetime"),
    Colonne("Nombre", 8, "nombre"),
    Colonne("ETP", 8, "decimal"),
    Colonne("Taux", 8, "pourcent"),
    Colonne("Complet", 8),
)


def a_row(**changes) -> tuple:
    valeurs = dict(
        texte="Association Emploi Dijon",
        montant=Decimal("44500.005"),
        recu_le=date(2017, 12, 7),
        recu_a=datetime(2017, 12, 7, 15, 59, tzinfo=UTC),
        nombre=56,
        etp=Decimal("0.5"),
        taux=Decimal("0.5"),
        complet=True,
    )
    valeurs.update(changes)
    return tuple(valeurs.values())


@pytest.fixture
def tableur(tmp_path) -> Path:
    lignes = [
        a_row(),
        a_row(texte=["cv_dupont.pdf", "budget.xlsx"], complet=False, recu_a=datetime(2018, 6, 1, 10, 0, tzinfo=UTC)),
        a_row(texte="=1+1", montant=None, recu_le=None, recu_a=None, complet=None),
        a_row(texte="+33 3 80 00 00 01"),
        a_row(texte="-2"),
        a_row(texte="@SUM(A1)"),
    ]
    return write_tableur(tmp_path / "export.xlsx", [Feuille("Dossiers", COLONNES, lignes)])


def test_tableur_header_is_bold_filled_frozen_and_filtered(tableur):
    ws = openpyxl.load_workbook(tableur)["Dossiers"]
    assert [c.value for c in ws[1]] == [c.titre for c in COLONNES]
    assert all(c.font.bold and c.fill.fill_type == "solid" for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:H7"
    assert ws.column_dimensions["A"].width == 40


def test_tableur_title_goes_above_the_header(tmp_path):
    path = write_tableur(tmp_path / "t.xlsx", [Feuille("F", (Colonne("A"),), [("x",)])], titre="Dossiers 2018")
    ws = openpyxl.load_workbook(path)["F"]
    assert ws["A1"].value == "Dossiers 2018" and ws["A2"].value == "A"
    assert ws.freeze_panes == "A3" and ws.auto_filter.ref == "A2:A3"


def test_tableur_number_formats_are_french_excel_formats(tableur):
    ws = openpyxl.load_workbook(tableur)["Dossiers"]
    formats = [ws.cell(row=2, column=j).number_format for j in range(2, 8)]
    assert formats == ['#,##0.00 "€"', "dd/mm/yyyy", "dd/mm/yyyy hh:mm", "#,##0", "#,##0.00", "0 %"]
    assert ws["B2"].value == 44500.01  # rounded half up to cents, then a number
    assert ws["C2"].value == datetime(2017, 12, 7)
    assert ws["E2"].value == 56 and ws["F2"].value == 0.5 and ws["G2"].value == 0.5


def test_tableur_datetimes_are_shown_in_paris_time(tableur):
    ws = openpyxl.load_workbook(tableur)["Dossiers"]
    assert ws["D2"].value == datetime(2017, 12, 7, 16, 59)  # UTC+1 in winter
    assert ws["D3"].value == datetime(2018, 6, 1, 12, 0)  # UTC+2 in summer


def test_tableur_refuses_a_naive_datetime_and_floats(tmp_path):
    with pytest.raises(ValueError, match="sans fuseau"):
        write_tableur(tmp_path / "t.xlsx", [Feuille("F", COLONNES, [a_row(recu_a=datetime(2017, 12, 7, 17))])])
    with pytest.raises(TypeError, match="float"):
        write_tableur(tmp_path / "t.xlsx", [Feuille("F", COLONNES, [a_row(montant=44500.0)])])
    assert not (tmp_path / "t.xlsx").exists()


def test_tableur_every_string_stays_text(tableur):
    ws = openpyxl.load_workbook(tableur)["Dossiers"]
    for row, attendu in ((4, "=1+1"), (5, "+33 3 80 00 00 01"), (6, "-2"), (7, "@SUM(A1)")):
        assert ws.cell(row=row, column=1).value == attendu
        assert ws.cell(row=row, column=1).data_type == "s"
    with zipfile.ZipFile(tableur) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml


def test_tableur_lists_become_lines_and_booleans_oui_non(tableur):
    ws = openpyxl.load_workbook(tableur)["Dossiers"]
    assert ws["A3"].value == "cv_dupont.pdf\nbudget.xlsx"
    assert ws["A3"].alignment.wrap_text
    assert (ws["H2"].value, ws["H3"].value, ws["H4"].value) == ("oui", "non", None)
    assert ws["B4"].value is None


def test_tableur_long_text_columns_wrap_and_short_ones_do_not(tableur):
    ws = openpyxl.load_workbook(tableur)["Dossiers"]
    assert ws["A2"].alignment.wrap_text
    assert not ws["H2"].alignment.wrap_text


def test_tableur_control_characters_are_replaced_not_fatal(tmp_path):
    path = write_tableur(tmp_path / "t.xlsx", [Feuille("F", (Colonne("A"),), [("Emploi\x00Dijon\x07",)])])
    assert openpyxl.load_workbook(path)["F"]["A2"].value == "Emploi\ufffdDijon\ufffd"


def test_tableur_sheet_names_are_sanitized_and_unique(tmp_path):
    noms = ["Dossiers [2018]: a/b?*\\c", "Dossiers [2018]: a/b?*\\c", "x" * 40, "'", "history"]
    path = write_tableur(tmp_path / "t.xlsx", [Feuille(n, (Colonne("A"),), []) for n in noms])
    titres = openpyxl.load_workbook(path).sheetnames
    assert titres[0] == "Dossiers -2018-- a-b---c"
    assert titres[1] == "Dossiers -2018-- a-b---c (2)"
    assert titres[2] == "x" * 31
    assert titres[3:] == ["Feuille 4", "Feuille 5"]
    assert all(len(t) <= 31 and not set(t) & set("[]:*?/\\") for t in titres)


def test_tableur_row_with_wrong_width_is_refused(tmp_path):
    with pytest.raises(ValueError, match="2 valeurs pour 1 colonnes"):
        write_tableur(tmp_path / "t.xlsx", [Feuille("F", (Colonne("A"),), [("a", "b")])])


def test_tableur_file_is_private_and_replaces_the_old_one_atomically(tmp_path):
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"ancien")
    os.chmod(path, 0o644)
    write_tableur(path, [Feuille("F", (Colonne("A"),), [("nouveau",)])])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert openpyxl.load_workbook(path)["F"]["A2"].value == "nouveau"
    assert [p.name for p in tmp_path.iterdir()] == ["export.xlsx"]


def test_synthesis_prints_on_a4_landscape_with_the_header_on_every_page_and_rows_tall_enough(tmp_path):
    constats = "\n".join(["[bloquant] frais de déplacement absents du budget : ils sont exigés pour les rencontres "
                          "avec les entreprises"] * 4)
    path = write(tmp_path / "s.xlsx", [a_ligne("AAP-2018-0001", constats=constats), a_ligne("AAP-2018-0002")])
    ws = feuille(path)

    assert (ws.page_setup.paperSize, ws.page_setup.orientation) == (int(ws.PAPERSIZE_A4), "landscape")
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight, ws.sheet_properties.pageSetUpPr.fitToPage) == (1, 0, True)
    assert ws.print_title_rows.replace("$", "") == "5:5"
    assert all(ws.cell(row, col).alignment.wrap_text for row in (5, 6, 7) for col in range(1, ws.max_column + 1))
    # four paragraphs of 107 characters in a 50-wide column: two lines each, at 15 points a line
    assert ws.row_dimensions[6].height >= 8 * 15
    assert 15 <= ws.row_dimensions[7].height < ws.row_dimensions[6].height
    assert ws.row_dimensions[5].height >= 2 * 15  # « Frais de déplacement » in bold takes two lines
