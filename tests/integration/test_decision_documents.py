"""Decision documents end to end: note d'instruction, lettre de décision, its e-mail, PDFs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from adapters.pdf import convert_to_pdf, soffice_path
from templates.lettre_decision import LettreDecisionData, lettre_context, render_lettre
from templates.mails import render_mail
from templates.note_instruction import (
    ConstatLigne,
    NoteInstructionData,
    ReferentLigne,
    note_context,
    render_note,
)
from templates.render import read_docx_text

UTC = timezone.utc
NOM_PIEGE = "Emploi & Insertion <Côte-d'Or>"
QUESTIONS = "Quel est le temps de travail exact du second référent ?\nComment les frais de déplacement sont-ils calculés ?"

RETENU = "le comité a retenu votre dossier"
NON_RETENU = "le comité n'a pas retenu votre dossier"
AJOURNE = "Le comité a ajourné sa décision"


def fr(text: str) -> str:
    """Babel's U+202F / U+00A0 separators as plain spaces, for readable assertions."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def make_note(**overrides: object) -> NoteInstructionData:
    values: dict[str, object] = dict(
        appel_titre="Référents de parcours PLIE",
        appel_annee=2018,
        dossier_numero="2018-003",
        porteur_nom=NOM_PIEGE,
        porteur_siret="73282932000074",
        porteur_adresse="3 rue des Forges\n21000 Dijon",
        contact_nom="Claire Martin",
        contact_email="claire.martin@example.org",
        contact_telephone="03 80 00 00 00",
        recu_le=datetime(2017, 12, 6, 9, 42, tzinfo=UTC),
        canaux=("courriel", "courrier"),
        admission_hors_delai=None,
        referents=(
            ReferentLigne("Anne Dupont", Decimal("1"), Decimal("44000"), Decimal("44500"), True),
            ReferentLigne("Paul Durand", Decimal("0.5"), Decimal("23000"), Decimal("22250"), False),
        ),
        etp_total=Decimal("1.5"),
        budget_salaires=Decimal("67000"),
        budget_deplacements=Decimal("3000"),
        budget_autres=Decimal("500"),
        ressources_fse=Decimal("40000"),
        ressources_plie=Decimal("29500"),
        ressources_autres=Decimal("1000"),
        constats=(
            ConstatLigne("information", "Frais de déplacement prévus au budget"),
            ConstatLigne("bloquant", "Salaire de Paul Durand supérieur au plafond au prorata"),
            ConstatLigne("réserve", "CV de Paul Durand à compléter"),
        ),
        avis="réservé",
        avis_motifs=("Plafond salarial dépassé pour un référent", "Budget à équilibrer"),
        version=1,
        instruit_le=datetime(2017, 12, 9, 13, 30, tzinfo=UTC),
        historique=(),
        plafond_etp=Decimal("44500"),
        objectifs=("56 entrées par ETP et par an", "70 personnes en file active", "50 % de sorties positives"),
    )
    values.update(overrides)
    return NoteInstructionData(**values)  # type: ignore[arg-type]


def make_lettre(decision: str = "retenu", **overrides: object) -> LettreDecisionData:
    values: dict[str, object] = dict(
        appel_titre="Référents de parcours PLIE",
        appel_annee=2018,
        dossier_numero="2018-003",
        porteur_nom=NOM_PIEGE,
        porteur_adresse="3 rue des Forges\nBP 12\n21000 Dijon",
        contact_nom="Claire Martin",
        decision=decision,
        motif="Budget déséquilibré et plafond salarial dépassé" if decision == "non retenu" else None,
        questions=QUESTIONS if decision == "ajourné" else None,
        reponse_avant=date(2018, 1, 5) if decision == "ajourné" else None,
        comite_le=date(2017, 12, 11),
        etp_retenus=Decimal("1.5"),
        debut_convention=date(2018, 1, 1),
        emis_le=datetime(2017, 12, 12, 9, 0, tzinfo=UTC),
        numero_courrier="DEC-2018-003-1",
    )
    values.update(overrides)
    return LettreDecisionData(**values)  # type: ignore[arg-type]


def note_text(tmp_path: Path, note: NoteInstructionData, name: str = "note.docx") -> str:
    return fr(read_docx_text(render_note(note, tmp_path / name)))


def lettre_text(tmp_path: Path, lettre: LettreDecisionData) -> str:
    return fr(read_docx_text(render_lettre(lettre, tmp_path / f"{lettre.decision}.docx")))


def table_rows(path: Path) -> list[list[str]]:
    rows = []
    for table in Document(str(path)).tables:
        for row in table.rows:
            rows.append([fr(cell.text) for cell in row.cells])
    return rows


