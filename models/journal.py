"""The journal: every change that matters, in a hash chain the database refuses to alter, sealed each day.

An entry is its number (``id``, 1, 2, 3… in the chain's order), its moment (UTC), its kind, the call, dossier or
convention it is about, the account that acted (when one did), a short French text and a JSON payload of what
changed. Its hash is ``sha256(previous hash + canonical form)``, the canonical form being the entry as JSON with
sorted keys and no spaces (``canonical``); the first entry's previous hash is ``GENESE``. Changing, removing or
inserting one entry changes every hash after it, and a **sceau du jour** (the chain's last hash at the end of a
Paris day, kept as a row and as a file) lets anyone see that the chain ending that day is the one sealed then.

No personal data goes in: an entry can never be changed, and contacts and CVs must stay erasable. People and
files are named by ids, dossier numbers and SHA-256, never by an address, a name or a file's content.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base

PARIS = ZoneInfo("Europe/Paris")
GENESE = "0" * 64  # the « previous hash » of the first entry
TEXTE_MAX = 500
SCEAU_FORMAT = "aap-sceau-du-jour-1"


class Journal(Base):
    """One entry of the chain. Inserted only (triggers refuse UPDATE and DELETE, see migration 0013)."""

    __tablename__ = "journal"
    __table_args__ = (Index("ix_journal_dossier", "dossier"), Index("ix_journal_convention", "convention"),
                      Index("ix_journal_appel", "appel"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # the rank in the chain
    moment: Mapped[datetime]
    genre: Mapped[str] = mapped_column(String(40))
    appel: Mapped[int | None]
    dossier: Mapped[str | None] = mapped_column(String(20))
    convention: Mapped[str | None] = mapped_column(String(40))
    utilisateur: Mapped[str | None] = mapped_column(String(60))
    texte: Mapped[str] = mapped_column(Text)
    donnees: Mapped[dict[str, Any]] = mapped_column(JSON)
    precedent: Mapped[str] = mapped_column(String(64), unique=True)  # two entries after one: the chain forked
    empreinte: Mapped[str] = mapped_column(String(64))


class SceauJournal(Base):
    """A sceau du jour: the hash of the chain's last entry of a Paris day, also written to a file under storage."""

    __tablename__ = "sceau_journal"

    id: Mapped[int] = mapped_column(primary_key=True)
    jour: Mapped[date] = mapped_column(Date, index=True)
    entree: Mapped[int] = mapped_column(unique=True)  # the journal entry it seals (and, with it, every earlier one)
    empreinte: Mapped[str] = mapped_column(String(64))
    chemin: Mapped[str] = mapped_column(String(300))  # relative to the storage root
    scelle_le: Mapped[datetime]


# --- rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ecriture:
    """What an action or the ORM hook asks to write; the chain gives it its number, moment and hashes."""

    genre: str
    texte: str
    appel: int | None = None
    dossier: str | None = None
    convention: str | None = None
    donnees: dict[str, Any] | None = None
    utilisateur: str | None = None


@dataclass(frozen=True)
class Entree:
    """An entry as the chain holds it (what is hashed, plus its two hashes)."""

    id: int
    moment: datetime
    genre: str
    appel: int | None
    dossier: str | None
    convention: str | None
    utilisateur: str | None
    texte: str
    donnees: dict[str, Any]
    precedent: str
    empreinte: str


class Tete(NamedTuple):
    """The chain's last entry, as the next one needs it."""

    id: int
    moment: datetime
    empreinte: str


@dataclass(frozen=True)
class Sceau:
    jour: date
    entree: int
    empreinte: str


