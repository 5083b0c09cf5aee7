"""The SIRET rule: what a porteur typed becomes 14 ASCII digits with a valid key, or a French reason.

NFKC first (full-width ``７３２…`` and mathematical digits become ``732…``), then separators and
invisible characters go; what is left must be exactly 14 ASCII digits. Other Unicode digits
(Arabic-Indic, Devanagari…) are refused, never read as numbers: one structure, one SIRET string.
"""
from __future__ import annotations

import re
import unicodedata

from models.texte import without_format_characters

LA_POSTE_SIREN = "356000000"
LA_POSTE_SIEGE = "35600000000048"  # the head office follows Luhn like everyone else
_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u2212]")
_FOURTEEN_ASCII_DIGITS = re.compile(r"[0-9]{14}")
_APERCU_MAX = 40


def normalize_siret(raw: str | None) -> str:
    """NFKC, without separators (spaces, dots, dashes) nor invisible characters."""
    text = without_format_characters(unicodedata.normalize("NFKC", raw or ""))
    return _SEPARATORS.sub("", text)


def is_valid_siret(siret: str) -> bool:
    """14 ASCII digits passing the Luhn check (La Poste's establishments use a digit-sum rule)."""
    if not _FOURTEEN_ASCII_DIGITS.fullmatch(siret):
        return False
    if siret.startswith(LA_POSTE_SIREN) and siret != LA_POSTE_SIEGE:
        return sum(int(c) for c in siret) % 5 == 0
    total = 0
    for i, c in enumerate(reversed(siret)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def siret_motif(raw: str | None) -> str | None:
    """None when the SIRET is valid, else the French reason (quoting what was typed, cleaned)."""
    siret = normalize_siret(raw)
    if not siret:
        return "SIRET absent du formulaire"
    shown = " ".join(without_format_characters(raw or "").split())[:_APERCU_MAX]
    if not _FOURTEEN_ASCII_DIGITS.fullmatch(siret):
        return f"SIRET invalide : « {shown} » (14 chiffres attendus)"
    if not is_valid_siret(siret):
        return f"SIRET invalide : « {shown} » (clé de contrôle incorrecte)"
    return None
