"""Instruction of the dossiers, after the deadline."""
from __future__ import annotations

from dataclasses import asdict

from actions.instruction import instruct_appel
from flows import comptes_rendus
from flows.parametres import Annee, Maintenant
from flows.passage import etape, passage
from flows.runtime import parse_moment, runtime


@etape("instruire-dossiers")
def instruct(annee: int, maintenant: str | None) -> dict:
    rt = runtime()
    report = instruct_appel(rt.factory, rt.storage, annee, maintenant=parse_moment(maintenant), pdf=rt.settings.pdf == "auto")
    return asdict(report)


@passage("instruction", etape="instruction", compte_rendu=comptes_rendus.instruction)
def instruction(annee: Annee, maintenant: Maintenant = None) -> dict:
    """Instruit chaque dossier reçu dans les délais (ou admis) et rédige sa note d'instruction."""
    return instruct(annee, maintenant)
