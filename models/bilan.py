"""Rules on a returned bilan (mid-term or final): pure functions of what the form says.

``check_bilan`` lists every problem at once, in French, one line per problem,
for the SA and for the acknowledgement sent to the porteur.
"""

from __future__ import annotations

import unicodedata
from decimal import Decimal

from forms.bilan import (
    CATEGORIES_DEPENSES,
    LIBELLES,
    NOMS_DEPENSES,
    NOMS_RESSOURCES,
    NOMS_SORTIES_POSITIVES,
    QUANTITATIFS,
    SORTIES_POSITIVES,
    SOURCES_RESSOURCES,
    BilanLu,
    JustificatifLigne,
)
from francais.formats import format_euros

__all__ = [
    "DEPENSES_REQUISES",
    "RESSOURCES_REQUISES",
    "check_bilan",
    "sum_sorties_positives",
    "taux_sorties_positives",
]

DEPENSES_REQUISES = frozenset({"salaires", "deplacements"})
"""Expense categories the porteur must fill (0 if none); ``autres`` may stay empty."""
RESSOURCES_REQUISES = frozenset({"fse", "plie"})
"""Resources the porteur must fill (0 if nothing was received yet)."""
CENTIME = Decimal("0.01")


def check_bilan(b: BilanLu, *, fichiers_recus: set[str] | None = None) -> list[str]:
    """Every problem of ``b``, in French; ``[]`` for a complete, consistent bilan.

    The reading anomalies come first (so do not list ``b.anomalies`` again); a value
    that was unreadable is not reported a second time as missing. With
    ``fichiers_recus`` (names of the files attached to the message), each
    justificatif's file must be among them (case, accents' encoding and folders ignored).
    """
    erreurs = list(b.anomalies)

    def illisible(libelle: str) -> bool:
        return any(a.startswith(f"{libelle} : ") for a in b.anomalies)

    for champ, libelle in QUANTITATIFS:
        erreurs += _check_entier(getattr(b, champ), libelle, requis=not illisible(libelle))
    for sorte, _ in SORTIES_POSITIVES:
        erreurs += _check_entier(b.sorties_positives.get(sorte), LIBELLES[NOMS_SORTIES_POSITIVES[sorte]], requis=False)
    positives = sum_sorties_positives(b)
    if positives is None:
        if b.sorties and b.sorties > 0 and not any(illisible(LIBELLES[n]) for n in NOMS_SORTIES_POSITIVES.values()):
            erreurs.append("Sorties positives : non renseignées (indiquez 0 pour chaque type sans sortie)")
    elif b.sorties is not None and positives > b.sorties:
        erreurs.append(f"Sorties positives ({positives}) supérieures aux sorties ({b.sorties})")
    if not b.qualitatif.strip():
        erreurs.append("Partie qualitative vide")

    totaux = _totaux_justificatifs(b.justificatifs)
    for cat, _ in CATEGORIES_DEPENSES:
        libelle = LIBELLES[NOMS_DEPENSES[cat]]
        erreurs += _check_depense(b.depenses.get(cat), totaux.get(cat), libelle, cat in DEPENSES_REQUISES,
                                  illisible(libelle))  # fmt: skip
    for src, _ in SOURCES_RESSOURCES:
        libelle = LIBELLES[NOMS_RESSOURCES[src]]
        erreurs += _check_montant(b.ressources_recues.get(src), libelle,
                                  requis=src in RESSOURCES_REQUISES and not illisible(libelle))  # fmt: skip
    recus = None if fichiers_recus is None else {same_file_key(f) for f in fichiers_recus}
    for ligne in b.justificatifs:
        erreurs += _check_justificatif(ligne, recus, illisible(f"Justificatif ligne {ligne.ligne}"))
    return erreurs


def sum_sorties_positives(b: BilanLu) -> int | None:
    """Positive exits over every kind (an empty kind counts 0); ``None`` when every kind is empty."""
    valeurs = [v for v in b.sorties_positives.values() if v is not None]
    return sum(valeurs) if valeurs else None


