"""Attaching a hook to the sessions a sessionmaker makes, once per sessionmaker."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

_ATTACHED = "_aap_hooks"


def listen_once(factory: sessionmaker[Session], hooks: dict[str, Callable[..., Any]]) -> sessionmaker[Session]:
    """Listen to each ``event name → function`` of ``hooks`` on ``factory``, unless this factory listens already.

    Not ``sqlalchemy.event.contains``: its registry keys a sessionmaker's listeners by the ``id()`` of the Session
    class it made, and keeps that key after the class is gone. A later sessionmaker whose class lands at the freed
    address (a test's database forgotten, then another opened) looked registered already, and its sessions ran no
    hook at all: a whole transaction without its journal entries or its authors."""
    attached: set[tuple[str, Callable[..., Any]]] = vars(factory).setdefault(_ATTACHED, set())
    for name, fn in hooks.items():
        if (name, fn) not in attached:
            event.listen(factory, name, fn)
            attached.add((name, fn))
    return factory
