"""The task that sends the outbox; every flow ends with it."""
from __future__ import annotations

from dataclasses import asdict

from prefect import task

from actions.outbox import mail_settings, send_pending
from flows.runtime import runtime


@task(name="envoyer-courriels")
def send_outbox() -> dict:
    rt = runtime()
    report = send_pending(rt.factory, mail_settings(rt.settings), rt.storage.root,
                          lease_seconds=rt.settings.outbox_lease_seconds,
                          max_attempts=rt.settings.outbox_max_attempts)
    return asdict(report)
