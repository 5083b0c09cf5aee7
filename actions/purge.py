"""The purge: what the retention rules allow on a day goes, and nothing held.

Two steps, so that a kill at any moment leaves rows and files consistent and a re-run finishes the work:

1. one transaction marks every file of every purgeable item (a ``fichier_purge`` row: its name, size and
   SHA-256, read before anything is deleted), anonymises those items' personal fields and the structures'
   contacts (``actions.anonymisation`` says what counts), journals each item, and commits;
2. then the bytes of each marked file are deleted and the deletion recorded, file by file. A file whose bytes
   another row still needs (storage is content-addressed: the same CV sent for two dossiers is one file) keeps
   them until that row is purged too.

A second run finds nothing new to mark and nothing left to delete.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from actions.anonymisation import anonymise_contacts, anonymise_dossiers, anonymise_loose
from actions.conservation import Regles, inventory, regles_du_fichier, stored_files
from adapters.database import retry_on_conflict, transaction
from adapters.journal import record
from adapters.storage import Storage
from francais.formats import PARIS, compte, format_date
from models.conservation import FichierPurge

log = logging.getLogger("aap.conservation")


@dataclass
class Simulation:
    jour: str                                           # the Paris day, in French
    purgeables: list[str] = field(default_factory=list)  # one French line per item that would go
    conserves: list[str] = field(default_factory=list)   # the others, with why they stay
    fichiers: list[tuple[str, int, str]] = field(default_factory=list)  # (nature, id, chemin) that would go
    contacts: list[str] = field(default_factory=list)    # structures (SIRET) whose contacts would go


@dataclass
class Purge:
    jour: str
    elements: list[str] = field(default_factory=list)    # one French line per item purged
    marques: list[tuple[str, int, str]] = field(default_factory=list)  # files marked by this run
    effaces: int = 0                                     # files whose bytes this run deleted
    partages: int = 0                                    # marked, bytes kept for a row still in force
    contacts: list[str] = field(default_factory=list)


def simulate(factory: sessionmaker[Session], storage: Storage, *, maintenant: datetime,
             regles: Regles = regles_du_fichier) -> Simulation:
    """What ``purge`` would do at ``maintenant``, and why; changes nothing."""
    jour = maintenant.astimezone(PARIS).date()
    with factory() as session:
        elements = inventory(session, storage, jour=jour, regles=regles)
    out = Simulation(format_date(jour))
    for e in elements:
        if e.purgeable(jour):
            out.purgeables.append(e.ligne(jour))
            out.fichiers += [f.cle for f in e.fichiers]
            if e.genre == "contacts":
                out.contacts.append(e.numero)
        else:
            out.conserves.append(e.ligne(jour))
    return out


def purge(factory: sessionmaker[Session], storage: Storage, *, maintenant: datetime, par: str | None = None,
          regles: Regles = regles_du_fichier) -> Purge:
    """Mark and anonymise what is purgeable at ``maintenant`` (one commit), then delete the marked bytes."""
    # two purges at once: the second's marks collide with the first's (unique per file) and it plans again
    report = retry_on_conflict(lambda: mark(factory, storage, maintenant=maintenant, par=par, regles=regles))
    report.effaces, report.partages = finish_deletions(factory, storage, maintenant=maintenant, par=par)
    return report


def mark(factory: sessionmaker[Session], storage: Storage, *, maintenant: datetime, par: str | None = None,
         regles: Regles = regles_du_fichier) -> Purge:
    """Step 1 alone, in one transaction: what a run killed right after its commit leaves behind."""
    jour = maintenant.astimezone(PARIS).date()
    report = Purge(format_date(jour))
    with transaction(factory) as session:
        for e in inventory(session, storage, jour=jour, regles=regles):
            if not e.purgeable(jour):
                continue
            report.elements.append(e.ligne(jour))
            if e.genre == "contacts":
                anonymise_contacts(session, e.porteur_id, maintenant)
                report.contacts.append(e.numero)
                record(session, "purge_contacts", f"Purge : {e.ligne(jour)}.", appel=e.annee,
                       donnees={"porteur": e.porteur_id, "siret": e.numero, "purge_le": maintenant.isoformat(),
                                "champs": ["contact_nom", "contact_email", "contact_telephone", "adresses connues"]},
                       utilisateur=par)
                continue
            fichiers = []
            for f in e.fichiers:
                empreinte = _taille_et_empreinte(storage, f.chemin, f.taille, f.sha256)
                session.add(FichierPurge(nature=f.nature, objet_id=f.objet_id, numero=e.numero, chemin=f.chemin,
                                         nom=f.nom, motif=e.conservation.raison, purge_le=maintenant, **empreinte))
                report.marques.append(f.cle)
                fichiers.append({"nature": f.nature, "id": f.objet_id, **empreinte})
            anonymise_dossiers(session, e.dossier_ids)
            anonymise_loose(session, depot_ids=e.depot_ids, bilan_ids=e.bilan_ids)
            record(session, "purge", f"Purge : {e.ligne(jour)}.", appel=e.annee, dossier=e.dossier,
                   convention=e.convention, donnees={"purge_le": maintenant.isoformat(), "motif": e.conservation.raison,
                                                     "fichiers": fichiers}, utilisateur=par)
    for line in report.elements:  # numbers and structures' names only: no personal data
        log.info("Purge : %s.", line)
    return report


def finish_deletions(factory: sessionmaker[Session], storage: Storage, *, maintenant: datetime,
                     par: str | None = None) -> tuple[int, int]:
    """Delete the bytes of every marked file not deleted yet (what a killed run left), unless a row still in
    force needs them. (deleted, kept because shared)."""
    with factory() as session:
        a_faire = list(session.scalars(select(FichierPurge).where(FichierPurge.efface_le.is_(None)).order_by(FichierPurge.id)))
        besoin = _still_needed(session, storage)
        session.expunge_all()
    effaces = partages = 0
    for row in a_faire:
        if row.chemin in besoin:
            partages += 1
            continue
        storage.path(row.chemin).unlink(missing_ok=True)
        with transaction(factory) as session:
            session.execute(update(FichierPurge).where(FichierPurge.id == row.id).values(efface_le=maintenant))
        effaces += 1
    if effaces:
        with transaction(factory) as session:
            record(session, "purge_effacement", f"Purge : octets de {compte(effaces, 'fichier marqué', 'fichiers marqués')} supprimés du stockage.",
                   donnees={"fichiers_purges": [r.id for r in a_faire if r.chemin not in besoin],
                            "efface_le": maintenant.isoformat()}, utilisateur=par)
    return effaces, partages


def _still_needed(session: Session, storage: Storage) -> set[str]:
    """The paths some row not marked still refers to."""
    marques = {tuple(r) for r in session.execute(select(FichierPurge.nature, FichierPurge.objet_id, FichierPurge.chemin))}
    return {f.chemin for f in stored_files(session, storage) if f.cle not in marques}


def _taille_et_empreinte(storage: Storage, chemin: str, taille: int | None, sha256: str | None) -> dict[str, object]:
    """What the row keeps of the file: known from intake, else read from the file (None if already gone)."""
    if taille is not None and sha256:
        return {"taille": taille, "sha256": sha256}
    path = storage.path(chemin)
    if not path.is_file():
        return {"taille": taille, "sha256": sha256}
    with Path(path).open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    return {"taille": path.stat().st_size, "sha256": digest}


def purged_file(session: Session, nature: str, objet_id: int, chemin: str) -> FichierPurge | None:
    """The purge's record of a file, when a purge removed it (the downloads say so)."""
    return session.scalar(select(FichierPurge).where(FichierPurge.nature == nature, FichierPurge.objet_id == objet_id,
                                                     FichierPurge.chemin == chemin, FichierPurge.efface_le.is_not(None)))


def message_purge(row: FichierPurge) -> str:
    return (f"fichier « {row.nom} » supprimé le {format_date((row.efface_le or row.purge_le).astimezone(PARIS).date())} au terme de sa durée "
            f"de conservation ({row.motif}) ; son nom, sa taille et son empreinte SHA-256 restent enregistrés")
