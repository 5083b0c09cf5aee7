"""What the back office reads: the tableau de bord, a page of dossiers, one dossier whole, the échéancier and
the files a page may offer for download. Read-only, plain data; the pages only lay it out."""
from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from actions.conventions import final_bilans_received
from actions.appels import SaisieRefusee
from actions.listing import waiting_queue
from config.appel_config import AppelConfig
from models.appel import Appel
from models.comite import Comite
from models.convention import Avenant, Convention, ConventionStatut, fin_en_vigueur, next_action
from models.courriel import STATUT_LIBELLES, Courriel, CourrielStatut, nature_of
from models.dossier import EN_ATTENTE, Attestation, Depot, DepotStatut, Dossier, DossierStatut, Piece
from models.instruction import DecisionComite, Instruction
from models.suivi import Bilan, Echeance, StatutBilan, statut_bilan

PAR_PAGE = 50
DECISIONS = ("retenu", "non retenu", "ajourné")


def database_ready(session: Session) -> None:
    """Raises unless the database answers (the back office's /sante)."""
    session.execute(select(1))


def appel_years(session: Session) -> list[int]:
    """The published calls, newest first (the back office's menu)."""
    return list(session.scalars(select(Appel.annee).order_by(Appel.annee.desc())))


# --- tableau de bord --------------------------------------------------------------------------


def dashboard(session: Session, *, aujourd_hui: date) -> dict[str, Any]:
    """Each call with its calendar and its dossiers counted by state, then what waits for the SA."""
    appels = []
    for appel in session.scalars(select(Appel).order_by(Appel.annee.desc())):
        cfg = AppelConfig.model_validate(appel.config)
        counts = dict(session.execute(select(Dossier.statut, func.count()).where(Dossier.appel_id == appel.id)
                                      .group_by(Dossier.statut)).all())
        comites = sorted({cfg.calendrier.comite, *session.scalars(
            select(Comite.comite_le).where(Comite.appel_id == appel.id))})
        queue = waiting_queue(session, appel.annee)

        def n(statut: DossierStatut, *conditions: Any) -> int:
            return session.scalar(select(func.count()).select_from(Dossier).where(
                Dossier.appel_id == appel.id, Dossier.statut == statut, *conditions))

        appels.append({
            "annee": appel.annee, "titre": appel.titre, "publie_le": appel.publie_le, "date_limite": appel.date_limite,
            "comites": comites, "debut_convention": cfg.calendrier.debut_convention,
            "total": sum(counts.values()),
            "par_statut": [(s.value, counts.get(s, 0)) for s in DossierStatut],
            "a_traiter": [
                ("dépôts non identifiés", sum(e["statut"] == "non identifié" for e in queue), "depots-en-attente"),
                ("dépôts ou bilans à vérifier", sum(e["statut"] == "à vérifier" for e in queue), "depots-en-attente"),
                ("dossiers incomplets", n(DossierStatut.INCOMPLET), "dossiers?statut=incomplet"),
                ("dossiers hors délai à admettre ou non", n(DossierStatut.HORS_DELAI, Dossier.admis.is_(False)),
                 "dossiers?statut=hors+d%C3%A9lai"),
                ("décisions du comité à enregistrer", n(DossierStatut.INSTRUIT), "comite"),
            ],
        })
    conventions = list(session.scalars(select(Convention).options(selectinload(Convention.avenants))))
    finals = final_bilans_received(session)
    a_signer = sum(c.statut is ConventionStatut.A_SIGNER for c in conventions) + sum(
        1 for c in conventions for a in c.avenants if a.signe_le is None)
    fin_proche = sum(1 for c in conventions if next_action(c, aujourd_hui, bilan_final_recu=(c.id, fin_en_vigueur(
        c, aujourd_hui)) in finals) == "bilan final à obtenir")
    bilans = echeancier(session, aujourd_hui=aujourd_hui)
    mails = dict(session.execute(select(Courriel.statut, func.count()).group_by(Courriel.statut)).all())
    return {
        "appels": appels,
        "a_traiter": [
            ("conventions ou avenants à signer", a_signer, "/conventions"),
            ("conventions échues, bilan final à obtenir", fin_proche, "/conventions"),
            ("bilans en retard", sum(e["statut"] == StatutBilan.EN_RETARD.value for e in bilans), "/echeancier"),
            ("bilans à corriger", sum(e["statut"] == StatutBilan.A_CORRIGER.value for e in bilans), "/echeancier"),
            ("courriels en échec", mails.get(CourrielStatut.FAILED, 0), "/courriels?statut=en-echec"),
            ("courriels en attente d'envoi", mails.get(CourrielStatut.PENDING, 0), "/courriels?statut=en-attente"),
        ],
    }


