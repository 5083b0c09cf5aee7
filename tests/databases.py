"""The tests' databases: SQLite files and PostgreSQL databases, made from a template migrated once.

Migrating costs about 0.1 s per database; creating a PostgreSQL database (``CREATE DATABASE … TEMPLATE``, 8.7 MB
written through the WAL) and dropping it cost 0.05 s each on an idle machine and up to 0.8 s together when the
disk is shared, which every PostgreSQL test paid. So on PostgreSQL each xdist worker keeps one database for its
tests, a copy of the migrated template, and ``pg_reset`` empties it before each test: the other connections to it
are ended, every table but ``alembic_version`` is emptied and every sequence restarted, which leaves it as a
fresh copy of the template would be (a few milliseconds). On SQLite each test copies the migrated file.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

PG_ADMIN_URL = os.environ.get("AAP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_unavailable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means: not here
        return f"PostgreSQL absent ({PG_ADMIN_URL}) : {type(exc).__name__}: {str(exc).strip()[:120]}"


def pg_url(name: str) -> str:
    return f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"


def pg_execute(sql: str, database: str | None = None) -> None:
    import psycopg

    with psycopg.connect(pg_url(database) if database else PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def forget(url: str) -> None:
    """Close the engines ``session_factory`` keeps for ``url`` (any driver spelling), so that its file can be
    copied or its database dropped or used as a template; the next ``session_factory(url)`` opens it again."""
    from adapters import database

    def same(known: str) -> bool:
        if url.startswith("postgresql") and known.startswith("postgresql"):
            return known.rsplit("/", 1)[-1] == url.rsplit("/", 1)[-1]
        return known == url

    for known in [u for u in database._ready if same(u)]:
        database._ready.pop(known).kw["bind"].dispose()


def pg_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (a copy of ``template`` if given), dropped afterwards."""
    name = f"aap_test_{uuid.uuid4().hex[:12]}"
    pg_execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    url = pg_url(name)
    try:
        yield url
    finally:
        forget(url)
        pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _tables_children_first() -> list[str]:
    from models.base import Base

    return [t.name for t in reversed(Base.metadata.sorted_tables)]


def pg_reset(url: str) -> None:
    """Empty a database made from the migrated template, as a new copy of it would be.

    Other connections to it (a worker process a previous test left, an engine not closed) are ended first, and
    waited for; then its tables are emptied children first (the journal's triggers, which refuse any DELETE, left
    asleep for this transaction), and its sequences restart where a new copy's would."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        sequences = [name for (name,) in conn.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")]
        script = [f'DELETE FROM "{table}"' for table in _tables_children_first()]
        script += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
        with conn.transaction():
            # the journal's triggers refuse every DELETE, as they must; emptying a test database is not one:
            # in this session only, as when restoring a replica, the tables' triggers do not fire
            conn.execute("SET LOCAL session_replication_role = replica")
            conn.execute("; ".join(script))


@dataclass(frozen=True)
class PgDump:
    """Every row of every table (COPY's text format, byte for byte) and each sequence's position."""

    tables: dict[str, bytes]
    sequences: dict[str, tuple[int, bool]]


def pg_dump(url: str) -> PgDump:
    import psycopg

    tables: dict[str, bytes] = {}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table in reversed(_tables_children_first()):
            with cur.copy(f'COPY "{table}" TO STDOUT') as copy:
                tables[table] = b"".join(bytes(chunk) for chunk in copy)
        names = [name for (name,) in cur.execute(
            "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()").fetchall()]
        sequences = {}
        for name in names:
            last_value, is_called = cur.execute(f'SELECT last_value, is_called FROM "{name}"').fetchone()
            sequences[name] = (last_value, is_called)
    return PgDump(tables, sequences)


def pg_load(url: str, dump: PgDump) -> None:
    """Empty the database (``pg_reset``) and put ``dump``'s rows and sequence positions in it, parents first."""
    import psycopg

    pg_reset(url)
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table, data in dump.tables.items():
            if data:
                with cur.copy(f'COPY "{table}" FROM STDIN') as copy:
                    copy.write(data)
        for name, (last_value, is_called) in dump.sequences.items():
            cur.execute("SELECT setval(%s, %s, %s)", (f'"{name}"', last_value, is_called))
