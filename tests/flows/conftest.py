"""One real Prefect server for the whole session (per xdist worker): ``prefect server start`` on loopback, on a
PostgreSQL database of its own where PostgreSQL listens (SQLite otherwise, with a warning), as in production.

- ``prefect_server`` (its API URL) is what ``test_prefect_server`` gives the commands and ``aap serve`` it starts;
- ``prefect_harness`` points this process's Prefect settings at it, for the modules that run flows in-process
  (``pytestmark = pytest.mark.usefixtures("prefect_harness")``), as ``prefect_test_harness`` does for its own
  temporary server. One server instead of two: each costs 12 to 17 s of CPU to start and a share of a core while
  it lives.

Every module that uses it is in the xdist group ``prefect``, so that under ``-n`` one worker starts the server.
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
from pathlib import Path

import pytest

from adapters.smtp_sink import find_free_port
from tests.databases import PG_ADMIN_URL, pg_execute, pg_unavailable

STARTUP_SECONDS = 90


@pytest.fixture(scope="session")
def prefect_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for Prefect's server (dropped afterwards), or None for SQLite."""
    reason = pg_unavailable()
    if reason:
        warnings.warn(f"{reason} : le serveur Prefect des tests utilise SQLite.", stacklevel=1)
        yield None
        return
    name = f"aap_prefect_{uuid.uuid4().hex[:10]}"
    pg_execute(f'CREATE DATABASE "{name}"')
    host = PG_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    try:
        yield f"postgresql+asyncpg://{host}/{name}"
    finally:
        pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stop_group(proc: subprocess.Popen, grace: float = 20) -> None:
    """Terminate the process group we started, then kill it if it lingers."""
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def tail(path: Path, n: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:]) if path.exists() else "(pas de journal)"


def prefect_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_LOGGING_LEVEL="WARNING")
    return env


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory, prefect_database: str | None) -> Iterator[str]:
    """`prefect server start` on a free loopback port; yields its API URL, skips if it does not answer in 90 s."""
    home = tmp_path_factory.mktemp("prefect-home")
    env = prefect_env(home)
    if prefect_database:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = prefect_database
    port = find_free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                 "--port", str(port)],
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
                pytest.skip(f"le serveur Prefect n'a pas démarré en {STARTUP_SECONDS} s :\n{tail(log)}")
            time.sleep(0.5)
        yield url
    finally:
        stop_group(proc)


@pytest.fixture(scope="session")
def prefect_harness(prefect_server: str) -> Iterator[None]:
    """This process's flows run against the session's server (what ``prefect_test_harness`` sets, for its own)."""
    import prefect.context
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: prefect_server}), \
            prefect.context._temporary_global_settings_context(prefect.context.get_settings_context()):
        try:
            yield
        finally:  # the last logs of this process's runs reach the server before it stops (else, at this
            # worker's exit: « --- Error logging to API --- All connection attempts failed »)
            from prefect.logging.handlers import APILogWorker

            APILogWorker.drain_all(timeout=10)
