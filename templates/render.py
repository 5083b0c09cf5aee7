"""Renders the .docx templates of this package, and reads documents back.

Always ``autoescape=True`` (an ``&`` or ``<`` in a porteur's name would
otherwise corrupt the XML and silently truncate the document) and
``StrictUndefined`` (a missing value is an error, never an empty gap).

The .docx libraries (docxtpl, python-docx, lxml) are imported when a document is rendered or read: a process that
only records documents (the relève's, whose workers render) asks this module for a template's SHA-256 without them.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, StrictUndefined

from adapters.storage import private_output
from config.organisme import Organisme, current_organisme, organisme_context
from francais.formats import espace_avant_point_virgule
from templates.attestation import AttestationData, PieceLine, attestation_context

if TYPE_CHECKING:
    from docxtpl import DocxTemplate

__all__ = [
    "AttestationData",
    "PieceLine",
    "TEMPLATES_DIR",
    "attestation_context",
    "read_docx_text",
    "render_attestation",
    "render_docx",
    "render_job",
    "template_sha256",
]

TEMPLATES_DIR = Path(__file__).resolve().parent
FILE_MODE = 0o600
LOGO_HEIGHT_MM = 18


class _CompilingOnceEnvironment(Environment):
    """docxtpl compiles each part's XML with ``from_string`` on every render; the XML of a template is
    the same every time, so compile it once (a third of the cost of a render)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._compiled: dict[str, Any] = {}

    def from_string(self, source, globals=None, template_class=None):  # noqa: ANN001, ANN201, A002
        if globals or template_class or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        cached = self._compiled.get(source)
        if cached is None:
            cached = self._compiled[source] = super().from_string(source)
        return cached


def _french_spacing(value: Any) -> Any:
    """Every plain text a document shows gets French spacing (Markup and rich text are left as they are)."""
    return espace_avant_point_virgule(value) if type(value) is str else value


_ENV = _CompilingOnceEnvironment(undefined=StrictUndefined, autoescape=True, finalize=_french_spacing)


def render_docx(template_name: str, context: dict[str, Any], out: Path, *, organisme: Organisme | None = None) -> Path:
    """Renders ``templates/<template_name>`` with ``context`` and the organisation's identity (``organisme``)
    into ``out`` (mode 0600).

    The document's core properties name the template and its SHA-256, so an auditor knows which wording was sent.
    The file appears atomically: a failed render leaves no partial document.
    """
    from docxtpl import DocxTemplate

    template_path = _template_path(template_name)
    tpl = DocxTemplate(str(template_path))
    organisme = organisme or current_organisme()
    tpl.render({**context, "organisme": render_identity(tpl, organisme)}, _ENV, autoescape=True)
    props = tpl.docx.core_properties
    props.author = organisme.nom
    props.identifier = template_sha256(template_name)
    props.comments = f"Établi à partir du modèle {template_name} (SHA-256 {props.identifier})"
    with private_output(out) as stream:
        tpl.save(stream)
    return Path(out)


RENDUS_ENTRE_RESTITUTIONS = 10
"""A rendering worker gives its freed memory back to the system after this many documents: after each one, it
cost 4 to 5 ms of a 30 ms render (the pages given back are faulted in again by the next render); every 10, under
1 ms (measured over 100 attestations in a process holding the test modules, 95 Mo at the end either way: the
lean worker's 65 Mo below was measured with a give-back after each document)."""
_rendus = 0


def render_job(job: tuple[str, dict[str, Any], Path]) -> Path:
    """``render_docx(template_name, context, out)``, as a worker process receives it: the function is found in
    this module, which loads no ORM, so that a rendering worker stays small; and the memory renders used goes
    back to the system every ``RENDUS_ENTRE_RESTITUTIONS`` documents (a worker that rendered 100 attestations
    holds 113 Mo without it, about 65 with it)."""
    global _rendus
    try:
        return render_docx(*job)
    finally:
        _rendus += 1
        if _rendus % RENDUS_ENTRE_RESTITUTIONS == 0:
            _give_back_memory()


@lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to give back this way
        return None


def _give_back_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def template_sha256(template_name: str) -> str:
    """The SHA-256 of the template file as it is now (recomputed when the file changes)."""
    path = _template_path(template_name)
    stat = path.stat()
    return _sha256(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=64)
def _sha256(path: Path, _mtime_ns: int, _size: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def render_identity(tpl: DocxTemplate, organisme: Organisme) -> dict[str, Any]:
    """The ``organisme`` a document receives, with its logo as an image of ``tpl`` when there is one."""
    identity = organisme_context(organisme)
    if organisme.logo is not None:
        from docx.shared import Mm
        from docxtpl import InlineImage

        identity["logo"] = InlineImage(tpl, str(organisme.logo), height=Mm(LOGO_HEIGHT_MM))
    return identity


def render_attestation(a: AttestationData, out: Path) -> Path:
    """Renders the attestation de dépôt of ``a`` into ``out``."""
    return render_docx("attestation_depot.docx", attestation_context(a), out)


def read_docx_text(path: Path) -> str:
    """All text of a .docx: header, body paragraphs and table cells, footer; one line each."""
    from docx import Document

    doc = Document(str(path))
    lines: list[str] = []
    for section in doc.sections:
        _collect(section.header.iter_inner_content(), lines)
    _collect(doc.iter_inner_content(), lines)
    for section in doc.sections:
        _collect(section.footer.iter_inner_content(), lines)
    return "\n".join(lines)


def _collect(blocks: Any, lines: list[str]) -> None:
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for block in blocks:
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                for cell in _unique_cells(row.cells):
                    _collect(cell.iter_inner_content(), lines)


def _unique_cells(cells: Any) -> list[Any]:
    """Merged cells appear once per grid column in python-docx; keep each once."""
    seen: set[int] = set()
    unique = []
    for cell in cells:
        if id(cell._tc) not in seen:
            seen.add(id(cell._tc))
            unique.append(cell)
    return unique


def _template_path(template_name: str) -> Path:
    path = (TEMPLATES_DIR / template_name).resolve()
    if path.parent != TEMPLATES_DIR or path.suffix != ".docx":
        raise ValueError(f"modèle de document invalide : {template_name!r}")
    if not path.is_file():
        raise FileNotFoundError(f"modèle de document introuvable : {path}")
    return path
