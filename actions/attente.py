"""The SA's answer to an item of her queue named by its reference: a dépôt's number (« 12 ») or a bilan's
(« BIL-2018-0004 »). The command line and the back office reject through this one function."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from actions.bilans import reject_bilan
from actions.depots import reject_depot


def reject_waiting(factory: sessionmaker[Session], annee: int, reference: str, *, motif: str, maintenant: datetime) -> str:
    """Reject the dépôt or bilan: kept with the motif, it leaves the queue. Returns the French sentence that says so."""
    reference = reference.strip()
    if reference.isdigit():
        reject_depot(factory, annee, int(reference), motif=motif, maintenant=maintenant)
        return f"Dépôt n° {reference} rejeté, conservé avec son motif."
    reject_bilan(factory, reference, motif=motif, maintenant=maintenant)
    return f"Bilan n° {reference} rejeté, conservé avec son motif."
