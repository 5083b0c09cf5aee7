"""Application settings, read from the environment (prefix ``AAP_``) with embedded defaults."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


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

    def sqlite_path(self) -> Path | None:
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix):])
        return None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
