"""Bounded work per item in the worker processes (issue 8, §5): an item over its time or memory, or
one that kills its worker, yields a French reason; the items around it get their results, in order."""
from __future__ import annotations

import os
import signal
import time

from adapters.workers import Interrompu, bounded_map

MIO = 1024 * 1024


def job(item: tuple[str, int]) -> int:
    kind, n = item
    if kind == "sleep":
        time.sleep(n)
    elif kind == "deaf":  # a C-level loop that never sees the alarm
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(n)
    elif kind == "alloc":
        block = bytearray(n * MIO)
        return len(block)
    elif kind == "exit":
        os._exit(3)
    return n * 10


def run(items, **limits):
    started = time.monotonic()
    options = {"workers": 2, "secondes": 1.0, "memoire": 64 * MIO, "grace": 0.5, **limits}
    results = list(bounded_map(job, items, **options))
    return results, time.monotonic() - started


def test_every_item_is_done_in_order():
    results, _ = run([("ok", i) for i in range(12)])
    assert results == [i * 10 for i in range(12)]


def test_an_item_over_its_time_is_interrupted_and_the_others_go_on():
    results, elapsed = run([("ok", 1), ("sleep", 30), ("ok", 2), ("ok", 3)])
    assert results == [10, Interrompu("lecture interrompue : plus de 1 s de travail pour ce seul message"), 20, 30]
    assert elapsed < 10


def test_an_item_deaf_to_the_alarm_is_killed_after_the_grace_delay():
    results, elapsed = run([("deaf", 30), ("ok", 2)])
    assert results == [Interrompu("lecture interrompue : plus de 1 s de travail pour ce seul message"), 20]
    assert elapsed < 10


def test_an_item_over_its_memory_is_interrupted_and_the_others_go_on():
    results, _ = run([("alloc", 1), ("alloc", 400), ("ok", 2)])
    assert results == [MIO, Interrompu("lecture interrompue : plus de 64 Mo de mémoire pour ce seul message"), 20]


def test_an_item_that_kills_its_worker_is_reported_and_the_others_go_on():
    results, _ = run([("exit", 0), ("ok", 1), ("exit", 0), ("ok", 2), ("ok", 3)], workers=1)
    stopped = Interrompu("lecture interrompue : le processus de lecture s'est arrêté sur ce message")
    assert results == [stopped, 10, stopped, 20, 30]


def niceness(_item: object) -> int:
    return os.nice(0)


def test_workers_yield_to_the_process_that_feeds_them():
    """Readers (bounded_map) and renderers (worker_pool, the renderer ahead) run at a lower priority than the
    process recording their results, the batch's critical path on two cores."""
    from adapters.workers import PRIORITE_DES_TRAVAILLEURS, worker_pool

    own = os.nice(0)
    expected = min(own + PRIORITE_DES_TRAVAILLEURS, 19)
    assert list(bounded_map(niceness, [1, 2], workers=2)) == [expected, expected]
    with worker_pool(2) as pool:
        assert set(pool.imap(niceness, range(4))) == {expected}


def readers_modules_loaded(_item: object) -> list[str]:
    """Which of the reader's heavy modules its worker had before reading anything (this module imports none)."""
    import sys

    return sorted(name for name in ("openpyxl", "pypdf", "actions.pieces") if name in sys.modules)


def test_a_process_that_runs_many_batches_starts_its_readers_with_their_modules_and_a_command_does_not():
    """Each fresh process starts its own fork server: in a command the readers import openpyxl and pypdf themselves
    (the renderers forked beside them stay lean); in a test session, which reads hundreds of mailboxes, they have
    them at once."""
    import subprocess
    import sys
    from pathlib import Path

    script = ("import sys; from adapters import workers; {declare}from actions.pieces import worker_modules; "
              "from tests.unit.test_workers import readers_modules_loaded as probe; "
              "print(list(workers.bounded_map(probe, [1], workers=1, preload=worker_modules()))[0])")
    root = Path(__file__).resolve().parents[2]
    seen = {}
    for declare in ("", "workers.runs_many_batches(); "):
        out = subprocess.run([sys.executable, "-c", script.format(declare=declare)], cwd=root, capture_output=True,
                             text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(root)})
        assert out.returncode == 0, out.stderr
        seen[bool(declare)] = out.stdout.strip()
    assert seen == {False: "[]", True: "['actions.pieces', 'openpyxl', 'pypdf']"}
