"""Shared fixtures: a real database (SQLite, and PostgreSQL where it listens), real files, a real SMTP server."""
from __future__ import annotations

import os
import shutil
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
from tests.snapshots import Databases, Snapshots, World  # noqa: E402

PG_ADMIN_URL = os.environ.get("AAP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PUBLICATION = datetime(2017, 11, 21, 8, 0, tzinfo=timezone.utc)
RELEVE = datetime(2017, 12, 8, 7, 30, tzinfo=timezone.utc)
SENDER = "PLIE du bassin dijonnais <plie@example.org>"


def _pg_unavailable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: not here
        return f"PostgreSQL absent ({PG_ADMIN_URL}) : {type(exc).__name__}: {str(exc).strip()[:120]}"


_PG_REASON = _pg_unavailable()


def forget(url: str) -> None:
    """Close the engines ``session_factory`` keeps for ``url`` (any driver spelling): its files can then be copied
    or dropped."""
    from adapters import database

    def same(known: str) -> bool:
        if url.startswith("postgresql") and known.startswith("postgresql"):
            return known.rsplit("/", 1)[-1] == url.rsplit("/", 1)[-1]
        return known == url

    for known in [u for u in database._ready if same(u)]:
        database._ready.pop(known).kw["bind"].dispose()


def _pg_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def pg_database(template: str | None = None) -> Iterator[str]:
    """A fresh PostgreSQL database for one test (a copy of ``template`` if given), dropped afterwards."""
    name = f"aap_test_{uuid.uuid4().hex[:12]}"
    _pg_execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        yield url
    finally:
        forget(url)
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per session (per xdist worker) by the real ``session_factory``.

    Each test gets a copy of the file: the schema of a fresh upgrade, without paying the migrations again.
    The engine is closed first, so the WAL is checkpointed into the file and no -wal file is left behind.
    """
    path = tmp_path_factory.mktemp("modele-sqlite") / "aap.sqlite"
    url = f"sqlite:///{path}"
    session_factory(url)
    forget(url)
    assert not path.with_name("aap.sqlite-wal").exists(), "le modèle SQLite a gardé son WAL"
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per session (per xdist worker), the template of each test's database.

    ``CREATE DATABASE … TEMPLATE`` wants no other connection to the template: its engine is closed at once,
    and each worker has its own template, so two workers never copy the same one at the same moment.
    """
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    name = f"aap_tpl_{uuid.uuid4().hex[:12]}"
    _pg_execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        session_factory(url)
        forget(url)
        yield name
    finally:
        forget(url)
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database test runs on SQLite and on PostgreSQL (skipped, with its reason, where absent).

    Each test has its own database, a copy of a template migrated once per session: a file copy for SQLite,
    ``CREATE DATABASE … TEMPLATE`` for PostgreSQL; ``session_factory`` still checks that the copy is at head.
    """
    if request.param == "sqlite":
        path = tmp_path / "aap.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        yield url
        forget(url)
        return
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    yield from pg_database(request.getfixturevalue("pg_template"))


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
    return MailSettings(host="127.0.0.1", port=sink.port, sender=SENDER)


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    return tmp_path / "boite"


@pytest.fixture
def world(db_url, factory, storage, appel, sink, mail, tmp_path) -> World:
    """The shared fixtures of one test in one value: the 2018 call published, nothing sent yet."""
    return World(db_url, factory, storage, sink, mail, tmp_path)


@pytest.fixture(scope="module")
def snapshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Snapshots]:
    """States built once per module and database and copied into each test that starts from them (tests/snapshots.py)."""
    def publish(w: World) -> None:  # what the ``appel`` fixture does
        publish_appel(w.factory, w.storage, load_appel_config(2018), maintenant=PUBLICATION)

    databases = Databases(
        sqlite_template=lambda: request.getfixturevalue("sqlite_template"),
        pg_template=lambda: request.getfixturevalue("pg_template"),
        pg_execute=_pg_execute, pg_url=lambda name: f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}", forget=forget)
    built = Snapshots(tmp_path_factory.mktemp("etats"), databases, publish, SENDER)
    try:
        yield built
    finally:
        built.close()


def run_intake(factory, storage: Storage, maildir: Path, mail: MailSettings, *, maintenant: datetime = RELEVE, **options):
    """What the intake flow does, without Prefect: register (``options``: workers, limites), render (.docx), send."""
    report = register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=maintenant, **options)
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    render_pending_accuses(factory, storage, pdf=False)
    sent = send_pending(factory, mail, storage.root)
    return report, sent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "shared_per_database(fixture): the module's tests share work per database (a module-scoped story "
        "parametrised by database, or snapshots); ``fixture`` is the parameter naming the database (``story``, "
        "``db_url``). Under xdist the module's tests for one database run on one worker (an xdist_group each)")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` work shared by many tests must not be done again on every worker:
    ``shared_per_database("story")`` puts the tests of each database's story in a group of their own, so the
    SQLite story and the PostgreSQL story are played once each, possibly at the same time on two workers."""
    for item in items:
        mark = item.get_closest_marker("shared_per_database")
        if mark is None:
            continue
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get(mark.args[0]) if callspec else None
        item.add_marker(pytest.mark.xdist_group(f"{item.module.__name__}-{param or 'sans-base'}"))
