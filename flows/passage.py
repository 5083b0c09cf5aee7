"""How a stage of the year runs: at once in the command's process, or as a Prefect flow run.

A stage (relève des dépôts, publication, instruction, comité, conventions, échéancier…) is a plain
function decorated with ``@passage``; its steps are plain functions decorated with ``@etape``.

- **Embedded default** (``PREFECT_API_URL`` unset): a command calls the stage and it runs at once, in
  its own process, without importing Prefect or starting any server. There is no orchestrator to
  record it, so the application records it: a ``passage`` row (status, French message, summary, and
  the French lines of the ``aap`` loggers).
- **A Prefect server configured** (``PREFECT_API_URL`` set, as in production): the same call runs the
  stage as a flow run on that server, steps as task runs; the ``aap`` loggers reach the run's logs,
  the summary and tables become artifacts under stable keys (``dossiers-2018``), the run is named
  after its stage, call and Paris time (``releve-2018-le-07-12-2017-17h05``), and a run that leaves
  mail unsent ends Failed with a French message. The ``passage`` row is written too. A failed run of a
  deployment (``aap serve``) mails the SA once through the outbox (``signal_failure``, its failure hook).
- Inside a flow run (a deployment served by ``aap serve``), a stage called by another is a subflow.

Why: a command on a small database must start at once (a temporary Prefect server costs 7 to 17 s
before any work), and the same code must be what Prefect runs in production.
"""
from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from config.refus import Refus
from flows.runtime import PARIS, parse_moment, runtime

LOGGER = "aap"
log = logging.getLogger(LOGGER)
log.setLevel(logging.INFO)
ORCHESTRE_PAR = "PREFECT_API_URL"
ACTEUR: ContextVar[str | None] = ContextVar("aap_acteur", default=None)
"""Who asked for the stages this context runs (the back office sets it to the signed-in account)."""


@dataclass
class CompteRendu:
    """What a run says when it ends: a French title and summary lines (logged, and the markdown artifact),
    and tables (artifact key → description, rows; or a function that gives them, called only when a Prefect
    server receives them: a command run at once does not compute a table of 500 dossiers nobody reads)."""

    titre: str
    lignes: list[str]
    tables: dict[str, tuple[str, list[dict[str, Any]]] | Callable[[], tuple[str, list[dict[str, Any]]]]] = field(
        default_factory=dict)

    def __post_init__(self) -> None:
        self.lignes = [line for line in self.lignes if line]

    @property
    def resume(self) -> str:
        """The summary as markdown: the title, then a bullet per line."""
        return f"## {self.titre}\n\n" + "\n".join(f"- {line}" for line in self.lignes) + "\n"


def orchestrated() -> bool:
    """A Prefect server is configured for this process (``PREFECT_API_URL``, or Prefect's own settings once
    something has loaded Prefect, as its test harness does): runs are recorded there."""
    if os.environ.get(ORCHESTRE_PAR):
        return True
    settings = sys.modules.get("prefect.settings")
    return settings is not None and bool(settings.get_current_settings().api.url)


def in_flow_run() -> bool:
    """This code runs inside a Prefect flow run (without importing Prefect when it is not loaded)."""
    context = sys.modules.get("prefect.context")
    return context is not None and context.FlowRunContext.get() is not None


class PassageEchoue(Exception):
    """What a failed flow run's state carries: its French message; ``erreur``, what the stage raised (None when
    it finished but left mail unsent); ``resultat``, what it returned then. Prefect raises it at the end of a
    deployment's run; it was reported in French already, so Prefect's own English line about it is dropped."""

    def __init__(self, message: str, *, erreur: BaseException | None = None, resultat: Any = None) -> None:
        super().__init__(message)
        self.erreur, self.resultat = erreur, resultat


