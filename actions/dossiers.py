"""Keeping a dossier's state in step with its dépôts, and allocating attestation numbers."""
from __future__ import annotations

from datetime import datetime, time, timezone
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from config.appel_config import AppelConfig
from models.adresse import single_address
from models.appel import Appel, attestation_numero, dossier_numero
from models.dossier import (
    RECEPTION,
    Attestation,
    Depot,
    Dossier,
    DossierStatut,
    NaturePiece,
    PieceVue,
    advance,
    assess_completeness,
    pieces_manquantes,
)
from models.porteur import Porteur
from francais.formats import format_datetime_paris

DECIDED = {DossierStatut.RETENU, DossierStatut.NON_RETENU}


def get_or_create_dossier(session: Session, appel: Appel, porteur: Porteur, recu_le: datetime) -> tuple[Dossier, bool]:
    """The porteur's dossier for this call, and whether it was just created.

    The row is locked until the caller commits: two dépôts of one porteur registered at once
    (PostgreSQL) then update the dossier one after the other, each seeing the other's dépôt."""
    if porteur.id is not None:  # a structure created by this transaction has no dossier yet
        dossier = session.scalar(
            select(Dossier).where(Dossier.appel_id == appel.id, Dossier.porteur_id == porteur.id)
            .with_for_update().execution_options(populate_existing=True)
        )
        if dossier is not None:
            return dossier, False
    seq = next_seq(session, Dossier, appel.id)
    dossier = Dossier(
        appel_id=appel.id, porteur=porteur, seq=seq, numero=dossier_numero(appel.annee, seq),
        statut=DossierStatut.INCOMPLET, canaux=[], pieces_manquantes=[], motifs=[],
        recu_le=recu_le, mis_a_jour_le=recu_le,
    )
    session.add(dossier)  # inserted by the caller's next flush, with the dépôt it files
    return dossier, True


def next_seq(session: Session, table: type, appel_id: int) -> int:
    """The call's next number in ``table`` (dossiers, attestations): one more than the rows stored and those this
    transaction added but not yet flushed, read without flushing them (a race on it: the commit conflicts)."""
    with session.no_autoflush:
        stored = session.scalar(_max_seq(table), {"appel": appel_id}) or 0
    pending = [o.seq for o in session.new if isinstance(o, table) and o.appel_id == appel_id]
    return max([stored, *pending]) + 1


@cache
def _max_seq(table: type) -> Select[Any]:
    """Built once per table: building a statement costs more than running it on SQLite."""
    return select(func.max(table.seq)).where(table.appel_id == bindparam("appel"))


def deadline_for(appel: Appel, dossier: Dossier | None) -> datetime:
    """The call's deadline, or for an ajourné dossier the end of the day its answer is due (Paris)."""
    if dossier is not None and dossier.reponse_avant is not None:  # set by an ajournement, cleared by a decision
        end = datetime.combine(dossier.reponse_avant, time(23, 59, 59), ZoneInfo(appel.config["appel"]["fuseau"]))
        return max(end.astimezone(timezone.utc), appel.date_limite)
    return appel.date_limite


def refresh_dossier(
    session: Session,
    dossier: Dossier,
    cfg: AppelConfig,
    maintenant: datetime,
    *,
    nouveau: bool = False,
    declencheur: Depot | None = None,
) -> None:
    """Recompute channels, completeness and reasons from every dépôt of the dossier.

    A new dossier takes its first state as it is; later changes follow the state machine."""
    if nouveau and declencheur is not None:  # its only dépôt, in hand: nothing to flush nor to read
        depots = [declencheur]
    else:
        session.flush()
        depots = list(session.scalars(select(Depot).where(Depot.dossier_id == dossier.id)
                                      .order_by(Depot.recu_le, Depot.id)))
    in_time = counted_depots(dossier, depots)
    formulaire = latest_form(in_time)
    referents = [
        (f"{r['prenom']} {r['nom']}".strip() or "référent sans nom", r["cv_fichier"])
        for r in (formulaire or {}).get("referents", [])
    ]
    pieces = [p for d in in_time for p in d.pieces]
    _mark_cvs(pieces, referents)
    result = assess_completeness(
        any_in_time=bool(in_time),
        canaux_recus=[d.canal.value for d in in_time],
        canaux_requis=cfg.commande.canaux_requis,
        formulaire_valide=formulaire is not None,
        formulaire_manquants=(formulaire or {}).get("champs_manquants", []),
        referents=referents,
        pieces=[PieceVue(p.nom, p.nature, p.acceptee, p.motif, p.referent) for p in pieces],
    )
    motifs: list[str] = []
    for d in depots:
        quand = format_datetime_paris(d.recu_le)
        if d.hors_delai:
            motifs.append(f"{d.canal.value} du {quand} reçu hors délai : conservé, non instruit")
        motifs.extend(f"{d.canal.value} du {quand} : {m}" for m in d.motifs)
        motifs.extend(f"pièce « {p.nom} » refusée : {p.motif}" for p in d.pieces if not p.acceptee)
    counts = declencheur is None or not declencheur.hors_delai or dossier.admis
    if nouveau:
        dossier.statut = result.statut
    elif dossier.statut in RECEPTION | {DossierStatut.HORS_DELAI} or (counts and dossier.statut not in DECIDED):
        # a dépôt that counts sends an instructed or ajourné dossier back to instruction
        dossier.statut = advance(dossier.statut, result.statut)
    dossier.canaux = result.canaux
    dossier.pieces_manquantes = result.manquants
    dossier.motifs = list(dict.fromkeys(motifs))
    dossier.recu_le = (in_time or depots)[0].recu_le
    dossier.mis_a_jour_le = maintenant


