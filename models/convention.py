"""Conventions with the retained porteurs, their avenants, and the renewal limit."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from config.refus import Refus
from francais.formats import format_date
from models.base import Base, enum_column


class ConventionStatut(enum.Enum):
    A_SIGNER = "à signer"
    EN_COURS = "en cours"


class AvenantNature(enum.Enum):
    PROLONGATION = "prolongation"
    MODIFICATION = "modification"


class Convention(Base):
    __tablename__ = "convention"
    __table_args__ = (
        UniqueConstraint("appel_id", "seq"),
        # the renewal limit lives in the database too: no process can go past it
        CheckConstraint("renouvellements >= 0 AND renouvellements <= renouvellements_max", name="renouvellements_bornes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    appel_id: Mapped[int] = mapped_column(ForeignKey("appel.id"))
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), unique=True)
    seq: Mapped[int]
    numero: Mapped[str] = mapped_column(String(30), unique=True)
    statut: Mapped[ConventionStatut] = mapped_column(enum_column(ConventionStatut))
    debut: Mapped[date] = mapped_column(Date)
    fin: Mapped[date] = mapped_column(Date)
    renouvellements: Mapped[int] = mapped_column(default=0)
    renouvellements_max: Mapped[int]
    referents: Mapped[list[dict[str, Any]]]
    etp: Mapped[Decimal]
    budget_salaires: Mapped[Decimal]
    budget_deplacements: Mapped[Decimal]
    budget_autres: Mapped[Decimal]
    ressources_fse: Mapped[Decimal]
    ressources_plie: Mapped[Decimal]
    ressources_autres: Mapped[Decimal]
    etat_initial: Mapped[dict[str, Any]]  # référents and amounts as signed, before any avenant
    signee_le: Mapped[date | None] = mapped_column(Date)
    chemin: Mapped[str | None] = mapped_column(String(500))
    etablie_le: Mapped[datetime]
    dernier_paiement_le: Mapped[date | None] = mapped_column(Date)  # the last payment to the porteur (FSE retention)

    dossier = relationship("Dossier")
    avenants: Mapped[list["Avenant"]] = relationship(back_populates="convention", order_by="Avenant.ordre")


class Avenant(Base):
    __tablename__ = "avenant"
    __table_args__ = (
        UniqueConstraint("convention_id", "ordre"),
        UniqueConstraint("convention_id", "renouvellement"),  # one avenant per renewal rank, whoever races
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    convention_id: Mapped[int] = mapped_column(ForeignKey("convention.id"))
    ordre: Mapped[int]
    numero: Mapped[str] = mapped_column(String(40), unique=True)
    nature: Mapped[AvenantNature] = mapped_column(enum_column(AvenantNature))
    renouvellement: Mapped[int | None]
    valide_le: Mapped[date] = mapped_column(Date)
    instance: Mapped[str | None] = mapped_column(String(300))
    periode_debut: Mapped[date] = mapped_column(Date)
    periode_fin: Mapped[date] = mapped_column(Date)
    changements: Mapped[list[str]]
    etat: Mapped[dict[str, Any]]  # the convention's référents and amounts after this avenant
    signe_le: Mapped[date | None] = mapped_column(Date)
    chemin: Mapped[str | None] = mapped_column(String(500))
    etabli_le: Mapped[datetime]

    convention: Mapped[Convention] = relationship(back_populates="avenants")


# --- rules -------------------------------------------------------------------------------


class RenouvellementsEpuises(Refus):
    """A third renewal (or beyond the call's limit) is refused, naming the earlier avenants."""

    def __init__(self, numero: str, maximum: int, precedents: list[str]):
        self.numero, self.maximum, self.precedents = numero, maximum, precedents
        earlier = " et ".join(precedents) if precedents else "aucun avenant enregistré"
        super().__init__(
            f"la convention {numero} a déjà été renouvelée {maximum} fois ({earlier}) : "
            f"elle ne peut plus l'être ; la structure doit répondre à un nouvel appel à projets"
        )


class ConventionNonSignee(Refus):
    pass


class PeriodeDejaRenouvelee(Exception):
    """The year a renewal request would add is already covered: the request was done before, nothing changes."""

    def __init__(self, numero: str, periode: "Periode", precedent: str | None):
        self.numero, self.periode, self.precedent = numero, periode, precedent
        par = f" par l'{precedent}" if precedent else ""
        super().__init__(
            f"la convention {numero} est déjà renouvelée pour la période du {format_date(periode.debut)} "
            f"au {format_date(periode.fin)}{par} : rien n'a changé"
        )


class ConventionEchue(Refus):
    """A renewal validated after the convention's end cannot extend it."""


@dataclass(frozen=True)
class Periode:
    debut: date
    fin: date


def one_year_from(debut: date) -> Periode:
    """A one-year period: 1 January 2018 → 31 December 2018; 29 February 2020 → 28 February 2021
    (the next year then starts on 1 March, so renewals do not drift a day earlier each year)."""
    try:
        next_start = debut.replace(year=debut.year + 1)
    except ValueError:  # 29 February, and no 29th next year
        next_start = date(debut.year + 1, 3, 1)
    return Periode(debut, next_start - timedelta(days=1))


def year_renewed_by(debut: date, valide_le: date) -> Periode:
    """The year a renewal validated on ``valide_le`` adds: the one after the convention's year that contains
    ``valide_le`` (after the first year when it is validated before the convention starts)."""
    periode = one_year_from(debut)
    while periode.fin < valide_le:
        periode = one_year_from(periode.fin + timedelta(days=1))
    return one_year_from(periode.fin + timedelta(days=1))


def prolonger(
    *, numero: str, statut: ConventionStatut, debut: date, fin: date, renouvellements: int, renouvellements_max: int,
    precedents: list[str], valide_le: date, renouvelee_par: dict[date, str] | None = None,
) -> Periode:
    """The next year's period for a renewal validated on ``valide_le``, or why there cannot be one: a year is
    renewed once, so the same request again (a double click, a retry, two people at once) changes nothing.
    ``renouvelee_par`` names the avenant that renewed each year, by the year's first day."""
    if statut is not ConventionStatut.EN_COURS:
        raise ConventionNonSignee(f"la convention {numero} n'est pas signée : elle ne peut pas être renouvelée")
    annee = year_renewed_by(debut, valide_le)
    if annee.fin <= fin:
        raise PeriodeDejaRenouvelee(numero, annee, (renouvelee_par or {}).get(annee.debut))
    if valide_le > fin:
        raise ConventionEchue(f"la convention {numero} a pris fin le {format_date(fin)} : un renouvellement validé "
                              f"le {format_date(valide_le)} ne peut plus la prolonger")
    if renouvellements >= renouvellements_max:
        raise RenouvellementsEpuises(numero, renouvellements_max, precedents)
    return one_year_from(fin + timedelta(days=1))


def avenant_en_vigueur(a: Avenant, jour: date) -> bool:
    """An avenant counts from its signature, and not before the date it was validated for."""
    return a.signe_le is not None and jour >= max(a.signe_le, a.valide_le)


def etat_en_vigueur(c: Convention, jour: date) -> dict[str, Any]:
    """The référents, ETP and amounts in force on ``jour``: the convention as signed, then each modification
    avenant in force by then (an avenant still to sign changes nothing)."""
    etat = c.etat_initial
    for a in sorted(c.avenants, key=lambda a: a.ordre):
        if a.nature is AvenantNature.MODIFICATION and avenant_en_vigueur(a, jour):
            etat = a.etat
    return etat


def fin_en_vigueur(c: Convention, jour: date) -> date:
    """The last day the convention covers as known on ``jour``: its first year, extended by each renewal
    avenant signed by then."""
    fin = one_year_from(c.debut).fin
    for a in c.avenants:
        if a.nature is AvenantNature.PROLONGATION and a.signe_le is not None and a.signe_le <= jour:
            fin = max(fin, a.periode_fin)
    return fin


def avenants_a_signer(c: Convention) -> list[str]:
    return [a.numero for a in sorted(c.avenants, key=lambda a: a.ordre) if a.signe_le is None]


def statut_convention(c: Convention, jour: date, *, bilan_final_recu: bool) -> str:
    """What the convention is on ``jour``, in French: à signer, à venir, en cours, prolongée par avenant
    (in a renewed year), échue (with or without its final bilan)."""
    if c.signee_le is None or jour < c.signee_le:
        return "à signer"
    if jour < c.debut:
        return "à venir"
    if jour > fin_en_vigueur(c, jour):
        return "échue, bilan final reçu" if bilan_final_recu else "échue, bilan final non reçu"
    if jour > one_year_from(c.debut).fin:
        return "prolongée par avenant"
    return "en cours"


def next_action(c: Convention, jour: date, *, bilan_final_recu: bool) -> str:
    """What the SA has to do next with this convention on ``jour``, in French. « renouvelable » only while a
    renewal can still be decided: before the end of the period in force, with renewals left."""
    if c.signee_le is None or jour < c.signee_le:
        return "à signer"
    if jour > fin_en_vigueur(c, jour):
        return "aucune (convention échue)" if bilan_final_recu else "bilan final à obtenir"
    pending = avenants_a_signer(c)
    if pending:
        return f"avenant {pending[0]} à signer"
    if c.renouvellements >= c.renouvellements_max:
        return "nouvel appel requis"
    if c.renouvellements == c.renouvellements_max - 1:
        return "dernier renouvellement possible"
    return "renouvelable"


def requires_new_call(*, renouvellements: int, renouvellements_max: int, fin: date, publie_le: date,
                      nouveau_debut: date) -> bool:
    """A call published on ``publie_le`` for conventions starting ``nouveau_debut`` must tell this convention's
    porteur that only a new answer continues the action: it cannot be renewed any more, it is still running
    when the call is published, and it ends before the new call's conventions start."""
    return renouvellements >= renouvellements_max and publie_le <= fin < nouveau_debut