class _DejaSignale(logging.Filter):
    """Drops Prefect's « Engine execution exited with unexpected exception » (and its traceback, which repeats
    ours) for a run that ended with a ``PassageEchoue``: the run's logs say it once, in French."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], PassageEchoue))


for _name in ("prefect.flow_runs", "prefect.engine"):
    logging.getLogger(_name).addFilter(_DejaSignale())


# --------------------------------------------------------------------------- steps


def etape(nom: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A step of a stage: a Prefect task run inside a flow run, a plain call otherwise."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            if in_flow_run():
                return _task(fn, nom)(*args, **kwargs)
            return fn(*args, **kwargs)

        call.fn = fn  # type: ignore[attr-defined]
        return call

    return decorate


@functools.cache
def _task(fn: Callable[..., Any], nom: str) -> Any:
    from prefect import task

    return task(fn, name=nom)


# --------------------------------------------------------------------------- stages


class Passage:
    """A stage: ``stage(...)`` runs it the way this process can (see the module's docstring)."""

    def __init__(self, fn: Callable[..., dict], *, nom: str, etape: str,
                 compte_rendu: Callable[[dict, dict], CompteRendu] | None,
                 avance: Callable[[dict], AbstractContextManager[None]] | None = None) -> None:
        functools.update_wrapper(self, fn)
        self.fn, self.nom, self.etape, self.compte_rendu, self.avance = fn, nom, etape, compte_rendu, avance
        self.signature = inspect.signature(fn)

    def __call__(self, *args: Any, **kwargs: Any) -> dict:
        params = self._params(args, kwargs)
        if in_flow_run():
            return self._through_prefect(params)
        if orchestrated():
            # A command's run through a Prefect server: Prefect takes 2 to 3 s to start it (its modules, its
            # client, the flow run's creation), on one core; the stage's ``avance`` may start its work meanwhile.
            with self.avance(params) if self.avance is not None else nullcontext():
                return self._through_prefect(params)
        return execute(self, params, orchestrateur="direct")

    def _params(self, args: tuple, kwargs: dict) -> dict[str, Any]:
        bound = self.signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)

    @functools.cached_property
    def flow(self) -> Any:
        """The Prefect flow of this stage (its parameters, names and docstring are the stage's)."""
        Flow = _flow_class()
        stage = self

        @functools.wraps(self.fn)
        def body(*args: Any, **kwargs: Any) -> Any:
            return execute(stage, stage._params(args, kwargs), orchestrateur="prefect")

        from flows.parametres import pour_le_formulaire

        flow = Flow(body, name=self.nom, description=(inspect.getdoc(self.fn) or "").split("\n\n")[0],
                    flow_run_name=functools.partial(run_name_now, self), validate_parameters=False,
                    log_prints=False, on_failure=[signal_failure], on_crashed=[signal_failure])
        flow.parameters = pour_le_formulaire(flow.parameters)
        return flow

    def _through_prefect(self, params: dict) -> dict:
        if in_flow_run():  # a subflow of a deployment's run: as Prefect runs it
            state = self.flow(**params, return_state=True)
        else:
            from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

            # A command's run sends no heartbeats: nothing watches them here (no automation marks a silent run
            # crashed; its terminal sees it stop), and at the run's end Prefect waits up to a second for its
            # heartbeat thread to notice. Deployments' runs (``aap serve``) keep them.
            with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}), _terminal_left_to_the_command():
                state = self.flow(**params, return_state=True)
        result = state.result(raise_on_failure=False)
        if isinstance(result, PassageEchoue):
            if result.erreur is not None:
                raise result.erreur
            return result.resultat
        if isinstance(result, BaseException):
            raise result
        return result


_quiet = threading.Lock()
_quiet_runs = 0  # the runs now inside ``_terminal_left_to_the_command`` (the back office runs stages in threads)
_propagate_before = True  # the ``aap`` logger's own setting, given back when the last of them ends


@contextmanager
def _terminal_left_to_the_command() -> Iterator[None]:
    """A command's run through a Prefect server: its stages' lines go to the run's logs (Prefect's API handler
    on the ``aap`` logger) but not also to the terminal, where the root logger's console handler would print
    the warnings again in Prefect's format (« 19:35:41.320 | WARNING | aap.instruction - … »): the command
    prints its own French summary, as it does without a server. Deployments' runs (``aap serve``) keep it.
    Counted, so that runs overlapping in threads give the logger back as it was only when the last one ends."""
    global _quiet_runs, _propagate_before
    logger = logging.getLogger("aap")
    with _quiet:
        if _quiet_runs == 0:
            _propagate_before = logger.propagate
        _quiet_runs += 1
        logger.propagate = False
    try:
        yield
    finally:
        with _quiet:
            _quiet_runs -= 1
            if _quiet_runs == 0:
                logger.propagate = _propagate_before


_PLAIN = (str, int, float, bool, type(None))


