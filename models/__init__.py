"""The tables, one module per lifecycle noun. Loading the ORM (``models.base``, which any table module
imports) registers them all; the rules without the ORM (``models.piece``, ``models.siret``…) load none of it,
so that a lean worker process never loads SQLAlchemy. ``from models import Depot`` still works."""
from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "ActionUtilisateur": "utilisateur", "Appel": "appel", "Attestation": "dossier", "Avenant": "convention",
    "Base": "base", "Bilan": "suivi", "Blocage": "conservation", "Comite": "comite", "Convention": "convention", "Courriel": "courriel",
    "CourrielStatut": "courriel", "DecisionComite": "instruction", "Depot": "dossier", "Document": "document",
    "Dossier": "dossier", "EchecConnexion": "utilisateur", "Echeance": "suivi", "FichierPurge": "conservation", "Instruction": "instruction", "Journal": "journal",
    "Passage": "passage", "PassageStatut": "passage", "Piece": "dossier", "Porteur": "porteur",
    "PorteurAdresse": "porteur", "Reception": "dossier", "SceauJournal": "journal", "SessionWeb": "utilisateur", "Utilisateur": "utilisateur",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"models.{_WHERE[name]}"), name)
