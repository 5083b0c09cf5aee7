"""What the retention rules say of every dossier, convention and structure today, and the holds that stop them.

``inventory`` reads the facts (statuses, comités, ends, payments, holds, stored files) and asks the rules of
``models.conservation`` when each item may go; ``aap purge --simulation`` prints it, ``actions.purge`` carries
it out, the daily digest counts it. The durations are read from the call's TOML when the purge runs (a legal
period may change after the call was published: the file says the policy in force).
"""
from __future__ import annotations

import re

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from actions.appels import SaisieRefusee
from adapters.database import transaction
from adapters.journal import record
from adapters.storage import Storage
from config.appel_config import CONFIG_DIR, AppelConfig, ConservationRegles, load_appel_config
from francais.formats import PARIS, compte, format_date
from templates.attestation import format_siret
from models.appel import Appel
from models.conservation import (
    Blocage, Conservation, FichierPurge, contacts_conservation, convention_conservation, dossier_conservation, hold_on,
    loose_conservation,
)
from models.convention import Avenant, Convention, fin_en_vigueur
from models.dossier import Attestation, Depot, Dossier, Piece, Reception
from models.instruction import DecisionComite, Instruction
from models.porteur import Porteur
from models.suivi import Bilan, Echeance

Regles = Callable[[int], ConservationRegles | None]
NUMERO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,29}")  # what a dossier's or convention's number may look like


def regles_du_fichier(annee: int) -> ConservationRegles | None:
    """The durations in force for a call: its TOML's ``[conservation]`` (None: no file, or no such table)."""
    if not (CONFIG_DIR / f"{annee}.toml").is_file():
        return None
    return load_appel_config(annee).conservation


@dataclass(frozen=True)
class FichierRef:
    """One stored file of an item, as the row that records it names it (``nature`` as the downloads do)."""

    nature: str
    objet_id: int
    chemin: str
    nom: str
    taille: int | None = None
    sha256: str | None = None

    @property
    def cle(self) -> tuple[str, int, str]:
        return self.nature, self.objet_id, self.chemin


@dataclass
class Element:
    """A dossier not retained, a convention (with its dossier) or a structure's contacts, and what the rules say."""

    genre: str                      # "dossier", "convention", "contacts"
    numero: str                     # the dossier's or convention's number, the structure's SIRET for contacts
    libelle: str                    # French, without personal data: « Dossier 2018-003 (Structure) »
    conservation: Conservation
    bloque: str | None = None       # the hold that keeps it whole, in French
    fichiers: list[FichierRef] = field(default_factory=list)  # still stored (not yet purged)
    dossier_ids: list[int] = field(default_factory=list)
    depot_ids: list[int] = field(default_factory=list)   # dépôts tied to no dossier
    bilan_ids: list[int] = field(default_factory=list)   # bilans tied to no échéance
    porteur_id: int | None = None
    annee: int | None = None                 # the call (of its latest dossier, for contacts)
    dossier: str | None = None               # the numbers the journal files it under
    convention: str | None = None

    def purgeable(self, jour: date) -> bool:
        return self.bloque is None and self.conservation.purgeable(jour)

    def ligne(self, jour: date) -> str:
        """One French line for the SA: what, why, from when."""
        c = self.conservation
        if self.bloque:
            quand = f"conservé : {self.bloque}"
        elif c.depuis is None:
            quand = "conservé"
        elif c.depuis <= jour:
            quand = f"purgeable depuis le {format_date(c.depuis)}"
        else:
            quand = f"purgeable à partir du {format_date(c.depuis)}"
        if self.genre != "contacts":
            quoi = compte(len(self.fichiers), "fichier", "fichiers")
        else:
            quoi = "contacts à anonymiser" if self.purgeable(jour) else "contacts"
        return f"{self.libelle} — {c.raison} — {quand} ({quoi})"


