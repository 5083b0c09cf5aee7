"""Dossiers, the dépôts that feed them, their pièces and attestations, and the rules about them."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Iterable

from sqlalchemy import BigInteger, Date, ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from config.refus import Refus
from francais.elision import de
from models.base import Base, Sha256, Texte, enum_column
from models.piece import NaturePiece, piece_motif  # noqa: F401 - the pièces' rules, without the ORM


class DossierStatut(enum.Enum):
    INCOMPLET = "incomplet"
    COMPLET = "complet"
    HORS_DELAI = "hors délai"
    INSTRUIT = "instruit"
    RETENU = "retenu"
    NON_RETENU = "non retenu"
    AJOURNE = "ajourné"


class Canal(enum.Enum):
    COURRIEL = "courriel"
    COURRIER = "courrier"


class DepotStatut(enum.Enum):
    ENREGISTRE = "enregistré"
    NON_IDENTIFIE = "non identifié"
    A_VERIFIER = "à vérifier"  # names a structure from an address not known for it: the SA decides
    REJETE = "rejeté"  # the SA refused it: kept, with the reason


EN_ATTENTE = (DepotStatut.NON_IDENTIFIE, DepotStatut.A_VERIFIER)  # the SA's queue
NON_IDENTIFIE = (
    "expéditeur inconnu et aucun SIRET valide dans un formulaire lisible : "
    "dépôt conservé, en attente de rattachement par l'assistante"
)
"""The motif of a dépôt no structure could be found for (the SA's queue says it)."""


_S = DossierStatut
RECEPTION = {_S.INCOMPLET, _S.COMPLET}
DECISIONS = {_S.RETENU, _S.NON_RETENU, _S.AJOURNE}
TRANSITIONS: dict[DossierStatut, set[DossierStatut]] = {
    _S.INCOMPLET: RECEPTION | {_S.INSTRUIT},
    _S.COMPLET: RECEPTION | {_S.INSTRUIT},
    _S.HORS_DELAI: RECEPTION | {_S.HORS_DELAI, _S.INSTRUIT},  # instructed only once the SA admitted it
    _S.INSTRUIT: RECEPTION | {_S.INSTRUIT} | DECISIONS,  # a complément sends it back to instruction
    _S.AJOURNE: RECEPTION | {_S.AJOURNE} | DECISIONS,  # the answer to the questions comes as a complément
    _S.RETENU: {_S.RETENU},
    _S.NON_RETENU: {_S.NON_RETENU},
}
UNDECIDED = {s for s in DossierStatut if s not in {_S.RETENU, _S.NON_RETENU}}


class TransitionInterdite(Refus):
    pass


def advance(current: DossierStatut, target: DossierStatut) -> DossierStatut:
    if target not in TRANSITIONS[current]:
        raise TransitionInterdite(f"passage de « {current.value} » à « {target.value} » interdit")
    return target


class Dossier(Base):
    __tablename__ = "dossier"
    __table_args__ = (UniqueConstraint("appel_id", "porteur_id"), UniqueConstraint("appel_id", "seq"))

    id: Mapped[int] = mapped_column(primary_key=True)
    appel_id: Mapped[int] = mapped_column(ForeignKey("appel.id"))
    porteur_id: Mapped[int] = mapped_column(ForeignKey("porteur.id"))
    seq: Mapped[int]
    numero: Mapped[str] = mapped_column(String(20), unique=True)
    statut: Mapped[DossierStatut] = mapped_column(enum_column(DossierStatut))
    canaux: Mapped[list[str]]
    pieces_manquantes: Mapped[list[str]]
    motifs: Mapped[list[str]]
    recu_le: Mapped[datetime]
    mis_a_jour_le: Mapped[datetime]
    admis: Mapped[bool] = mapped_column(default=False, server_default=false())
    admission_motif: Mapped[str | None] = mapped_column(String(1000))
    avis: Mapped[str | None] = mapped_column(String(20))
    constats: Mapped[list[dict[str, Any]] | None]
    reponse_avant: Mapped[date | None] = mapped_column(Date)

    porteur = relationship("Porteur")
    depots: Mapped[list["Depot"]] = relationship(back_populates="dossier", order_by="Depot.recu_le")


class Depot(Base):
    """One reception of (part of) a dossier, by e-mail or by post."""

    __tablename__ = "depot"
    # ``cle`` holds the sender: the same Message-ID from another sender is another dépôt. The same files are
    # a duplicate only from the same sender or structure, which ``actions.depots`` decides (no constraint).
    __table_args__ = (UniqueConstraint("appel_id", "cle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appel_id: Mapped[int] = mapped_column(ForeignKey("appel.id"))
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"))
    cle: Mapped[str] = mapped_column(String(300))
    empreinte_pieces: Mapped[str | None] = mapped_column(String(64), index=True)
    canal: Mapped[Canal] = mapped_column(enum_column(Canal))
    statut: Mapped[DepotStatut] = mapped_column(enum_column(DepotStatut))
    recu_le: Mapped[datetime]
    recu_source: Mapped[str] = mapped_column(String(20))
    hors_delai: Mapped[bool]
    rang: Mapped[int | None]
    message_id: Mapped[str | None] = mapped_column(String(300), index=True)
    expediteur: Mapped[str | None] = mapped_column(String(254))
    expediteur_nom: Mapped[str | None] = mapped_column(String(200))
    sujet: Mapped[str | None] = mapped_column(String(300))
    siret_lu: Mapped[str | None] = mapped_column(String(40))
    formulaire: Mapped[dict[str, Any] | None]
    motifs: Mapped[list[str]]
    enregistre_le: Mapped[datetime]

    dossier: Mapped[Dossier | None] = relationship(back_populates="depots")
    pieces: Mapped[list["Piece"]] = relationship(back_populates="depot", order_by="Piece.id")
    attestation: Mapped["Attestation | None"] = relationship(back_populates="depot")


class Reception(Base):
    """One received file (a message in the mailbox), whatever became of it: nothing is dropped."""

    __tablename__ = "reception"
    __table_args__ = (UniqueConstraint("appel_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appel_id: Mapped[int] = mapped_column(ForeignKey("appel.id"))
    sha256: Mapped[Sha256]
    source: Mapped[Texte]
    taille: Mapped[int]
    chemin: Mapped[Texte]
    depot_id: Mapped[int | None] = mapped_column(ForeignKey("depot.id"))  # None: a bilan (see bilan_id)
    bilan_id: Mapped[int | None] = mapped_column(ForeignKey("bilan.id"))
    doublon: Mapped[bool]
    recu_le: Mapped[datetime]



class FichierLu(Base):
    """A message file the intake has read, as the file system describes it: a later run skips a file whose
    name, size and modification time are unchanged without opening it. ``nom`` is the file's stable name
    (a Maildir name without its flags: the same in new/ and cur/)."""

    __tablename__ = "fichier_lu"
    __table_args__ = (UniqueConstraint("appel_id", "nom"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appel_id: Mapped[int] = mapped_column(ForeignKey("appel.id"))
    nom: Mapped[Texte]
    taille: Mapped[int] = mapped_column(BigInteger)
    modifie_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[Sha256]

class Piece(Base):
    __tablename__ = "piece"

    id: Mapped[int] = mapped_column(primary_key=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"))
    nom: Mapped[Texte]
    nom_origine: Mapped[str | None] = mapped_column(String(500))
    nature: Mapped[NaturePiece] = mapped_column(enum_column(NaturePiece))
    referent: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[Sha256]
    taille: Mapped[int]
    chemin: Mapped[Texte]
    acceptee: Mapped[bool]
    motif: Mapped[str | None] = mapped_column(String(500))

    depot: Mapped[Depot] = relationship(back_populates="pieces")


class Attestation(Base):
    __tablename__ = "attestation"
    __table_args__ = (UniqueConstraint("appel_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    appel_id: Mapped[int] = mapped_column(ForeignKey("appel.id"))
    depot_id: Mapped[int] = mapped_column(ForeignKey("depot.id"), unique=True)
    seq: Mapped[int]
    numero: Mapped[str] = mapped_column(String(20), unique=True)
    contenu: Mapped[dict[str, Any]]
    emise_le: Mapped[datetime]
    chemin: Mapped[str | None] = mapped_column(String(500))

    depot: Mapped[Depot] = relationship(back_populates="attestation")


# --- rules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PieceVue:
    """What the completeness rule needs to know of a pièce."""

    nom: str
    nature: NaturePiece
    acceptee: bool
    motif: str | None
    referent: str | None = None


@dataclass(frozen=True)
class Completude:
    statut: DossierStatut
    canaux: list[str]
    manquants: list[str]


def assess_completeness(
    *,
    any_in_time: bool,
    canaux_recus: Iterable[str],
    canaux_requis: Iterable[str],
    formulaire_valide: bool,
    formulaire_manquants: Iterable[str],
    referents: Iterable[tuple[str, str]],
    pieces: Iterable[PieceVue],
) -> Completude:
    """Is the dossier complete? ``referents`` are (display name, expected CV file name) pairs."""
    canaux = sorted(set(canaux_recus))
    if not any_in_time:
        return Completude(DossierStatut.HORS_DELAI, canaux, [AUCUN_DANS_LES_DELAIS])
    manquants: list[str] = []
    for canal in canaux_requis:
        if canal not in canaux:
            manquants.append(_canal_manquant(canal))
    if not formulaire_valide:
        manquants.append("dossier de réponse (formulaire Excel) absent ou illisible")
    else:
        manquants.extend(f"formulaire incomplet : {champ}" for champ in formulaire_manquants)
    pieces = list(pieces)
    for nom_referent, cv_fichier in referents:
        wanted = (cv_fichier or "").strip().lower()
        matches = [p for p in pieces if wanted and p.nom.lower() == wanted]
        if not wanted:
            manquants.append(f"CV {de(nom_referent)} : nom du fichier non indiqué dans le formulaire")
        elif not matches:
            manquants.append(f"CV {de(nom_referent)} manquant (fichier attendu : {cv_fichier})")
        elif not any(p.acceptee for p in matches):
            manquants.append(f"CV {de(nom_referent)} refusé : {matches[-1].motif}")
    statut = DossierStatut.COMPLET if not manquants else DossierStatut.INCOMPLET
    return Completude(statut, canaux, manquants)


AUCUN_DANS_LES_DELAIS = "aucun dépôt reçu dans les délais"


def pieces_manquantes(manquants: Iterable[str], canaux_requis: Iterable[str]) -> list[str]:
    """What is missing but the channels and the lateness (the attestation says those in its channels section)."""
    hors = {AUCUN_DANS_LES_DELAIS, *(_canal_manquant(c) for c in canaux_requis)}
    return [m for m in manquants if m not in hors]


def _canal_manquant(canal: str) -> str:
    return {
        "courriel": "envoi par courriel non reçu",
        "courrier": "envoi postal (courrier) non reçu",
    }.get(canal, f"envoi par {canal} non reçu")


