"""French formats for every text a person reads (documents, e-mails, lists).

Pure functions over babel's ``fr_FR`` locale. Babel's separators are kept as
they are: U+202F (narrow no-break space) between thousands, U+00A0 (no-break
space) before ``€`` and before size units, so that a figure never breaks across
two lines.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal

LOCALE = "fr_FR"
PARIS = ZoneInfo("Europe/Paris")
NBSP = "\xa0"
NNBSP = "\u202f"
_POINT_VIRGULE = re.compile(r"(?<=[\w)\]»%€.])[ \u00a0\u202f]*;(?=\s|$)")

_UNITES_TAILLE = ("ko", "Mo", "Go", "To")


def format_euros(montant: Decimal) -> str:
    """``Decimal("44500")`` -> ``"44 500,00 €"`` (U+202F, U+00A0 inside)."""
    _require_decimal(montant)
    return format_currency(montant, "EUR", locale=LOCALE)


def format_decimal_fr(valeur: Decimal) -> str:
    """``Decimal("0.5")`` -> ``"0,5"``; keeps every significant decimal."""
    _require_decimal(valeur)
    return format_decimal(valeur, locale=LOCALE, decimal_quantization=False)


def compte(n: int, singulier: str, pluriel: str) -> str:
    """``compte(3, "pièce manquante", "pièces manquantes")`` -> ``"3 pièces manquantes"``; 0 and 1 take the
    singular, as French does (« 0 constat bloquant »); thousands grouped (``"10 000 messages lus"``)."""
    return f"{format_decimal(n, locale=LOCALE)} {singulier if abs(n) < 2 else pluriel}"


def format_objectif(valeur: Decimal) -> str:
    """A target counted in people or partnerships, as people write it: the whole number that meets it.

    ``Decimal("100.8")`` -> ``"101"`` (« au moins 100,8 entrées » is met exactly at 101), ``"56"`` -> ``"56"``.
    Every document, form and mail writes objectives through this one function."""
    _require_decimal(valeur)
    return format_decimal(Decimal(valeur).to_integral_value(rounding=ROUND_CEILING), locale=LOCALE)


def espace_avant_point_virgule(texte: str) -> str:
    """French spacing before « ; »: a narrow no-break space (U+202F), never a plain space nor none.

    ``"ressources ; bilan"`` and ``"ressources; bilan"`` -> ``"ressources\u202f; bilan"``. Applied to every
    value a document shows and to every mail, so the rule lives here once."""
    return _POINT_VIRGULE.sub(NNBSP + ";", texte)


def format_date(jour: date) -> str:
    """``date(2017, 12, 7)`` -> ``"7 décembre 2017"``; the first is ``"1er"``.

    An aware ``datetime`` is first converted to Paris time; a naive one is
    refused (its day is ambiguous).
    """
    if isinstance(jour, datetime):
        jour = to_paris(jour).date()
    jour_du_mois = "1er" if jour.day == 1 else str(jour.day)
    return f"{jour_du_mois} {babel_format_date(jour, 'MMMM y', locale=LOCALE)}"


def format_datetime_paris(moment: datetime) -> str:
    """Aware ``datetime`` -> ``"7 décembre 2017 à 17 h 00"``, in Paris time."""
    local = to_paris(moment)
    return f"{format_date(local.date())} à {local.hour} h {local.minute:02d}"


def format_taille(n_octets: int) -> str:
    """``12345`` -> ``"12,3 ko"``; units o, ko, Mo, Go, To (1 ko = 1 000 o)."""
    if isinstance(n_octets, bool) or not isinstance(n_octets, int) or n_octets < 0:
        raise ValueError(f"taille invalide : {n_octets!r}")
    if n_octets < 1000:
        return f"{n_octets}{NBSP}o"
    valeur = Decimal(n_octets)
    for unite in _UNITES_TAILLE:
        valeur /= 1000
        arrondi = valeur.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if arrondi < 1000 or unite == _UNITES_TAILLE[-1]:
            texte = format_decimal(arrondi, format="#,##0.#", locale=LOCALE)
            return f"{texte}{NBSP}{unite}"
    raise AssertionError("unreachable")


def to_paris(moment: datetime) -> datetime:
    """An aware ``datetime`` in Europe/Paris; a naive one raises ``ValueError``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"date sans fuseau horaire : {moment.isoformat()}")
    return moment.astimezone(PARIS)


def _require_decimal(valeur: object) -> None:
    if isinstance(valeur, bool) or not isinstance(valeur, (Decimal, int)):
        raise TypeError(f"montant attendu en Decimal, reçu {type(valeur).__name__}")
