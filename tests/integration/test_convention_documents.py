"""Convention and avenant documents end to end: .docx, their e-mails, PDFs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from adapters.pdf import convert_to_pdf, soffice_path
from templates.avenant import AvenantData, avenant_context, render_avenant
from templates.convention import (
    ConventionData,
    EcheanceConvention,
    ObjectifsConvention,
    ReferentConvention,
    convention_context,
    render_convention,
)
from templates.mails import render_mail
from templates.render import read_docx_text

UTC = timezone.utc
NOM_PIEGE = "Emploi & Insertion <Côte-d'Or>"
DERNIER = ("Ce renouvellement est le dernier possible : à son terme, la poursuite de l'action "
           "nécessitera une réponse à un nouvel appel à projets.")
MI_PARCOURS = "Situation budgétaire et bilan quantitatif et qualitatif à mi-parcours"
FINAL = "Situation budgétaire et bilan quantitatif et qualitatif de fin d'action, avec justificatifs"
CHANGEMENTS = ("ETP de Sophie Durand : 0,5 → 0,8", "Référent remplacé : Karim Petit par Lina Haddad")


def fr(text: str) -> str:
    """Babel's U+202F / U+00A0 separators as plain spaces, for readable assertions."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def referents() -> tuple[ReferentConvention, ...]:
    return (
        ReferentConvention("Sophie Durand", Decimal("0.5"), Decimal("22000")),
        ReferentConvention("Karim Petit", Decimal("0.2"), Decimal("8900")),
    )


def objectifs(**overrides: Decimal) -> ObjectifsConvention:
    values = dict(entrees=Decimal("39.2"), file_active=Decimal("49.0"),
                  taux_sorties_positives=Decimal("0.50"), partenariats=Decimal("2.1"))
    values.update(overrides)
    return ObjectifsConvention(**values)


def make_convention(**overrides: object) -> ConventionData:
    values: dict[str, object] = dict(
        numero="CONV-2018-001",
        appel_titre="Référents de parcours PLIE",
        appel_annee=2018,
        dossier_numero="2018-003",
        porteur_nom=NOM_PIEGE,
        porteur_siret="73282932000074",
        porteur_adresse="3 rue des Forges\n21000 Dijon",
        representant="Claire Martin, présidente",
        debut=date(2018, 1, 1),
        fin=date(2018, 12, 31),
        referents=referents(),
        etp_total=Decimal("0.7"),
        budget_salaires=Decimal("30900"),
        budget_deplacements=Decimal("1500"),
        budget_autres=Decimal("600"),
        ressources_fse=Decimal("19800"),
        ressources_plie=Decimal("12700"),
        ressources_autres=Decimal("500"),
        objectifs=objectifs(),
        echeances=(  # given out of order: the documents sort them by date
            EcheanceConvention(FINAL, date(2019, 3, 1)),
            EcheanceConvention(MI_PARCOURS, date(2018, 7, 31)),
        ),
        renouvellements_max=2,
        emise_le=datetime(2017, 12, 15, 9, 0, tzinfo=UTC),
    )
    values.update(overrides)
    return ConventionData(**values)  # type: ignore[arg-type]


