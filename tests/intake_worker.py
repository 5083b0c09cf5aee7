"""One intake run in its own process, as the scheduled flow or the SA's command would do it.

``python tests/intake_worker.py DB_URL STORAGE MAILDIR SMTP_PORT [--maintenant ISO]`` registers the
mailbox, renders the attestations (.docx, one process) and sends the outbox, without Prefect, then
prints a JSON report on stdout. The fault tests start it as a subprocess to kill it (``kill -9``) or
to run two at the same moment.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actions.attestations import render_pending  # noqa: E402
from actions.depots import register_mailbox  # noqa: E402
from actions.outbox import send_pending  # noqa: E402
from adapters.database import session_factory  # noqa: E402
from adapters.mailbox import iter_mailbox  # noqa: E402
from adapters.smtp import MailSettings  # noqa: E402
from adapters.storage import Storage  # noqa: E402

RELEVE = "2017-12-08T07:30:00+00:00"
SENDER = "PLIE du bassin dijonnais <plie@example.org>"


def run(db_url: str, storage_root: Path, maildir: Path, smtp_port: int, maintenant: datetime) -> dict:
    """Register, render, send; each phase's report and its wall-clock interval (for overlap checks)."""
    factory = session_factory(db_url)
    storage = Storage(storage_root)
    timings: dict[str, list[float]] = {}

    started = time.time()
    registered = register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=maintenant)
    timings["enregistrement"] = [started, time.time()]

    started = time.time()
    rendered = render_pending(factory, storage, 2018, pdf=False, workers=1)
    timings["rendu"] = [started, time.time()]

    started = time.time()
    sent = send_pending(factory, MailSettings(host="127.0.0.1", port=smtp_port, sender=SENDER), storage.root)
    timings["envoi"] = [started, time.time()]

    return {
        "pid": os.getpid(),
        "depots": asdict(registered),
        "attestations": asdict(rendered),
        "courriels": asdict(sent),
        "temps": timings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db_url")
    parser.add_argument("storage", type=Path)
    parser.add_argument("maildir", type=Path)
    parser.add_argument("smtp_port", type=int)
    parser.add_argument("--maintenant", default=RELEVE, help="the run's clock (ISO 8601 with offset)")
    args = parser.parse_args(argv)
    report = run(args.db_url, args.storage, args.maildir, args.smtp_port, datetime.fromisoformat(args.maintenant))
    print(json.dumps(report, ensure_ascii=False))
    return 1 if report["depots"]["erreurs"] else 0


if __name__ == "__main__":
    sys.exit(main())
