"""The outbox: every e-mail the software sends is first a row here, committed with its cause."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class CourrielStatut(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


STATUT_LIBELLES = {
    CourrielStatut.PENDING: "en attente",
    CourrielStatut.SENDING: "en cours d'envoi",
    CourrielStatut.SENT: "envoyé",
    CourrielStatut.FAILED: "en échec",
}
NATURE_LIBELLES = {  # the outbox key's first word → what the SA calls that mail
    "annonce": "annonce de l'appel",
    "attestation": "attestation de dépôt",
    "decision": "lettre de décision",
    "convention": "convention à signer",
    "avenant": "avenant à signer",
    "demande": "demande de bilan",
    "relance": "relance de bilan",
    "accuse": "accusé de réception de bilan",
    "digest": "récapitulatif de l'échéancier",
    "verification": "envoi à vérifier signalé à la structure",
    "contact": "changement de contact signalé",
    "echec": "passage en échec",
}


def nature_of(cle: str) -> str:
    """The kind of mail, in French, from its idempotency key (``attestation:AAP-2018-0003``)."""
    prefix = cle.split(":", 1)[0]
    return NATURE_LIBELLES.get(prefix, prefix)


class Courriel(Base):
    __tablename__ = "courriel"

    id: Mapped[int] = mapped_column(primary_key=True)
    cle: Mapped[str] = mapped_column(String(200), unique=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    appel_id: Mapped[int | None] = mapped_column(ForeignKey("appel.id"))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"))
    destinataires: Mapped[list[str]]
    sujet: Mapped[str] = mapped_column(String(300))
    corps: Mapped[str] = mapped_column(Text)
    pieces_jointes: Mapped[list[str]]
    statut: Mapped[CourrielStatut] = mapped_column(
        Enum(CourrielStatut, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    tentatives: Mapped[int] = mapped_column(default=0)
    erreur: Mapped[str | None] = mapped_column(Text)
    cree_le: Mapped[datetime]
    reserve_le: Mapped[datetime | None]
    reserve_par: Mapped[str | None] = mapped_column(String(200))  # the claiming process (adapters/claimant.py)
    envoye_le: Mapped[datetime | None]