def taux_sorties_positives(b: BilanLu) -> Decimal | None:
    """Positive exits / exits, as a fraction (0.5 is 50 %); ``None`` without exits or without figures."""
    positives = sum_sorties_positives(b)
    if positives is None or not b.sorties or b.sorties <= 0:
        return None
    return Decimal(positives) / Decimal(b.sorties)


def _check_entier(valeur: int | None, libelle: str, *, requis: bool) -> list[str]:
    if valeur is None:
        return [f"{libelle} : non renseigné"] if requis else []
    if valeur < 0:
        return [f"{libelle} : valeur négative ({valeur})"]
    return []


def _check_montant(valeur: Decimal | None, libelle: str, *, requis: bool) -> list[str]:
    if valeur is None:
        return [f"{libelle} : non renseigné"] if requis else []
    if valeur < 0:
        return [f"{libelle} : montant négatif ({format_euros(valeur)})"]
    return []


def _check_depense(
    declare: Decimal | None, justifie: Decimal | None, libelle: str, requis: bool, illisible: bool
) -> list[str]:
    """An expense is filled when required and equals, to the cent, its justificatifs' total."""
    if illisible:
        return []
    listes = f"{format_euros(justifie)} de justificatifs listés" if justifie is not None else None
    if declare is None:
        if listes:
            return [f"{libelle} : non renseigné, {listes}"]
        return [f"{libelle} : non renseigné"] if requis else []
    if declare < 0:
        return [f"{libelle} : montant négatif ({format_euros(declare)})"]
    total = justifie if justifie is not None else Decimal(0)
    if declare.quantize(CENTIME) != total.quantize(CENTIME):
        return [f"{libelle} : {format_euros(declare)} déclarés, {format_euros(total)} de justificatifs listés"]
    return []


def _totaux_justificatifs(lignes: tuple[JustificatifLigne, ...]) -> dict[str, Decimal]:
    """Sum of the readable amounts listed under each known category."""
    totaux: dict[str, Decimal] = {}
    for ligne in lignes:
        if ligne.categorie in NOMS_DEPENSES and ligne.montant is not None:
            totaux[ligne.categorie] = totaux.get(ligne.categorie, Decimal(0)) + ligne.montant
    return totaux


def _check_justificatif(ligne: JustificatifLigne, recus: set[str] | None, montant_illisible: bool) -> list[str]:
    debut = f"Justificatif ligne {ligne.ligne}"
    erreurs = []
    if not ligne.categorie:
        erreurs.append(f"{debut} : catégorie non renseignée")
    elif ligne.categorie not in NOMS_DEPENSES:
        connues = ", ".join(NOMS_DEPENSES)
        erreurs.append(f"{debut} : catégorie « {ligne.categorie} » inconnue (attendu : {connues})")
    if not ligne.libelle:
        erreurs.append(f"{debut} : libellé non renseigné")
    if ligne.montant is None and not montant_illisible:
        erreurs.append(f"{debut} : montant non renseigné")
    elif ligne.montant is not None and ligne.montant < 0:
        erreurs.append(f"{debut} : montant négatif ({format_euros(ligne.montant)})")
    if not ligne.fichier:
        erreurs.append(f"{debut} : fichier non renseigné")
    elif recus is not None and same_file_key(ligne.fichier) not in recus:
        erreurs.append(f"{debut} : fichier « {ligne.fichier} » absent du message")
    return erreurs


def same_file_key(nom: str) -> str:
    """A file name compared loosely: last path component, NFC, casefolded, stripped
    (« Frais_KM.pdf » listed in the form is the « frais_km.pdf » attached)."""
    dernier = nom.replace("\\", "/").rsplit("/", 1)[-1]
    return unicodedata.normalize("NFC", dernier).strip().casefold()
