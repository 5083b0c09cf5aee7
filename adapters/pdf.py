"""PDF at the edges: LibreOffice batch conversion, pypdf inspection and merge.

- ``convert_to_pdf``: through this process's long-lived LibreOffice
  (``adapters.libreoffice``: started by the first conversion, reused by the next
  ones, killed when the process exits), on one throw-away ``-env:UserInstallation``
  profile per process. Where the system's Python has no ``uno``, one
  ``soffice --headless --convert-to pdf`` process per batch (chunks of
  ``CHUNK_SIZE`` files) instead. Success is judged by the PDFs present afterwards,
  never by an exit code (``--convert-to`` exits 0 even when a file failed).
- ``inspect_pdf``: never raises on hostile bytes; returns a French reason (unreadable,
  encrypted, no page, or active content: JavaScript, a Launch action, embedded files).
- ``merge_pdfs``: one outline item (bookmark) per part; with ``a4_portrait``, every page
  scaled (never cropped) onto an A4 portrait page.

LibreOffice runs in French (``fr_FR`` locale): a workbook's ``#,##0.00 "€"`` prints
« 22 000,00 € », not « 22,000.00 € ».
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any, TypeVar

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.errors import LimitReachedError, PyPdfError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, RectangleObject

from adapters.storage import private_output
from config.refus import Refus

log = logging.getLogger(__name__)

K = TypeVar("K")
CHUNK_SIZE = 200
FILE_MODE = 0o600

A4_PORTRAIT = (595.28, 841.89)
"""Width and height of an A4 page, in points."""
SOFFICE_LOCALE = "fr_FR.UTF-8"
"""The locale LibreOffice formats numbers and dates of workbooks with (it needs no system locale)."""

RAISON_ILLISIBLE = "PDF illisible ou tronqué"
RAISON_CHIFFRE = "PDF protégé par un mot de passe : impossible de le lire"
RAISON_SANS_PAGE = "PDF sans aucune page"
RAISON_JAVASCRIPT = "PDF contenant du JavaScript refusé : enregistrez-le à nouveau en PDF simple, sans script"
RAISON_LANCEMENT = "PDF contenant une action qui lance un programme refusé : enregistrez-le à nouveau en PDF simple"
RAISON_FICHIERS_JOINTS = (
    "PDF contenant des fichiers incorporés refusé : joignez chaque document séparément au courriel"
)
RAISON_BOMBE = "PDF refusé : contenu compressé anormalement volumineux (fichier piégé ?)"
RAISON_TROP_COMPLEXE = "PDF refusé : trop d'objets internes pour être vérifié"
OBJETS_MAX = 100_000
"""PDF objects visited at most when looking for active content."""
_JAVASCRIPT_KEYS = frozenset({"/JS", "/JavaScript"})
_EMBEDDED_KEYS = frozenset({"/EmbeddedFiles", "/EmbeddedFile", "/EF"})


class LibreOfficeAbsent(Refus, RuntimeError):
    """LibreOffice is not installed: no document can be converted to PDF."""

    def __init__(self) -> None:
        super().__init__(
            "LibreOffice (soffice) introuvable : installez LibreOffice Writer "
            "(paquet libreoffice-writer) pour produire les PDF."
        )


def soffice_path() -> str | None:
    """Path of the LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_pdf(docx_paths: list[Path], outdir: Path, *, timeout: float = 600) -> dict[Path, Path]:
    """Converts documents to ``outdir/<stem>.pdf``, one soffice call per chunk.

    Returns ``{input: pdf}`` for the PDFs that exist afterwards; an input missing
    from the result failed. ``timeout`` (seconds) applies to each document (to
    each soffice call without UNO); on expiry LibreOffice's whole process group
    is killed and the next document (chunk) still runs, on a LibreOffice started again.
    Raises ``LibreOfficeAbsent`` when soffice is not installed, ``ValueError``
    when two inputs share a file stem (their PDFs would overwrite each other).
    """
    if not docx_paths:
        return {}
    soffice = soffice_path()
    if soffice is None:
        raise LibreOfficeAbsent()
    inputs = [Path(p).resolve() for p in docx_paths]
    _refuse_duplicate_stems(inputs)
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    targets = {src: outdir / f"{src.stem}.pdf" for src in inputs}
    for target in targets.values():
        target.unlink(missing_ok=True)  # a stale PDF must not pass for a fresh one
    for start in range(0, len(inputs), CHUNK_SIZE):
        _run_soffice(soffice, inputs[start:start + CHUNK_SIZE], outdir, timeout)
    done: dict[Path, Path] = {}
    for src, target in targets.items():
        if target.is_file() and target.stat().st_size > 0:
            os.chmod(target, FILE_MODE)
            done[src] = target
        else:
            log.warning("conversion en PDF échouée : %s", src)
    return done


