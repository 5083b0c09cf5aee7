"""Production shape: a real Prefect server (PostgreSQL behind it where it listens), `aap serve`, triggered runs.

The module starts ``prefect server start`` on loopback once. One test serves the intake deployment with
``aap serve --seulement releve-depots``, triggers it through the API (once outside the call's window, once
inside) and checks the dépôt in the application database and the attestation in a real SMTP sink. Others run
``aap depots relever`` with ``PREFECT_API_URL`` set and read back through the API what the SA sees in the UI:
the run's name, its French logs, its artifacts, its final state and message; and a scheduled run that fails
mails the SA (once). Everything started is stopped.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from actions.publication import publish_appel
from adapters.database import session_factory
from adapters.smtp_sink import SmtpSink, find_free_port
from adapters.storage import Storage
from config.appel_config import load_appel_config
from flows.deployments import build_deployments, is_intake_window_open
from models import Courriel, CourrielStatut, Depot, Passage
from tests.flows.conftest import prefect_env as _prefect_env, stop_group as _stop, tail as _tail
from tests.integration.test_command_line import ENGLISH
from tests.samples import cvs, deliver, deliver_complete, paris, porteur

ROOT = Path(__file__).resolve().parents[2]
DEPLOYMENT = "releve-planifiee/releve-depots"
pytestmark = pytest.mark.xdist_group("prefect")  # the session's one Prefect server (tests/flows/conftest.py)


def test_intake_window_runs_from_publication_to_thirty_days_after_the_deadline():
    cfg = load_appel_config(2018)
    publie, limite = cfg.publication_utc(), cfg.date_limite_utc()

    assert not is_intake_window_open(publie, limite, maintenant=datetime(2017, 11, 20, 22, 59, tzinfo=timezone.utc))
    assert is_intake_window_open(publie, limite, maintenant=publie)
    assert is_intake_window_open(publie, limite, maintenant=datetime(2018, 1, 6, 16, 0, tzinfo=timezone.utc))
    assert not is_intake_window_open(publie, limite, maintenant=datetime(2018, 1, 6, 16, 0, 1, tzinfo=timezone.utc))


def test_unknown_deployment_name_is_refused_in_french():
    with pytest.raises(ValueError, match="déploiement inconnu : releve"):
        build_deployments(["releve"])


def test_serve_refuses_in_french_when_the_prefect_server_does_not_answer(tmp_path: Path):
    env = _prefect_env(tmp_path / "prefect-home")
    env["PREFECT_API_URL"] = f"http://127.0.0.1:{find_free_port()}/api"

    proc = subprocess.run([sys.executable, "-m", "flows.cli", "serve"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)

    assert proc.returncode == 1
    assert "Erreur : le serveur Prefect ne répond pas à http://127.0.0.1:" in proc.stderr, proc.stderr


def test_served_intake_deployment_registers_the_depot_and_mails_its_attestation(prefect_server: str, tmp_path: Path):
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    db_url = f"sqlite:///{tmp_path}/aap.sqlite"
    storage = tmp_path / "storage"
    factory = session_factory(db_url)
    publish_appel(factory, Storage(storage), load_appel_config(2018), maintenant=datetime(2017, 11, 21, 8, tzinfo=timezone.utc))
    maildir = tmp_path / "boite"
    p = porteur(71)
    deliver_complete(maildir, tmp_path / "forms", p, paris(6, 10))

    with SmtpSink(tmp_path / "sink") as sink:
        env = _prefect_env(tmp_path / "prefect-serve")
        env.update(PREFECT_API_URL=prefect_server, PREFECT_RUNNER_POLL_FREQUENCY="2", AAP_DATABASE_URL=db_url,
                   AAP_STORAGE_DIR=str(storage), AAP_SMTP_HOST="127.0.0.1", AAP_SMTP_PORT=str(sink.port), AAP_PDF="off",
                   AAP_MAILDIR=str(tmp_path / "pas-cette-boite"))
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            serving = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--seulement", "releve-depots"],
                                       cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
                deployment = _wait_for_deployment(get_client, serving, log)
                [schedule] = deployment.schedules
                assert (schedule.schedule.cron, schedule.schedule.timezone) == ("*/15 * * * *", "Europe/Paris")

                outside = run_deployment(DEPLOYMENT, parameters={"maildir": str(maildir), "maintenant": "2018-03-01T09:00"},
                                         timeout=90, poll_interval=1)
                assert outside.state.is_completed(), f"{outside.state!r}\n{_tail(log)}"
                with factory() as s:
                    assert s.scalar(select(func.count()).select_from(Depot)) == 0

                inside = run_deployment(DEPLOYMENT, parameters={"maildir": str(maildir), "maintenant": "2017-12-06T10:05"},
                                        timeout=90, poll_interval=1)
                assert inside.state.is_completed(), f"{inside.state!r}\n{_tail(log)}"
        finally:
            _stop(serving)

        assert "releve-planifiee/releve-depots" in log.read_text(errors="replace")
        with factory() as s:
            depot = s.scalar(select(Depot))
            assert depot is not None and depot.attestation.numero == "AAP-2018-0001"
            assert set(s.scalars(select(Courriel.statut))) == {CourrielStatut.SENT}
        messages = sink.messages()
        assert len(messages) == 1, ([(m["Subject"], m["X-Envelope-To"], m["Message-ID"]) for m in messages], _tail(log, 40))
        assert messages[0]["X-Envelope-To"] == p.email


def _wait_for_deployment(get_client, serving: subprocess.Popen, log: Path, seconds: float = 60):
    """The deployment as `aap serve` declared it on the server (it registers before it polls)."""
    import asyncio

    from prefect.exceptions import ObjectNotFound

    async def read():
        async with get_client() as client:
            return await client.read_deployment_by_name(DEPLOYMENT)

    deadline = time.monotonic() + seconds
    while True:
        try:
            return asyncio.run(read())
        except ObjectNotFound:
            pass
        assert serving.poll() is None, f"« aap serve » s'est arrêté :\n{_tail(log)}"
        assert time.monotonic() < deadline, f"« aap serve » n'a pas déclaré {DEPLOYMENT} en {seconds} s :\n{_tail(log)}"
        time.sleep(1)


# --------------------------------------------------------------------------- what the SA reads in the UI

SA = "assistante.plie@example.org"
STRUCTURES = ("Régie de quartier des Tilleuls", "Atelier & Cie d'insertion", "Chantier <Valmont>")


def _bureau(root: Path) -> dict[str, str]:
    """A published 2018 call and five dépôts: three complete, one from a stranger, one late; its AAP_* settings."""
    env = {"AAP_DATABASE_URL": f"sqlite:///{root}/aap.sqlite", "AAP_STORAGE_DIR": str(root / "storage"), "AAP_PDF": "off",
           "AAP_SMTP_HOST": "127.0.0.1", "AAP_SA_EMAIL": SA}
    publish_appel(session_factory(env["AAP_DATABASE_URL"]), Storage(root / "storage"), load_appel_config(2018),
                  maintenant=datetime(2017, 11, 21, 8, tzinfo=timezone.utc))
    box, forms = root / "boite", root / "forms"
    for n, nom in enumerate(STRUCTURES, start=81):
        deliver_complete(box, forms, porteur(n, nom=nom), paris(6, 9 + n - 81))
    deliver(box, sender="inconnu@example.org", sender_name="Atelier inconnu", when=paris(7, 11),
            attachments=cvs(porteur(84)), message_id="<inconnu-84@example.org>")
    deliver_complete(box, forms, porteur(85, nom="Chantier tardif"), paris(7, 17, 30))
    return env


def _relever(root: Path, server: str, env: dict[str, str], smtp_port: int, maintenant: str) -> subprocess.CompletedProcess:
    full = {**_prefect_env(root / "prefect-cli"), **env, "PREFECT_API_URL": server, "AAP_SMTP_PORT": str(smtp_port)}
    return subprocess.run([sys.executable, "-m", "flows.cli", "depots", "relever", str(root / "boite"), "--appel", "2018",
                           "--maintenant", maintenant], cwd=ROOT, env=full, capture_output=True, text=True, timeout=180)


def _flow_run_of(env: dict[str, str], etape: str) -> str:
    """The flow run id the application recorded for its last run of ``etape`` (its passage row)."""
    with session_factory(env["AAP_DATABASE_URL"])() as s:
        return s.scalars(select(Passage.flow_run_id).where(Passage.etape == etape).order_by(Passage.id.desc())).first()


def _read_back(server: str, flow_run_id: str):
    """The run, its logs (its task runs' included) and its artifacts by key, as the UI reads them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId)
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: server}), get_client(sync_client=True) as client:
        run = client.read_flow_run(uuid.UUID(flow_run_id))
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id])), limit=200)
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    return run, logs, {a.key: (json.loads(a.data) if a.type == "table" and isinstance(a.data, str) else a.data)
                       for a in artifacts}