def moment_text(moment: datetime) -> str:
    """The moment as the canonical form writes it: UTC, ISO 8601, to the microsecond, ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("moment sans fuseau horaire")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def json_value(value: Any) -> Any:
    """``value`` as plain JSON (what is stored is exactly what is hashed): Decimal and dates as text, enums as
    their value, tuples and sets as lists (sets sorted), keys as text, no float (money is never a float)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Enum):
        return json_value(value.value)
    if isinstance(value, (Decimal, float)):
        return str(value)
    if isinstance(value, datetime):
        return moment_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(json_value(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    return str(value)


def canonical(*, id: int, moment: datetime, genre: str, appel: int | None, dossier: str | None,  # noqa: A002
              convention: str | None, utilisateur: str | None, texte: str, donnees: dict[str, Any]) -> str:
    """The entry as the hash sees it: JSON, sorted keys, no spaces, non-ASCII kept (UTF-8 once hashed)."""
    return json.dumps({"id": id, "moment": moment_text(moment), "genre": genre, "appel": appel, "dossier": dossier,
                       "convention": convention, "utilisateur": utilisateur, "texte": texte, "donnees": donnees},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(precedent: str, canonical_text: str) -> str:
    """``sha256(previous hash + canonical form)``, both as UTF-8 text, in lowercase hex."""
    return hashlib.sha256((precedent + canonical_text).encode("utf-8")).hexdigest()


def next_entry(ecriture: Ecriture, *, tete: tuple[int, str] | None, moment: datetime) -> Entree:
    """The entry ``ecriture`` becomes after ``tete`` (the chain's last id and hash; None for the first)."""
    id_, precedent = (tete[0] + 1, tete[1]) if tete else (1, GENESE)
    fields = {"id": id_, "moment": moment.astimezone(timezone.utc), "genre": ecriture.genre, "appel": ecriture.appel,
              "dossier": ecriture.dossier, "convention": ecriture.convention, "utilisateur": ecriture.utilisateur,
              "texte": ecriture.texte[:TEXTE_MAX], "donnees": json_value(ecriture.donnees or {})}
    return Entree(**fields, precedent=precedent, empreinte=chain_hash(precedent, canonical(**fields)))


def paris_day(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def days_to_seal(tete: Tete | Entree | None, moment: datetime, deja_scelle: bool) -> date | None:
    """The day to seal before writing at ``moment``: the last entry's Paris day when ``moment`` falls on a later
    day and that entry is not sealed yet (every earlier day was sealed when its successor began), else None."""
    if tete is None or deja_scelle:
        return None
    jour = paris_day(tete.moment)
    return jour if paris_day(moment) > jour else None


def seal_text(sceau: Sceau) -> str:
    """The seal's file: a few lines anyone can read and compare with the chain."""
    return (f"format: {SCEAU_FORMAT}\njour: {sceau.jour.isoformat()}\nentree: {sceau.entree}\n"
            f"empreinte: {sceau.empreinte}\n")


def parse_seal_text(text: str) -> Sceau | None:
    """The seal a file says, or None when it is not one."""
    values = dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)
    try:
        if values.get("format") != SCEAU_FORMAT:
            return None
        return Sceau(date.fromisoformat(values["jour"]), int(values["entree"]), values["empreinte"])
    except (KeyError, ValueError):
        return None


@dataclass(frozen=True)
class Anomalie:
    """The first place where the chain or a seal does not match, in French."""

    entree: int | None
    message: str


def verify_chain(entrees: Iterable[Entree], *, depuis: tuple[int, str] | None = None) -> Anomalie | None:
    """The first entry (in id order) whose number, previous hash or own hash does not match, or None.

    ``depuis``: the id and hash of the entry before the first one given (None: they start the chain)."""
    attendu_id, precedent = (depuis[0] + 1, depuis[1]) if depuis else (1, GENESE)
    for e in entrees:
        if e.id != attendu_id:
            manque = f"l'entrée n° {attendu_id} manque" if e.id > attendu_id else f"l'entrée n° {e.id} est en double"
            return Anomalie(e.id, f"{manque} : la chaîne saute de la n° {attendu_id - 1} à la n° {e.id}")
        if e.precedent != precedent:
            return Anomalie(e.id, f"l'entrée n° {e.id} ne suit pas la n° {e.id - 1} : son empreinte précédente "
                                  f"({e.precedent[:12]}…) n'est pas celle de l'entrée n° {e.id - 1} ({precedent[:12]}…)")
        recalculee = chain_hash(precedent, canonical(id=e.id, moment=e.moment, genre=e.genre, appel=e.appel,
                                                     dossier=e.dossier, convention=e.convention,
                                                     utilisateur=e.utilisateur, texte=e.texte, donnees=e.donnees))
        if recalculee != e.empreinte:
            return Anomalie(e.id, f"l'entrée n° {e.id} du {moment_text(e.moment)} ({e.genre}) a été modifiée : "
                                  f"son empreinte recalculée ({recalculee[:12]}…) n'est pas celle enregistrée "
                                  f"({e.empreinte[:12]}…)")
        attendu_id, precedent = e.id + 1, e.empreinte
    return None


def verify_seal(sceau: Sceau, entree: Entree | None, fichier: Sceau | None) -> str | None:
    """Why a seal does not match the chain or its file (French), or None."""
    if entree is None:
        return f"le sceau du {sceau.jour.isoformat()} scelle l'entrée n° {sceau.entree}, absente du journal"
    if entree.empreinte != sceau.empreinte:
        return (f"le sceau du {sceau.jour.isoformat()} ne correspond plus à l'entrée n° {sceau.entree} : "
                f"empreinte scellée {sceau.empreinte[:12]}…, empreinte de l'entrée {entree.empreinte[:12]}…")
    if fichier is None:
        return f"le fichier du sceau du {sceau.jour.isoformat()} est absent ou illisible"
    if fichier != sceau:
        return f"le fichier du sceau du {sceau.jour.isoformat()} ne dit pas ce que dit la base"
    return None


def covering_seal(sceaux: Sequence[Sceau], entree_id: int) -> Sceau | None:
    """The first seal that covers entry ``entree_id`` (a seal covers its entry and every earlier one)."""
    return min((s for s in sceaux if s.entree >= entree_id), key=lambda s: s.entree, default=None)
