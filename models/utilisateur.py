"""The back office's accounts, their sessions, and the rules about signing in (roles, lockout, idle expiry)."""
from __future__ import annotations

import enum
import re
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from config.refus import Refus
from models.base import Base, enum_column

ESSAIS_MAX = 5  # wrong passwords in a row before a login is locked
BLOCAGE = timedelta(minutes=15)
INACTIVITE_MAX = timedelta(hours=4)  # a session unused this long is closed
MOT_DE_PASSE_MIN = 10
IDENTIFIANT = re.compile(r"[a-z0-9][a-z0-9._-]{1,59}")


class Role(enum.Enum):
    GESTION = "gestion"  # sees everything, acts
    LECTURE = "lecture"  # sees everything, changes nothing


class Utilisateur(Base):
    __tablename__ = "utilisateur"

    id: Mapped[int] = mapped_column(primary_key=True)
    identifiant: Mapped[str] = mapped_column(String(60), unique=True)
    mot_de_passe: Mapped[str] = mapped_column(String(200))  # argon2 hash, never the password
    role: Mapped[Role] = mapped_column(enum_column(Role))
    actif: Mapped[bool] = mapped_column(default=True, server_default=true())
    cree_le: Mapped[datetime]
    desactive_le: Mapped[datetime | None]


class SessionWeb(Base):
    """One signed-in browser. The cookie holds a random token; this row is keyed by its SHA-256, so the table
    alone opens no session. Closing it (déconnexion, désactivation, expiry) takes effect at the next request."""

    __tablename__ = "session_web"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    utilisateur_id: Mapped[int] = mapped_column(ForeignKey("utilisateur.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    cree_le: Mapped[datetime]
    vu_le: Mapped[datetime]
    message: Mapped[str | None] = mapped_column(Text)  # what the last action said, shown once on the next page

    utilisateur: Mapped[Utilisateur] = relationship()


class EchecConnexion(Base):
    """Wrong passwords in a row for one identifiant (known or not: the answer must not tell which)."""

    __tablename__ = "echec_connexion"

    identifiant: Mapped[str] = mapped_column(String(200), primary_key=True)
    echecs: Mapped[int]
    dernier_le: Mapped[datetime]
    bloque_jusqu_a: Mapped[datetime | None]


class ActionUtilisateur(Base):
    """One row changed by an account of the back office: who, when (UTC, the real clock: when the person acted),
    which table and row, and how. Written by ``adapters.auteurs`` in the same transaction as the change."""

    __tablename__ = "action_utilisateur"
    __table_args__ = (Index("ix_action_utilisateur_table_ligne", "table_nom", "ligne"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    utilisateur: Mapped[str] = mapped_column(String(60))
    moment: Mapped[datetime]
    table_nom: Mapped[str] = mapped_column(String(60))
    ligne: Mapped[str] = mapped_column(String(200))  # the row's primary key, as text (composite keys joined by « , »)
    operation: Mapped[str] = mapped_column(String(20))  # « création », « modification » or « suppression »


# --- rules -------------------------------------------------------------------------------


class SaisieCompteRefusee(Refus):
    """An account command that cannot be carried out (French reason)."""


def normalize_identifiant(raw: str) -> str:
    return (raw or "").strip().lower()


def identifiant_motif(identifiant: str) -> str | None:
    """None when ``identifiant`` (normalised) can name an account, else the French reason."""
    if not IDENTIFIANT.fullmatch(identifiant):
        return (f"identifiant « {identifiant[:60]} » invalide : de 2 à 60 caractères parmi les lettres "
                "minuscules sans accent, les chiffres, « . », « _ » et « - », en commençant par une lettre ou un chiffre")
    return None


def mot_de_passe_motif(mot_de_passe: str) -> str | None:
    if len(mot_de_passe) < MOT_DE_PASSE_MIN:
        return f"mot de passe trop court : {MOT_DE_PASSE_MIN} caractères au moins"
    if mot_de_passe != mot_de_passe.strip():
        return "le mot de passe ne peut ni commencer ni finir par une espace"
    return None


def may_change(role: Role) -> bool:
    """Whether this role may act (every POST but signing in and out)."""
    return role is Role.GESTION


def after_failure(echecs: int, maintenant: datetime) -> tuple[int, datetime | None]:
    """One more wrong password: the new count, and until when the login is locked (at the fifth in a row)."""
    echecs += 1
    if echecs >= ESSAIS_MAX:
        return 0, maintenant + BLOCAGE
    return echecs, None


def is_locked(bloque_jusqu_a: datetime | None, maintenant: datetime) -> bool:
    return bloque_jusqu_a is not None and maintenant < bloque_jusqu_a


def is_expired(vu_le: datetime, maintenant: datetime, inactivite_max: timedelta = INACTIVITE_MAX) -> bool:
    return maintenant - vu_le > inactivite_max
