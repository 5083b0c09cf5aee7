"""Build realistic received e-mails (dépôts) for tests, the demo and the benchmark.

A sample carries what the PLIE's mail server would have added: a topmost
``Received:`` hop by ``mx.plie.example.org`` dated at the reception time
(Paris time), above the sender's own relay hop.
"""

from __future__ import annotations

import hashlib
import mailbox
import mimetypes
import os
from datetime import datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
PLIE_MX = "mx.plie.example.org"
SENDER_RELAY = "mail.example.org"
DEFAULT_BODY = (
    "Bonjour,\n\n"
    "Veuillez trouver ci-joint notre réponse à l'appel à projets, "
    "accompagnée des CV des référents proposés.\n\n"
    "Cordialement,\n"
)


def build_depot_email(
    *,
    sender: str,
    sender_name: str,
    to: str,
    subject: str,
    received_at: datetime,
    date_header: datetime | None = None,
    message_id: str | None,
    attachments: list[tuple[str, bytes]],
    body: str = DEFAULT_BODY,
) -> bytes:
    """The raw bytes of a dépôt e-mail as the PLIE's server stored it.

    ``received_at`` (tz-aware) dates the topmost ``Received:`` hop; the
    ``Date:`` header is ``date_header`` if given, else 4 seconds earlier.
    ``message_id`` None leaves the ``Message-ID:`` header out.
    """
    if received_at.tzinfo is None:
        raise ValueError("received_at doit porter un fuseau horaire")
    token = hashlib.sha256(f"{sender}|{received_at.isoformat()}|{subject}".encode()).hexdigest()
    local_time = received_at.astimezone(PARIS)
    message = EmailMessage(policy=policy.default)
    message["Received"] = (
        f"from {SENDER_RELAY} ({SENDER_RELAY} [192.0.2.25]) by {PLIE_MX} "
        f"with ESMTPS id {token[:10].upper()}; {format_datetime(local_time)}"
    )
    message["Received"] = (
        f"from [10.0.0.5] (unknown [198.51.100.7]) by {SENDER_RELAY} (Postfix) "
        f"with ESMTPSA id {token[10:20].upper()}; "
        f"{format_datetime(local_time - timedelta(seconds=2))}"
    )
    message["From"] = Address(display_name=sender_name, addr_spec=sender)
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date_header or (local_time - timedelta(seconds=4)))
    if message_id is not None:
        message["Message-ID"] = message_id
    message.set_content(body)
    for filename, content in attachments:
        guessed, _ = mimetypes.guess_type(filename)
        maintype, _, subtype = (guessed or "application/octet-stream").partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def write_maildir_message(maildir: Path, raw: bytes, *, delivered_at: datetime | None = None) -> Path:
    """Deliver ``raw`` into ``maildir``/new (created if needed) with mode 0o600.

    With ``delivered_at``, the file name starts with its Unix time and the
    file's mtime is set to it, as if delivered then.
    """
    for sub in ("tmp", "new", "cur"):  # Maildir(create=True) skips them if maildir exists
        (Path(maildir) / sub).mkdir(mode=0o700, parents=True, exist_ok=True)
    box = mailbox.Maildir(maildir, factory=None, create=False)
    key = box.add(raw)
    path = Path(maildir) / "new" / key
    if delivered_at is not None:
        stamp = delivered_at.timestamp()
        renamed = path.with_name(f"{int(stamp)}{key[key.index('.'):]}")
        os.rename(path, renamed)
        path = renamed
        os.utime(path, (stamp, stamp))
    os.chmod(path, 0o600)
    return path


def write_eml(folder: Path, name: str, raw: bytes) -> Path:
    """Write ``raw`` as ``folder``/``name`` (``.eml`` added if missing)."""
    if not name or Path(name).name != name or name in (".", ".."):
        raise ValueError(f"Nom de fichier .eml invalide : {name!r}")
    if not name.lower().endswith(".eml"):
        name += ".eml"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(raw)
    return path
