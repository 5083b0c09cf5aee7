"""Shared fixtures: a real database (SQLite, and PostgreSQL where it listens), real files, a real SMTP server."""
from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from adapters.workers import runs_many_batches
from flows.runtime import set_prefect_defaults

set_prefect_defaults()
runs_many_batches()  # a test session reads hundreds of mailboxes: its readers start with their modules (actions.pieces)

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
from tests.cli_forks import Zygote  # noqa: E402
from tests.databases import forget, pg_database, pg_execute, pg_reset, pg_unavailable, pg_url  # noqa: E402
from tests.snapshots import Snapshots, World  # noqa: E402

PUBLICATION = datetime(2017, 11, 21, 8, 0, tzinfo=timezone.utc)
RELEVE = datetime(2017, 12, 8, 7, 30, tzinfo=timezone.utc)
SENDER = "PLIE du bassin dijonnais <plie@example.org>"


_PG_REASON = pg_unavailable()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once per session (per xdist worker) by the real ``session_factory``.

    Each test gets a copy of the file. The engine is closed first, so that the WAL is checkpointed into the
    file and no -wal file is left behind."""
    path = tmp_path_factory.mktemp("modele-sqlite") / "aap.sqlite"
    url = f"sqlite:///{path}"
    session_factory(url)
    forget(url)
    assert not path.with_name("aap.sqlite-wal").exists(), "le modèle SQLite a gardé son WAL"
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per session (per xdist worker) by the real ``session_factory``, the
    template of the worker's test database and of the snapshots' databases (its engine closed at once:
    ``CREATE DATABASE … TEMPLATE`` wants no other connection to it)."""
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    name = f"aap_tpl_{uuid.uuid4().hex[:12]}"
    pg_execute(f'CREATE DATABASE "{name}"')
    url = pg_url(name)
    try:
        session_factory(url)
        forget(url)
        yield name
    finally:
        forget(url)
        pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_worker_database(pg_template: str) -> Iterator[str]:
    """This worker's PostgreSQL database for the tests, a copy of the template emptied before each test."""
    yield from pg_database(pg_template)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database as the migrations leave it: a copy of the migrated SQLite file, or the worker's PostgreSQL
    database emptied (tests/databases.py says why); ``session_factory`` still checks that it is at head. Which
    databases a test runs on: ``pytest_generate_tests`` below."""
    if request.param == "sqlite":
        path = tmp_path / "aap.sqlite"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        if _PG_REASON:
            pytest.skip(_PG_REASON)
        url = request.getfixturevalue("pg_worker_database")
        pg_reset(url)
    yield url
    forget(url)


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


@pytest.fixture(scope="session")
def commandes() -> Iterator[Zygote]:
    """``aap`` commands in processes forked from one that imported the command line once (tests/cli_forks.py)."""
    with Zygote() as zygote:
        yield zygote


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
def snapshots(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    """States built once per module and database and copied into each test that starts from them (tests/snapshots.py)."""
    def publish(w: World) -> None:  # what the ``appel`` fixture does
        publish_appel(w.factory, w.storage, load_appel_config(2018), maintenant=PUBLICATION)

    # the templates exist by then: the test's own db_url asked for the one of its database
    return Snapshots(tmp_path_factory.mktemp("etats"), lambda: request.getfixturevalue("sqlite_template"),
                     lambda: request.getfixturevalue("pg_template"), publish, SENDER)


def depot_entries(factory, depot_id: int) -> list[tuple[str, str | None]]:
    """The journal's entries about one dépôt: their kind and dossier, in order."""
    from sqlalchemy import select

    from models import Journal

    with factory() as s:
        return [(j.genre, j.dossier) for j in s.scalars(select(Journal).order_by(Journal.id))
                if j.genre.startswith("depot_") and (j.donnees or {}).get("depot") == depot_id]


def run_intake(factory, storage: Storage, maildir: Path, mail: MailSettings, *, maintenant: datetime = RELEVE, **options):
    """What the intake flow does, without Prefect: register (``options``: workers, limites), render (.docx), send."""
    report = register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=maintenant, **options)
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    render_pending_accuses(factory, storage, pdf=False)
    sent = send_pending(factory, mail, storage.root)
    return report, sent


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the cores. A third of the suite's time is spent waiting (a Prefect
    server, ``aap serve`` polling, LibreOffice, the commands' subprocesses, SMTP and PostgreSQL round trips):
    on 2 cores, 2 workers kept the CPU 147 % busy for 294 s; 3 workers, 158 % for 264 s; 4 workers, 271 s."""
    import os

    return (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) + 1


DATABASE_FIXTURES = ("story", "db_url")  # a module's story builds its own database; every other test asks db_url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every database test runs on SQLite; a test (or module) marked ``database_matters(reason)`` runs on
    PostgreSQL too (skipped, with its reason, where absent).

    Production runs on PostgreSQL, so what PostgreSQL does differently from SQLite is tested there: concurrent
    writers and locks (``FOR UPDATE``, conditional ``UPDATE … RETURNING`` claims, two processes racing), processes
    killed mid-transaction, constraints and triggers, gapless numbers, idempotent re-runs resting on unique keys,
    column lengths (SQLite ignores them), exact amounts (``Numeric``), times stored in UTC, text PostgreSQL refuses
    (NUL), searches (``lower()`` folds only ASCII on SQLite, ``LIKE`` is case-sensitive on PostgreSQL). Where the database only stores what a rule, a document or a
    mail reads back, running the same test on PostgreSQL again tested SQLAlchemy, not aap, for a third of the
    suite's time (265 of its 1385 tests, 340 s of the workers' 962 s)."""
    name = next((n for n in DATABASE_FIXTURES if n in metafunc.fixturenames), None)
    if name is None:
        return
    both = any(m.name == "database_matters" for m in metafunc.definition.iter_markers())
    kinds = ["sqlite", "postgresql"] if both else ["sqlite"]
    metafunc.parametrize(name, kinds, ids=kinds, indirect=True)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "database_matters(reason): the test runs on PostgreSQL too, for ``reason`` (what PostgreSQL does "
        "differently from SQLite that it checks); see pytest_generate_tests in tests/conftest.py")
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
