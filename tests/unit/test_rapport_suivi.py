"""The follow-up's indicator rules and the consolidated workbook (Suivi + Graphiques)."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from forms.rapport_suivi import (
    COLONNES,
    ENTETE,
    SHEET_GRAPHIQUES,
    SHEET_SUIVI,
    LigneSuivi,
    write_rapport_suivi,
)
from models.indicateurs import (
    Seuils,
    SeuilsBudget,
    couleur,
    couleur_budget,
    describe_seuils,
    fraction_ecoulee,
    objectif_pro_rata,
)

D = Decimal
DEBUT, FIN = date(2018, 1, 1), date(2018, 12, 31)
ARRETE = date(2018, 7, 31)
SEUILS = Seuils()
COL = {titre: j for j, (titre, _, _) in enumerate(COLONNES, start=1)}


# --------------------------------------------------------------------------- objectives


def test_pro_rata_objective_is_yearly_objective_times_etp_times_elapsed_share():
    assert objectif_pro_rata(D(56), D("0.5"), D("0.5")) == D(14)
    assert objectif_pro_rata(D(56), D("0.8"), D("0.5")) == D("22.4")


def test_pro_rata_objective_refuses_floats_negatives_and_a_share_above_one():
    with pytest.raises(TypeError):
        objectif_pro_rata(56.0, D(1), D("0.5"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        objectif_pro_rata(D(56), D(-1), D("0.5"))
    with pytest.raises(ValueError):
        objectif_pro_rata(D(56), D(1), D("1.01"))


def test_elapsed_share_counts_the_first_day_as_one_day():
    assert fraction_ecoulee(DEBUT, FIN, DEBUT) == D(1) / D(365)


def test_elapsed_share_is_exactly_one_half_in_the_middle_of_an_even_period():
    assert fraction_ecoulee(date(2018, 1, 1), date(2018, 1, 10), date(2018, 1, 5)) == D("0.5")


def test_elapsed_share_at_31_july_2018_is_212_days_of_365():
    assert fraction_ecoulee(DEBUT, FIN, ARRETE) == D(212) / D(365)


def test_elapsed_share_is_one_on_the_last_day_and_after():
    assert fraction_ecoulee(DEBUT, FIN, FIN) == 1
    assert fraction_ecoulee(DEBUT, FIN, date(2019, 3, 1)) == 1


def test_elapsed_share_is_zero_before_the_start():
    assert fraction_ecoulee(DEBUT, FIN, date(2017, 12, 31)) == 0


def test_elapsed_share_of_a_period_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="période invalide"):
        fraction_ecoulee(FIN, DEBUT, ARRETE)


# --------------------------------------------------------------------------- colours


@pytest.mark.parametrize(
    ("realise", "attendu"),
    [
        (D(100), "vert"),
        (D(90), "vert"),  # exactly 90 %
        (D("89.99"), "orange"),
        (D(70), "orange"),  # exactly 70 %
        (D("69.99"), "rouge"),
        (D(0), "rouge"),
        (D(150), "vert"),
    ],
)
def test_colour_of_a_realised_value_against_an_objective_of_100(realise, attendu):
    assert couleur(realise, D(100), SEUILS) == attendu


def test_colour_boundaries_hold_exactly_on_a_pro_rata_objective():
    objectif = objectif_pro_rata(D(56), D("0.8"), D("0.5"))  # 22,4
    assert couleur(D("20.16"), objectif, SEUILS) == "vert"  # 90 % of 22,4
    assert couleur(D("20.15"), objectif, SEUILS) == "orange"
    assert couleur(D("15.68"), objectif, SEUILS) == "orange"  # 70 % of 22,4
    assert couleur(D("15.67"), objectif, SEUILS) == "rouge"


def test_integer_counts_are_coloured_like_decimals():
    assert couleur(13, D(14), SEUILS) == "vert"  # 92,9 %
    assert couleur(10, D(14), SEUILS) == "orange"  # 71,4 %
    assert couleur(9, D(14), SEUILS) == "rouge"  # 64,3 %


def test_nothing_reported_is_a_dash_whatever_the_objective():
    assert couleur(None, D(14), SEUILS) == "—"
    assert couleur(None, D(0), SEUILS) == "—"
    assert couleur_budget(None, D(44500), D("0.5")) == "—"


def test_an_objective_of_zero_is_always_met():
    assert couleur(0, D(0), SEUILS) == "vert"


def test_custom_thresholds_move_the_boundaries():
    strict = Seuils(vert=D("1"), orange=D("0.9"))
    assert couleur(D(95), D(100), strict) == "orange"
    assert couleur(D(89), D(100), strict) == "rouge"


def test_incoherent_thresholds_are_refused():
    with pytest.raises(ValueError, match="seuils incohérents"):
        Seuils(vert=D("0.5"), orange=D("0.7"))
    with pytest.raises(ValueError, match="écarts incohérents"):
        SeuilsBudget(vert=D("0.3"), orange=D("0.2"))


@pytest.mark.parametrize(
    ("consomme", "attendu"),
    [
        (D(20000), "vert"),  # on the pro rata of 40 000 × 0,5
        (D(22000), "vert"),  # +10 % exactly
        (D(18000), "vert"),  # −10 % exactly
        (D("22000.01"), "orange"),
        (D(25000), "orange"),  # +25 % exactly
        (D(15000), "orange"),  # −25 % exactly
        (D("25000.01"), "rouge"),
        (D("14999.99"), "rouge"),  # under-spending is a warning too
        (D(0), "rouge"),
    ],
)
def test_budget_colour_is_the_gap_to_the_planned_budget_pro_rata_either_way(consomme, attendu):
    assert couleur_budget(consomme, D(40000), D("0.5"), SeuilsBudget()) == attendu


def test_budget_colour_before_anything_is_expected():
    assert couleur_budget(D(0), D(40000), D(0)) == "vert"
    assert couleur_budget(D(1), D(40000), D(0)) == "rouge"


def test_budget_colour_follows_custom_gaps():
    large = SeuilsBudget(vert=D("0.2"), orange=D("0.5"))
    assert couleur_budget(D(24000), D(40000), D("0.5"), large) == "vert"
    assert couleur_budget(D(29000), D(40000), D("0.5"), large) == "orange"


def test_legend_states_the_thresholds_in_french():
    lignes = describe_seuils(Seuils(vert=D("0.95"), orange=D("0.725")))
    assert lignes[0].startswith("Vert : au moins 95\xa0%")
    assert "72,5\xa0%" in lignes[1]
    assert any("10\xa0%" in ligne and "25\xa0%" in ligne for ligne in lignes)
    assert any(ligne.startswith("— : non renseigné") for ligne in lignes)


# --------------------------------------------------------------------------- workbook


def a_ligne(convention: str, porteur: str, periode: str = "mi-parcours 2018", **changes) -> LigneSuivi:
    """A convention of 1 ETP at 31 July 2018 (212/365 of the year), with its colours computed."""
    fraction = changes.pop("fraction", fraction_ecoulee(DEBUT, FIN, ARRETE))
    etp = changes.pop("etp", D(1))
    valeurs = dict(
        entrees=30, file_active=40, taux_sorties_positives=D("0.45"), partenariats=1,
        budget_consomme=D("26000.00"), budget_prevu=D("50000.00"), statut="bilan reçu",
    )  # fmt: skip
    valeurs.update(changes)
    objectifs = dict(
        objectif_entrees=objectif_pro_rata(D(56), etp, fraction),
        objectif_file_active=objectif_pro_rata(D(70), etp, fraction),
        objectif_taux=D("0.5"),
        objectif_partenariats=objectif_pro_rata(D(3), etp, fraction),
    )
    return LigneSuivi(
        convention=convention, porteur=porteur, periode=periode, etp=etp, fraction=fraction,
        entrees=valeurs["entrees"], objectif_entrees=objectifs["objectif_entrees"],
        couleur_entrees=couleur(valeurs["entrees"], objectifs["objectif_entrees"], SEUILS),
        file_active=valeurs["file_active"], objectif_file_active=objectifs["objectif_file_active"],
        couleur_file_active=couleur(valeurs["file_active"], objectifs["objectif_file_active"], SEUILS),
        taux_sorties_positives=valeurs["taux_sorties_positives"], objectif_taux=objectifs["objectif_taux"],
        couleur_taux=couleur(valeurs["taux_sorties_positives"], objectifs["objectif_taux"], SEUILS),
        partenariats=valeurs["partenariats"], objectif_partenariats=objectifs["objectif_partenariats"],
        couleur_partenariats=couleur(valeurs["partenariats"], objectifs["objectif_partenariats"], SEUILS),
        budget_consomme=valeurs["budget_consomme"], budget_prevu=valeurs["budget_prevu"],
        couleur_budget=couleur_budget(valeurs["budget_consomme"], valeurs["budget_prevu"], fraction),
        statut=valeurs["statut"],
    )  # fmt: skip


@pytest.fixture
def lignes() -> list[LigneSuivi]:
    return [
        # 30 entrées of 32,5 due → vert; 40 of 40,7 → vert; 45 % of 50 % → vert;
        # 1 of 1,74 partnerships → rouge; 26 000 of 29 041 € → orange (−10,5 %)
        a_ligne("CONV-2018-01", "Association Emploi Dijon"),
        # 20 entrées of 32,5 → rouge; 30 of 40,7 → orange; 30 % → rouge
        a_ligne("CONV-2018-02", "=1+1", entrees=20, file_active=30, taux_sorties_positives=D("0.3"),
                partenariats=2, budget_consomme=D("29000.00")),  # fmt: skip
        a_ligne("CONV-2018-03", "Mission locale Sud", entrees=None, file_active=None,
                taux_sorties_positives=None, partenariats=None, budget_consomme=None,
                statut="en retard"),  # fmt: skip
        a_ligne("CONV-2018-01", "Association Emploi Dijon", "final 2018", fraction=D(1), entrees=None,
                file_active=None, taux_sorties_positives=None, partenariats=None,
                budget_consomme=None, statut="à venir"),  # fmt: skip
    ]


@pytest.fixture
def total() -> LigneSuivi:
    return a_ligne(
        "Total PLIE", "Tous les porteurs", "mi-parcours 2018", etp=D(3), entrees=75, file_active=70,
        taux_sorties_positives=D("0.375"), partenariats=3, budget_consomme=D("55000.00"),
        budget_prevu=D("150000.00"), statut="2 bilans reçus sur 3",
    )  # fmt: skip


@pytest.fixture
def classeur(tmp_path: Path, lignes, total) -> Path:
    return write_rapport_suivi(
        tmp_path / "suivi.xlsx",
        titre="Suivi des conventions 2018 — PLIE du bassin dijonnais",
        arrete_au=ARRETE,
        lignes=lignes,
        total=total,
        seuils_texte=describe_seuils(),
    )


def cell(ws, row: int, titre: str):
    return ws.cell(row=row, column=COL[titre])


def fond(c) -> str | None:
    return c.fill.fgColor.rgb[-6:] if c.fill.fill_type == "solid" else None


def test_report_opens_with_its_title_and_situation_date_in_french(classeur):
    ws = openpyxl.load_workbook(classeur)[SHEET_SUIVI]
    assert ws["A1"].value == "Suivi des conventions 2018 — PLIE du bassin dijonnais"
    assert ws["A2"].value == "Situation au 31 juillet 2018"
    assert [c.value for c in ws[ENTETE]][:3] == ["Convention", "Porteur", "Période"]


def test_report_has_one_row_per_convention_and_period_then_a_bold_total(classeur, lignes):
    ws = openpyxl.load_workbook(classeur)[SHEET_SUIVI]
    premiere = ENTETE + 1
    rows = [(cell(ws, r, "Convention").value, cell(ws, r, "Période").value) for r in range(premiere, premiere + 4)]
    assert rows == [
        ("CONV-2018-01", "mi-parcours 2018"), ("CONV-2018-02", "mi-parcours 2018"),
        ("CONV-2018-03", "mi-parcours 2018"), ("CONV-2018-01", "final 2018"),
    ]  # fmt: skip
    ligne_total = premiere + len(lignes)
    assert cell(ws, ligne_total, "Convention").value == "Total PLIE"
    assert cell(ws, ligne_total, "Entrées").value == 75
    assert cell(ws, ligne_total, "Budget consommé").value == 55000
    assert cell(ws, ligne_total, "Statut du bilan").value == "2 bilans reçus sur 3"
    assert all(c.font.b for c in ws[ligne_total])
    assert not cell(ws, premiere, "Convention").font.b


def test_values_and_number_formats(classeur):
    ws = openpyxl.load_workbook(classeur)[SHEET_SUIVI]
    r = ENTETE + 1
    assert cell(ws, r, "Entrées").value == 30
    assert cell(ws, r, "Objectif entrées au prorata").value == pytest.approx(56 * 212 / 365)
    assert cell(ws, r, "Objectif entrées au prorata").number_format == "#,##0.0"
    assert cell(ws, r, "Objectif file active au prorata").number_format == "#,##0.0"
    assert cell(ws, r, "Objectif partenariats au prorata").number_format == "#,##0.0"
    assert cell(ws, r, "Taux de sorties positives").value == pytest.approx(0.45)
    assert cell(ws, r, "Taux de sorties positives").number_format == "0 %"
    assert cell(ws, r, "Objectif taux").number_format == "0 %"
    assert cell(ws, r, "Part de l'année écoulée").number_format == "0 %"
    assert cell(ws, r, "Budget consommé").value == 26000
    assert cell(ws, r, "Budget consommé").number_format == '#,##0.00 "€"'
    assert cell(ws, r, "Budget prévu").number_format == '#,##0.00 "€"'
    assert cell(ws, r, "Entrées").number_format == "#,##0"


def test_each_realised_value_is_filled_with_its_colour(classeur):
    ws = openpyxl.load_workbook(classeur)[SHEET_SUIVI]
    r1, r2, r3 = ENTETE + 1, ENTETE + 2, ENTETE + 3
    assert fond(cell(ws, r1, "Entrées")) == "C6EFCE"
    assert fond(cell(ws, r1, "File active")) == "C6EFCE"
    assert fond(cell(ws, r1, "Taux de sorties positives")) == "C6EFCE"
    assert fond(cell(ws, r1, "Partenariats")) == "FFC7CE"
    assert fond(cell(ws, r1, "Budget consommé")) == "FFEB9C"
    assert fond(cell(ws, r2, "Entrées")) == "FFC7CE"
    assert fond(cell(ws, r2, "File active")) == "FFEB9C"
    assert fond(cell(ws, r2, "Taux de sorties positives")) == "FFC7CE"
    # objectives and identity cells are not coloured; nothing reported is a dash, unfilled
    assert fond(cell(ws, r1, "Objectif entrées au prorata")) is None
    assert fond(cell(ws, r1, "Porteur")) is None
    assert cell(ws, r3, "Entrées").value == "—"
    assert fond(cell(ws, r3, "Entrées")) is None


def test_total_row_is_coloured_by_its_own_colours(classeur, lignes, total):
    ws = openpyxl.load_workbook(classeur)[SHEET_SUIVI]
    ligne_total = ENTETE + 1 + len(lignes)
    assert (total.couleur_entrees, total.couleur_file_active) == ("orange", "rouge")  # 75 of 97,6; 70 of 122
    assert fond(cell(ws, ligne_total, "Entrées")) == "FFEB9C"
    assert fond(cell(ws, ligne_total, "File active")) == "FFC7CE"
    assert fond(cell(ws, ligne_total, "Convention")) == "D9E1F2"


def test_colours_are_also_written_in_words(classeur):
    ws = openpyxl.load_workbook(classeur)[SHEET_SUIVI]
    assert cell(ws, ENTETE + 1, "Points d'attention").value == "rouge : partenariats ; orange : budget"
    assert cell(ws, ENTETE + 2, "Points d'attention").value == (
        "rouge : entrées, sorties positives ; orange : file active"
    )


def test_header_is_frozen_and_filtered_and_the_legend_follows_the_total(classeur, lignes):
    ws = openpyxl.load_workbook(classeur)[SHEET_SUIVI]
    assert ws.freeze_panes == f"C{ENTETE + 1}"
    assert ws.auto_filter.ref == f"A{ENTETE}:Q{ENTETE + len(lignes)}"
    legende = ENTETE + len(lignes) + 3
    assert ws.cell(row=legende, column=1).value == "Légende"
    assert [ws.cell(row=legende + i, column=1).value for i in range(1, 6)] == describe_seuils()


def test_a_porteur_named_like_a_formula_stays_text(classeur):
    wb = openpyxl.load_workbook(classeur)
    c = cell(wb[SHEET_SUIVI], ENTETE + 2, "Porteur")
    assert c.value == "=1+1"
    assert c.data_type == "s"
    labels = [wb[SHEET_GRAPHIQUES].cell(row=r, column=1) for r in range(5, 8)]
    assert any(label.value == "=1+1" and label.data_type == "s" for label in labels)


def test_every_text_cell_is_text(classeur):
    for ws in openpyxl.load_workbook(classeur):
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", c.coordinate


def test_graphiques_holds_three_clustered_bar_charts_realised_against_objective(classeur):
    ws = openpyxl.load_workbook(classeur)[SHEET_GRAPHIQUES]
    charts = ws._charts
    assert len(charts) == 3
    titres = [_texte(chart.title) for chart in charts]
    assert titres == [
        "Entrées : réalisé et objectif au prorata",
        "File active : réalisé et objectif au prorata",
        "Taux de sorties positives : réalisé et objectif au prorata",
    ]
    for chart in charts:
        assert chart.tagname == "barChart"
        assert chart.grouping == "clustered"
        assert len(chart.series) == 2
        assert _texte(chart.x_axis.title) == "Porteur"
        assert _texte(chart.y_axis.title)
        noms = [ws[_plage(s.tx.strRef.f).split("!")[1]].value for s in chart.series]
        assert noms == ["Réalisé", "Objectif au prorata"]
    rows = [chart.anchor._from.row for chart in charts]
    assert rows == sorted(rows) and rows[1] - rows[0] >= 18  # one under the other


def test_charts_show_every_structure_labelled_by_porteur_those_without_bilan_marked_non_renseigne(classeur):
    ws = openpyxl.load_workbook(classeur)[SHEET_GRAPHIQUES]
    assert [ws.cell(row=r, column=1).value for r in range(5, 9)] == [
        "Association Emploi Dijon", "=1+1", "Mission locale Sud (non renseigné)", None,
    ]  # fmt: skip
    assert ws.cell(row=5, column=2).value == 30  # entrées réalisées
    assert ws.cell(row=5, column=3).value == pytest.approx(56 * 212 / 365)
    assert ws.cell(row=6, column=6).value == pytest.approx(0.3)  # taux
    assert ws.cell(row=7, column=2).value is None and ws.cell(row=7, column=3).value is not None
    chart = ws._charts[0]
    for serie, valeurs in zip(chart.series, ("B5:B7", "C5:C7"), strict=True):
        assert _plage(serie.cat.strRef.f) == "Graphiques!A5:A7"  # names, as text
        assert _plage(serie.val.numRef.f) == f"Graphiques!{valeurs}"


def test_a_convention_reported_twice_is_charted_once_with_its_latest_bilan(tmp_path, total):
    lignes = [
        a_ligne("CONV-2018-01", "Association Emploi Dijon"),
        a_ligne("CONV-2018-01", "Association Emploi Dijon", "final 2018", fraction=D(1), entrees=60),
        a_ligne("CONV-2018-02", "Association Emploi Dijon", entrees=10),
    ]
    path = write_rapport_suivi(tmp_path / "s.xlsx", titre="Suivi", arrete_au=FIN, lignes=lignes,
                               total=total, seuils_texte=[])  # fmt: skip
    ws = openpyxl.load_workbook(path)[SHEET_GRAPHIQUES]
    assert [ws.cell(row=r, column=1).value for r in (5, 6, 7)] == [
        "Association Emploi Dijon — CONV-2018-01", "Association Emploi Dijon — CONV-2018-02", None,
    ]  # fmt: skip
    assert ws.cell(row=5, column=2).value == 60


def test_report_before_any_bilan_charts_the_objectives_and_marks_each_structure_non_renseigne(tmp_path, lignes, total):
    a_venir = [lignes[3]]
    path = write_rapport_suivi(tmp_path / "s.xlsx", titre="Suivi", arrete_au=date(2018, 2, 1),
                               lignes=a_venir, total=total, seuils_texte=[])  # fmt: skip
    ws = openpyxl.load_workbook(path)[SHEET_GRAPHIQUES]
    assert len(ws._charts) == 3
    assert ws.cell(row=5, column=1).value == "Association Emploi Dijon (non renseigné)"
    assert ws.cell(row=5, column=2).value is None  # nothing reported
    assert ws.cell(row=5, column=3).value == pytest.approx(float(lignes[3].objectif_entrees))


def test_unknown_colour_is_refused_before_writing(tmp_path, lignes, total):
    path = tmp_path / "s.xlsx"
    with pytest.raises(ValueError, match="couleur inconnue"):
        write_rapport_suivi(path, titre="Suivi", arrete_au=ARRETE, total=total, seuils_texte=[],
                            lignes=[replace(lignes[0], couleur_taux="green")])  # fmt: skip
    assert not path.exists()


def test_report_is_readable_by_its_owner_only_and_leaves_no_temporary_file(classeur):
    assert stat.S_IMODE(os.stat(classeur).st_mode) == 0o600
    assert sorted(p.name for p in classeur.parent.iterdir()) == ["suivi.xlsx"]


def _plage(formule: str) -> str:
    return formule.replace("$", "").replace("'", "")


def _texte(titre) -> str:
    """The plain text of an openpyxl chart or axis title."""
    return "".join(run.t for p in titre.tx.rich.p for run in (p.r or []))
