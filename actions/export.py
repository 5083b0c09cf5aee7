"""The call's export for the SA: every dossier with its state, dépôts, pièces, findings, decisions and mails."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from actions.appels import load_appel
from forms.tableur import Colonne, Feuille, write_tableur
from models.courriel import Courriel
from models.dossier import Depot, Dossier
from models.instruction import DecisionComite
from francais.formats import format_date

C = Colonne


def export_appel(session: Session, annee: int, path: Path, *, maintenant: datetime) -> Path:
    appel, _ = load_appel(session, annee)
    dossiers = list(session.scalars(
        select(Dossier).where(Dossier.appel_id == appel.id).order_by(Dossier.seq)
        .options(selectinload(Dossier.depots).selectinload(Depot.pieces), selectinload(Dossier.porteur))
    ))
    decisions: dict[int, list[DecisionComite]] = {}
    for dc in session.scalars(select(DecisionComite).join(Dossier, Dossier.id == DecisionComite.dossier_id)
                              .where(Dossier.appel_id == appel.id).order_by(DecisionComite.comite_le)):
        decisions.setdefault(dc.dossier_id, []).append(dc)
    numeros = {d.id: d.numero for d in dossiers}
    dossier_rows = []
    for d in dossiers:
        last = decisions.get(d.id, [None])[-1]
        dossier_rows.append((
            d.numero, d.porteur.nom, d.porteur.siret, d.statut.value, " + ".join(d.canaux), d.recu_le,
            all(dep.hors_delai for dep in d.depots), d.admission_motif if d.admis else None,
            len(d.depots), list(d.pieces_manquantes), list(d.motifs), d.avis,
            [f"[{c['gravite']}] {c['texte']}" for c in d.constats or []],
            last.decision.value if last else None, last.comite_le if last else None, last.motif if last else None,
            d.reponse_avant,
        ))
    piece_rows = [
        (d.numero, dep.canal.value, dep.recu_le, dep.hors_delai, p.nom, p.nature.value, p.taille, p.sha256,
         p.acceptee, p.motif)
        for d in dossiers for dep in d.depots for p in dep.pieces
    ]
    waiting = session.scalars(select(Depot).where(Depot.appel_id == appel.id, Depot.dossier_id.is_(None)).order_by(Depot.recu_le))
    waiting_rows = [(dep.id, dep.expediteur, dep.expediteur_nom, dep.recu_le, dep.hors_delai, list(dep.motifs)) for dep in waiting]
    mail_rows = [
        (numeros.get(c.dossier_id), c.cle, ", ".join(c.destinataires), c.sujet, c.statut.value, c.tentatives,
         c.envoye_le, c.erreur)
        for c in session.scalars(select(Courriel).where(Courriel.appel_id == appel.id).order_by(Courriel.id))
    ]
    return write_tableur(path, [
        Feuille("Dossiers", (
            C("N°", 10), C("Structure", 32), C("SIRET", 16), C("Statut", 12), C("Canaux", 18),
            C("Reçu le", 17, "datetime"), C("Hors délai", 10), C("Admis (motif)", 24), C("Dépôts", 8, "nombre"),
            C("Pièces manquantes", 40), C("Motifs", 50), C("Avis", 12), C("Constats", 60), C("Décision", 12),
            C("Comité du", 12, "date"), C("Motif ou questions", 40), C("Réponse attendue avant", 14, "date"),
        ), dossier_rows),
        Feuille("Pièces", (
            C("N° dossier", 10), C("Canal", 10), C("Reçu le", 17, "datetime"), C("Hors délai", 10), C("Pièce", 34),
            C("Nature", 12), C("Taille (octets)", 14, "nombre"), C("SHA-256", 66), C("Acceptée", 10), C("Motif", 50),
        ), piece_rows),
        Feuille("Dépôts non identifiés", (
            C("Dépôt", 8, "nombre"), C("Expéditeur", 30), C("Nom affiché", 30), C("Reçu le", 17, "datetime"),
            C("Hors délai", 10), C("Motifs", 60),
        ), waiting_rows),
        Feuille("Courriels", (
            C("N° dossier", 10), C("Clé", 34), C("Destinataires", 34), C("Objet", 50), C("Statut", 10),
            C("Tentatives", 10, "nombre"), C("Envoyé le", 17, "datetime"), C("Erreur", 50),
        ), mail_rows),
    ], titre=f"{appel.titre} — export du {format_date(maintenant)}")
