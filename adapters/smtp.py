"""Sending a batch of e-mails through fastapi-mail over one SMTP connection.

fastapi-mail builds each message (``FastMail.get_message``, the same pipeline
as ``send_message``) and its ``Connection`` opens the session; we send on that
one session and report each message's outcome through ``on_result``. Every
outcome is a ``SendOutcome``: transient or not, decided from the SMTP reply
code (4xx, or no reply at all: transient; 5xx: permanent), never from the
text, with a French reason for the outbox; nothing here raises for an SMTP
problem. Every envelope recipient is checked to be exactly one bare address
(models/adresse.py) before anything is sent.

Behaviour of fastapi-mail 1.6 this module works around (checked by
tests/integration/test_smtp.py):

- ``ConnectionConfig`` is a pydantic-settings class: any field left out is
  read from the environment (``SUPPRESS_SEND=1`` there silently drops every
  mail), so every field is passed explicitly;
- a ``message-id`` given in ``headers`` ends up twice in the message, so our
  Message-ID replaces the generated one after building;
- recipients get a display name made from their local part
  (``a <a@example.org>``), so ``To`` is rewritten from our addresses;
- the multipart root carries ``Content-Transfer-Encoding: base64`` and a
  charset, which is invalid on a multipart (RFC 2045), so both are removed;
- attachment names are written ``filename*=UTF8''…`` (not a registered
  charset name) and ``.docx`` falls back to ``application/octet-stream``, so
  each attachment gets an explicit type and ``Content-Disposition``.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import mimetypes
from collections.abc import Callable, Coroutine, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from email.utils import encode_rfc2231, format_datetime, parseaddr, quote
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from models.adresse import check_address

if TYPE_CHECKING:  # the mail client is loaded by the first send: a command that sends nothing never loads it
    from fastapi_mail import ConnectionConfig, FastMail
    from fastapi_mail.connection import Connection
    from fastapi_mail.errors import ConnectionErrors

ResultCallback = Callable[["OutgoingMail", "SendOutcome | None"], None]
T = TypeVar("T")

PARIS = ZoneInfo("Europe/Paris")

_OFFICE_TYPES = {
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".pdf": "application/pdf",
}


@dataclass(frozen=True)
class MailSettings:
    """Where and as whom to send; ``sender`` may be ``Nom <adresse>``."""

    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    ssl_tls: bool = False
    timeout: int = 30


@dataclass(frozen=True)
class OutgoingMail:
    """One message of the outbox; ``key`` is its idempotency key."""

    key: str
    to: tuple[str, ...]
    subject: str
    body: str
    message_id: str
    attachments: tuple[Path, ...] = ()
    written_at: datetime | None = None  # the Date: header (Paris time); None: when sent


@dataclass(frozen=True)
class SendOutcome:
    """Why one mail was not delivered: ``transient`` (try again later) or not, the SMTP reply code if the
    server gave one, and the reason in French."""

    transient: bool
    code: int | None
    reason: str
    cause: str = field(default="", compare=False)  # the reason's French words without the technical detail

    @property
    def why(self) -> str:
        """What a person reads about it (« serveur SMTP injoignable »): the cause, else the whole reason."""
        return self.cause or self.reason


def outcome_for_code(code: int | None, reason: str, cause: str = "") -> SendOutcome:
    """A 5xx reply is a permanent refusal; a 4xx reply, or no reply at all (connection lost), is transient."""
    return SendOutcome(transient=not (code is not None and 500 <= code < 600), code=code, reason=reason, cause=cause)


def make_message_id(key: str, domain: str = "example.org") -> str:
    """Deterministic Message-ID: the same key always gives the same id."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@aap.{domain}>"


def send_batch(
    settings: MailSettings,
    mails: Iterable[OutgoingMail],
    on_result: ResultCallback,
) -> None:
    """Send ``mails`` over one connection, calling ``on_result`` for each.

    ``on_result(mail, None)`` on success, ``on_result(mail, SendOutcome(...))``
    on failure. Callable from sync code, including worker threads; if the calling
    thread already runs an event loop, the batch runs on a private thread.
    """
    _run_sync(_send_all(settings, list(mails), on_result))


def _run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aap-smtp") as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _send_all(
    settings: MailSettings, mails: list[OutgoingMail], on_result: ResultCallback
) -> None:
    if not mails:
        return
    from fastapi_mail import FastMail
    from fastapi_mail.connection import Connection
    from fastapi_mail.errors import ConnectionErrors

    try:
        config = _connection_config(settings)
        connection = Connection(config)
        await connection.__aenter__()
    except ConnectionErrors as error:
        _report_all(mails, on_result, _connection_error_outcome(error))
        session = getattr(connection, "session", None)
        if session is not None and session.is_connected:  # e.g. login refused
            session.close()
        return
    except Exception as error:  # invalid settings (e.g. sender address)
        _report_all(mails, on_result, SendOutcome(True, None, f"configuration SMTP invalide : {error}",
                                                     "configuration SMTP invalide"))
        return
    builder = FastMail(config)
    sender_address = parseaddr(settings.sender)[1]
    try:
        for index, mail in enumerate(mails):
            if not connection.session.is_connected:
                _report_all(mails[index:], on_result, SendOutcome(True, None, "connexion SMTP perdue avant l'envoi",
                                                                               "connexion SMTP perdue"))
                return
            on_result(mail, await _send_one(connection, builder, sender_address, mail))
    finally:
        await _close_quietly(connection)


