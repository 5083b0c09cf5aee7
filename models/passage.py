"""A passage: one run of a stage (intake, instruction, comité, conventions, échéancier…), as the
application itself records it, whether a command ran it at once or a Prefect server orchestrated it."""
from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, enum_column


class PassageStatut(enum.Enum):
    EN_COURS = "en cours"  # left so by a process that was killed: the trace says so
    TERMINE = "terminé"
    COURRIELS_EN_ATTENTE = "courriels non envoyés"
    ECHOUE = "échoué"


class Passage(Base):
    __tablename__ = "passage"

    id: Mapped[int] = mapped_column(primary_key=True)
    etape: Mapped[str] = mapped_column(String(60))
    nom: Mapped[str] = mapped_column(String(120))
    appel: Mapped[int | None]
    orchestrateur: Mapped[str] = mapped_column(String(20))  # « direct » or « prefect »
    flow_run_id: Mapped[str | None] = mapped_column(String(40))
    parametres: Mapped[dict[str, Any]]
    debut: Mapped[datetime]
    fin: Mapped[datetime | None]
    statut: Mapped[PassageStatut] = mapped_column(enum_column(PassageStatut))
    message: Mapped[str | None] = mapped_column(Text)
    resume: Mapped[str | None] = mapped_column(Text)
    journal: Mapped[str] = mapped_column(Text, default="")
    utilisateur: Mapped[str | None] = mapped_column(String(60))  # who asked for it in the back office


# --------------------------------------------------------------------------- rules (the clock a parameter)

ABANDON_APRES = timedelta(hours=1)  # a run still « en cours » after this was most likely killed
SIGNALE_PENDANT = timedelta(days=7)  # …and the daily digest says so for a week
ECHECS_RECENTS = timedelta(hours=24)  # the digest lists the failures of the last day
SILENCE_APRES_ECHEC = timedelta(hours=6)  # at most one failure mail per deployment in this time


def is_abandoned(statut: PassageStatut, debut: datetime, *, au: datetime) -> bool:
    """Still « en cours » long after it began: its process was stopped (killed, machine restarted) before the end."""
    return statut is PassageStatut.EN_COURS and au - SIGNALE_PENDANT <= debut <= au - ABANDON_APRES


def is_recent_failure(statut: PassageStatut, fin: datetime | None, *, au: datetime) -> bool:
    return (statut in (PassageStatut.ECHOUE, PassageStatut.COURRIELS_EN_ATTENTE) and fin is not None
            and au - ECHECS_RECENTS <= fin <= au)


def failure_mail_due(last_queued: datetime | None, last_unsent: bool, *, maintenant: datetime) -> bool:
    """A failed scheduled run mails the SA, unless the last failure mail about the same deployment (queued at
    ``last_queued``) is still unsent — the SMTP outage that made the run fail keeps it so: one mail for the
    whole outage — or was queued less than six hours ago: a run failing every quarter of an hour sends one
    mail, not 24."""
    if last_queued is None:
        return True
    return not last_unsent and maintenant - last_queued >= SILENCE_APRES_ECHEC