def inventory(session: Session, storage: Storage, *, jour: date, regles: Regles = regles_du_fichier) -> list[Element]:
    """Every item not purged yet, with the rule's verdict on ``jour`` (a Paris day) and its hold, if any."""
    blocages = {b.numero: b.motif for b in session.scalars(select(Blocage).where(Blocage.debloque_le.is_(None)))}
    marques = {tuple(r) for r in session.execute(select(FichierPurge.nature, FichierPurge.objet_id, FichierPurge.chemin))}
    durees = _Durees(session, regles)
    conventions = {c.dossier_id: c for c in session.scalars(select(Convention))}
    elements: list[Element] = []
    par_porteur: dict[int, list[tuple[Dossier, Convention | None, Conservation]]] = {}
    gardes: dict[int, str] = {}  # structures whose contacts stay with a convention still kept
    for d in session.scalars(select(Dossier).order_by(Dossier.numero)):
        c = conventions.get(d.id)
        r = durees.of(d.appel_id)
        nom = d.porteur.nom
        numeros = {d.numero} | ({c.numero} if c is not None else set())
        if r is None:
            verdict = Conservation(None, f"l'appel {durees.annee(d.appel_id)} ne fixe pas de durées de conservation "
                                         "([conservation] absent de sa configuration)")
        elif c is None:
            verdict = dossier_conservation(statut=d.statut, examine_le=durees.examine_le(session, d),
                                           reponse_avant=d.reponse_avant, a_une_convention=False, jour=jour,
                                           annees=r.non_retenus_annees)
        else:
            verdict = convention_conservation(
                cofinancee_fse=_cofinancee_fse(c), fin=fin_en_vigueur(c, jour), dernier_paiement_le=c.dernier_paiement_le,
                jour=jour, fse_annees=r.fse_annees, sans_fse_annees=r.sans_fse_annees)
        par_porteur.setdefault(d.porteur_id, []).append((d, c, verdict))
        fichiers = dossier_files(session, storage, d)
        if c is not None:
            fichiers += convention_files(session, storage, c)
        fichiers = [f for f in fichiers if f.cle not in marques]
        if not fichiers:
            continue  # purged already (or nothing stored)
        genre, numero, libelle = (("dossier", d.numero, f"Dossier {d.numero} ({nom})") if c is None else
                                  ("convention", c.numero, f"Convention {c.numero} et dossier {d.numero} ({nom})"))
        if c is not None and not verdict.purgeable(jour):
            gardes.setdefault(d.porteur_id, f"conservés avec la convention {c.numero} ({verdict.raison})")
        elements.append(Element(genre, numero, libelle, verdict, hold_on(numeros, blocages), fichiers, [d.id],
                                porteur_id=d.porteur_id, annee=durees.annee(d.appel_id), dossier=d.numero,
                                convention=c.numero if c is not None else None))
    elements += _loose(session, storage, jour=jour, durees=durees, marques=marques)
    for porteur in session.scalars(select(Porteur).where(Porteur.anonymise_le.is_(None)).order_by(Porteur.id)):
        suivis = par_porteur.get(porteur.id, [])
        dernier_appel = max((d.appel_id for d, _, _ in suivis), default=None)
        r = durees.of(dernier_appel)
        libelle = f"Contacts de {porteur.nom}" + (f" (SIRET {format_siret(porteur.siret)})" if porteur.siret else "")
        if r is None:
            verdict = Conservation(None, "aucun appel ne fixe de durée de conservation pour cette structure")
        else:
            verdict = contacts_conservation(garde=_en_cours(suivis) or gardes.get(porteur.id),
                                            derniere_activite=_derniere_activite(session, suivis, jour),
                                            annees=r.contacts_annees)
        numeros = {d.numero for d, _, _ in suivis} | {c.numero for _, c, _ in suivis if c is not None}
        elements.append(Element("contacts", porteur.siret or f"structure {porteur.id}", libelle, verdict,
                                hold_on(numeros, blocages), [], [d.id for d, _, _ in suivis], porteur_id=porteur.id,
                                annee=durees.annee(dernier_appel) if dernier_appel is not None else None))
    return elements


