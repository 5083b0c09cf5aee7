"""One send of the outbox in its own process, as « aap courriels envoyer » or any flow's last task does it.

``python tests/outbox_worker.py DB_URL STORAGE SMTP_PORT [--chunk N]`` sends what is pending, without
Prefect, then prints a JSON report on stdout. The crash tests start it as a subprocess to kill it
(``kill -9``) at a random moment, or run two at once.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actions.outbox import CHUNK, send_pending  # noqa: E402
from adapters.database import session_factory  # noqa: E402
from adapters.smtp import MailSettings  # noqa: E402

SENDER = "PLIE du bassin dijonnais <plie@example.org>"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db_url")
    parser.add_argument("storage", type=Path)
    parser.add_argument("smtp_port", type=int)
    parser.add_argument("--chunk", type=int, default=CHUNK)
    parser.add_argument("--attendre", action="store_true", help="après « pret », attendre une ligne sur l'entrée")
    args = parser.parse_args(argv)
    factory = session_factory(args.db_url)
    print("pret", flush=True)
    if args.attendre:
        sys.stdin.readline()
    started = time.time()
    report = send_pending(factory, MailSettings(host="127.0.0.1", port=args.smtp_port, sender=SENDER), args.storage,
                          chunk=args.chunk)
    print(json.dumps({"pid": os.getpid(), "courriels": asdict(report), "temps": [started, time.time()]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
