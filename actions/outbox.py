"""The outbox: queue a message with the change that causes it; send what is pending, once."""
from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from adapters.claimant import current_claimant, is_gone
from adapters.database import transaction
from adapters.journal_hook import record_mail_state
from adapters.smtp import (
    MailSettings,
    OutgoingMail,
    SendOutcome,
    envelope_recipients,
    make_message_id,
    send_batch,
)
from config.organisme import current_organisme
from config.settings import Settings
from francais.formats import compte
from models.adresse import sans_adresses
from models.courriel import STATUT_LIBELLES, Courriel, CourrielStatut, nature_of

log = logging.getLogger("aap.outbox")

CHUNK = 50  # rows claimed and sent over one connection at a time
MAX_ATTEMPTS = 5  # transient failures before a mail is given up (« en échec »)


@dataclass
class SendReport:
    """What one send did: counts, and why mail is left (the French causes, without addresses or detail)."""

    envoyes: int = 0
    en_attente: int = 0
    echecs: int = 0
    causes_attente: list[str] = field(default_factory=list)
    causes_echecs: list[str] = field(default_factory=list)

    def note(self, causes: list[str], outcome: SendOutcome) -> None:
        if outcome.why not in causes:
            causes.append(outcome.why)


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
    """Add the message unless its key is already queued (then return None).

    Each recipient must be exactly one valid address; a row that breaks this is kept, already « en échec »
    with its French reason, and never reaches the SMTP server. The row is inserted with the transaction's next
    flush (a batch of documents queues its mails in one)."""
    if any(isinstance(o, Courriel) and o.cle == cle for o in session.new):
        return None
    with session.no_autoflush:
        if session.scalar(select(Courriel.id).where(Courriel.cle == cle)) is not None:
            return None
    refusal = recipients_refusal(destinataires)
    courriel = Courriel(
        cle=cle, message_id=make_message_id(cle), appel_id=appel_id, dossier_id=dossier_id,
        destinataires=list(destinataires), sujet=sujet, corps=corps, pieces_jointes=pieces_jointes,
        statut=CourrielStatut.PENDING if refusal is None else CourrielStatut.FAILED, tentatives=0,
        erreur=refusal, cree_le=maintenant,
    )
    session.add(courriel)
    return courriel


def recipients_refusal(destinataires: list[str]) -> str | None:
    """None when every recipient is exactly one valid address, else the French reason the mail is refused."""
    return envelope_recipients(destinataires)[1]


def mail_settings(settings: Settings) -> MailSettings:
    return MailSettings(
        host=settings.smtp_host, port=settings.smtp_port,
        sender=f"{settings.mail_from_name or current_organisme().nom} <{settings.mail_from}>",
        username=settings.smtp_user, password=settings.smtp_password, starttls=settings.smtp_starttls,
    )


def send_pending(
    factory: sessionmaker[Session], mail: MailSettings, storage_root: Path, *, lease_seconds: int = 600,
    chunk: int = CHUNK, max_attempts: int = MAX_ATTEMPTS, seulement: Collection[str] | None = None,
    tried: set[int] | None = None, report: SendReport | None = None, say: Callable[[int, str], None] | None = None,
) -> SendReport:
    """Claim what is pending a few rows at a time, send each chunk over one connection, record each result.

    The claim is a conditional UPDATE that writes this process's token, so two senders running at once never
    send the same row. Rows left ``sending`` by a process that is gone (``kill -9``) are taken back at once;
    those of a process on another machine after ``lease_seconds``. At most the one message in flight at a
    crash can go twice (same Message-ID). A transient failure (4xx, outage) leaves the row pending for the
    next run, ``max_attempts`` times at most; a permanent one (5xx) fails it with its reason.
    ``seulement``: send only the mails of these keys (one that must leave now), leaving the others' attempts be.
    ``tried`` (the ids already tried in this run) and ``report`` carry on what an earlier send of the same run
    did (``SendBehind``); ``say(level, line)`` receives the French lines instead of the log. Uses the wall clock: the lease is about processes, not about the call's calendar."""
    report = SendReport() if report is None else report
    tried = set() if tried is None else tried
    claimant = current_claimant()
    while True:
        claimed = _claim(factory, claimant, lease_seconds, chunk, tried, seulement)
        if not claimed:
            return report
        tried.update(c.id for c in claimed)
        _send_chunk(factory, mail, storage_root, claimed, report, max_attempts, say or log.log)


