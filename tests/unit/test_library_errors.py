"""Library errors never reach the SA in English (issue 8, §4): a broken workbook, PDF or message
gives a French reason naming the kind of damage, never openpyxl's, pypdf's or email's own text."""
from __future__ import annotations

import binascii
import io
import re
import zipfile
from email.errors import HeaderParseError

import pytest
from pypdf.errors import PdfReadError

from adapters.library_errors import french_detail
from forms.classeur import MOTIF_ILLISIBLE
from forms.dossier_reponse import FormulaireIllisible, read_dossier_reponse
from tests.samples import blank_form

ENGLISH = re.compile(r"\b(no|item|named|archive|error|file|not|found|invalid|expected|the|is|Error)\b")


def motif(data: bytes) -> str:
    with pytest.raises(FormulaireIllisible) as refus:
        read_dossier_reponse(data, filename="dossier.xlsx")
    return refus.value.motif


def rewritten(blank: bytes, *, drop: str | None = None, replace: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blank)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == drop:
                continue
            dst.writestr(info, (replace or {}).get(info.filename, src.read(info)))
    return out.getvalue()


@pytest.fixture
def blank(tmp_path) -> bytes:
    return blank_form(tmp_path).read_bytes()


@pytest.mark.parametrize(("change", "detail"), [
    ({"drop": "xl/workbook.xml"}, "une partie interne du fichier est absente"),
    ({"replace": {"xl/workbook.xml": b"<workbook>pas du xml"}}, "contenu XML interne invalide"),
    ({"replace": {"xl/worksheets/sheet1.xml":
                  b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><worksheet>&a;</worksheet>'}},
     "contenu XML piégé refusé (entités ou références externes)"),
])
def test_a_damaged_workbook_gets_a_french_reason_without_the_libraries_text(blank, change, detail):
    reason = motif(rewritten(blank, **change))
    assert reason == f"{MOTIF_ILLISIBLE} : {detail}"
    assert reason.startswith("le formulaire ne peut pas être lu : ")
    assert not ENGLISH.search(reason), reason


@pytest.mark.parametrize(("error", "detail"), [
    (PdfReadError("EOF marker not found"), "structure PDF invalide"),
    (HeaderParseError("expected atom at a start of dot-atom-text"), "structure du message invalide"),
    (binascii.Error("Incorrect padding"), "encodage base64 invalide"),
    (LookupError("unknown encoding: x-klingon"), "jeu de caractères inconnu"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "caractères mal encodés"),
    (RecursionError("maximum recursion depth exceeded"), "structure interne trop imbriquée"),
    (zipfile.BadZipFile("File is not a zip file"), "archive interne corrompue ou tronquée"),
    (RuntimeError("anything at all"), "contenu interne invalide"),
])
def test_each_library_error_has_a_french_meaning(error, detail):
    assert french_detail(error) == detail
