"""Worker processes for CPU-bound batches (preparing dépôts, rendering documents), on both cores.

Workers come from a lean fork server that preloads only what they need, not from the main process
(which carries Prefect and the database driver): each costs tens of megabytes, not hundreds.

``bounded_map`` runs hostile work (reading received messages): each item under an alarm and an
address-space limit in its worker, the main process killing a worker that does not answer in time;
an item over a limit yields ``Interrompu`` with a French reason, and the batch goes on."""
from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Protocol

from adapters.storage import keep_files_private


_many_batches = False


def runs_many_batches() -> None:
    """This process reads mailbox after mailbox for as long as it lives (a test session: hundreds of relèves), not
    one batch and exit as a command does, nor a scheduled run (``aap serve`` runs each in a process of its own): its
    fork server, started afterwards, may preload more (``actions.pieces.worker_modules``)."""
    global _many_batches
    _many_batches = True


def many_batches() -> bool:
    return _many_batches


class Pool(Protocol):
    def imap(self, func: Callable[[Any], Any], iterable: Iterable[Any], chunksize: int = 1) -> Iterator[Any]: ...


class _InProcess:
    """The same interface, without processes (small batches, one worker)."""

    def imap(self, func: Callable[[Any], Any], iterable: Iterable[Any], chunksize: int = 1) -> Iterator[Any]:
        return map(func, iterable)


def fork_server(preload: tuple[str, ...] = ()) -> Any:
    """The multiprocessing context whose workers come from this process's fork server, which preloads ``preload``
    when it starts (once per process: what a later call asks changes nothing for it)."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return context


@contextmanager
def worker_pool(workers: int, preload: tuple[str, ...] = ()) -> Iterator[Pool]:
    if workers <= 1:
        yield _InProcess()
        return
    with fork_server(preload).Pool(workers, initializer=start_worker) as pool:
        yield pool


# --------------------------------------------------------------------------- bounded work per item

MIO = 1024 * 1024
SECONDES_PAR_ELEMENT = 20.0
"""Time one item may take in its worker (the alarm); the worker is killed ``DELAI_DE_GRACE`` later."""
MEMOIRE_PAR_ELEMENT = 256 * MIO
"""Address space one item may add to its worker's size."""
DELAI_DE_GRACE = 5.0
DEMARRAGE_MAX = 120.0
"""A worker not ready after this long (a machine on its knees) is replaced, its first item reported."""
EN_VOL = 3
"""Items handed to a worker ahead (as ``imap``'s chunks did): it never waits for the main process."""


@dataclass(frozen=True)
class Interrompu:
    """An item its worker did not finish; ``motif`` says why, in French."""

    motif: str


class _TempsEcoule(BaseException):
    """Raised by the alarm inside an item's work; a BaseException so that ``except Exception`` lets it through."""


def bounded_map(
    func: Callable[[Any], Any], items: Iterable[Any], *, workers: int, preload: tuple[str, ...] = (),
    secondes: float = SECONDES_PAR_ELEMENT, memoire: int = MEMOIRE_PAR_ELEMENT, grace: float = DELAI_DE_GRACE,
) -> Iterator[Any]:
    """``func(item)`` for each item, in order, each in a worker process under a time and memory limit.

    An item that goes over its time, its memory, or kills its worker yields ``Interrompu`` instead of
    its result; its worker is replaced and the other items go on. Workers come from the fork server.
    """
    items = list(items)
    if not items:
        return
    context = fork_server(preload)
    todo: deque[int] = deque(range(len(items)))
    slots: list[_Worker | None] = [None] * max(1, min(workers, len(items)))
    done: dict[int, Any] = {}
    next_out = 0
    try:
        while next_out < len(items):
            for k, worker in enumerate(slots):
                while todo and (worker is None or len(worker.jobs) < EN_VOL):
                    if worker is None:
                        worker = slots[k] = _Worker(context, func, secondes, memoire, grace)
                    worker.give(todo.popleft(), items)
            busy = [w for w in slots if w is not None and w.jobs]
            if not busy:
                break  # cannot happen: every index not yet yielded is done, handed or to do
            now = time.monotonic()
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                             max(0.0, min(w.deadline for w in busy) - now)))
            for k, worker in enumerate(slots):
                if worker is None or not worker.jobs:
                    continue
                ended = worker.collect(ready, done)
                if ended:
                    todo.extendleft(reversed(worker.jobs))  # handed to it but never started
                    worker.stop()
                    slots[k] = None
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
    finally:
        for worker in slots:
            if worker is not None:
                worker.stop()