# --- note d'instruction --------------------------------------------------------


def test_note_states_number_version_structure_and_french_dates(tmp_path):
    text = note_text(tmp_path, make_note())
    lines = text.splitlines()
    assert "PLIE du bassin dijonnais — GIP Creativ'" in lines
    assert "Note d'instruction — dossier n° 2018-003" in lines
    assert "Version 1 — instruite le 9 décembre 2017" in lines
    assert f"Structure : {NOM_PIEGE}" in lines
    assert "SIRET : 732 829 320 00074" in lines
    assert "Adresse : 3 rue des Forges, 21000 Dijon" in lines
    assert "Contact : Claire Martin — claire.martin@example.org — 03 80 00 00 00" in lines
    assert "Dossier reçu le 6 décembre 2017 à 10 h 42 ; canaux reçus : courriel et courrier postal." in lines
    assert "hors délai" not in text


def test_porteur_name_with_ampersand_and_angle_brackets_renders_intact_in_note(tmp_path):
    text = note_text(tmp_path, make_note())
    assert NOM_PIEGE in text
    assert "&amp;" not in text and "&lt;" not in text
    assert "La structure d'animation du PLIE du bassin dijonnais" in text  # not truncated


def test_referents_table_has_one_row_per_referent_and_a_total_row(tmp_path):
    rows = table_rows(render_note(make_note(), tmp_path / "note.docx"))
    assert ["Référent", "ETP", "Salaire chargé", "Plafond au prorata", "Conforme"] in rows
    assert ["Anne Dupont", "1", "44 000,00 €", "44 500,00 €", "oui"] in rows
    assert ["Paul Durand", "0,5", "23 000,00 €", "22 250,00 €", "non"] in rows
    assert ["Total (2)", "1,5", "67 000,00 €", "66 750,00 €", "non"] in rows


def test_note_without_referent_says_so(tmp_path):
    text = note_text(tmp_path, make_note(referents=(), etp_total=Decimal("0")))
    assert "Aucun référent n'est proposé dans le dossier." in text
    assert "Coût total par ETP : non calculable" in text


def test_budget_totals_and_gap_when_expenses_differ_from_resources(tmp_path):
    note = make_note(ressources_plie=Decimal("28500"))
    path = render_note(note, tmp_path / "note.docx")
    rows = table_rows(path)
    assert ["Total des dépenses", "70 500,00 €", "Total des ressources", "69 500,00 €"] in rows
    assert ["Frais de déplacement", "3 000,00 €", "PLIE", "28 500,00 €"] in rows
    text = fr(read_docx_text(path))
    assert "Équilibre du budget : écart de 1 000,00 € (dépenses supérieures aux ressources)." in text
    assert "Coût total par ETP : 47 000,00 € ; salaire chargé moyen par ETP : 44 666,67 €" in text
    assert "Plafond du coût salarial chargé : 44 500,00 € par ETP, au prorata du temps de travail." in text


def test_balanced_budget_is_equilibre(tmp_path):
    text = note_text(tmp_path, make_note())
    assert "Équilibre du budget : équilibré." in text
    assert "écart" not in text


def test_missing_budget_lines_are_non_renseigne_and_left_out_of_totals(tmp_path):
    note = make_note(budget_autres=None, ressources_autres=None, ressources_plie=Decimal("30000"))
    path = render_note(note, tmp_path / "note.docx")
    rows = table_rows(path)
    assert ["Autres dépenses", "non renseigné", "Autres ressources", "non renseigné"] in rows
    assert ["Total des dépenses", "70 000,00 €", "Total des ressources", "70 000,00 €"] in rows


def test_balance_is_not_computable_without_any_resource():
    context = note_context(make_note(ressources_fse=None, ressources_plie=None, ressources_autres=None))
    assert context["total_ressources"] == "non renseigné"
    assert context["equilibre"] == "non calculable"


def test_objectives_are_recalled_line_by_line(tmp_path):
    lines = note_text(tmp_path, make_note()).splitlines()
    start = lines.index("Rappel des objectifs de l'appel à projets")
    assert lines[start + 1:start + 4] == [
        "56 entrées par ETP et par an", "70 personnes en file active", "50 % de sorties positives",
    ]


def test_constats_are_grouped_by_gravite_most_serious_first(tmp_path):
    lines = note_text(tmp_path, make_note()).splitlines()
    start = lines.index("Constats de l'instruction")
    assert lines[start + 1:start + 7] == [
        "Points bloquants (1)", "Salaire de Paul Durand supérieur au plafond au prorata",
        "Réserves (1)", "CV de Paul Durand à compléter",
        "Pour information (1)", "Frais de déplacement prévus au budget",
    ]
    assert "Aucun constat." not in lines


