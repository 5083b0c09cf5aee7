"""Read received e-mails (a Maildir or a folder of .eml files) as hostile input.

``parse_message`` turns one file into an ``IncomingMessage``: reception time
from the topmost ``Received:`` hop (never the sender's ``Date:``), sender,
subject and attachments with safe display names. Bad content never raises; it
becomes a French reason in ``problems``. Only I/O errors propagate.

Work is bounded before the parser sees a byte (``Limites``: message size, header block size and
count, MIME containers and parts), then while reading the parts (depth, parts, decoded size). A
message over a limit is not parsed: ``limite`` holds the French reason, and its sender,
``Received:`` time and Message-ID come from a bounded read of the top headers.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path, PurePath
from typing import Iterator

from adapters.library_errors import french_detail
from config.refus import Refus
from models.adresse import check_header_mailbox
from models.texte import cleaning_motif, has_format_characters

RECEIVED = "received"
FICHIER = "fichier"

PROBLEME_VIDE = "message vide"
PROBLEME_RECEIVED = "en-tête Received absent ou illisible : heure de dépôt du fichier utilisée"
PROBLEME_SANS_PIECE = "aucune pièce jointe"
PROBLEME_EXPEDITEUR = "expéditeur absent ou illisible (en-tête From)"
PROBLEME_SANS_EN_TETE = "message illisible : aucun en-tête reconnu"
PROBLEME_STRUCTURE = "structure MIME défectueuse : des pièces jointes peuvent manquer"

MIO = 1024 * 1024
TETE_MAX = 64 * 1024
"""Bytes read from a message held over a limit, to find its top headers."""


@dataclass(frozen=True)
class Limites:
    """What one message may cost before it is held unread (the defaults are the intake's)."""

    taille_message: int = 20 * MIO  # the e-mail parser needs about ten times the size: 256 Mo in all
    taille_en_tetes: int = 256 * 1024
    en_tetes: int = 500
    conteneurs: int = 100  # multipart or message parts declared: bounds the MIME depth the parser recurses into
    profondeur: int = 20
    parties: int = 1000
    taille_decodee: int = 24 * MIO
    secondes: float = 20.0  # one message's work in its worker (parse, store, read the form, inspect PDFs)…
    memoire: int = 256 * MIO  # …and the memory it may add to the worker's size


LIMITES = Limites()
SUITE_LIMITE = "message conservé sans être lu, en attente de l'assistante"

RFC822_FILENAME = "message-joint.eml"
MAX_FILENAME = 150
_MAX_ORIGINAL_FILENAME = 1000
_MAX_SUBJECT = 998
_MAX_SENDER_NAME = 200
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_MAX_STRUCTURED_FROM = 2000

_PARSER = BytesParser(policy=policy.default)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_HEADER_FIELD = re.compile(rb"[\x21-\x39\x3b-\x7e]+[ \t]*:")
_MAILDIR_NAME = re.compile(r"(\d{9,11})\.[^.]+\.[^.]")
_MESSAGE_ID = re.compile(r"<[^<>]+>")
_FIELD_START = re.compile(rb"(?m)^[^ \t\r\n]")
# Scanned over the whole message: each starts with a literal (fast search), on lower-cased bytes
# where case does not matter (same offsets: ``bytes.lower`` changes ASCII letters only).
_CONTAINER = re.compile(rb"content-type[ \t]*:[ \t\r\n]*(?:multipart|message)/")
_BOUNDARY = re.compile(rb"boundary[ \t]*=[ \t]*")
_BOUNDARY_VALUE = re.compile(rb'"([^"\r\n]{1,200})"|([^";\s]{1,200})')
_DELIMITER = re.compile(rb"\n--([^\r\n]{1,202})")
_PATH_SEPARATORS = re.compile(r"[/\\\u2215\u2044\uff0f\uff3c]")
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})
_BREAKING = frozenset({"Cc", "Zl", "Zp"})
_STRUCTURE_DEFECTS = frozenset(
    {
        "NoBoundaryInMultipartDefect",
        "StartBoundaryNotFoundDefect",
        "CloseBoundaryNotFoundDefect",
        "MultipartInvariantViolationDefect",
    }
)
_DECODING_DEFECTS = frozenset(
    {
        "InvalidBase64CharactersDefect",
        "InvalidBase64PaddingDefect",
        "InvalidBase64LengthDefect",
    }
)


