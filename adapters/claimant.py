"""Who holds a claim: a token naming this process, and whether the process a token names is gone.

The outbox marks the rows a sender is sending with its token. After a ``kill -9`` those rows stay
``sending``; the next sender on the same machine sees that their process no longer exists (or that its pid
now belongs to another process, or that the machine rebooted) and takes them back at once. A token from
another machine cannot be checked from here: its rows wait for the lease.
"""
from __future__ import annotations

import os
import socket
from functools import lru_cache
from pathlib import Path

_PROC = Path("/proc")
_SEP = "|"


def current_claimant() -> str:
    """``host|boot|pid|start``: unique to this process, even when the pid is reused after it ends."""
    pid = os.getpid()
    return _SEP.join((_host(), _boot_id(), str(pid), _start_ticks(pid) or "?"))[:200]


def is_gone(claimant: str | None) -> bool:
    """True when the process that holds ``claimant`` has certainly ended; False when alive or unknowable."""
    if not claimant:
        return False
    parts = claimant.split(_SEP)
    if len(parts) != 4 or not parts[2].isdigit():
        return False
    host, boot, pid, start = parts[0], parts[1], int(parts[2]), parts[3]
    if host != _host():
        return False  # another machine: only the lease can tell
    if boot != _boot_id():
        return True  # this machine rebooted since: every process of then is gone
    if _PROC.is_dir():
        now = _start_ticks(pid)
        return now is None or (start != "?" and now != start)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@lru_cache(maxsize=1)
def _host() -> str:
    return socket.gethostname().replace(_SEP, "_")[:80]


@lru_cache(maxsize=1)
def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text().strip()[:40]
    except OSError:
        return "?"


def _start_ticks(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc/PID/stat field 22); None if it is gone or a zombie."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None if _PROC.is_dir() else "?"
    fields = stat[stat.rfind(")") + 2:].split()  # after "pid (comm) ": field 3 (state) onwards
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]
