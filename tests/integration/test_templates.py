"""The Word and e-mail templates are the source: each is checked against its context, and any PLIE's
identity reaches every one of them from configuration."""
from __future__ import annotations

import hashlib
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest
from docx import Document
from docxtpl import DocxTemplate
from jinja2 import meta

from config.organisme import OrganismeIntrouvable, load_organisme
from templates.catalogue import DOCUMENTS, IDENTITE, MAILS
from templates.mails import MAILS_DIR, _body_env, render_mail
from templates.render import TEMPLATES_DIR, read_docx_text, render_docx
from templates.verification import verifier_modele

ROOT = Path(__file__).resolve().parents[2]
MAIL_OF_DOCUMENT = {"attestation_depot.docx": "attestation_depot", "lettre_decision.docx": "notification_decision",
                    "convention.docx": "convention_a_signer", "avenant.docx": "avenant_a_signer",
                    "accuse_bilan.docx": "accuse_bilan"}
DIJON = re.compile(r"dijon|creativ", re.I)
VALMONT = """
nom = "PLIE de l'agglomération de Valmont"
nom_complet = "Plan Local pour l'Insertion et l'Emploi (PLIE) de l'agglomération de Valmont"
nom_court = "PLIE Valmont"
structure = "GIP Valmont Emploi"
structure_designation = "Groupement d'Intérêt Public (GIP) Valmont Emploi"
adresse = ["7 place des Tilleuls", "99000 Valmont"]
a_l_attention_de = "la cheffe de projet du PLIE"
ville = "Valmont"
telephone = "01 99 00 12 34"
courriel = "plie-valmont@example.org"
signataire = "La cheffe de projet du PLIE"
signataire_convention = "Le directeur du GIP Valmont Emploi"
logo = "logo.png"
"""


def docx_variables(path: Path) -> set[str]:
    return DocxTemplate(str(path)).get_undeclared_template_variables()


def mail_variables(name: str) -> set[str]:
    """The variables of a mail template and of the blocks it includes."""
    env = _body_env()
    source = (MAILS_DIR / f"{name}.txt.j2").read_text(encoding="utf-8").partition("\n")
    variables = set()
    for part in (source[0].removeprefix("Objet:"), source[2]):
        ast = env.parse(part)
        variables |= meta.find_undeclared_variables(ast)
        for included in meta.find_referenced_templates(ast):
            variables |= meta.find_undeclared_variables(env.parse((MAILS_DIR / included).read_text(encoding="utf-8")))
    return variables - {"signe_par", "c"}  # set by the templates themselves


def png(path: Path) -> Path:
    """A 2×2 blue PNG, written by hand."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x1f\x38\x64" * 2 for _ in range(2))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


@pytest.fixture
def valmont(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A second, fictitious organisation, named by AAP_ORGANISME."""
    png(tmp_path / "logo.png")
    (tmp_path / "valmont.toml").write_text(VALMONT, encoding="utf-8")
    monkeypatch.setenv("AAP_ORGANISME", str(tmp_path / "valmont.toml"))
    return load_organisme(tmp_path / "valmont.toml")


