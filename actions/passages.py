"""The application's own record of each run of a stage (``passage``), and what a run says about its mail."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.notifications import notify
from adapters.database import transaction
from francais.formats import format_datetime_paris
from models import Courriel, CourrielStatut, Passage, PassageStatut
from models.passage import SILENCE_APRES_ECHEC, failure_mail_due, is_abandoned, is_recent_failure
from templates.passage_mails import echec_context

RAISONS_MAX = 3


def open_passage(factory: sessionmaker[Session], *, etape: str, nom: str, appel: int | None, orchestrateur: str,
                 flow_run_id: str | None, parametres: dict[str, Any], debut: datetime,
                 utilisateur: str | None = None) -> int:
    """A run begins: its row says « en cours » until it ends (a killed run leaves it so, for the SA to see)."""
    with transaction(factory) as session:
        row = Passage(etape=etape, nom=nom, appel=appel, orchestrateur=orchestrateur, flow_run_id=flow_run_id,
                      parametres={k: _plain(v) for k, v in parametres.items()}, debut=debut,
                      statut=PassageStatut.EN_COURS, journal="", utilisateur=utilisateur)
        session.add(row)
        session.flush()
        return row.id


def close_passage(factory: sessionmaker[Session], passage_id: int, *, statut: str, fin: datetime,
                  message: str | None = None, resume: str | None = None, journal: str = "") -> None:
    with transaction(factory) as session:
        row = session.get(Passage, passage_id)
        row.statut, row.fin, row.message, row.resume, row.journal = PassageStatut(statut), fin, message, resume, journal


def mail_problem(report: dict | None) -> str | None:
    """« 3 courriels non envoyés : serveur SMTP injoignable ; ils partiront au prochain passage. », or None
    when this run's send left nothing pending or failed. The causes are the send's own (``SendOutcome.cause``,
    French words without addresses, which are personal data, nor the technical detail)."""
    if not report or not (report.get("en_attente") or report.get("echecs")):
        return None
    parts = []
    if report.get("en_attente"):
        n = report["en_attente"]
        why = ", ".join(report.get("causes_attente", [])[:RAISONS_MAX])
        parts.append(f"{n} courriel{'s' if n > 1 else ''} non envoyé{'s' if n > 1 else ''}"
                     f"{f' : {why}' if why else ''} ; {'ils partiront' if n > 1 else 'il partira'} au prochain passage")
    if report.get("echecs"):
        n = report["echecs"]
        why = ", ".join(report.get("causes_echecs", [])[:RAISONS_MAX])
        parts.append(f"{n} courriel{'s' if n > 1 else ''} en échec{f' : {why}' if why else ''} "
                     "(détail : « aap courriels --statut en-echec »)")
    return " ; ".join(parts) + "."


def queue_failure_mail(factory: sessionmaker[Session], *, sa_email: str, deploiement: str, flow_run_id: str, nom: str,
                       debut: datetime, message: str, lien: str | None, maintenant: datetime) -> str | None:
    """Queue the SA's mail about a failed scheduled run (key ``echec:<deployment>:<flow run id>``: a retry of the
    same run never queues a second one), unless ``failure_mail_due`` says the last one about this deployment
    still covers it. Returns the mail's key, or None when nothing was queued."""
    with transaction(factory) as session:
        last = session.scalars(select(Courriel).where(Courriel.cle.startswith(f"echec:{deploiement}:", autoescape=True))
                               .order_by(Courriel.id.desc()).limit(1)).first()
        unsent = last is not None and last.statut in (CourrielStatut.PENDING, CourrielStatut.SENDING)
        if not failure_mail_due(last.cree_le if last else None, unsent, maintenant=maintenant):
            return None
        context = echec_context(nom=nom, deploiement=deploiement, debut=debut, message=message, lien=lien,
                                silence=SILENCE_APRES_ECHEC)
        mail = notify(session, "passage_en_echec", sa_email, context, maintenant=maintenant, deploiement=deploiement,
                      flow_run_id=flow_run_id)
        return mail.cle if mail else None


def mail_sent(factory: sessionmaker[Session], cle: str) -> bool:
    with factory() as session:
        return session.scalar(select(Courriel.statut).where(Courriel.cle == cle)) is CourrielStatut.SENT


def digest_lines(session: Session, *, au: datetime) -> list[str]:
    """For the SA's daily digest: the runs that failed in the last day, and those left « en cours » (their
    process was stopped before the end: a failure no hook could report), in French, oldest first."""
    lines = []
    for p in session.scalars(select(Passage).where(Passage.statut != PassageStatut.TERMINE).order_by(Passage.id)):
        if is_abandoned(p.statut, p.debut, au=au):
            lines.append(f"{p.nom} : commencé le {format_datetime_paris(p.debut)}, toujours « en cours » — son "
                         "processus s'est sans doute arrêté avant la fin ; relancez-le (il ne refait que ce qui manque)")
        elif is_recent_failure(p.statut, p.fin, au=au):
            lines.append(f"{p.nom} : {p.statut.value} le {format_datetime_paris(p.fin)} — {p.message or 'sans message'}")
    return lines


def recent_passages(session: Session, limit: int = 20, numero: int | None = None) -> list[dict[str, Any]]:
    """The latest runs, newest first, for ``aap passages`` (only run ``numero`` if given)."""
    query = select(Passage).order_by(Passage.id.desc()).limit(limit)
    if numero is not None:
        query = query.where(Passage.id == numero)
    return [
        {"id": p.id, "nom": p.nom, "etape": p.etape, "appel": p.appel, "orchestrateur": p.orchestrateur,
         "statut": p.statut.value, "message": p.message, "debut": p.debut.isoformat(),
         "fin": p.fin.isoformat() if p.fin else None, "resume": p.resume, "journal": p.journal,
         "utilisateur": p.utilisateur}
        for p in session.scalars(query)
    ]


def _plain(value: Any) -> Any:
    """A parameter as JSON can hold it (paths and dataclasses as text)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)
