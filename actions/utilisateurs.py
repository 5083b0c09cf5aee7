"""The back office's accounts and sessions: add, deactivate, sign in (with lockout), open, find and close a session.

Passwords are hashed with argon2 (``argon2-cffi``); a session's cookie holds a random token and its row
is keyed by the token's SHA-256. Every function takes the clock as a parameter."""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from adapters.database import retry_on_conflict, transaction
from config.refus import Refus
from francais.formats import to_paris
from models.utilisateur import (
    INACTIVITE_MAX,
    EchecConnexion,
    Role,
    SaisieCompteRefusee,
    SessionWeb,
    Utilisateur,
    after_failure,
    identifiant_motif,
    is_expired,
    is_locked,
    mot_de_passe_motif,
    normalize_identifiant,
)

log = logging.getLogger("aap.comptes")
_hasher = PasswordHasher()
_LEURRE = _hasher.hash("aucun compte ne porte ce mot de passe")  # an unknown login costs as much as a known one
TOUCHER_APRES = timedelta(seconds=60)  # a session's « last seen » is written at most once a minute


class ConnexionRefusee(Refus):
    """Wrong identifiant or password, an inactive account, or a login locked: said the same for all accounts."""


MAUVAIS = "identifiant ou mot de passe incorrect"


@dataclass(frozen=True)
class Acces:
    """Who is signed in, for one request: what a page needs to know of its session."""

    session_id: str
    utilisateur_id: int
    identifiant: str
    role: Role
    csrf: str
    message: str | None

    @property
    def peut_agir(self) -> bool:
        from models.utilisateur import may_change

        return may_change(self.role)


def add_user(factory: sessionmaker[Session], identifiant: str, mot_de_passe: str, role: Role, *,
             maintenant: datetime, remplacer: bool = False) -> Utilisateur:
    """A new account (or, with ``remplacer``, a new password and role for an existing one: the demo's)."""
    identifiant = normalize_identifiant(identifiant)
    if (motif := identifiant_motif(identifiant) or mot_de_passe_motif(mot_de_passe)) is not None:
        raise SaisieCompteRefusee(motif)
    hashed = _hasher.hash(mot_de_passe)

    def record() -> Utilisateur:
        with transaction(factory) as session:
            user = session.scalar(select(Utilisateur).where(Utilisateur.identifiant == identifiant))
            if user is not None and not remplacer:
                raise SaisieCompteRefusee(f"le compte « {identifiant} » existe déjà")
            if user is None:
                user = Utilisateur(identifiant=identifiant, mot_de_passe=hashed, role=role, actif=True, cree_le=maintenant)
                session.add(user)
            else:
                user.mot_de_passe, user.role, user.actif, user.desactive_le = hashed, role, True, None
                session.execute(delete(SessionWeb).where(SessionWeb.utilisateur_id == user.id))
            session.flush()
            return user

    user = retry_on_conflict(record)
    log.info("Compte « %s » (%s) enregistré.", identifiant, role.value)
    return user


def deactivate_user(factory: sessionmaker[Session], identifiant: str, *, maintenant: datetime) -> Utilisateur:
    """The account can no longer sign in, and its open sessions close at once."""
    identifiant = normalize_identifiant(identifiant)
    with transaction(factory) as session:
        user = session.scalar(select(Utilisateur).where(Utilisateur.identifiant == identifiant))
        if user is None:
            raise SaisieCompteRefusee(f"aucun compte « {identifiant} »")
        if user.actif:
            user.actif, user.desactive_le = False, maintenant
        session.execute(delete(SessionWeb).where(SessionWeb.utilisateur_id == user.id))
    log.info("Compte « %s » désactivé.", identifiant)
    return user