def make_avenant(nature: str = "prolongation", renouvellement: int | None = 1, **overrides: object) -> AvenantData:
    prolongation = nature == "prolongation"
    annee = 2018 + (renouvellement or 0)
    values: dict[str, object] = dict(
        numero=f"CONV-2018-001-A{renouvellement or 1}",
        ordre=renouvellement or 1,
        nature=nature,
        convention_numero="CONV-2018-001",
        convention_debut=date(2018, 1, 1),
        appel_annee=2018,
        porteur_nom=NOM_PIEGE,
        porteur_siret="73282932000074",
        porteur_adresse="3 rue des Forges\n21000 Dijon",
        representant="Claire Martin, présidente",
        valide_le=date(annee - 1, 12, 10) if prolongation else date(2018, 5, 14),
        instance="comité de pilotage du PLIE",
        renouvellement=renouvellement,
        renouvellements_max=2,
        periode_debut=date(annee, 1, 1) if prolongation else date(2018, 1, 1),
        periode_fin=date(annee, 12, 31) if prolongation else date(2018, 12, 31),
        changements=(f"Période prolongée du 1er janvier au 31 décembre {annee}",) if prolongation else CHANGEMENTS,
        referents=(
            ReferentConvention("Sophie Durand", Decimal("0.8"), Decimal("35200")),
            ReferentConvention("Lina Haddad", Decimal("0.2"), Decimal("8800")),
        ),
        etp_total=Decimal("1"),
        budget_salaires=Decimal("44000"),
        budget_deplacements=Decimal("2000"),
        budget_autres=Decimal("0"),
        ressources_fse=Decimal("27600"),
        ressources_plie=Decimal("18400"),
        ressources_autres=Decimal("0"),
        objectifs=objectifs(entrees=Decimal("56.0"), file_active=Decimal("70.0"), partenariats=Decimal("3.0")),
        echeances=(
            EcheanceConvention(MI_PARCOURS, date(annee if prolongation else 2018, 7, 31)),
            EcheanceConvention(FINAL, date((annee if prolongation else 2018) + 1, 3, 1)),
        ),
        emis_le=datetime(annee - 1, 12, 12, 9, 0, tzinfo=UTC) if prolongation
        else datetime(2018, 5, 15, 9, 0, tzinfo=UTC),
    )
    values.update(overrides)
    return AvenantData(**values)  # type: ignore[arg-type]


def docx_text(path: Path) -> str:
    return fr(read_docx_text(path))


def convention_text(tmp_path: Path, c: ConventionData | None = None, name: str = "convention.docx") -> str:
    return docx_text(render_convention(c or make_convention(), tmp_path / name))


def avenant_text(tmp_path: Path, a: AvenantData, name: str = "avenant.docx") -> str:
    return docx_text(render_avenant(a, tmp_path / name))


def table_rows(path: Path) -> list[list[str]]:
    return [[fr(cell.text) for cell in row.cells] for table in Document(str(path)).tables for row in table.rows]


def following(lines: list[str], heading: str, count: int) -> list[str]:
    start = lines.index(heading)
    return lines[start + 1:start + 1 + count]


def assert_no_template_tag(text: str) -> None:
    for tag in ("{{", "}}", "{%", "%}"):
        assert tag not in text


# --- convention ------------------------------------------------------------------


def test_convention_names_both_parties_and_its_number(tmp_path):
    lines = convention_text(tmp_path).splitlines()
    assert "PLIE du bassin dijonnais — GIP Creativ'" in lines
    assert "Convention de partenariat n° CONV-2018-001" in lines
    assert "Dossier n° 2018-003" in lines
    gip = following(lines, "Entre", 1)[0]
    assert "GIP) Creativ'" in gip and "24 avenue du Lac, 21000 Dijon" in gip
    assert following(lines, "Et", 1) == [
        f"La structure {NOM_PIEGE}, SIRET 732 829 320 00074, dont le siège est situé 3 rue des Forges, "
        "21000 Dijon, représentée par Claire Martin, présidente, ci-après dénommée « la structure »,"
    ]


def test_convention_articles_come_in_order(tmp_path):
    lines = convention_text(tmp_path).splitlines()
    titres = [line for line in lines if line.startswith("Article ")]
    assert titres == [
        "Article 1 — Objet", "Article 2 — Durée", "Article 3 — Référents de parcours",
        "Article 4 — Engagements financiers", "Article 5 — Objectifs",
        "Article 6 — Obligations de suivi", "Article 7 — Résiliation",
    ]


