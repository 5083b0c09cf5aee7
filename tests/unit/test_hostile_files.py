"""Active content in the files a porteur sends (issue 8, §5): a PDF that runs something or carries
other files, a workbook linked to outside data. Each is refused with a French reason."""
from __future__ import annotations

import io
import zipfile

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from adapters.pdf import RAISON_FICHIERS_JOINTS, RAISON_JAVASCRIPT, RAISON_LANCEMENT, inspect_pdf
from flows.demo_data import cv_pdf
from forms.xlsx_safety import MOTIF_LIENS_EXTERNES, FormulaireIllisible, check_xlsx_container


def _writer() -> PdfWriter:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cv_pdf("CV Anne Dupont"))))
    return writer


def _bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    """A document-level script, in the catalog's /Names /JavaScript tree (what Acrobat writes)."""
    writer = _writer()
    script = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('bonjour');")})
    tree = DictionaryObject({NameObject("/Names"): ArrayObject([TextStringObject("bonjour"), writer._add_object(script)])})
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): writer._add_object(tree)})
    return _bytes(writer)


def pdf_with_open_action(kind: str, **entries: str) -> bytes:
    writer = _writer()
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    action.update({NameObject(f"/{k}"): TextStringObject(v) for k, v in entries.items()})
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)
    return _bytes(writer)


def pdf_with_embedded_file() -> bytes:
    writer = _writer()
    writer.add_attachment("facture.exe", b"MZ\x90\x00")
    return _bytes(writer)


def pdf_with_launch_on_a_link() -> bytes:
    writer = _writer()
    annotation = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject(),
        NameObject("/A"): DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                                            NameObject("/F"): TextStringObject("cmd.exe")}),
    })
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])
    return _bytes(writer)


def test_a_plain_pdf_passes():
    assert inspect_pdf(cv_pdf("CV Anne Dupont")) is None


def test_a_pdf_with_javascript_is_refused():
    assert inspect_pdf(pdf_with_javascript()) == RAISON_JAVASCRIPT


def test_a_pdf_whose_opening_runs_javascript_is_refused():
    assert inspect_pdf(pdf_with_open_action("/JavaScript", JS="app.alert(1)")) == RAISON_JAVASCRIPT


def test_a_pdf_that_launches_a_program_when_opened_is_refused():
    assert inspect_pdf(pdf_with_open_action("/Launch", F="calc.exe")) == RAISON_LANCEMENT


def test_a_pdf_with_a_link_that_launches_a_program_is_refused():
    assert inspect_pdf(pdf_with_launch_on_a_link()) == RAISON_LANCEMENT


def test_a_pdf_carrying_an_embedded_file_is_refused():
    assert inspect_pdf(pdf_with_embedded_file()) == RAISON_FICHIERS_JOINTS


def test_a_javascript_name_written_with_hex_escapes_is_still_found():
    data = pdf_with_open_action("/JavaScript", JS="app.alert(1)")
    assert b"/JavaScript" in data
    disguised = data.replace(b"/JavaScript", b"/J#61vaScript")
    assert inspect_pdf(disguised) == RAISON_JAVASCRIPT


def test_the_reasons_are_french_sentences():
    for reason in (RAISON_JAVASCRIPT, RAISON_LANCEMENT, RAISON_FICHIERS_JOINTS):
        assert reason.startswith("PDF ") and "refusé" in reason


def _workbook_with(*members: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("member", [
    "xl/externalLinks/externalLink1.xml", "xl/externalLinks/_rels/externalLink1.xml.rels", "xl/connections.xml",
])
def test_a_workbook_linked_to_outside_files_or_data_is_refused(member):
    with pytest.raises(FormulaireIllisible) as refus:
        check_xlsx_container(_workbook_with((member, b"<externalLink/>")), "dossier.xlsx")
    assert refus.value.motif == MOTIF_LIENS_EXTERNES
    assert "liaisons" in MOTIF_LIENS_EXTERNES and "refusé" in MOTIF_LIENS_EXTERNES


def test_a_pdf_whose_page_inflates_to_hundreds_of_megabytes_is_refused_as_a_bomb():
    from adapters.pdf import RAISON_BOMBE
    from tests.hostile_messages import pdf_bomb

    assert inspect_pdf(pdf_bomb()) == RAISON_BOMBE
