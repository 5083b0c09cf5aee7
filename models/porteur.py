"""Porteurs de projet (applicant structures), identified by SIRET or by a known address."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, Texte
from models.siret import LA_POSTE_SIEGE, LA_POSTE_SIREN, is_valid_siret, normalize_siret, siret_motif

__all__ = [
    "EXPEDITEUR_INCONNU", "LA_POSTE_SIEGE", "LA_POSTE_SIREN", "Porteur", "PorteurAdresse", "is_valid_siret", "may_speak_for",
    "normalize_address", "normalize_siret", "siret_motif",
]


class Porteur(Base):
    __tablename__ = "porteur"

    id: Mapped[int] = mapped_column(primary_key=True)
    siret: Mapped[str | None] = mapped_column(String(14), unique=True)
    nom: Mapped[Texte]
    adresse: Mapped[str | None] = mapped_column(String(500))
    contact_nom: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_telephone: Mapped[str | None] = mapped_column(String(50))
    anonymise_le: Mapped[datetime | None]  # its contacts were removed by a purge (RGPD)

    adresses: Mapped[list["PorteurAdresse"]] = relationship(back_populates="porteur")


class PorteurAdresse(Base):
    """An e-mail address known to speak for a porteur: the sender or form contact of one of its accepted
    dépôts, or an address the SA added. One address may speak for several structures."""

    __tablename__ = "porteur_adresse"
    __table_args__ = (UniqueConstraint("porteur_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    porteur_id: Mapped[int] = mapped_column(ForeignKey("porteur.id"))
    porteur: Mapped[Porteur] = relationship(back_populates="adresses")


EXPEDITEUR_INCONNU = "expéditeur inconnu pour cette structure"


def normalize_address(raw: str | None) -> str:
    return (raw or "").strip().lower()


def may_speak_for(expediteur: str | None, *, etablie: bool, adresses_connues: Iterable[str]) -> bool:
    """Whether a message from ``expediteur`` may act for a structure.

    A structure without any dossier yet may be named from any address: that is how it first appears.
    Once it has a dossier (and so perhaps a convention), only an address known for it may speak for it."""
    if not etablie:
        return True
    sender = normalize_address(expediteur)
    return bool(sender) and sender in {normalize_address(a) for a in adresses_connues}
