"""Appending to the journal, in the transaction of the change it records.

``record(session, genre, texte, …)`` writes one entry now, through the session's own connection: it commits or
rolls back with the change. The ORM hook (``adapters.journal_hook``) keeps what each flush changed and writes it
just before the transaction commits (one write per transaction, a dépôt and the dossier it joins in one entry);
actions call ``record`` for what no row change says (a mail sent by a bulk UPDATE, a purge), which writes what the
hook holds first, so the chain keeps the order of events.

Two transactions appending at once must not fork the chain: on PostgreSQL the writer takes a transaction-level
advisory lock before reading the chain's head (held until its commit, so the next writer reads the head it
wrote); on SQLite every transaction of ``adapters.database`` begins with ``BEGIN IMMEDIATE`` and holds the write
lock already. The database backs it: an entry's number is its primary key and its previous hash is unique.

The moment of an entry is the real clock when it is written (what an auditor must be able to trust: a replay's
or a command's ``--maintenant`` would let anyone write an entry dated in the past); the dates of the operation
itself are in its payload. ``HORLOGE`` lets a test (or a replay that wants it) set that clock.

When an entry falls on a later Paris day than the chain's last one, that day is sealed first, in the same
transaction: a ``sceau_journal`` row and a file under the storage (when the session factory knows the storage,
see ``use_storage``; else the next writer that does, or ``aap journal sceller``, seals it).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from adapters.storage import write_private
from models.journal import (
    Ecriture,
    Entree,
    Journal,
    Sceau,
    SceauJournal,
    Tete,
    days_to_seal,
    next_entry,
    seal_text,
)

VERROU_PG = 4242013  # pg_advisory_xact_lock key of the journal's head
STOCKAGE = "aap_journal_stockage"  # session.info key: the storage root where seals are written
EN_ATTENTE = "aap_journal_en_attente"  # session.info key: what the hook saw in this transaction, written at commit
HORLOGE: ContextVar[Callable[[], datetime] | None] = ContextVar("aap_journal_horloge", default=None)


def now() -> datetime:
    clock = HORLOGE.get()
    return clock() if clock is not None else datetime.now(timezone.utc)


def record(session: Session, genre: str, texte: str, *, appel: int | None = None, dossier: str | None = None,
           convention: str | None = None, donnees: dict[str, Any] | None = None,
           utilisateur: str | None = None) -> Entree:
    """Append one entry in ``session``'s transaction (the account acting is ``flows.passage.ACTEUR`` unless
    ``utilisateur`` names one). ``donnees``: what changed, as ids, numbers, dates, SHA-256 — no personal data."""
    return append(session, [Ecriture(genre, texte, appel, dossier, convention, donnees, utilisateur)])[-1]


def append(session: Session, ecritures: Sequence[Ecriture]) -> list[Entree]:
    """Append what the ORM hook holds for this transaction (``EN_ATTENTE``), then ``ecritures``, in order, in
    ``session``'s transaction; returns the entries as chained."""
    ecritures = [*session.info.pop(EN_ATTENTE, ()), *ecritures]
    if not ecritures:
        return []
    from flows.passage import ACTEUR  # here, not at import: flows imports this module's package

    acteur = ACTEUR.get()
    connection = session.connection()
    moment = now()
    tete = lock_and_read_head(connection)
    root = session.info.get(STOCKAGE)
    if root is not None and days_to_seal(tete, moment, False) is not None:  # a new Paris day: the last one sealed?
        jour = days_to_seal(tete, moment, connection.scalar(_SCELLE, {"entree": tete.id}) is not None)
        if jour is not None:
            write_seal(connection, Path(root), Sceau(jour, tete.id, tete.empreinte), moment)
    entrees, head = [], (tete.id, tete.empreinte) if tete else None
    for e in ecritures:
        if e.utilisateur is None and acteur is not None:
            e = Ecriture(e.genre, e.texte, e.appel, e.dossier, e.convention, e.donnees, acteur)
        entree = next_entry(e, tete=head, moment=moment)
        entrees.append(entree)
        head = (entree.id, entree.empreinte)
    connection.execute(_INSERT, [vars(e) for e in entrees])
    return entrees


_TETE = select(Journal.id, Journal.moment, Journal.empreinte).order_by(Journal.id.desc()).limit(1)
_SCELLE = select(SceauJournal.id).where(SceauJournal.entree == bindparam("entree"))
_INSERT = insert(Journal.__table__)
_VERROU = text(f"SELECT pg_advisory_xact_lock({VERROU_PG})")


def lock_and_read_head(connection: Connection) -> Tete | None:
    """The chain's last entry, read once this transaction alone may append (see the module's docstring)."""
    if connection.dialect.name == "postgresql":
        connection.execute(_VERROU)
    row = connection.execute(_TETE).first()
    return None if row is None else Tete(*row)


def seal_path(sceau: Sceau) -> str:
    """Where a seal's file lives, relative to the storage root."""
    return f"journal/sceaux/{sceau.jour.year}/sceau-{sceau.jour.isoformat()}-{sceau.entree:09d}.txt"


def write_seal(connection: Connection, root: Path, sceau: Sceau, moment: datetime) -> None:
    """The seal's file (owner-only, atomic) then its row, in the caller's transaction."""
    chemin = seal_path(sceau)
    write_private(root / chemin, seal_text(sceau).encode("utf-8"))
    connection.execute(insert(SceauJournal.__table__).values(jour=sceau.jour, entree=sceau.entree,
                                                              empreinte=sceau.empreinte, chemin=chemin,
                                                              scelle_le=moment))


def use_storage(factory: sessionmaker[Session], root: Path) -> sessionmaker[Session]:
    """The sessions ``factory`` makes seal the days they close under ``root`` (the storage)."""
    info = dict(factory.kw.get("info") or {})
    info[STOCKAGE] = str(Path(root).resolve())
    factory.configure(info=info)
    return factory