def test_convention_lasts_one_year_in_french_dates_and_states_the_renewal_limit(tmp_path):
    text = convention_text(tmp_path)
    assert "La présente convention est conclue pour une durée d'un an, du 1er janvier 2018 au 31 décembre 2018." in text
    assert ("prolongeable par voie d'avenant après validation par les instances du PLIE, "
            "dans la limite de 2 renouvellements.") in text
    assert "Fait à Dijon, le 15 décembre 2017, en deux exemplaires originaux." in text


def test_renewal_limit_of_one_or_none_reads_right(tmp_path):
    one = convention_text(tmp_path, make_convention(renouvellements_max=1), "one.docx")
    none = convention_text(tmp_path, make_convention(renouvellements_max=0), "none.docx")
    assert "dans la limite d'un renouvellement." in one
    assert "Elle n'est pas renouvelable." in none.splitlines()
    assert "prolongeable" not in none


def test_referents_table_lists_each_referent_with_french_etp_and_euros_and_a_total(tmp_path):
    rows = table_rows(render_convention(make_convention(), tmp_path / "convention.docx"))
    assert ["Référent de parcours", "ETP", "Salaire chargé annuel"] in rows
    assert ["Sophie Durand", "0,5", "22 000,00 €"] in rows
    assert ["Karim Petit", "0,2", "8 900,00 €"] in rows
    assert ["Total (2 référents)", "0,7", "30 900,00 €"] in rows


def test_budget_table_gives_expenses_resources_and_totals(tmp_path):
    rows = table_rows(render_convention(make_convention(), tmp_path / "convention.docx"))
    assert ["Salaires chargés", "30 900,00 €", "FSE", "19 800,00 €"] in rows
    assert ["Frais de déplacement", "1 500,00 €", "PLIE", "12 700,00 €"] in rows
    assert ["Autres dépenses", "600,00 €", "Autres ressources", "500,00 €"] in rows
    assert ["Total des dépenses", "33 000,00 €", "Total des ressources", "33 000,00 €"] in rows


def test_objectives_are_pro_rata_whole_numbers_rounded_up_as_at_least_means(tmp_path):
    lines = convention_text(tmp_path).splitlines()
    assert any(line.startswith("Au prorata des 0,7 ETP conventionnés") for line in lines)
    start = next(i for i, line in enumerate(lines) if line.startswith("Au prorata des"))
    assert lines[start + 1:start + 5] == [
        "au moins 40 entrées de demandeurs d'emploi dans le PLIE ;",
        "au moins 49 personnes en file active ;",
        "50 % de sorties positives ;",
        "3 partenariats durables avec des entreprises, dans le cadre du travail en binôme par secteur d'activité.",
    ]


def test_whole_objectives_have_no_decimals_and_below_two_are_singular(tmp_path):
    c = make_convention(objectifs=objectifs(entrees=Decimal("28.0"), partenariats=Decimal("1.5"),
                                            taux_sorties_positives=Decimal("0.525")))
    text = convention_text(tmp_path, c)
    assert "au moins 28 entrées de demandeurs d'emploi" in text
    assert "2 partenariats durables avec des entreprises" in text
    assert "52,5 % de sorties positives" in text


def test_follow_up_obligations_and_echeances_by_date(tmp_path):
    path = render_convention(make_convention(), tmp_path / "convention.docx")
    text = docx_text(path)
    assert "situation budgétaire à mi-parcours et à la fin de l'action, avec les justificatifs" in text
    assert "bilan quantitatif et qualitatif à mi-parcours et à la fin de l'action" in text
    assert "faire émarger obligatoirement les participants sur une fiche de présence" in text
    assert "publicité du cofinancement par le Fonds social européen (FSE)" in text
    rows = table_rows(path)
    start = rows.index(["Document à remettre", "Au plus tard le"])
    assert rows[start + 1:start + 3] == [[MI_PARCOURS, "31 juillet 2018"], [FINAL, "1er mars 2019"]]


def test_convention_without_echeance_says_they_will_come(tmp_path):
    text = convention_text(tmp_path, make_convention(echeances=()))
    assert "Les échéances seront communiquées par la structure d'animation du PLIE." in text
    assert "31 juillet 2018" not in text


