"""The attestation de dépôt: its data, and the French context that renders it.

``attestation_context`` is pure: every value comes out already formatted in
French, so the .docx template and the e-mail only place strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from francais.formats import (
    format_date,
    format_datetime_paris,
    format_taille,
    to_paris,
)

Canal = Literal["courriel", "courrier"]
StatutPiece = Literal["acceptée", "refusée"]

LIBELLES_CANAUX: dict[str, str] = {"courriel": "courriel", "courrier": "courrier postal"}
STATUTS_PIECE = ("acceptée", "refusée")


@dataclass(frozen=True)
class PieceLine:
    """One file of the dépôt as the attestation lists it."""

    nom: str
    taille: int
    sha256: str
    statut: StatutPiece
    motif: str | None = None

    def __post_init__(self) -> None:
        if self.statut not in STATUTS_PIECE:
            raise ValueError(f"statut de pièce inconnu : {self.statut!r}")


@dataclass(frozen=True)
class AttestationData:
    """Everything one attestation de dépôt states (dates are aware datetimes)."""

    numero: str
    appel_titre: str
    appel_annee: int
    porteur_nom: str
    porteur_siret: str | None
    porteur_adresse: str | None
    canal: Canal
    recu_le: datetime
    date_limite: datetime
    hors_delai: bool
    canaux_recus: tuple[str, ...]
    canaux_attendus: tuple[str, ...]
    pieces: tuple[PieceLine, ...]
    manquants: tuple[str, ...]
    complement: bool
    version: int
    emis_le: datetime
    recus: tuple[tuple[str, datetime, bool], ...] = ()
    """Every dépôt of the dossier so far, this one included: (channel, reception time, late)."""

    def __post_init__(self) -> None:
        if not self.recus:  # an attestation frozen before the dossier's dépôts were listed: this one at least
            object.__setattr__(self, "recus", ((self.canal, self.recu_le, self.hors_delai),))
        for canal in (self.canal, *self.canaux_recus, *self.canaux_attendus, *(c for c, _, _ in self.recus)):
            if canal not in LIBELLES_CANAUX:
                raise ValueError(f"canal inconnu : {canal!r}")
        for moment in (self.recu_le, self.date_limite, self.emis_le, *(m for _, m, _ in self.recus)):
            to_paris(moment)  # refuses naive datetimes
        if self.version < 1:
            raise ValueError(f"version invalide : {self.version}")


def attestation_context(a: AttestationData) -> dict[str, object]:
    """The docx/e-mail context of an attestation, every value formatted in French."""
    refusees = [p for p in a.pieces if p.statut == "refusée"]
    anomalies = [f"Pièce manquante : {nom}" for nom in a.manquants] + [
        f"Pièce refusée : {p.nom} — {p.motif or 'motif non précisé'}" for p in refusees
    ]
    return {
        "numero": a.numero,
        "appel_titre": a.appel_titre,
        "appel_annee": str(a.appel_annee),
        "porteur_nom": a.porteur_nom,
        "porteur_siret": format_siret(a.porteur_siret) if a.porteur_siret else None,
        "porteur_adresse": _une_ligne(a.porteur_adresse),
        "canal": LIBELLES_CANAUX[a.canal],
        "recu_le": format_datetime_paris(a.recu_le),
        "date_limite": format_datetime_paris(a.date_limite),
        "hors_delai": a.hors_delai,
        "ce_depot": f"{LIBELLES_CANAUX[a.canal]} reçu le {format_datetime_paris(a.recu_le)}, {_delai(a.hors_delai)}",
        "canaux_recus": " ; ".join(
            f"{LIBELLES_CANAUX[canal]} le {format_datetime_paris(moment)} ({_delai(late)})" for canal, moment, late in a.recus
        ),
        "canaux_attendus": _liste_canaux(a.canaux_attendus) if a.canaux_attendus else "aucun autre envoi",
        "canaux_manquants": bool(a.canaux_attendus),
        "canaux_complets": not a.canaux_attendus and all(
            any(c == canal and not late for c, _, late in a.recus) for canal in {c for c, _, _ in a.recus}
        ),
        "pieces": [_piece_context(p) for p in a.pieces],
        "anomalies": anomalies,
        "complement": a.complement,
        "version": str(a.version),
        "emis_le": format_date(a.emis_le),
    }


def format_siret(siret: str) -> str:
    """``"12345678900012"`` -> ``"123 456 789 00012"`` (SIREN + NIC); else unchanged."""
    chiffres = siret.replace(" ", "")
    if len(chiffres) != 14 or not chiffres.isdigit():
        return siret
    return f"{chiffres[0:3]} {chiffres[3:6]} {chiffres[6:9]} {chiffres[9:]}"


def _une_ligne(texte: str | None) -> str | None:
    """A multi-line postal address on one line, parts separated by commas."""
    lignes = [ligne.strip() for ligne in (texte or "").splitlines() if ligne.strip()]
    return ", ".join(lignes) or None


def _delai(hors_delai: bool) -> str:
    return "hors délai" if hors_delai else "dans les délais"


def _liste_canaux(canaux: tuple[str, ...]) -> str:
    return " et ".join(LIBELLES_CANAUX[c] for c in canaux) if canaux else "aucun"


def _piece_context(p: PieceLine) -> dict[str, str]:
    statut_motif = f"{p.statut} : {p.motif}" if p.motif else p.statut
    return {
        "nom": p.nom,
        "taille": format_taille(p.taille),
        "sha256": p.sha256,
        "statut": p.statut,
        "motif": p.motif or "",
        "statut_motif": statut_motif,
    }
