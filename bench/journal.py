"""What the journal costs the intake: the share of its time spent journaling.

    python bench/journal.py --n 500 [--json]

Generates N dépôts as ``bench/intake.py`` does, publishes the 2018 call on a fresh SQLite database, then runs
the intake in this process as ``aap depots relever`` does without Prefect (register the mailbox, render the
attestations as .docx, send them to a local SMTP sink) and measures, around every call into the journal (the
ORM hook at each flush, the write before each commit — not the flush there, which the commit does anyway —, the
outbox's explicit entries), the CPU time (this
thread) and the wall time spent there, against the whole run's. The wall time inside includes the INSERT of the
entries and, on PostgreSQL, the advisory lock; a comparison of whole runs on a shared machine (``bench/intake.py``
on two branches) is noisier than the figure it looks for.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class Compteur:
    def __init__(self) -> None:
        self.cpu = self.wall = 0.0
        self.calls = 0
        self.depth = 0

    def wrap(self, fn):  # noqa: ANN001, ANN201
        @functools.wraps(fn)
        def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            if self.depth:  # nested (append inside the hook): counted once, by the outer call
                return fn(*args, **kwargs)
            self.depth += 1
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.cpu += time.thread_time() - cpu
                self.wall += time.perf_counter() - wall
                self.calls += 1
                self.depth -= 1
        return timed


def _usage() -> float:
    """CPU seconds of this process (every thread, the SMTP sink's too) and of its children waited for."""
    import resource

    return sum(resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))


def run(n: int, work: Path, database_url: str | None) -> dict:
    from flows.runtime import set_prefect_defaults

    set_prefect_defaults()
    from actions.attestations import render_pending
    from actions.depots import register_mailbox
    from actions.outbox import send_pending
    from actions.publication import publish_appel
    from adapters import journal, journal_hook
    from adapters.database import session_factory
    from adapters.mailbox import iter_mailbox
    from adapters.smtp import MailSettings
    from adapters.smtp_sink import SmtpSink
    from adapters.storage import Storage
    from bench.intake import build_maildir
    from config.appel_config import load_appel_config
    from sqlalchemy import func, select
    from models import Journal

    compteur = Compteur()
    # every way into the journal, wrapped before any session exists (the hook is looked up at each event)
    # (not the flush before each commit, which the commit would do anyway: the append after it)
    journal_hook.journal_changes = compteur.wrap(journal_hook.journal_changes)
    journal_hook.append = compteur.wrap(journal_hook.append)
    journal_hook.record_mail_state = compteur.wrap(journal_hook.record_mail_state)
    import actions.outbox as outbox

    outbox.record_mail_state = journal_hook.record_mail_state
    url = database_url or f"sqlite:///{work / 'aap.sqlite'}"
    factory = journal.use_storage(session_factory(url), work / "storage")
    storage = Storage(work / "storage")
    cfg = load_appel_config(2018)
    publication = publish_appel(factory, storage, cfg, maintenant=datetime(2017, 11, 21, 8, 0, tzinfo=timezone.utc))
    started = time.perf_counter()
    build_maildir(work / "boite", publication.formulaire, n)
    generation = time.perf_counter() - started

    with factory() as s:
        before = s.scalar(select(func.count()).select_from(Journal))
    compteur.cpu = compteur.wall = 0.0
    compteur.calls = 0
    with SmtpSink(work / "sink") as sink:
        mail = MailSettings(host="127.0.0.1", port=sink.port, sender="PLIE <plie@example.org>")
        cpu, wall, usage = time.thread_time(), time.perf_counter(), _usage()
        report = register_mailbox(factory, storage, 2018, iter_mailbox(work / "boite"),
                                  maintenant=datetime(2017, 12, 8, 8, 0, tzinfo=timezone.utc), workers=1)
        render_pending(factory, storage, 2018, pdf=False, workers=1)
        sent = send_pending(factory, mail, storage.root)
        cpu, wall, usage = time.thread_time() - cpu, time.perf_counter() - wall, _usage() - usage
    with factory() as s:
        entries = s.scalar(select(func.count()).select_from(Journal)) - before
    return {
        "n": n, "base": url.split(":", 1)[0], "depots": report.depots, "envoyes": sent.envoyes,
        "generation_s": round(generation, 1), "cpu_s": round(cpu, 2), "wall_s": round(wall, 2),
        "journal_cpu_s": round(compteur.cpu, 3), "journal_wall_s": round(compteur.wall, 3),
        "journal_calls": compteur.calls, "entrees": entries, "cpu_processus_et_enfants_s": round(usage, 2),
        "part_cpu": round(compteur.cpu / cpu, 4) if cpu else None,
        "part_wall": round(compteur.wall / wall, 4) if wall else None,
        "charge": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=500, help="nombre de dépôts (500)")
    parser.add_argument("--base", help="URL de la base (SQLite neuve par défaut) ; une base PostgreSQL doit être vide")
    parser.add_argument("--json", action="store_true", help="sortie JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aap-bench-journal-") as tmp:
        r = run(args.n, Path(tmp), args.base)
    if args.json:
        print(json.dumps(r, ensure_ascii=False, indent=2))
        return
    print(f"Relève de {r['n']} dépôts ({r['base']}) : {r['depots']} enregistrés, {r['envoyes']} attestations envoyées, "
          f"{r['entrees']} entrées au journal ; charge {r['charge']:.1f}.")
    print(f"  temps CPU (ce fil) : {r['cpu_s']} s, dont journal {r['journal_cpu_s']} s ({100 * r['part_cpu']:.1f} %) ; "
          f"processus et enfants : {r['cpu_processus_et_enfants_s']} s")
    print(f"  temps écoulé : {r['wall_s']} s, dont journal {r['journal_wall_s']} s ({100 * r['part_wall']:.1f} %) "
          f"en {r['journal_calls']} appels")


if __name__ == "__main__":
    main()