# --- dossiers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filtres:
    """The list's filters, as the SA chose them (empty: all)."""

    statut: str = ""
    canal: str = ""
    hors_delai: str = ""  # "oui", "non" or ""
    avis: str = ""
    decision: str = ""  # a decision, "aucune" or ""
    recherche: str = ""  # a name or a SIRET, or part of one


def search_dossiers(session: Session, annee: int, filtres: Filtres, *, page: int = 1,
                    par_page: int = PAR_PAGE) -> dict[str, Any]:
    """One page of the call's dossiers matching ``filtres``, by number, with the total count."""
    from models.porteur import Porteur

    appel = _appel(session, annee)
    query = select(Dossier).join(Porteur, Porteur.id == Dossier.porteur_id).where(Dossier.appel_id == appel.id)
    if filtres.statut:
        query = query.where(Dossier.statut == DossierStatut(filtres.statut))
    if filtres.canal:
        query = query.where(cast(Dossier.canaux, String).like(f'%"{filtres.canal}"%'))
    on_time = exists().where(Depot.dossier_id == Dossier.id, Depot.hors_delai.is_(False))
    if filtres.hors_delai == "oui":
        query = query.where(~on_time)
    elif filtres.hors_delai == "non":
        query = query.where(on_time)
    if filtres.avis:
        query = query.where(Dossier.avis == filtres.avis)
    if filtres.decision == "aucune":
        query = query.where(Dossier.statut.not_in([DossierStatut(d) for d in DECISIONS]))
    elif filtres.decision:
        query = query.where(Dossier.statut == DossierStatut(filtres.decision))
    if (text := " ".join(filtres.recherche.split())):
        digits = "".join(ch for ch in text if ch.isdigit())
        like = f"%{text.lower().replace('%', '').replace('_', '')}%"
        conditions = [func.lower(Porteur.nom).like(like), Dossier.numero.like(like)]
        if len(digits) >= 3 and len(digits) == len(text.replace(" ", "")):
            conditions.append(Porteur.siret.like(f"%{digits}%"))
        query = query.where(or_(*conditions))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // par_page))
    page = min(max(1, page), pages)
    rows = session.scalars(query.order_by(Dossier.seq).offset((page - 1) * par_page).limit(par_page)
                           .options(selectinload(Dossier.porteur), selectinload(Dossier.depots)))
    return {
        "total": total, "page": page, "pages": pages,
        "dossiers": [{
            "numero": d.numero, "porteur": d.porteur.nom, "siret": d.porteur.siret, "statut": d.statut.value,
            "canaux": list(d.canaux), "recu_le": d.recu_le, "hors_delai": all(dep.hors_delai for dep in d.depots),
            "avis": d.avis, "a_completer": len(d.pieces_manquantes),
        } for d in rows],
        "choix": {
            "statut": [s.value for s in DossierStatut], "canal": ["courriel", "courrier"],
            "avis": ["favorable", "réservé", "défavorable"], "decision": [*DECISIONS, "aucune"],
        },
    }


