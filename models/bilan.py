"""Rules on a returned bilan (mid-term or final): pure functions of what the form says.

``check_bilan`` lists every problem at once, in French, one line per problem,
for the SA and for the acknowledgement sent to the porteur.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from francais.formats import format_euros

__all__ = [
    "CATEGORIES_DEPENSES",
    "DEPENSES_REQUISES",
    "LIBELLES_DEPENSES",
    "LIBELLES_RESSOURCES",
    "LIBELLES_SORTIES_POSITIVES",
    "QUANTITATIFS",
    "SORTIES_POSITIVES",
    "SOURCES_RESSOURCES",
    "BilanLu",
    "JustificatifLigne",
    "RESSOURCES_REQUISES",
    "check_bilan",
    "sum_sorties_positives",
    "taux_sorties_positives",
]

SORTIES_POSITIVES: tuple[tuple[str, str], ...] = (
    ("cdi", "CDI à mi-temps minimum, au terme de 6 mois de présence en entreprise"),
    ("interim", "Intérim régulier cumulant au moins 6 mois dans les 12 mois"),
    ("cdd", "CDD unique ou successifs au terme de 6 mois dans les 12 mois"),
    ("formation", "Formation qualifiante"),
    ("creation", "Création ou reprise d'activité, suivie 6 mois"),
    ("contrat_aide", "Contrat aidé de plus de 6 mois hors chantier d'insertion"),
    ("senior_chantier", "Senior de 55 ans et plus en chantier d'insertion, validé par la commission"),
)
"""The kinds of *sortie positive* of the cahier des charges (section 1.3.2)."""
CATEGORIES_DEPENSES: tuple[tuple[str, str], ...] = (
    ("salaires", "Salaires chargés des référents"),
    ("deplacements", "Frais de déplacement"),
    ("autres", "Autres dépenses"),
)
SOURCES_RESSOURCES: tuple[tuple[str, str], ...] = (("fse", "FSE"), ("plie", "PLIE"), ("autres", "Autres ressources"))
QUANTITATIFS: tuple[tuple[str, str], ...] = (
    ("entrees", "Entrées"),
    ("file_active", "File active"),
    ("sorties", "Sorties"),
    ("entreprises_rencontrees", "Entreprises rencontrées"),
    ("partenariats", "Partenariats"),
    ("participants_qpv", "Participants QPV"),
    ("participants_rsa", "Participants RSA"),
)
"""Whole-number fields of ``BilanLu`` (besides sorties positives) and their short French label."""

LIBELLES_SORTIES_POSITIVES = {s: f"Sorties positives « {libelle} »" for s, libelle in SORTIES_POSITIVES}
LIBELLES_DEPENSES = {c: f"Dépenses « {libelle} »" for c, libelle in CATEGORIES_DEPENSES}
LIBELLES_RESSOURCES = {s: f"Ressources « {libelle} »" for s, libelle in SOURCES_RESSOURCES}
"""The French label of each input, as it starts every message about it (``"Entrées : …"``)."""


@dataclass(frozen=True)
class JustificatifLigne:
    """One non-empty row of the justificatifs table; ``ligne`` is its N° in the table (from 1).

    ``categorie`` is a key of ``CATEGORIES_DEPENSES`` when recognised, else the text typed.
    """

    ligne: int
    categorie: str
    libelle: str
    montant: Decimal | None
    fichier: str


@dataclass(frozen=True)
class BilanLu:
    """What a returned bilan says; ``None`` is an empty or unreadable cell (see ``anomalies``)."""

    jeton: str
    convention_numero: str
    periode: str
    entrees: int | None
    file_active: int | None
    sorties: int | None
    sorties_positives: dict[str, int | None]
    entreprises_rencontrees: int | None
    partenariats: int | None
    participants_qpv: int | None
    participants_rsa: int | None
    qualitatif: str
    depenses: dict[str, Decimal | None]
    ressources_recues: dict[str, Decimal | None]
    justificatifs: tuple[JustificatifLigne, ...]
    anomalies: tuple[str, ...]


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
        erreurs += _check_entier(b.sorties_positives.get(sorte), LIBELLES_SORTIES_POSITIVES[sorte], requis=False)
    positives = sum_sorties_positives(b)
    if positives is None:
        if b.sorties and b.sorties > 0 and not any(illisible(x) for x in LIBELLES_SORTIES_POSITIVES.values()):
            erreurs.append("Sorties positives : non renseignées (indiquez 0 pour chaque type sans sortie)")
    elif b.sorties is not None and positives > b.sorties:
        erreurs.append(f"Sorties positives ({positives}) supérieures aux sorties ({b.sorties})")
    if not b.qualitatif.strip():
        erreurs.append("Partie qualitative vide")

    totaux = _totaux_justificatifs(b.justificatifs)
    for cat, _ in CATEGORIES_DEPENSES:
        libelle = LIBELLES_DEPENSES[cat]
        erreurs += _check_depense(b.depenses.get(cat), totaux.get(cat), libelle, cat in DEPENSES_REQUISES,
                                  illisible(libelle))  # fmt: skip
    for src, _ in SOURCES_RESSOURCES:
        libelle = LIBELLES_RESSOURCES[src]
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
        if ligne.categorie in LIBELLES_DEPENSES and ligne.montant is not None:
            totaux[ligne.categorie] = totaux.get(ligne.categorie, Decimal(0)) + ligne.montant
    return totaux


def _check_justificatif(ligne: JustificatifLigne, recus: set[str] | None, montant_illisible: bool) -> list[str]:
    debut = f"Justificatif ligne {ligne.ligne}"
    erreurs = []
    if not ligne.categorie:
        erreurs.append(f"{debut} : catégorie non renseignée")
    elif ligne.categorie not in LIBELLES_DEPENSES:
        connues = ", ".join(LIBELLES_DEPENSES)
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