def _refuse_duplicate_stems(inputs: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for src in inputs:
        if src.stem in seen and seen[src.stem] != src:
            raise ValueError(f"deux documents donneraient le même PDF : {seen[src.stem]} et {src}")
        seen[src.stem] = src


_PROFILE: dict[int, Path] = {}  # this process's LibreOffice profile (by pid: a forked child makes its own)
_ONE_AT_A_TIME = threading.Lock()  # two conversions sharing a profile fail silently


def _profile() -> Path:
    """The LibreOffice profile of this process, made by its first conversion and reused by the next ones (a new
    profile costs LibreOffice a second of set-up), removed when the process ends."""
    pid = os.getpid()
    if pid not in _PROFILE:
        _PROFILE[pid] = Path(tempfile.mkdtemp(prefix="aap-soffice-"))
        atexit.register(shutil.rmtree, _PROFILE[pid], ignore_errors=True)
    return _PROFILE[pid]


_UNO_ABSENT: set[int] = set()  # pids whose system Python has no uno: one soffice --convert-to per chunk


def _env() -> dict[str, str]:
    return {**os.environ, "LC_ALL": SOFFICE_LOCALE, "LANG": SOFFICE_LOCALE, "LANGUAGE": "fr_FR:fr"}


def _run_soffice(soffice: str, chunk: list[Path], outdir: Path, timeout: float) -> None:
    with _ONE_AT_A_TIME:
        if os.getpid() not in _UNO_ABSENT and _convert_through_uno(soffice, chunk, outdir, timeout):
            return
        _convert(soffice, chunk, outdir, timeout, _profile())


def _convert_through_uno(soffice: str, chunk: list[Path], outdir: Path, timeout: float) -> bool:
    """Converts ``chunk`` through this process's long-lived LibreOffice; False when it cannot be used (then the
    caller converts the chunk with ``--convert-to``)."""
    from adapters.libreoffice import UNO_PYTHON, UnoAbsent, server

    office = server(soffice, _profile(), _env())
    for src in chunk:
        target = outdir / f"{src.stem}.pdf"
        try:
            if not office.convert(src, target, timeout):
                target.unlink(missing_ok=True)  # a PDF half written when LibreOffice was stopped
        except UnoAbsent:
            _UNO_ABSENT.add(os.getpid())
            log.warning("« %s -c 'import uno' » échoue (paquet python3-uno absent) : chaque lot de documents est "
                        "converti en PDF par un LibreOffice lancé pour lui, plus lentement", UNO_PYTHON)
            return False
        except (RuntimeError, OSError) as exc:
            log.error("LibreOffice (UNO) indisponible (%s) : ce lot est converti par soffice --convert-to", exc)
            shutil.rmtree(_profile(), ignore_errors=True)  # a profile left broken is made again
            return False
    return True


def _convert(soffice: str, chunk: list[Path], outdir: Path, timeout: float, profile: Path) -> None:
    try:
        argv = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
            "--convert-to", "pdf", "--outdir", str(outdir),
            *(str(p) for p in chunk),
        ]
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True, env=_env(), umask=0o077,
        )
        try:
            _, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            shutil.rmtree(profile, ignore_errors=True)
            log.error("soffice interrompu après %s s (%d documents)", timeout, len(chunk))
            return
        if proc.returncode != 0:
            log.error("soffice a échoué (code %s) : %s", proc.returncode, stderr.decode(errors="replace")[-2000:])
            shutil.rmtree(profile, ignore_errors=True)  # a profile left broken is made again by the next call
    except BaseException:
        shutil.rmtree(profile, ignore_errors=True)
        raise


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kills the soffice process group this module started (soffice forks soffice.bin)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def pdf_versions(documents: dict[K, Path], outdir: Path, *, enabled: bool) -> dict[K, Path]:
    """Each document as PDF when LibreOffice is there and PDFs are wanted (one call for the whole batch);
    the document itself otherwise, or where its conversion failed."""
    if not documents or not enabled or soffice_path() is None:
        return dict(documents)
    converted = convert_to_pdf(list(documents.values()), outdir)
    return {key: converted.get(Path(path).resolve(), path) for key, path in documents.items()}


