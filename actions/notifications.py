"""The one table of the mails the software sends: kind → template, recipients rule, idempotency key.

Every action queues its mail through ``notify``: the subject and body come from the kind's
template (``templates/mails/<modele>.txt.j2``), the key makes a second queueing a no-op,
the rule says who receives it, from the row the mail is about.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from actions.outbox import enqueue
from models.adresse import single_address
from models.convention import Convention
from models.courriel import Courriel
from models.dossier import Depot, Dossier
from models.porteur import Porteur
from models.suivi import Bilan
from templates.mails import render_mail


@dataclass(frozen=True)
class Notification:
    modele: str
    cle: Callable[..., str]  # (row, **details) -> the idempotency key
    destinataires: Callable[[Session, Any], list[str]]
    rattachement: Callable[[Session, Any], tuple[int | None, int | None]]  # (appel_id, dossier_id) of the row


def _contact(porteur: Porteur | None) -> list[str]:
    return [porteur.contact_email] if porteur is not None and porteur.contact_email else []


def _bilan_recipients(session: Session, b: Bilan) -> list[str]:
    """The convention's contact when the bilan is tied to one and it is one valid address, else whoever sent it."""
    if b.echeance is not None:
        contact = single_address(session.get(Convention, b.echeance.convention_id).dossier.porteur.contact_email)
        if contact:
            return [contact]
    return [sender] if (sender := single_address(b.expediteur)) else []


def _of_convention(session: Session, c: Convention) -> tuple[int | None, int | None]:
    return c.appel_id, c.dossier_id


NOTIFICATIONS: dict[str, Notification] = {
    "annonce_appel": Notification(
        "annonce_appel", lambda p, *, annee: f"annonce:{annee}:{p.id}",
        lambda s, p: _contact(p), lambda s, p: (None, None)),
    "attestation_depot": Notification(
        "attestation_depot", lambda a: f"attestation:{a.numero}",
        lambda s, a: list(a.contenu["destinataires"]),
        lambda s, a: (a.appel_id, s.get(Depot, a.depot_id).dossier_id)),
    "notification_decision": Notification(
        "notification_decision", lambda dc, *, dossier_numero: f"decision:{dossier_numero}:{dc.comite_le.isoformat()}",
        lambda s, dc: _contact(s.get(Dossier, dc.dossier_id).porteur),
        lambda s, dc: (s.get(Dossier, dc.dossier_id).appel_id, dc.dossier_id)),
    "convention_a_signer": Notification(
        "convention_a_signer", lambda c: f"convention:{c.numero}",
        lambda s, c: _contact(c.dossier.porteur), _of_convention),
    "avenant_a_signer": Notification(
        "avenant_a_signer", lambda a: f"avenant:{a.numero}",
        lambda s, a: _contact(a.convention.dossier.porteur), lambda s, a: _of_convention(s, a.convention)),
    "demande_bilan": Notification(
        "demande_bilan", lambda e: f"demande:{e.jeton}",
        lambda s, e: _contact(e.convention.dossier.porteur), lambda s, e: _of_convention(s, e.convention)),
    "relance_bilan": Notification(
        "relance_bilan", lambda e, *, rang: f"relance:{e.jeton}:{rang}",
        lambda s, e: _contact(e.convention.dossier.porteur), lambda s, e: _of_convention(s, e.convention)),
    "accuse_bilan": Notification(
        "accuse_bilan", lambda b: f"accuse:{b.numero}", _bilan_recipients, lambda s, b: (b.appel_id, None)),
    # who may speak for a structure: its known contact hears of what waits in its name, a previous contact of its change
    "depot_a_verifier": Notification(
        "depot_a_verifier", lambda p, *, objet: f"verification:{objet}",
        lambda s, p: _contact(p), lambda s, p: (None, None)),
    "contact_modifie": Notification(
        "contact_modifie", lambda adresse, *, depot_id: f"contact:{depot_id}",
        lambda s, adresse: [adresse], lambda s, adresse: (None, None)),
    "digest_echeancier": Notification(
        "digest_echeancier", lambda sa_email, *, jour, suite="": f"digest:{jour.isoformat()}{suite}",
        lambda s, sa_email: [sa_email], lambda s, sa_email: (None, None)),
    # one per failed flow run: a retry of the same run (same id) never queues a second one
    "passage_en_echec": Notification(
        "passage_en_echec", lambda sa_email, *, deploiement, flow_run_id: f"echec:{deploiement}:{flow_run_id}",
        lambda s, sa_email: [sa_email], lambda s, sa_email: (None, None)),
}



def recipients(session: Session, kind: str, row: Any) -> list[str]:
    return NOTIFICATIONS[kind].destinataires(session, row)


def notify(session: Session, kind: str, row: Any, context: dict[str, Any], *, maintenant: datetime,
           pieces_jointes: list[str] | tuple[str, ...] = (), appel_id: int | None = None,
           **details: Any) -> Courriel | None:
    """Queue the ``kind`` mail about ``row`` (None when its key is already queued or it has no recipient)."""
    n = NOTIFICATIONS[kind]
    destinataires = n.destinataires(session, row)
    if not destinataires:
        return None
    cle = n.cle(row, **details)
    own_appel, dossier_id = n.rattachement(session, row)
    sujet, corps = render_mail(n.modele, context)
    return enqueue(session, cle=cle, destinataires=destinataires, sujet=sujet, corps=corps,
                   pieces_jointes=list(pieces_jointes), maintenant=maintenant, appel_id=appel_id or own_appel,
                   dossier_id=dossier_id)
