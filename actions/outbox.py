"""The outbox: queue a message with the change that causes it; send what is pending, once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from adapters.database import transaction
from adapters.smtp import MailSettings, OutgoingMail, make_message_id, send_batch
from config.organisme import current_organisme
from config.settings import Settings
from models.courriel import Courriel, CourrielStatut

CHUNK = 50  # rows claimed and sent over one connection at a time
TRANSIENT_MARKERS = ("injoignable", "perdu", "451", "421", "450", "452", "interrompu", "timeout", "délai")


@dataclass
class SendReport:
    envoyes: int = 0
    en_attente: int = 0
    echecs: int = 0


def enqueue(
    session: Session,
    *,
    cle: str,
    destinataires: list[str],
    sujet: str,
    corps: str,
    pieces_jointes: list[str],
    maintenant: datetime,
    appel_id: int | None = None,
    dossier_id: int | None = None,
) -> Courriel | None:
    """Add the message unless its key is already queued (then return None)."""
    if session.scalar(select(Courriel.id).where(Courriel.cle == cle)) is not None:
        return None
    courriel = Courriel(
        cle=cle, message_id=make_message_id(cle), appel_id=appel_id, dossier_id=dossier_id,
        destinataires=destinataires, sujet=sujet, corps=corps, pieces_jointes=pieces_jointes,
        statut=CourrielStatut.PENDING, tentatives=0, cree_le=maintenant,
    )
    session.add(courriel)
    session.flush()
    return courriel


def mail_settings(settings: Settings) -> MailSettings:
    return MailSettings(
        host=settings.smtp_host, port=settings.smtp_port,
        sender=f"{settings.mail_from_name or current_organisme().nom} <{settings.mail_from}>",
        username=settings.smtp_user, password=settings.smtp_password, starttls=settings.smtp_starttls,
    )


def send_pending(
    factory: sessionmaker[Session], mail: MailSettings, storage_root: Path, *, lease_seconds: int = 600,
    chunk: int = CHUNK,
) -> SendReport:
    """Claim what is pending (or abandoned by a dead sender) a few rows at a time, send each chunk over one
    connection, record each result. The claim is a conditional UPDATE, so two senders running at once never
    send the same row; claiming by chunks keeps each claim far younger than the lease.
    Uses the wall clock: the lease is about processes, not about the call's calendar."""
    report = SendReport()
    tried: set[int] = set()
    while True:
        claimed = _claim(factory, lease_seconds, chunk, tried)
        if not claimed:
            return report
        tried.update(c.id for c in claimed)
        _send_chunk(factory, mail, storage_root, claimed, report)


def _claim(factory: sessionmaker[Session], lease_seconds: int, chunk: int, tried: set[int]) -> list[Courriel]:
    now = datetime.now(timezone.utc)
    claimable = or_(
        Courriel.statut == CourrielStatut.PENDING,
        and_(Courriel.statut == CourrielStatut.SENDING, Courriel.reserve_le < now - timedelta(seconds=lease_seconds)),
    )
    claimed: list[Courriel] = []
    with transaction(factory) as session:
        query = select(Courriel.id).where(claimable).order_by(Courriel.id).limit(chunk * 2)
        if tried:  # a row that failed for now waits for the next run, not for this loop
            query = query.where(Courriel.id.not_in(tried))
        for cid in session.scalars(query).all():
            won = session.execute(
                update(Courriel).where(Courriel.id == cid, claimable)
                .values(statut=CourrielStatut.SENDING, reserve_le=now, tentatives=Courriel.tentatives + 1)
            ).rowcount
            if won:
                claimed.append(session.get(Courriel, cid))
            if len(claimed) == chunk:
                break
    return claimed


def _send_chunk(factory: sessionmaker[Session], mail: MailSettings, storage_root: Path, claimed: list[Courriel],
                report: SendReport) -> None:
    outgoing = [
        OutgoingMail(
            key=c.cle, to=tuple(c.destinataires), subject=c.sujet, body=c.corps, message_id=c.message_id,
            attachments=tuple(storage_root / p for p in c.pieces_jointes),
        )
        for c in claimed
    ]
    ids = {c.cle: c.id for c in claimed}

    def on_result(m: OutgoingMail, error: str | None) -> None:
        if error is None:
            values = {"statut": CourrielStatut.SENT, "envoye_le": datetime.now(timezone.utc), "erreur": None}
            report.envoyes += 1
        elif is_transient(error):
            values = {"statut": CourrielStatut.PENDING, "erreur": error[:2000]}
            report.en_attente += 1
        else:
            values = {"statut": CourrielStatut.FAILED, "erreur": error[:2000]}
            report.echecs += 1
        with transaction(factory) as s:
            s.execute(update(Courriel).where(Courriel.id == ids[m.key]).values(**values))

    send_batch(mail, outgoing, on_result)


def is_transient(error: str) -> bool:
    """An outage or a temporary refusal (4xx) is retried; a permanent refusal (5xx) is not."""
    if error.startswith("remis en partie"):  # some recipients have it: never send it again
        return False
    return any(marker in error.lower() for marker in TRANSIENT_MARKERS)