def _loose(session: Session, storage: Storage, *, jour: date, durees: "_Durees",
           marques: set[tuple[str, int, str]]) -> list[Element]:
    """The dépôts tied to no dossier and the bilans tied to no convention's échéance (waiting, or rejected)."""
    out: list[Element] = []
    par_depot = loose_depot_files(session)
    for depot in session.scalars(select(Depot).where(Depot.dossier_id.is_(None)).order_by(Depot.id)):
        fichiers = [f for f in par_depot.get(depot.id, []) if f.cle not in marques]
        if not fichiers:
            continue
        r = durees.of(depot.appel_id)
        quoi = f"dépôt {depot.statut.value} sans dossier"
        verdict = (Conservation(None, f"l'appel {durees.annee(depot.appel_id)} ne fixe pas de durées de conservation")
                   if r is None else loose_conservation(quoi=quoi, recu_le=depot.recu_le.astimezone(PARIS).date(),
                                                        comite=durees.comite(depot.appel_id), annees=r.non_retenus_annees))
        out.append(Element("depot", f"dépôt {depot.id}", f"Dépôt n° {depot.id} ({depot.canal.value})", verdict,
                           fichiers=fichiers, depot_ids=[depot.id], annee=durees.annee(depot.appel_id)))
    for bilan in session.scalars(select(Bilan).where(Bilan.echeance_id.is_(None)).order_by(Bilan.id)):
        fichiers = [f for f in loose_bilan_files(session, storage, bilan) if f.cle not in marques]
        if not fichiers:
            continue
        r = durees.of(bilan.appel_id)
        etat = bilan.verification.value if bilan.verification is not None else "non identifié"
        verdict = (Conservation(None, f"l'appel {durees.annee(bilan.appel_id)} ne fixe pas de durées de conservation")
                   if r is None else loose_conservation(quoi=f"bilan {etat} sans convention",
                                                        recu_le=bilan.recu_le.astimezone(PARIS).date(),
                                                        comite=durees.comite(bilan.appel_id), annees=r.non_retenus_annees))
        out.append(Element("bilan", bilan.numero, f"Bilan {bilan.numero}", verdict, fichiers=fichiers,
                           bilan_ids=[bilan.id], annee=durees.annee(bilan.appel_id)))
    return out


class _Durees:
    """Each call's durations and comité date, read once."""

    def __init__(self, session: Session, regles: Regles) -> None:
        self.appels = {a.id: a for a in session.scalars(select(Appel))}
        self.cache: dict[int, ConservationRegles | None] = {}
        self.regles = regles

    def annee(self, appel_id: int) -> int:
        return self.appels[appel_id].annee

    def of(self, appel_id: int | None) -> ConservationRegles | None:
        if appel_id is None:
            return None
        if appel_id not in self.cache:
            self.cache[appel_id] = self.regles(self.annee(appel_id))
        return self.cache[appel_id]

    def comite(self, appel_id: int) -> date:
        return AppelConfig.model_validate(self.appels[appel_id].config).calendrier.comite

    def examine_le(self, session: Session, d: Dossier) -> date:
        """The last comité that decided on the dossier, else the call's comité."""
        decided = session.scalar(select(DecisionComite.comite_le).where(DecisionComite.dossier_id == d.id)
                                 .order_by(DecisionComite.comite_le.desc()).limit(1))
        return decided or self.comite(d.appel_id)


def _cofinancee_fse(c: Convention) -> bool:
    amounts = [c.ressources_fse, *(Decimal(str(a.etat.get("ressources_fse") or 0)) for a in c.avenants)]
    return any(m is not None and m > 0 for m in amounts)


def _en_cours(suivis: list[tuple[Dossier, Convention | None, Conservation]]) -> str | None:
    """Which dossier or convention of a structure is still in progress, in French (None: none)."""
    for d, c, verdict in suivis:
        if verdict.en_cours:
            return f"{'convention ' + c.numero if c is not None else 'dossier ' + d.numero} : {verdict.raison}"
    return None


