"""The call's lifecycle after the deadline as one Prefect flow that waits for the comité's workbook
(``pause_flow_run``): it exists only on a Prefect server, which is what keeps a paused run."""
from __future__ import annotations

from prefect import flow, pause_flow_run
from prefect.input import RunInput

from flows.comite import notify, prepare, record
from flows.instruction import instruct
from flows.mail import send_outbox
from flows.parametres import Annee, AttenteSecondes, Maintenant


class DecisionsInput(RunInput):
    """What the SA gives back after the comité, from the Prefect UI."""

    fichier: str
    date_comite: str | None = None


@flow(name="cycle-appel")
def cycle_appel(annee: Annee, maintenant: Maintenant = None, attente_secondes: AttenteSecondes = 14 * 24 * 3600) -> dict:
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
