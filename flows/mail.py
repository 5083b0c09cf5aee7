"""The task that sends the outbox; every flow ends with it."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict

from actions.outbox import SendBehind, mail_settings, send_pending
from flows import comptes_rendus
from flows.passage import etape, passage
from flows.runtime import runtime


_behind: SendBehind | None = None


@contextmanager
def sending_behind() -> Iterator[SendBehind]:
    """A thread that sends the mail this stage queues as it goes; the stage's ``send_outbox`` ends it and sends
    the rest, its report covering both."""
    global _behind
    rt = runtime()
    behind = SendBehind(rt.factory, mail_settings(rt.settings), rt.storage.root,
                        lease_seconds=rt.settings.outbox_lease_seconds, max_attempts=rt.settings.outbox_max_attempts)
    with behind:
        _behind = behind
        try:
            yield behind
        finally:
            _behind = None


@etape("envoyer-courriels")
def send_outbox(seulement: list[str] | None = None) -> dict:
    """Send what is pending (or only the mails of the keys ``seulement``) over one connection."""
    rt = runtime()
    behind = _behind if seulement is None else None
    if behind is not None:
        behind.stop()
    report = send_pending(rt.factory, mail_settings(rt.settings), rt.storage.root,
                          lease_seconds=rt.settings.outbox_lease_seconds,
                          max_attempts=rt.settings.outbox_max_attempts, seulement=seulement,
                          tried=behind.tried if behind else None, report=behind.report if behind else None)
    return asdict(report)


@passage("envoi-courriels", etape="envoi", compte_rendu=comptes_rendus.courriels)
def envoi_courriels() -> dict:
    """Envoie les courriels restés en attente (après une panne du serveur de messagerie)."""
    return {"courriels": send_outbox()}
