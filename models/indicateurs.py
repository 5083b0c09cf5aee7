"""The follow-up's pure rules: pro-rata objectives and the colour of each indicator.

A convention's objectives are yearly and per ETP (56 entrées, 70 en file active,
50 % de sorties positives, 6 partenariats par binôme — figures from the call's
config, never from here). At a report date the SA compares what was realised
with the share of the objective due by then (``objectif_pro_rata``), and each
indicator gets a colour: ``vert`` when enough is done, ``orange`` when it lags,
``rouge`` when it lags a lot, ``—`` when nothing was reported. Budget
consumption is coloured by its gap to the planned budget's pro rata, both
ways: under-spending is as much a warning as over-spending. No clock here:
the report date is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

from babel.numbers import format_percent

__all__ = [
    "COULEURS",
    "NON_RENSEIGNE",
    "Couleur",
    "Seuils",
    "SeuilsBudget",
    "couleur",
    "couleur_budget",
    "describe_seuils",
    "fraction_ecoulee",
    "objectif_pro_rata",
    "objectifs_au_prorata",
]

Couleur = Literal["vert", "orange", "rouge", "—"]
NON_RENSEIGNE: Final = "—"
COULEURS: Final[tuple[Couleur, ...]] = ("vert", "orange", "rouge", "—")

_ZERO = Decimal(0)
_UN = Decimal(1)


def _decimal(valeur: object, nom: str) -> Decimal:
    if isinstance(valeur, bool) or not isinstance(valeur, (Decimal, int)):
        raise TypeError(f"{nom} attendu en Decimal, reçu {type(valeur).__name__}")
    valeur = Decimal(valeur)
    if not valeur.is_finite():
        raise ValueError(f"{nom} invalide : {valeur}")
    return valeur


def _positif(valeur: object, nom: str) -> Decimal:
    valeur = _decimal(valeur, nom)
    if valeur < _ZERO:
        raise ValueError(f"{nom} négatif : {valeur}")
    return valeur


@dataclass(frozen=True)
class Seuils:
    """Share of the pro-rata objective reached: ``vert`` from 90 %, ``orange`` from 70 %."""

    vert: Decimal = Decimal("0.9")
    orange: Decimal = Decimal("0.7")

    def __post_init__(self) -> None:
        vert, orange = _decimal(self.vert, "seuil vert"), _decimal(self.orange, "seuil orange")
        if not _ZERO <= orange <= vert:
            raise ValueError(f"seuils incohérents : orange {orange} doit être entre 0 et vert {vert}")


@dataclass(frozen=True)
class SeuilsBudget:
    """Largest gap between consumption and the planned budget's pro rata, as a share of it.

    Within ``vert`` (±10 %) the budget is on track, within ``orange`` (±25 %) it
    needs watching, beyond it is ``rouge``.
    """

    vert: Decimal = Decimal("0.10")
    orange: Decimal = Decimal("0.25")

    def __post_init__(self) -> None:
        vert, orange = _decimal(self.vert, "écart vert"), _decimal(self.orange, "écart orange")
        if not _ZERO <= vert <= orange:
            raise ValueError(f"écarts incohérents : vert {vert} doit être entre 0 et orange {orange}")


def objectif_pro_rata(objectif_annuel_par_etp: Decimal, etp: Decimal, fraction_ecoulee: Decimal) -> Decimal:
    """The objective due by now: ``56 × 0,8 ETP × 0,5 an = 22,4`` (exact, not rounded)."""
    objectif = _positif(objectif_annuel_par_etp, "objectif annuel")
    etp = _positif(etp, "ETP")
    fraction = _positif(fraction_ecoulee, "fraction écoulée")
    if fraction > _UN:
        raise ValueError(f"fraction écoulée supérieure à 1 : {fraction}")
    return objectif * etp * fraction


def objectifs_au_prorata(etp: Decimal, fraction: Decimal, *, entrees: int, file_active: int,
                         taux_sorties_positives: Decimal, partenariats_par_binome: int) -> dict[str, Decimal]:
    """The call's objectives for ``etp`` over ``fraction`` of the year, to one decimal — the figures the
    convention, the bilan form and the report all show (a binôme is two ETP; the file active is a stock,
    never pro rata; the rate is a rate). 56 entrées × 1,8 ETP × 0,5 → 50,4."""
    un_dixieme = Decimal("0.1")
    return {
        "entrees": objectif_pro_rata(Decimal(entrees), etp, fraction).quantize(un_dixieme, ROUND_HALF_UP),
        "file_active": objectif_pro_rata(Decimal(file_active), etp, _UN).quantize(un_dixieme, ROUND_HALF_UP),
        "taux_sorties_positives": taux_sorties_positives,
        "partenariats": objectif_pro_rata(Decimal(partenariats_par_binome) / 2, etp, fraction)
        .quantize(un_dixieme, ROUND_HALF_UP),
    }


def fraction_ecoulee(debut: date, fin: date, arrete_au: date) -> Decimal:
    """Share of ``debut``–``fin`` elapsed at the end of ``arrete_au``, in days, both ends included.

    The period's first day counts as one day elapsed, its last day as all of it;
    before ``debut`` it is 0, after ``fin`` it stays 1.
    """
    if fin < debut:
        raise ValueError(f"période invalide : fin {fin.isoformat()} avant début {debut.isoformat()}")
    jours = (fin - debut).days + 1
    ecoules = min(max((arrete_au - debut).days + 1, 0), jours)
    return Decimal(ecoules) / Decimal(jours)


def couleur(realise: Decimal | int | None, objectif: Decimal, seuils: Seuils = Seuils()) -> Couleur:
    """``vert`` from ``seuils.vert`` of ``objectif`` (included), ``orange`` from ``seuils.orange``, else ``rouge``.

    ``—`` when nothing was reported (``None``); an objective of 0 is always met.
    """
    if realise is None:
        return NON_RENSEIGNE
    realise = _positif(realise, "réalisé")
    objectif = _positif(objectif, "objectif")
    if objectif == _ZERO or realise >= objectif * seuils.vert:
        return "vert"
    if realise >= objectif * seuils.orange:
        return "orange"
    return "rouge"


def couleur_budget(
    consomme: Decimal | None,
    prevu: Decimal,
    fraction: Decimal,
    seuils: SeuilsBudget = SeuilsBudget(),
) -> Couleur:
    """Colour of the consumption against ``prevu × fraction``, by its gap either way.

    ``|consommé − attendu| ≤ seuils.vert × attendu`` is ``vert``, up to
    ``seuils.orange × attendu`` ``orange``, beyond ``rouge``; ``—`` when nothing
    was reported. With nothing expected yet (budget 0 or period not begun),
    nothing spent is ``vert`` and any spending is ``rouge``.
    """
    if consomme is None:
        return NON_RENSEIGNE
    consomme = _positif(consomme, "budget consommé")
    attendu = _positif(prevu, "budget prévu") * _positif(fraction, "fraction écoulée")
    ecart = abs(consomme - attendu)
    if ecart <= attendu * seuils.vert:
        return "vert"
    if ecart <= attendu * seuils.orange:
        return "orange"
    return "rouge"


def describe_seuils(seuils: Seuils = Seuils(), budget: SeuilsBudget = SeuilsBudget()) -> list[str]:
    """The legend, in French, for a report coloured with ``seuils`` and ``budget``."""
    vert, orange = _pourcent(seuils.vert), _pourcent(seuils.orange)
    ecart_vert, ecart_orange = _pourcent(budget.vert), _pourcent(budget.orange)
    return [
        f"Vert : au moins {vert} de l'objectif au prorata de la période écoulée.",
        f"Orange : de {orange} à moins de {vert} de l'objectif au prorata.",
        f"Rouge : moins de {orange} de l'objectif au prorata.",
        f"Budget : vert si la consommation s'écarte d'au plus {ecart_vert} du budget prévu "
        f"au prorata (en plus ou en moins), orange jusqu'à {ecart_orange}, rouge au-delà.",
        f"{NON_RENSEIGNE} : non renseigné (bilan non reçu).",
    ]


def _pourcent(valeur: Decimal) -> str:
    return format_percent(valeur, locale="fr_FR", decimal_quantization=False)