def inspect_pdf(data: bytes) -> str | None:
    """None when ``data`` is a readable PDF with pages, else the French reason why not."""
    if b"%PDF-" not in data[:1024]:  # the header may follow a little junk
        return RAISON_ILLISIBLE
    if b"%%EOF" not in data.rstrip(b"\x00\r\n\t \x0c")[-1024:]:
        return RAISON_ILLISIBLE
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not _unlock(reader):
            return RAISON_CHIFFRE
        if len(reader.pages) == 0:
            return RAISON_SANS_PAGE
        first = reader.pages[0]
        _ = first.mediabox
        first.get_contents()
        return active_content(reader)
    except (LimitReachedError, MemoryError):  # pypdf stops inflating a stream at 75 MB
        return RAISON_BOMBE
    except (PyPdfError, Exception):  # pypdf raises many kinds on hostile input
        return RAISON_ILLISIBLE


def active_content(reader: PdfReader) -> str | None:
    """The French reason when the document can run something or carries files, else None.

    Walks every object reachable from the trailer (names are compared decoded, so ``/J#61vaScript``
    is ``/JavaScript``), streams' dictionaries included but never their data; ``OBJETS_MAX`` bounds it.
    """
    found: set[str] = set()
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [reader.trailer]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        visited += 1
        if visited > OBJETS_MAX:
            return RAISON_TROP_COMPLEXE
        if isinstance(node, DictionaryObject):
            keys = set(node.keys())
            action = node.get("/S")
            if keys & _JAVASCRIPT_KEYS or action == "/JavaScript":
                found.add(RAISON_JAVASCRIPT)
            if action == "/Launch":
                found.add(RAISON_LANCEMENT)
            if keys & _EMBEDDED_KEYS or node.get("/Type") == "/EmbeddedFile":
                found.add(RAISON_FICHIERS_JOINTS)
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    for reason in (RAISON_JAVASCRIPT, RAISON_LANCEMENT, RAISON_FICHIERS_JOINTS):
        if reason in found:
            return reason
    return None


def _unlock(reader: PdfReader) -> bool:
    """Opens a PDF protected by an owner password only (empty user password)."""
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


def merge_pdfs(parts: list[tuple[str, Path]], out: Path, *, a4_portrait: bool = False) -> Path:
    """Concatenates ``parts`` into ``out`` (mode 0600), one bookmark per part titled by its str; with
    ``a4_portrait``, every page fitted onto an A4 portrait page (``fit_a4_portrait``)."""
    if not parts:
        raise ValueError("aucun PDF à assembler")
    writer = PdfWriter()
    for titre, path in parts:
        reader = PdfReader(str(path), strict=False)
        if reader.is_encrypted and not _unlock(reader):
            raise ValueError(f"{path.name} : {RAISON_CHIFFRE}")
        if not a4_portrait:
            writer.append(reader, outline_item=titre, import_outline=False)
            continue
        premiere = len(writer.pages)
        for page in reader.pages:
            fit_a4_portrait(writer.add_page(page))
        if len(writer.pages) > premiere:
            writer.add_outline_item(title=titre, page_number=premiere)
    with private_output(out) as stream:
        writer.write(stream)
    return Path(out)


def fit_a4_portrait(page: PageObject) -> PageObject:
    """Turn a page (already added to a writer) into an A4 portrait page: its content, upright, scaled to fit
    and centred — a landscape or Letter page shrinks, nothing is cut nor left sideways."""
    largeur, hauteur = A4_PORTRAIT
    page.transfer_rotation_to_content()
    box = page.mediabox
    w, h = float(box.width), float(box.height)
    if abs(w - largeur) < 1 and abs(h - hauteur) < 1 and float(box.left) == 0 and float(box.bottom) == 0:
        return page
    echelle = min(largeur / w, hauteur / h)
    tx = (largeur - w * echelle) / 2 - float(box.left) * echelle
    ty = (hauteur - h * echelle) / 2 - float(box.bottom) * echelle
    page.add_transformation(Transformation().scale(echelle).translate(tx, ty))
    a4 = RectangleObject((0, 0, largeur, hauteur))
    page.mediabox = a4
    page.cropbox = a4
    page.trimbox = a4
    page.bleedbox = a4
    page.artbox = a4
    return page


def attach_file(pdf: Path, name: str, data: bytes) -> Path:
    """Embed ``data`` in ``pdf`` as an attached file named ``name`` (rewritten atomically, mode 0600): a reader
    lists it beside the pages, and a tool extracts it byte for byte."""
    writer = PdfWriter(clone_from=PdfReader(str(pdf), strict=False))
    writer.add_attachment(name, data)
    with private_output(pdf) as stream:
        writer.write(stream)
    return Path(pdf)