class SendBehind:
    """Sends, from a thread of this process, what is pending while the run queues more (the intake records its
    attestations 25 at a time): one ``send_pending`` after another, each over one connection, until ``stop()``.
    Then the run's own last send (``send_pending(..., tried=behind.tried, report=behind.report)``) sends the rest
    and reports the whole. A mail that failed for now is not tried again in the same run; after a failure the
    thread stops and leaves the rest to that last send, which meets the same server once. It sends when woken
    (``wake()``, once a batch of mail is committed), never by polling the database."""

    def __init__(self, factory: sessionmaker[Session], mail: MailSettings, storage_root: Path, *,
                 lease_seconds: int = 600, max_attempts: int = MAX_ATTEMPTS, chunk: int = CHUNK) -> None:
        import threading

        self.tried: set[int] = set()
        self.report = SendReport()
        self._stop, self._more = threading.Event(), threading.Event()
        self._args = (factory, mail, storage_root)
        self._options = {"lease_seconds": lease_seconds, "max_attempts": max_attempts, "chunk": chunk}
        self._thread = threading.Thread(target=self._run, name="aap-envoi", daemon=True)
        self.lines: list[tuple[int, str]] = []  # said by the run's own thread when it stops (the run's journal)

    def __enter__(self) -> SendBehind:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the thread, then say in this thread what it did (the run's journal keeps its own thread's lines)."""
        self._stop.set()
        self._more.set()
        if self._thread.is_alive():
            self._thread.join()
        lines, self.lines = self.lines, []
        for level, line in lines:
            log.log(level, line)

    def wake(self) -> None:
        """More mail is queued (committed): send it."""
        self._more.set()

    def _run(self) -> None:
        try:
            while True:
                self._more.wait()
                if self._stop.is_set():
                    return
                self._more.clear()
                send_pending(*self._args, **self._options, tried=self.tried, report=self.report,
                             say=lambda level, line: self.lines.append((level, line)))
                if self.report.en_attente or self.report.echecs:
                    return  # the server refuses or is gone: the run's last send meets it once more, alone
        except Exception as exc:  # noqa: BLE001 - the run's last send does the rest, and says it
            self.lines.append((logging.WARNING, f"Envoi pendant la relève interrompu ({type(exc).__name__}) : "
                                                "le reste part à la fin du passage."))


def release_abandoned(factory: sessionmaker[Session], claimant: str) -> int:
    """Give back to ``pending`` the rows claimed by processes that are gone; return how many."""
    with factory() as session:
        holders = set(session.scalars(
            select(Courriel.reserve_par).where(Courriel.statut == CourrielStatut.SENDING).distinct()))
    gone = [h for h in holders if h and h != claimant and is_gone(h)]
    if not gone:
        return 0
    with transaction(factory) as session:
        return session.execute(
            update(Courriel).where(Courriel.statut == CourrielStatut.SENDING, Courriel.reserve_par.in_(gone))
            .values(statut=CourrielStatut.PENDING, reserve_par=None)
        ).rowcount


def _claim(factory: sessionmaker[Session], claimant: str, lease_seconds: int, chunk: int,
           tried: set[int], seulement: Collection[str] | None = None) -> list[Courriel]:
    release_abandoned(factory, claimant)
    now = datetime.now(timezone.utc)
    claimable = or_(
        Courriel.statut == CourrielStatut.PENDING,
        and_(Courriel.statut == CourrielStatut.SENDING, Courriel.reserve_le < now - timedelta(seconds=lease_seconds)),
    )
    query = select(Courriel.id).where(claimable).order_by(Courriel.id).limit(chunk)
    if tried:  # a row that failed for now waits for the next run, not for this loop
        query = query.where(Courriel.id.not_in(tried))
    if seulement is not None:
        query = query.where(Courriel.cle.in_(list(seulement)))
    with transaction(factory) as session:
        while ids := session.scalars(query).all():  # one conditional UPDATE for the chunk, the rows it won returned
            won = session.scalars(
                update(Courriel).where(Courriel.id.in_(ids), claimable)
                .values(statut=CourrielStatut.SENDING, reserve_le=now, reserve_par=claimant,
                        tentatives=Courriel.tentatives + 1)
                .returning(Courriel).execution_options(populate_existing=True)
            ).all()
            if won:
                return sorted(won, key=lambda c: c.id)
            # another sender claimed them all between the two statements: look again
    return []


def _send_chunk(factory: sessionmaker[Session], mail: MailSettings, storage_root: Path, claimed: list[Courriel],
                report: SendReport, max_attempts: int, say: Callable[[int, str], None]) -> None:
    outgoing = [
        OutgoingMail(
            key=c.cle, to=tuple(c.destinataires), subject=c.sujet, body=c.corps, message_id=c.message_id,
            attachments=tuple(storage_root / p for p in c.pieces_jointes), written_at=c.cree_le,
        )
        for c in claimed
    ]
    rows = {c.cle: c for c in claimed}

    def on_result(m: OutgoingMail, outcome: SendOutcome | None) -> None:
        row = rows[m.key]
        values = {"reserve_par": None}
        quoi = mail_label(row.cle)
        if outcome is None:
            values |= {"statut": CourrielStatut.SENT, "envoye_le": datetime.now(timezone.utc), "erreur": None}
            report.envoyes += 1
            level, line = logging.INFO, f"{quoi} envoyé."
        elif outcome.transient and row.tentatives < max_attempts:
            values |= {"statut": CourrielStatut.PENDING, "erreur": outcome.reason[:2000]}
            report.en_attente += 1
            report.note(report.causes_attente, outcome)
            level, line = logging.WARNING, (f"{quoi} non envoyé : {_raison(_detail(outcome))} ; "
                                            "nouvel essai au prochain passage.")
        else:
            reason = outcome.reason if not outcome.transient else (
                f"abandonné après {row.tentatives} tentatives : {outcome.reason}")
            values |= {"statut": CourrielStatut.FAILED, "erreur": reason[:2000]}
            report.echecs += 1
            report.note(report.causes_echecs, outcome)
            level, line = logging.WARNING, f"{quoi} en échec : {_raison(_detail(outcome, row.tentatives))}."
        with transaction(factory) as s:
            s.execute(update(Courriel).where(Courriel.id == row.id).values(**values))
            record_mail_state(s, row, STATUT_LIBELLES[values["statut"]])  # a bulk UPDATE: the hook does not see it
        say(level, line)

    send_batch(mail, outgoing, on_result)


def _detail(outcome: SendOutcome, tentatives: int | None = None) -> str:
    """What a log line says of a mail not delivered: the server's reply when it gave one (its code and words),
    else the French cause alone (« serveur SMTP injoignable »), never a library's English detail."""
    detail = outcome.reason if outcome.code is not None else outcome.why
    return f"abandonné après {tentatives} tentatives : {detail}" if tentatives and outcome.transient else detail