def _derniere_activite(session: Session, suivis: list[tuple[Dossier, Convention | None, Conservation]],
                       jour: date) -> date | None:
    """The structure's last exchange with the PLIE: a dépôt, a decision, a convention's end, a bilan."""
    days: list[date] = []
    for d, c, _ in suivis:
        days.append(d.mis_a_jour_le.astimezone(PARIS).date())
        if c is not None:
            days.append(fin_en_vigueur(c, jour))
            days += [b.astimezone(PARIS).date() for b in session.scalars(
                select(Bilan.recu_le).join(Echeance, Bilan.echeance_id == Echeance.id).where(Echeance.convention_id == c.id))]
    return max(days, default=None)


# --- the stored files of an item ---------------------------------------------------------------


def dossier_files(session: Session, storage: Storage, d: Dossier) -> list[FichierRef]:
    """The pièces of its dépôts, the messages that brought them, its attestations, notes and letters."""
    out: list[FichierRef] = []
    depot_ids = list(session.scalars(select(Depot.id).where(Depot.dossier_id == d.id)))
    for p in session.scalars(select(Piece).where(Piece.depot_id.in_(depot_ids)).order_by(Piece.id)):
        out.append(FichierRef("piece", p.id, p.chemin, p.nom, p.taille, p.sha256))
    for r in session.scalars(select(Reception).where(Reception.depot_id.in_(depot_ids)).order_by(Reception.id)):
        out.append(FichierRef("message", r.id, r.chemin, Path(r.chemin).name, r.taille, r.sha256))
    for a in session.scalars(select(Attestation).where(Attestation.depot_id.in_(depot_ids)).order_by(Attestation.id)):
        out += document_files(storage, "attestation", a.id, a.chemin)
    for i in session.scalars(select(Instruction).where(Instruction.dossier_id == d.id).order_by(Instruction.id)):
        out += document_files(storage, "note", i.id, i.note_chemin)
    for dc in session.scalars(select(DecisionComite).where(DecisionComite.dossier_id == d.id).order_by(DecisionComite.id)):
        out += document_files(storage, "lettre", dc.id, dc.lettre_chemin)
    return out


def convention_files(session: Session, storage: Storage, c: Convention) -> list[FichierRef]:
    """The convention and its avenants, the bilan forms sent, the bilans received (message, pièces, receipt),
    the blank fiches de présence written for it."""
    out = document_files(storage, "convention", c.id, c.chemin)
    for a in session.scalars(select(Avenant).where(Avenant.convention_id == c.id).order_by(Avenant.id)):
        out += document_files(storage, "avenant", a.id, a.chemin)
    for e in session.scalars(select(Echeance).where(Echeance.convention_id == c.id).order_by(Echeance.id)):
        out += document_files(storage, "formulaire_bilan", e.id, e.formulaire_chemin)
        for b in e.bilans:
            for p in b.pieces:
                if p.get("chemin"):
                    out.append(FichierRef("piece_bilan", b.id, p["chemin"], p.get("nom") or Path(p["chemin"]).name,
                                          p.get("taille"), p.get("sha256")))
            for r in session.scalars(select(Reception).where(Reception.bilan_id == b.id).order_by(Reception.id)):
                out.append(FichierRef("message", r.id, r.chemin, Path(r.chemin).name, r.taille, r.sha256))
            out += document_files(storage, "accuse", b.id, b.accuse_chemin)
    fiches = storage.path(f"fiches_presence/{c.numero}")
    if fiches.is_dir():
        for f in sorted(fiches.iterdir()):
            if f.is_file():
                out.append(FichierRef("fiche_presence", c.id, str(f.relative_to(storage.root)), f.name))
    return out


