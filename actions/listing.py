"""What the SA reads: dossiers and waiting dépôts as plain data (no Prefect, read-only)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from models.appel import Appel
from models.courriel import Courriel
from models.dossier import EN_ATTENTE, NON_IDENTIFIE, Depot, DepotStatut, Dossier
from models.porteur import EXPEDITEUR_INCONNU, Porteur, normalize_siret
from models.suivi import Bilan, Verification
from francais.formats import format_datetime_paris


def list_dossiers(session: Session, annee: int, storage_root: str) -> list[dict[str, Any]]:
    """One object per dossier, then one per dépôt waiting for the SA (non identifié or à vérifier)."""
    appel = session.scalar(select(Appel).where(Appel.annee == annee))
    if appel is None:
        return []
    mails = {c.cle: c for c in session.scalars(select(Courriel).where(Courriel.appel_id == appel.id))}
    dossiers = session.scalars(
        select(Dossier).where(Dossier.appel_id == appel.id).order_by(Dossier.seq)
        .options(selectinload(Dossier.depots).options(selectinload(Depot.pieces), selectinload(Depot.attestation)),
                 selectinload(Dossier.porteur))
    )
    rows: list[dict[str, Any]] = []
    for d in dossiers:
        attestations = [dep.attestation for dep in d.depots if dep.attestation is not None]
        rows.append({
            "numero": d.numero,
            "siret": d.porteur.siret,
            "porteur": d.porteur.nom,
            "statut": d.statut.value,
            "canaux": list(d.canaux),
            "recu_le": d.recu_le.isoformat(),
            "hors_delai": all(dep.hors_delai for dep in d.depots),
            "pieces_manquantes": list(d.pieces_manquantes),
            "motifs": list(d.motifs),
            "admis": d.admis,
            "avis": d.avis,
            "constats": [c["texte"] for c in d.constats or []],
            "decision": d.statut.value if d.statut.value in {"retenu", "non retenu", "ajourné"} else None,
            "reponse_avant": d.reponse_avant.isoformat() if d.reponse_avant else None,
            "depots": [
                {
                    "canal": dep.canal.value, "recu_le": dep.recu_le.isoformat(), "hors_delai": dep.hors_delai,
                    "version": dep.rang,
                    "pieces": [
                        {"nom": p.nom, "nature": p.nature.value, "taille": p.taille, "sha256": p.sha256,
                         "acceptee": p.acceptee, "motif": p.motif}
                        for p in dep.pieces
                    ],
                }
                for dep in d.depots
            ],
            "attestations": [f"{storage_root}/{a.chemin}" for a in attestations if a.chemin],
            "courriels": [
                {"numero": a.numero, "statut": mails[k].statut.value, "erreur": mails[k].erreur}
                for a in attestations if (k := f"attestation:{a.numero}") in mails
            ],
        })
    waiting = session.scalars(
        select(Depot).where(Depot.appel_id == appel.id, Depot.statut.in_(EN_ATTENTE))
        .order_by(Depot.recu_le).options(selectinload(Depot.pieces))
    )
    for dep in waiting:
        rows.append({
            "numero": None,
            "depot": dep.id,
            "siret": dep.siret_lu,
            "porteur": dep.expediteur_nom or dep.expediteur,
            "expediteur": dep.expediteur,
            "statut": dep.statut.value,
            "canaux": [dep.canal.value],
            "recu_le": dep.recu_le.isoformat(),
            "hors_delai": dep.hors_delai,
            "pieces_manquantes": [],
            "motifs": list(dep.motifs) + [f"pièce « {p.nom} » refusée : {p.motif}" for p in dep.pieces if not p.acceptee],
            "admis": False,
            "avis": None,
            "constats": [],
            "decision": None,
            "reponse_avant": None,
            "attestations": [],
        })
    return rows


def waiting_queue(session: Session, annee: int) -> list[dict[str, Any]]:
    """What waits for the SA, oldest first: dépôts non identifiés or à vérifier, and bilans that are not
    tied to a convention or come from an address not known for it; each with its reason."""
    appel = session.scalar(select(Appel).where(Appel.annee == annee))
    if appel is None:
        return []
    entries: list[dict[str, Any]] = []
    for dep in session.scalars(select(Depot).where(Depot.appel_id == appel.id, Depot.statut.in_(EN_ATTENTE))
                               .options(selectinload(Depot.pieces))):
        siret = normalize_siret(dep.siret_lu) if dep.siret_lu else None
        structure = session.scalar(select(Porteur.nom).where(Porteur.siret == siret)) if siret else None
        entries.append({
            "depot": dep.id, "bilan": None, "statut": dep.statut.value, "motif": _reason(dep.motifs),
            "siret": siret or dep.siret_lu, "porteur": structure, "expediteur": dep.expediteur,
            "recu_le": dep.recu_le.isoformat(), "hors_delai": dep.hors_delai,
            "motifs": list(dep.motifs) + [f"pièce « {p.nom} » refusée : {p.motif}" for p in dep.pieces if not p.acceptee],
        })
    for b in session.scalars(select(Bilan).where(Bilan.appel_id == appel.id, Bilan.echeance_id.is_(None))):
        if b.verification is Verification.REJETE:
            continue
        entries.append({
            "depot": None, "bilan": b.numero,
            "statut": "à vérifier" if b.verification is Verification.A_VERIFIER else "non identifié",
            "motif": b.erreurs[0] if b.erreurs else "bilan non rattaché à une convention",
            "siret": None, "porteur": None, "convention": b.jeton_lu, "expediteur": b.expediteur,
            "recu_le": b.recu_le.isoformat(), "hors_delai": False, "motifs": list(b.erreurs),
        })
    return sorted(entries, key=lambda e: e["recu_le"])


def _reason(motifs: list[str]) -> str:
    """Why it waits: the identity reason, whatever else was found."""
    for known in (EXPEDITEUR_INCONNU, NON_IDENTIFIE):
        if known in motifs:
            return known
    return motifs[-1] if motifs else NON_IDENTIFIE


def queue_lines(entries: list[dict[str, Any]]) -> list[str]:
    """One French line per waiting item, for the SA's daily digest."""
    lines = []
    for e in entries:
        what = f"dépôt n° {e['depot']}" if e["depot"] is not None else f"bilan n° {e['bilan']}"
        who = e["porteur"] or e.get("convention") or e["siret"] or "structure inconnue"
        lines.append(f"{what} ({e['statut']}) reçu le {format_datetime_paris(datetime.fromisoformat(e['recu_le']))} "
                     f"de {e['expediteur'] or 'expéditeur illisible'} pour {who} : {e['motif']}")
    return lines