def envelope_recipients(to: Iterable[str]) -> tuple[list[str], str | None]:
    """The envelope's addresses, each exactly one bare address; else the French reason none is sent."""
    recipients = []
    for text in to:
        check = check_address(text)
        if check.address is None:
            return [], f"destinataire refusé avant l'envoi ({check.reason})"
        recipients.append(check.address)
    if not recipients:
        return [], "aucun destinataire"
    return recipients, None


async def _send_one(
    connection: Connection, builder: FastMail, sender_address: str, mail: OutgoingMail
) -> SendOutcome | None:
    import aiosmtplib

    recipients, refusal = envelope_recipients(mail.to)
    if refusal is not None:
        return SendOutcome(False, None, refusal, "destinataire refusé avant l'envoi")
    try:
        message = await _build_message(builder, mail, recipients)
    except Exception as error:
        return SendOutcome(False, None, f"message impossible à construire : {error}", "message impossible à construire")
    try:
        refused, _ = await connection.session.send_message(
            message, sender=sender_address, recipients=recipients
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [e.code for e in error.recipients]
        code = max(codes, default=None)  # one 5xx among them makes the refusal permanent
        return outcome_for_code(code, "destinataire refusé : " + "; ".join(
            f"{e.recipient} ({e.code} {e.message})" for e in error.recipients
        ), "destinataire refusé")
    except aiosmtplib.SMTPResponseException as error:
        return outcome_for_code(error.code, f"refusé par le serveur SMTP : {error.code} {error.message}",
                                "refusé par le serveur SMTP")
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        return SendOutcome(True, None, f"connexion SMTP perdue : {error}", "connexion SMTP perdue")
    if refused:  # some recipients have it: never send it again
        return SendOutcome(False, max(reply.code for reply in refused.values()),
                           "remis en partie ; destinataire refusé : " + "; ".join(
            f"{address} ({reply.code} {reply.message})" for address, reply in refused.items()
        ), "remis en partie, destinataire refusé")
    return None


async def _build_message(builder: FastMail, mail: OutgoingMail, recipients: list[str]) -> Message:
    from fastapi_mail import MessageSchema, MessageType

    schema = MessageSchema(
        recipients=recipients,
        subject=mail.subject,
        body=mail.body,
        subtype=MessageType.plain,
        attachments=[_attachment(path) for path in mail.attachments],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message = await builder.get_message(schema)
    assert isinstance(message, Message)
    message.replace_header("Message-ID", mail.message_id)
    if mail.written_at is not None:
        message.replace_header("Date", format_datetime(mail.written_at.astimezone(PARIS)))
    message.replace_header("To", ", ".join(recipients))
    del message["Content-Transfer-Encoding"]
    message.del_param("charset")
    return message


def _attachment(path: Path) -> dict[str, Any]:
    """fastapi-mail attachment spec with an explicit type and file name."""
    mime = _OFFICE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    maintype, subtype = (mime or "application/octet-stream").split("/", 1)
    if path.name.isascii():
        disposition = f'attachment; filename="{quote(path.name)}"'
    else:
        disposition = f"attachment; filename*={encode_rfc2231(path.name, 'utf-8')}"
    return {
        "file": str(path),
        "mime_type": maintype,
        "mime_subtype": subtype,
        "headers": {"Content-Disposition": disposition},
    }


def _connection_config(settings: MailSettings) -> ConnectionConfig:
    """Every field explicit: ConnectionConfig reads missing ones from the env."""
    from fastapi_mail import ConnectionConfig

    sender_name, sender_address = parseaddr(settings.sender)
    return ConnectionConfig(
        MAIL_USERNAME=settings.username or "",
        MAIL_PASSWORD=settings.password or "",
        MAIL_PORT=settings.port,
        MAIL_SERVER=settings.host,
        MAIL_STARTTLS=settings.starttls,
        MAIL_SSL_TLS=settings.ssl_tls,
        MAIL_DEBUG=0,
        MAIL_FROM=sender_address,
        MAIL_FROM_NAME=sender_name or None,
        TEMPLATE_FOLDER=None,
        SUPPRESS_SEND=0,
        USE_CREDENTIALS=bool(settings.username),
        VALIDATE_CERTS=not _is_loopback(settings.host),
        TIMEOUT=settings.timeout,
        LOCAL_HOSTNAME=None,
        CERT_BUNDLE=None,
    )


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _connection_error_outcome(error: ConnectionErrors) -> SendOutcome:
    """No session: nothing is wrong with the mails themselves, so each stays transient (bounded by the outbox)."""
    import aiosmtplib

    cause = error.__cause__ or error.__context__
    if isinstance(cause, aiosmtplib.SMTPAuthenticationError):
        return SendOutcome(True, cause.code, f"authentification SMTP refusée : {cause.code} {cause.message}",
                           "authentification SMTP refusée")
    if isinstance(cause, aiosmtplib.SMTPResponseException):
        return outcome_for_code(cause.code, f"serveur SMTP indisponible : {cause.code} {cause.message}",
                                "serveur SMTP indisponible")
    return SendOutcome(True, None, f"serveur SMTP injoignable : {cause or error.expression}", "serveur SMTP injoignable")


def _report_all(mails: list[OutgoingMail], on_result: ResultCallback, outcome: SendOutcome) -> None:
    for mail in mails:
        on_result(mail, outcome)


async def _close_quietly(connection: Connection) -> None:
    import aiosmtplib

    try:
        await connection.__aexit__(None, None, None)
    except (aiosmtplib.SMTPException, OSError, TimeoutError):
        pass
