"""Words people type into a workbook cell, compared as they mean them: case, accents and extra spaces aside."""
from __future__ import annotations

import unicodedata


def cle_de_saisie(texte: str) -> str:
    """Casefolded, without accents nor extra spaces: ``" Déplacements "`` → ``"deplacements"``."""
    decompose = unicodedata.normalize("NFKD", texte.casefold())
    return " ".join("".join(c for c in decompose if not unicodedata.combining(c)).split())