def _plain(value: Any) -> bool:
    """A stage's parameter as JSON has it already: text, numbers, None, lists of them (a list of files)."""
    return isinstance(value, _PLAIN) or (isinstance(value, (list, tuple)) and all(isinstance(v, _PLAIN) for v in value))


@functools.cache
def _flow_class() -> type:
    """Prefect's ``Flow``, but a stage's parameters (plain text, numbers and lists) are recorded as they are:
    Prefect's own serializer imports FastAPI for them, half a second of every run's start."""
    from prefect import Flow

    class FlowDePassage(Flow):
        def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
            if all(_plain(v) for v in parameters.values()):
                return {k: list(v) if isinstance(v, tuple) else v for k, v in parameters.items()}
            return super().serialize_parameters(parameters)

    return FlowDePassage


def signal_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect's failure hook of every stage's flow: a failed run of a deployment (scheduled, or started from the
    UI; not a subflow, not a command, whose user reads the error) queues one mail to the SA through the outbox,
    then tries to send it. If the mail cannot leave now (the SMTP outage that failed the run), it stays pending
    and leaves with the next passage's mail, like every other. Never raises: the run has failed already."""
    if flow_run.deployment_id is None or flow_run.parent_task_run_id is not None:
        return
    try:
        from actions.passages import mail_sent, queue_failure_mail
        from flows.mail import send_outbox
        from prefect.client.orchestration import get_client
        from prefect.utilities.urls import url_for

        with get_client(sync_client=True) as client:
            deploiement = f"{flow.name}/{client.read_deployment(flow_run.deployment_id).name}"
        rt = runtime()
        debut = flow_run.start_time or flow_run.expected_start_time or datetime.now(timezone.utc)
        message = (state.message if state.is_failed() and state.message
                   else "Interrompu : le processus du passage s'est arrêté avant la fin.")
        mail = queue_failure_mail(rt.factory, sa_email=rt.settings.sa_email, deploiement=deploiement,
                                  flow_run_id=str(flow_run.id), nom=flow_run.name,
                                  debut=datetime.fromtimestamp(debut.timestamp(), timezone.utc), message=message,
                                  lien=url_for(flow_run), maintenant=datetime.now(timezone.utc))
        if mail is None:
            log.info("Échec signalé sans nouveau courriel : celui du précédent échec de %s le couvre encore.", deploiement)
            return
        send_outbox.fn(seulement=[mail])  # only this one: the other mails keep their attempts for their own runs
        log.info("Courriel d'échec à l'assistante %s.", "envoyé" if mail_sent(rt.factory, mail)
                 else "mis en file : il partira au prochain passage")
    except Exception:  # noqa: BLE001 - the run's own failure is what the SA must see; say this one in the logs
        log.exception("Le courriel d'échec à l'assistante n'a pas pu être mis en file.")


def passage(nom: str, *, etape: str, compte_rendu: Callable[[dict, dict], CompteRendu] | None = None,
            avance: Callable[[dict], AbstractContextManager[None]] | None = None
            ) -> Callable[[Callable[..., dict]], Passage]:
    """Declare a stage: ``nom`` is its flow's name in Prefect, ``etape`` the first word of its runs' names;
    ``avance(params)``, work a command may start while Prefect starts its run (a context left once the run ends)."""
    return lambda fn: Passage(fn, nom=nom, etape=etape, compte_rendu=compte_rendu, avance=avance)


# --------------------------------------------------------------------------- one run


def run_name(stage: Passage, params: dict, maintenant: datetime) -> str:
    """``releve-2018-le-07-12-2017-17h05``: the stage, its call, the Paris time of its clock."""
    paris = maintenant.astimezone(PARIS)
    appel = call_of(params)
    return f"{stage.etape}{f'-{appel}' if appel else ''}-le-{paris:%d-%m-%Y-%Hh%M}"


def run_name_now(stage: Passage) -> str:
    """The name of the flow run Prefect is starting (its parameters read from Prefect's runtime)."""
    from prefect.runtime import flow_run

    params = dict(flow_run.parameters or {})
    return run_name(stage, params, _clock(params))


def call_of(params: dict) -> int | None:
    """The call a run is about: its ``annee``, or the year of its ``config_path``."""
    if params.get("annee"):
        return int(params["annee"])
    config = str(params.get("config_path") or "")
    digits = "".join(ch for ch in os.path.basename(config) if ch.isdigit())
    return int(digits) if len(digits) == 4 else None


