"""Renders the plain-text e-mails of ``templates/mails/<name>.txt.j2``.

A mail template's first line is ``Objet: ...``, the subject; the rest is the
body. Plain text, so no autoescape; ``StrictUndefined`` so a missing value is an
error. Every template receives the organisation's identity as ``organisme`` and signs
with the one block ``_signature.txt.j2``. Every value placed in the subject has its line breaks replaced by a
space: a porteur's name cannot inject a mail header.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template

from config.organisme import Organisme, current_organisme, organisme_context
from francais.formats import espace_avant_point_virgule, format_date, format_datetime_paris

MAILS_DIR = Path(__file__).resolve().parent / "mails"
SUFFIX = ".txt.j2"

_SUBJECT_LINE = re.compile(r"Objet\s*:\s*(?P<objet>.*)")
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")
_NAME = re.compile(r"[a-z0-9_]+")


def render_mail(name: str, context: dict[str, Any], *, organisme: Organisme | None = None) -> tuple[str, str]:
    """Renders mail template ``name`` (``"attestation_depot"``) -> ``(subject, body)``."""
    subject_tpl, body_tpl = _compiled(_template_name(name))
    context = {**context, "organisme": organisme_context(organisme or current_organisme())}
    subject = " ".join(one_line(subject_tpl.render(context)).split())
    body = body_tpl.render(context).strip("\n") + "\n"
    return espace_avant_point_virgule(subject), espace_avant_point_virgule(body)


def one_line(value: object) -> str:
    """``str(value)`` with every line break (CR, LF, U+2028…) replaced by a space."""
    return _LINE_BREAKS.sub(" ", "" if value is None else str(value))


def annonce_context(*, appel_titre: str, appel_annee: int, date_limite: datetime,
                    formulaire_nom: str, comite_le: date | None = None,
                    conventions_epuisees: Sequence[tuple[str, date, date, int]] = ()) -> dict[str, Any]:
    """Context of ``annonce_appel``: the call announced to known porteurs.

    ``conventions_epuisees``: the porteur's conventions that can no longer be renewed, as
    ``(numero, debut, fin, renouvellements)``; the mail then says that only an answer to this call continues them.
    """
    return {
        "appel_titre": appel_titre,
        "appel_annee": str(appel_annee),
        "date_limite": format_datetime_paris(date_limite),
        "formulaire_nom": formulaire_nom,
        "comite_le": format_date(comite_le) if comite_le else None,
        "conventions_epuisees": [
            {"numero": numero, "debut": format_date(debut), "fin": format_date(fin), "renouvellements": str(n)}
            for numero, debut, fin, n in conventions_epuisees
        ],
    }


def _template_name(name: str) -> str:
    base = name.removesuffix(SUFFIX)
    if not _NAME.fullmatch(base):
        raise ValueError(f"nom de modèle de courriel invalide : {name!r}")
    return base + SUFFIX


@lru_cache(maxsize=None)
def _compiled(filename: str) -> tuple[Template, Template]:
    source, _, _ = _body_env().loader.get_source(_body_env(), filename)  # type: ignore[union-attr]
    first, _, rest = source.partition("\n")
    match = _SUBJECT_LINE.fullmatch(first.strip())
    if match is None:
        raise ValueError(f"{filename} : la première ligne doit être « Objet: ... »")
    return _subject_env().from_string(match["objet"]), _body_env().from_string(rest)


@lru_cache(maxsize=1)
def _body_env() -> Environment:
    return Environment(
        loader=FileSystemLoader(MAILS_DIR),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def _subject_env() -> Environment:
    return Environment(undefined=StrictUndefined, autoescape=False, finalize=one_line)
