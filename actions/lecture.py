"""A mailbox's reading, before its dépôts are recorded: which of its files are new, and their preparation.

``scan_mailbox`` lists the files: one read by an earlier run (``FichierLu``: same stable name, size and modification
time) is not opened again; any other is hashed, and its SHA-256 decides whether it was received already
(``Reception``). ``prepare_all`` then prepares the new ones in lean worker processes (``prepare_message``: parse,
store, read the form, inspect the PDFs), each under the time and memory of its ``limites``.

``LectureEnAvance`` starts that preparation in a thread of its own, before the relève records anything: a command
that runs through a Prefect server waits 2 to 3 s for Prefect (its modules, its client, the flow run's creation) on
one core, while the other core can already read."""
from __future__ import annotations

import hashlib
import os
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.appels import load_appel
from actions.pieces import Prepared, prepare_message, worker_modules
from adapters.library_errors import french_os_error
from adapters.mailbox import LIMITES, Limites, stable_name
from adapters.storage import Storage
from adapters.workers import Interrompu, bounded_map
from config.appel_config import AppelConfig
from models.dossier import FichierLu, Reception

PARALLEL_THRESHOLD = 40  # below this, starting workers costs more than it saves
EN_FILE = 64
"""Messages prepared ahead of their recording at most: the reading waits beyond (its workers stay busy with the
few items each has in hand)."""


@dataclass(frozen=True)
class FichierVu:
    """A message file as the file system describes it, and what it held."""

    nom: str
    taille: int
    modifie_ns: int
    sha256: str


@dataclass
class Lecture:
    """A mailbox scanned: its new files (``todo``, in order) and what is known of the others."""

    appel_id: int
    cfg: AppelConfig
    lus: int = 0
    deja_vus: int = 0
    illisibles: list[tuple[Path, str]] = field(default_factory=list)  # a file and why it could not be read
    todo: list[Path] = field(default_factory=list)
    facts: dict[Path, FichierVu] = field(default_factory=dict)
    connus: list[FichierVu] = field(default_factory=list)  # received already (same SHA-256): to record as read


def scan_mailbox(factory: sessionmaker[Session], annee: int, paths: Iterable[Path]) -> Lecture:
    """Which of ``paths`` are new for the call of ``annee`` (see the module's docstring)."""
    with factory() as session:
        appel, cfg = load_appel(session, annee)
        known = {nom: (taille, modifie) for nom, taille, modifie in session.execute(
            select(FichierLu.nom, FichierLu.taille, FichierLu.modifie_ns).where(FichierLu.appel_id == appel.id))}
    lecture = Lecture(appel.id, cfg)
    seen: set[str] | None = None  # the SHA-256 already received, loaded only when a file must be hashed
    for path in paths:
        lecture.lus += 1
        nom = stable_name(path)
        try:
            st = path.stat()
            if known.get(nom) == (st.st_size, st.st_mtime_ns):
                lecture.deja_vus += 1
                continue
            with path.open("rb") as stream:
                st = os.fstat(stream.fileno())  # the facts of the bytes hashed
                digest = hashlib.file_digest(stream, "sha256").hexdigest()
        except OSError as exc:
            lecture.illisibles.append((path, french_os_error(exc)))
            continue
        fact = FichierVu(nom, st.st_size, st.st_mtime_ns, digest)
        if seen is None:
            with factory() as session:
                seen = set(session.scalars(select(Reception.sha256).where(Reception.appel_id == appel.id)))
        if digest in seen:
            lecture.deja_vus += 1
            lecture.connus.append(fact)
        else:
            lecture.todo.append(path)
            lecture.facts[path] = fact
    return lecture


def prepare_all(lecture: Lecture, storage: Storage, *, workers: int, limites: Limites = LIMITES
                ) -> Iterator[Prepared | Interrompu]:
    """Each new file of ``lecture`` prepared, in order, on ``workers`` workers (one for a small batch)."""
    prepare = partial(prepare_message, storage_root=storage.root, regles=lecture.cfg.pieces, limites=limites)
    return bounded_map(prepare, lecture.todo, workers=workers if len(lecture.todo) >= PARALLEL_THRESHOLD else 1,
                       preload=worker_modules(), secondes=limites.secondes, memoire=limites.memoire)


class LectureEnAvance:
    """``prepare_all`` run in a thread from now on, its items handed over in order by ``items()``, ``EN_FILE`` at
    most waiting. ``close()`` stops it (its workers with it) whether or not every item was taken."""

    def __init__(self, lecture: Lecture, storage: Storage, *, workers: int, limites: Limites = LIMITES) -> None:
        self.lecture = lecture
        self._items = prepare_all(lecture, storage, workers=workers, limites=limites)
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(EN_FILE)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="aap-lecture", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for item in self._items:
                if not self._put(("ok", item)):
                    return
            self._put(("fin", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it where it reads
            self._put(("erreur", exc))
        finally:
            self._items.close()  # bounded_map stops its workers

    def _put(self, entry: tuple[str, object]) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def items(self) -> Iterator[Prepared | Interrompu]:
        while True:
            kind, value = self._queue.get()
            if kind == "fin":
                return
            if kind == "erreur":
                raise value  # type: ignore[misc]
            yield value  # type: ignore[misc]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)  # a worker busy with an item answers within its time limit
