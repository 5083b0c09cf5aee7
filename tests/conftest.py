"""Shared fixtures: a real database (SQLite, and PostgreSQL where it listens), real files, a real SMTP server."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from flows.runtime import set_prefect_defaults

set_prefect_defaults()

from actions.attestations import render_pending  # noqa: E402
from actions.bilans import render_pending_accuses  # noqa: E402
from actions.depots import register_mailbox  # noqa: E402
from actions.outbox import send_pending  # noqa: E402
from actions.publication import publish_appel  # noqa: E402
from adapters.database import session_factory  # noqa: E402
from adapters.mailbox import iter_mailbox  # noqa: E402
from adapters.smtp import MailSettings  # noqa: E402
from adapters.smtp_sink import SmtpSink  # noqa: E402
from adapters.storage import Storage  # noqa: E402
from config.appel_config import AppelConfig, load_appel_config  # noqa: E402

PG_ADMIN_URL = os.environ.get("AAP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PUBLICATION = datetime(2017, 11, 21, 8, 0, tzinfo=timezone.utc)
RELEVE = datetime(2017, 12, 8, 7, 30, tzinfo=timezone.utc)


def _pg_unavailable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: not here
        return f"PostgreSQL absent ({PG_ADMIN_URL}) : {type(exc).__name__}: {str(exc).strip()[:120]}"


_PG_REASON = _pg_unavailable()


def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"aap_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        from adapters import database

        for url in [u for u in database._ready if u.endswith(name)]:
            database._ready.pop(url).kw["bind"].dispose()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database test runs on SQLite and on PostgreSQL (skipped, with its reason, where absent)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/aap.sqlite"
        return
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    yield from pg_database()


@pytest.fixture
def factory(db_url: str):
    return session_factory(db_url)


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "storage")


@pytest.fixture
def cfg() -> AppelConfig:
    return load_appel_config(2018)


@pytest.fixture
def appel(factory, storage: Storage, cfg: AppelConfig) -> AppelConfig:
    """The 2018 call, published."""
    publish_appel(factory, storage, cfg, maintenant=PUBLICATION)
    return cfg


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path / "sink") as server:
        yield server


@pytest.fixture
def mail(sink: SmtpSink) -> MailSettings:
    return MailSettings(host="127.0.0.1", port=sink.port, sender="PLIE du bassin dijonnais <plie@example.org>")


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    return tmp_path / "boite"


def run_intake(factory, storage: Storage, maildir: Path, mail: MailSettings, *, maintenant: datetime = RELEVE, **options):
    """What the intake flow does, without Prefect: register (``options``: workers, limites), render (.docx), send."""
    report = register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=maintenant, **options)
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    render_pending_accuses(factory, storage, pdf=False)
    sent = send_pending(factory, mail, storage.root)
    return report, sent
