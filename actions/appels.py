"""A published call as the actions find it, and the refusal of what the SA typed.

Light on purpose: a listing command (``aap dossiers``, ``aap conventions``, ``aap journal``) and the back office's
pages need these without loading the intake's readers and renderers (openpyxl, pypdf, docx: a second of start-up)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.appel_config import AppelConfig
from config.refus import Refus
from models.appel import Appel


class SaisieRefusee(Refus):
    """A command the SA typed cannot be carried out (French reason)."""


def load_appel(session: Session, annee: int) -> tuple[Appel, AppelConfig]:
    appel = session.scalar(select(Appel).where(Appel.annee == annee))
    if appel is None:
        raise SaisieRefusee(f"l'appel {annee} n'est pas publié : lancez d'abord « aap appel publier »")
    return appel, AppelConfig.model_validate(appel.config)
