"""The yearly call (appel à projets) and its rules about time."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Texte


class Appel(Base):
    __tablename__ = "appel"

    id: Mapped[int] = mapped_column(primary_key=True)
    annee: Mapped[int] = mapped_column(unique=True)
    titre: Mapped[Texte]
    date_limite: Mapped[datetime]
    publie_le: Mapped[datetime]
    config: Mapped[dict[str, Any]]
    formulaire_chemin: Mapped[str | None] = mapped_column(String(500))

    @property
    def prefixe_attestation(self) -> str:
        return f"AAP-{self.annee}"


def is_late(recu_le: datetime, date_limite: datetime) -> bool:
    """A dépôt is late when the PLIE received it after the deadline (to the second)."""
    return recu_le > date_limite


def attestation_numero(annee: int, seq: int) -> str:
    return f"AAP-{annee}-{seq:04d}"


def dossier_numero(annee: int, seq: int) -> str:
    return f"{annee}-{seq:03d}"
