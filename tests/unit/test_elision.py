"""French elision before a name: one function, used by every message that says « de <someone> »."""
from __future__ import annotations

import pytest

from francais.elision import de
from models.dossier import NaturePiece, PieceVue, assess_completeness


@pytest.mark.parametrize(("nom", "attendu"), [
    ("Yann Moreau", "de Yann Moreau"), ("Inès Girard", "d'Inès Girard"), ("Éloïse Lefèvre", "d'Éloïse Lefèvre"),
    ("Emma Roux", "d'Emma Roux"), ("Hugo Faure", "d'Hugo Faure"), ("Yves Martin", "d'Yves Martin"),
    ("Le Pont", "du Pont"),
    ("Les Ateliers du Val", "des Ateliers du Val"), ("IDEES 21", "d'IDEES 21"), ("Karim Petit", "de Karim Petit"),
])
def test_de_is_elided_before_a_vowel_sound(nom, attendu):
    assert de(nom) == attendu


def test_a_missing_cv_is_said_with_elision():
    completude = assess_completeness(
        any_in_time=True, canaux_recus=["courriel", "courrier"], canaux_requis=["courriel", "courrier"],
        formulaire_valide=True, formulaire_manquants=[],
        referents=[("Inès Girard", "CV_Ines_Girard.pdf"), ("Yann Moreau", "CV_Yann_Moreau.pdf"), ("Hugo Faure", "")],
        pieces=[PieceVue(nom="CV_Yann_Moreau.pdf", nature=list(NaturePiece)[0], acceptee=False, motif="PDF chiffré")],
    )
    assert completude.manquants == [
        "CV d'Inès Girard manquant (fichier attendu : CV_Ines_Girard.pdf)",
        "CV de Yann Moreau refusé : PDF chiffré",
        "CV d'Hugo Faure : nom du fichier non indiqué dans le formulaire",
    ]