def loose_depot_files(session: Session) -> dict[int, list[FichierRef]]:
    """The files of every dépôt tied to no dossier, by dépôt, in two queries (a mailbox may leave thousands)."""
    loose = select(Depot.id).where(Depot.dossier_id.is_(None))
    out: dict[int, list[FichierRef]] = {}
    for p in session.execute(select(Piece.depot_id, Piece.id, Piece.chemin, Piece.nom, Piece.taille, Piece.sha256)
                             .where(Piece.depot_id.in_(loose)).order_by(Piece.id)):
        out.setdefault(p.depot_id, []).append(FichierRef("piece", p.id, p.chemin, p.nom, p.taille, p.sha256))
    for r in session.execute(select(Reception.depot_id, Reception.id, Reception.chemin, Reception.taille, Reception.sha256)
                             .where(Reception.depot_id.in_(loose)).order_by(Reception.id)):
        out.setdefault(r.depot_id, []).append(FichierRef("message", r.id, r.chemin, Path(r.chemin).name, r.taille, r.sha256))
    return out


def loose_bilan_files(session: Session, storage: Storage, b: Bilan) -> list[FichierRef]:
    out = [FichierRef("piece_bilan", b.id, p["chemin"], p.get("nom") or Path(p["chemin"]).name, p.get("taille"),
                      p.get("sha256")) for p in b.pieces if p.get("chemin")]
    for r in session.scalars(select(Reception).where(Reception.bilan_id == b.id).order_by(Reception.id)):
        out.append(FichierRef("message", r.id, r.chemin, Path(r.chemin).name, r.taille, r.sha256))
    return out + document_files(storage, "accuse", b.id, b.accuse_chemin)


def stored_files(session: Session, storage: Storage) -> list[FichierRef]:
    """Every stored file some row records (what a deletion must check no other row still needs)."""
    out: list[FichierRef] = []
    for d in session.scalars(select(Dossier)):
        out += dossier_files(session, storage, d)
    for c in session.scalars(select(Convention)):
        out += convention_files(session, storage, c)
    for fichiers in loose_depot_files(session).values():
        out += fichiers
    for b in session.scalars(select(Bilan).where(Bilan.echeance_id.is_(None))):
        out += loose_bilan_files(session, storage, b)
    return out


def document_files(storage: Storage, nature: str, objet_id: int, chemin: str | None) -> list[FichierRef]:
    """A produced document, with the .docx it was converted from when it is recorded as a PDF."""
    if not chemin or Path(chemin).is_absolute():
        return []
    out = [FichierRef(nature, objet_id, chemin, Path(chemin).name)]
    if chemin.lower().endswith(".pdf"):
        source = str(Path(chemin).with_suffix(".docx"))
        if storage.path(source).is_file():
            out.append(FichierRef(nature, objet_id, source, Path(source).name))
    return out


# --- holds and payments --------------------------------------------------------------------------


def _known(session: Session, numero: str) -> str:
    """« le dossier 2018-003 » or « la convention CONV-2018-001 », or a French refusal."""
    numero = (numero or "").strip()
    if not NUMERO.fullmatch(numero):
        raise SaisieRefusee("numéro mal formé : attendu un numéro de dossier (2018-003) ou de convention (CONV-2018-001)")
    if session.scalar(select(Dossier.id).where(Dossier.numero == numero)) is not None:
        return f"le dossier {numero}"
    if session.scalar(select(Convention.id).where(Convention.numero == numero)) is not None:
        return f"la convention {numero}"
    raise SaisieRefusee(f"aucun dossier ni convention n° « {numero} »")


def _phrase(quoi: str) -> str:
    return quoi[0].upper() + quoi[1:]


def _accord(quoi: str, participe: str) -> str:
    """« bloqué » for a dossier, « bloquée » for a convention."""
    return participe + "e" if quoi.startswith("la ") else participe