def _clock(params: dict) -> datetime:
    text = params.get("maintenant")
    return parse_moment(text) if text else datetime.now(timezone.utc)


def execute(stage: Passage, params: dict, *, orchestrateur: str) -> Any:
    """Run the stage once, record its passage, and (in Prefect) publish its artifacts and final state."""
    from actions.passages import close_passage, mail_problem, open_passage

    rt = runtime()
    flow_run_id = _flow_run_id() if orchestrateur == "prefect" else None
    name = run_name(stage, params, _clock(params))
    row = open_passage(rt.factory, etape=stage.etape, nom=name, appel=call_of(params), orchestrateur=orchestrateur,
                       flow_run_id=flow_run_id, parametres=params, debut=datetime.now(timezone.utc),
                       utilisateur=ACTEUR.get())
    lines = _Capture()
    log.addHandler(lines)
    started = time.monotonic()
    try:
        result = stage.fn(**params)
        report = stage.compte_rendu(result, params) if stage.compte_rendu else None
        for line in report.lignes if report else ():
            log.info("%s : %s", report.titre, line)
        problem = mail_problem(result.get("courriels") if isinstance(result, dict) else None)
        if problem:
            log.warning(problem)
            if report is not None:
                report.lignes.append(f"Attention : {problem}")
        log.info("%s terminé en %s s.", name, f"{time.monotonic() - started:.1f}".replace(".", ","))
    except BaseException as exc:
        message = failure_message(exc)
        if isinstance(exc, Refus):
            log.warning(message)
        else:
            log.error(message, exc_info=not isinstance(exc, KeyboardInterrupt))
        close_passage(rt.factory, row, statut="échoué", message=message, journal=lines.text(),
                      fin=datetime.now(timezone.utc))
        log.removeHandler(lines)
        if orchestrateur == "prefect" and isinstance(exc, Exception):
            from prefect.states import Failed

            return Failed(message=message, data=PassageEchoue(message, erreur=exc))
        raise
    log.removeHandler(lines)
    close_passage(rt.factory, row, statut="courriels non envoyés" if problem else "terminé", message=problem,
                  resume=report.resume if report else None, journal=lines.text(), fin=datetime.now(timezone.utc))
    if orchestrateur != "prefect":
        return result
    if report is not None:
        _publish(report, stage, params)
    if problem:
        from prefect.states import Failed

        return Failed(message=problem, data=PassageEchoue(problem, resultat=result))
    return result


def failure_message(exc: BaseException) -> str:
    """A failed run's first words, in French: the refusal's reason, or what kind of fault it was."""
    if isinstance(exc, Refus):
        return f"Refusé : {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return "Interrompu."
    return (f"Échec : erreur inattendue ({type(exc).__name__}) ; le passage n'a pas abouti, "
            "le détail technique suit dans le journal.")


def _flow_run_id() -> str | None:
    from prefect.context import FlowRunContext

    context = FlowRunContext.get()
    return str(context.flow_run.id) if context and context.flow_run else None


def summary_key(stage: Passage, params: dict) -> str:
    """The key of a run's French summary (``releve-2018``): its stage and call. A table of the run has a key
    of its own (``depots-2018``), so that the latest version under a key is always of the same kind."""
    appel = call_of(params)
    return f"{stage.etape}-{appel}" if appel else stage.etape


def _publish(report: CompteRendu, stage: Passage, params: dict) -> None:
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_markdown_artifact(markdown=report.resume, key=summary_key(stage, params),
                             description=f"Compte rendu : {report.titre}")
    for key, table in report.tables.items():
        description, rows = table() if callable(table) else table
        create_table_artifact(table=rows or [{"": "aucune ligne"}], key=key, description=description)


NIVEAUX = {logging.DEBUG: "détail", logging.INFO: "info", logging.WARNING: "attention", logging.ERROR: "erreur",
           logging.CRITICAL: "erreur"}


class _Capture(logging.Handler):
    """The French lines of one run, kept for its passage row (the application's own record of it)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.thread = threading.get_ident()  # two runs at once in one server (the back office) keep their own lines

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        moment = datetime.fromtimestamp(record.created, PARIS)
        self.lines.append(f"{moment:%d/%m/%Y %H:%M:%S} {NIVEAUX.get(record.levelno, 'info')} : {record.getMessage()}")

    def text(self) -> str:
        return "\n".join(self.lines)
