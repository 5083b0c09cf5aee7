"""The one way to make a document: render → optional PDF batch → record path and template SHA-256 → notify.

A ``DocumentSpec`` says, for one kind of document, which rows still need one (their path column is
empty), how to build the data and the French context, the template, the file name, whether a PDF
is wanted, and which notification carries it. ``produce`` does the rest the same way for every
kind: the path is recorded by a conditional update, so two runs at once record it — and mail it —
once; the ``document`` row keeps the template's SHA-256 for the auditor.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from actions.notifications import notify, recipients
from actions.pieces import worker_modules
from adapters.database import transaction
from adapters.storage import Storage
from adapters.workers import fork_server, start_worker, worker_pool
from models.document import Document

PARALLEL_THRESHOLD = 40  # below this, starting workers costs more than it saves


@dataclass(frozen=True)
class DocumentSpec:
    nature: str                                   # the kind, as the document table records it
    modele: str                                   # the Word template under templates/
    chemin: InstrumentedAttribute[Any]            # the row's path column, empty until its document exists
    a_faire: Callable[[], Select[Any]]            # the rows still without a document
    dossier: Callable[[Any], str]                 # their folder under the storage root
    fichier: Callable[[Any, Any], str]            # file name (without suffix) from (row, data)
    donnees: Callable[[Session, Any], Any]        # the row's data, as the document states it
    contexte: Callable[[Any], dict[str, Any]]     # pure: the French context of the data
    notification: str | None = None               # kind of mail that carries the document (actions.notifications)
    quand: Callable[[Any, Any], datetime] = lambda row, data: data.emis_le  # the mail's time, from (row, data)
    details: Callable[[Session, Any], dict[str, Any]] = lambda session, row: {}  # more fields of the mail's key
    pdf: bool = True
    journal: Callable[[Any, Any], str] | None = None  # the log's French line from (row, data), from what is in hand
    logger: str = "aap.documents"                 # the stage's logger that says it


@dataclass
class Production:
    produits: list[str] = field(default_factory=list)     # file names, in order
    pdf: int = 0
    sans_adresse: list[Any] = field(default_factory=list)  # rows whose mail has no recipient


def produce(factory: sessionmaker[Session], storage: Storage, spec: DocumentSpec, *, pdf: bool,
            workers: int = 1, sans_adresse: Callable[[Any], Any] = lambda row: row.id) -> Production:
    """Make every document of ``spec`` still missing, record it, and queue its mail if it has one."""
    with factory() as session:
        jobs, rows = {}, {}
        for row in session.scalars(spec.a_faire()):
            data = spec.donnees(session, row)
            out = storage.ensure_dir(spec.dossier(row)) / f"{spec.fichier(row, data)}.docx"
            jobs[row.id], rows[row.id] = (data, out), row
    report = Production()
    if not jobs:
        return report
    from templates.render import render_job

    contexts = {row_id: spec.contexte(data) for row_id, (data, _) in jobs.items()}  # once: rendered, then mailed
    renders = [(spec.modele, contexts[row_id], out) for row_id, (_, out) in jobs.items()]
    with worker_pool(workers if len(jobs) >= PARALLEL_THRESHOLD else 1, worker_modules()) as pool:
        list(pool.imap(render_job, renders, chunksize=16))
    docx = {row_id: out for row_id, (_, out) in jobs.items()}
    documents = {row_id: docx[row_id] for row_id in docx}
    if pdf and spec.pdf:
        from adapters.pdf import pdf_versions  # with pypdf: loaded only where PDFs are wanted

        for folder in {out.parent for out in docx.values()}:
            documents.update(pdf_versions({k: v for k, v in docx.items() if v.parent == folder}, folder, enabled=True))
    report.pdf = sum(documents[k] != docx[k] for k in docx)
    record_documents(factory, storage, spec, {k: (jobs[k][0], rows[k], documents[k], contexts[k]) for k in jobs},
                     report, sans_adresse)
    return report


def record_documents(factory: sessionmaker[Session], storage: Storage, spec: DocumentSpec,
                     made: dict[int, tuple[Any, Any, Path, dict[str, Any]]], report: Production,
                     sans_adresse: Callable[[Any], Any] = lambda row: row.id) -> None:
    """In one transaction, record each document made (row id → its data, its row, its file, the context it was
    rendered from, which its mail reuses) and queue its mail; one another run recorded first is left to it (the
    conditional update)."""
    from templates.render import template_sha256

    sha256 = template_sha256(spec.modele)
    table = spec.chemin.class_
    lines: list[tuple[int, str]] = []
    with transaction(factory) as session, session.no_autoflush:  # the documents and mails go in the commit's flush
        if spec.notification is not None:  # the rows the mails are about, in one query rather than one each
            session.scalars(select(table).where(table.id.in_(list(made)))).all()
        for row_id, (data, loaded, document, context) in made.items():
            chemin = str(document.relative_to(storage.root))
            won = session.execute(
                update(table).where(table.id == row_id, spec.chemin.is_(None)).values({spec.chemin.key: chemin})
            ).rowcount
            if not won:  # another run recorded it (and queued its mail) first
                continue
            session.add(Document(nature=spec.nature, objet_id=row_id, chemin=chemin, modele=spec.modele,
                                 modele_sha256=sha256))
            report.produits.append(document.name)
            line = spec.journal(loaded, data) if spec.journal else f"Document {document.name} rédigé."
            lines.append((logging.INFO, line))
            if spec.notification is None:
                continue
            row = session.get(table, row_id)  # from the identity map: loaded above
            if not recipients(session, spec.notification, row):
                report.sans_adresse.append(sans_adresse(row))
                lines.append((logging.WARNING, f"{document.name} : aucune adresse électronique valable pour "
                                               "l'envoyer, à transmettre autrement."))
                continue
            notify(session, spec.notification, row, context, pieces_jointes=[chemin],
                   maintenant=spec.quand(row, data), **spec.details(session, row))
    log = logging.getLogger(spec.logger)
    for level, line in lines:  # once committed
        log.log(level, line)


EN_AVANCE = 25
"""Documents rendered ahead are recorded (and their mails queued) this many at a time."""
RENDUS_PAR_PROCESSUS = 50
"""The worker rendering ahead is replaced after this many documents: a renderer's memory grows with each one
(from 62 to 103 Mo over 100 attestations, 83 Mo after 50), a fresh one from the fork server costs a fraction
of a second. With two renderers at the end of a relève, 100 here put the peak of the whole tree at 386 to
406 Mo with a Prefect server (bench/intake.py --serveur-prefect), 50 at 357 Mo, in the same time."""
LOOK_EVERY = 4
"""``feed()`` looks for new rows (a session and a query) at most every this many calls while the worker still has
work in hand, at once when it has none."""
PRIS_AU_PLUS = 12
"""Rows handed to the worker at each look of ``feed()``, at most: what the intake records faster than one worker
renders stays to do, for the two workers of ``finish()``."""
EN_VOL_A_LA_FIN = 2 * EN_AVANCE
"""Documents in the two workers' hands at once while ``finish()`` renders what is left."""