def hold(factory: sessionmaker[Session], numero: str, *, motif: str, par: str, maintenant: datetime) -> str:
    """Keep a dossier or convention whole (an audit, a dispute) until it is released."""
    motif = " ".join((motif or "").split())
    if not motif:
        raise SaisieRefusee("indiquez le motif du blocage (--motif TEXTE) : un contrôle, un litige…")
    if len(motif) > 1000:
        raise SaisieRefusee("motif trop long (1 000 caractères au plus)")
    numero = (numero or "").strip()
    try:
        with transaction(factory) as session:
            quoi = _known(session, numero)
            existing = session.scalar(select(Blocage).where(Blocage.numero == numero, Blocage.debloque_le.is_(None)))
            if existing is not None:
                raise SaisieRefusee(f"{quoi} est déjà {_accord(quoi, 'bloqué')} depuis le {format_date(existing.bloque_le.astimezone(PARIS).date())} "
                                    f"(motif : {existing.motif})")
            session.add(Blocage(numero=numero, motif=motif, bloque_par=par[:100], bloque_le=maintenant))
            record(session, "conservation_blocage", f"{_phrase(quoi)} {_accord(quoi, 'bloqué')} : aucune purge n'y touchera.",
                   **_sujet(session, numero), donnees={"numero": numero, "bloque_le": maintenant.isoformat(), "par": par[:100]})
    except IntegrityError as exc:  # another process held it at the same moment
        raise SaisieRefusee(f"{numero} vient d'être bloqué par ailleurs : rien n'a changé") from exc
    return f"{_phrase(quoi)} est {_accord(quoi, 'bloqué')} : aucune purge n'y touchera (motif : {motif})"


def release(factory: sessionmaker[Session], numero: str, *, par: str, maintenant: datetime) -> str:
    numero = (numero or "").strip()
    with transaction(factory) as session:
        quoi = _known(session, numero)
        existing = session.scalar(select(Blocage).where(Blocage.numero == numero, Blocage.debloque_le.is_(None)))
        if existing is None:
            raise SaisieRefusee(f"{quoi} n'est pas {_accord(quoi, 'bloqué')}")
        existing.debloque_le, existing.debloque_par = maintenant, par[:100]
        record(session, "conservation_deblocage", f"{_phrase(quoi)} {_accord(quoi, 'débloqué')}.", **_sujet(session, numero),
               donnees={"numero": numero, "blocage": existing.id, "debloque_le": maintenant.isoformat(), "par": par[:100]})
    return f"{_phrase(quoi)} est {_accord(quoi, 'débloqué')} : ses durées de conservation s'appliquent de nouveau"


def record_payment(factory: sessionmaker[Session], numero: str, *, le: date) -> str:
    """The last payment made to a convention's porteur: from its year runs the FSE retention period."""
    numero = (numero or "").strip()
    if not NUMERO.fullmatch(numero):
        raise SaisieRefusee("numéro mal formé : attendu un numéro de convention (CONV-2018-001)")
    with transaction(factory) as session:
        c = session.scalar(select(Convention).where(Convention.numero == numero))
        if c is None:
            raise SaisieRefusee(f"aucune convention n° « {numero} »")
        if le < c.debut:
            raise SaisieRefusee(f"un paiement le {format_date(le)} précéderait le début de la convention "
                                f"({format_date(c.debut)})")
        c.dernier_paiement_le = le
        record(session, "convention_dernier_paiement", f"Convention {c.numero} : dernier paiement le {format_date(le)}.",
               appel=session.get(Appel, c.appel_id).annee, dossier=c.dossier.numero, convention=c.numero,
               donnees={"convention": c.id, "dernier_paiement_le": le.isoformat()})
    return f"Dernier paiement de la convention {c.numero} enregistré : le {format_date(le)}"


def _sujet(session: Session, numero: str) -> dict[str, object]:
    """The journal's appel, dossier and convention for a number held or released."""
    d = session.scalar(select(Dossier).where(Dossier.numero == numero))
    c = session.scalar(select(Convention).where(Convention.numero == numero))
    if c is not None:
        d = c.dossier
    elif d is not None:
        c = session.scalar(select(Convention).where(Convention.dossier_id == d.id))
    return {"appel": session.get(Appel, d.appel_id).annee if d is not None else None,
            "dossier": d.numero if d is not None else None, "convention": c.numero if c is not None else None}


def active_holds(session: Session) -> list[Blocage]:
    return list(session.scalars(select(Blocage).where(Blocage.debloque_le.is_(None)).order_by(Blocage.numero)))
