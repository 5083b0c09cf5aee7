"""Application settings, read from the environment (prefix ``AAP_``) with embedded defaults."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.refus import Refus


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AAP_", extra="ignore")

    database_url: str = "sqlite:///var/aap.sqlite"
    storage_dir: Path = Path("var/storage")
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "plie@example.org"
    mail_from_name: str | None = None  # default: the organisation's name (config/organisme.toml)
    sa_email: str = "assistante.plie@example.org"  # who receives the échéancier's daily digest
    pdf: Literal["auto", "off"] = "auto"
    outbox_lease_seconds: int = 600  # a claim by a process on another machine is taken back after this
    outbox_max_attempts: int = 5  # transient failures (4xx, outage) before a mail is « en échec »
    workers: int = 2
    web_secret: str | None = None  # AAP_WEB_SECRET; else a random key kept in web_secret_file (0600)
    web_secret_file: Path = Path("var/web-secret")
    web_session_heures: int = 4  # a back-office session unused this long is closed

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix):])
        return None


class ReglageInvalide(Refus):
    """An ``AAP_…`` variable of the environment has a value the application cannot use."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ReglageInvalide(" ; ".join(_reglage(e) for e in exc.errors())) from None


def _reglage(error: dict) -> str:
    name = "AAP_" + "_".join(str(part) for part in error["loc"]).upper()
    attendu = {"literal_error": "valeurs possibles : " + str(error.get("ctx", {}).get("expected", "")).replace("'", "").replace(" or ", " ou "),
               "int_parsing": "un nombre entier attendu", "bool_parsing": "true ou false attendu"}.get(error["type"], "")
    valeur = error.get("input")
    return f"réglage {name} invalide : « {valeur} »" + (f" ({attendu})" if attendu else "")
