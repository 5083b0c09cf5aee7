"""Production shape: a real Prefect server (PostgreSQL behind it where it listens), `aap serve`, a triggered run.

The test starts ``prefect server start`` on loopback, then ``aap serve --seulement releve-depots`` against
it, triggers the intake deployment through the API (once outside the call's window, once inside) and checks
the dépôt in the application database and the attestation in a real SMTP sink. It stops everything it started.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
import warnings
from collections.abc import Iterator
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
from models import Courriel, CourrielStatut, Depot
from tests.samples import deliver_complete, paris, porteur

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("AAP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
STARTUP_SECONDS = 90
DEPLOYMENT = "releve-planifiee/releve-depots"


def _pg_admin() -> object | None:
    try:
        import psycopg

        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except Exception:  # noqa: BLE001 - any failure means: no PostgreSQL here
        return None


@pytest.fixture(scope="module")
def prefect_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for Prefect's server (dropped afterwards), or None for SQLite."""
    conn = _pg_admin()
    if conn is None:
        warnings.warn(f"PostgreSQL injoignable ({PG_ADMIN_URL}) : le serveur Prefect du test utilise SQLite.", stacklevel=1)
        yield None
        return
    name = f"aap_prefect_{uuid.uuid4().hex[:10]}"
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    host = PG_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+asyncpg://{host}/{name}"
    finally:
        with _pg_admin() as conn:  # type: ignore[union-attr]
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _stop(proc: subprocess.Popen, grace: float = 20) -> None:
    """Terminate the process group we started, then kill it if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def _tail(path: Path, n: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else "(pas de journal)"


def _prefect_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_LOGGING_LEVEL="WARNING")
    return env


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory, prefect_database: str | None) -> Iterator[str]:
    """`prefect server start` on a free loopback port; yields its API URL, skips if it does not answer in 90 s."""
    home = tmp_path_factory.mktemp("prefect-home")
    env = _prefect_env(home)
    if prefect_database:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = prefect_database
    port = find_free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"le serveur Prefect n'a pas démarré en {STARTUP_SECONDS} s :\n{_tail(log)}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)


def test_intake_window_runs_from_publication_to_thirty_days_after_the_deadline():
    cfg = load_appel_config(2018)
    publie, limite = cfg.publication_utc(), cfg.date_limite_utc()

    assert not is_intake_window_open(publie, limite, maintenant=datetime(2017, 11, 20, 22, 59, tzinfo=timezone.utc))
    assert is_intake_window_open(publie, limite, maintenant=publie)
    assert is_intake_window_open(publie, limite, maintenant=datetime(2018, 1, 6, 16, 0, tzinfo=timezone.utc))
    assert not is_intake_window_open(publie, limite, maintenant=datetime(2018, 1, 6, 16, 0, 1, tzinfo=timezone.utc))


def test_unknown_deployment_name_is_refused_in_french():
    with pytest.raises(ValueError, match="déploiement\\(s\\) inconnu\\(s\\) : releve"):
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
        [message] = sink.messages()
        assert message["X-Envelope-To"] == p.email


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
