"""Text that lies: invisible format characters (bidi controls, zero-width marks) are not kept.

A name written ``Association\u202eesoR`` shows reversed on screen; ``Dupont\u200b`` looks like
``Dupont`` but is another name. Unicode category Cf holds every such character (bidi embeddings,
overrides and isolates, zero-width spaces and joiners, the byte-order mark, the soft hyphen…).
"""
from __future__ import annotations

import unicodedata

FORMAT_CATEGORY = "Cf"


def without_format_characters(text: str) -> str:
    """``text`` without its Unicode category Cf characters."""
    if text.isascii():
        return text
    return "".join(c for c in text if unicodedata.category(c) != FORMAT_CATEGORY)


def has_format_characters(text: str) -> bool:
    return not text.isascii() and any(unicodedata.category(c) == FORMAT_CATEGORY for c in text)


def cleaning_motif(champs: list[str] | tuple[str, ...]) -> str:
    """The note a dépôt carries when text it brought was cleaned (``champs``: what was, in French)."""
    return ("caractères invisibles (contrôles du sens d'écriture, espaces sans largeur…) retirés de : "
            + ", ".join(champs))
