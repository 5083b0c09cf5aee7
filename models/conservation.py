"""Retention of personal data (RGPD): holds, what a purge removed, and the rules saying from when an item may go.

An *item* is a dossier not retained (its pièces and the documents about it), a convention (everything about it,
its dossier included) or a structure's contacts. The rules are pure functions of the facts and of the day:
each returns a ``Conservation`` — the day from which the item may be purged (None: not while things stand)
and the French reason. Nothing here reads a clock, a session or a file.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import BigInteger, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from francais.formats import format_date
from models.base import Base
from models.dossier import DossierStatut


class Blocage(Base):
    """A hold on a dossier or a convention (an audit, a dispute): while it is not released, no purge touches
    the dossier, its convention, nor the structure's contacts. At most one hold in force per number."""

    __tablename__ = "conservation_blocage"
    __table_args__ = (
        Index("uq_conservation_blocage_en_vigueur", "numero", unique=True,
              sqlite_where=text("debloque_le IS NULL"), postgresql_where=text("debloque_le IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    numero: Mapped[str] = mapped_column(String(30))  # a dossier's (2018-003) or a convention's (CONV-2018-001)
    motif: Mapped[str] = mapped_column(String(1000))
    bloque_par: Mapped[str] = mapped_column(String(100))
    bloque_le: Mapped[datetime]
    debloque_par: Mapped[str | None] = mapped_column(String(100))
    debloque_le: Mapped[datetime | None]


class FichierPurge(Base):
    """One stored file a purge removed: which row it belonged to (``nature`` as the downloads name it, and the
    row's id), its name, size and SHA-256 (read before the bytes went), why, when it was marked (``purge_le``,
    committed before any deletion) and when its bytes were deleted (``efface_le``; None: still to do)."""

    __tablename__ = "fichier_purge"
    __table_args__ = (UniqueConstraint("nature", "objet_id", "chemin"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nature: Mapped[str] = mapped_column(String(30))
    objet_id: Mapped[int]
    numero: Mapped[str] = mapped_column(String(30), index=True)  # the dossier or convention purged
    chemin: Mapped[str] = mapped_column(String(500), index=True)
    nom: Mapped[str] = mapped_column(String(500))
    taille: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    motif: Mapped[str] = mapped_column(Text)
    purge_le: Mapped[datetime]
    efface_le: Mapped[datetime | None]


# --- rules -------------------------------------------------------------------------------

FSE_REFERENCE = "règlement (UE) 2021/1060, art. 82"


@dataclass(frozen=True)
class Conservation:
    """From which day an item may be purged (None: not while things stand) and why, in French; ``en_cours``:
    kept because the dossier or convention is still in progress (its structure's contacts are kept too)."""

    depuis: date | None
    raison: str
    en_cours: bool = False

    def purgeable(self, jour: date) -> bool:
        return self.depuis is not None and self.depuis <= jour


def years_after(d: date, annees: int) -> date:
    """The same day ``annees`` years later; 29 February → 1 March when that year has none."""
    try:
        return d.replace(year=d.year + annees)
    except ValueError:
        return date(d.year + annees, 3, 1)


def _ans(n: int) -> str:
    return "1 an" if n == 1 else f"{n} ans"


def dossier_conservation(*, statut: DossierStatut, examine_le: date, reponse_avant: date | None,
                         a_une_convention: bool, jour: date, annees: int) -> Conservation:
    """A dossier's pièces and documents. A retained dossier follows its convention; one not retained goes
    ``annees`` after the last comité that examined it (or after the day an ajourné one had to answer by)."""
    if a_une_convention:
        return Conservation(None, "dossier retenu : conservé avec sa convention")
    if statut is DossierStatut.RETENU:
        return Conservation(None, "dossier retenu, convention pas encore établie", en_cours=True)
    if examine_le >= jour:
        return Conservation(None, f"comité du {format_date(examine_le)} pas encore passé", en_cours=True)
    if statut is DossierStatut.AJOURNE:
        if reponse_avant is not None and reponse_avant >= jour:
            return Conservation(None, f"ajourné, réponse attendue avant le {format_date(reponse_avant)}", en_cours=True)
        depart = max(examine_le, reponse_avant or examine_le)
        quoi = f"ajourné au comité du {format_date(examine_le)}, sans suite"
    elif statut is DossierStatut.NON_RETENU:
        depart, quoi = examine_le, f"non retenu au comité du {format_date(examine_le)}"
    elif statut is DossierStatut.HORS_DELAI:
        depart, quoi = examine_le, f"reçu hors délai, non instruit (comité du {format_date(examine_le)})"
    else:
        depart, quoi = examine_le, f"non retenu (resté « {statut.value} » au comité du {format_date(examine_le)})"
    return Conservation(years_after(depart, annees), f"{quoi} ; pièces conservées {_ans(annees)}")


def convention_conservation(*, cofinancee_fse: bool, fin: date, dernier_paiement_le: date | None, jour: date,
                            fse_annees: int, sans_fse_annees: int) -> Conservation:
    """Everything about a convention. Co-funded by the FSE: until 31 December of the ``fse_annees``-th year after
    its last payment (règlement (UE) 2021/1060, art. 82), so not while that payment is not recorded; otherwise
    ``sans_fse_annees`` after the end of its last year. Never while it runs."""
    if jour <= fin:
        return Conservation(None, f"convention en cours (jusqu'au {format_date(fin)})", en_cours=True)
    if not cofinancee_fse:
        return Conservation(years_after(fin + timedelta(days=1), sans_fse_annees),
                            f"convention sans FSE terminée le {format_date(fin)} ; conservée {_ans(sans_fse_annees)}")
    if dernier_paiement_le is None:
        return Conservation(None, "convention cofinancée par le FSE : date du dernier paiement non enregistrée "
                                  "(aap conservation paiement NUMERO --le AAAA-MM-JJ)")
    jusqu_au = date(dernier_paiement_le.year + fse_annees, 12, 31)
    depuis = max(jusqu_au + timedelta(days=1), fin + timedelta(days=1))
    return Conservation(depuis, f"convention cofinancée par le FSE, dernier paiement le {format_date(dernier_paiement_le)} : "
                                f"conservée jusqu'au {format_date(jusqu_au)} ({FSE_REFERENCE})")


def contacts_conservation(*, garde: str | None, derniere_activite: date | None, annees: int) -> Conservation:
    """A structure's contacts: kept while it has a dossier or convention in progress, or a convention still kept
    (an audit of it may need to reach the structure) — ``garde`` says which —, then ``annees`` after its last
    exchange with the PLIE."""
    if garde:
        return Conservation(None, garde)
    if derniere_activite is None:
        return Conservation(None, "aucun dossier : date du dernier échange inconnue")
    return Conservation(years_after(derniere_activite, annees),
                        f"aucun dossier ni convention en cours ou conservé, dernier échange le "
                        f"{format_date(derniere_activite)} ; contacts conservés {_ans(annees)}")


def loose_conservation(*, quoi: str, recu_le: date, comite: date, annees: int) -> Conservation:
    """A dépôt or bilan tied to no dossier or convention (never identified, or rejected by the SA): it goes like
    the pièces of a dossier not retained, ``annees`` after the call's comité or after it arrived if later."""
    depart = max(recu_le, comite)
    return Conservation(years_after(depart, annees), f"{quoi}, reçu le {format_date(recu_le)} ; conservé {_ans(annees)}")


def hold_on(numeros: set[str], blocages: dict[str, str]) -> str | None:
    """The French reason an item is kept whole when one of its numbers (a dossier and its convention go
    together) is held, else None. ``blocages``: motif by number held."""
    for numero in sorted(numeros):
        if numero in blocages:
            return f"bloqué ({numero}) : {blocages[numero]}"
    return None
