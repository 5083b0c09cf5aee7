"""The scheduled deployments: November publication, intake every 15 minutes in a call's window, daily échéancier.

``aap serve`` serves them from one process against the Prefect server named by ``PREFECT_API_URL``: the one
way to run them (no work pool, no worker). ``prefect.yaml`` declares none, so that ``prefect deploy`` cannot
take the same names over, and ``aap serve`` refuses to start where a deployment of the same name is bound to
a work pool. The schedules only start runs: each flow still decides from the database and the clock whether
there is work to do.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType
from sqlalchemy import select

from adapters.mailbox import ensure_maildir
from config.appel_config import CONFIG_DIR
from flows import comptes_rendus
from flows.depots import releve_depots
from flows.echeancier import echeancier
from flows.parametres import AnneeOuverte, BoiteFacultative, ConfigAppelFacultative, Maintenant, pour_le_formulaire
from flows.passage import Passage, etape, log, passage
from flows.publication import publication
from flows.runtime import PARIS, parse_moment, runtime
from models import Appel

FUSEAU = "Europe/Paris"
FENETRE_APRES_DATE_LIMITE = timedelta(days=30)
BOITE_PAR_DEFAUT = "var/boite-depots"
PLANIFICATIONS = {  # deployment name → (cron in Europe/Paris, what it does, in French)
    "publication-novembre": ("0 9 21 11 *", "publie l'appel de l'année suivante le 21 novembre à 9 h"),
    "releve-depots": ("*/15 * * * *", "relève la boîte de dépôt toutes les 15 minutes pendant la fenêtre d'un appel"),
    "echeancier-quotidien": ("0 7 * * *", "échéancier chaque jour à 7 h"),
}


def is_intake_window_open(publie_le: datetime, date_limite: datetime, *, maintenant: datetime) -> bool:
    """Dépôts are read from the call's publication until 30 days after its deadline (late ones are kept too)."""
    return publie_le <= maintenant <= date_limite + FENETRE_APRES_DATE_LIMITE


def default_config_path(maintenant: datetime) -> str:
    """``AAP_APPEL_CONFIG`` if set, else ``config/appels/<next year>.toml`` (a call is published the year before)."""
    return os.environ.get("AAP_APPEL_CONFIG") or str(CONFIG_DIR / f"{maintenant.astimezone(PARIS).year + 1}.toml")


@etape("trouver-appel-ouvert")
def find_open_appel(annee: int | None, maintenant: str | None) -> int | None:
    """The year of the call whose intake window contains ``maintenant`` (the given one, or the latest open)."""
    moment = parse_moment(maintenant)
    with runtime().factory() as session:
        query = select(Appel).order_by(Appel.annee.desc())
        if annee is not None:
            query = query.where(Appel.annee == annee)
        for appel in session.scalars(query):
            if is_intake_window_open(appel.publie_le, appel.date_limite, maintenant=moment):
                return appel.annee
    return None


@passage("releve-planifiee", etape="releve-planifiee", compte_rendu=comptes_rendus.releve_planifiee)
def releve_planifiee(maildir: BoiteFacultative = "", annee: AnneeOuverte = None, maintenant: Maintenant = None) -> dict:
    """Relève la boîte de dépôt si un appel est dans sa fenêtre (de la publication à 30 jours après la date limite)."""
    ouvert = find_open_appel(annee, maintenant)
    if ouvert is None:
        return {"statut": "hors fenêtre", "appel": annee}
    boite = maildir or os.environ.get("AAP_MAILDIR") or BOITE_PAR_DEFAUT
    if ensure_maildir(Path(boite)):
        log.info("Boîte de dépôt absente : créée vide (accès réservé à son propriétaire) : %s", boite)
    return {"statut": "relevé", "appel": ouvert, **releve_depots(boite, ouvert, maintenant)}


@passage("publication-planifiee", etape="publication-planifiee")
def publication_planifiee(config_path: ConfigAppelFacultative = "", maintenant: Maintenant = None) -> dict:
    """Publie l'appel à projets de l'année qui suit (ou celui indiqué), produit son dossier de réponse et l'annonce."""
    choisi = str(config_path).strip()
    return publication(choisi or default_config_path(parse_moment(maintenant)), maintenant)


