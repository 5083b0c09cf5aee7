"""Suivi documents end to end: accusé de réception de bilan, fiche de présence, synthèse du
suivi, the suivi e-mails (demande, relance, accusé, digest), and PDFs."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from pypdf import PdfReader

from adapters.pdf import convert_to_pdf, soffice_path
from templates.accuse_bilan import AccuseBilanData, accuse_context, render_accuse
from templates.fiche_presence import FichePresenceData, fiche_context, render_fiche
from templates.mails import render_mail
from templates.render import read_docx_text
from templates.suivi_mails import demande_context, digest_context, relance_context
from templates.synthese_suivi import (
    ConventionSuivi,
    IndicateurLigne,
    SyntheseSuiviData,
    render_synthese_suivi,
    synthese_suivi_context,
)

UTC = timezone.utc
NOM_PIEGE = "Emploi & Insertion <Côte-d'Or>"
SHA_BILAN = "3f" * 32
SHA_JUSTIF = "a1" * 32
ERREURS = (
    "Le nombre d'entrées réalisées n'est pas renseigné.",
    "Le total des dépenses (21 000,00 €) ne correspond pas à la somme des lignes (20 000,00 €).",
)
MENTION_FSE = ("Cette action est cofinancée par le Fonds social européen dans le cadre du programme "
               "opérationnel national « Emploi et Inclusion »")
PIED_FICHE = "À conserver : pièce justificative pour le contrôle de service fait du FSE."
REFUS = "Le bilan ne peut pas être accepté en l'état :"
ACCEPTE = "Le bilan est complet et cohérent."
RENVOI = "Merci de renvoyer un bilan corrigé en répondant à ce message."


def fr(text: str) -> str:
    """Babel's U+202F / U+00A0 separators as plain spaces, for readable assertions."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


def assert_no_template_tag(text: str) -> None:
    for tag in ("{%", "%}", "{{", "}}", "cellbg"):
        assert tag not in text


def make_accuse(**overrides: object) -> AccuseBilanData:
    values: dict[str, object] = dict(
        numero="BIL-2018-0001",
        convention_numero="CONV-2018-003",
        periode="mi-parcours",
        periode_debut=date(2018, 1, 1),
        periode_fin=date(2018, 6, 30),
        porteur_nom=NOM_PIEGE,
        recu_le=datetime(2018, 7, 9, 8, 5, tzinfo=UTC),
        pieces=(("bilan_CONV-2018-003.xlsx", 45678, SHA_BILAN), ("justificatifs.pdf", 812, SHA_JUSTIF)),
        erreurs=(),
        emis_le=datetime(2018, 7, 9, 8, 6, tzinfo=UTC),
    )
    values.update(overrides)
    return AccuseBilanData(**values)  # type: ignore[arg-type]


def make_fiche(**overrides: object) -> FichePresenceData:
    values: dict[str, object] = dict(
        convention_numero="CONV-2018-003", porteur_nom=NOM_PIEGE, referent="Anne Dupont",
        mois=date(2018, 3, 1),
    )
    values.update(overrides)
    return FichePresenceData(**values)  # type: ignore[arg-type]


INDICATEURS = (
    IndicateurLigne("Entrées", "30", "28", "vert"),
    IndicateurLigne("Personnes en file active", "29", "35", "orange"),
    IndicateurLigne("Sorties positives", "20 %", "50 %", "rouge"),
    IndicateurLigne("Partenariats entreprises", "non renseigné", "3", "—"),
)


def make_convention_suivi(**overrides: object) -> ConventionSuivi:
    values: dict[str, object] = dict(
        convention_numero="CONV-2018-003", porteur_nom=NOM_PIEGE,
        periode="du 1er janvier 2018 au 30 juin 2018", etp=Decimal("1.5"), indicateurs=INDICATEURS,
        budget_consomme=Decimal("20000"), budget_prevu=Decimal("70500"),
        commentaire="Démarrage rapide des entrées.\nUn référent remplacé en avril.",
    )
    values.update(overrides)
    return ConventionSuivi(**values)  # type: ignore[arg-type]