def dossier_detail(session: Session, annee: int, numero: str) -> dict[str, Any]:
    """Everything about one dossier: its structure, dépôts and pièces, attestations, instructions and notes,
    decisions and letters, conventions, and the mails about it with their delivery status."""
    appel = _appel(session, annee)
    d = session.scalar(select(Dossier).where(Dossier.appel_id == appel.id, Dossier.numero == numero).options(
        selectinload(Dossier.depots).selectinload(Depot.pieces), selectinload(Dossier.depots).selectinload(Depot.attestation),
        selectinload(Dossier.porteur)))
    if d is None:
        raise SaisieRefusee(f"dossier {numero} inconnu pour l'appel {annee}")
    p = d.porteur
    instructions = session.scalars(select(Instruction).where(Instruction.dossier_id == d.id).order_by(Instruction.version))
    decisions = session.scalars(select(DecisionComite).where(DecisionComite.dossier_id == d.id)
                                .order_by(DecisionComite.comite_le))
    convention = session.scalar(select(Convention).where(Convention.dossier_id == d.id))
    attestations = [dep.attestation for dep in d.depots if dep.attestation is not None]
    keys = [f"attestation:{a.numero}" for a in attestations]
    mails = session.scalars(select(Courriel).where(or_(Courriel.dossier_id == d.id, Courriel.cle.in_(keys) if keys else False))
                            .order_by(Courriel.id))
    from actions.journal import dossier_history

    _, journal = dossier_history(session, dossier=d.numero, convention=None)
    return {
        "journal": [{"entree": e.id, "moment": e.moment, "texte": e.texte, "utilisateur": e.utilisateur,
                     "empreinte": e.empreinte} for e in journal],
        "numero": d.numero, "annee": annee, "statut": d.statut.value, "canaux": list(d.canaux), "recu_le": d.recu_le,
        "hors_delai": all(dep.hors_delai for dep in d.depots), "admis": d.admis, "admission_motif": d.admission_motif,
        "pieces_manquantes": list(d.pieces_manquantes), "motifs": list(d.motifs), "avis": d.avis,
        "constats": list(d.constats or []), "reponse_avant": d.reponse_avant,
        "structure": {"nom": p.nom, "siret": p.siret, "adresse": p.adresse, "contact_nom": p.contact_nom,
                      "contact_email": p.contact_email, "contact_telephone": p.contact_telephone},
        "depots": [{
            "id": dep.id, "canal": dep.canal.value, "recu_le": dep.recu_le, "hors_delai": dep.hors_delai,
            "version": dep.rang, "statut": dep.statut.value, "motifs": list(dep.motifs),
            "attestation": dep.attestation.numero if dep.attestation else None,
            "pieces": [{"id": pc.id, "nom": pc.nom, "nature": pc.nature.value, "taille": pc.taille, "sha256": pc.sha256,
                        "acceptee": pc.acceptee, "motif": pc.motif} for pc in dep.pieces],
        } for dep in d.depots],
        "attestations": [{"id": a.id, "numero": a.numero, "emise_le": a.emise_le, "fichier": bool(a.chemin)}
                         for a in attestations],
        "instructions": [{"id": i.id, "version": i.version, "avis": i.avis.value, "instruit_le": i.instruit_le,
                          "note": bool(i.note_chemin)} for i in instructions],
        "decisions": [{"id": dc.id, "comite_le": dc.comite_le, "decision": dc.decision.value, "motif": dc.motif,
                       "reponse_avant": dc.reponse_avant, "lettre": bool(dc.lettre_chemin)} for dc in decisions],
        "convention": convention.numero if convention else None,
        "courriels": [{"id": c.id, "nature": nature_of(c.cle), "sujet": c.sujet, "statut": STATUT_LIBELLES[c.statut],
                       "erreur": c.erreur, "cree_le": c.cree_le, "envoye_le": c.envoye_le,
                       "destinataires": list(c.destinataires)} for c in mails],
    }


def waiting_entries(session: Session, annee: int) -> list[dict[str, Any]]:
    """The queue (``actions.listing.waiting_queue``) with each dépôt's pièces, for the SA to look at before she acts."""
    _appel(session, annee)
    entries = waiting_queue(session, annee)
    ids = [e["depot"] for e in entries if e["depot"] is not None]
    pieces: dict[int, list[dict[str, Any]]] = {}
    if ids:
        for pc in session.scalars(select(Piece).where(Piece.depot_id.in_(ids)).order_by(Piece.id)):
            pieces.setdefault(pc.depot_id, []).append({"id": pc.id, "nom": pc.nom, "taille": pc.taille,
                                                       "acceptee": pc.acceptee, "motif": pc.motif})
    for e in entries:
        e["reference"] = str(e["depot"]) if e["depot"] is not None else e["bilan"]
        e["pieces"] = pieces.get(e["depot"], [])
        e["recu_le"] = datetime.fromisoformat(e["recu_le"])
    return entries


def comites(session: Session, annee: int) -> list[dict[str, Any]]:
    """The comités' packs of the call, newest first, each with what can be downloaded."""
    from actions.comite import bundle_path

    appel = _appel(session, annee)
    return [{"id": c.id, "comite_le": c.comite_le, "dossiers": list(c.dossiers), "prepare_le": c.prepare_le,
             "recueil": bundle_path(Path(c.synthese_chemin)).is_file()}
            for c in session.scalars(select(Comite).where(Comite.appel_id == appel.id)
                                     .order_by(Comite.comite_le.desc(), Comite.id.desc()))]


def convention_detail(session: Session, numero: str, *, aujourd_hui: date) -> dict[str, Any]:
    """``actions.conventions.convention_history`` with the documents' ids and the échéances of the convention."""
    from actions.conventions import convention_history

    row = convention_history(session, numero, aujourd_hui=aujourd_hui)
    c = session.scalar(select(Convention).where(Convention.numero == numero))
    row["id"] = c.id
    row["annee"] = session.get(Appel, c.appel_id).annee
    avenants = {a.numero: a for a in c.avenants}
    for h in row["historique"]:
        a = avenants.get(h["numero"])
        h["telecharger"] = ("avenant", a.id) if a is not None and a.chemin else (
            ("convention", c.id) if a is None and c.chemin else None)
    row["echeances"] = echeancier(session, aujourd_hui=aujourd_hui, convention_id=c.id)
    return row


