"""The values typed on the command line, read before anything is done, or refused with a French reason.

Each function is a typer ``parser``: it gets the text typed and returns the value the command uses, or
raises ``ValeurInvalide`` (one French sentence; the edge adds which option it was). A mistake is thus
refused before Prefect starts, before a file is written, before the database is touched.
"""
from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

from flows.cli_edge import ValeurInvalide


def annee(texte: str) -> int:
    """``"2018"`` -> 2018."""
    if not re.fullmatch(r"\s*\d{4}\s*", texte):
        raise ValeurInvalide(f"« {texte} » n'est pas une année (par exemple 2018)")
    return int(texte)


def numero(texte: str) -> int:
    """A positive whole number (a dépôt's N°)."""
    if not re.fullmatch(r"\s*\d{1,9}\s*", texte) or int(texte) == 0:
        raise ValeurInvalide(f"« {texte} » n'est pas un numéro (un nombre entier, par exemple 12)")
    return int(texte)


def moment(texte: str) -> str:
    """A date, or a date and time (Paris time unless an offset is given); kept as typed."""
    from flows.runtime import parse_moment

    try:
        parse_moment(texte.strip())
    except (ValueError, OverflowError):
        raise ValeurInvalide(f"« {texte} » n'est pas une date (AAAA-MM-JJ, ou AAAA-MM-JJTHH:MM en heure de Paris)") from None
    return texte.strip()


def jour(texte: str) -> str:
    """A day, ``AAAA-MM-JJ``; kept as typed."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", texte.strip()):
        raise ValeurInvalide(f"« {texte} » n'est pas une date (AAAA-MM-JJ, par exemple 2018-11-15)")
    try:
        date.fromisoformat(texte.strip())
    except ValueError:
        raise ValeurInvalide(f"« {texte} » n'est pas une date du calendrier (AAAA-MM-JJ)") from None
    return texte.strip()


def mois(texte: str) -> str:
    """A month, ``AAAA-MM``."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", texte.strip()):
        raise ValeurInvalide(f"« {texte} » n'est pas un mois (AAAA-MM, par exemple 2018-03)")
    return texte.strip()


def fichier_lu(texte: str) -> Path:
    """A file that exists and can be read."""
    path = Path(texte)
    if not path.exists():
        raise ValeurInvalide(f"fichier introuvable : « {texte} »")
    if path.is_dir():
        raise ValeurInvalide(f"« {texte} » est un dossier, pas un fichier")
    if not os.access(path, os.R_OK):
        raise ValeurInvalide(f"fichier illisible (accès refusé) : « {texte} »")
    return path


def dossier_lu(texte: str) -> Path:
    """A folder that exists and can be read (a Maildir, a folder of .eml)."""
    path = Path(texte)
    if not path.exists():
        raise ValeurInvalide(f"dossier introuvable : « {texte} »")
    if not path.is_dir():
        raise ValeurInvalide(f"« {texte} » n'est pas un dossier")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ValeurInvalide(f"dossier illisible (accès refusé) : « {texte} »")
    return path


def fichier_ecrit(texte: str) -> Path:
    """A file to write: its folder exists and can be written, and it is not itself a folder."""
    path = Path(texte)
    if path.is_dir():
        raise ValeurInvalide(f"« {texte} » est un dossier : indiquez le nom du fichier à écrire")
    dossier = path.parent
    if not dossier.is_dir():
        raise ValeurInvalide(f"le dossier de « {texte} » n'existe pas")
    if not os.access(dossier, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ValeurInvalide(f"impossible d'écrire « {texte} » (accès refusé)")
    return path


def dossier_ecrit(texte: str) -> Path:
    """A folder to write into (created if needed): nothing on its way is a file, and it can be written."""
    path = Path(texte)
    existant = path
    while not existant.exists() and existant != existant.parent:
        existant = existant.parent
    if not existant.is_dir():
        raise ValeurInvalide(f"« {existant} » est un fichier, pas un dossier" if existant == path
                             else f"impossible de créer « {texte} » : « {existant} » est un fichier")
    if not os.access(existant, os.W_OK | os.X_OK):
        raise ValeurInvalide(f"impossible d'écrire dans « {texte} » (accès refusé)")
    return path


def config_appel(texte: str) -> Path:
    """The call's configuration: a year (``2019`` → ``config/appels/2019.toml``) or a path; read and checked now."""
    from config.appel_config import CONFIG_DIR, load_appel_config
    from config.refus import Refus

    path = CONFIG_DIR / f"{texte.strip()}.toml" if texte.strip().isdigit() else Path(texte)
    if texte.strip().isdigit() and not path.is_file():
        raise ValeurInvalide(f"pas de configuration pour l'appel {texte.strip()} (config/appels/{texte.strip()}.toml absent)")
    try:
        load_appel_config(path)
    except Refus as exc:
        raise ValeurInvalide(str(exc)) from None
    return path
