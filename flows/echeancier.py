"""The daily échéancier: requests and reminders for the bilans, the SA's digest."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone

from actions.echeancier import run_echeancier
from flows import comptes_rendus
from flows.mail import send_outbox
from flows.parametres import Maintenant
from flows.passage import etape, passage
from flows.runtime import parse_moment, runtime


@etape("echeances-dues")
def due(maintenant: str | None) -> dict:
    rt = runtime()
    report = run_echeancier(rt.factory, rt.storage, maintenant=parse_moment(maintenant), sa_email=rt.settings.sa_email,
                            passages_au=datetime.now(timezone.utc))  # the runs' records are stamped with the wall clock
    result = asdict(report)
    result["jour"] = report.jour.isoformat()
    return result


@passage("echeancier", etape="echeancier", compte_rendu=comptes_rendus.echeancier)
def echeancier(maintenant: Maintenant = None) -> dict:
    """Envoie chaque demande et relance de bilan due (un jour manqué est rattrapé), puis le récapitulatif à l'assistante."""
    result = due(maintenant)
    result["courriels"] = send_outbox()
    return result