def test_porteur_name_with_ampersand_and_angle_brackets_survives_in_convention(tmp_path):
    text = convention_text(tmp_path)
    assert f"Pour la structure {NOM_PIEGE}" in text.splitlines()
    assert "&amp;" not in text and "&lt;" not in text
    assert "Convention n° CONV-2018-001 — appel à projets 2018 — page 1 sur 1" in text  # footer: not truncated
    assert_no_template_tag(text)


def test_convention_without_siret_address_or_representative_leaves_no_gap(tmp_path):
    c = make_convention(porteur_siret=None, porteur_adresse=None, representant=" ")
    text = convention_text(tmp_path, c)
    assert (f"La structure {NOM_PIEGE}, représentée par son représentant légal, "
            "ci-après dénommée « la structure »,") in text.splitlines()
    assert "Son représentant légal" in text.splitlines()
    assert "SIRET" not in text and "None" not in text
    assert_no_template_tag(text)


def test_inconsistent_conventions_are_refused():
    with pytest.raises(ValueError, match="ETP total"):
        make_convention(etp_total=Decimal("1"))
    with pytest.raises(ValueError, match="période invalide"):
        make_convention(fin=date(2017, 12, 31))
    with pytest.raises(ValueError, match="fuseau"):
        make_convention(emise_le=datetime(2017, 12, 15, 9, 0))
    with pytest.raises(ValueError, match="au moins un référent"):
        make_convention(referents=(), etp_total=Decimal("0"))
    with pytest.raises(ValueError, match="antérieure au début"):
        make_convention(echeances=(EcheanceConvention(MI_PARCOURS, date(2017, 7, 31)),))
    with pytest.raises(ValueError, match="entre 0 et 1"):
        objectifs(taux_sorties_positives=Decimal("50"))
    with pytest.raises(ValueError, match="ETP"):
        ReferentConvention("Anne Dupont", Decimal("1.2"), Decimal("44500"))


def test_float_money_is_refused():
    with pytest.raises(TypeError):
        convention_context(make_convention(budget_salaires=30900.0))


# --- avenant -------------------------------------------------------------------------


def test_first_renewal_states_its_period_and_rank_without_the_last_renewal_sentence(tmp_path):
    text = avenant_text(tmp_path, make_avenant("prolongation", 1))
    lines = text.splitlines()
    assert "Avenant n° 1 à la convention n° CONV-2018-001" in lines
    assert "Prolongation — renouvellement n° 1 sur 2" in lines
    assert ("La convention est renouvelée pour la période du 1er janvier 2019 au 31 décembre 2019 "
            "(renouvellement n° 1 sur 2).") in lines
    assert "dernier possible" not in text
    assert "sans changement de sa période" not in text


def test_last_renewal_says_so_in_bold(tmp_path):
    path = render_avenant(make_avenant("prolongation", 2), tmp_path / "avenant.docx")
    text = docx_text(path)
    assert "La convention est renouvelée pour la période du 1er janvier 2020 au 31 décembre 2020" in text
    assert "(renouvellement n° 2 sur 2)" in text
    paragraph = next(p for p in Document(str(path)).paragraphs if p.text == DERNIER)
    assert paragraph.runs and all(run.bold for run in paragraph.runs)


def test_renewal_up_to_a_higher_maximum_is_last_only_at_the_maximum(tmp_path):
    second_of_three = avenant_text(tmp_path, make_avenant("prolongation", 2, renouvellements_max=3), "a.docx")
    third_of_three = avenant_text(tmp_path, make_avenant("prolongation", 3, renouvellements_max=3), "b.docx")
    assert "(renouvellement n° 2 sur 3)" in second_of_three and DERNIER not in second_of_three
    assert "(renouvellement n° 3 sur 3)" in third_of_three and DERNIER in third_of_three