def test_note_without_constat_says_so_and_leaves_no_template_tag(tmp_path):
    text = note_text(tmp_path, make_note(constats=()))
    assert "Aucun constat." in text.splitlines()
    assert "Points bloquants" not in text
    assert "{%" not in text and "{{" not in text and "%}" not in text


def test_avis_is_bold_and_followed_by_its_motifs(tmp_path):
    path = render_note(make_note(), tmp_path / "note.docx")
    paragraphs = Document(str(path)).paragraphs
    index = next(i for i, p in enumerate(paragraphs) if p.text == "Avis réservé")
    assert all(run.bold for run in paragraphs[index].runs)
    assert [p.text for p in paragraphs[index + 1:index + 3]] == [
        "Plafond salarial dépassé pour un référent", "Budget à équilibrer",
    ]


def test_history_paragraph_only_when_version_above_one(tmp_path):
    first = note_text(tmp_path, make_note(), "v1.docx")
    second = note_text(tmp_path, make_note(
        version=3, avis="favorable",
        historique=(
            (datetime(2017, 12, 10, 8, 0, tzinfo=UTC), "réservé"),
            (datetime(2017, 12, 8, 15, 0, tzinfo=UTC), "défavorable"),
        ),
    ), "v3.docx")
    assert "Historique" not in first and "Instruction précédente" not in first
    lines = second.splitlines()
    assert "Version 3 — instruite le 9 décembre 2017" in lines
    start = lines.index("Historique")
    assert lines[start + 1:start + 3] == [
        "Instruction précédente du 8 décembre 2017 à 16 h 00 : avis défavorable.",
        "Instruction précédente du 10 décembre 2017 à 9 h 00 : avis réservé.",
    ]
    assert "Avis favorable" in lines


def test_late_dossier_admitted_by_the_sa_states_the_motif(tmp_path):
    motif = "Retard de La Poste attesté par le cachet du 6 décembre"
    text = note_text(tmp_path, make_note(admission_hors_delai=motif))
    assert f"Dossier reçu hors délai, admis à l'instruction par le PLIE : {motif}" in text


def test_first_instruction_with_a_history_is_refused():
    with pytest.raises(ValueError):
        make_note(historique=((datetime(2017, 12, 8, tzinfo=UTC), "favorable"),))


def test_unknown_gravite_or_avis_and_naive_date_are_refused():
    with pytest.raises(ValueError):
        ConstatLigne("grave", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        make_note(avis="mitigé")
    with pytest.raises(ValueError):
        make_note(instruit_le=datetime(2017, 12, 9, 13, 30))


def test_float_money_is_refused():
    with pytest.raises(TypeError):
        note_context(make_note(budget_salaires=67000.0))


# --- lettre de décision ---------------------------------------------------------


def test_the_letter_is_addressed_with_elision(tmp_path):
    lines = lettre_text(tmp_path, make_lettre(contact_nom="Hervé Bonnot")).splitlines()
    assert "À l'attention d'Hervé Bonnot" in lines


def test_letter_is_a_formal_french_letter(tmp_path):
    lines = lettre_text(tmp_path, make_lettre()).splitlines()
    assert "Dijon, le 12 décembre 2017" in lines
    start = lines.index(NOM_PIEGE)
    assert lines[start + 1:start + 5] == ["À l'attention de Claire Martin", "3 rue des Forges", "BP 12", "21000 Dijon"]
    assert ("Objet : Appel à projets 2018 « Référents de parcours PLIE » — décision du comité de pilotage "
            "du 11 décembre 2017") in lines
    assert "Madame, Monsieur," in lines
    assert "La coordinatrice du PLIE" in lines
    assert "Courrier n° DEC-2018-003-1 — dossier n° 2018-003" in lines


def test_retained_letter_gives_etp_convention_fse_and_reporting(tmp_path):
    text = lettre_text(tmp_path, make_lettre("retenu"))
    assert f"{RETENU}, pour 1,5 ETP de référent de parcours PLIE." in text
    assert "Une convention d'une durée d'un an, à compter du 1er janvier 2018, vous sera adressée" in text
    assert "déposer un dossier de demande FSE auprès du service gestionnaire du FSE" in text
    assert "situation budgétaire à mi-parcours et à la fin de l'action" in text
    assert "bilan quantitatif et qualitatif à mi-parcours et à la fin de l'action" in text
    assert "fiche de présence" in text
    assert NON_RETENU not in text and AJOURNE not in text


def test_rejected_letter_gives_only_its_motif(tmp_path):
    text = lettre_text(tmp_path, make_lettre("non retenu"))
    assert f"{NON_RETENU}, pour le motif suivant :" in text
    assert "Budget déséquilibré et plafond salarial dépassé" in text.splitlines()
    assert RETENU not in text and AJOURNE not in text
    assert "convention" not in text and "FSE" not in text


def test_postponed_letter_lists_questions_line_by_line_and_the_deadline(tmp_path):
    text = lettre_text(tmp_path, make_lettre("ajourné"))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(AJOURNE))
    assert lines[start + 1:start + 3] == QUESTIONS.splitlines()
    assert "par courriel, à l'adresse à laquelle vous avez envoyé votre dossier, au plus tard le 5 janvier 2018" in text
    assert "examinées lors du prochain comité de pilotage" in text
    assert RETENU not in text and NON_RETENU not in text and "FSE" not in text


