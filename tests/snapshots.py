"""States that many tests start from, built once per module and database, then copied into each test.

A fixture such as « three instructed dossiers » costs seconds (real forms, the real intake, the real instruction)
and dozens of tests start from it, each on SQLite and on PostgreSQL. ``Snapshots.restore`` builds it the first
time in a world of its own, laid out as a test's ``tmp_path`` is (``aap.sqlite``, ``storage/``, ``boite/``,
``sink/``), then gives every test that asks for it a copy of that world in its own ``tmp_path``: the database
(a file copy for SQLite; for PostgreSQL every row, copied out and in by ``COPY``, and every sequence's position),
the files, the SMTP sink's messages and counters. Each test still changes only its own copy, so tests stay
independent and may write; nothing is mocked.

What the copy cannot carry is refused when the state is built: a path into the builder's folder left in a JSON
column. Paths in text columns (the comité's workbook is recorded with its absolute path) are rewritten to the
test's folder.
"""
from __future__ import annotations

import copy
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import JSON, String, Text, cast, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from adapters.database import session_factory
from adapters.smtp import MailSettings
from adapters.smtp_sink import SmtpSink
from adapters.storage import Storage
from models.base import Base
from tests.databases import PgDump, forget, pg_database, pg_load, pg_dump

T = TypeVar("T")
DATABASE = "aap.sqlite"


@dataclass
class World:
    """What the shared fixtures give one test: its database, storage, SMTP sink and folder (``tmp_path``)."""

    db_url: str
    factory: sessionmaker[Session]
    storage: Storage
    sink: SmtpSink
    mail: MailSettings
    tmp: Path

    @property
    def maildir(self) -> Path:
        return self.tmp / "boite"


@dataclass
class Snapshot:
    root: Path
    database: Path | PgDump  # the SQLite file, or PostgreSQL's rows and sequences
    value: Any
    sink_sequence: int
    sink_rcpts: list[str]
    sink_connections: int
    path_columns: list[tuple[str, str]] = field(default_factory=list)


class Snapshots:
    """The states built so far in one module, per name and database."""

    def __init__(self, root: Path, sqlite_template: Callable[[], Path], pg_template: Callable[[], str],
                 prepare: Callable[[World], None], sender: str) -> None:
        self.root, self.sqlite_template, self.pg_template = root, sqlite_template, pg_template
        self.prepare, self.sender = prepare, sender
        self.built: dict[tuple[str, str], Snapshot] = {}

    def restore(self, name: str, build: Callable[[World], T], world: World) -> T:
        """``build(world)``'s state and value in ``world``, built once per module and database.

        ``world`` must be as the shared fixtures made it (``prepare`` done, nothing sent yet): the copy replaces
        its database and its files, and gives its sink the messages and counters the build left."""
        kind = "postgresql" if world.db_url.startswith("postgresql") else "sqlite"
        snapshot = self.built.get((name, kind))
        if snapshot is None:
            snapshot = self.built[(name, kind)] = self._build(name, kind, build)
        self._copy(snapshot, world)
        return copy.deepcopy(snapshot.value)

    # building

    def _build(self, name: str, kind: str, build: Callable[[World], Any]) -> Snapshot:
        root = self.root / f"{name}-{kind}"
        root.mkdir(parents=True)
        if kind == "sqlite":
            shutil.copyfile(self.sqlite_template(), root / DATABASE)
            pg = None
            url = f"sqlite:///{root / DATABASE}"
        else:
            pg = pg_database(self.pg_template())
            url = next(pg)
        try:
            factory = session_factory(url)
            with SmtpSink(root / "sink") as sink:
                world = World(url, factory, Storage(root / "storage"), sink,
                              MailSettings(host="127.0.0.1", port=sink.port, sender=self.sender), root)
                self.prepare(world)
                value = build(world)
            columns = _columns_holding(factory, str(root))
            forget(url)  # closed: the file can be copied
            database = root / DATABASE if pg is None else pg_dump(url)
        finally:
            forget(url)
            if pg is not None:
                pg.close()  # the rows are kept, the database dropped
        return Snapshot(root, database, value, sink._sequence, list(sink.rcpts), sink.connections, columns)

    # copying

    def _copy(self, snapshot: Snapshot, world: World) -> None:
        engine = world.factory.kw["bind"]
        assert engine.pool.checkedout() == 0, "une connexion est encore ouverte sur la base à remplacer"
        engine.dispose()  # the factory stays: its next connection opens the copy
        if isinstance(snapshot.database, PgDump):
            pg_load(world.db_url, snapshot.database)
        else:
            target = Path(world.db_url.split("///", 1)[1])
            for stale in (target, target.with_name(f"{target.name}-wal"), target.with_name(f"{target.name}-shm")):
                stale.unlink(missing_ok=True)
            shutil.copyfile(snapshot.database, target)
        sink_dir = world.sink.maildir_path
        assert len(world.sink.maildir) == 0, "le serveur SMTP du test a déjà reçu des messages"
        for entry in snapshot.root.iterdir():
            if entry.name.startswith(DATABASE):
                continue
            target = world.tmp / entry.name
            if entry.is_dir():
                if target.exists() and target != sink_dir:
                    shutil.rmtree(target)
                shutil.copytree(entry, target, dirs_exist_ok=True)  # copy2: names, modes and times kept
            else:
                shutil.copy2(entry, target)
        # the running sink takes over the build's counters (its next message numbers after the copied ones)
        world.sink._sequence = snapshot.sink_sequence
        world.sink.rcpts[:] = snapshot.sink_rcpts
        world.sink.connections = snapshot.sink_connections
        if snapshot.path_columns:
            _rewrite(world.factory, snapshot.path_columns, str(snapshot.root), str(world.tmp))


def _text_columns() -> Iterator[tuple[Any, Any]]:
    """Every column that can hold a path: text and JSON."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, JSON)):
                yield table, column


def _columns_holding(factory: sessionmaker[Session], text: str) -> list[tuple[str, str]]:
    """The (table, column) pairs whose values contain ``text``; a JSON column among them is refused."""
    found = []
    with factory() as s:
        for table, column in _text_columns():
            as_text = cast(column, Text)  # an Enum column would refuse a LIKE on a value not among its own
            hits = s.scalar(select(func.count()).select_from(table).where(as_text.contains(text, autoescape=True)))
            if not hits:
                continue
            if isinstance(column.type, JSON):
                raise AssertionError(f"{table.name}.{column.name} garde un chemin du dossier de construction ({text}) : "
                                     "l'état ne peut pas être copié tel quel")
            found.append((table.name, column.name))
    return found


def _rewrite(factory: sessionmaker[Session], columns: list[tuple[str, str]], old: str, new: str) -> None:
    tables = Base.metadata.tables
    with factory() as s, s.begin():
        for table_name, column_name in columns:
            column = tables[table_name].c[column_name]
            s.execute(update(tables[table_name]).where(cast(column, Text).contains(old, autoescape=True))
                      .values({column_name: func.replace(column, old, new)}))
