"""The bilan form (write, fill, read back, hostile files) and the rules on a returned bilan."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from forms.bilan import (
    CATEGORIES_DEPENSES,
    SORTIES_POSITIVES,
    SOURCES_RESSOURCES,
    BilanLu,
    BilanPrefill,
    FormulaireIllisible,
    JustificatifLigne,
    fill_bilan_form,
    is_bilan_form,
    read_bilan_form,
    write_bilan_form,
)
from forms.dossier_reponse import write_dossier_reponse
from models.bilan import check_bilan, taux_sorties_positives
from francais.formats import format_euros

JETON = "BIL-CONV-2018-001-MI-2018"
FORMULE = "=HYPERLINK(\"http://example.org\",\"clic\")"


def a_prefill(**changes) -> BilanPrefill:
    base = BilanPrefill(
        jeton=JETON,
        convention_numero="CONV-2018-001",
        periode="mi-parcours",
        periode_debut=date(2018, 1, 1),
        periode_fin=date(2018, 12, 31),
        porteur_nom="Association Emploi Dijon",
        porteur_siret="73282932000074",
        etp=Decimal("1.5"),
        objectifs={
            "entrees": Decimal("42.0"),
            "file_active": Decimal("105.0"),
            "taux_sorties_positives": Decimal("0.50"),
            "partenariats": Decimal("4.5"),
        },
        budget_prevu={"salaires": Decimal("66750.00"), "deplacements": Decimal("1834.57"), "autres": Decimal("0")},
        ressources_prevues={"fse": Decimal("34292.29"), "plie": Decimal("34292.28"), "autres": Decimal("0")},
        date_limite=date(2018, 7, 30),
    )
    return dataclasses.replace(base, **changes)


@pytest.fixture(scope="module")
def blank(tmp_path_factory) -> Path:
    return write_bilan_form(tmp_path_factory.mktemp("vierge") / "bilan_CONV-2018-001_mi.xlsx", a_prefill())


VALEURS = {
    "bilan_entrees": 38,
    "bilan_file_active": 97,
    "bilan_sorties": 20,
    "bilan_sp_cdi": 4,
    "bilan_sp_interim": 2,
    "bilan_sp_cdd": 1,
    "bilan_sp_formation": 3,
    "bilan_sp_creation": 0,
    "bilan_sp_contrat_aide": 1,
    "bilan_sp_senior_chantier": 0,
    "bilan_entreprises_rencontrees": 25,
    "bilan_partenariats": 3,
    "bilan_participants_qpv": 41,
    "bilan_participants_rsa": 55,
    "bilan_qualitatif": "Action conforme.\nDeux partenariats dans le BTP.",
    "bilan_depense_salaires": Decimal("33375.00"),
    "bilan_depense_deplacements": Decimal("412.30"),
    "bilan_ressource_fse": Decimal("0"),
    "bilan_ressource_plie": Decimal("17146.14"),
    "justificatifs": [
        ("salaires", "Bulletins de salaire janvier-juin, Marie Dupont", Decimal("22250.00"), "paie_dupont.pdf"),
        ("salaires", "Bulletins de salaire janvier-juin, Linh Nguyen", Decimal("11125.00"), "paie_nguyen.pdf"),
        ("deplacements", "Notes de frais kilométriques", Decimal("412.30"), "frais_km.pdf"),
    ],
}
FICHIERS = {"bilan.xlsx", "paie_dupont.pdf", "paie_nguyen.pdf", "frais_km.pdf"}


def a_filled(blank: Path, tmp_path: Path, **changes) -> Path:
    return fill_bilan_form(blank, tmp_path / "bilan_rempli.xlsx", {**VALEURS, **changes})


def a_bilan(**changes) -> BilanLu:
    """A complete, consistent bilan, as read from the form."""
    base = BilanLu(
        jeton=JETON, convention_numero="CONV-2018-001", periode="mi-parcours",
        entrees=38, file_active=97, sorties=20,
        sorties_positives={"cdi": 4, "interim": 2, "cdd": 1, "formation": 3, "creation": 0,
                           "contrat_aide": 1, "senior_chantier": 0},
        entreprises_rencontrees=25, partenariats=3, participants_qpv=41, participants_rsa=55,
        qualitatif="Action conforme.",
        depenses={"salaires": Decimal("33375.00"), "deplacements": Decimal("412.30"), "autres": None},
        ressources_recues={"fse": Decimal("0.00"), "plie": Decimal("17146.14"), "autres": None},
        justificatifs=(
            JustificatifLigne(1, "salaires", "Paies Dupont", Decimal("22250.00"), "paie_dupont.pdf"),
            JustificatifLigne(2, "salaires", "Paies Nguyen", Decimal("11125.00"), "paie_nguyen.pdf"),
            JustificatifLigne(3, "deplacements", "Frais km", Decimal("412.30"), "frais_km.pdf"),
        ),
        anomalies=(),
    )  # fmt: skip
    return dataclasses.replace(base, **changes)


def cellule(path: Path, name: str):
    wb = openpyxl.load_workbook(path)
    ((sheet, coord),) = wb.defined_names[name].destinations
    return wb[sheet][coord.replace("$", "")]


def motif(source, filename: str = "bilan.xlsx") -> str:
    with pytest.raises(FormulaireIllisible) as exc:
        read_bilan_form(source, filename=filename)
    return exc.value.motif


# --------------------------------------------------------------------------- the blank form


def test_blank_form_shows_title_and_prefilled_values(blank):
    ws = openpyxl.load_workbook(blank)["Bilan"]
    textes = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert "Bilan à mi-parcours — convention CONV-2018-001" in textes
    assert {"Association Emploi Dijon", "73282932000074", "CONV-2018-001", "1,5"} <= textes
    assert "du 1er janvier 2018 au 31 décembre 2018" in textes
    assert any("30 juillet 2018" in t for t in textes)
    nombres = {(c.value, c.number_format) for row in ws.iter_rows() for c in row if isinstance(c.value, (int, float))}
    assert {(42.0, "General"), (105.0, "General"), (4.5, "General"), (0.5, "0 %")} <= nombres
    assert {(66750.0, '#,##0.00 "€"'), (1834.57, '#,##0.00 "€"'), (34292.29, '#,##0.00 "€"')} <= nombres
    siret = next(c for row in ws.iter_rows() for c in row if c.value == "73282932000074")
    assert siret.fill.fgColor.rgb.endswith("E7E6E6")


def test_final_bilan_says_so_in_its_title(tmp_path):
    path = write_bilan_form(tmp_path / "final.xlsx", a_prefill(periode="final", porteur_siret=None))
    ws = openpyxl.load_workbook(path)["Bilan"]
    assert ws["A1"].value == "Bilan final — convention CONV-2018-001"
    assert "non renseigné" in {c.value for row in ws.iter_rows() for c in row}
    assert read_bilan_form(path).periode == "final"


def test_blank_form_names_every_input_and_hides_the_token(blank):
    wb = openpyxl.load_workbook(blank)
    attendus = {
        "bilan_jeton", "bilan_convention", "bilan_periode", "bilan_entrees", "bilan_file_active",
        "bilan_sorties", "bilan_entreprises_rencontrees", "bilan_partenariats", "bilan_participants_qpv",
        "bilan_participants_rsa", "bilan_qualitatif", "bilan_justificatifs",
        *(f"bilan_sp_{k}" for k, _ in SORTIES_POSITIVES),
        *(f"bilan_depense_{k}" for k, _ in CATEGORIES_DEPENSES),
        *(f"bilan_ressource_{k}" for k, _ in SOURCES_RESSOURCES),
    }  # fmt: skip
    assert set(wb.defined_names) == attendus
    assert wb.sheetnames == ["Bilan", "Justificatifs", "aap"]
    assert wb["aap"].sheet_state == "hidden"
    assert cellule(blank, "bilan_jeton").value == JETON
    assert cellule(blank, "bilan_periode").value == "mi-parcours"


def test_counts_accept_only_whole_numbers_from_zero(blank):
    ws = openpyxl.load_workbook(blank)["Bilan"]
    for name in ("bilan_entrees", "bilan_sp_senior_chantier", "bilan_participants_rsa"):
        coord = cellule(blank, name).coordinate
        (dv,) = [dv for dv in ws.data_validations.dataValidation if coord in dv.sqref]
        assert (dv.type, dv.operator, dv.formula1) == ("whole", "greaterThanOrEqual", "0")
    assert cellule(blank, "bilan_depense_salaires").number_format == '#,##0.00 "€"'


def test_qualitative_part_is_a_big_merged_wrapped_cell(blank):
    ws = openpyxl.load_workbook(blank)["Bilan"]
    cell = cellule(blank, "bilan_qualitatif")
    (zone,) = [r for r in ws.merged_cells.ranges if cell.coordinate in r]
    assert zone.max_row - zone.min_row >= 9 and zone.max_col - zone.min_col >= 3
    assert cell.alignment.wrap_text


def test_justificatifs_table_offers_the_category_keys(blank):
    wb = openpyxl.load_workbook(blank)
    ((sheet, ref),) = wb.defined_names["bilan_justificatifs"].destinations
    rows = wb[sheet][ref.replace("$", "")]
    assert sheet == "Justificatifs" and len(rows) == 41 and len(rows[0]) == 4
    (liste,) = [dv for dv in wb[sheet].data_validations.dataValidation if dv.type == "list"]
    assert liste.formula1 == '"salaires,deplacements,autres"'
    assert rows[1][0].coordinate in liste.sqref and rows[-1][0].coordinate in liste.sqref
    assert rows[1][2].number_format == '#,##0.00 "€"'


def test_blank_form_reads_as_an_empty_bilan(blank):
    lu = read_bilan_form(blank)
    assert (lu.jeton, lu.convention_numero, lu.periode) == (JETON, "CONV-2018-001", "mi-parcours")
    assert lu.entrees is None and set(lu.sorties_positives.values()) == {None}
    assert lu.justificatifs == () and lu.anomalies == () and lu.qualitatif == ""
    assert "Partie qualitative vide" in check_bilan(lu)
    assert "Entrées : non renseigné" in check_bilan(lu)


# --------------------------------------------------------------------------- round trip


def test_filled_form_reads_back_exactly(blank, tmp_path):
    lu = read_bilan_form(a_filled(blank, tmp_path))
    assert (lu.entrees, lu.file_active, lu.sorties) == (38, 97, 20)
    assert lu.sorties_positives == {"cdi": 4, "interim": 2, "cdd": 1, "formation": 3, "creation": 0,
                                    "contrat_aide": 1, "senior_chantier": 0}  # fmt: skip
    assert (lu.entreprises_rencontrees, lu.partenariats, lu.participants_qpv, lu.participants_rsa) == (25, 3, 41, 55)
    assert lu.qualitatif == "Action conforme.\nDeux partenariats dans le BTP."
    assert lu.depenses == {"salaires": Decimal("33375.00"), "deplacements": Decimal("412.30"), "autres": None}
    assert lu.ressources_recues == {"fse": Decimal("0.00"), "plie": Decimal("17146.14"), "autres": None}
    assert lu.justificatifs == (
        JustificatifLigne(1, "salaires", "Bulletins de salaire janvier-juin, Marie Dupont",
                          Decimal("22250.00"), "paie_dupont.pdf"),
        JustificatifLigne(2, "salaires", "Bulletins de salaire janvier-juin, Linh Nguyen",
                          Decimal("11125.00"), "paie_nguyen.pdf"),
        JustificatifLigne(3, "deplacements", "Notes de frais kilométriques", Decimal("412.30"), "frais_km.pdf"),
    )  # fmt: skip
    assert lu.anomalies == ()
    assert check_bilan(lu, fichiers_recus=FICHIERS) == []
    assert taux_sorties_positives(lu) == Decimal("0.55")


def test_form_read_from_bytes_equals_form_read_from_path(blank, tmp_path):
    path = a_filled(blank, tmp_path)
    assert read_bilan_form(path.read_bytes(), filename="Bilan.xlsx") == read_bilan_form(path)


def test_numbers_typed_as_text_are_read(blank, tmp_path):
    path = a_filled(blank, tmp_path, bilan_entrees=" 38 ", bilan_sorties="20,0",
                    bilan_depense_deplacements="412,30 €", bilan_ressource_plie="17 146,14")  # fmt: skip
    lu = read_bilan_form(path)
    assert (lu.entrees, lu.sorties) == (38, 20)
    assert lu.depenses["deplacements"] == Decimal("412.30") and lu.ressources_recues["plie"] == Decimal("17146.14")
    assert lu.anomalies == ()


def test_unreadable_values_are_anomalies_reported_once(blank, tmp_path):
    justificatifs = [*VALEURS["justificatifs"], ("autres", "Fournitures", "beaucoup", "fournitures.pdf")]
    path = a_filled(blank, tmp_path, bilan_entrees="douze", bilan_sorties=2.5,
                    bilan_depense_deplacements="quatre cents", justificatifs=justificatifs)  # fmt: skip
    lu = read_bilan_form(path)
    assert lu.entrees is None and lu.sorties is None and lu.depenses["deplacements"] is None
    assert lu.anomalies == (
        "Entrées : valeur illisible « douze » (nombre entier attendu)",
        "Sorties : valeur illisible « 2.5 » (nombre entier attendu)",
        "Dépenses « Frais de déplacement » : montant illisible « quatre cents »",
        "Justificatif ligne 4 : montant illisible « beaucoup »",
    )
    assert check_bilan(lu) == list(lu.anomalies)  # never also "non renseigné"


def test_category_typed_as_its_label_is_recognised(blank, tmp_path):
    justificatifs = [("Salaires chargés des référents", "Paies", Decimal("33375"), "paie_dupont.pdf"),
                     (" Deplacements ", "Frais", Decimal("412.30"), "frais_km.pdf")]  # fmt: skip
    lu = read_bilan_form(a_filled(blank, tmp_path, justificatifs=justificatifs))
    assert [j.categorie for j in lu.justificatifs] == ["salaires", "deplacements"]
    assert check_bilan(lu) == []


def test_empty_rows_of_the_table_are_skipped_but_keep_their_number(blank, tmp_path):
    justificatifs = [("", "", None, "")] * 3 + [("salaires", "Paies", Decimal("33375"), "paie.pdf")]
    lu = read_bilan_form(a_filled(blank, tmp_path, justificatifs=justificatifs))
    assert [(j.ligne, j.fichier) for j in lu.justificatifs] == [(4, "paie.pdf")]


def test_text_starting_with_equals_stays_text(blank, tmp_path):
    justificatifs = [("salaires", FORMULE, Decimal("33375.00"), "=1+1.pdf")]
    path = a_filled(blank, tmp_path, bilan_qualitatif="=SUM(A1:A3)", justificatifs=justificatifs)
    with zipfile.ZipFile(path) as z:
        feuilles = b"".join(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    assert b"<f>SUM(A1:A3)" not in feuilles and b"<f>HYPERLINK" not in feuilles
    assert b"<t>=SUM(A1:A3)</t>" in feuilles
    assert cellule(path, "bilan_qualitatif").data_type == "s"
    lu = read_bilan_form(path)
    assert lu.qualitatif == "=SUM(A1:A3)"
    assert (lu.justificatifs[0].libelle, lu.justificatifs[0].fichier) == (FORMULE, "=1+1.pdf")


def test_more_justificatifs_than_rows_cannot_be_filled(tmp_path):
    petit = write_bilan_form(tmp_path / "petit.xlsx", a_prefill(), lignes_justificatifs=2)
    with pytest.raises(ValueError, match="3 justificatifs pour 2 lignes"):
        a_filled(petit, tmp_path)


def test_unknown_name_cannot_be_filled(blank, tmp_path):
    with pytest.raises(KeyError, match="bilan_inconnu"):
        fill_bilan_form(blank, tmp_path / "x.xlsx", {"bilan_inconnu": 1})


# --------------------------------------------------------------------------- recognising and hostile files


def test_is_bilan_form_recognises_the_bilan_only(blank, tmp_path):
    assert is_bilan_form(blank.read_bytes())
    assert is_bilan_form(a_filled(blank, tmp_path).read_bytes())
    dossier = write_dossier_reponse(
        tmp_path / "dossier.xlsx", annee=2018, titre="Appel à projets PLIE 2018",
        date_limite="7 décembre 2017 à 17 h 00", plafond_etp=Decimal("44500"),
    )  # fmt: skip
    assert not is_bilan_form(dossier.read_bytes())
    assert not is_bilan_form(b"")
    assert not is_bilan_form(b"PK\x03\x04 pas vraiment un zip")
    assert not is_bilan_form(blank.read_bytes()[:2000])


def test_is_bilan_form_refuses_xml_with_entities(blank):
    buf = io.BytesIO()
    with zipfile.ZipFile(blank) as source, zipfile.ZipFile(buf, "w") as piege:
        for info in source.infolist():
            xml = source.read(info.filename)
            if info.filename == "xl/workbook.xml":
                xml = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + xml
            piege.writestr(info, xml)
    assert not is_bilan_form(buf.getvalue())


def test_dossier_de_reponse_is_not_a_bilan(tmp_path):
    dossier = write_dossier_reponse(
        tmp_path / "dossier.xlsx", annee=2018, titre="Appel à projets PLIE 2018",
        date_limite="7 décembre 2017 à 17 h 00", plafond_etp=Decimal("44500"),
    )  # fmt: skip
    assert motif(dossier) == (
        "ce fichier n'est pas un formulaire de bilan envoyé par le PLIE : zone nommée bilan_jeton absente"
    )


def test_corrupt_or_truncated_file_is_refused(blank, tmp_path):
    assert "corrompu" in motif(b"ceci n'est pas un classeur")
    data = a_filled(blank, tmp_path).read_bytes()
    assert "tronqué" in motif(data[: len(data) // 2])


def test_macro_workbooks_are_refused(blank, tmp_path):
    data = a_filled(blank, tmp_path).read_bytes()
    assert "macros" in motif(data, filename="Bilan PLIE.xlsm")
    path = a_filled(blank, tmp_path)
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("xl/vbaProject.bin", b"\x00" * 64)
    assert "macros" in motif(path)


def test_bilan_with_a_deleted_or_moved_name_is_refused(blank, tmp_path):
    path = a_filled(blank, tmp_path)
    wb = openpyxl.load_workbook(path)
    del wb.defined_names["bilan_sorties"]
    wb.defined_names["bilan_entrees"].attr_text = "Bilan!$C$50000"
    wb.save(path)
    assert motif(path) == "le formulaire de bilan a été modifié : zones nommées absentes : bilan_sorties"
    wb = openpyxl.load_workbook(path)
    wb.defined_names["bilan_sorties"] = openpyxl.workbook.defined_name.DefinedName(
        "bilan_sorties", attr_text="Bilan!$C$20"
    )
    wb.save(path)
    assert motif(path) == "le formulaire de bilan a été modifié : zones nommées invalides : bilan_entrees"


# --------------------------------------------------------------------------- rules


def test_clean_bilan_has_no_error():
    assert check_bilan(a_bilan()) == []
    assert check_bilan(a_bilan(), fichiers_recus={"PAIE_DUPONT.PDF", "paie_nguyen.pdf", "frais_km.pdf"}) == []


def test_negative_numbers_are_refused():
    sp = {**a_bilan().sorties_positives, "cdi": -1}
    erreurs = check_bilan(a_bilan(entrees=-3, sorties_positives=sp,
                                  ressources_recues={"fse": Decimal("-5"), "plie": Decimal("0"), "autres": None}))
    assert erreurs == [
        "Entrées : valeur négative (-3)",
        "Sorties positives « CDI à mi-temps minimum, au terme de 6 mois de présence en entreprise » : "
        "valeur négative (-1)",
        f"Ressources « FSE » : montant négatif ({format_euros(Decimal('-5'))})",
    ]


def test_more_positive_exits_than_exits_is_refused():
    sp = {**a_bilan().sorties_positives, "formation": 5}
    assert check_bilan(a_bilan(sorties=10, sorties_positives=sp)) == [
        "Sorties positives (13) supérieures aux sorties (10)"
    ]


def test_file_active_below_entries_is_not_an_error():
    assert check_bilan(a_bilan(entrees=120, file_active=30)) == []


def test_each_missing_required_number_is_named():
    erreurs = check_bilan(a_bilan(entrees=None, file_active=None, partenariats=None, participants_rsa=None))
    assert erreurs == [
        "Entrées : non renseigné", "File active : non renseigné",
        "Partenariats : non renseigné", "Participants RSA : non renseigné",
    ]  # fmt: skip


def test_positive_exits_must_be_given_when_there_were_exits():
    vides = dict.fromkeys(a_bilan().sorties_positives)
    assert check_bilan(a_bilan(sorties_positives=vides)) == [
        "Sorties positives : non renseignées (indiquez 0 pour chaque type sans sortie)"
    ]
    assert check_bilan(a_bilan(sorties=0, sorties_positives=vides)) == []
    assert check_bilan(a_bilan(sorties_positives={**vides, "cdi": 3})) == []


def test_empty_qualitative_part_is_refused():
    assert check_bilan(a_bilan(qualitatif=" \n ")) == ["Partie qualitative vide"]


def test_expense_must_equal_its_justificatifs_to_the_cent():
    depenses = {"salaires": Decimal("33375.00"), "deplacements": Decimal("1200.00"), "autres": None}
    lignes = (
        JustificatifLigne(1, "salaires", "Paies", Decimal("33375.00"), "paie.pdf"),
        JustificatifLigne(2, "deplacements", "Frais mars", Decimal("1000.00"), "mars.pdf"),
        JustificatifLigne(3, "deplacements", "Frais avril", Decimal("150.00"), "avril.pdf"),
    )
    attendu = (
        f"Dépenses « Frais de déplacement » : {format_euros(Decimal('1200'))} déclarés, "
        f"{format_euros(Decimal('1150'))} de justificatifs listés"
    )
    assert check_bilan(a_bilan(depenses=depenses, justificatifs=lignes)) == [attendu]
    assert "1\u202f200,00\xa0€" in attendu
    un_centime = (*lignes[:2], dataclasses.replace(lignes[2], montant=Decimal("199.99")))
    assert len(check_bilan(a_bilan(depenses=depenses, justificatifs=un_centime))) == 1
    juste = (*lignes[:2], dataclasses.replace(lignes[2], montant=Decimal("200.00")))
    assert check_bilan(a_bilan(depenses=depenses, justificatifs=juste)) == []


def test_expense_without_justificatif_or_justificatif_without_expense_is_refused():
    depenses = {"salaires": Decimal("33375.00"), "deplacements": Decimal("412.30"), "autres": Decimal("80")}
    assert check_bilan(a_bilan(depenses=depenses)) == [
        f"Dépenses « Autres dépenses » : {format_euros(Decimal('80'))} déclarés, "
        f"{format_euros(Decimal('0'))} de justificatifs listés"
    ]
    lignes = (*a_bilan().justificatifs, JustificatifLigne(4, "autres", "Fournitures", Decimal("80"), "f.pdf"))
    assert check_bilan(a_bilan(justificatifs=lignes)) == [
        f"Dépenses « Autres dépenses » : non renseigné, {format_euros(Decimal('80'))} de justificatifs listés"
    ]


def test_required_expenses_and_resources_must_be_filled():
    depenses = {"salaires": None, "deplacements": Decimal("412.30"), "autres": None}
    ressources = {"fse": None, "plie": Decimal("0"), "autres": None}
    bilan = a_bilan(depenses=depenses, ressources_recues=ressources, justificatifs=a_bilan().justificatifs[2:])
    assert check_bilan(bilan) == [
        "Dépenses « Salaires chargés des référents » : non renseigné",
        "Ressources « FSE » : non renseigné",
    ]


def test_justificatif_with_unknown_category_or_without_amount_is_refused():
    lignes = (
        *a_bilan().justificatifs,
        JustificatifLigne(4, "loyer", "Loyer", Decimal("0"), "loyer.pdf"),
        JustificatifLigne(5, "", "Divers", Decimal("0"), "divers.pdf"),
        JustificatifLigne(6, "autres", "", None, ""),
    )
    assert check_bilan(a_bilan(justificatifs=lignes)) == [
        "Justificatif ligne 4 : catégorie « loyer » inconnue (attendu : salaires, deplacements, autres)",
        "Justificatif ligne 5 : catégorie non renseignée",
        "Justificatif ligne 6 : libellé non renseigné",
        "Justificatif ligne 6 : montant non renseigné",
        "Justificatif ligne 6 : fichier non renseigné",
    ]


def test_justificatif_file_must_be_attached_to_the_message():
    lignes = (*a_bilan().justificatifs[:2], dataclasses.replace(a_bilan().justificatifs[2], fichier="facture.pdf"))
    erreurs = check_bilan(a_bilan(justificatifs=lignes), fichiers_recus=FICHIERS)
    assert erreurs == ["Justificatif ligne 3 : fichier « facture.pdf » absent du message"]
    assert check_bilan(a_bilan(justificatifs=lignes)) == []


def test_file_names_match_across_folders_case_and_unicode_forms():
    lignes = (dataclasses.replace(a_bilan().justificatifs[0], fichier="C:\\Scans\\Paie Décembre.PDF"),
              *a_bilan().justificatifs[1:])  # fmt: skip
    recus = {"paie De\u0301cembre.pdf", "paie_nguyen.pdf", "frais_km.pdf"}
    assert check_bilan(a_bilan(justificatifs=lignes), fichiers_recus=recus) == []


def test_rate_of_positive_exits():
    assert taux_sorties_positives(a_bilan()) == Decimal("0.55")
    assert taux_sorties_positives(a_bilan(sorties=0)) is None
    assert taux_sorties_positives(a_bilan(sorties=None)) is None
    assert taux_sorties_positives(a_bilan(sorties_positives=dict.fromkeys(a_bilan().sorties_positives))) is None
    sp = {**dict.fromkeys(a_bilan().sorties_positives), "cdi": 1}
    assert taux_sorties_positives(a_bilan(sorties=3, sorties_positives=sp)) == Decimal(1) / Decimal(3)
