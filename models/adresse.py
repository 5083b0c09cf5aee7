"""One e-mail address, exactly: the check every address read from a form, a header or the SA's input passes.

An address is accepted only as a bare addr-spec (``nom@domaine.fr``): no list, no group, no display name,
no comment, no quoted local part, no CR/LF or other control character. Anything else is refused with a
French reason, so that a hostile field can never add a recipient or a header to an outgoing mail.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from email.headerregistry import HeaderRegistry
from email.utils import getaddresses

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDR_SPEC = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*@{_LABEL}(?:\.{_LABEL})+")
_MAX_ADDRESS, _MAX_LOCAL = 254, 64
_HEADERS = HeaderRegistry()
_ADDRESS_LIKE = re.compile(r"[^\s<>\"',;:()]+@[^\s<>\"',;:()]+")

MASQUE = "[adresse]"

VIDE = "adresse vide"
SAUT_DE_LIGNE = "saut de ligne dans l'adresse (il pourrait ajouter un destinataire ou un en-tête)"
CONTROLE = "caractère de contrôle ou invisible dans l'adresse"
PLUSIEURS = "plusieurs adresses : une seule est attendue"
GROUPE = "groupe d'adresses (« nom : … ; ») : une seule adresse est attendue"
NOM_AFFICHE = "nom, chevrons, guillemets ou commentaire autour de l'adresse : seule l'adresse est attendue (nom@domaine.fr)"
ESPACE = "espace dans l'adresse"
AROBASE = "l'adresse doit contenir un et un seul « @ »"
NON_ASCII = "caractères accentués ou non latins dans l'adresse"
TROP_LONGUE = "adresse trop longue"
MAL_FORMEE = "adresse mal formée (attendu : nom@domaine.fr)"
EN_TETE_ILLISIBLE = "en-tête d'adresse illisible"
NOM_TROMPEUR = "le nom affiché contient une adresse ou des chevrons : il est ignoré"


def sans_adresses(texte: str) -> str:
    """``texte`` with every e-mail address in it replaced by « [adresse] »: what a log may say of an error
    (an SMTP server's refusal names its recipient; the logs hold no personal data)."""
    return _ADDRESS_LIKE.sub(MASQUE, texte)


@dataclass(frozen=True)
class AddressCheck:
    """``address`` (lower-cased) when accepted, else None and ``reason``, in French."""

    address: str | None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.address is not None


@dataclass(frozen=True)
class MailboxCheck:
    """A header's one mailbox: its address (or None and ``reason``), its display name, and a note if it was dropped."""

    address: str | None
    display_name: str = ""
    reason: str | None = None


def check_address(text: object) -> AddressCheck:
    """Exactly one bare addr-spec, else the reason it is refused."""
    if not isinstance(text, str) or not text.strip(" \t"):
        return AddressCheck(None, VIDE)
    value = text.strip(" \t")
    if "\r" in value or "\n" in value or "\u2028" in value or "\u2029" in value:
        return AddressCheck(None, SAUT_DE_LIGNE)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in value):
        return AddressCheck(None, CONTROLE)
    if ":" in value:
        return AddressCheck(None, GROUPE)
    if "," in value or ";" in value:
        return AddressCheck(None, PLUSIEURS)
    if any(c in value for c in '<>"()[]\\'):
        return AddressCheck(None, NOM_AFFICHE)
    if any(c.isspace() for c in value):
        return AddressCheck(None, ESPACE)
    if value.count("@") != 1:
        return AddressCheck(None, AROBASE)
    if not value.isascii():
        return AddressCheck(None, NON_ASCII)
    if len(value) > _MAX_ADDRESS or len(value.split("@")[0]) > _MAX_LOCAL:
        return AddressCheck(None, TROP_LONGUE)
    if not _ADDR_SPEC.fullmatch(value):
        return AddressCheck(None, MAL_FORMEE)
    return AddressCheck(value.lower())


def single_address(text: object) -> str | None:
    """The address if ``text`` is exactly one valid address, else None."""
    return check_address(text).address


def check_header_mailbox(raw: str | None) -> MailboxCheck:
    """A From/Reply-To header value: exactly one mailbox (``Nom <adresse>`` or ``adresse``), no list, no group.

    A value naming two different addresses (``"Evil <a@example.org>" <b@example.org>``) is refused; a display
    name with chevrons or an ``@`` is dropped with a reason, so the SA never sees a decoy."""
    if raw is None or not raw.strip():
        return MailboxCheck(None, "", VIDE)
    try:
        header = _HEADERS("from", raw)
        groups = [(g.display_name, [(a.display_name, a.addr_spec) for a in g.addresses]) for g in header.groups]
    except Exception:  # noqa: BLE001 - e.g. an encoded display name hiding a CR/LF: read the raw structure
        groups = [(None, [pair]) for pair in getaddresses([raw]) if any(pair)]
    if ":" in raw and any(name is not None for name, _ in groups):
        return MailboxCheck(None, "", GROUPE)
    mailboxes = [pair for _, pairs in groups for pair in pairs]
    if len(mailboxes) != 1 or len(set(_ADDRESS_LIKE.findall(raw.lower()))) > 1:
        return MailboxCheck(None, "", PLUSIEURS if mailboxes else EN_TETE_ILLISIBLE)
    name, addr_spec = mailboxes[0]
    check = check_address(addr_spec)
    if not check.ok:
        return MailboxCheck(None, "", check.reason)
    name = name or ""
    if "@" in name or "<" in name or ">" in name:
        return MailboxCheck(check.address, "", NOM_TROMPEUR)
    return MailboxCheck(check.address, name)
