"""The note d'instruction: the SA's written examination of one dossier.

``note_context`` is pure: every value comes out already formatted in French
(money with babel, ``"non renseigné"`` for a budget line the porteur left
empty), and the totals, the balance and the cost per ETP are computed here, so
the .docx template only places strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Literal

from templates.attestation import LIBELLES_CANAUX, format_siret
from francais.formats import (
    format_date,
    format_datetime_paris,
    format_decimal_fr,
    format_euros,
    to_paris,
)
from templates.render import render_docx

Gravite = Literal["bloquant", "réserve", "information"]
Avis = Literal["favorable", "réservé", "défavorable"]

TEMPLATE = "note_instruction.docx"
NON_RENSEIGNE = "non renseigné"
NON_CALCULABLE = "non calculable"
GRAVITES: dict[str, str] = {"bloquant": "Points bloquants", "réserve": "Réserves", "information": "Pour information"}
AVIS = ("favorable", "réservé", "défavorable")
CENTIME = Decimal("0.01")


@dataclass(frozen=True)
class ReferentLigne:
    """One référent proposed by the porteur, checked against the salary ceiling."""

    nom_complet: str
    etp: Decimal
    salaire: Decimal
    plafond: Decimal
    conforme: bool


@dataclass(frozen=True)
class ConstatLigne:
    """One finding of the instruction, with how much it weighs."""

    gravite: Gravite
    texte: str

    def __post_init__(self) -> None:
        if self.gravite not in GRAVITES:
            raise ValueError(f"gravité de constat inconnue : {self.gravite!r}")


@dataclass(frozen=True)
class NoteInstructionData:
    """Everything one note d'instruction states (datetimes are aware)."""

    appel_titre: str
    appel_annee: int
    dossier_numero: str
    porteur_nom: str
    porteur_siret: str | None
    porteur_adresse: str | None
    contact_nom: str | None
    contact_email: str | None
    contact_telephone: str | None
    recu_le: datetime
    canaux: tuple[str, ...]
    admission_hors_delai: str | None  # the SA's motif when a late dossier was admitted
    referents: tuple[ReferentLigne, ...]
    etp_total: Decimal
    budget_salaires: Decimal | None
    budget_deplacements: Decimal | None
    budget_autres: Decimal | None
    ressources_fse: Decimal | None
    ressources_plie: Decimal | None
    ressources_autres: Decimal | None
    constats: tuple[ConstatLigne, ...]
    avis: Avis
    avis_motifs: tuple[str, ...]
    version: int
    instruit_le: datetime
    historique: tuple[tuple[datetime, str], ...]  # earlier instructions: (date, avis)
    plafond_etp: Decimal
    objectifs: tuple[str, ...]  # pre-formatted French lines from the call's config

    def __post_init__(self) -> None:
        for canal in self.canaux:
            if canal not in LIBELLES_CANAUX:
                raise ValueError(f"canal inconnu : {canal!r}")
        if self.avis not in AVIS:
            raise ValueError(f"avis inconnu : {self.avis!r}")
        if self.version < 1:
            raise ValueError(f"version invalide : {self.version}")
        if self.version == 1 and self.historique:
            raise ValueError("une première instruction (version 1) n'a pas d'historique")
        for moment in (self.recu_le, self.instruit_le, *(quand for quand, _ in self.historique)):
            to_paris(moment)  # refuses naive datetimes