def make_synthese(**overrides: object) -> SyntheseSuiviData:
    second = make_convention_suivi(
        convention_numero="CONV-2018-007", porteur_nom="Atelier du Lac", etp=Decimal("1"),
        indicateurs=(IndicateurLigne("Entrées", "25", "28", "orange"),),
        budget_consomme=None, budget_prevu=Decimal("47000"), commentaire=None,
    )
    total = make_convention_suivi(
        convention_numero="PLIE", porteur_nom="PLIE du bassin dijonnais", etp=Decimal("2.5"),
        indicateurs=(IndicateurLigne("Entrées", "55", "70", "orange"),),
        budget_consomme=Decimal("20000"), budget_prevu=Decimal("117500"), commentaire=None,
    )
    values: dict[str, object] = dict(
        appel_annee=2018, arrete_au=date(2018, 6, 30),
        conventions=(make_convention_suivi(), second), total=total,
        points_attention=("Sorties positives très en deçà de l'objectif pour CONV-2018-003.",
                          "Situation budgétaire de CONV-2018-007 non transmise."),
        emise_le=datetime(2018, 7, 10, 9, 0, tzinfo=UTC),
    )
    values.update(overrides)
    return SyntheseSuiviData(**values)  # type: ignore[arg-type]


def docx_lines(path: Path) -> list[str]:
    return fr(read_docx_text(path)).splitlines()


def table_rows(path: Path) -> list[list[str]]:
    return [[fr(cell.text) for cell in row.cells] for table in Document(str(path)).tables for row in table.rows]


# --- accusé de réception de bilan ------------------------------------------------------


def test_accepted_receipt_states_number_period_reception_and_pieces(tmp_path):
    path = render_accuse(make_accuse(), tmp_path / "accuse.docx")
    lines = docx_lines(path)
    assert "Accusé de réception n° BIL-2018-0001 — bilan à mi-parcours" in lines
    assert "Convention n° CONV-2018-003 — période du 1er janvier 2018 au 30 juin 2018" in lines
    assert any("accuse réception, le 9 juillet 2018 à 10 h 05, du bilan à mi-parcours" in line for line in lines)
    rows = table_rows(path)
    assert ["Pièce", "Taille", "Empreinte SHA-256"] in rows
    assert ["bilan_CONV-2018-003.xlsx", "45,7 ko", SHA_BILAN] in rows
    assert ["justificatifs.pdf", "812 o", SHA_JUSTIF] in rows
    assert ACCEPTE in lines
    assert REFUS not in lines and RENVOI not in lines
    assert "Fait à Dijon, le 9 juillet 2018" in lines
    assert_no_template_tag("\n".join(lines))


def test_refused_receipt_lists_every_error_then_asks_for_a_corrected_bilan(tmp_path):
    lines = docx_lines(render_accuse(make_accuse(erreurs=ERREURS), tmp_path / "refus.docx"))
    start = lines.index(REFUS)
    assert lines[start + 1:start + 4] == [fr(ERREURS[0]), fr(ERREURS[1]), RENVOI]
    assert ACCEPTE not in lines
    assert_no_template_tag("\n".join(lines))


def test_final_receipt_is_titled_bilan_final(tmp_path):
    accuse = make_accuse(periode="final", periode_debut=date(2018, 7, 1), periode_fin=date(2018, 12, 31))
    lines = docx_lines(render_accuse(accuse, tmp_path / "final.docx"))
    assert "Accusé de réception n° BIL-2018-0001 — bilan final" in lines
    assert "Convention n° CONV-2018-003 — période du 1er juillet 2018 au 31 décembre 2018" in lines
    assert "mi-parcours" not in "\n".join(lines)


def test_receipt_without_any_file_says_so(tmp_path):
    accuse = make_accuse(pieces=(), erreurs=("Aucun formulaire de bilan n'est joint au message.",))
    lines = docx_lines(render_accuse(accuse, tmp_path / "vide.docx"))
    assert "Aucun fichier n'a été reçu avec ce bilan." in lines
    assert "Aucun formulaire de bilan n'est joint au message." in lines


def test_porteur_name_with_ampersand_and_angle_brackets_renders_intact_in_receipt(tmp_path):
    text = fr(read_docx_text(render_accuse(make_accuse(erreurs=ERREURS), tmp_path / "accuse.docx")))
    assert f"de la structure {NOM_PIEGE}, au titre de la convention" in text
    assert "&amp;" not in text and "&lt;" not in text
    assert "L'équipe d'animation du PLIE du bassin dijonnais" in text  # not truncated


