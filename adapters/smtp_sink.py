"""A real SMTP server on loopback that files every message into a Maildir.

Used by the tests and the demo in place of a mail relay. Each saved message
gets the envelope prepended as headers (``X-Envelope-From``, ``X-Envelope-To``,
``X-Peer``, ``X-Sink-Sequence``), so tests can check who it was really sent to
and over which connection; ``rcpts`` lists every RCPT TO the server was given,
accepted or not. ``refuse`` simulates an outage (451 on RCPT and
DATA); ``refused_recipients`` rejects chosen addresses for good (550);
``data_delay`` makes it a slow relay.
"""

from __future__ import annotations

import asyncio
import email
import mailbox
import socket
import threading
from email import policy
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

OUTAGE_REPLY = "451 4.3.0 indisponible"
UNKNOWN_RECIPIENT_REPLY = "550 5.1.1 destinataire inconnu"
SINK_HOSTNAME = "sink.example.org"
_START_ATTEMPTS = 5


def find_free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class _MaildirHandler:
    """aiosmtpd handler: counts sessions, refuses on demand, files messages."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    def _count_session(self, session: Any) -> None:
        if not getattr(session, "aap_counted", False):
            session.aap_counted = True
            with self.sink._lock:
                self.sink.connections += 1

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self._count_session(session)
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server: Any, session: Any, envelope: Any, hostname: str) -> str:
        self._count_session(session)
        session.host_name = hostname
        return f"250 {server.hostname}"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.sink._lock:
            self.sink.rcpts.append(address)
        if self.sink.refuse:
            return OUTAGE_REPLY
        if address.lower() in {a.lower() for a in self.sink.refused_recipients}:
            return UNKNOWN_RECIPIENT_REPLY
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.sink.refuse:
            return OUTAGE_REPLY
        if self.sink.data_delay:
            await asyncio.sleep(self.sink.data_delay)
        self.sink._save(envelope.mail_from, list(envelope.rcpt_tos), session.peer, envelope.content)
        return "250 2.0.0 Message accepted for delivery"


class SmtpSink:
    """SMTP server on ``host:port`` (0 = a free port) saving into ``maildir``."""

    def __init__(self, maildir: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.maildir_path = Path(maildir)
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._controller: Controller | None = None
        self._lock = threading.Lock()
        self.connections = 0
        self.refuse = False
        self.refused_recipients: set[str] = set()
        self.rcpts: list[str] = []
        self.data_delay = 0.0  # seconds before each message is accepted (a slow relay)
        self.maildir = mailbox.Maildir(self.maildir_path, create=True)
        self._sequence = len(self.maildir)

    @property
    def port(self) -> int:
        """The port the server listens on (only once started)."""
        if self._port is None:
            raise RuntimeError("le serveur SMTP de test n'est pas démarré")
        return self._port

    def start(self) -> int:
        """Start listening and return the real port."""
        if self._controller is not None:
            return self.port
        attempts = 1 if self._requested_port else _START_ATTEMPTS
        last_error: OSError | None = None
        for _ in range(attempts):
            port = self._requested_port or find_free_port(self.host)
            controller = Controller(
                _MaildirHandler(self),
                hostname=self.host,
                port=port,
                server_hostname=SINK_HOSTNAME,
            )
            try:
                controller.start()
            except OSError as error:  # port taken between probe and bind
                last_error = error
                controller.stop(no_assert=True)
                continue
            self._controller, self._port = controller, port
            return port
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        """Stop listening; the Maildir stays."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _save(self, mail_from: str, rcpt_tos: list[str], peer: Any, content: bytes) -> None:
        with self._lock:
            self._sequence += 1
            envelope = (
                f"X-Sink-Sequence: {self._sequence}\r\n"
                f"X-Envelope-From: <{mail_from}>\r\n"
                f"X-Envelope-To: {', '.join(rcpt_tos)}\r\n"
                f"X-Peer: {peer[0]}:{peer[1]}\r\n"
            ).encode("ascii", "backslashreplace")
            key = self.maildir.add(envelope + content)
            (self.maildir_path / "new" / key).chmod(0o600)

    def messages(self) -> list[EmailMessage]:
        """Every message received so far, oldest first."""
        parsed: list[EmailMessage] = []
        for folder in ("new", "cur"):
            for path in (self.maildir_path / folder).iterdir():
                with path.open("rb") as handle:
                    parsed.append(email.message_from_binary_file(handle, policy=policy.default))  # type: ignore[arg-type]
        parsed.sort(key=lambda m: int(m.get("X-Sink-Sequence", 0)))
        return parsed
