"""The yearly call (appel à projets) and its rules about time."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Texte
from francais.formats import format_datetime_paris

DECALAGE_HORLOGE = timedelta(minutes=5)
"""How far the mail server's clock may run ahead of the run's before a Received: time is doubted."""


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


def reception_douteuse(recu_le: datetime, *, maintenant: datetime, publie_le: datetime, livre_le: datetime) -> str | None:
    """None when the topmost ``Received:`` time is plausible, else the French reason.

    It is doubted after the run's clock (beyond ``DECALAGE_HORLOGE``) or before the call's
    publication; the file's delivery time ``livre_le`` is then retained, and said beside it.
    """
    if recu_le > maintenant + DECALAGE_HORLOGE:
        pourquoi = f"postérieure à l'heure du relevé ({format_datetime_paris(maintenant)})"
    elif recu_le < publie_le:
        pourquoi = f"antérieure à la publication de l'appel ({format_datetime_paris(publie_le)})"
    else:
        return None
    return (f"heure de réception douteuse : l'en-tête Received indique le {format_datetime_paris(recu_le)}, {pourquoi} ; "
            f"heure de dépôt du fichier retenue : {format_datetime_paris(livre_le)}, à vérifier par l'assistante")


def attestation_numero(annee: int, seq: int) -> str:
    return f"AAP-{annee}-{seq:04d}"


def dossier_numero(annee: int, seq: int) -> str:
    return f"{annee}-{seq:03d}"