def test_modification_lists_its_changements_and_keeps_the_period(tmp_path):
    text = avenant_text(tmp_path, make_avenant("modification", None))
    lines = text.splitlines()
    assert "Modification de la convention" in lines
    sentence = ("La convention est modifiée comme suit, sans changement de sa période, qui reste celle "
                "du 1er janvier 2018 au 31 décembre 2018 :")
    assert following(lines, sentence, 2) == list(CHANGEMENTS)
    assert "renouvelée" not in text and "renouvellement n°" not in text and "Prolongation" not in text
    assert "Vu l'article 2" not in text
    assert DERNIER not in text


def test_avenant_visas_name_the_convention_and_its_validation(tmp_path):
    lines = avenant_text(tmp_path, make_avenant("prolongation", 1)).splitlines()
    assert "Vu la convention n° CONV-2018-001 conclue entre les parties à compter du 1er janvier 2018 ;" in lines
    assert ("Vu l'article 2 de la convention, qui permet sa prolongation par voie d'avenant après validation "
            "par les instances du PLIE, dans la limite de 2 renouvellements ;") in lines
    assert ("Vu la validation du présent avenant par les instances du PLIE le 10 décembre 2018 "
            "(comité de pilotage du PLIE) ;") in lines
    without = avenant_text(tmp_path, make_avenant("prolongation", 1, instance=None), "b.docx")
    assert "Vu la validation du présent avenant par les instances du PLIE le 10 décembre 2018 ;" in without


def test_avenant_restates_referents_budget_objectives_and_echeances_of_the_period(tmp_path):
    path = render_avenant(make_avenant("modification", None), tmp_path / "avenant.docx")
    rows = table_rows(path)
    assert ["Sophie Durand", "0,8", "35 200,00 €"] in rows
    assert ["Lina Haddad", "0,2", "8 800,00 €"] in rows
    assert ["Total (2 référents)", "1", "44 000,00 €"] in rows
    assert ["Total des dépenses", "46 000,00 €", "Total des ressources", "46 000,00 €"] in rows
    assert [MI_PARCOURS, "31 juillet 2018"] in rows and [FINAL, "1er mars 2019"] in rows
    text = docx_text(path)
    assert "au moins 56 entrées de demandeurs d'emploi dans le PLIE ;" in text
    assert "au moins 70 personnes en file active ;" in text
    assert "3 partenariats durables avec des entreprises" in text
    assert "Les autres dispositions de la convention demeurent inchangées." in text.splitlines()
    assert "Karim Petit" not in [row[0] for row in rows]


def test_porteur_name_with_ampersand_and_angle_brackets_survives_in_avenant(tmp_path):
    text = avenant_text(tmp_path, make_avenant("prolongation", 2, representant=None))
    assert f"Pour la structure {NOM_PIEGE}" in text.splitlines()
    assert "&amp;" not in text and "&lt;" not in text
    assert "Avenant n° 2 (CONV-2018-001-A2) à la convention n° CONV-2018-001 — page 1 sur 1" in text
    assert_no_template_tag(text)


def test_impossible_avenants_are_refused():
    with pytest.raises(ValueError, match="ne peut être renouvelée que 2 fois"):
        make_avenant("prolongation", 3)
    with pytest.raises(ValueError):
        make_avenant("prolongation", None)
    with pytest.raises(ValueError, match="n'est pas un renouvellement"):
        make_avenant("modification", 1)
    with pytest.raises(ValueError, match="énoncer ses changements"):
        make_avenant("modification", None, changements=(" ",))
    with pytest.raises(ValueError, match="nature"):
        make_avenant("résiliation", None)
    with pytest.raises(ValueError, match="antérieure au début"):
        make_avenant("prolongation", 1, echeances=(EcheanceConvention(MI_PARCOURS, date(2018, 7, 31)),))


# --- e-mails ---------------------------------------------------------------------------


