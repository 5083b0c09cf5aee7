"""Returned bilan forms: tied to their convention and period, checked, numbered, acknowledged."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from actions.documents import DocumentSpec, produce
from actions.porteurs import notify_held, remember_addresses, speaks_for
from adapters.database import retry_on_conflict, transaction
from adapters.library_errors import french_detail
from adapters.mailbox import IncomingMessage
from adapters.storage import Storage
from forms.xlsx_safety import FormulaireIllisible
from francais.formats import compte
from models.appel import Appel
from models.bilan import check_bilan
from models.convention import Convention
from models.dossier import Reception
from models.porteur import EXPEDITEUR_INCONNU, normalize_address
from models.suivi import Bilan, Echeance, NatureEcheance, Verification
from templates.accuse_bilan import AccuseBilanData, accuse_context

log = logging.getLogger("aap.bilans")


def register_bilan(
    factory: sessionmaker[Session], storage: Storage, appel_id: int, msg: IncomingMessage, raw: bytes, index: int, *,
    maintenant: datetime,
) -> str:
    raw_stored = storage.put_blob("messages", raw, ".eml")
    pieces = []
    for a in msg.attachments:
        extension = a.filename.rsplit(".", 1)[-1].lower() if "." in a.filename else ""
        stored = storage.put_blob("suivi", a.content, f".{extension}" if extension else "")
        pieces.append({"nom": a.filename, "taille": stored.taille, "sha256": stored.sha256, "chemin": stored.chemin})
    form = msg.attachments[index]
    from forms.bilan import read_bilan_form  # here: a relève without bilans does not load openpyxl

    try:
        lu = read_bilan_form(form.content, filename=form.filename)
    except FormulaireIllisible as exc:
        lu, erreurs = None, [f"formulaire de bilan illisible : {exc.motif}"]
    except Exception as exc:  # a hostile workbook may break the reader in ways it does not name
        lu, erreurs = None, [f"formulaire de bilan illisible : {french_detail(exc)}"]
    else:
        erreurs = check_bilan(lu, fichiers_recus={p["nom"] for p in pieces})
    # the same bilan: what its form says and its files, from the same sender (the same Message-ID when unreadable)
    expediteur = normalize_address(msg.sender_address)
    cle = bilan_key(lu, pieces, index, f"{msg.message_id or raw_stored.sha256}\n{expediteur}", expediteur)

    def record() -> tuple[str, str | None]:
        with transaction(factory) as session:
            if session.scalar(select(Reception.id).where(Reception.appel_id == appel_id, Reception.sha256 == raw_stored.sha256)):
                return "deja_vu", None
            existing = session.scalar(select(Bilan).where(Bilan.cle == cle).limit(1))
            bilan = existing
            line = f"Bilan {existing.numero} reçu à nouveau : rien de nouveau." if existing is not None else None
            if bilan is None:
                echeance = session.scalar(select(Echeance).where(Echeance.jeton == lu.jeton)) if lu else None
                problems = list(erreurs)
                if lu is not None and echeance is None:
                    problems.insert(0, f"formulaire de bilan non reconnu (référence « {lu.jeton} ») : "
                                       "en attente de rattachement par l'assistante")
                convention = session.get(Convention, echeance.convention_id) if echeance else None
                porteur = convention.dossier.porteur if convention else None
                held = porteur is not None and not speaks_for(session, porteur, msg.sender_address)
                if held:  # a bilan reference is no proof of identity
                    problems.insert(0, EXPEDITEUR_INCONNU)
                # numbered under its convention's call (a renewed 2018 convention keeps its 2018 numbers)
                owner = convention.appel_id if convention else appel_id
                appel = session.get(Appel, owner)
                seq = (session.scalar(select(func.max(Bilan.seq)).where(Bilan.appel_id == owner)) or 0) + 1
                bilan = Bilan(
                    appel_id=owner, echeance_id=echeance.id if echeance and not held else None, seq=seq,
                    numero=f"BIL-{appel.annee}-{seq:04d}", cle=cle, jeton_lu=lu.jeton[:100] if lu else None,
                    recu_le=msg.received_at, expediteur=(msg.sender_address or "")[:254] or None,
                    contenu=_json(asdict(lu)) if lu else None, pieces=pieces, erreurs=problems,
                    conforme=echeance is not None and not problems, enregistre_le=maintenant,
                    verification=Verification.A_VERIFIER if held else None,
                )
                session.add(bilan)
                session.flush()
                if held:
                    notify_held(session, porteur, reference=f"convention {convention.numero}", recu_le=bilan.recu_le,
                                objet=f"bilan:{bilan.numero}", maintenant=maintenant, appel_id=owner, bilan=True)
                line = bilan_line(bilan, echeance, convention, porteur.nom if porteur else None, held=held)
            session.add(Reception(appel_id=appel_id, sha256=raw_stored.sha256, source=msg.source.name[:500],
                                  taille=raw_stored.taille, chemin=raw_stored.chemin, depot_id=None, bilan_id=bilan.id,
                                  doublon=existing is not None, recu_le=msg.received_at))
            return "doublon" if existing is not None else "bilan", line

    outcome, line = retry_on_conflict(record)
    if line is not None:
        log.info(line)
    return outcome


def bilan_line(bilan: Bilan, echeance: Echeance | None, convention: Convention | None, structure: str | None, *,
               held: bool) -> str:
    """The log's French line for a bilan received, from what is in hand."""
    quoi = f"Bilan {bilan.numero} reçu"
    if held:
        return f"{quoi} à vérifier : expéditeur inconnu pour cette structure ({structure}, convention {convention.numero})."
    if echeance is None:
        return f"{quoi} non rattaché : formulaire illisible ou non reconnu, en attente de l'assistante."
    etat = "conforme" if bilan.conforme else f"à corriger ({compte(len(bilan.erreurs), 'erreur', 'erreurs')})"
    return (f"{quoi} : convention {convention.numero} ({structure}), bilan {echeance.nature.value} "
            f"{echeance.periode_debut.year}, {etat}.")


