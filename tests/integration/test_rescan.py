"""A re-scan of the mailbox opens only what it has not read: files are known by stable name, size and time."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

import actions.depots
from actions.depots import register_mailbox
from adapters.mailbox import Limites, iter_mailbox
from models import Depot, Reception
from models.dossier import FichierLu
from tests.conftest import RELEVE, run_intake
from tests.samples import cvs, deliver, deliver_complete, paris, porteur

_watching: list[list[str]] = []


def _on_audit(event: str, args: tuple) -> None:
    if event == "open" and _watching and isinstance(args[0], (str, bytes, os.PathLike)):
        _watching[-1].append(os.fsdecode(args[0]))


sys.addaudithook(_on_audit)  # for this process's life; it records only inside ``files_opened``


@contextmanager
def files_opened(folder: Path) -> Iterator[list[str]]:
    """The files under ``folder`` this process opens meanwhile (Python's audit hook sees every ``open``)."""
    seen: list[str] = []
    _watching.append(seen)
    try:
        yield seen
    finally:
        _watching.pop()
        seen[:] = [p for p in seen if Path(p).resolve().is_relative_to(folder.resolve())]


def count(factory, table) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(table))


def rescan(factory, storage, maildir: Path, **options):
    return register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=RELEVE, **options)


def scramble_keeping_size_and_time(path: Path) -> None:
    """Other bytes, same size, same modification time: what only a reader of the file could notice."""
    st = path.stat()
    path.write_bytes(b"X" * st.st_size)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def handled_mailbox(maildir: Path, tmp_path: Path) -> list[Path]:
    """Messages of every kind the intake handles: dossiers, a duplicate, one it cannot identify, one too big."""
    a, b = porteur(1), porteur(2)
    files = [deliver_complete(maildir, tmp_path / "f", a, paris(5, 9)),
             deliver_complete(maildir, tmp_path / "f", a, paris(5, 9, 0, 1), to="aap@plie.example.org"),  # the same mail
             deliver_complete(maildir, tmp_path / "f", b, paris(5, 10)),
             deliver(maildir, sender="inconnu@example.org", when=paris(5, 11), message_id="<x@example.org>",
                     attachments=[("lettre.pdf", cvs(a)[0][1])]),
             deliver(maildir, sender=b.email, when=paris(5, 12), message_id="<gros@example.org>",
                     attachments=[("gros.pdf", b"%PDF-1.4\n" + b"0" * 300_000)])]
    return files


LIMITES = Limites(taille_message=200_000)  # the last message is held unread, over the size limit


def test_a_rescan_of_handled_messages_opens_none_of_them_even_once_moved_to_cur(
        factory, storage, appel, mail, maildir, tmp_path):
    files = handled_mailbox(maildir, tmp_path)
    first, _ = run_intake(factory, storage, maildir, mail, limites=LIMITES)
    assert (first.depots, first.doublons, first.non_identifies, first.hors_limites) == (2, 1, 2, 1)
    receptions, depots = count(factory, Reception), count(factory, Depot)
    seen = files[0].rename(maildir / "cur" / f"{files[0].name}:2,S")  # read by a mail client: same name, flags added
    seen.rename(maildir / "cur" / f"{files[0].name}:2,RS")  # then answered
    for path in iter_mailbox(maildir):
        scramble_keeping_size_and_time(path)
        path.chmod(0)  # no effect for root, who runs these tests here: the scrambled bytes prove it

    with files_opened(maildir) as opened:
        report = rescan(factory, storage, maildir, limites=LIMITES)

    assert opened == []
    assert (report.lus, report.deja_vus, report.depots, report.non_identifies, report.erreurs) == (5, 5, 0, 0, [])
    assert (count(factory, Reception), count(factory, Depot)) == (receptions, depots)  # nothing new was read


def test_a_file_whose_time_or_size_changed_is_read_again_and_its_sha256_decides(
        factory, storage, appel, mail, maildir, tmp_path):
    touched, replaced, kept = [deliver_complete(maildir, tmp_path / "f", porteur(n), paris(5, 8 + n)) for n in (1, 2, 3)]
    run_intake(factory, storage, maildir, mail)
    st = touched.stat()
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))  # the same bytes, a new time
    before = replaced.stat()
    replaced.write_bytes(deliver_complete(tmp_path / "autre", tmp_path / "f", porteur(4), paris(5, 12)).read_bytes() + b"\n")
    os.utime(replaced, ns=(before.st_atime_ns, before.st_mtime_ns))  # other bytes, another size, the same time
    assert replaced.stat().st_size != before.st_size

    with files_opened(maildir) as opened:
        report = rescan(factory, storage, maildir)

    assert sorted(Path(p).name for p in opened) == sorted([touched.name, replaced.name])  # never ``kept``
    assert (report.lus, report.deja_vus, report.depots) == (3, 2, 1)  # the touched one is known by its SHA-256
    assert count(factory, Reception) == 4
    with files_opened(maildir) as opened:
        again = rescan(factory, storage, maildir)
    assert opened == [] and (again.deja_vus, again.depots) == (3, 0)  # their new facts were recorded
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(FichierLu)) == 3


def test_a_message_whose_registration_failed_is_read_again_by_the_next_run(
        factory, storage, appel, mail, maildir, tmp_path, monkeypatch):
    good, bad = porteur(1), porteur(2)
    deliver_complete(maildir, tmp_path / "f", good, paris(5, 8))
    deliver_complete(maildir, tmp_path / "f", bad, paris(5, 9))
    real_record, real_keep = actions.depots.record_in, actions.depots.keep_unregistered

    def refused(session, appel_, cfg, msg, raw_stored, analyse, maintenant):
        if msg.sender_address == bad.email:
            raise RuntimeError("base indisponible")
        return real_record(session, appel_, cfg, msg, raw_stored, analyse, maintenant)

    monkeypatch.setattr(actions.depots, "record_in", refused)
    monkeypatch.setattr(actions.depots, "keep_unregistered", lambda *a, **k: "erreur")  # the database refuses it too
    first = rescan(factory, storage, maildir)
    assert (first.depots, count(factory, Reception)) == (1, 1)
    monkeypatch.setattr(actions.depots, "record_in", real_record)
    monkeypatch.setattr(actions.depots, "keep_unregistered", real_keep)

    again = rescan(factory, storage, maildir)

    assert (again.deja_vus, again.depots) == (1, 1)  # nothing lost
    assert count(factory, Reception) == 2