class RenderAhead:
    """Renders the documents of ``spec`` in a worker process while this process does something else (the intake
    records dépôts), and records them ``EN_AVANCE`` at a time, exactly as ``produce`` would (same files, same
    conditional update, same mails). ``feed()`` is cheap and meant to be called often: it looks for new rows only
    when the worker runs short of work, and records what is done. ``finish()``, once the other work is over,
    renders what is left with a second worker (the core the intake used), still recording ``EN_AVANCE`` at a time
    so that their mails leave meanwhile.

    What it did not finish (a render failed, the run stopped) keeps its empty path: ``produce`` does it next."""

    def __init__(self, factory: sessionmaker[Session], storage: Storage, spec: DocumentSpec,
                 sans_adresse: Callable[[Any], Any] = lambda row: row.id, *, preload: tuple[str, ...] = (),
                 on_recorded: Callable[[], None] = lambda: None) -> None:
        self.factory, self.storage, self.spec, self.sans_adresse = factory, storage, spec, sans_adresse
        self.preload, self.on_recorded = preload, on_recorded
        self.report = Production()
        self.pools: list[Any] = []  # one worker each: the first with the first document, a second for the end
        self.given = 0
        self.last_id = 0
        self.finished = False
        self.flight: dict[int, tuple[Any, Any, Path, dict[str, Any], Any]] = {}  # row id → data, row, file, context,
        # the worker's answer
        self.fed = 0  # calls to feed() since new rows were last looked for

    def __enter__(self) -> RenderAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self.finish()
        finally:
            self._stop()

    def _add_worker(self) -> None:
        self.pools.append(fork_server(self.preload).Pool(1, initializer=start_worker,
                                                         maxtasksperchild=RENDUS_PAR_PROCESSUS))

    def _worker(self) -> Any:
        """The next worker to hand a document to (the first one started with the first document)."""
        if not self.pools:
            self._add_worker()
        self.given += 1
        return self.pools[self.given % len(self.pools)]

    def feed(self) -> None:
        if self.finished:
            return
        self.fed += 1
        pending = sum(not answer.ready() for *_, answer in self.flight.values())
        if pending == 0 or (pending < 4 and self.fed >= LOOK_EVERY):  # the worker runs short: look for new rows
            self._take_new_rows(PRIS_AU_PLUS)
        self._record(done_only=True)

    def finish(self) -> None:
        """Render and record every document still to make, on two workers, then stop them."""
        if self.finished:
            return
        self.finished = True
        self._add_worker()
        while True:
            more = self._take_new_rows(EN_VOL_A_LA_FIN - len(self.flight)) if len(self.flight) < EN_VOL_A_LA_FIN else 0
            if not self.flight:
                break
            if not more and len(self.flight) <= EN_AVANCE:
                self._record(done_only=False)  # the last ones
                continue
            for *_, answer in list(self.flight.values())[:EN_AVANCE]:
                answer.wait()
            self._record(done_only=True)  # these EN_AVANCE at least, while the workers go on
        self._stop()

    def _stop(self) -> None:
        for pool in self.pools:
            pool.terminate()
            pool.join()
        self.pools = []

    def _take_new_rows(self, limit: int) -> int:
        self.fed = 0
        table = self.spec.chemin.class_
        taken = 0
        with self.factory() as session:
            for row in session.scalars(self.spec.a_faire().where(table.id > self.last_id).limit(limit)):
                self.last_id = max(self.last_id, row.id)
                data = self.spec.donnees(session, row)
                out = self.storage.ensure_dir(self.spec.dossier(row)) / f"{self.spec.fichier(row, data)}.docx"
                from templates.render import render_job

                context = self.spec.contexte(data)  # once: rendered now, mailed when recorded
                answer = self._worker().apply_async(render_job, ((self.spec.modele, context, out),))
                self.flight[row.id] = (data, row, out, context, answer)
                taken += 1
        return taken

    def _record(self, *, done_only: bool) -> None:
        while self.flight:
            ready = [k for k, (*_, answer) in self.flight.items() if not done_only or answer.ready()]
            if done_only and len(ready) < EN_AVANCE:
                return
            made = {}
            for row_id in ready[:EN_AVANCE]:
                data, row, out, context, answer = self.flight.pop(row_id)
                try:
                    answer.get()
                except Exception:  # noqa: BLE001 - left to ``produce``, which renders it again and reports it
                    continue
                made[row_id] = (data, row, out, context)
            if made:
                record_documents(self.factory, self.storage, self.spec, made, self.report, self.sans_adresse)
                self.on_recorded()
