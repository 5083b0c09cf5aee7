"""Every document the software produced: where it is, and which template, by its SHA-256, gave its wording."""
from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class Document(Base):
    __tablename__ = "document"
    __table_args__ = (UniqueConstraint("nature", "objet_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nature: Mapped[str] = mapped_column(String(40))  # "attestation", "convention"… (one per kind of document)
    objet_id: Mapped[int]  # the row the document is about (the attestation, the convention…)
    chemin: Mapped[str] = mapped_column(String(500))
    modele: Mapped[str] = mapped_column(String(100))
    modele_sha256: Mapped[str] = mapped_column(String(64))
