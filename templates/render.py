"""Renders the .docx templates of this package, and reads documents back.

Always ``autoescape=True`` (an ``&`` or ``<`` in a porteur's name would
otherwise corrupt the XML and silently truncate the document) and
``StrictUndefined`` (a missing value is an error, never an empty gap).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined

from adapters.storage import private_output
from templates.attestation import AttestationData, PieceLine, attestation_context

__all__ = [
    "AttestationData",
    "PieceLine",
    "TEMPLATES_DIR",
    "attestation_context",
    "read_docx_text",
    "render_attestation",
    "render_docx",
]

TEMPLATES_DIR = Path(__file__).resolve().parent
FILE_MODE = 0o600


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


_ENV = _CompilingOnceEnvironment(undefined=StrictUndefined, autoescape=True)


def render_docx(template_name: str, context: dict[str, Any], out: Path) -> Path:
    """Renders ``templates/<template_name>`` with ``context`` into ``out`` (mode 0600).

    The file appears atomically: a failed render leaves no partial document.
    """
    template_path = _template_path(template_name)
    tpl = DocxTemplate(str(template_path))
    tpl.render(context, _ENV, autoescape=True)
    with private_output(out) as stream:
        tpl.save(stream)
    return Path(out)


def render_attestation(a: AttestationData, out: Path) -> Path:
    """Renders the attestation de dépôt of ``a`` into ``out``."""
    return render_docx("attestation_depot.docx", attestation_context(a), out)


def read_docx_text(path: Path) -> str:
    """All text of a .docx: header, body paragraphs and table cells, footer; one line each."""
    doc = Document(str(path))
    lines: list[str] = []
    for section in doc.sections:
        _collect(section.header.iter_inner_content(), lines)
    _collect(doc.iter_inner_content(), lines)
    for section in doc.sections:
        _collect(section.footer.iter_inner_content(), lines)
    return "\n".join(lines)


def _collect(blocks: Any, lines: list[str]) -> None:
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