@dataclass(frozen=True)
class IncomingAttachment:
    """One received file: a safe display name, the name as sent, the bytes."""

    filename: str
    original_filename: str | None
    content: bytes
    content_type: str


@dataclass(frozen=True)
class IncomingMessage:
    """One received e-mail, read defensively; ``problems`` says what went wrong."""

    source: Path
    raw_sha256: str
    size: int
    message_id: str | None
    sender_address: str | None
    sender_name: str
    subject: str
    received_at: datetime
    received_from: str
    date_header: datetime | None
    attachments: tuple[IncomingAttachment, ...]
    problems: tuple[str, ...]
    delivered_at: datetime | None = None
    limite: str | None = None
    """Set when the message went over a ``Limites``: the French reason; it was not parsed further."""


class BoiteIntrouvable(Refus, FileNotFoundError):
    """The mailbox path does not exist or is not a folder."""


def ensure_maildir(path: Path) -> bool:
    """Create the Maildir (``cur/``, ``new/``, ``tmp/``), its owner's only (0700), unless ``path`` exists; True
    when it was created. The scheduled intake calls it, so that a fresh installation's first run reads an empty
    box instead of failing; an existing folder is left exactly as it is."""
    path = Path(path)
    if path.exists():
        return False
    for part in (path, *(path / sub for sub in ("cur", "new", "tmp"))):
        part.mkdir(mode=0o700, parents=True, exist_ok=True)
        part.chmod(0o700)  # mkdir's mode is masked by the umask: say it outright
    return True


def iter_mailbox(path: Path) -> list[Path]:
    """List the messages of a Maildir (new/ and cur/, not tmp/) or of a folder of *.eml.

    Hidden files and symbolic links are skipped; the order is by file name
    (a Maildir name starts with its delivery time), then by full path.
    """
    path = Path(path)
    if not path.exists():
        raise BoiteIntrouvable(f"Boîte aux lettres introuvable : {path}")
    if not path.is_dir():
        raise BoiteIntrouvable(f"La boîte aux lettres n'est pas un dossier : {path}")
    maildir_parts = [path / "new", path / "cur"]
    if any(part.is_dir() for part in maildir_parts):
        folders, wanted = [part for part in maildir_parts if part.is_dir()], lambda name: True
    else:
        folders, wanted = [path], lambda name: name.lower().endswith(".eml")
    found = []
    for folder in folders:  # the directory's own file types: no system call per file (a re-scan lists thousands)
        with os.scandir(folder) as entries:
            found.extend((entry.name, entry.path) for entry in entries
                         if not entry.name.startswith(".") and wanted(entry.name) and entry.is_file(follow_symlinks=False))
    return [Path(full) for _, full in sorted(found)]


MAILDIR_INFO = ":2,"
"""What a Maildir adds to a message's name when it moves from new/ to cur/, before its flags (``:2,S``)."""


def stable_name(path: Path) -> str:
    """A message file's name without its Maildir flags: the same in new/ and in cur/, whatever its flags."""
    name = path.name if isinstance(path, PurePath) else os.path.basename(path)
    return name.partition(MAILDIR_INFO)[0]


def delivery_time(path: Path) -> datetime:
    """When the file was delivered: the Maildir name's leading Unix time, else its mtime (UTC)."""
    path = Path(path)
    match = _MAILDIR_NAME.match(path.name)
    if match:
        try:
            return datetime.fromtimestamp(int(match.group(1)), tz=UTC)
        except (OverflowError, OSError, ValueError):
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


