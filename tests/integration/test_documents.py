"""Documents end to end: the attestation .docx, the e-mails, and real PDFs."""

from __future__ import annotations

import hashlib
import io
import os
import random
import stat
from datetime import date, datetime, timezone

import pytest
from jinja2 import UndefinedError
from pypdf import PdfReader, PdfWriter

from adapters.pdf import convert_to_pdf, inspect_pdf, merge_pdfs, soffice_path
from templates.mails import annonce_context, render_mail
from templates.render import (
    AttestationData,
    PieceLine,
    attestation_context,
    read_docx_text,
    render_attestation,
    render_docx,
)

UTC = timezone.utc
NOM_PIEGE = "Emploi & Insertion <Côte-d'Or>"
HORS_DELAI = (
    "Dépôt reçu hors délai (date limite : 7 décembre 2017 à 17 h 00). Il est conservé "
    "mais ne sera pas instruit, sauf décision contraire du PLIE."
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def make_attestation(**overrides: object) -> AttestationData:
    values: dict[str, object] = dict(
        numero="AAP-2018-0003",
        appel_titre="Référents de parcours PLIE",
        appel_annee=2018,
        porteur_nom=NOM_PIEGE,
        porteur_siret="73282932000074",
        porteur_adresse="3 rue des Forges\n21000 Dijon",
        canal="courriel",
        recu_le=datetime(2017, 12, 6, 9, 42, tzinfo=UTC),
        date_limite=datetime(2017, 12, 7, 16, 0, tzinfo=UTC),
        hors_delai=False,
        canaux_recus=("courriel",),
        canaux_attendus=("courrier",),
        pieces=(
            PieceLine("dossier_reponse.xlsx", 48_213, sha("formulaire"), "acceptée"),
            PieceLine("cv_referent_1.pdf", 120_400, sha("cv"), "refusée", "PDF illisible ou tronqué"),
        ),
        manquants=("CV de chaque référent proposé",),
        complement=False,
        version=1,
        emis_le=datetime(2017, 12, 6, 9, 45, tzinfo=UTC),
    )
    values.update(overrides)
    return AttestationData(**values)  # type: ignore[arg-type]


def pdf_bytes(pages: int = 1, *, user_password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if user_password is not None:
        writer.encrypt(user_password=user_password, owner_password="proprietaire", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def require_soffice() -> None:
    if soffice_path() is None:
        pytest.skip("LibreOffice (soffice) absent : conversion PDF non testable ici")


# --- attestation .docx -------------------------------------------------------


def test_attestation_states_number_date_porteur_and_every_piece(tmp_path):
    a = make_attestation()
    text = read_docx_text(render_attestation(a, tmp_path / "att.docx"))
    assert "Attestation de dépôt n° AAP-2018-0003" in text
    assert "le 6 décembre 2017 à 10 h 42, par courriel" in text
    assert "(SIRET 732 829 320 00074)" in text
    assert "Adresse de la structure : 3 rue des Forges, 21000 Dijon" in text
    for piece in a.pieces:
        assert piece.nom in text
        assert piece.sha256 in text
    assert "refusée : PDF illisible ou tronqué" in text
    assert "Fait à Dijon, le 6 décembre 2017" in text
    assert "PLIE du bassin dijonnais — GIP Creativ'" in text


def test_porteur_name_with_ampersand_and_angle_brackets_renders_intact(tmp_path):
    text = read_docx_text(render_attestation(make_attestation(), tmp_path / "att.docx"))
    assert f"de la part de la structure {NOM_PIEGE} (SIRET" in text
    assert "&amp;" not in text and "&lt;" not in text
    assert "Fait à Dijon" in text  # the document is not truncated after the name


def test_attestation_lists_missing_channel_missing_and_refused_pieces(tmp_path):
    text = read_docx_text(render_attestation(make_attestation(), tmp_path / "att.docx"))
    assert "Ce dépôt : courriel reçu le 6 décembre 2017 à 10 h 42, dans les délais." in text
    assert "Reçu à ce jour pour ce dossier : courriel le 6 décembre 2017 à 10 h 42 (dans les délais)." in text
    assert "Encore attendu : courrier postal." in text
    assert "Pièce manquante : CV de chaque référent proposé" in text
    assert "Pièce refusée : cv_referent_1.pdf — PDF illisible ou tronqué" in text
    assert "Aucune pièce manquante" not in text


def test_complete_dossier_says_nothing_is_missing(tmp_path):
    a = make_attestation(
        canaux_recus=("courriel", "courrier"), canaux_attendus=(), manquants=(),
        pieces=(PieceLine("dossier_reponse.xlsx", 48_213, sha("f"), "acceptée"),),
        recus=(("courriel", datetime(2017, 12, 6, 9, 42, tzinfo=UTC), False),
               ("courrier", datetime(2017, 12, 6, 13, 0, tzinfo=UTC), False)),
    )
    text = read_docx_text(render_attestation(a, tmp_path / "att.docx"))
    assert "Aucune pièce manquante ni refusée." in text
    assert ("Reçu à ce jour pour ce dossier : courriel le 6 décembre 2017 à 10 h 42 (dans les délais)\u202f; "
            "courrier postal le 6 décembre 2017 à 14 h 00 (dans les délais).") in text
    assert "Encore attendu : aucun autre envoi." in text
    assert "Pièce manquante" not in text


def test_hors_delai_paragraph_only_when_late(tmp_path):
    late = read_docx_text(render_attestation(
        make_attestation(hors_delai=True, recu_le=datetime(2017, 12, 7, 16, 1, tzinfo=UTC)),
        tmp_path / "late.docx",
    ))
    on_time = read_docx_text(render_attestation(make_attestation(), tmp_path / "on_time.docx"))
    assert HORS_DELAI in late.splitlines()
    assert "hors délai" not in on_time


def test_hors_delai_paragraph_is_bold(tmp_path):
    from docx import Document

    out = render_attestation(make_attestation(hors_delai=True), tmp_path / "late.docx")
    paragraph = next(p for p in Document(str(out)).paragraphs if p.text == HORS_DELAI)
    assert all(run.bold for run in paragraph.runs)


def test_complement_states_its_version(tmp_path):
    first = read_docx_text(render_attestation(make_attestation(), tmp_path / "v1.docx"))
    second = read_docx_text(render_attestation(make_attestation(complement=True, version=2), tmp_path / "v2.docx"))
    assert "Ce dépôt constitue la version 1 du dossier" in first
    assert "Ce dépôt complète le dossier déjà reçu de cette structure\u202f; il en constitue la version 2." in second
    assert " ;" not in second  # French spacing: a narrow no-break space before « ; »


def test_rendered_document_leaves_no_template_tag(tmp_path):
    text = read_docx_text(render_attestation(make_attestation(pieces=()), tmp_path / "att.docx"))
    assert "{%" not in text and "{{" not in text and "%}" not in text
    assert "Aucun fichier n'a été reçu avec ce dépôt." in text


def test_rendered_document_is_private_to_its_owner(tmp_path):
    out = render_attestation(make_attestation(), tmp_path / "sous" / "dossier" / "att.docx")
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_missing_context_value_fails_and_writes_nothing(tmp_path):
    context = attestation_context(make_attestation())
    del context["recu_le"]
    with pytest.raises(UndefinedError):
        render_docx("attestation_depot.docx", context, tmp_path / "att.docx")
    assert list(tmp_path.iterdir()) == []


def test_template_outside_package_is_refused(tmp_path):
    with pytest.raises(ValueError):
        render_docx("../pyproject.toml", {}, tmp_path / "x.docx")


def test_naive_reception_time_is_refused():
    with pytest.raises(ValueError):
        make_attestation(recu_le=datetime(2017, 12, 6, 9, 42))


# --- e-mails -----------------------------------------------------------------


def test_attestation_mail_subject_has_no_line_break_even_if_name_has_one():
    a = make_attestation(porteur_nom="Emploi & Insertion\r\nBcc: intrus@example.org")
    subject, body = render_mail("attestation_depot", attestation_context(a))
    assert "\n" not in subject and "\r" not in subject
    assert subject == "Attestation de dépôt n° AAP-2018-0003 — Emploi & Insertion Bcc: intrus@example.org"
    assert not body.startswith("Objet")


def test_attestation_mail_body_is_french_plain_text_and_signed():
    subject, body = render_mail("attestation_depot", attestation_context(make_attestation()))
    assert subject.startswith("Attestation de dépôt n° AAP-2018-0003")
    assert "reçu le 6 décembre 2017 à 10 h 42 par courriel" in body
    assert "Encore attendu : courrier postal." in body
    assert "  - Pièce manquante : CV de chaque référent proposé" in body
    assert "avant la date limite du 7 décembre 2017 à 17 h 00" in body
    assert "&amp;" not in body
    assert body.rstrip().splitlines()[-4:-2] == ["L'équipe d'animation", "PLIE du bassin dijonnais"]


def test_late_attestation_mail_says_it_will_not_be_instructed():
    _, body = render_mail("attestation_depot", attestation_context(make_attestation(hors_delai=True)))
    assert "ne sera pas instruit, sauf décision contraire du PLIE" in body
    assert "Merci de nous les adresser avant la date limite" not in body


def test_announcement_mail_gives_deadline_both_channels_form_and_cv():
    context = annonce_context(
        appel_titre="Référents de parcours PLIE", appel_annee=2018,
        date_limite=datetime(2017, 12, 7, 16, 0, tzinfo=UTC),
        formulaire_nom="dossier_reponse_AAP_2018.xlsx", comite_le=date(2017, 12, 11),
    )
    subject, body = render_mail("annonce_appel", context)
    assert subject == "Référents de parcours PLIE : dossier de réponse à retourner avant le 7 décembre 2017 à 17 h 00"
    assert "au plus tard le 7 décembre 2017 à 17 h 00" in body
    assert "dossier_reponse_AAP_2018.xlsx" in body
    assert "par courriel" in body and "par courrier postal" in body
    assert "24 avenue du Lac" in body
    assert "CV de chaque salarié proposé comme référent" in body
    assert "comité de pilotage du 11 décembre 2017" in body
    assert "L'équipe d'animation\nPLIE du bassin dijonnais\n" in body


def test_mail_with_missing_value_fails():
    with pytest.raises(UndefinedError):
        render_mail("annonce_appel", {"appel_titre": "x", "appel_annee": "2018"})


def test_unknown_or_path_like_mail_name_is_refused():
    with pytest.raises(ValueError):
        render_mail("../render", {})


# --- inspect_pdf ---------------------------------------------------------------


def test_valid_pdf_passes():
    assert inspect_pdf(pdf_bytes(2)) is None


def test_truncated_pdf_is_unreadable():
    data = pdf_bytes(2)
    assert inspect_pdf(data[: len(data) // 2]) == "PDF illisible ou tronqué"
    assert inspect_pdf(data[:-12]) == "PDF illisible ou tronqué"


def test_garbage_is_unreadable():
    noise = random.Random(2017).randbytes(4096)
    assert inspect_pdf(noise) == "PDF illisible ou tronqué"
    assert inspect_pdf(b"") == "PDF illisible ou tronqué"
    assert inspect_pdf(b"%PDF-1.7\n" + noise + b"\n%%EOF\n") == "PDF illisible ou tronqué"


def test_password_protected_pdf_is_refused():
    assert inspect_pdf(pdf_bytes(user_password="secret")) == (
        "PDF protégé par un mot de passe : impossible de le lire"
    )


def test_pdf_restricted_only_by_owner_password_is_readable():
    assert inspect_pdf(pdf_bytes(user_password="")) is None


def test_pdf_without_pages_is_refused():
    assert inspect_pdf(pdf_bytes(0)) == "PDF sans aucune page"


# --- LibreOffice conversion and merge --------------------------------------------


def test_batch_of_three_documents_converts_to_readable_pdfs(tmp_path):
    require_soffice()
    numeros = ["AAP-2018-0001", "AAP-2018-0002", "AAP-2018-0003"]
    docs = [render_attestation(make_attestation(numero=n), tmp_path / "docx" / f"{n}.docx") for n in numeros]
    result = convert_to_pdf(docs, tmp_path / "pdf")
    assert set(result) == {d.resolve() for d in docs}
    for numero, doc in zip(numeros, docs):
        pdf = result[doc.resolve()]
        assert pdf == (tmp_path / "pdf" / f"{numero}.pdf").resolve()
        assert stat.S_IMODE(os.stat(pdf).st_mode) == 0o600
        assert inspect_pdf(pdf.read_bytes()) is None
        text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
        assert f"Attestation de dépôt n° {numero}" in text
        assert NOM_PIEGE in text


def test_failed_conversion_is_missing_from_result_even_with_stale_pdf(tmp_path):
    require_soffice()
    doc = render_attestation(make_attestation(), tmp_path / "ok.docx")
    absent = tmp_path / "absent.docx"
    (tmp_path / "pdf").mkdir()
    (tmp_path / "pdf" / "absent.pdf").write_bytes(pdf_bytes())  # left by an earlier run
    result = convert_to_pdf([doc, absent], tmp_path / "pdf")
    assert list(result) == [doc.resolve()]
    assert not (tmp_path / "pdf" / "absent.pdf").exists()


def test_batches_one_after_the_other_share_one_libreoffice_profile_and_each_converts(tmp_path):
    require_soffice()
    from adapters import pdf as module

    first = render_attestation(make_attestation(numero="AAP-2018-0001"), tmp_path / "un" / "AAP-2018-0001.docx")
    second = render_attestation(make_attestation(numero="AAP-2018-0002"), tmp_path / "deux" / "AAP-2018-0002.docx")
    convert_to_pdf([first], tmp_path / "pdf1")
    profile = module._profile()
    result = convert_to_pdf([second], tmp_path / "pdf2")

    assert module._profile() == profile and profile.is_dir()  # made once, kept for the next conversion
    text = "".join(page.extract_text() for page in PdfReader(result[second.resolve()]).pages)
    assert "Attestation de dépôt n° AAP-2018-0002" in text


def test_inputs_sharing_a_stem_are_refused(tmp_path):
    require_soffice()
    with pytest.raises(ValueError):
        convert_to_pdf([tmp_path / "a" / "x.docx", tmp_path / "b" / "x.docx"], tmp_path / "pdf")


def test_merge_puts_one_bookmark_per_part_at_its_first_page(tmp_path):
    parts = []
    for titre, pages in (("Attestation AAP-2018-0001", 1), ("Note d'instruction & budget", 3), ("CV", 2)):
        path = tmp_path / f"{len(parts)}.pdf"
        path.write_bytes(pdf_bytes(pages))
        parts.append((titre, path))
    out = merge_pdfs(parts, tmp_path / "dossier" / "complet.pdf")
    reader = PdfReader(out)
    assert len(reader.pages) == 6
    bookmarks = [(item.title, reader.get_destination_page_number(item)) for item in reader.outline]
    assert bookmarks == [("Attestation AAP-2018-0001", 0), ("Note d'instruction & budget", 1), ("CV", 4)]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600


def test_merge_refuses_password_protected_part(tmp_path):
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(pdf_bytes(user_password="secret"))
    with pytest.raises(ValueError, match="mot de passe"):
        merge_pdfs([("CV", locked)], tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()