def test_inconsistent_receipts_are_refused():
    with pytest.raises(ValueError):
        make_accuse(periode="annuel")
    with pytest.raises(ValueError):
        make_accuse(periode_fin=date(2017, 12, 31))
    with pytest.raises(ValueError):
        make_accuse(recu_le=datetime(2018, 7, 9, 8, 5))
    with pytest.raises(ValueError):
        make_accuse(pieces=())  # accepted, yet nothing received
    with pytest.raises(ValueError):
        make_accuse(pieces=(("bilan.xlsx", -1, SHA_BILAN),))


# --- fiche de présence ------------------------------------------------------------------


def test_fiche_names_the_month_in_french_the_fse_the_convention_and_the_referent(tmp_path):
    lines = docx_lines(render_fiche(make_fiche(), tmp_path / "fiche.docx"))
    assert "Fiche de présence — mars 2018" in lines
    assert MENTION_FSE in lines
    assert f"Convention n° CONV-2018-003 — structure : {NOM_PIEGE}" in lines
    assert "Référent de parcours : Anne Dupont" in lines
    assert PIED_FICHE in lines
    assert "PLIE du bassin dijonnais — GIP Creativ'" in lines
    assert_no_template_tag("\n".join(lines))


@pytest.mark.parametrize("lignes", [20, 7, 1])
def test_fiche_has_a_header_row_and_one_empty_row_per_line(tmp_path, lignes):
    fiche = make_fiche() if lignes == 20 else make_fiche(lignes=lignes)
    path = render_fiche(fiche, tmp_path / f"fiche_{lignes}.docx")
    (table,) = Document(str(path)).tables
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert len(rows) == 1 + lignes
    assert rows[0] == ["Date", "Nom", "Prénom", "Objet de l'entretien", "Signature du participant",
                       "Signature du référent"]
    assert all(cells == [""] * 6 for cells in rows[1:])


def test_fiche_is_a4_landscape(tmp_path):
    section = Document(str(render_fiche(make_fiche(), tmp_path / "fiche.docx"))).sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert round(section.page_width.mm) == 297 and round(section.page_height.mm) == 210


def test_fiche_month_is_spelled_without_the_day():
    assert fiche_context(make_fiche(mois=date(2018, 1, 1)))["mois"] == "janvier 2018"
    assert fiche_context(make_fiche(mois=date(2019, 12, 1)))["mois"] == "décembre 2019"


def test_fiche_refuses_a_mid_month_day_or_an_empty_table():
    with pytest.raises(ValueError):
        make_fiche(mois=date(2018, 3, 15))
    with pytest.raises(ValueError):
        make_fiche(lignes=0)
    with pytest.raises(ValueError):
        make_fiche(lignes=500)
    with pytest.raises(ValueError):
        make_fiche(referent="  ")


# --- synthèse du suivi ------------------------------------------------------------------


def test_synthese_title_intro_and_one_block_per_convention(tmp_path):
    path = render_synthese_suivi(make_synthese(), tmp_path / "synthese.docx")
    lines = docx_lines(path)
    assert "Suivi des conventions — situation au 30 juin 2018" in lines
    assert "Établie le 10 juillet 2018" in lines
    assert any(line.startswith("Cette synthèse consolide le suivi de 2 conventions de l'appel à projets 2018, "
                               "arrêté au 30 juin 2018.") for line in lines)
    assert f"Convention n° CONV-2018-003 — {NOM_PIEGE}" in lines
    assert "Période : du 1er janvier 2018 au 30 juin 2018 — effectif conventionné : 1,5 ETP" in lines
    assert "Budget consommé : 20 000,00 € sur 70 500,00 € prévus (28 %)." in lines
    start = lines.index("Budget consommé : 20 000,00 € sur 70 500,00 € prévus (28 %).")
    assert lines[start + 1:start + 3] == ["Démarrage rapide des entrées.", "Un référent remplacé en avril."]
    assert "Convention n° CONV-2018-007 — Atelier du Lac" in lines
    assert "Budget consommé : non renseigné (budget prévu : 47 000,00 €)." in lines
    assert_no_template_tag("\n".join(lines))