def parse_message(path: Path, limites: Limites = LIMITES) -> IncomingMessage:
    """Read one message file; never raises for bad content, only for I/O errors."""
    path = Path(path)
    size = path.stat().st_size
    if size > limites.taille_message:
        with path.open("rb") as stream:
            head = stream.read(TETE_MAX)
            stream.seek(0)
            digest = hashlib.file_digest(stream, "sha256").hexdigest()
        motif = (f"message trop volumineux ({_mio(size)} ; au plus {_mio(limites.taille_message)})")
        return _held(path, head, digest, size, motif)
    raw = path.read_bytes()
    if (motif := over_limits(raw, limites)) is not None:
        return _held(path, raw[:TETE_MAX], hashlib.sha256(raw).hexdigest(), len(raw), motif)
    problems: list[str] = []
    nettoyes: list[str] = []
    fields = _Fields()
    attachments: tuple[IncomingAttachment, ...] = ()
    if not raw or raw.isspace():
        problems.append(PROBLEME_VIDE)
    else:
        try:
            message = _PARSER.parsebytes(_repair_header_block(raw))
            fields = _read_headers(message, problems, nettoyes)
            attachments = _read_attachments(message, problems, limites, nettoyes)
        except HorsLimites as exc:
            return _held(path, raw[:TETE_MAX], hashlib.sha256(raw).hexdigest(), len(raw), exc.motif)
        except MemoryError:  # the worker's limit: the whole message is held, not one part
            raise
        except Exception as error:  # noqa: BLE001 - hostile input, any failure is a reason
            problems.append(f"message illisible : {_describe(error)}")
        if not attachments:
            problems.append(PROBLEME_SANS_PIECE)
        if nettoyes:
            problems.append(cleaning_motif(nettoyes))
    received_at = _parse_date(fields.received.rpartition(";")[2]) if fields.received else None
    return _message(path, hashlib.sha256(raw).hexdigest(), len(raw), fields, attachments, problems, received_at)


class HorsLimites(Exception):
    """A message over one of its ``Limites``; ``motif`` is the French reason."""

    def __init__(self, motif: str) -> None:
        super().__init__(motif)
        self.motif = motif


def over_limits(raw: bytes, limites: Limites = LIMITES) -> str | None:
    """The French reason why ``raw`` must not be parsed, from a few linear scans; None when it may."""
    end = _HEADER_END.search(raw, 0, limites.taille_en_tetes + 4)
    head = raw[: end.start()] if end else raw[: limites.taille_en_tetes + 1]
    if end is None and len(raw) > limites.taille_en_tetes:
        return f"en-têtes trop volumineux (plus de {_kio(limites.taille_en_tetes)})"
    if (fields := len(_FIELD_START.findall(head))) > limites.en_tetes:
        return f"trop d'en-têtes ({_nombre(fields)} ; au plus {_nombre(limites.en_tetes)})"
    lowered = raw.lower()
    if (containers := len(_CONTAINER.findall(lowered))) > limites.conteneurs:
        return (f"structure MIME trop imbriquée ({_nombre(containers)} parties multiples ou messages joints ; "
                f"au plus {_nombre(limites.conteneurs)})")
    boundaries = set()
    for found in _BOUNDARY.finditer(lowered):
        if value := _BOUNDARY_VALUE.match(raw, found.end()):
            boundaries.add(b"--" + (value.group(1) or value.group(2)))
    del lowered
    if boundaries:
        delimiters = sum(1 for line in _DELIMITER.findall(raw) if b"--" + line.rstrip(b" \t") in boundaries)
        if delimiters > limites.parties:
            return f"trop de parties MIME ({_nombre(delimiters)} ; au plus {_nombre(limites.parties)})"
    return None


def read_top_headers(head: bytes) -> tuple[str | None, datetime | None, str | None]:
    """Sender, topmost ``Received:`` time and Message-ID from the first bytes of a message, or None each.

    Bounded: only ``head`` (at most ``TETE_MAX`` bytes are read), no MIME parsing.
    """
    end = _HEADER_END.search(head)
    block = head[: end.start()] if end else head
    first: dict[str, str] = {}
    for line in re.split(rb"\r?\n(?![ \t])", block)[:1000]:
        name, colon, value = line.partition(b":")
        key = name.strip().lower().decode("ascii", "replace")
        if colon and key in ("from", "received", "message-id") and key not in first:
            first[key] = _single_line(value.decode("utf-8", "replace"), 2000)
    sender = None
    if "from" in first:
        pairs = getaddresses([first["from"]])
        sender = _valid_address(pairs[0][1]) if pairs else None
    received = _parse_date(first["received"].rpartition(";")[2]) if "received" in first else None
    return sender, received, _normalise_message_id(first.get("message-id"))


def _held(path: Path, head: bytes, digest: str, size: int, motif: str) -> IncomingMessage:
    """A message over a limit: what its top headers say, no attachment, the reason."""
    sender, received_at, message_id = read_top_headers(head)
    fields = _Fields(message_id=message_id, sender_address=sender)
    return replace(_message(path, digest, size, fields, (), [motif], received_at), limite=motif)


