"""``aap demo``, the year after the comité: the échéancier replayed day by day with a simulated clock,
bilans coming back (one late and reminded twice, one with errors then corrected), a renewal,
and what the SA and the financeurs read at the end."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from adapters.eml_samples import build_depot_email, write_maildir_message
from flows.demo_data import cv_pdf
from forms.bilan import (
    NOMS_DEPENSES,
    NOMS_QUANTITATIFS,
    NOMS_RESSOURCES,
    NOMS_SORTIES_POSITIVES,
    fill_bilan_form,
)
from models.convention import Convention
from models.suivi import Echeance, NatureEcheance

PARIS = ZoneInfo("Europe/Paris")
ANNEE = 2018
ADRESSE = "plie-aap@example.org"


@dataclass(frozen=True)
class Retour:
    """A porteur sends its bilan back on ``jour`` (``erreurs``: the version with mistakes)."""

    jour: date
    convention: int  # index in the list of conventions
    nature: NatureEcheance
    erreurs: bool = False


def schedule() -> list[Retour]:
    mi, fin = NatureEcheance.MI_PARCOURS, NatureEcheance.FINAL
    return [
        Retour(date(2018, 7, 20), 0, mi), Retour(date(2018, 7, 22), 1, mi, erreurs=True),
        Retour(date(2018, 7, 28), 1, mi), Retour(date(2018, 7, 25), 2, mi),
        Retour(date(2018, 8, 24), 3, mi),  # late: reminded on 6 and 20 August
        *(Retour(date(2019, 2, 20), i, fin) for i in range(4)),
    ]


def replay_year(rt, sortie: Path, *, renew: callable) -> list[str]:
    """Every day an échéancier run would matter, from January 2018 to the end of March 2019."""
    from flows.depots import releve_depots
    from flows.echeancier import echeancier

    boite = sortie / "boite-bilans"
    retours = schedule()
    days = sorted({*_twice_a_month(date(2018, 1, 1), date(2019, 3, 31)), *(r.jour for r in retours),
                   date(2018, 7, 15), date(2018, 8, 6), date(2018, 8, 20), date(2018, 11, 15)})
    log: list[str] = []
    for jour in days:
        for retour in [r for r in retours if r.jour == jour]:
            if _send_bilan(rt, boite, sortie, retour):
                releve = releve_depots(str(boite), ANNEE, _at(jour, 11))
                log.append(f"{jour:%d/%m/%Y} : bilan reçu ({releve['depots']['bilans']} nouveau)"
                           + (" — avec des erreurs" if retour.erreurs else ""))
        if jour == date(2018, 11, 15):
            log.append(renew(jour))
        result = echeancier(_at(jour, 7))
        for envoi in result["envois"]:
            log.append(f"{jour:%d/%m/%Y} : {envoi}")
    return log


def _twice_a_month(start: date, end: date) -> list[date]:
    out, d = [], start
    while d <= end:
        out += [d, d.replace(day=15)]
        d = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [x for x in out if x <= end]


def _at(jour: date, hour: int) -> str:
    return datetime(jour.year, jour.month, jour.day, hour, 0, tzinfo=PARIS).isoformat()


def _sent(sortie: Path, retour: Retour) -> Path:
    """The mark that this step of the scenario was played, named as a person would name it
    (``2018-07-22-bilan-mi-parcours-convention-2-avec-erreurs``)."""
    suffixe = "-avec-erreurs" if retour.erreurs else ""
    return sortie / "bilans-envoyes" / f"{retour.jour}-bilan-{retour.nature.value}-convention-{retour.convention + 1}{suffixe}"


def _send_bilan(rt, boite: Path, sortie: Path, retour: Retour) -> bool:
    """Fill the form the porteur received and mail it back with its justificatifs (once per scenario step)."""
    if _sent(sortie, retour).exists():
        return False
    with rt.factory() as session:
        conventions = list(session.scalars(select(Convention).order_by(Convention.numero)))
        if retour.convention >= len(conventions):
            return False
        c = conventions[retour.convention]
        e = session.scalar(select(Echeance).where(Echeance.convention_id == c.id, Echeance.nature == retour.nature,
                                                  Echeance.periode_debut == date(ANNEE, 1, 1)))
        if e is None or e.formulaire_chemin is None:
            return False
        blank, contact, nom = rt.storage.path(e.formulaire_chemin), c.dossier.porteur.contact_email, c.dossier.porteur.nom
        values, files = _figures(c, retour)
    out = sortie / "bilans-remplis" / f"{e.jeton}{'-erreurs' if retour.erreurs else ''}.xlsx"
    out.parent.mkdir(parents=True, exist_ok=True)
    fill_bilan_form(blank, out, values)
    when = datetime(retour.jour.year, retour.jour.month, retour.jour.day, 10, 30, tzinfo=PARIS)
    raw = build_depot_email(
        sender=contact, sender_name=nom, to=ADRESSE, subject=f"Bilan {retour.nature.value} {ANNEE} — {c.numero}",
        received_at=when, message_id=f"<bilan-{e.jeton}-{int(retour.erreurs)}@example.org>",
        attachments=[(f"{e.jeton}.xlsx", out.read_bytes()), *files],
    )
    write_maildir_message(boite, raw, delivered_at=when)
    marker = _sent(sortie, retour)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return True


def _figures(c: Convention, retour: Retour) -> tuple[dict, list[tuple[str, bytes]]]:
    """Plausible figures for the period (a little under the objectives for some), and the justificatifs."""
    part = Decimal("0.5") if retour.nature is NatureEcheance.MI_PARCOURS else Decimal("1")
    etp = c.etp
    entrees = int(56 * etp * part * Decimal("0.95" if retour.convention % 2 == 0 else "0.75"))
    sorties = int(entrees * Decimal("0.6"))
    positives = {"cdi": sorties // 4, "cdd": sorties // 5, "formation": sorties // 6, "interim": sorties // 10}
    if retour.erreurs:
        positives["cdi"] = sorties + 3  # more positive exits than exits: the check will say so
    depenses = {"salaires": (c.budget_salaires * part).quantize(Decimal("0.01")),
                "deplacements": (c.budget_deplacements * part).quantize(Decimal("0.01")),
                "autres": (c.budget_autres * part).quantize(Decimal("0.01"))}
    files = [(f"justificatif_{cat}_{retour.nature.value}.pdf", cv_pdf(f"Justificatif {cat} {c.numero}"))
             for cat in ("salaires", "deplacements")]
    justificatifs = [(cat, f"Pièces {cat} {retour.nature.value}", depenses[cat], name)
                     for cat, (name, _) in zip(("salaires", "deplacements"), files)]
    if depenses["autres"]:
        justificatifs.append(("autres", "Autres dépenses", depenses["autres"], files[0][0]))
    values = {
        NOMS_QUANTITATIFS["entrees"]: entrees, NOMS_QUANTITATIFS["file_active"]: int(70 * etp * Decimal("0.9")),
        NOMS_QUANTITATIFS["sorties"]: sorties, NOMS_QUANTITATIFS["entreprises_rencontrees"]: int(12 * etp * part),
        NOMS_QUANTITATIFS["partenariats"]: int(3 * etp * part) + 1, NOMS_QUANTITATIFS["participants_qpv"]: entrees // 3,
        NOMS_QUANTITATIFS["participants_rsa"]: entrees // 2,
        **{NOMS_SORTIES_POSITIVES[k]: v for k, v in positives.items()},
        "bilan_qualitatif": "Accompagnement renforcé ; partenariats avec le BTP et l'aide à domicile ; "
                            "deux jobdatings co-organisés avec le PLIE.",
        **{NOMS_DEPENSES[k]: v for k, v in depenses.items()},
        NOMS_RESSOURCES["fse"]: (c.ressources_fse * part).quantize(Decimal("0.01")),
        NOMS_RESSOURCES["plie"]: (c.ressources_plie * part).quantize(Decimal("0.01")),
        "justificatifs": justificatifs,
    }
    return values, files
