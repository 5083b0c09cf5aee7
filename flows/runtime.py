"""What every flow and command shares: Prefect's defaults, settings, database, storage, the clock."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from adapters.storage import Storage, keep_files_private

if TYPE_CHECKING:  # loaded by ``configure`` only: « aap --help » or a refused argument never loads the ORM
    from sqlalchemy.orm import Session, sessionmaker

    from config.settings import Settings

keep_files_private()  # every process that runs a command, a flow or the demo imports this module first

PARIS = ZoneInfo("Europe/Paris")
PREFECT_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    "PREFECT_LOGGING_EXTRA_LOGGERS": "aap",  # the stages' French lines reach their flow runs' logs
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING",  # …and not the terminal, where the command says its own
    "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
}


def set_prefect_defaults() -> None:
    """Before Prefect is imported: no analytics, a patient ephemeral server, quiet logs but the stages' own (unless the user said)."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    factory: sessionmaker[Session]
    storage: Storage


_current: Runtime | None = None


def runtime() -> Runtime:
    if _current is None:
        configure(get_settings())
    assert _current is not None
    return _current


def get_settings() -> Settings:
    """The settings of the environment (``AAP_…``), read once."""
    from config import settings

    return settings.get_settings()


def configure(settings: Settings) -> Runtime:
    """Use these settings from now on in this process (the demo and the tests point elsewhere)."""
    from adapters.database import session_factory
    from adapters.journal import use_storage

    global _current
    storage = Storage(settings.storage_dir)
    _current = Runtime(settings, use_storage(session_factory(settings.database_url), storage.root), storage)
    return _current


def parse_day(text: str | None) -> date:
    """The Paris day of ``parse_moment(text)``: the clock of the listings and reports."""
    return parse_moment(text).astimezone(PARIS).date()


def parse_moment(text: str | None) -> datetime:
    """An ISO date-time from the command line; naive means Paris time. None means now (the edge's clock)."""
    if not text:
        return datetime.now(timezone.utc)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PARIS)
    return moment.astimezone(timezone.utc)
