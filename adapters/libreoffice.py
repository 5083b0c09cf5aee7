"""One long-lived LibreOffice per process, driven through UNO by a helper run with the system's Python.

Starting ``soffice`` costs seconds of CPU; the demo converts dozens of small batches. So the first
conversion of a process starts ``/usr/bin/python3 -I adapters/libreoffice_uno.py`` (Debian's
``python3-uno`` lives there, not in the venv), which starts ``soffice --headless --accept=pipe,…`` on this
process's profile and converts each file it is sent over stdin; later conversions reuse it.

- It dies with the process: ``atexit`` kills LibreOffice's process group and the helper; a killed
  process (no ``atexit``) is noticed by the helper, whose parent changes, and which then kills LibreOffice
  and removes the profile.
- One that died is started again by the next conversion; one that does not answer within the timeout
  is killed (the document counts as failed) and started again for the next document.
- ``uno`` missing from ``/usr/bin/python3``: ``UnoAbsent``, and the caller falls back to one
  ``soffice --convert-to`` per batch (``adapters.pdf``).
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import secrets
import select
import signal
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)

UNO_PYTHON = "/usr/bin/python3"
"""The Python that has ``uno`` (Debian's python3-uno)."""
HELPER = Path(__file__).with_name("libreoffice_uno.py")
START_TIMEOUT = 120.0
"""Seconds LibreOffice may take to accept connections (a loaded machine, a new profile)."""


class UnoAbsent(RuntimeError):
    """The system's Python cannot ``import uno``: no long-lived LibreOffice in this process."""


class _Gone(Exception):
    """The helper is gone (``late`` False) or did not answer in time (``late`` True)."""

    def __init__(self, late: bool):
        super().__init__()
        self.late = late


class LibreOffice:
    """The LibreOffice of one process: started on first use, restarted when it died."""

    def __init__(self, soffice: str, profile: Path, env: dict[str, str]):
        self.soffice, self.profile, self.env = soffice, profile, env
        self.helper: subprocess.Popen[bytes] | None = None
        self.pgid: int | None = None  # LibreOffice's process group
        self.starts = 0
        self._buffer = b""

    def running(self) -> bool:
        return self.helper is not None and self.helper.poll() is None and self.pgid is not None

    def start(self) -> None:
        """Starts the helper and its LibreOffice; raises ``UnoAbsent``, or ``RuntimeError`` with a French reason."""
        self.stop()
        self.starts += 1
        self.helper = subprocess.Popen(
            [UNO_PYTHON, "-I", str(HELPER), self.soffice, str(self.profile), f"aap-{secrets.token_hex(8)}",
             str(START_TIMEOUT)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True, env=self.env, umask=0o077,
        )
        self._buffer = b""
        try:
            first = self._read(START_TIMEOUT + 10)
        except _Gone:
            self.stop()
            raise RuntimeError("LibreOffice (UNO) n'a pas répondu au démarrage") from None
        if first.get("uno") is False:
            self.stop()
            raise UnoAbsent()
        if not first.get("ready"):
            self.stop()
            raise RuntimeError(str(first.get("raison", "LibreOffice (UNO) n'a pas démarré")))
        self.pgid = int(first["pgid"])

    def convert(self, src: Path, dst: Path, timeout: float) -> bool:
        """Converts ``src`` to the PDF ``dst``; False when it failed (LibreOffice is then restarted if it died or
        did not answer within ``timeout`` seconds)."""
        answer = self._send(src, dst, timeout)
        if answer.get("essaye") is False:  # LibreOffice had died since the last document: once more on a new one
            self.stop()
            answer = self._send(src, dst, timeout)
        if answer.get("mort"):
            log.error("LibreOffice s'est arrêté pendant une conversion : il sera relancé")
            self.stop()
        return bool(answer.get("ok"))

    def _send(self, src: Path, dst: Path, timeout: float) -> dict:
        if not self.running():
            self.start()
        try:
            assert self.helper is not None and self.helper.stdin is not None
            self.helper.stdin.write(json.dumps({"src": str(src), "dst": str(dst)}).encode() + b"\n")
            self.helper.stdin.flush()
            answer = self._read(timeout)
        except (_Gone, OSError) as exc:
            if isinstance(exc, _Gone) and exc.late:
                log.error("LibreOffice n'a pas converti un document en %s s : arrêté, il sera relancé", timeout)
            else:
                log.error("LibreOffice (UNO) s'est arrêté pendant une conversion : il sera relancé")
            self.stop()
            return {"ok": False}
        return answer

    def _read(self, timeout: float) -> dict:
        """The helper's next line, within ``timeout`` seconds."""
        assert self.helper is not None and self.helper.stdout is not None
        fd = self.helper.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise _Gone(late=True)
            chunk = os.read(fd, 65536)
            if not chunk:
                raise _Gone(late=False)
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            raise _Gone(late=False) from None

    def stop(self) -> None:
        """Kills LibreOffice's process group and the helper (nothing to save: the profile is thrown away)."""
        if self.pgid is not None:
            _kill_group(self.pgid)
            self.pgid = None
        if self.helper is not None:
            _kill_group(self.helper.pid)  # the helper leads its own session
            for stream in (self.helper.stdin, self.helper.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
            try:
                self.helper.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.helper = None


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_SERVERS: dict[int, LibreOffice] = {}  # by pid: a forked child starts its own


def server(soffice: str, profile: Path, env: dict[str, str]) -> LibreOffice:
    """This process's LibreOffice (not started yet on first call), stopped when the process exits."""
    pid = os.getpid()
    current = _SERVERS.get(pid)
    if current is None or current.soffice != soffice or current.profile != profile:
        if current is not None:
            current.stop()
        else:
            atexit.register(_stop_at_exit, pid)
        current = _SERVERS[pid] = LibreOffice(soffice, profile, env)
    return current


def _stop_at_exit(pid: int) -> None:
    if os.getpid() == pid and pid in _SERVERS:
        _SERVERS.pop(pid).stop()
