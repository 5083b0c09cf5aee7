"""Publication of the yearly call: the call, its form, its announcement."""
from __future__ import annotations

from actions.publication import publish_appel
from config.appel_config import load_appel_config
from flows import comptes_rendus
from flows.mail import send_outbox
from flows.parametres import ConfigAppel, Maintenant
from flows.passage import etape, passage
from flows.runtime import parse_moment, runtime


@etape("publier-appel")
def publish(config_path: str, maintenant: str | None) -> dict:
    rt = runtime()
    report = publish_appel(rt.factory, rt.storage, load_appel_config(config_path), maintenant=parse_moment(maintenant))
    return {"appel_id": report.appel_id, "cree": report.cree, "formulaire": str(report.formulaire), "annonces": report.annonces}


@passage("publication-appel", etape="publication", compte_rendu=comptes_rendus.publication)
def publication(config_path: ConfigAppel, maintenant: Maintenant = None) -> dict:
    """Crée l'appel, produit le dossier de réponse et l'annonce aux porteurs connus."""
    result = publish(config_path, maintenant)
    result["courriels"] = send_outbox()
    return result