def echeancier(session: Session, *, aujourd_hui: date, convention_id: int | None = None) -> list[dict[str, Any]]:
    """Every échéance of every convention (or of one), by due date, with its status on ``aujourd_hui``
    (``statut_bilan``)."""
    rows = []
    query = select(Echeance).order_by(Echeance.due_le, Echeance.id)
    if convention_id is not None:
        query = query.where(Echeance.convention_id == convention_id)
    query = query.options(
        selectinload(Echeance.bilans), selectinload(Echeance.convention).selectinload(Convention.dossier)
        .selectinload(Dossier.porteur))
    for e in session.scalars(query):
        statut = statut_bilan(aujourd_hui=aujourd_hui, due_le=e.due_le, accepte=any(b.conforme for b in e.bilans),
                              recu_avec_erreurs=bool(e.bilans))
        rows.append({
            "convention": e.convention.numero, "porteur": e.convention.dossier.porteur.nom, "nature": e.nature.value,
            "periode_debut": e.periode_debut, "periode_fin": e.periode_fin, "due_le": e.due_le,
            "demande_le": e.demande_le, "relances": len(e.relances or []), "statut": statut.value,
            "bilans": [{"numero": b.numero, "recu_le": b.recu_le, "conforme": b.conforme, "erreurs": list(b.erreurs)}
                       for b in e.bilans],
        })
    return rows


# --- downloads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fichier:
    chemin: Path
    nom: str
    type_mime: str


def stored_file(session: Session, storage_root: Path, nature: str, ident: int) -> Fichier:
    """The file behind a download id the server chose (a pièce, an attestation, a note, a letter, a convention,
    an avenant, a comité's workbook or bundle): its path looked up here, never taken from the request."""
    from actions.comite import bundle_path

    root = Path(storage_root).resolve()
    lookups = {
        "piece": (Piece, lambda r: (r.chemin, r.nom)),
        "attestation": (Attestation, lambda r: (r.chemin, f"attestation_{r.numero}")),
        "note": (Instruction, lambda r: (r.note_chemin, f"note_instruction_v{r.version}")),
        "lettre": (DecisionComite, lambda r: (r.lettre_chemin, f"lettre_decision_{r.comite_le.isoformat()}")),
        "convention": (Convention, lambda r: (r.chemin, r.numero)),
        "avenant": (Avenant, lambda r: (r.chemin, r.numero)),
        "synthese": (Comite, lambda r: (r.synthese_chemin, Path(r.synthese_chemin).name)),
        "recueil": (Comite, lambda r: (str(bundle_path(Path(r.synthese_chemin))),
                                       bundle_path(Path(r.synthese_chemin)).name)),
    }
    if nature not in lookups:
        raise FichierIntrouvable()
    model, where = lookups[nature]
    row = session.get(model, ident)
    if row is None:
        raise FichierIntrouvable()
    chemin, nom = where(row)
    if not chemin:
        raise FichierIntrouvable()
    path = Path(chemin) if Path(chemin).is_absolute() else root / chemin
    if not path.is_file():
        from actions.purge import message_purge, purged_file

        purged = purged_file(session, nature, ident, chemin)
        if purged is not None:
            raise FichierSupprime(message_purge(purged)[0].upper() + message_purge(purged)[1:] + ".")
        raise FichierIntrouvable()
    suffix = path.suffix.lower()
    if not nom.lower().endswith(suffix):
        nom = f"{nom}{suffix}"
    return Fichier(path, nom, mimetypes.guess_type(f"x{suffix}")[0] or "application/octet-stream")


class FichierIntrouvable(Exception):
    """No such download (unknown id, or its file is gone): the page answers 404 and says no more."""


class FichierSupprime(Exception):
    """The file was removed by a purge: ``str(exc)`` says so in French, with the day and the reason."""


def _appel(session: Session, annee: int) -> Appel:
    appel = session.scalar(select(Appel).where(Appel.annee == annee))
    if appel is None:
        raise SaisieRefusee(f"l'appel {annee} n'est pas publié")
    return appel


__all__ = ["EN_ATTENTE", "DepotStatut", "Bilan", "Filtres", "dashboard", "search_dossiers", "dossier_detail",
           "waiting_entries", "comites", "convention_detail", "echeancier", "stored_file", "FichierIntrouvable", "FichierSupprime"]
