"""Context of the SA's mail about a failed scheduled run (``passage_en_echec``). A pure function."""
from __future__ import annotations

from datetime import datetime, timedelta

from francais.formats import format_datetime_paris


def echec_context(*, nom: str, deploiement: str, debut: datetime, message: str, lien: str | None,
                  silence: timedelta) -> dict[str, str | None]:
    """``nom``: the run's name (``releve-2018-le-08-12-2017-09h00``); ``message``: its French state message;
    ``lien``: the run's page in Prefect's UI, when its address is known; ``silence``: how long no other
    failure of the same deployment is mailed."""
    heures = int(silence.total_seconds() // 3600)
    return {"nom": nom, "deploiement": deploiement, "debut": format_datetime_paris(debut), "message": message,
            "lien": lien, "silence": f"{heures} heure{'s' if heures > 1 else ''}"}
