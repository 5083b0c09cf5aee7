"""Checking the files of a dépôt before anything is written to the database.

What runs in the intake's lean worker processes (``prepare_message``) lives here: nothing this module
imports loads the ORM, the database driver or the mail client. The readers (openpyxl, pypdf) are imported by the
functions that read, in the workers: the process that records dépôts receives what they read (``Prepared``)
without loading them (35 Mo and half a second of its start-up)."""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from decimal import Decimal
from typing import Any

from adapters.library_errors import french_detail
from adapters.mailbox import LIMITES, IncomingMessage, Limites, parse_message
from adapters.storage import Storage, Stored
from adapters.workers import many_batches
from config.appel_config import PiecesRegles
from forms.reponse import FormulaireReponse
from forms.xlsx_safety import FormulaireIllisible
from models.piece import NaturePiece, piece_motif

RENDERER_MODULES = ("templates.render", "docxtpl")
"""What the workers' fork server always preloads, so that every worker forked from it has it at once: the renderer
(no ORM) and the .docx library it imports when it renders, which a renderer replaced every 100 documents needs at
its first."""
READER_MODULES = ("actions.pieces", "forms.bilan", "forms.dossier_reponse", "adapters.pdf")
"""The reader's own modules (openpyxl, pypdf and the cryptography it loads): 20 Mo more in every process forked from
the fork server, so a one-shot command loads them in its one reader only (``worker_modules``)."""


def worker_modules() -> tuple[str, ...]:
    """What this process's fork server preloads when it starts (once: later calls change nothing for it): the
    renderer, and the reader's modules too in a process that reads mailbox after mailbox (``adapters.workers.
    runs_many_batches``: a test session). Each reader then starts with them instead of importing
    them again at every relève (0.2 s of CPU in a worker that yields to every busier process: 53 s of the test
    suite's CPU, 86 → 33 s), at the price of 20 Mo in every worker forked. A command (``aap depots relever``) reads
    once: its relève of 500 dépôts keeps the lean fork server (346 Mo in all instead of 376, ``bench/intake.py``)."""
    return RENDERER_MODULES + READER_MODULES if many_batches() else RENDERER_MODULES


SPREADSHEET_EXTENSIONS = {"xlsx", "xlsm", "xlsb", "xls", "ods"}
NOM_ORIGINE_MAX = 500  # Piece.nom_origine's width: a longer name sent must not block the dépôt


@dataclass(frozen=True)
class PieceAnalysee:
    nom: str
    nom_origine: str | None
    nature: NaturePiece
    sha256: str
    taille: int
    chemin: str
    motif: str | None


@dataclass(frozen=True)
class DepotAnalyse:
    pieces: tuple[PieceAnalysee, ...]
    formulaire: FormulaireReponse | None

    @property
    def empreinte(self) -> str | None:
        """Same files (whatever the message) → same fingerprint; None without files."""
        if not self.pieces:
            return None
        return hashlib.sha256("\n".join(sorted(p.sha256 for p in self.pieces)).encode()).hexdigest()


def analyse_files(storage: Storage, files: list[tuple[str, str | None, bytes]], regles: PiecesRegles) -> DepotAnalyse:
    """Store each file under a generated name and say what it is and whether it is accepted.

    ``files`` are (safe display name, name as sent, bytes). The first readable dossier de
    réponse is the form; every other file is a pièce to be matched later (CVs by name).
    """
    from adapters.pdf import inspect_pdf
    from forms.bilan import is_bilan_form
    from forms.dossier_reponse import read_dossier_reponse

    extensions = {*regles.extensions_formulaire, *regles.extensions_cv, *regles.extensions_autres}
    pieces: list[PieceAnalysee] = []
    formulaire: FormulaireReponse | None = None
    for nom, nom_origine, data in files:
        extension = nom.rsplit(".", 1)[-1].lower() if "." in nom else ""
        stored = storage.put_blob("pieces", data, f".{extension}" if extension else "")
        nature = NaturePiece.AUTRE
        motif = None
        if extension in SPREADSHEET_EXTENSIONS and is_bilan_form(data):
            pass  # a bilan form sent with a dossier de réponse: one more pièce of the dépôt
        elif extension in SPREADSHEET_EXTENSIONS:
            try:
                lu = read_dossier_reponse(data, filename=nom)
            except FormulaireIllisible as exc:
                motif = exc.motif
            else:
                if formulaire is None:
                    formulaire, nature = lu, NaturePiece.FORMULAIRE
        motif = motif or piece_motif(nom, len(data), extensions=extensions, taille_max=regles.taille_max_octets)
        if motif is None and extension == "pdf":
            motif = inspect_pdf(data)
        if motif is not None and nature is NaturePiece.FORMULAIRE:
            formulaire, nature = None, NaturePiece.AUTRE
        nom_origine = nom_origine[:NOM_ORIGINE_MAX] if nom_origine is not None else None
        pieces.append(PieceAnalysee(nom, nom_origine, nature, stored.sha256, stored.taille, stored.chemin, motif))
    return DepotAnalyse(tuple(pieces), formulaire)


def holds_response_form(attachments, *, besides: int) -> bool:
    """Whether a message carries a dossier de réponse besides its attachment n° ``besides`` (a bilan form):
    then it is a dépôt, and the bilan one of its pièces."""
    from forms.dossier_reponse import is_response_form

    return any(i != besides and is_response_form(a.content) for i, a in enumerate(attachments))


def formulaire_as_json(f: FormulaireReponse) -> dict[str, Any]:
    """The form as JSON-safe data (Decimals as strings), stored with the dépôt."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(asdict(f))


def bilan_attachment(msg: IncomingMessage) -> int | None:
    """The index of the first attachment that is a bilan form, if any."""
    from forms.bilan import is_bilan_form

    for i, a in enumerate(msg.attachments):
        if a.filename.lower().endswith(".xlsx") and is_bilan_form(a.content):
            return i
    return None


@dataclass(frozen=True)
class Prepared:
    """One message parsed, its files stored and checked — everything but the database (picklable)."""

    path: Path
    msg: IncomingMessage | None
    bilan_index: int | None
    analyse: DepotAnalyse | None
    raw_stored: Stored | None
    erreur: str | None = None


def prepare_message(path: Path, storage_root: Path, regles: PiecesRegles, limites: Limites = LIMITES) -> Prepared:
    """The CPU-heavy half of a dépôt (parse, hash, store, read the form, inspect PDFs): runs in a worker.

    A message over its ``limites`` comes back unparsed (``msg.limite``): the main process keeps it."""
    try:
        msg = parse_message(path, limites)
        if msg.limite is not None:
            return Prepared(path, msg, None, None, None)
        index = bilan_attachment(msg)
        if index is not None and not holds_response_form(msg.attachments, besides=index):
            # a bilan form coming back: the follow-up's, handled whole by the main process
            return Prepared(path, msg, index, None, None)
        storage = Storage(storage_root)
        raw_stored = storage.put_blob("messages", path.read_bytes(), ".eml")
        analyse = analyse_files(storage, [(a.filename, a.original_filename, a.content) for a in msg.attachments], regles)
        return Prepared(path, replace(msg, attachments=()), None, analyse, raw_stored)  # the bytes are stored now
    except MemoryError:  # over the worker's memory limit: bounded_map reports it
        raise
    except Exception as exc:  # reported on the item by the caller, in French
        return Prepared(path, None, None, None, None, f"lecture impossible : {french_detail(exc)}")
