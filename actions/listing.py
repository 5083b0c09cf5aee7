"""What the SA reads: dossiers and waiting dépôts as plain data (no Prefect, read-only)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.appel import Appel
from models.courriel import Courriel
from models.dossier import Depot, DepotStatut, Dossier


def list_dossiers(session: Session, annee: int, storage_root: str) -> list[dict[str, Any]]:
    """One object per dossier, then one per dépôt waiting to be tied to a porteur."""
    appel = session.scalar(select(Appel).where(Appel.annee == annee))
    if appel is None:
        return []
    mails = {c.cle: c for c in session.scalars(select(Courriel).where(Courriel.appel_id == appel.id))}
    dossiers = session.scalars(
        select(Dossier).where(Dossier.appel_id == appel.id).order_by(Dossier.seq)
        .options(selectinload(Dossier.depots).selectinload(Depot.pieces), selectinload(Dossier.porteur))
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
        select(Depot).where(Depot.appel_id == appel.id, Depot.statut == DepotStatut.NON_IDENTIFIE)
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