def _speaks_french_without_addresses(logs) -> None:
    for line in logs:
        assert line.name == "aap" or line.name.startswith("aap."), f"{line.name} : {line.message[:200]}"
        assert not ENGLISH.search(line.message) and "@" not in line.message, line.message


def test_an_intake_run_tells_in_french_what_it_read_and_did_with_a_table_of_its_depots(prefect_server: str, tmp_path: Path):
    env = _bureau(tmp_path)
    with SmtpSink(tmp_path / "sink") as sink:
        proc = _relever(tmp_path, prefect_server, env, sink.port, "2017-12-08T09:00")
        delivered = len(sink.messages())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert delivered == 4

    run, logs, artifacts = _read_back(prefect_server, _flow_run_of(env, "releve"))

    assert run.name == "releve-2018-le-08-12-2017-09h00" and run.state.is_completed()
    assert set(artifacts) == {"releve-2018", "depots-2018", "dossiers-2018"}  # stable keys: the latest is one click away
    assert [(r["Dépôt"], r["Dossier"], r["Structure"], r["Statut"], r["Hors délai"], r["Attestation"])
            for r in artifacts["depots-2018"]] == [
        (1, "2018-001", STRUCTURES[0], "incomplet", "non", "AAP-2018-0001"),
        (2, "2018-002", STRUCTURES[1], "incomplet", "non", "AAP-2018-0002"),
        (3, "2018-003", STRUCTURES[2], "incomplet", "non", "AAP-2018-0003"),
        (4, "—", "Atelier inconnu", "non identifié", "non", "—"),
        (5, "2018-004", "Chantier tardif", "hors délai", "oui", "AAP-2018-0004"),
    ]
    assert artifacts["depots-2018"][0]["Pièces manquantes ou motifs"] == "envoi postal (courrier) non reçu"
    assert [r["Numéro"] for r in artifacts["dossiers-2018"]] == ["2018-001", "2018-002", "2018-003", "2018-004", "dépôt 4"]
    summary = ("5 messages lus, 4 nouveaux dépôts (dont 1 hors délai), 1 en attente de l'assistante, "
               "4 attestations rédigées, 4 courriels envoyés.")
    assert artifacts["releve-2018"].startswith("## Relève des dépôts — appel 2018\n\n- " + summary)
    said = [(line.level, line.message) for line in logs]
    assert (20, f"Relève des dépôts — appel 2018 : {summary}") in said
    assert (20, "releve-2018-le-08-12-2017-09h00 terminé en ") in [(lv, m[:43]) for lv, m in said]
    _speaks_french_without_addresses(logs)


