"""The comité de pilotage: its pack, its decisions, the notifications."""
from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path

from actions.comite import notify_decisions, prepare_comite, record_decisions
from flows import comptes_rendus
from flows.mail import send_outbox
from flows.parametres import Annee, Classeur, DateComite, Maintenant, Sortie
from flows.passage import etape, passage
from flows.runtime import parse_moment, runtime


@etape("preparer-comite")
def prepare(annee: int, comite_le: str | None, sortie: str | None, maintenant: str | None) -> dict:
    rt = runtime()
    report = prepare_comite(
        rt.factory, rt.storage, annee, comite_le=date.fromisoformat(comite_le) if comite_le else None,
        sortie=Path(sortie) if sortie else None, maintenant=parse_moment(maintenant),
    )
    return {k: (str(v) if isinstance(v, (Path, date)) else v) for k, v in asdict(report).items()}


@etape("enregistrer-decisions")
def record(annee: int, fichier: str, date_comite: str | None, maintenant: str | None) -> dict:
    rt = runtime()
    report = record_decisions(rt.factory, annee, Path(fichier), maintenant=parse_moment(maintenant),
                              date_comite=date.fromisoformat(date_comite) if date_comite else None)
    return {k: (str(v) if isinstance(v, date) else v) for k, v in asdict(report).items()}


@etape("notifier-decisions")
def notify(annee: int, maintenant: str | None) -> int:
    rt = runtime()
    return notify_decisions(rt.factory, rt.storage, annee, pdf=rt.settings.pdf == "auto", maintenant=parse_moment(maintenant))


@passage("preparation-comite", etape="comite", compte_rendu=comptes_rendus.preparation_comite)
def preparation_comite(annee: Annee, comite_le: DateComite = None, sortie: Sortie = None, maintenant: Maintenant = None) -> dict:
    """Écrit la synthèse à remplir en séance et le recueil des notes d'instruction."""
    return prepare(annee, comite_le, sortie, maintenant)


@passage("decisions-comite", etape="decisions", compte_rendu=comptes_rendus.decisions_comite)
def decisions_comite(annee: Annee, fichier: Classeur, date_comite: DateComite = None, maintenant: Maintenant = None) -> dict:
    """Enregistre les décisions du classeur rempli (tout ou rien) et notifie chaque porteur."""
    result = record(annee, fichier, date_comite, maintenant)
    result["lettres"] = notify(annee, maintenant)
    result["courriels"] = send_outbox()
    return result