def bilan_key(lu: Any, pieces: list[dict[str, Any]], index: int, message: str, expediteur: str | None) -> str:
    """What makes a bilan the same one: what its form says and the files sent with it, from the same sender,
    whatever the message (the same form sent again in a new mail, or filled again the same way, is one bilan);
    an unreadable form falls back to its message."""
    if lu is None:
        return hashlib.sha256(message.encode()).hexdigest()
    autres = sorted(p["sha256"] for i, p in enumerate(pieces) if i != index)
    contenu = {"bilan": _json(asdict(lu)), "pieces": autres, "expediteur": expediteur}
    return hashlib.sha256(json.dumps(contenu, sort_keys=True).encode()).hexdigest()


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


ACCUSE = DocumentSpec(
    nature="accuse_bilan", modele="accuse_bilan.docx", chemin=Bilan.accuse_chemin,
    a_faire=lambda: select(Bilan).where(  # nothing goes back for a bilan held or rejected by the SA
        Bilan.accuse_chemin.is_(None),
        or_(Bilan.verification.is_(None), Bilan.verification == Verification.CONFIRME)).order_by(Bilan.id),
    dossier=lambda b: "suivi/accuses", fichier=lambda b, data: b.numero,
    donnees=lambda session, b: accuse_data(session, b), contexte=accuse_context,
    notification="accuse_bilan", quand=lambda b, data: b.enregistre_le,
    journal=lambda b, data: f"Accusé de réception du bilan {b.numero} rédigé (convention {data.convention_numero}).",
    logger="aap.bilans",
)


def render_pending_accuses(factory: sessionmaker[Session], storage: Storage, *, pdf: bool) -> int:
    """The numbered receipt of each bilan without one, mailed back with the errors to fix, if any."""
    return len(produce(factory, storage, ACCUSE, pdf=pdf).produits)


def accuse_data(session: Session, b: Bilan) -> AccuseBilanData:
    e = b.echeance
    convention = session.get(Convention, e.convention_id) if e else None
    return AccuseBilanData(
        numero=b.numero, convention_numero=convention.numero if convention else (b.jeton_lu or "inconnue"),
        periode=(e.nature.value if e else NatureEcheance.MI_PARCOURS.value),
        periode_debut=e.periode_debut if e else b.recu_le.date(), periode_fin=e.periode_fin if e else b.recu_le.date(),
        porteur_nom=convention.dossier.porteur.nom if convention else (b.expediteur or "structure inconnue"),
        recu_le=b.recu_le, pieces=tuple((p["nom"], p["taille"], p["sha256"]) for p in b.pieces),
        erreurs=tuple(b.erreurs), emis_le=b.enregistre_le,
    )


def _waiting_bilan(session: Session, numero: str) -> Bilan:
    from actions.appels import SaisieRefusee

    bilan = session.scalar(select(Bilan).where(Bilan.numero == numero.strip().upper()).with_for_update())
    if bilan is None:
        raise SaisieRefusee(f"aucun bilan n° {numero}")
    return bilan


def confirm_bilan(factory: sessionmaker[Session], numero: str, *, maintenant: datetime) -> Bilan:
    """The SA confirms that a bilan held « à vérifier » comes from its convention's structure: it joins its
    échéance, is checked and acknowledged like any other, and its sender becomes a known address."""
    from actions.appels import SaisieRefusee

    def record() -> Bilan:
        with transaction(factory) as session:
            bilan = _waiting_bilan(session, numero)
            if bilan.verification is not Verification.A_VERIFIER:
                raise SaisieRefusee(f"le bilan n° {bilan.numero} n'est pas à vérifier")
            echeance = session.scalar(select(Echeance).where(Echeance.jeton == bilan.jeton_lu))
            bilan.echeance_id, bilan.verification = echeance.id, Verification.CONFIRME
            bilan.erreurs = [e for e in bilan.erreurs if e != EXPEDITEUR_INCONNU]
            bilan.conforme = not bilan.erreurs
            remember_addresses(session, session.get(Convention, echeance.convention_id).dossier.porteur, [bilan.expediteur])
            return bilan

    bilan = retry_on_conflict(record)
    log.info("Bilan %s confirmé par l'assistante : %s.", bilan.numero,
             "conforme" if bilan.conforme else compte(len(bilan.erreurs), "erreur à corriger", "erreurs à corriger"))
    return bilan


def reject_bilan(factory: sessionmaker[Session], numero: str, *, motif: str, maintenant: datetime) -> Bilan:
    """The SA refuses a waiting bilan (à vérifier or not tied to any convention): kept, with her reason."""
    from actions.appels import SaisieRefusee
    from francais.formats import format_datetime_paris

    motif = " ".join((motif or "").split())[:500]
    if not motif:
        raise SaisieRefusee("indiquez le motif du rejet (--motif)")

    def record() -> Bilan:
        with transaction(factory) as session:
            bilan = _waiting_bilan(session, numero)
            if bilan.echeance_id is not None or bilan.verification is Verification.REJETE:
                raise SaisieRefusee(f"le bilan n° {bilan.numero} n'est pas en attente")
            bilan.verification = Verification.REJETE
            bilan.erreurs = [*bilan.erreurs, f"rejeté par l'assistante le {format_datetime_paris(maintenant)} : {motif}"]
            return bilan

    bilan = retry_on_conflict(record)
    log.info("Bilan %s rejeté par l'assistante (motif conservé sur le bilan).", bilan.numero)
    return bilan