def sign_in(factory: sessionmaker[Session], identifiant: str, mot_de_passe: str, *, maintenant: datetime) -> tuple[str, Acces]:
    """Check the password and open a session: its cookie token and what the request then knows. Five wrong
    passwords in a row lock that identifiant (known or not) for a while; the answer never says which it was."""
    identifiant = normalize_identifiant(identifiant)[:200]
    with factory() as session:
        echec = session.get(EchecConnexion, identifiant)
        if echec is not None and is_locked(echec.bloque_jusqu_a, maintenant):
            raise ConnexionRefusee(_locked(echec.bloque_jusqu_a))
        user = session.scalar(select(Utilisateur).where(Utilisateur.identifiant == identifiant))
    good = _verify(user.mot_de_passe if user is not None else _LEURRE, mot_de_passe) and user is not None and user.actif
    if not good:
        bloque = _record_failure(factory, identifiant, maintenant)
        log.warning("Connexion refusée pour l'identifiant « %s »%s.", identifiant[:60],
                    " : bloqué après cinq essais" if bloque else "")
        raise ConnexionRefusee(_locked(bloque) if bloque else MAUVAIS)
    token = secrets.token_urlsafe(32)
    with transaction(factory) as session:
        session.execute(delete(EchecConnexion).where(EchecConnexion.identifiant == identifiant))
        session.execute(delete(SessionWeb).where(SessionWeb.utilisateur_id == user.id,
                                                 SessionWeb.vu_le < maintenant - INACTIVITE_MAX))
        row = SessionWeb(id=_key(token), utilisateur_id=user.id, csrf=secrets.token_urlsafe(32), cree_le=maintenant,
                         vu_le=maintenant)
        session.add(row)
    log.info("Connexion de « %s ».", identifiant)
    return token, Acces(row.id, user.id, user.identifiant, user.role, row.csrf, None)


def _verify(hashed: str, mot_de_passe: str) -> bool:
    try:
        return _hasher.verify(hashed, mot_de_passe)
    except (VerificationError, InvalidHashError):
        return False


def _record_failure(factory: sessionmaker[Session], identifiant: str, maintenant: datetime) -> datetime | None:
    def record() -> datetime | None:
        with transaction(factory) as session:
            echec = session.get(EchecConnexion, identifiant, with_for_update=True)
            if echec is None:
                echec = EchecConnexion(identifiant=identifiant, echecs=0, dernier_le=maintenant)
                session.add(echec)
            echec.echecs, echec.bloque_jusqu_a = after_failure(echec.echecs, maintenant)
            echec.dernier_le = maintenant
            return echec.bloque_jusqu_a

    return retry_on_conflict(record)


def _locked(jusqu_a: datetime) -> str:
    paris = to_paris(jusqu_a)
    return f"cinq essais infructueux de suite : connexion bloquée jusqu'à {paris.hour} h {paris.minute:02d}, réessayez ensuite"


def find_session(factory: sessionmaker[Session], token: str | None, *, maintenant: datetime,
                 inactivite_max: timedelta = INACTIVITE_MAX) -> Acces | None:
    """The session of this cookie token, if it is open, its account active and it was used recently; its
    « last seen » moves on (at most once a minute) and its pending message is taken."""
    if not token or len(token) > 200:
        return None
    key = _key(token)
    with factory() as session:
        row = session.scalar(select(SessionWeb).where(SessionWeb.id == key))
        if row is None:
            return None
        user = row.utilisateur
        expired = is_expired(row.vu_le, maintenant, inactivite_max) or not user.actif
        acces = Acces(row.id, user.id, user.identifiant, user.role, row.csrf, row.message)
        stale = maintenant - row.vu_le > TOUCHER_APRES
    if expired:
        close_session(factory, key)
        return None
    if stale or acces.message:
        with transaction(factory) as session:
            row = session.get(SessionWeb, key)
            if row is not None:
                row.vu_le, row.message = maintenant, None
    return acces


def say(factory: sessionmaker[Session], session_id: str, message: str) -> None:
    """What an action said, shown once on the next page of this session (POST → redirect → GET)."""
    with transaction(factory) as session:
        row = session.get(SessionWeb, session_id)
        if row is not None:
            row.message = message[:4000]


def close_session(factory: sessionmaker[Session], session_id: str) -> None:
    with transaction(factory) as session:
        session.execute(delete(SessionWeb).where(SessionWeb.id == session_id))


def session_key(token: str) -> str:
    return _key(token)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def list_users(session: Session) -> list[dict]:
    return [{"identifiant": u.identifiant, "role": u.role.value, "actif": u.actif}
            for u in session.scalars(select(Utilisateur).order_by(Utilisateur.identifiant))]