def edited(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """A copy of template ``name`` with ``old`` replaced by ``new`` in its body, as the SA's edit would do."""
    out = tmp_path / "edition" / name
    out.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(TEMPLATES_DIR / name) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text, f"{old!r} absent de {name}"
                data = text.replace(old, new, 1).encode("utf-8")
            zout.writestr(item, data)
    return out


# --- every template against its context ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_a_word_template_uses_exactly_the_variables_its_context_provides(name):
    modele = DOCUMENTS[name]
    used = docx_variables(TEMPLATES_DIR / name)
    assert used <= modele.variables(), f"variables inconnues : {used - modele.variables()}"
    assert set(modele.requis) <= used
    also_used_by_mail = mail_variables(MAIL_OF_DOCUMENT[name]) if name in MAIL_OF_DOCUMENT else set()
    assert modele.variables() - {IDENTITE} <= used | also_used_by_mail, "valeurs du contexte que rien n'utilise"


@pytest.mark.parametrize("name", sorted(MAILS))
def test_a_mail_template_uses_exactly_the_variables_its_context_provides(name):
    provided = {IDENTITE}.union(*(set(c) for c in MAILS[name]()))
    used = mail_variables(name)
    assert used <= provided, f"variables inconnues : {used - provided}"
    document = next((d for d, m in MAIL_OF_DOCUMENT.items() if m == name), None)
    also_used_by_document = docx_variables(TEMPLATES_DIR / document) if document else set()
    assert provided - {IDENTITE} <= used | also_used_by_document, "valeurs du contexte que rien n'utilise"


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_a_word_template_renders_every_specimen_under_strict_undefined_leaving_no_tag(name, tmp_path):
    for i, context in enumerate(DOCUMENTS[name].specimens()):
        text = read_docx_text(render_docx(name, context, tmp_path / f"{i}.docx"))
        assert not any(tag in text for tag in ("{{", "}}", "{%", "%}")), text
        assert "Emploi & Insertion <Côte-d'Or>" in text or name == "synthese_suivi.docx" or "Emploi" in text


def test_a_rendered_document_names_the_sha256_of_its_template_in_its_properties(tmp_path):
    context = DOCUMENTS["convention.docx"].specimens()[0]
    props = Document(str(render_docx("convention.docx", context, tmp_path / "c.docx"))).core_properties
    expected = hashlib.sha256((TEMPLATES_DIR / "convention.docx").read_bytes()).hexdigest()
    assert props.identifier == expected
    assert f"convention.docx (SHA-256 {expected})" in props.comments


# --- aap modeles verifier ------------------------------------------------------------------------------------


def test_every_shipped_template_can_be_used():
    for name in DOCUMENTS:
        assert verifier_modele(TEMPLATES_DIR / name) == [], name


def test_an_unknown_variable_is_named_in_french(tmp_path):
    path = edited(tmp_path, "attestation_depot.docx", "{{ recu_le }}", "{{ recu_ce_jour }}")
    assert verifier_modele(path)[0].startswith("variable inconnue : « recu_ce_jour »")


def test_an_unknown_attribute_of_a_list_item_is_named(tmp_path):
    path = edited(tmp_path, "attestation_depot.docx", "{{ p.taille }}", "{{ p.poids }}")
    assert verifier_modele(path) == [
        "variable inconnue : « poids » (un élément d'une liste ou d'une variable qui n'existe pas)"]


def test_a_broken_tag_is_shown_with_its_paragraph(tmp_path):
    path = edited(tmp_path, "attestation_depot.docx", "{{ recu_le }}", "{{ recu_le }")
    problems = verifier_modele(path)
    assert len(problems) == 1 and problems[0].startswith("balise cassée « {{ recu_le }, par {{ canal }} » dans : « Le ")


def test_an_unclosed_section_is_explained(tmp_path):
    path = edited(tmp_path, "attestation_depot.docx", "{%p endif %}", "")
    assert verifier_modele(path) == [
        "balises mal imbriquées : un {% if %} ou un {% for %} sans son {% endif %} ou son {% endfor %}, ou l'inverse"]


def test_a_removed_section_is_missing(tmp_path):
    path = edited(tmp_path, "lettre_decision.docx", "{{ reponse_avant }}", "bientôt")
    assert verifier_modele(path) == [
        "section manquante : la date limite de réponse d'un dossier ajourné (variable « reponse_avant »)"]


def test_a_file_that_is_not_a_word_document_is_refused(tmp_path):
    path = tmp_path / "convention.docx"
    path.write_bytes(b"PK\x03\x04 pas un document")
    assert verifier_modele(path) == ["« convention.docx » n'est pas un document Word lisible (enregistrez-le au format .docx)"]


def test_the_command_says_whether_an_edited_template_can_be_used(tmp_path):
    bad = edited(tmp_path, "avenant.docx", "{{ numero }}", "{{ reference }}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-m", "flows.cli", "modeles", "verifier"]
    refused = subprocess.run([*run, str(bad)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert refused.stdout.splitlines()[:2] == ["avenant.docx : inutilisable",
                                               refused.stdout.splitlines()[1]]
    assert "variable inconnue : « reference »" in refused.stdout and "Traceback" not in refused.stderr
    every = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert every.returncode == 0, every.stdout + every.stderr
    assert every.stdout.count(": utilisable") == len(DOCUMENTS)


# --- any PLIE by configuration -------------------------------------------------------------------------------


def test_every_document_and_mail_carries_the_configured_organisation_and_none_of_dijon(valmont, tmp_path):
    for name, modele in DOCUMENTS.items():
        for i, context in enumerate(modele.specimens()):
            path = render_docx(name, context, tmp_path / f"{name}-{i}.docx")
            text = read_docx_text(path)
            assert "PLIE de l'agglomération de Valmont" in text and "7 place des Tilleuls, 99000 Valmont" in text, name
            with zipfile.ZipFile(path) as docx:
                xml = "".join(docx.read(n).decode("utf-8") for n in docx.namelist() if n.endswith(".xml"))
                assert any(n.startswith("word/media/") for n in docx.namelist()), f"{name} : logo absent"
            assert not DIJON.search(xml), (name, DIJON.findall(xml))
    for name, specimens in MAILS.items():
        for context in specimens():
            subject, body = render_mail(name, context)
            assert not DIJON.search(subject + body), name
            if name not in {"digest_echeancier", "passage_en_echec"}:  # the SA's own notices are not signed
                assert "PLIE de l'agglomération de Valmont\nGIP Valmont Emploi — 7 place des Tilleuls, 99000 Valmont\n" \
                       "01 99 00 12 34 — plie-valmont@example.org" in body, name


def test_letters_are_made_and_signed_where_the_organisation_is(valmont, tmp_path):
    lettre = read_docx_text(render_docx("lettre_decision.docx", DOCUMENTS["lettre_decision.docx"].specimens()[0],
                                        tmp_path / "l.docx")).splitlines()
    assert "Valmont, le 12 décembre 2017" in lettre and "La cheffe de projet du PLIE" in lettre
    convention = read_docx_text(render_docx("convention.docx", DOCUMENTS["convention.docx"].specimens()[0],
                                            tmp_path / "c.docx"))
    assert "Fait à Valmont, le 15 décembre 2017" in convention and "Pour le GIP Valmont Emploi" in convention
    assert "Le Groupement d'Intérêt Public (GIP) Valmont Emploi, qui porte le Plan Local pour l'Insertion et " \
           "l'Emploi (PLIE) de l'agglomération de Valmont, dont le siège est situé 7 place des Tilleuls, 99000 Valmont" \
           in convention
    _, body = render_mail("convention_a_signer", DOCUMENTS["convention.docx"].specimens()[0])
    assert "      À l'attention de la cheffe de projet du PLIE\n      7 place des Tilleuls\n      99000 Valmont\n" in body


def test_a_missing_or_incomplete_organisation_file_is_refused_in_french(tmp_path):
    with pytest.raises(OrganismeIntrouvable, match="fichier de l'organisme introuvable"):
        load_organisme(tmp_path / "absent.toml")
    (tmp_path / "o.toml").write_text('nom = "PLIE"\n', encoding="utf-8")
    with pytest.raises(OrganismeIntrouvable, match=r"incomplet ou invalide .*champs : a_l_attention_de, adresse"):
        load_organisme(tmp_path / "o.toml")


def test_no_code_or_template_names_dijon_or_creativ():
    allowed = ("tests/", "config/", ".venv/", ".git/", "flows/demo", ".prefect-home/", "var/", "aap.egg-info/",
               ".pytest_cache/")
    found = []
    for path in ROOT.rglob("*"):
        rel = path.relative_to(ROOT).as_posix()
        if not path.is_file() or rel.startswith(allowed) or "__pycache__" in rel:
            continue
        if path.suffix == ".docx":
            with zipfile.ZipFile(path) as docx:
                text = " ".join(docx.read(n).decode("utf-8") for n in docx.namelist() if n.endswith(".xml"))
        elif path.suffix in (".py", ".j2", ".md", ".toml", ".yaml", ".txt", ".html", ".ini", ".mako", ""):
            text = path.read_text(encoding="utf-8", errors="replace")
        else:
            continue
        found += [f"{rel}: {m}" for m in DIJON.findall(text)]
    assert found == []
