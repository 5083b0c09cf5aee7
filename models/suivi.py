"""Follow-up of the conventions: each period's mid-term and final échéances, and the bilans received."""
from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
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
    """One bilan owed: the days it covers (``periode_debut``–``periode_fin``) and when it is due."""

    nature: NatureEcheance
    periode_debut: date
    periode_fin: date
    due_le: date


def add_months(d: date, months: int) -> date:
    """Same day ``months`` later, or that month's last day (31 January + 6 months → 31 July, 31 August → 28 February)."""
    year, month = divmod(d.month - 1 + months, 12)
    year, month = d.year + year, month + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def mid_term_end(debut: date, *, mi_parcours_mois: int) -> date:
    """The last day of a period's first ``mi_parcours_mois`` months: 1 January → 30 June, 31 January → 30 July."""
    return add_months(debut, mi_parcours_mois) - timedelta(days=1)


def planned_echeances(debut: date, fin: date, *, mi_parcours_mois: int, delai_mi_parcours_jours: int,
                      delai_final_jours: int) -> list[EcheancePrevue]:
    """The mid-term bilan covers the period's first months and is due some days after them; the final one
    covers the whole period and is due some days after its end. The one rule for these dates: the
    convention, its avenants, the échéancier, the forms and the reports all read them from here."""
    milieu = mid_term_end(debut, mi_parcours_mois=mi_parcours_mois)
    return [
        EcheancePrevue(NatureEcheance.MI_PARCOURS, debut, milieu, milieu + timedelta(days=delai_mi_parcours_jours)),
        EcheancePrevue(NatureEcheance.FINAL, debut, fin, fin + timedelta(days=delai_final_jours)),
    ]


def fraction_couverte(nature: NatureEcheance, *, mi_parcours_mois: int, mois_par_periode: int = 12) -> Decimal:
    """Share of the year's objectives a bilan is measured against: the mid-term one its months (6/12 = 0,5),
    the final one all of it."""
    if nature is NatureEcheance.MI_PARCOURS:
        return Decimal(mi_parcours_mois) / Decimal(mois_par_periode)
    return Decimal(1)


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


class StatutBilan(enum.Enum):
    """Where one échéance's bilan stands on a given day; the four are distinct everywhere."""

    ATTENDU = "attendu"  # not received, its due date not passed
    EN_RETARD = "en retard"  # not received, its due date passed
    A_CORRIGER = "à corriger"  # received with errors (whatever the date), a corrected one is awaited
    RECU = "bilan reçu"  # received complete and consistent


def statut_bilan(*, aujourd_hui: date, due_le: date, accepte: bool, recu_avec_erreurs: bool) -> StatutBilan:
    """Late means after the due date with nothing received: a bilan received with errors is « à corriger »
    (before or after its due date), one not yet due is « attendu »."""
    if accepte:
        return StatutBilan.RECU
    if recu_avec_erreurs:
        return StatutBilan.A_CORRIGER
    return StatutBilan.EN_RETARD if aujourd_hui > due_le else StatutBilan.ATTENDU


def is_late(*, aujourd_hui: date, due_le: date, recu: bool) -> bool:
    """Past the due date and no complete bilan yet (what the reminders follow)."""
    return not recu and aujourd_hui > due_le
