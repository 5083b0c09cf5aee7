"""Faults: an intake killed mid-batch (``kill -9``) and run again, and two intakes running at once on
the same mailbox, lose nothing and double nothing. Real processes, real database, real SMTP."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from adapters.smtp_sink import SmtpSink
from models import Attestation, Courriel, CourrielStatut, Depot, Dossier, Reception
from models.dossier import DepotStatut
from tests.samples import cv_pdf, cvs, deliver, deliver_complete, paris, porteur

REPO = Path(__file__).resolve().parents[2]
WORKER = REPO / "tests" / "intake_worker.py"
ADRESSES = ("plie-aap@example.org", "coordination.plie@example.org", "assistante.plie@example.org")
PORTEURS = 48  # big enough that a kill after a few registrations lands mid-batch
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
        first = paris(4 + n % 3, 8, n)
        targets = ADRESSES if n % 5 == 0 else ADRESSES[:1]
        for second, to in enumerate(targets):
            deliver_complete(maildir, forms, p, first.replace(second=second), to=to)
        depots += 1
        if n % 4 == 0:  # a complément: one CV sent again, revised
            nom, prenom = p.referents[1][:2]
            deliver(maildir, sender=p.email, when=paris(7, 9, n), message_id=f"<complement-{n}@example.org>",
                    attachments=[(f"CV_{prenom}_{nom}.pdf", cv_pdf(f"CV révisé {prenom} {nom} {p.siret}"))])
            depots += 1
    late = porteur(100 + PORTEURS + 1)
    deliver_complete(maildir, forms, late, paris(7, 17, 5))
    depots += 1
    for n in (1, 2):  # unknown senders, no form: kept, no attestation
        deliver(maildir, sender=f"inconnu{n}@example.org", when=paris(6, 12, n), message_id=f"<inconnu-{n}@example.org>",
                attachments=[(f"presentation{n}.pdf", cv_pdf(f"Présentation {n}"))])
        depots += 1
    fichiers = len(list((maildir / "new").iterdir()))
    return Boite(maildir, fichiers, depots, depots - 2, PORTEURS + 1)


@pytest.fixture
def maildir(boite: Boite, tmp_path: Path) -> Path:
    return Path(shutil.copytree(boite.path, tmp_path / "boite"))


@pytest.fixture
def sink(tmp_path: Path):
    with SmtpSink(tmp_path / "sink") as server:
        yield server


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
    db_url, factory, storage, appel, sink, maildir, boite
):
    watcher = reader(db_url)
    try:
        victim = start_worker(db_url, storage.root, maildir, sink.port)
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

    report = finish(start_worker(db_url, storage.root, maildir, sink.port))

    assert report["depots"]["deja_vus"] >= at_kill
    assert_nothing_lost_nothing_doubled(factory, sink, boite)


def test_two_intakes_at_the_same_moment_on_the_same_mailbox_lose_and_double_nothing(
    db_url, factory, storage, appel, sink, maildir, boite
):
    runs = [start_worker(db_url, storage.root, maildir, sink.port) for _ in range(2)]
    first, second = (finish(proc) for proc in runs)

    (a_start, a_end), (b_start, b_end) = first["temps"]["enregistrement"], second["temps"]["enregistrement"]
    assert a_start < b_end and b_start < a_end, "les deux relèves ne se sont pas chevauchées"
    assert_nothing_lost_nothing_doubled(factory, sink, boite)
    assert first["courriels"]["envoyes"] + second["courriels"]["envoyes"] == boite.identifies
