"""The organisation that runs the call — its name, address, signatory — read from ``config/organisme.toml``.

A leaf every layer may import: documents and mails receive it as ``organisme`` through
``organisme_context``; another PLIE names its own file with ``AAP_ORGANISME``.
"""
from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

DEFAULT_PATH = Path(__file__).resolve().parent / "organisme.toml"
ENV_VAR = "AAP_ORGANISME"


class OrganismeIntrouvable(Exception):
    """The identity file is missing or unreadable; the message is French."""


class Organisme(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    nom: str
    nom_complet: str
    nom_court: str
    structure: str
    structure_designation: str
    adresse: tuple[str, ...]
    a_l_attention_de: str
    ville: str
    telephone: str
    courriel: str
    signataire: str
    signataire_convention: str
    logo: Path | None = None

    @field_validator("logo", mode="before")
    @classmethod
    def _empty_logo_is_none(cls, value: object) -> object:
        return None if value in ("", None) else value

    @property
    def adresse_ligne(self) -> str:
        return ", ".join(self.adresse)


def organisme_context(o: Organisme) -> dict[str, object]:
    """What every template receives as ``organisme`` (the logo is added by the document renderer)."""
    return {**o.model_dump(exclude={"logo"}), "adresse": list(o.adresse), "adresse_ligne": o.adresse_ligne,
            "logo": None}


def load_organisme(path: Path | str) -> Organisme:
    path = Path(path)
    try:
        with path.open("rb") as fh:
            organisme = Organisme.model_validate(tomllib.load(fh))
    except FileNotFoundError:
        raise OrganismeIntrouvable(f"fichier de l'organisme introuvable : {path}") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise OrganismeIntrouvable(f"fichier de l'organisme illisible : {path} ({type(exc).__name__})") from None
    except ValidationError as exc:
        champs = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        raise OrganismeIntrouvable(f"fichier de l'organisme incomplet ou invalide : {path} (champs : {champs})") from None
    if organisme.logo is not None and not organisme.logo.is_absolute():
        organisme = organisme.model_copy(update={"logo": path.resolve().parent / organisme.logo})
    return organisme


def current_organisme() -> Organisme:
    """The organisation named by ``AAP_ORGANISME``, else ``config/organisme.toml`` (read once per path)."""
    return _cached(os.environ.get(ENV_VAR) or str(DEFAULT_PATH))


@lru_cache(maxsize=4)
def _cached(path: str) -> Organisme:
    return load_organisme(path)
