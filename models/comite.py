"""A comité de pilotage's pack: which dossiers it was given, under which token."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Comite(Base):
    __tablename__ = "comite"

    id: Mapped[int] = mapped_column(primary_key=True)
    appel_id: Mapped[int] = mapped_column(ForeignKey("appel.id"))
    comite_le: Mapped[date] = mapped_column(Date)
    jeton: Mapped[str] = mapped_column(String(64), unique=True)
    dossiers: Mapped[list[str]]
    synthese_chemin: Mapped[str] = mapped_column(String(500))
    prepare_le: Mapped[datetime]