def _message(path: Path, digest: str, size: int, fields: "_Fields", attachments: tuple[IncomingAttachment, ...],
             problems: list[str], received_at: datetime | None) -> IncomingMessage:
    received_from = RECEIVED
    delivered_at = delivery_time(path)
    if received_at is None:
        received_at = delivered_at
        received_from = FICHIER
        problems.append(PROBLEME_RECEIVED)
    return IncomingMessage(
        source=path,
        raw_sha256=digest,
        size=size,
        message_id=fields.message_id,
        sender_address=fields.sender_address,
        sender_name=fields.sender_name,
        subject=fields.subject,
        received_at=received_at,
        received_from=received_from,
        date_header=fields.date_header,
        attachments=attachments,
        problems=tuple(problems),
        delivered_at=delivered_at,
    )


def _mio(size: int) -> str:
    return f"{_nombre(round(size / MIO, 1))} Mo"


def _kio(size: int) -> str:
    return f"{_nombre(size // 1024)} Ko"


def _nombre(value: float) -> str:
    """French digits: ``10 000``, ``1,5`` (narrow no-break spaces, as babel writes them)."""
    text = f"{value:,}".replace(",", "\u202f").replace(".", ",")
    return text.removesuffix(",0")


@dataclass
class _Fields:
    received: str | None = None
    message_id: str | None = None
    sender_address: str | None = None
    sender_name: str = ""
    subject: str = ""
    date_header: datetime | None = None


def _repair_header_block(raw: bytes) -> bytes:
    """Fold header lines broken by a bare newline (``From: "Jean<LF>Dupont" <…>``).

    Without this, the parser would end the headers at the broken line and
    read the rest (Subject, MIME structure) as body text.
    """
    end = _HEADER_END.search(raw)
    head = raw[: end.start()] if end else raw
    lines = head.splitlines(keepends=True)
    fields = [i for i, line in enumerate(lines) if _HEADER_FIELD.match(line)]
    if not fields:
        return raw
    # Without a blank line ending the headers, only mend lines between two fields.
    last = len(lines) if end else fields[-1]
    broken = [
        i
        for i in range(fields[0] + 1, last)
        if lines[i][:1] not in (b" ", b"\t") and not _HEADER_FIELD.match(lines[i])
    ]
    if not broken:
        return raw
    for i in broken:
        lines[i] = b" " + lines[i]
    return b"".join(lines) + (raw[end.start() :] if end else raw[len(head) :])


def _read_headers(message: Message, problems: list[str], nettoyes: list[str]) -> _Fields:
    first: dict[str, str] = {}
    for name, value in message.raw_items():
        key = name.strip().lower()
        if key not in first:
            first[key] = value
    if not first:
        problems.append(PROBLEME_SANS_EN_TETE)
    subject = _header_text(message, "subject", first)
    fields = _Fields(
        received=first.get("received"),
        message_id=_normalise_message_id(first.get("message-id")),
        date_header=_parse_date(first["date"]) if "date" in first else None,
        subject=_single_line(subject, _MAX_SUBJECT),
    )
    fields.sender_address, sender_name = _read_sender(message, first.get("from"))
    fields.sender_name = _single_line(sender_name, _MAX_SENDER_NAME)
    if fields.sender_address is not None:  # exactly one mailbox: no list, no group, no decoy name
        check = check_header_mailbox(_UNFOLD.sub("", first["from"]))
        if check.reason is not None:
            problems.append(f"expéditeur (en-tête From) : {check.reason}")
        fields.sender_address = check.address
        fields.sender_name = fields.sender_name if check.display_name else ""
    if fields.sender_address is None:
        problems.append(PROBLEME_EXPEDITEUR)
    nettoyes.extend(quoi for quoi, texte in (("nom de l'expéditeur", sender_name), ("objet du message", subject))
                    if has_format_characters(texte))
    return fields


def _read_sender(message: Message, raw_from: str | None) -> tuple[str | None, str]:
    """The sender's address and display name (as sent: the caller makes it one clean line)."""
    if raw_from is None:
        return None, ""
    try:
        if len(raw_from) > _MAX_STRUCTURED_FROM:  # the structured parser's time grows as a power of the length
            raise ValueError(len(raw_from))
        addresses = message["From"].addresses
        if addresses:
            address = addresses[0]
            return _valid_address(address.addr_spec), address.display_name[: 10 * _MAX_SENDER_NAME]
    except Exception:  # noqa: BLE001 - e.g. an encoded display name hiding a newline
        pass
    unfolded = _single_line(raw_from, 10 * _MAX_SENDER_NAME)
    pairs = getaddresses([unfolded])
    name, addr = pairs[0] if pairs else ("", "")
    return _valid_address(addr), _decode_words(name)


