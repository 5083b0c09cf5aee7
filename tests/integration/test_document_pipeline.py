"""One way to make a document and one way to send a mail: every kind goes through the same pipeline
and the same notification table."""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from docx import Document as Docx
from sqlalchemy import func, select

from actions.attestations import render_pending
from actions.depots import register_mailbox
from actions.notifications import NOTIFICATIONS
from adapters.mailbox import iter_mailbox
from models import Courriel
from models.document import Document
from templates.mails import MAILS_DIR
from templates.render import TEMPLATES_DIR
from tests.samples import deliver_complete, paris, porteur

ROOT = Path(__file__).resolve().parents[2]


def test_a_produced_document_records_the_sha256_of_its_template_in_the_database_and_its_properties(
        factory, storage, appel, maildir, tmp_path):
    deliver_complete(maildir, tmp_path / "f", porteur(1), paris(6, 10))
    register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=paris(8, 9))

    render_pending(factory, storage, 2018, pdf=False, workers=1)

    expected = hashlib.sha256((TEMPLATES_DIR / "attestation_depot.docx").read_bytes()).hexdigest()
    with factory() as s:
        [doc] = s.scalars(select(Document)).all()
        assert (doc.nature, doc.modele, doc.modele_sha256) == ("attestation", "attestation_depot.docx", expected)
        assert doc.chemin == "attestations/2018/AAP-2018-0001.docx"
    assert Docx(str(storage.root / doc.chemin)).core_properties.identifier == expected


@pytest.mark.database_matters("a re-run or a repeat is refused by unique keys")
def test_producing_twice_makes_one_document_and_queues_one_mail(factory, storage, appel, maildir, tmp_path):
    deliver_complete(maildir, tmp_path / "f", porteur(2), paris(6, 10))
    register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=paris(8, 9))

    first = render_pending(factory, storage, 2018, pdf=False, workers=1)
    second = render_pending(factory, storage, 2018, pdf=False, workers=1)

    assert (first.rendues, second.rendues) == (1, 0)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 1
        assert s.scalars(select(Courriel.cle)).all() == ["attestation:AAP-2018-0001"]


def test_every_kind_of_mail_has_one_entry_in_the_notification_table():
    kinds = {p.name.removesuffix(".txt.j2") for p in MAILS_DIR.glob("*.txt.j2") if not p.name.startswith("_")}
    assert set(NOTIFICATIONS) == kinds
    assert {n.modele for n in NOTIFICATIONS.values()} == kinds


def test_no_action_renders_or_queues_a_mail_by_hand():
    by_hand = re.compile(r"\b(render_mail|enqueue)\(")
    offenders = [p.relative_to(ROOT).as_posix() for p in (ROOT / "actions").glob("*.py")
                 if p.name not in ("notifications.py", "outbox.py") and by_hand.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_no_rule_imports_a_template_or_a_form():
    imports = re.compile(r"^\s*(from|import)\s+(templates|forms)\b", re.M)
    offenders = [p.name for p in (ROOT / "models").glob("*.py") if imports.search(p.read_text(encoding="utf-8"))]
    assert offenders == [] or offenders == ["bilan.py"]  # the bilan vocabulary moves with the suivi work
