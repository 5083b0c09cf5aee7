"""The outbox on a real database (SQLite and PostgreSQL) and a real SMTP server: refusals decided by the reply
code, bounded retries, recipients checked at the edge, and a sender killed with ``kill -9`` at random moments
whose mail the next run sends at once (tests/outbox_worker.py in a real subprocess)."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from actions.echeancier import run_echeancier
from actions.outbox import enqueue, release_abandoned, send_pending
from adapters.claimant import current_claimant, is_gone
from adapters.database import transaction
from adapters.storage import Storage
from config.settings import Settings
from flows.cli import app
from flows.runtime import configure
from models import Courriel, CourrielStatut
from tests.conftest import RELEVE

REPO = Path(__file__).resolve().parents[2]
WORKER = REPO / "tests" / "outbox_worker.py"


def queue(factory, n: int, *, to=lambda i: f"porteur{i}@example.org", prefix: str = "attestation:AAP-2018-") -> list[str]:
    keys = [f"{prefix}{i:04d}" for i in range(1, n + 1)]
    with transaction(factory) as s:
        for i, key in enumerate(keys, start=1):
            enqueue(s, cle=key, destinataires=[to(i)], sujet=f"Accusé de réception n° {i}",
                    corps=f"Bonjour,\n\nVotre dépôt n° {i} est bien reçu.\n", pieces_jointes=[], maintenant=RELEVE)
    return keys


def rows(factory) -> dict[str, Courriel]:
    with factory() as s:
        return {c.cle: c for c in s.scalars(select(Courriel).order_by(Courriel.id))}


# --- refusals: by code, bounded, at the edge ------------------------------------------------


def test_a_permanent_refusal_of_an_address_containing_451_fails_at_once_and_is_not_retried(factory, sink, mail, tmp_path):
    sink.refused_recipients = {"x451@example.org"}
    queue(factory, 1, to=lambda i: "x451@example.org")

    first = send_pending(factory, mail, tmp_path)
    again = send_pending(factory, mail, tmp_path)

    (row,) = rows(factory).values()
    assert (first.echecs, first.en_attente, again.echecs) == (1, 0, 0)
    assert row.statut is CourrielStatut.FAILED and row.tentatives == 1
    assert row.erreur == "destinataire refusé : x451@example.org (550 5.1.1 destinataire inconnu)"
    assert sink.rcpts == ["x451@example.org"]


def test_transient_refusals_are_retried_a_bounded_number_of_times_then_failed_with_their_reason(factory, sink, mail, tmp_path):
    sink.refuse = True  # 451 on every RCPT
    queue(factory, 2)

    reports = [send_pending(factory, mail, tmp_path, max_attempts=3) for _ in range(5)]

    assert [(r.en_attente, r.echecs) for r in reports] == [(2, 0), (2, 0), (0, 2), (0, 0), (0, 0)]
    for row in rows(factory).values():
        assert row.statut is CourrielStatut.FAILED and row.tentatives == 3
        assert row.erreur.startswith("abandonné après 3 tentatives : destinataire refusé : ")
        assert "451" in row.erreur
    assert len(sink.rcpts) == 6 and sink.messages() == []


def test_a_mail_that_failed_for_now_goes_out_on_the_next_run(factory, sink, mail, tmp_path):
    sink.refuse = True
    queue(factory, 1)
    send_pending(factory, mail, tmp_path)
    sink.refuse = False

    report = send_pending(factory, mail, tmp_path)

    (row,) = rows(factory).values()
    assert report.envoyes == 1 and row.statut is CourrielStatut.SENT and row.erreur is None and row.tentatives == 2


@pytest.mark.parametrize("hostile", [
    "a@example.org, b@example.org",
    "x@example.org\r\nBcc: y@example.org",
    "amis: a@example.org, b@example.org;",
    '"Evil <a@example.org>" <b@example.org>',
])
def test_a_row_whose_recipient_is_not_one_address_is_refused_with_its_reason_and_never_reaches_the_server(
    factory, sink, mail, tmp_path, hostile
):
    queue(factory, 3, to=lambda i: hostile if i == 2 else f"porteur{i}@example.org")

    report = send_pending(factory, mail, tmp_path)

    by_key = rows(factory)
    refused = by_key["attestation:AAP-2018-0002"]
    assert refused.statut is CourrielStatut.FAILED and refused.tentatives == 0
    assert refused.erreur.startswith("destinataire refusé avant l'envoi (")
    assert report.envoyes == 2
    assert sink.rcpts == ["porteur1@example.org", "porteur3@example.org"]


def test_a_row_written_with_a_hostile_recipient_behind_the_outbox_is_refused_at_the_smtp_edge(factory, sink, mail, tmp_path):
    queue(factory, 1)
    with transaction(factory) as s:
        s.execute(update(Courriel).values(destinataires=["a@example.org, b@example.org"]))

    report = send_pending(factory, mail, tmp_path)

    (row,) = rows(factory).values()
    assert report.echecs == 1 and row.statut is CourrielStatut.FAILED
    assert row.erreur == "destinataire refusé avant l'envoi (plusieurs adresses : une seule est attendue)"
    assert sink.rcpts == []


# --- what the SA sees: « aap courriels » and the digest ----------------------------------------------


def failed_and_sent(factory, sink, mail, tmp_path) -> None:
    sink.refused_recipients = {"x451@example.org"}
    queue(factory, 2, to=lambda i: "x451@example.org" if i == 1 else "porteur2@example.org")
    send_pending(factory, mail, tmp_path)


def test_the_courriels_command_lists_each_mail_with_its_kind_recipient_status_attempts_and_error(
    db_url, factory, sink, mail, tmp_path
):
    failed_and_sent(factory, sink, mail, tmp_path)
    configure(Settings(database_url=db_url, storage_dir=tmp_path / "storage", smtp_port=sink.port, pdf="off"))

    table = CliRunner().invoke(app, ["courriels"])
    only_failed = CliRunner().invoke(app, ["courriels", "--statut", "en-echec", "--json"])
    unknown = CliRunner().invoke(app, ["courriels", "--statut", "perdu"])

    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    [refused] = [line for line in lines if "x451@example.org" in line]
    assert "attestation de dépôt" in refused and "en échec" in refused and " 1 " in refused
    assert "destinataire refusé : x451@example.org (550 5.1.1 destinataire inconnu)" in refused
    [sent] = [line for line in lines if "porteur2@example.org" in line]
    assert "envoyé" in sent
    assert lines[-1] == "2 courriels — en échec : 1 ; envoyé : 1."
    rows = json.loads(only_failed.output)
    assert [(r["nature"], r["destinataires"], r["statut"], r["tentatives"]) for r in rows] == [
        ("attestation de dépôt", ["x451@example.org"], "en échec", 1)]
    assert unknown.exit_code == 1 and "statut inconnu : « perdu »" in unknown.output


def test_the_digest_tells_the_sa_which_mails_were_given_up_and_why(factory, sink, mail, tmp_path):
    failed_and_sent(factory, sink, mail, tmp_path)

    run_echeancier(factory, Storage(tmp_path / "storage"), maintenant=RELEVE, sa_email="assistante.plie@example.org")
    send_pending(factory, mail, tmp_path)

    [digest] = [m for m in sink.messages() if m["X-Envelope-To"] == "assistante.plie@example.org"]
    body = digest.get_body(("plain",)).get_content()
    assert "1 courriel en échec" in digest["Subject"]
    assert "Courriels en échec, non envoyés (détail : « aap courriels --statut en-echec ») :" in body
    assert ("  - attestation de dépôt (AAP-2018-0001) à x451@example.org : destinataire refusé : x451@example.org "
            "(550 5.1.1 destinataire inconnu) (1 tentative)") in body


# --- crashes: claims of a dead process are free at once ------------------------------------------


def dead_claimant() -> str:
    """The token of a process that has ended (a real one, started and reaped)."""
    proc = subprocess.run([sys.executable, "-c", "from adapters.claimant import current_claimant; print(current_claimant())"],
                          cwd=REPO, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def test_a_claim_names_its_process_and_is_gone_only_when_the_process_is(tmp_path):
    token = dead_claimant()

    assert token.split("|")[2].isdigit()
    assert is_gone(token)
    assert not is_gone(current_claimant())
    parent = current_claimant().split("|")
    assert not is_gone("|".join([*parent[:2], str(os.getppid()), "?"]))
    assert not is_gone("autre-machine|boot|1|1")  # another machine: only the lease can tell


@pytest.mark.database_matters("claims and their leases in stored UTC times")
def test_rows_left_sending_by_a_dead_process_go_out_at_once_and_a_live_claim_is_left_alone(factory, sink, mail, tmp_path):
    queue(factory, 3)
    live = "|".join([*current_claimant().split("|")[:2], str(os.getppid()), "?"])  # alive: the test's parent
    with transaction(factory) as s:
        for cle, holder in (("attestation:AAP-2018-0001", dead_claimant()), ("attestation:AAP-2018-0002", live)):
            s.execute(update(Courriel).where(Courriel.cle == cle)
                      .values(statut=CourrielStatut.SENDING, reserve_par=holder, reserve_le=RELEVE.replace(year=2030)))

    started = time.monotonic()
    report = send_pending(factory, mail, tmp_path, lease_seconds=3600)

    assert time.monotonic() - started < 10
    by_key = rows(factory)
    assert report.envoyes == 2
    assert by_key["attestation:AAP-2018-0001"].statut is CourrielStatut.SENT
    assert by_key["attestation:AAP-2018-0002"].statut is CourrielStatut.SENDING
    assert by_key["attestation:AAP-2018-0003"].statut is CourrielStatut.SENT
    assert release_abandoned(factory, current_claimant()) == 0


def start_sender(db_url: str, storage: Path, port: int, *, chunk: int | None = None,
                 wait_for_go: bool = False) -> subprocess.Popen[str]:
    args = [sys.executable, str(WORKER), db_url, str(storage), str(port)] + (["--chunk", str(chunk)] if chunk else [])
    return subprocess.Popen(args + (["--attendre"] if wait_for_go else []), cwd=REPO, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"l'envoi {proc.pid} a échoué ({proc.returncode}) :\n{out}\n{err[-4000:]}"
    return json.loads(out.strip().splitlines()[-1])


MAILS = 60
KILLS = 3


@pytest.mark.database_matters("processes killed mid-transaction")
def test_a_sender_killed_at_random_moments_delays_no_mail_and_doubles_at_most_the_one_in_flight(
    db_url, factory, sink, mail, tmp_path
):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    keys = queue(factory, MAILS)
    sink.data_delay = 0.005
    kills = 0
    for _ in range(KILLS):
        before = len(sink.rcpts)
        if before >= MAILS - 10:
            break
        target = rng.randint(before, MAILS - 10)  # a kill at 0 lands before the first mail: during start or claim
        victim = start_sender(db_url, tmp_path / "storage", sink.port)
        assert victim.stdout.readline().strip() == "pret"
        while len(sink.rcpts) < target + 1 and victim.poll() is None:
            time.sleep(0.0005)
        time.sleep(rng.uniform(0, 0.01))  # anywhere: RCPT, DATA, the commit after it, the next claim
        assert victim.poll() is None, f"graine {seed} : l'envoi a fini avant d'être tué"
        os.kill(victim.pid, signal.SIGKILL)
        assert victim.wait(timeout=30) == -signal.SIGKILL
        kills += 1

    left = sum(1 for c in rows(factory).values() if c.statut is not CourrielStatut.SENT)
    started = time.monotonic()
    report = send_pending(factory, mail, tmp_path / "storage")  # the lease (600 s) is never waited for
    elapsed = time.monotonic() - started

    by_key = rows(factory)
    assert {c.statut for c in by_key.values()} == {CourrielStatut.SENT}, f"graine {seed}"
    received = Counter(m["Message-ID"] for m in sink.messages())
    assert set(received) == {by_key[k].message_id for k in keys}, f"graine {seed}"
    doubled = {mid: n for mid, n in received.items() if n > 1}
    # each kill doubles at most the one mail in flight; the next sender may be killed with that same mail in flight
    assert sum(n - 1 for n in doubled.values()) <= kills, f"graine {seed} : {doubled}"
    assert report.envoyes == left and kills >= 1, f"graine {seed}"
    assert elapsed < 30, f"graine {seed} : {elapsed:.1f} s"


@pytest.mark.database_matters("concurrent claims by a conditional UPDATE … RETURNING")
def test_two_senders_at_once_send_each_mail_exactly_once(db_url, factory, sink, tmp_path):
    keys = queue(factory, 40)
    sink.data_delay = 0.01

    runs = [start_sender(db_url, tmp_path / "storage", sink.port, chunk=4, wait_for_go=True) for _ in range(2)]
    for proc in runs:  # both are connected and ready before either sends: a loaded machine cannot serialise them
        assert proc.stdout.readline().strip() == "pret"
    for proc in runs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    first, second = (finish(proc) for proc in runs)

    (a0, a1), (b0, b1) = first["temps"], second["temps"]
    assert a0 < b1 and b0 < a1, "les deux envois ne se sont pas chevauchés"
    assert first["courriels"]["envoyes"] + second["courriels"]["envoyes"] == len(keys)
    assert first["courriels"]["envoyes"] > 0 and second["courriels"]["envoyes"] > 0
    received = Counter(m["Message-ID"] for m in sink.messages())
    assert len(received) == len(keys) and max(received.values()) == 1
    assert {c.statut for c in rows(factory).values()} == {CourrielStatut.SENT}