def test_convention_mail_asks_to_sign_and_recalls_start_and_reporting():
    subject, body = render_mail("convention_a_signer", convention_context(make_convention()))
    assert subject == f"Convention n° CONV-2018-001 à signer — {NOM_PIEGE}"
    assert not body.startswith("Objet")
    text = fr(body)
    assert "ci-joint la convention de partenariat n° CONV-2018-001" in text
    assert "pour le portage de 0,7 ETP de référent de parcours PLIE (2 référents)" in text
    assert "du 1er janvier 2018 au 31 décembre 2018 : l'action démarre le 1er janvier 2018." in text
    assert "signés et revêtus du cachet de votre structure" in text
    assert "fiche de présence" in text and "Fonds social européen" in text
    assert f"  - {MI_PARCOURS} : au plus tard le 31 juillet 2018" in text.splitlines()
    assert f"  - {FINAL} : au plus tard le 1er mars 2019" in text.splitlines()
    assert_no_template_tag(body)


def test_convention_mail_subject_stays_on_one_line():
    c = replace(make_convention(), porteur_nom="Intrus\r\nBcc: intrus@example.org")
    subject, _ = render_mail("convention_a_signer", convention_context(c))
    assert "\n" not in subject and "\r" not in subject
    assert subject.endswith("Intrus Bcc: intrus@example.org")


def test_avenant_mail_for_a_first_renewal():
    subject, body = render_mail("avenant_a_signer", avenant_context(make_avenant("prolongation", 1)))
    assert subject == f"Avenant n° 1 à la convention n° CONV-2018-001 à signer — {NOM_PIEGE}"
    assert "Il s'agit du renouvellement n° 1 sur 2 possibles" in body
    assert "période du 1er janvier 2019 au 31 décembre 2019" in body
    assert "dernier possible" not in body and "modification" not in body


def test_avenant_mail_for_the_last_renewal_warns_of_a_new_call():
    _, body = render_mail("avenant_a_signer", avenant_context(make_avenant("prolongation", 2)))
    assert "Il s'agit du renouvellement n° 2 sur 2 possibles" in body
    assert DERNIER in body


def test_avenant_mail_for_a_modification_lists_the_changes():
    _, body = render_mail("avenant_a_signer", avenant_context(make_avenant("modification", None)))
    assert "une modification de la convention n° CONV-2018-001" in body
    assert "Sa période reste celle du 1er janvier 2018 au 31 décembre 2018." in body
    for changement in CHANGEMENTS:
        assert f"  - {changement}" in body.splitlines()
    assert "renouvellement" not in body
    assert_no_template_tag(body)


# --- templates and PDF -----------------------------------------------------------------


def test_convention_and_avenant_convert_to_pdf(tmp_path):
    if soffice_path() is None:
        pytest.skip("LibreOffice (soffice) absent : conversion PDF non testable ici")
    convention = render_convention(make_convention(), tmp_path / "docx" / "CONV-2018-001.docx")
    avenant = render_avenant(make_avenant("prolongation", 2), tmp_path / "docx" / "CONV-2018-001-A2.docx")
    result = convert_to_pdf([convention, avenant], tmp_path / "pdf")
    assert set(result) == {convention.resolve(), avenant.resolve()}

    def pdf_text(path: Path) -> str:
        raw = "\n".join(page.extract_text() for page in PdfReader(path).pages)
        return " ".join(fr(raw).replace("-\n", "-").split())

    convention_pdf = pdf_text(result[convention.resolve()])
    avenant_pdf = pdf_text(result[avenant.resolve()])
    assert "Convention de partenariat n° CONV-2018-001" in convention_pdf
    assert "du 1er janvier 2018 au 31 décembre 2018" in convention_pdf
    assert "30 900,00 €" in convention_pdf and "40 entrées" in convention_pdf
    assert NOM_PIEGE in convention_pdf
    assert "Article 7 — Résiliation" in convention_pdf
    assert "Avenant n° 2 à la convention n° CONV-2018-001" in avenant_pdf
    assert " ".join(DERNIER.split()) in avenant_pdf
    assert NOM_PIEGE in avenant_pdf
