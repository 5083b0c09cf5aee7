"""Contexts of the notices about who speaks for a structure: a dépôt held for verification
(``depot_a_verifier``) and a change of contact (``contact_modifie``).

Pure functions. The held dépôt's notice carries only what the PLIE already knew (the structure's
name, its dossier or convention, the reception time): nothing from the stranger's message.
"""

from __future__ import annotations

from datetime import datetime

from francais.formats import format_datetime_paris


def verification_context(*, porteur_nom: str, reference: str, recu_le: datetime, bilan: bool = False) -> dict[str, str]:
    """``reference`` is what the PLIE knows the structure by here: « dossier 2018-001 », « convention CONV-2018-002 »."""
    return {
        "porteur_nom": porteur_nom,
        "reference": reference,
        "recu_le": format_datetime_paris(recu_le),
        "objet": "un bilan de suivi" if bilan else "un dépôt en réponse à l'appel à projets",
    }


def contact_context(*, porteur_nom: str, dossier: str, recu_le: datetime, contact_nom: str | None,
                    contact_email: str) -> dict[str, str]:
    return {
        "porteur_nom": porteur_nom,
        "dossier": dossier,
        "recu_le": format_datetime_paris(recu_le),
        "contact_nom": contact_nom or "contact sans nom",
        "contact_email": contact_email,
    }
