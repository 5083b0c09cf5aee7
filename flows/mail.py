"""The task that sends the outbox; every flow ends with it."""
from __future__ import annotations

from dataclasses import asdict


from actions.outbox import mail_settings, send_pending
from flows import comptes_rendus
from flows.passage import etape, passage
from flows.runtime import runtime


@etape("envoyer-courriels")
def send_outbox(seulement: list[str] | None = None) -> dict:
    """Send what is pending (or only the mails of the keys ``seulement``) over one connection."""
    rt = runtime()
    report = send_pending(rt.factory, mail_settings(rt.settings), rt.storage.root,
                          lease_seconds=rt.settings.outbox_lease_seconds,
                          max_attempts=rt.settings.outbox_max_attempts, seulement=seulement)
    return asdict(report)


@passage("envoi-courriels", etape="envoi", compte_rendu=comptes_rendus.courriels)
def envoi_courriels() -> dict:
    """Envoie les courriels restés en attente (après une panne du serveur de messagerie)."""
    return {"courriels": send_outbox()}