def test_indicators_show_realise_objective_and_appreciation_in_words(tmp_path):
    rows = table_rows(render_synthese_suivi(make_synthese(), tmp_path / "synthese.docx"))
    assert ["Indicateur", "Réalisé", "Objectif au prorata", "Appréciation"] in rows
    assert ["Entrées", "30", "28", "satisfaisant"] in rows
    assert ["Personnes en file active", "29", "35", "à surveiller"] in rows
    assert ["Sorties positives", "20 %", "50 %", "insuffisant"] in rows
    assert ["Partenariats entreprises", "non renseigné", "3", "non évaluable"] in rows
    assert ["Entrées", "25", "28", "à surveiller"] in rows


def test_appreciation_cell_is_shaded_with_its_colour(tmp_path):
    path = render_synthese_suivi(make_synthese(), tmp_path / "synthese.docx")
    fills = {}
    for table in Document(str(path)).tables:
        for row in table.rows[1:]:
            cell = row.cells[3]
            shd = cell._tc.tcPr.find(qn("w:shd"))
            fills.setdefault(cell.text, set()).add(shd.get(qn("w:fill")) if shd is not None else None)
    assert fills["satisfaisant"] == {"C6EFCE"}
    assert fills["à surveiller"] == {"FFEB9C"}
    assert fills["insuffisant"] == {"FFC7CE"}
    assert fills["non évaluable"] == {"FFFFFF"}


def test_synthese_ends_with_the_plie_total_and_the_points_of_attention(tmp_path):
    lines = docx_lines(render_synthese_suivi(make_synthese(), tmp_path / "synthese.docx"))
    total = lines.index("Ensemble du PLIE")
    assert lines[total + 1] == "Période : du 1er janvier 2018 au 30 juin 2018 — effectif conventionné : 2,5 ETP"
    assert "Budget consommé : 20 000,00 € sur 117 500,00 € prévus (17 %)." in lines[total:]
    points = lines.index("Points d'attention")
    assert points > total
    assert lines[points + 1:points + 3] == [
        "Sorties positives très en deçà de l'objectif pour CONV-2018-003.",
        "Situation budgétaire de CONV-2018-007 non transmise.",
    ]
    assert "Aucun point d'attention." not in lines


def test_synthese_without_convention_or_point_of_attention_says_so(tmp_path):
    synthese = make_synthese(conventions=(), points_attention=())
    lines = docx_lines(render_synthese_suivi(synthese, tmp_path / "vide.docx"))
    assert "Aucune convention n'est en cours de suivi." in lines
    assert "Aucun point d'attention." in lines
    assert "Ensemble du PLIE" in lines
    assert_no_template_tag("\n".join(lines))


def test_porteur_name_with_ampersand_and_angle_brackets_renders_intact_in_synthese(tmp_path):
    text = fr(read_docx_text(render_synthese_suivi(make_synthese(), tmp_path / "synthese.docx")))
    assert NOM_PIEGE in text and "&amp;" not in text and "&lt;" not in text
    assert "La structure d'animation du PLIE du bassin dijonnais" in text


def test_budget_rate_is_not_computable_without_a_planned_budget():
    context = synthese_suivi_context(make_synthese(total=make_convention_suivi(budget_prevu=Decimal("0"))))
    assert context["total"]["taux_consommation"] == "non calculable"  # type: ignore[index]


def test_unknown_colour_float_money_and_naive_date_are_refused():
    with pytest.raises(ValueError):
        IndicateurLigne("Entrées", "1", "2", "bleu")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        synthese_suivi_context(make_synthese(total=make_convention_suivi(budget_consomme=20000.0)))
    with pytest.raises(ValueError):
        make_synthese(emise_le=datetime(2018, 7, 10, 9, 0))


# --- e-mails ------------------------------------------------------------------------------

DEMANDE = dict(
    convention_numero="CONV-2018-003", porteur_nom=NOM_PIEGE, periode="mi-parcours",
    periode_debut=date(2018, 1, 1), periode_fin=date(2018, 6, 30), date_limite=date(2018, 7, 15),
    formulaire_nom="bilan_CONV-2018-003_mi-parcours.xlsx",
)