def interruption_motif(kind: str, secondes: float, memoire: int) -> str:
    if kind == "temps":
        return f"lecture interrompue : plus de {secondes:g} s de travail pour ce seul message"
    if kind == "memoire":
        return f"lecture interrompue : plus de {memoire // MIO} Mo de mémoire pour ce seul message"
    return "lecture interrompue : le processus de lecture s'est arrêté sur ce message"


class _Worker:
    """One worker process, its pipe, and the items handed to it (the first one is in progress)."""

    def __init__(self, context: Any, func: Callable[[Any], Any], secondes: float, memoire: int, grace: float) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, func, secondes, memoire), daemon=True)
        self.process.start()
        child.close()
        self.secondes, self.memoire, self.grace = secondes, memoire, grace
        self.jobs: deque[int] = deque()
        self.ready = False  # its clock starts once it says so: a slow start-up is no item's fault
        self.deadline = time.monotonic() + DEMARRAGE_MAX

    def give(self, index: int, items: list[Any]) -> None:
        try:
            self.conn.send((index, items[index]))
        except OSError:  # it died on an earlier item (broken pipe): ``collect`` sees it, this one goes back to do
            pass
        if not self.jobs and self.ready:
            self.deadline = time.monotonic() + self.secondes + self.grace
        self.jobs.append(index)

    def collect(self, ready: set[Any], done: dict[int, Any]) -> bool:
        """Take what the worker finished; True when it must be replaced."""
        while self.jobs and self.conn.poll():
            try:
                index, (kind, value) = self.conn.recv()
            except (EOFError, OSError):
                break
            if kind == "pret":
                self.ready = True
                self.deadline = time.monotonic() + self.secondes + self.grace
                continue
            self.jobs.popleft()
            if kind == "ok":
                done[index] = value
                self.deadline = time.monotonic() + self.secondes + self.grace
                continue
            done[index] = Interrompu(interruption_motif(kind, self.secondes, self.memoire))
            return True
        if not self.jobs:
            return False
        if self.process.sentinel in ready or not self.process.is_alive():
            done[self.jobs.popleft()] = Interrompu(interruption_motif("arret", self.secondes, self.memoire))
            return True
        if time.monotonic() >= self.deadline:
            done[self.jobs.popleft()] = Interrompu(interruption_motif("temps", self.secondes, self.memoire))
            return True
        return False

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(0.5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


PRIORITE_DES_TRAVAILLEURS = 10
"""How much workers yield (``nice``) to the process that feeds them: it records what they read and hands out what
they render, so it is the batch's critical path; a worker ahead of it waits anyway. Measured on the relève of 500
dépôts on two cores: 27 to 33 s with it, 35 to 46 s without (``bench/intake.py``)."""


def start_worker() -> None:
    """What every worker does first: its files owner-only, as in the main process; a lower priority."""
    keep_files_private()
    try:
        os.nice(PRIORITE_DES_TRAVAILLEURS)
    except OSError:  # not allowed here (a sandbox): the worker runs at its parent's priority
        pass


def _serve(conn: Any, func: Callable[[Any], Any], secondes: float, memoire: int) -> None:
    """The worker's loop: one item at a time, under an alarm and an address-space limit."""
    start_worker()
    signal.signal(signal.SIGALRM, _on_alarm)
    conn.send((None, ("pret", None)))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        index, item = job
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = _address_space() + memoire
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            signal.setitimer(signal.ITIMER_REAL, secondes)
            outcome = ("ok", func(item))
        except _TempsEcoule:
            outcome = ("temps", None)
        except MemoryError:
            outcome = ("memoire", None)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        conn.send((index, outcome))
        if outcome[0] != "ok":
            return  # its heap may be in any state: the main process starts a fresh worker


def _on_alarm(signum: int, frame: Any) -> None:
    raise _TempsEcoule()


def _address_space() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * resource.getpagesize()