def test_an_intake_run_with_smtp_down_ends_failed_with_its_french_message(prefect_server: str, tmp_path: Path):
    env = _bureau(tmp_path)
    message = "4 courriels non envoyés : serveur SMTP injoignable ; ils partiront au prochain passage."

    proc = _relever(tmp_path, prefect_server, env, find_free_port(), "2017-12-08T09:00")

    assert proc.returncode == 1 and proc.stderr.strip().endswith(f"Attention : {message}"), proc.stderr[-3000:]
    # the run's warning went to its logs (below), not again to the terminal in Prefect's English format
    assert not re.search(r"\| *(WARNING|INFO|ERROR) *\|", proc.stdout + proc.stderr), proc.stderr[-3000:]
    run, logs, artifacts = _read_back(prefect_server, _flow_run_of(env, "releve"))
    assert run.state.is_failed() and run.state.message == message
    assert (30, message) in [(line.level, line.message) for line in logs]
    assert f"- Attention : {message}" in artifacts["releve-2018"]
    _speaks_french_without_addresses(logs)


def test_a_scheduled_run_that_fails_mails_the_sa_once_and_the_mail_leaves_when_smtp_is_back(
        prefect_server: str, tmp_path: Path):
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.client.orchestration import get_client

    env = _bureau(tmp_path)
    smtp_port, ui = find_free_port(), prefect_server.removesuffix("/api")
    serve_env = {**_prefect_env(tmp_path / "prefect-serve"), **env, "PREFECT_API_URL": prefect_server,
                 "PREFECT_UI_URL": ui, "PREFECT_RUNNER_POLL_FREQUENCY": "2", "AAP_SMTP_PORT": str(smtp_port),
                 "AAP_MAILDIR": str(tmp_path / "boite")}
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serving = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--seulement", "releve-depots"],
                                   cwd=ROOT, env=serve_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    factory = session_factory(env["AAP_DATABASE_URL"])
    try:
        with temporary_settings(updates={PREFECT_API_URL: prefect_server}):
            _wait_for_deployment(get_client, serving, log)
            down = [run_deployment(DEPLOYMENT, parameters={"maintenant": when}, timeout=120, poll_interval=1)
                    for when in ("2017-12-08T09:00", "2017-12-08T09:15")]
            with factory() as s:
                failure_mails = s.scalars(select(Courriel).where(Courriel.cle.startswith("echec:"))).all()
            with SmtpSink(tmp_path / "sink", port=smtp_port) as sink:
                back = run_deployment(DEPLOYMENT, parameters={"maintenant": "2017-12-08T09:30"}, timeout=120, poll_interval=1)
                messages = sink.messages()
    finally:
        _stop(serving)

    message = "4 courriels non envoyés : serveur SMTP injoignable ; ils partiront au prochain passage."
    assert [(r.state.is_failed(), r.state.message) for r in down] == [
        (True, message), (True, message.replace("4 courriels", "5 courriels"))], _tail(log)
    [failure] = failure_mails  # the second failure, in the same outage, is not mailed again
    assert (failure.cle, failure.destinataires) == (f"echec:{DEPLOYMENT}:{down[0].id}", [SA])
    assert back.state.is_completed(), f"{back.state!r}\n{_tail(log)}"
    [mail] = [m for m in messages if m["X-Envelope-To"] == SA]
    assert str(mail["Subject"]) == "Passage en échec : releve-planifiee-le-08-12-2017-09h00"
    body = mail.get_body(("plain",)).get_content().replace("\u202f", " ")
    assert f"s'est terminé en échec :\n\n  {message}\n" in body
    assert f"Son journal et ses comptes rendus : {ui}/runs/flow-run/{down[0].id}" in body
    assert len([m for m in messages if m["X-Envelope-To"] != SA]) == 4  # the attestations left too
    _, logs, _ = _read_back(prefect_server, str(down[0].id))
    assert (20, "Courriel d'échec à l'assistante mis en file : il partira au prochain passage.") in [
        (line.level, line.message) for line in logs]
    _speaks_french_without_addresses(logs)  # and not Prefect's « Engine execution exited… » traceback
