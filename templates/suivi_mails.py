"""Contexts of the suivi e-mails: demande and relance of a bilan, the SA's daily digest.

Pure functions; every value comes out as a French string, ready for
``templates.mails.render_mail`` (``demande_bilan``, ``relance_bilan``,
``digest_echeancier``). The receipt's e-mail ``accuse_bilan`` takes
``templates.accuse_bilan.accuse_context`` as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from templates.accuse_bilan import periode_context
from francais.formats import compte, format_date, format_datetime_paris

RANGS = ("première", "deuxième", "troisième", "quatrième", "cinquième")


def demande_context(*, convention_numero: str, porteur_nom: str, periode: str, periode_debut: date,
                    periode_fin: date, date_limite: date, formulaire_nom: str) -> dict[str, str]:
    """Context of ``demande_bilan``: the pre-filled bilan form sent to the porteur.

    ``periode`` is ``"mi-parcours"`` or ``"final"``; ``date_limite`` a day, or an
    aware datetime when the deadline has an hour.
    """
    return {
        "convention_numero": convention_numero,
        "porteur_nom": porteur_nom,
        **periode_context(periode, periode_debut, periode_fin),
        "date_limite": _format_echeance(date_limite),
        "formulaire_nom": formulaire_nom,
    }


def relance_context(*, convention_numero: str, porteur_nom: str, periode: str, periode_debut: date,
                    periode_fin: date, date_limite: date, formulaire_nom: str, rang: int,
                    retard_jours: int) -> dict[str, str]:
    """Context of ``relance_bilan``: the ``rang``-th reminder, ``retard_jours`` days after the deadline."""
    if isinstance(rang, bool) or rang < 1:
        raise ValueError(f"rang de relance invalide : {rang!r}")
    if isinstance(retard_jours, bool) or retard_jours < 1:
        raise ValueError(f"une relance suit l'échéance d'au moins un jour : {retard_jours!r}")
    return {
        **demande_context(convention_numero=convention_numero, porteur_nom=porteur_nom, periode=periode,
                          periode_debut=periode_debut, periode_fin=periode_fin, date_limite=date_limite,
                          formulaire_nom=formulaire_nom),
        "rang": format_rang(rang),
        "retard": f"{retard_jours} jour{'s' if retard_jours > 1 else ''}",
    }


def digest_context(*, jour: date, envois: Iterable[str], retards: Iterable[str], fins_prochaines: Iterable[str],
                   a_corriger: Iterable[str] = (), attendus: Iterable[str] = (), echecs: Iterable[str] = (),
                   en_attente: Iterable[str] = (), passages: Iterable[str] = (),
                   purgeables: Iterable[str] = (), purgeables_total: int | None = None) -> dict[str, object]:
    """Context of ``digest_echeancier``, the SA's summary of one run of the échéancier on ``jour``.

    ``envois``, ``retards`` (due date passed, nothing received), ``a_corriger`` (received with errors),
    ``attendus`` (requested, not yet due), ``fins_prochaines``, ``echecs`` (mails given up) and ``en_attente``
    (what waits for the SA: dépôts and bilans non identifiés or à vérifier, with their reason) and ``passages``
    (runs that failed in the last day or were left « en cours » by a stopped process) and ``purgeables`` (what
    the retention rules allow to purge and no purge has removed yet; the first of ``purgeables_total``) are
    French lines, one per item.
    """
    lignes = {nom: [ligne.strip() for ligne in items if ligne.strip()]
              for nom, items in (("envois", envois), ("retards", retards), ("a_corriger", a_corriger),
                                 ("attendus", attendus), ("fins_prochaines", fins_prochaines), ("echecs", echecs),
                                 ("en_attente", en_attente), ("passages", passages), ("purgeables", purgeables))}
    resume = ", ".join((
        _compte(len(lignes["envois"]), "envoi", "envois", "aucun envoi"),
        _compte(len(lignes["retards"]), "retard", "retards", "aucun retard"),
        *([_compte(len(lignes["a_corriger"]), "bilan à corriger", "bilans à corriger", "")]
          if lignes["a_corriger"] else []),
        _compte(len(lignes["fins_prochaines"]), "fin de convention proche", "fins de convention proches",
                "aucune fin de convention proche"),
    ))
    if lignes["echecs"]:
        resume += ", " + _compte(len(lignes["echecs"]), "courriel en échec", "courriels en échec", "")
    if lignes["en_attente"]:
        resume += f", {len(lignes['en_attente'])} en attente"
    if lignes["passages"]:
        resume += ", " + _compte(len(lignes["passages"]), "passage en échec", "passages en échec", "")
    if lignes["purgeables"]:
        total = purgeables_total if purgeables_total is not None else len(lignes["purgeables"])
        resume += ", " + _compte(total, "élément purgeable", "éléments purgeables", "")
        if total > len(lignes["purgeables"]):
            lignes["purgeables"].append(f"et {compte(total - len(lignes['purgeables']), 'autre', 'autres')} "
                                        "(détail : « aap purge --simulation »)")
    return {"date": format_date(jour), **lignes, "resume": resume}


def format_rang(rang: int) -> str:
    """``1`` -> ``"première"``, ``2`` -> ``"deuxième"``…, ``7`` -> ``"7e"`` (a relance is feminine)."""
    return RANGS[rang - 1] if rang <= len(RANGS) else f"{rang}e"


def _format_echeance(moment: date) -> str:
    return format_datetime_paris(moment) if isinstance(moment, datetime) else format_date(moment)


def _compte(n: int, singulier: str, pluriel: str, aucun: str) -> str:
    return aucun if n == 0 else f"{n} {singulier if n == 1 else pluriel}"
