"""A passage: one run of a stage (intake, instruction, comité, conventions, échéancier…), as the
application itself records it, whether a command ran it at once or a Prefect server orchestrated it."""
from __future__ import annotations

import enum
from datetime import datetime
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
