"""The comité de pilotage: its pack, its decisions, the notifications; and the call's lifecycle flow."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path

from prefect import flow, pause_flow_run, task
from prefect.input import RunInput

from actions.comite import notify_decisions, prepare_comite, record_decisions
from flows.instruction import instruct
from flows.mail import send_outbox
from flows.runtime import parse_moment, runtime


@task(name="preparer-comite")
def prepare(annee: int, comite_le: str | None, sortie: str | None, maintenant: str | None) -> dict:
    rt = runtime()
    report = prepare_comite(
        rt.factory, rt.storage, annee, comite_le=date.fromisoformat(comite_le) if comite_le else None,
        sortie=Path(sortie) if sortie else None, maintenant=parse_moment(maintenant),
    )
    return {k: (str(v) if isinstance(v, (Path, date)) else v) for k, v in asdict(report).items()}


@task(name="enregistrer-decisions")
def record(annee: int, fichier: str, date_comite: str | None, maintenant: str | None) -> dict:
    rt = runtime()
    report = record_decisions(rt.factory, annee, Path(fichier), maintenant=parse_moment(maintenant),
                              date_comite=date.fromisoformat(date_comite) if date_comite else None)
    return {k: (str(v) if isinstance(v, date) else v) for k, v in asdict(report).items()}


@task(name="notifier-decisions")
def notify(annee: int, maintenant: str | None) -> int:
    rt = runtime()
    return notify_decisions(rt.factory, rt.storage, annee, pdf=rt.settings.pdf == "auto", maintenant=parse_moment(maintenant))


@flow(name="preparation-comite")
def preparation_comite(annee: int, comite_le: str | None = None, sortie: str | None = None, maintenant: str | None = None) -> dict:
    """Écrit la synthèse à remplir en séance et le recueil des notes d'instruction."""
    return prepare(annee, comite_le, sortie, maintenant)


@flow(name="decisions-comite")
def decisions_comite(annee: int, fichier: str, date_comite: str | None = None, maintenant: str | None = None) -> dict:
    """Enregistre les décisions du classeur rempli (tout ou rien) et notifie chaque porteur."""
    result = record(annee, fichier, date_comite, maintenant)
    result["lettres"] = notify(annee, maintenant)
    result["courriels"] = send_outbox()
    return result


class DecisionsInput(RunInput):
    """What the SA gives back after the comité, from the Prefect UI."""

    fichier: str
    date_comite: str | None = None


@flow(name="cycle-appel")
def cycle_appel(annee: int, maintenant: str | None = None, attente_secondes: int = 14 * 24 * 3600) -> dict:
    """Après la date limite : instruction, dossier du comité, attente des décisions, notifications."""
    instruite = instruct(annee, maintenant)
    pack = prepare(annee, None, None, maintenant)
    answer = pause_flow_run(
        wait_for_input=DecisionsInput.with_initial_data(fichier=pack["synthese"], description=(
            "Remplissez les colonnes « Décision » et « Motif ou questions » du classeur de synthèse, "
            "puis indiquez son chemin ici."
        )),
        timeout=attente_secondes,
        poll_interval=2,
    )
    decisions = record(annee, answer.fichier, answer.date_comite, maintenant)
    decisions["lettres"] = notify(annee, maintenant)
    decisions["courriels"] = send_outbox()
    return {"instruction": instruite, "comite": pack, "decisions": decisions}
