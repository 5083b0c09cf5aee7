"""« de » before a person's name, as French writes it: elided before a vowel sound.

A leaf: rules, forms, documents and mails use the same function, so « CV d'Inès Girard » is written
the same everywhere.
"""
from __future__ import annotations

import unicodedata

_VOYELLES = set("aeiouœæ")


def de(nom: str) -> str:
    """``"Yann Moreau"`` -> ``"de Yann Moreau"``; ``"Inès Girard"`` -> ``"d'Inès Girard"``; ``"Hugo"`` -> ``"d'Hugo"``;
    ``"Le Pont"`` -> ``"du Pont"``, ``"Les Ateliers"`` -> ``"des Ateliers"``, ``"L'Escale"`` -> ``"de L'Escale"``."""
    nom = nom.strip()
    mots = nom.split(maxsplit=1)
    if len(mots) == 2 and mots[0] in ("Le", "Les"):
        return ("du " if mots[0] == "Le" else "des ") + mots[1]
    return ("d'" if _commence_par_une_voyelle(nom) else "de ") + nom


def _commence_par_une_voyelle(nom: str) -> bool:
    lettres = [c for c in unicodedata.normalize("NFD", nom.lower()) if c.isalpha()]
    if not lettres:
        return False
    premiere, suivante = lettres[0], (lettres[1] if len(lettres) > 1 else "")
    if premiere == "y":  # Yves, Yvonne: a vowel; Yann, Yasmine: a consonant
        return suivante not in _VOYELLES and suivante != ""
    return premiere in _VOYELLES or premiere == "h"  # first names: h muet (Hugo, Hélène, Hervé)