def test_bilan_request_attaches_the_form_and_asks_for_justificatifs():
    subject, body = render_mail("demande_bilan", demande_context(**DEMANDE))
    assert subject == (f"Bilan à mi-parcours de la convention n° CONV-2018-003 à retourner au plus tard le "
                       f"15 juillet 2018 — {NOM_PIEGE}")
    assert not body.startswith("Objet")
    assert "bilan à mi-parcours de l'action, pour la période du 1er janvier 2018 au 30 juin 2018, " \
           "au plus tard le 15 juillet 2018" in body
    assert "(bilan_CONV-2018-003_mi-parcours.xlsx)" in body
    assert "Merci de répondre à ce message en y joignant :" in body
    assert "  - les justificatifs de dépenses et de ressources dont il donne la liste." in body.splitlines()
    assert "les fiches de présence émargées par les participants sont à conserver" in body
    assert_no_template_tag(body)


def test_bilan_request_with_a_deadline_hour_gives_it_in_paris_time():
    context = demande_context(**{**DEMANDE, "date_limite": datetime(2018, 7, 15, 15, 0, tzinfo=UTC)})
    assert context["date_limite"] == "15 juillet 2018 à 17 h 00"


def test_reminder_gives_its_rank_and_the_delay():
    subject, body = render_mail("relance_bilan", relance_context(**DEMANDE, rang=1, retard_jours=3))
    assert subject.startswith("Première relance — bilan à mi-parcours de la convention n° CONV-2018-003 "
                              "attendu le 15 juillet 2018")
    assert "il accuse donc un retard de 3 jours. Ce message est notre première relance." in body
    assert "(bilan_CONV-2018-003_mi-parcours.xlsx)" in body
    assert "fiches de présence" in body
    _, second = render_mail("relance_bilan", relance_context(**DEMANDE, rang=2, retard_jours=1))
    assert "un retard de 1 jour. Ce message est notre deuxième relance." in second


def test_reminder_needs_a_rank_and_a_delay():
    with pytest.raises(ValueError):
        relance_context(**DEMANDE, rang=0, retard_jours=3)
    with pytest.raises(ValueError):
        relance_context(**DEMANDE, rang=1, retard_jours=0)
    with pytest.raises(ValueError):
        demande_context(**{**DEMANDE, "periode": "trimestriel"})


def test_suivi_subjects_stay_on_one_line_even_if_a_name_has_a_line_break():
    nom = "Emploi\r\nBcc: intrus@example.org"
    for name, context in (
        ("demande_bilan", demande_context(**{**DEMANDE, "porteur_nom": nom})),
        ("relance_bilan", relance_context(**{**DEMANDE, "porteur_nom": nom}, rang=2, retard_jours=8)),
        ("accuse_bilan", accuse_context(make_accuse(porteur_nom=nom))),
    ):
        subject, _ = render_mail(name, context)
        assert "\n" not in subject and "\r" not in subject
        assert subject.endswith("Emploi Bcc: intrus@example.org")


def test_receipt_mail_of_an_accepted_bilan():
    subject, body = render_mail("accuse_bilan", accuse_context(make_accuse()))
    assert subject == f"Accusé de réception n° BIL-2018-0001 — bilan à mi-parcours accepté — {NOM_PIEGE}"
    assert "Nous accusons réception, le 9 juillet 2018 à 10 h 05, du bilan à mi-parcours" in body
    assert ACCEPTE in body.splitlines()
    assert REFUS not in body and RENVOI not in body


def test_receipt_mail_of_a_refused_bilan_lists_the_errors():
    subject, body = render_mail("accuse_bilan", accuse_context(make_accuse(erreurs=ERREURS)))
    assert subject == f"Accusé de réception n° BIL-2018-0001 — bilan à mi-parcours à corriger — {NOM_PIEGE}"
    lines = body.splitlines()
    start = lines.index(REFUS)
    assert lines[start + 1:start + 3] == [f"  - {ERREURS[0]}", f"  - {ERREURS[1]}"]
    assert RENVOI in lines
    assert ACCEPTE not in body


def _section(body: str, titre: str) -> list[str]:
    lines = body.splitlines()
    start = lines.index(titre) + 1
    end = lines.index("", start)
    return [line.strip() for line in lines[start:end]]


