"""Worker processes for CPU-bound batches (preparing dépôts, rendering documents), on both cores.

Workers come from a lean fork server that preloads only what they need, not from the main process
(which carries Prefect and the database driver): each costs tens of megabytes, not hundreds."""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from adapters.storage import keep_files_private


class Pool(Protocol):
    def imap(self, func: Callable[[Any], Any], iterable: Iterable[Any], chunksize: int = 1) -> Iterator[Any]: ...


class _InProcess:
    """The same interface, without processes (small batches, one worker)."""

    def imap(self, func: Callable[[Any], Any], iterable: Iterable[Any], chunksize: int = 1) -> Iterator[Any]:
        return map(func, iterable)


@contextmanager
def worker_pool(workers: int, preload: tuple[str, ...] = ()) -> Iterator[Pool]:
    if workers <= 1:
        yield _InProcess()
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    with context.Pool(workers, initializer=keep_files_private) as pool:
        yield pool
