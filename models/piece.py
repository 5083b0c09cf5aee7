"""What a pièce is and whether its name and size are acceptable: rules without the ORM, so that the lean
intake workers (``actions.pieces.prepare_message``) read messages without loading SQLAlchemy."""
from __future__ import annotations

import enum
from collections.abc import Iterable


class NaturePiece(enum.Enum):
    FORMULAIRE = "formulaire"
    CV = "cv"
    AUTRE = "autre"
    MESSAGE = "message"


def piece_motif(nom: str, taille: int, *, extensions: Iterable[str], taille_max: int) -> str | None:
    """None when a pièce's name and size are acceptable, else the French reason."""
    if taille == 0:
        return "fichier vide"
    if taille > taille_max:
        return f"fichier trop volumineux ({_mo(taille, vers_le_haut=True)} Mo ; maximum {_mo(taille_max)} Mo)"
    extension = nom.rsplit(".", 1)[-1].lower() if "." in nom else ""
    allowed = sorted({e.lower() for e in extensions})
    if extension not in allowed:
        shown = f"« .{extension} »" if extension else "sans extension"
        return f"type de fichier non accepté ({shown}) ; formats acceptés : {', '.join(allowed)}"
    return None


def _mo(octets: int, *, vers_le_haut: bool = False) -> str:
    """Mebibytes to one decimal, French comma, ``,0`` dropped; a refused size rounds up and the
    maximum down, so that a file one byte too big never reads « 10,0 Mo ; maximum 10 Mo »."""
    dixiemes = -(-octets * 10 // 1_048_576) if vers_le_haut else octets * 10 // 1_048_576
    entiers, reste = divmod(dixiemes, 10)
    return f"{entiers},{reste}" if reste else str(entiers)