def test_porteur_name_with_ampersand_and_angle_brackets_renders_intact_in_letter(tmp_path):
    text = lettre_text(tmp_path, make_lettre("ajourné"))
    assert NOM_PIEGE in text.splitlines()
    assert "&amp;" not in text and "&lt;" not in text
    assert "La coordinatrice du PLIE" in text


def test_letter_without_contact_or_address_has_no_empty_line_for_them(tmp_path):
    text = lettre_text(tmp_path, make_lettre(contact_nom=None, porteur_adresse=None))
    lines = text.splitlines()
    assert "À l'attention de" not in text
    assert lines[lines.index(NOM_PIEGE) + 1] == "Réf. : courrier n° DEC-2018-003-1"


def test_incomplete_decisions_are_refused():
    with pytest.raises(ValueError):
        make_lettre("non retenu", motif="  ")
    with pytest.raises(ValueError):
        make_lettre("ajourné", questions=None)
    with pytest.raises(ValueError):
        make_lettre("ajourné", reponse_avant=None)
    with pytest.raises(ValueError):
        make_lettre("retenu", etp_retenus=Decimal("0"))
    with pytest.raises(ValueError):
        make_lettre("refusé")


# --- notification e-mail ----------------------------------------------------------


def test_notification_subject_states_the_decision_on_one_line():
    subject, body = render_mail("notification_decision", lettre_context(make_lettre("retenu")))
    assert subject == "Appel à projets 2018 — décision du comité de pilotage : dossier 2018-003 retenu"
    assert not body.startswith("Objet")
    assert "ci-joint le courrier de notification n° DEC-2018-003-1" in body
    assert "à compter du 1er janvier 2018" in body


def test_notification_subject_has_no_line_break_even_if_a_value_has_one():
    lettre = replace(make_lettre("non retenu"), dossier_numero="2018-003\r\nBcc: intrus@example.org")
    subject, _ = render_mail("notification_decision", lettre_context(lettre))
    assert "\n" not in subject and "\r" not in subject
    assert subject.endswith("dossier 2018-003 Bcc: intrus@example.org non retenu")


def test_postponed_notification_mail_gives_questions_and_date():
    _, body = render_mail("notification_decision", lettre_context(make_lettre("ajourné")))
    lines = body.splitlines()
    for question in QUESTIONS.splitlines():
        assert f"  {question}" in lines
    assert "au plus tard le 5 janvier 2018" in body
    assert "retenu" not in body


def test_rejected_notification_mail_gives_the_motif():
    _, body = render_mail("notification_decision", lettre_context(make_lettre("non retenu")))
    assert "  Budget déséquilibré et plafond salarial dépassé" in body.splitlines()
    assert "convention" not in body


# --- PDF -------------------------------------------------------------------------


def test_note_and_letter_convert_to_pdf_with_their_numbers(tmp_path):
    if soffice_path() is None:
        pytest.skip("LibreOffice (soffice) absent : conversion PDF non testable ici")
    note = render_note(make_note(version=2, historique=((datetime(2017, 12, 8, tzinfo=UTC), "réservé"),)),
                       tmp_path / "docx" / "note_2018-003.docx")
    lettre = render_lettre(make_lettre("ajourné"), tmp_path / "docx" / "lettre_2018-003.docx")
    result = convert_to_pdf([note, lettre], tmp_path / "pdf")
    assert set(result) == {note.resolve(), lettre.resolve()}
    note_pdf = fr("".join(page.extract_text() for page in PdfReader(result[note.resolve()]).pages))
    lettre_pdf = fr("".join(page.extract_text() for page in PdfReader(result[lettre.resolve()]).pages))
    assert "dossier n° 2018-003" in note_pdf
    assert "écart" not in note_pdf and "équilibré" in note_pdf
    assert "DEC-2018-003-1" in lettre_pdf
    assert NOM_PIEGE in lettre_pdf