def test_empty_digest_says_aucun_in_each_section():
    context = digest_context(jour=date(2018, 7, 1), envois=[], retards=[], fins_prochaines=[])
    subject, body = render_mail("digest_echeancier", context)
    assert subject == "Échéancier du suivi au 1er juillet 2018 — aucun envoi, aucun retard, " \
                      "aucune fin de convention proche"
    assert _section(body, "Envois (demandes et relances de bilan) :") == ["aucun"]
    assert _section(body, "Bilans en retard :") == ["aucun"]
    assert _section(body, "Bilans à corriger (reçus avec erreurs) :") == ["aucun"]
    assert _section(body, "Bilans attendus (demandés, avant leur échéance) :") == ["aucun"]
    assert _section(body, "Conventions arrivant prochainement à leur terme :") == ["aucune"]


def test_digest_lists_sends_delays_and_coming_ends():
    context = digest_context(
        jour=date(2018, 7, 16),
        envois=["Demande du bilan à mi-parcours — CONV-2018-003", "Première relance — CONV-2018-007", "  "],
        retards=["CONV-2018-007 — bilan à mi-parcours attendu le 15 juillet 2018 (1 jour de retard)"],
        a_corriger=["CONV-2018-002 — bilan à mi-parcours reçu avec erreurs, à corriger avant le 30 juillet 2018"],
        attendus=["CONV-2018-003 — bilan à mi-parcours attendu au plus tard le 30 juillet 2018"],
        fins_prochaines=["CONV-2018-001 — fin le 31 août 2018"],
    )
    subject, body = render_mail("digest_echeancier", context)
    assert subject == ("Échéancier du suivi au 16 juillet 2018 — 2 envois, 1 retard, 1 bilan à corriger, "
                       "1 fin de convention proche")
    assert _section(body, "Bilans à corriger (reçus avec erreurs) :") == [
        "- CONV-2018-002 — bilan à mi-parcours reçu avec erreurs, à corriger avant le 30 juillet 2018"]
    assert _section(body, "Bilans attendus (demandés, avant leur échéance) :") == [
        "- CONV-2018-003 — bilan à mi-parcours attendu au plus tard le 30 juillet 2018"]
    assert _section(body, "Envois (demandes et relances de bilan) :") == [
        "- Demande du bilan à mi-parcours — CONV-2018-003", "- Première relance — CONV-2018-007",
    ]
    assert _section(body, "Bilans en retard :") == [
        "- CONV-2018-007 — bilan à mi-parcours attendu le 15 juillet 2018 (1 jour de retard)",
    ]
    assert _section(body, "Conventions arrivant prochainement à leur terme :") == [
        "- CONV-2018-001 — fin le 31 août 2018",
    ]
    assert "aucun" not in body


# --- PDF ----------------------------------------------------------------------------------


def test_suivi_documents_convert_to_pdf(tmp_path):
    if soffice_path() is None:
        pytest.skip("LibreOffice (soffice) absent : conversion PDF non testable ici")
    fiche = render_fiche(make_fiche(), tmp_path / "docx" / "fiche_CONV-2018-003_2018-03.docx")
    accuse = render_accuse(make_accuse(erreurs=ERREURS), tmp_path / "docx" / "accuse_BIL-2018-0001.docx")
    synthese = render_synthese_suivi(make_synthese(), tmp_path / "docx" / "synthese_2018-06-30.docx")
    result = convert_to_pdf([fiche, accuse, synthese], tmp_path / "pdf")
    assert set(result) == {fiche.resolve(), accuse.resolve(), synthese.resolve()}

    fiche_pdf = PdfReader(result[fiche.resolve()])
    page = fiche_pdf.pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape
    fiche_text = fr("".join(p.extract_text() for p in fiche_pdf.pages))
    assert "Fiche de présence — mars 2018" in fiche_text
    assert "Fonds social européen" in fiche_text

    accuse_text = fr("".join(p.extract_text() for p in PdfReader(result[accuse.resolve()]).pages))
    assert "BIL-2018-0001" in accuse_text and NOM_PIEGE in accuse_text
    synthese_text = fr("".join(p.extract_text() for p in PdfReader(result[synthese.resolve()]).pages))
    assert "Points d'attention" in synthese_text and "117 500,00 €" in synthese_text