def _valid_address(addr: str | None) -> str | None:
    if not addr:
        return None
    addr = addr.strip().lower()
    local, at, domain = addr.rpartition("@")
    if not at or not local or "." not in domain or len(addr) > 254:
        return None
    if any(c.isspace() or unicodedata.category(c) in _INVISIBLE for c in addr):
        return None
    return addr


def _header_text(message: Message, name: str, first: dict[str, str]) -> str:
    if name not in first:
        return ""
    try:
        return str(message[name])
    except Exception:  # noqa: BLE001
        return _decode_words(first[name])


def _decode_words(text: str) -> str:
    """Decode RFC 2047 encoded words leniently; return the text as is on failure."""
    if "=?" not in text:
        return text
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # noqa: BLE001
        return text


def _parse_date(text: str | None) -> datetime | None:
    if not text or not text.strip():
        return None
    try:
        moment = parsedate_to_datetime(" ".join(text.split()))
    except Exception:  # noqa: BLE001 - ValueError, TypeError, OverflowError…
        return None
    if moment.tzinfo is None:  # "-0000": UTC, origin unknown
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _normalise_message_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    compact = "".join(c for c in raw if not c.isspace() and unicodedata.category(c) not in _INVISIBLE)
    if not compact:
        return None
    match = _MESSAGE_ID.search(compact)
    if match:
        return match.group(0)[:998]
    inner = compact.strip("<>")
    return f"<{inner}>"[:998] if inner else None


def _read_attachments(
    message: Message, problems: list[str], limites: Limites, nettoyes: list[str]
) -> tuple[IncomingAttachment, ...]:
    found: list[IncomingAttachment] = []
    structure_broken = False
    decoded = 0
    for count, (part, is_container) in enumerate(_iter_parts(message, limites.profondeur), start=1):
        if count > limites.parties:
            raise HorsLimites(f"trop de parties MIME (plus de {_nombre(limites.parties)})")
        structure_broken = structure_broken or any(
            type(d).__name__ in _STRUCTURE_DEFECTS for d in part.defects
        )
        if is_container:
            if part is not message and part.get_content_type() == "message/rfc822":
                problems.append(_forwarded_note(part))
            continue
        try:
            attachment = _read_attachment(part, len(found) + 1, problems, nettoyes)
        except MemoryError:
            raise
        except Exception as error:  # noqa: BLE001 - one bad part must not stop the others
            problems.append(f"pièce jointe n° {len(found) + 1} illisible : {_describe(error)}")
            continue
        if attachment is not None:
            decoded += len(attachment.content)
            if decoded > limites.taille_decodee:
                raise HorsLimites(f"pièces jointes trop volumineuses une fois décodées "
                                  f"(plus de {_mio(limites.taille_decodee)})")
            found.append(attachment)
    if structure_broken:
        problems.append(PROBLEME_STRUCTURE)
    return tuple(found)


def _iter_parts(message: Message, max_depth: int) -> Iterator[tuple[Message, bool]]:
    """Every part in order with whether it is a container.

    An e-mail attached to the message (a dossier forwarded as an attachment) is opened one level:
    its parts are the message's; an e-mail attached inside it stays one file."""
    stack: list[tuple[Message, int, bool]] = [(message, 0, False)]
    while stack:
        part, depth, forwarded = stack.pop()
        if depth > max_depth:
            raise HorsLimites(f"structure MIME trop profonde (plus de {_nombre(max_depth)} niveaux)")
        is_rfc822 = part is not message and part.get_content_type() == "message/rfc822"
        payload = part.get_payload()
        if is_rfc822 and not forwarded and isinstance(payload, list) and payload and isinstance(payload[0], Message):
            yield part, True
            stack.append((payload[0], depth + 1, True))
        elif isinstance(payload, list) and not is_rfc822:
            yield part, True
            stack.extend((p, depth + 1, forwarded) for p in reversed(payload) if isinstance(p, Message))
        else:
            yield part, False