def counted_depots(dossier: Dossier, depots: list[Depot]) -> list[Depot]:
    """The dépôts that count: those in time, or all of them once the SA admitted a late dossier."""
    return [d for d in depots if not d.hors_delai or dossier.admis]


def latest_form(depots: list[Depot]) -> dict[str, Any] | None:
    """The most recent readable dossier de réponse among these dépôts (a complément may replace it)."""
    return next((d.formulaire for d in reversed(depots) if d.formulaire), None)


def _mark_cvs(pieces: list[Any], referents: list[tuple[str, str]]) -> None:
    wanted = {(cv or "").strip().lower(): nom for nom, cv in referents if cv}
    for p in pieces:
        if p.nature is NaturePiece.FORMULAIRE:
            continue
        nom = wanted.get(p.nom.lower())
        p.nature = NaturePiece.CV if nom else NaturePiece.AUTRE
        p.referent = nom[:200] if nom else None


def allocate_attestation(session: Session, appel: Appel, depot: Depot, dossier: Dossier, maintenant: datetime) -> Attestation:
    """Number the dépôt's attestation (gapless per call) and freeze what it states."""
    seq = next_seq(session, Attestation, appel.id)
    requis = appel.config["commande"]["canaux_requis"]
    attestation = Attestation(
        appel_id=appel.id, depot=depot, seq=seq, numero=attestation_numero(appel.annee, seq),
        emise_le=maintenant, contenu=attestation_snapshot(depot, dossier, requis, deadline_for(appel, dossier)),
    )
    session.add(attestation)  # inserted with the rest of the transaction (a race on its number: the commit conflicts)
    return attestation


def attestation_snapshot(depot: Depot, dossier: Dossier, canaux_requis: list[str], date_limite: datetime) -> dict[str, Any]:
    """What the attestation states, frozen: this dépôt, every dépôt of the dossier so far (channel, time, in time
    or not), the channels never received, and the missing pièces."""
    porteur = dossier.porteur
    depots = sorted({d.id: d for d in [*dossier.depots, depot]}.values(), key=lambda d: (d.recu_le, d.id))
    return {
        "dossier": dossier.numero,
        "porteur_nom": porteur.nom,
        "porteur_siret": porteur.siret,
        "porteur_adresse": porteur.adresse,
        "canal": depot.canal.value,
        "recu_le": depot.recu_le.isoformat(),
        "hors_delai": depot.hors_delai,
        "date_limite": date_limite.isoformat(),
        "canaux_recus": list(dossier.canaux),
        "recus": [{"canal": d.canal.value, "recu_le": d.recu_le.isoformat(), "hors_delai": d.hors_delai} for d in depots],
        "canaux_attendus": [c for c in canaux_requis if c not in {d.canal.value for d in depots}],
        "pieces": [
            {"nom": p.nom, "taille": p.taille, "sha256": p.sha256, "acceptee": p.acceptee, "motif": p.motif}
            for p in depot.pieces
        ],
        "manquants": pieces_manquantes(dossier.pieces_manquantes, canaux_requis),
        "rang": depot.rang or 1,
        "destinataires": contact_addresses(depot, dossier),
    }


def contact_addresses(depot: Depot, dossier: Dossier) -> list[str]:
    """Where the porteur's mail goes: the form's contact, else the sender, else the porteur's contact."""
    for candidate in ((depot.formulaire or {}).get("contact_email"), dossier.porteur.contact_email, depot.expediteur):
        if address := single_address(candidate):
            return [address]
    return []
