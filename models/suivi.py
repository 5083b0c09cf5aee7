"""Follow-up of the conventions: each period's mid-term and final échéances, and the bilans received."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, enum_column


class NatureEcheance(enum.Enum):
    MI_PARCOURS = "mi-parcours"
    FINAL = "final"


class Verification(enum.Enum):
    """A returned bilan sent from an address not known for its convention's structure waits for the SA."""

    A_VERIFIER = "à vérifier"
    CONFIRME = "confirmé"
    REJETE = "rejeté"


class Echeance(Base):
    """A bilan + situation budgétaire owed for one period of a convention."""

    __tablename__ = "echeance"
    __table_args__ = (UniqueConstraint("convention_id", "periode_debut", "nature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id"))
    nature: Mapped[NatureEcheance] = mapped_column(enum_column(NatureEcheance))
    periode_debut: Mapped[date] = mapped_column(Date)
    periode_fin: Mapped[date] = mapped_column(Date)
    due_le: Mapped[date] = mapped_column(Date)
    jeton: Mapped[str] = mapped_column(String(60), unique=True)
    demande_le: Mapped[date | None] = mapped_column(Date)
    relances: Mapped[list[dict[str, Any]]]  # reminders already sent: {"rang": 1, "le": "2018-08-07"}
    formulaire_chemin: Mapped[str | None] = mapped_column(String(500))

    convention = relationship("Convention")
    bilans: Mapped[list["Bilan"]] = relationship(back_populates="echeance", order_by="Bilan.recu_le")


class Bilan(Base):
    """One returned bilan form (with its pièces), numbered like an attestation, checked, acknowledged."""

    __tablename__ = "bilan"
    __table_args__ = (UniqueConstraint("appel_id", "seq"), UniqueConstraint("appel_id", "cle"))

    id: Mapped[int] = mapped_column(primary_key=True)
    appel_id: Mapped[int] = mapped_column(ForeignKey("appel.id"))
    echeance_id: Mapped[int | None] = mapped_column(ForeignKey("echeance.id"))
    seq: Mapped[int]
    numero: Mapped[str] = mapped_column(String(30), unique=True)
    cle: Mapped[str] = mapped_column(String(100))
    jeton_lu: Mapped[str | None] = mapped_column(String(100))
    recu_le: Mapped[datetime]
    expediteur: Mapped[str | None] = mapped_column(String(254))
    contenu: Mapped[dict[str, Any] | None]
    pieces: Mapped[list[dict[str, Any]]]
    erreurs: Mapped[list[str]]
    conforme: Mapped[bool]
    accuse_chemin: Mapped[str | None] = mapped_column(String(500))
    enregistre_le: Mapped[datetime]
    verification: Mapped[Verification | None] = mapped_column(enum_column(Verification))

    echeance: Mapped[Echeance | None] = relationship(back_populates="bilans")


# --- rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcheancePrevue:
    nature: NatureEcheance
    periode_debut: date
    periode_fin: date
    due_le: date


def planned_echeances(debut: date, fin: date, *, mi_parcours_mois: int, delai_mi_parcours_jours: int,
                      delai_final_jours: int) -> list[EcheancePrevue]:
    """Mid-term (due some days after the middle of the period) and final (some days after its end)."""
    year, month = divmod(debut.month - 1 + mi_parcours_mois, 12)
    milieu = debut.replace(year=debut.year + year, month=month + 1, day=min(debut.day, 28)) - timedelta(days=1)
    return [
        EcheancePrevue(NatureEcheance.MI_PARCOURS, debut, fin, milieu + timedelta(days=delai_mi_parcours_jours)),
        EcheancePrevue(NatureEcheance.FINAL, debut, fin, fin + timedelta(days=delai_final_jours)),
    ]


def jeton_echeance(convention_numero: str, nature: NatureEcheance, periode_debut: date) -> str:
    return f"BIL-{convention_numero}-{'MI' if nature is NatureEcheance.MI_PARCOURS else 'FIN'}-{periode_debut.year}"


@dataclass(frozen=True)
class Envoi:
    kind: str  # "demande" or "relance"
    rang: int  # 0 for the request, 1, 2… for reminders


def due_mailings(
    *, aujourd_hui: date, due_le: date, demande_jours_avant: int, relances_jours_apres: list[int],
    demande_le: date | None, relances_envoyees: set[int], recu: bool,
) -> list[Envoi]:
    """What must go out today for one échéance — whatever day it last ran: a missed day is caught up,
    but a porteur never gets several messages at once: only the latest reminder due, and never on the
    day the request went out (a request caught up after its reminders' days goes out alone)."""
    if recu:
        return []
    if demande_le is None:
        return [Envoi("demande", 0)] if aujourd_hui >= due_le - timedelta(days=demande_jours_avant) else []
    due_ranks = [rang for rang, jours in enumerate(sorted(relances_jours_apres), start=1)
                 if aujourd_hui >= due_le + timedelta(days=jours)]
    if due_ranks and max(due_ranks) not in relances_envoyees and aujourd_hui > demande_le:
        return [Envoi("relance", max(due_ranks))]
    return []


def is_late(*, aujourd_hui: date, due_le: date, recu: bool) -> bool:
    return not recu and aujourd_hui > due_le
