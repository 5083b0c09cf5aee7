"""Faults: an intake killed mid-batch (``kill -9``) and run again, and two intakes running at once on
the same mailbox, lose nothing and double nothing. Real processes (tests/intake_worker.py), a real
database (SQLite and PostgreSQL), real files, a real SMTP server."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from actions.depots import register_mailbox, register_postal
from adapters.mailbox import iter_mailbox
from adapters.smtp_sink import SmtpSink
from flows.demo_data import SamplePorteur, cv_name
from models import Attestation, Courriel, CourrielStatut, Depot, Dossier, Reception
from models.dossier import DepotStatut
from tests.conftest import RELEVE
from tests.samples import cv_pdf, cvs, deliver, deliver_complete, form_bytes, paris, porteur

pytestmark = pytest.mark.database_matters("processes killed mid-batch and two intakes racing")

REPO = Path(__file__).resolve().parents[2]
WORKER = REPO / "tests" / "intake_worker.py"
ADRESSES = ("plie-aap@example.org", "coordination.plie@example.org", "assistante.plie@example.org")
PORTEURS = 30  # 52 files: a kill once a quarter is registered lands well inside the batch
NUMERO = re.compile(r"AAP-2018-\d{4}")


@dataclass(frozen=True)
class Boite:
    """A mailbox built once, and what a correct intake must make of it."""

    path: Path
    fichiers: int
    depots: int
    identifies: int
    porteurs: int


@pytest.fixture(scope="module")
def boite(tmp_path_factory: pytest.TempPathFactory) -> Boite:
    """Complete answers, compléments, the same mail sent to the three addresses, unknown senders, a late one."""
    root = tmp_path_factory.mktemp("boite")
    maildir, forms = root / "maildir", root / "forms"
    depots = 0
    for n in range(1, PORTEURS + 1):
        p = porteur(100 + n, referents=2)
        pieces = [("dossier.xlsx", form_bytes(forms, p)), *cvs(p)]
        first = paris(4 + n % 3, 8, n)
        for second, to in enumerate(ADRESSES if n % 5 == 0 else ADRESSES[:1]):
            deliver(maildir, sender=p.email, sender_name=p.nom, when=first.replace(second=second), to=to,
                    attachments=pieces, message_id=f"<depot-{n}@example.org>")
        depots += 1
        if n % 4 == 0:  # a complément: one CV sent again, revised
            deliver(maildir, sender=p.email, when=paris(7, 9, n), message_id=f"<complement-{n}@example.org>",
                    attachments=[revised_cv(p)])
            depots += 1
    deliver_complete(maildir, forms, porteur(100 + PORTEURS + 1), paris(7, 17, 5))  # late: kept, attested
    depots += 1
    for n in (1, 2):  # unknown senders, no form: kept, no attestation
        deliver(maildir, sender=f"inconnu{n}@example.org", when=paris(6, 12, n), message_id=f"<inconnu-{n}@example.org>",
                attachments=[(f"presentation{n}.pdf", cv_pdf(f"Présentation {n}"))])
        depots += 1
    fichiers = len(list((maildir / "new").iterdir()))
    return Boite(maildir, fichiers, depots, depots - 2, PORTEURS + 1)


def revised_cv(p: SamplePorteur) -> tuple[str, bytes]:
    """The second referent's CV again, with content of its own (its fingerprint is the porteur's alone)."""
    nom, prenom = p.referents[1][:2]
    return cv_name(prenom, nom), cv_pdf(f"CV révisé {prenom} {nom} {p.siret}")


@pytest.fixture
def maildir_copy(boite: Boite, tmp_path: Path) -> Path:
    return Path(shutil.copytree(boite.path, tmp_path / "boite"))


def start_worker(db_url: str, storage: Path, maildir: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), db_url, str(storage), str(maildir), str(port)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"le worker {proc.pid} a échoué ({proc.returncode}) :\n{out}\n{err[-4000:]}"
    return json.loads(out.strip().splitlines()[-1])


def reader(db_url: str):
    """A plain engine for watching the database without taking its write lock."""
    if db_url.startswith("postgresql://"):
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]
    return create_engine(db_url)


def count_receptions(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM reception")).scalar_one()


def assert_nothing_lost_nothing_doubled(factory, sink: SmtpSink, boite: Boite) -> None:
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Reception)) == boite.fichiers
        assert s.scalar(select(func.count()).select_from(Depot)) == boite.depots
        identified = s.scalar(select(func.count()).select_from(Depot).where(Depot.statut == DepotStatut.ENREGISTRE))
        assert identified == boite.identifies
        porteurs = list(s.scalars(select(Dossier.porteur_id)))
        assert len(porteurs) == len(set(porteurs)) == boite.porteurs
        numeros = list(s.scalars(select(Attestation.numero).order_by(Attestation.seq)))
        assert numeros == [f"AAP-2018-{i:04d}" for i in range(1, boite.identifies + 1)]
        rangs = Counter(s.execute(select(Depot.dossier_id, Depot.rang).where(Depot.dossier_id.is_not(None))).all())
        assert max(rangs.values()) == 1, "deux dépôts d'un même dossier portent le même rang"
        courriels = list(s.execute(select(Courriel.cle, Courriel.statut).where(Courriel.cle.like("attestation:%"))))
        assert sorted(c for c, _ in courriels) == [f"attestation:{n}" for n in numeros]
        assert {statut for _, statut in courriels} == {CourrielStatut.SENT}
    messages = sink.messages()
    per_numero = Counter(NUMERO.search(m["Subject"]).group() for m in messages)
    per_message_id = Counter(m["Message-ID"] for m in messages)
    assert sorted(per_numero) == numeros
    assert max(per_numero.values()) == 1 and max(per_message_id.values()) == 1
    assert len(messages) == boite.identifies


def test_intake_killed_mid_batch_then_run_again_loses_and_doubles_nothing(
    db_url, factory, storage, appel, sink, maildir_copy, boite
):
    watcher = reader(db_url)
    try:
        victim = start_worker(db_url, storage.root, maildir_copy, sink.port)
        while (seen := count_receptions(watcher)) < boite.fichiers // 4:
            assert victim.poll() is None, f"le worker a fini avant d'être tué :\n{victim.communicate()}"
            time.sleep(0.02)
        os.kill(victim.pid, signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
        at_kill = count_receptions(watcher)
    finally:
        watcher.dispose()
    assert seen <= at_kill < boite.fichiers, "le worker n'a pas été tué au milieu du lot"
    assert sink.messages() == []

    report = finish(start_worker(db_url, storage.root, maildir_copy, sink.port))

    assert report["depots"]["deja_vus"] == at_kill  # what the killed run committed is kept, not redone
    assert_nothing_lost_nothing_doubled(factory, sink, boite)


def test_two_intakes_at_the_same_moment_on_the_same_mailbox_lose_and_double_nothing(
    db_url, factory, storage, appel, sink, maildir_copy, boite
):
    runs = [start_worker(db_url, storage.root, maildir_copy, sink.port) for _ in range(2)]
    first, second = (finish(proc) for proc in runs)

    (a_start, a_end), (b_start, b_end) = first["temps"]["enregistrement"], second["temps"]["enregistrement"]
    assert a_start < b_end and b_start < a_end, "les deux relèves ne se sont pas chevauchées"
    assert_nothing_lost_nothing_doubled(factory, sink, boite)
    assert first["courriels"]["envoyes"] + second["courriels"]["envoyes"] == boite.identifies
    assert first["attestations"]["rendues"] + second["attestations"]["rendues"] == boite.identifies


@contextmanager
def dossiers_held(db_url: str, factory) -> Iterator[None]:
    """Hold the dossiers (PostgreSQL: their rows; SQLite: the write lock) until both registrations wait."""
    if db_url.startswith("sqlite"):
        with factory() as s, s.begin():
            s.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the database's write lock is ours
            yield
            time.sleep(0.5)  # SQLite cannot show who waits; both have long reached their transaction
        return
    engine = reader(db_url)
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            holder.execute(text("SELECT id FROM dossier FOR NO KEY UPDATE"))  # as an update in flight
            yield
            waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            deadline = time.monotonic() + 30
            while watcher.execute(text(waiting)).scalar_one() < 2:
                watcher.rollback()  # pg_stat_activity is read once per transaction
                assert time.monotonic() < deadline, "les deux enregistrements n'attendent pas le dossier"
                time.sleep(0.02)
            holder.rollback()
    finally:
        engine.dispose()


def test_two_depots_of_one_porteur_registered_at_once_both_count_on_its_dossier(
    db_url, factory, storage, appel, tmp_path
):
    p = porteur(90, referents=2)
    deliver_complete(tmp_path / "avant", tmp_path / "f", p, paris(5, 8))
    register_mailbox(factory, storage, 2018, iter_mailbox(tmp_path / "avant"), maintenant=paris(5, 9))
    deliver(tmp_path / "apres", sender=p.email, when=paris(6, 9), message_id="<complement@example.org>",
            attachments=[revised_cv(p)])
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(cv_pdf(f"Courrier {p.siret}"))
    outcomes: list[object] = []

    def run(work) -> None:
        try:
            outcomes.append(work())
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(exc)

    works = [
        lambda: register_mailbox(factory, storage, 2018, iter_mailbox(tmp_path / "apres"), maintenant=RELEVE).depots,
        lambda: register_postal(factory, storage, 2018, siret=p.siret, recu_le=paris(6, 10), files=[scan], nom=None,
                                maintenant=paris(6, 11))[1],
    ]
    threads = [threading.Thread(target=run, args=(w,)) for w in works]
    with dossiers_held(db_url, factory):
        for t in threads:
            t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(map(str, outcomes)) == ["1", "depot"]
    with factory() as s:
        dossier = s.scalar(select(Dossier))
        rangs = sorted(s.scalars(select(Depot.rang).where(Depot.dossier_id == dossier.id)))
        seqs = sorted(s.scalars(select(Attestation.seq)))
    assert rangs == [1, 2, 3]
    assert seqs == [1, 2, 3]
    assert (dossier.canaux, dossier.statut.value) == (["courriel", "courrier"], "complet")
