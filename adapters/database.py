"""Engines and sessions for SQLite (default) and PostgreSQL, and the schema upgrade on first use."""
from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from adapters.auteurs import register as register_authors
from adapters.journal_hook import register as register_journal

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
T = TypeVar("T")


def make_engine(url: str) -> Engine:
    """An engine whose transactions serialize cleanly across processes.

    SQLite: WAL, a 60 s busy timeout and ``BEGIN IMMEDIATE`` so that two writers queue instead of
    failing on a lock upgrade. PostgreSQL: psycopg 3, READ COMMITTED; races end on unique constraints.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the latest migration (idempotent, safe to race). A database already at
    the latest migration costs one query: Alembic is not even loaded."""
    if at_head(engine):
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(4242001)"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


_REVISION = re.compile(r"""^(down_)?revision\s*=\s*(?:['"]([^'"]+)['"]|None)""", re.M)


@cache
def head_revisions() -> frozenset[str]:
    """The latest migrations, read from the files' ``revision`` / ``down_revision`` lines (without Alembic): those
    that no other migration follows."""
    revisions, followed = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value:
                (followed if down else revisions).add(value)
    return frozenset(revisions - followed)


def at_head(engine: Engine) -> bool:
    """Whether the database's recorded migrations are exactly the latest ones (no table yet: not at head)."""
    heads = head_revisions()
    if not heads:
        return False
    try:
        with engine.connect() as conn:
            recorded = {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}
            conn.rollback()
    except DBAPIError:  # no alembic_version table yet: a new database
        return False
    return recorded == heads


_ready: dict[str, sessionmaker[Session]] = {}


def session_factory(url: str) -> sessionmaker[Session]:
    """The session factory for ``url``, the schema upgraded on first use in this process; its sessions record
    who changed each row while the back office names an account (``adapters.auteurs``) and journal every change
that matters in the same transaction (``adapters.journal_hook``)."""
    if url not in _ready:
        engine = make_engine(url)
        upgrade(engine)
        _ready[url] = register_journal(register_authors(sessionmaker(engine, expire_on_commit=False)))
    return _ready[url]


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    with factory() as session, session.begin():
        yield session


def retry_on_conflict(work: Callable[[], T], attempts: int = 8) -> T:
    """Run ``work`` again when another process won a race on a unique constraint or a lock."""
    for attempt in range(attempts):
        try:
            return work()
        except (IntegrityError, OperationalError) as exc:
            if attempt == attempts - 1 or not _is_conflict(exc):
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _is_conflict(exc: Exception) -> bool:
    if isinstance(exc, IntegrityError):
        return True
    message = str(exc).lower()
    return "locked" in message or "deadlock" in message or "could not serialize" in message