def mail_label(cle: str) -> str:
    """« Courriel « attestation de dépôt » (AAP-2018-0007) »: the kind and the key, never the recipient."""
    return f"Courriel « {nature_of(cle)} » ({cle.split(':', 1)[-1]})"


def _raison(reason: str) -> str:
    """An error as a log line may show it: no address, one line, bounded."""
    return " ".join(sans_adresses(reason).split())[:300].rstrip(" .")


def list_courriels(session: Session, statut: CourrielStatut | None = None, *, recents_d_abord: bool = False,
                   limite: int | None = None, decalage: int = 0) -> list[dict]:
    """The outbox for the SA: each mail's kind, recipient, status, attempts and error, in French, oldest first
    (newest first with ``recents_d_abord``; ``limite`` and ``decalage`` give one page of it)."""
    query = select(Courriel).order_by(Courriel.id.desc() if recents_d_abord else Courriel.id)
    if statut is not None:
        query = query.where(Courriel.statut == statut)
    if limite is not None:
        query = query.limit(limite).offset(decalage)
    return [
        {"id": c.id, "cle": c.cle, "nature": nature_of(c.cle), "destinataires": list(c.destinataires),
         "sujet": c.sujet, "statut": STATUT_LIBELLES[c.statut], "tentatives": c.tentatives, "erreur": c.erreur,
         "cree_le": c.cree_le.isoformat(), "envoye_le": c.envoye_le.isoformat() if c.envoye_le else None}
        for c in session.scalars(query)
    ]


def count_courriels(session: Session, statut: CourrielStatut | None = None) -> int:
    from sqlalchemy import func

    query = select(func.count()).select_from(Courriel)
    return session.scalar(query.where(Courriel.statut == statut) if statut is not None else query)


def failed_lines(session: Session) -> list[str]:
    """One French line per mail given up (« en échec »), for the SA's digest."""
    return [
        f"{nature_of(c.cle)} ({c.cle.split(':', 1)[-1]}) à {', '.join(c.destinataires) or 'personne'} : "
        f"{c.erreur or 'raison inconnue'} ({compte(c.tentatives, 'tentative', 'tentatives')})"
        for c in session.scalars(select(Courriel).where(Courriel.statut == CourrielStatut.FAILED).order_by(Courriel.id))
    ]


def retry_failed(factory: sessionmaker[Session], courriel_id: int) -> str:
    """A mail « en échec » goes back to « en attente » with fresh attempts (its last error kept until it is
    sent); the next send takes it. A mail in any other state is left as it is, and the reason said."""
    from config.refus import Refus

    with transaction(factory) as session:
        c = session.get(Courriel, courriel_id, with_for_update=True)
        if c is None:
            raise Refus(f"aucun courriel n° {courriel_id}")
        if c.statut is not CourrielStatut.FAILED:
            raise Refus(f"le courriel n° {courriel_id} n'est pas en échec (statut : {STATUT_LIBELLES[c.statut]})")
        if (refusal := recipients_refusal(list(c.destinataires))) is not None:
            raise Refus(f"le courriel n° {courriel_id} ne peut pas partir : {refusal}")
        c.statut, c.tentatives, c.reserve_par = CourrielStatut.PENDING, 0, None
        return f"Courriel n° {courriel_id} ({nature_of(c.cle)}) remis en file d'envoi"