def note_context(n: NoteInstructionData) -> dict[str, object]:
    """The docx context of a note d'instruction, every value formatted in French."""
    depenses = (n.budget_salaires, n.budget_deplacements, n.budget_autres)
    ressources = (n.ressources_fse, n.ressources_plie, n.ressources_autres)
    total_depenses, total_ressources = _total(depenses), _total(ressources)
    return {
        "appel_titre": n.appel_titre,
        "appel_annee": str(n.appel_annee),
        "dossier_numero": n.dossier_numero,
        "porteur_nom": n.porteur_nom,
        "porteur_siret": format_siret(n.porteur_siret) if n.porteur_siret else NON_RENSEIGNE,
        "porteur_adresse": _une_ligne(n.porteur_adresse) or NON_RENSEIGNE,
        "contact": _contact(n),
        "recu_le": format_datetime_paris(n.recu_le),
        "canaux": " et ".join(LIBELLES_CANAUX[c] for c in n.canaux) if n.canaux else "aucun",
        "admission_hors_delai": n.admission_hors_delai,
        "referents": [_referent_context(r) for r in n.referents],
        "nb_referents": str(len(n.referents)),
        "etp_total": format_decimal_fr(n.etp_total),
        "total_salaires_referents": format_euros(sum((r.salaire for r in n.referents), Decimal(0))),
        "total_plafonds_referents": format_euros(sum((r.plafond for r in n.referents), Decimal(0))),
        "referents_conformes": "oui" if all(r.conforme for r in n.referents) else "non",
        "budget_salaires": _euros(n.budget_salaires),
        "budget_deplacements": _euros(n.budget_deplacements),
        "budget_autres": _euros(n.budget_autres),
        "ressources_fse": _euros(n.ressources_fse),
        "ressources_plie": _euros(n.ressources_plie),
        "ressources_autres": _euros(n.ressources_autres),
        "total_depenses": _euros(total_depenses),
        "total_ressources": _euros(total_ressources),
        "equilibre": _equilibre(total_depenses, total_ressources),
        "cout_par_etp": _par_etp(total_depenses, n.etp_total),
        "salaire_par_etp": _par_etp(n.budget_salaires, n.etp_total),
        "plafond_etp": format_euros(n.plafond_etp),
        "objectifs": list(n.objectifs),
        "constats": [{"gravite": c.gravite, "texte": c.texte} for c in n.constats],
        "constats_groupes": _groupes(n.constats),
        "avis": n.avis,
        "avis_motifs": list(n.avis_motifs),
        "version": str(n.version),
        "instruit_le": format_date(n.instruit_le),
        "version_anterieure": n.version > 1,
        "historique": _historique(n),
    }


def render_note(n: NoteInstructionData, out: Path) -> Path:
    """Renders the note d'instruction of ``n`` into ``out``."""
    return render_docx(TEMPLATE, note_context(n), out)


def _euros(montant: Decimal | None) -> str:
    return NON_RENSEIGNE if montant is None else format_euros(montant)


def _total(montants: tuple[Decimal | None, ...]) -> Decimal | None:
    """Sum of the lines filled in; None when none is."""
    renseignes = [m for m in montants if m is not None]
    return sum(renseignes, Decimal(0)) if renseignes else None


def _equilibre(depenses: Decimal | None, ressources: Decimal | None) -> str:
    if depenses is None or ressources is None:
        return NON_CALCULABLE
    if depenses == ressources:
        return "équilibré"
    sens = "dépenses supérieures aux ressources" if depenses > ressources else "ressources supérieures aux dépenses"
    return f"écart de {format_euros(abs(depenses - ressources))} ({sens})"


def _par_etp(montant: Decimal | None, etp: Decimal) -> str:
    if montant is None or etp <= 0:
        return NON_CALCULABLE
    return format_euros((montant / etp).quantize(CENTIME, rounding=ROUND_HALF_UP))


def _contact(n: NoteInstructionData) -> str:
    parties = [p for p in (n.contact_nom, n.contact_email, n.contact_telephone) if p]
    return " — ".join(parties) or NON_RENSEIGNE


def _une_ligne(texte: str | None) -> str | None:
    lignes = [ligne.strip() for ligne in (texte or "").splitlines() if ligne.strip()]
    return ", ".join(lignes) or None


def _referent_context(r: ReferentLigne) -> dict[str, str]:
    return {
        "nom": r.nom_complet,
        "etp": format_decimal_fr(r.etp),
        "salaire": format_euros(r.salaire),
        "plafond": format_euros(r.plafond),
        "conforme": "oui" if r.conforme else "non",
    }


def _groupes(constats: tuple[ConstatLigne, ...]) -> list[dict[str, object]]:
    """Constats grouped by gravité, most serious first; empty groups left out."""
    groupes = []
    for gravite, titre in GRAVITES.items():
        textes = [c.texte for c in constats if c.gravite == gravite]
        if textes:
            groupes.append({"gravite": gravite, "titre": f"{titre} ({len(textes)})", "textes": textes})
    return groupes


def _historique(n: NoteInstructionData) -> list[str]:
    lignes = [
        f"Instruction précédente du {format_datetime_paris(quand)} : avis {avis}."
        for quand, avis in sorted(n.historique, key=lambda h: h[0])
    ]
    if n.version > 1 and not lignes:
        lignes = [f"Cette note (version {n.version}) remplace une instruction précédente."]
    return lignes