# The flows the deployments run, by the module path their runs are started from (``python -m`` a worker).
releve_planifiee_flux = releve_planifiee.flow
publication_planifiee_flux = publication_planifiee.flow
echeancier_flux = echeancier.flow
FLUX = {"publication-novembre": (publication_planifiee, "publication_planifiee_flux"),
        "releve-depots": (releve_planifiee, "releve_planifiee_flux"),
        "echeancier-quotidien": (echeancier, "echeancier_flux")}


def _deployment(stage: Passage, attribute: str, name: str, description: str) -> RunnerDeployment:
    cron, _ = PLANIFICATIONS[name]
    deployment = stage.flow.to_deployment(
        name=name, schedules=[Cron(cron, timezone=FUSEAU)], description=description, tags=["aap"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    deployment.entrypoint = f"{__name__}.{attribute}"
    # Prefect rebuilds the schema from the signature for a deployment: the form's version is set here too
    deployment._parameter_openapi_schema = pour_le_formulaire(deployment._parameter_openapi_schema)
    return deployment


def build_deployments(seulement: Iterable[str] | None = None) -> list[RunnerDeployment]:
    """The deployments to serve, all of them or only those named; an unknown name is refused in French."""
    wanted = list(seulement) if seulement else list(FLUX)
    unknown = [n for n in wanted if n not in FLUX]
    if unknown:
        raise ValueError(f"{'déploiements inconnus' if len(unknown) > 1 else 'déploiement inconnu'} : {', '.join(unknown)} (connus : {', '.join(FLUX)})")
    return [_deployment(*FLUX[n], n, PLANIFICATIONS[n][1]) for n in wanted]


def api_url() -> str | None:
    """The Prefect server this process talks to (``PREFECT_API_URL``), or None for a temporary local one."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def server_problem(url: str) -> str | None:
    """Why the Prefect server at ``url`` does not answer (in French), or None when it does."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        error = client.api_healthcheck()
    return None if error is None else f"le serveur Prefect ne répond pas à {url} ({type(error).__name__}: {error})"


def taken_over(deployments: list[RunnerDeployment]) -> str | None:
    """Why ``aap serve`` must not serve these (in French): a deployment of the same name on the server is bound
    to a work pool (someone ran ``prefect deploy``); serving it too would share its runs between a worker and
    this process, and stopping this process would pause the worker's schedule. None when none is."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    bound = []
    with get_client(sync_client=True) as client:
        for d in deployments:
            try:
                existing = client.read_deployment_by_name(f"{d.flow_name}/{d.name}")
            except ObjectNotFound:
                continue
            if existing.work_pool_name:
                bound.append((f"{d.flow_name}/{d.name}", existing.work_pool_name))
    if not bound:
        return None
    noms = ", ".join(f"{nom} (file de travail « {pool} »)" for nom, pool in bound)
    commandes = " ; ".join(f"prefect deployment delete {nom}" for nom, _ in bound)
    return (f"déploiement déjà déclaré sur ce serveur pour un worker (par « prefect deploy ») : {noms}. "
            "« aap serve » est la seule façon de servir les déploiements d'aap : arrêtez ce worker, supprimez ces "
            f"déploiements ({commandes}), puis relancez « aap serve ».")


def serve_deployments(seulement: Iterable[str] | None = None, echo: Callable[[str], None] = print) -> None:
    """Declare the deployments on the Prefect server, say which in French, then run what comes due (blocks).

    Raises ValueError (in French) for an unknown deployment name, a server that does not answer, or a deployment
    of the same name bound to a work pool there. When it stops, Prefect pauses the schedules it served.
    """
    deployments = build_deployments(seulement)
    url = api_url()
    if url:
        problem = server_problem(url) or taken_over(deployments)
        if problem:
            raise ValueError(problem)
        echo(f"Serveur Prefect : {url}")
    else:
        echo("Attention : PREFECT_API_URL n'est pas défini ; Prefect démarre un serveur temporaire local, "
             "dont les planifications s'arrêtent avec ce processus. En production : « prefect server start » "
             "puis « export PREFECT_API_URL=http://HÔTE:4200/api ».")
    echo(f"Dossier de travail : {Path.cwd()}")
    for d in deployments:
        cron, what = PLANIFICATIONS[d.name]
        echo(f"  - {d.flow_name}/{d.name} : {what} (cron « {cron} », {FUSEAU})")
    echo("En attente des exécutions planifiées ou lancées depuis l'interface (Ctrl-C pour arrêter)…")
    serve(*deployments, print_starting_message=False)