def _forwarded_note(part: Message) -> str:
    """What the dépôt says of a forwarded e-mail: its subject and sender, read raw (never slowly)."""
    inner = part.get_payload()[0]
    first: dict[str, str] = {}
    for name, value in inner.raw_items():
        first.setdefault(name.strip().lower(), str(value)[:2000])
    subject = _single_line(_decode_words(first.get("subject", "")), 200)
    pairs = getaddresses([_single_line(first.get("from", ""), 2000)])
    sender = _valid_address(pairs[0][1]) if pairs else None
    origine = f" de {sender}" if sender else ""
    return (f"dossier transféré : les pièces jointes du message joint « {subject} »{origine} "
            "sont lues comme pièces du dépôt")


def _read_attachment(part: Message, number: int, problems: list[str], nettoyes: list[str]) -> IncomingAttachment | None:
    content_type = part.get_content_type()
    is_rfc822 = content_type == "message/rfc822"
    try:
        sent_name: str | None = part.get_filename()
    except Exception:  # noqa: BLE001
        sent_name = None
    if sent_name is None and not is_rfc822 and part.get_content_disposition() != "attachment":
        return None
    if sent_name is not None:
        sent_name = _decode_words(sent_name)
    filename = safe_filename(sent_name, number, default=RFC822_FILENAME if is_rfc822 else None)
    if sent_name is not None and has_format_characters(sent_name):
        nettoyes.append(f"nom de la pièce jointe « {filename} »")
    if is_rfc822:
        content = _rfc822_bytes(part, filename, problems)
    else:
        decoded = part.get_payload(decode=True)
        content = decoded if isinstance(decoded, bytes) else b""
        if any(type(d).__name__ in _DECODING_DEFECTS for d in part.defects):
            problems.append(f"pièce jointe « {filename} » : encodage défectueux, contenu peut-être incomplet")
    if not content:
        problems.append(f"pièce jointe « {filename} » vide")
    return IncomingAttachment(
        filename=filename,
        original_filename=_record_filename(sent_name),
        content=content,
        content_type=_clean_content_type(content_type),
    )


def _rfc822_bytes(part: Message, filename: str, problems: list[str]) -> bytes:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(inner, Message):
        problems.append(f"pièce jointe « {filename} » : message joint illisible")
        return b""
    try:
        return inner.as_bytes(policy=inner.policy.clone(refold_source="none"))
    except Exception as error:  # noqa: BLE001
        problems.append(f"pièce jointe « {filename} » : message joint illisible ({_describe(error)})")
        return b""


def safe_filename(name: str | None, number: int, *, default: str | None = None) -> str:
    """A display name: basename only, one line, NFC, at most 150 characters, never empty."""
    fallback = default or f"piece-jointe-{number}"
    if not name:
        return fallback
    text = _single_line(unicodedata.normalize("NFC", name), None)
    components = [c.strip() for c in _PATH_SEPARATORS.split(text)]
    base = next((c for c in reversed(components) if c.strip(".")), "")
    if not base:
        return fallback
    if len(base) > MAX_FILENAME:
        stem, dot, ext = base.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            base = stem[: MAX_FILENAME - len(ext) - 1].rstrip() + "." + ext
        else:
            base = base[:MAX_FILENAME].rstrip()
    return base


def _record_filename(name: str | None) -> str | None:
    if name is None:
        return None
    return "".join("?" if unicodedata.category(c) in _INVISIBLE else c for c in name)[
        :_MAX_ORIGINAL_FILENAME
    ]


def _single_line(text: str, limit: int | None) -> str:
    """Newlines and control characters become spaces, invisible ones go; spaces collapse."""
    kept: list[str] = []
    for c in text:
        category = unicodedata.category(c)
        if category not in _INVISIBLE:
            kept.append(c)
        elif category in _BREAKING:
            kept.append(" ")
    flat = " ".join("".join(kept).split())
    return flat if limit is None else flat[:limit]


def _clean_content_type(value: str) -> str:
    cleaned = "".join(c for c in value if c.isascii() and c.isprintable() and not c.isspace())
    return cleaned[:100] or "application/octet-stream"


def _describe(error: BaseException) -> str:
    return french_detail(error)


__all__ = [
    "FICHIER",
    "LIMITES",
    "HorsLimites",
    "Limites",
    "over_limits",
    "read_top_headers",
    "RECEIVED",
    "BoiteIntrouvable",
    "IncomingAttachment",
    "IncomingMessage",
    "delivery_time",
    "iter_mailbox",
    "parse_message",
    "safe_filename",
    "stable_name",
]
