"""The application's own record of each run of a stage (``passage``), and what a run says about its mail."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.database import transaction
from models import Courriel, CourrielStatut, Passage, PassageStatut

ADRESSE = re.compile(r"[^\s<>()«»,;:]+@[^\s<>()«»,;:]+")
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


def mail_problem(factory: sessionmaker[Session], report: dict | None) -> str | None:
    """« 3 courriels non envoyés : serveur SMTP injoignable ; ils partiront au prochain passage. », or None
    when this run's send left nothing pending or failed. No address is quoted (they are personal data)."""
    if not report or not (report.get("en_attente") or report.get("echecs")):
        return None
    parts = []
    if report.get("en_attente"):
        n = report["en_attente"]
        why = _reasons(factory, CourrielStatut.PENDING)
        parts.append(f"{n} courriel{'s' if n > 1 else ''} non envoyé{'s' if n > 1 else ''}"
                     f"{f' : {why}' if why else ''} ; {'ils partiront' if n > 1 else 'il partira'} au prochain passage")
    if report.get("echecs"):
        n = report["echecs"]
        why = _reasons(factory, CourrielStatut.FAILED)
        parts.append(f"{n} courriel{'s' if n > 1 else ''} en échec{f' : {why}' if why else ''} "
                     "(détail : « aap courriels --statut en-echec »)")
    return " ; ".join(parts) + "."


def _reasons(factory: sessionmaker[Session], statut: CourrielStatut) -> str:
    with factory() as session:
        errors = session.scalars(select(Courriel.erreur).where(Courriel.statut == statut, Courriel.erreur.is_not(None))
                                 .order_by(Courriel.id.desc()).limit(50))
        reasons: list[str] = []
        for error in errors:
            reason = ADRESSE.sub("une adresse", error.split(" : [", 1)[0].split(" (", 1)[0]).strip()
            if reason and reason not in reasons:
                reasons.append(reason)
    return ", ".join(reasons[:RAISONS_MAX])


def recent_passages(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """The latest runs, newest first, for ``aap passages``."""
    return [
        {"id": p.id, "nom": p.nom, "etape": p.etape, "appel": p.appel, "orchestrateur": p.orchestrateur,
         "statut": p.statut.value, "message": p.message, "debut": p.debut.isoformat(),
         "fin": p.fin.isoformat() if p.fin else None, "resume": p.resume, "journal": p.journal,
         "utilisateur": p.utilisateur}
        for p in session.scalars(select(Passage).order_by(Passage.id.desc()).limit(limit))
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
