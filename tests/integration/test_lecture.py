"""A mailbox read ahead of its recording (what a command does while Prefect starts its run) is recorded exactly as
one read by the relève itself; a reading ahead left unused loses nothing."""
from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from actions.depots import register_mailbox
from actions.lecture import LectureEnAvance, scan_mailbox
from adapters.mailbox import iter_mailbox
from models import Depot
from models.dossier import FichierLu
from tests.conftest import RELEVE
from tests.samples import deliver_complete, paris, porteur


def count(factory, table) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(table))


def stored_messages(storage) -> list[Path]:
    folder = storage.root / "messages"
    return [p for p in folder.rglob("*.eml")] if folder.exists() else []


def test_a_mailbox_read_ahead_is_prepared_before_anything_is_recorded_then_recorded_once(
        factory, storage, appel, maildir, tmp_path):
    for n in range(3):
        deliver_complete(maildir, tmp_path / "forms", porteur(n + 1), paris(6, 9 + n))
    lecture = scan_mailbox(factory, 2018, iter_mailbox(maildir))
    assert (lecture.lus, len(lecture.todo), lecture.deja_vus) == (3, 3, 0)

    ahead = LectureEnAvance(lecture, storage, workers=1)
    try:
        deadline = time.monotonic() + 60
        while len(stored_messages(storage)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(stored_messages(storage)) == 3  # read and stored by its worker, nothing recorded yet
        assert count(factory, Depot) == 0

        report = register_mailbox(factory, storage, 2018, [], maintenant=RELEVE, en_avance=ahead)
    finally:
        ahead.close()

    assert (report.lus, report.depots, report.deja_vus, report.erreurs) == (3, 3, 0, [])
    assert count(factory, Depot) == 3 and count(factory, FichierLu) == 3
    again = register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=RELEVE)
    assert (again.depots, again.deja_vus) == (0, 3)


def test_a_reading_ahead_closed_unused_records_nothing_and_the_next_relève_reads_everything(
        factory, storage, appel, maildir, tmp_path):
    for n in range(4):
        deliver_complete(maildir, tmp_path / "forms", porteur(n + 10), paris(6, 9 + n))
    ahead = LectureEnAvance(scan_mailbox(factory, 2018, iter_mailbox(maildir)), storage, workers=1)

    ahead.close()  # Prefect refused the run, say

    assert not ahead._thread.is_alive()
    assert count(factory, Depot) == 0 and count(factory, FichierLu) == 0
    report = register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=RELEVE)
    assert (report.lus, report.depots) == (4, 4)


def test_a_file_gone_between_the_listing_and_the_scan_ahead_is_reported_once_in_french_by_the_relève(
        factory, storage, appel, maildir, tmp_path):
    deliver_complete(maildir, tmp_path / "forms", porteur(20), paris(6, 9))
    listed = [*iter_mailbox(maildir), maildir / "new" / "disparu.eml"]  # listed, then moved away before its scan

    ahead = LectureEnAvance(scan_mailbox(factory, 2018, listed), storage, workers=1)
    try:
        report = register_mailbox(factory, storage, 2018, [], maintenant=RELEVE, en_avance=ahead)
    finally:
        ahead.close()

    assert report.depots == 1
    assert report.erreurs == ["disparu.eml : lecture impossible (fichier introuvable (déplacé ou supprimé entre-temps))"]
