"""Who changed what, in the same transaction as the change.

While ``flows.passage.ACTEUR`` names an account (the back office sets it around each action it runs), every
flush of a session made by ``adapters.database.session_factory`` writes one ``action_utilisateur`` row per
object it created, modified or deleted: the account, the moment (UTC, the real clock: when the person acted),
the table, the row's key and the operation. The rows go through the flush's own connection, so they commit
or roll back with the change itself; a command run from a terminal (ACTEUR unset) writes none.

What it sees is what the ORM flushes: a bulk ``UPDATE``/``DELETE`` statement (the outbox's claims, a
compare-and-swap on a counter) changes rows the session never loaded and is not recorded row by row.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Session, sessionmaker

from adapters.session_hooks import listen_once

# The back office's own bookkeeping, not the SA's data (the passage row already names who asked for it).
NON_SUIVIES = frozenset({"action_utilisateur", "session_web", "echec_connexion", "passage"})
CREATION, MODIFICATION, SUPPRESSION = "création", "modification", "suppression"


def record_authors(session: Session, _flush_context: Any) -> None:
    """``after_flush``: the rows this flush changed, attributed to ACTEUR when it is set."""
    from flows.passage import ACTEUR  # here, not at import: flows imports this module's package

    acteur = ACTEUR.get()
    if acteur is None:
        return
    from models.utilisateur import ActionUtilisateur

    moment = datetime.now(timezone.utc)
    rows = []
    for objets, operation in ((session.new, CREATION), (session.dirty, MODIFICATION), (session.deleted, SUPPRESSION)):
        for obj in objets:
            state = inspect(obj)
            table = state.mapper.local_table.name
            if table in NON_SUIVIES:
                continue
            if operation == MODIFICATION and not session.is_modified(obj, include_collections=False):
                continue
            # a new object has its key only as attributes until the flush ends; the others have their identity
            key = state.mapper.primary_key_from_instance(obj) if operation == CREATION else state.identity
            rows.append({"utilisateur": acteur, "moment": moment, "table_nom": table,
                         "ligne": ",".join(str(v) for v in key)[:200], "operation": operation})
    if rows:
        session.connection().execute(insert(ActionUtilisateur.__table__), rows)


def register(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Attach the hook to the sessions ``factory`` makes (once: listening twice would be refused)."""
    return listen_once(factory, {"after_flush": record_authors})