def last_depot_id(session: Session, annee: int) -> int:
    """The highest dépôt id of the call so far (0 for none): a run's own dépôts are those above it."""
    return session.scalar(select(func.max(Depot.id)).join(Appel, Appel.id == Depot.appel_id)
                          .where(Appel.annee == annee)) or 0


def depots_since(session: Session, annee: int, after_id: int) -> list[dict[str, Any]]:
    """The dépôts a run registered (id above ``after_id``), for its table: numéro, structure, statut, hors
    délai, pièces manquantes ou motifs, attestation. No address: a structure is named by its name."""
    rows = []
    query = (select(Depot).join(Appel, Appel.id == Depot.appel_id).where(Appel.annee == annee, Depot.id > after_id)
             .order_by(Depot.id).options(selectinload(Depot.dossier).selectinload(Dossier.porteur),
                                         selectinload(Depot.attestation), selectinload(Depot.pieces)))
    for dep in session.scalars(query):
        dossier = dep.dossier
        notes = [*(dossier.pieces_manquantes if dossier else []), *dep.motifs,
                 *(f"pièce « {p.nom} » refusée : {p.motif}" for p in dep.pieces if not p.acceptee)]
        rows.append({
            "Dépôt": dep.id,
            "Dossier": dossier.numero if dossier else "—",
            "Structure": dossier.porteur.nom if dossier else (dep.expediteur_nom or "non identifiée"),
            "Statut": dossier.statut.value if dossier and dep.statut is DepotStatut.ENREGISTRE else dep.statut.value,
            "Hors délai": "oui" if dep.hors_delai else "non",
            "Attestation": dep.attestation.numero if dep.attestation else "—",
            "Pièces manquantes ou motifs": "; ".join(dict.fromkeys(notes)) or "—",  # the long one last: it fits a screen
        })
    return rows
