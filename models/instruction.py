"""Instruction: what the SA finds in a dossier, the avis it leads to, and the comité's decisions."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, Sha256, enum_column
from models.porteur import siret_motif
from francais.formats import format_date, format_decimal_fr, format_euros
from francais.saisie import cle_de_saisie

CENT = Decimal("0.01")
DEPENSES = ("budget_salaires", "budget_deplacements", "budget_autres")
RESSOURCES = ("ressources_fse", "ressources_plie", "ressources_autres")
LIBELLES_MONTANTS = {
    "budget_salaires": "les salaires chargés des référents",
    "budget_deplacements": "les frais de déplacement",
    "budget_autres": "les autres dépenses",
    "ressources_fse": "le cofinancement FSE sollicité",
    "ressources_plie": "le financement PLIE sollicité",
    "ressources_autres": "les autres ressources",
}


class Avis(enum.Enum):
    FAVORABLE = "favorable"
    RESERVE = "réservé"
    DEFAVORABLE = "défavorable"


class Gravite(enum.Enum):
    BLOQUANT = "bloquant"
    RESERVE = "réserve"
    INFORMATION = "information"


class Decision(enum.Enum):
    RETENU = "retenu"
    NON_RETENU = "non retenu"
    AJOURNE = "ajourné"


DECISION_LABELS = {"Retenu": Decision.RETENU, "Non retenu": Decision.NON_RETENU, "Ajourné": Decision.AJOURNE}
_DECISIONS_LUES = {cle_de_saisie(label): decision for label, decision in DECISION_LABELS.items()}


def decision_lue(texte: str) -> Decision | None:
    """The decision typed in the synthesis's drop-down column, as the SA means it: Excel's list ignores case
    (« retenu » passes for « Retenu »), and a cell typed without its accent or with extra spaces (« ajourne ») means
    the same; None for anything else."""
    return _DECISIONS_LUES.get(cle_de_saisie(texte))


@dataclass(frozen=True)
class Ajournement:
    """An ajourné dossier waiting for its answer: the comité that asked, the last day to answer, the answer's time."""

    ajourne_le: date
    reponse_avant: date
    repondu_le: datetime | None


@dataclass(frozen=True)
class Constat:
    gravite: Gravite
    texte: str


class Instruction(Base):
    """One examination of a dossier; a complément leads to a new one, the earlier ones are kept."""

    __tablename__ = "instruction"
    __table_args__ = (UniqueConstraint("dossier_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"))
    version: Mapped[int]
    empreinte: Mapped[Sha256]
    avis: Mapped[Avis] = mapped_column(enum_column(Avis))
    constats: Mapped[list[dict[str, Any]]]
    instruit_le: Mapped[datetime]
    note_chemin: Mapped[str | None] = mapped_column(String(500))


class DecisionComite(Base):
    """What a comité de pilotage decided for a dossier (an ajourné dossier gets another one later)."""

    __tablename__ = "decision_comite"
    __table_args__ = (UniqueConstraint("dossier_id", "comite_le"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"))
    comite_le: Mapped[date] = mapped_column(Date)
    decision: Mapped[Decision] = mapped_column(enum_column(Decision))
    motif: Mapped[str | None] = mapped_column(Text)
    reponse_avant: Mapped[date | None] = mapped_column(Date)
    fichier_sha256: Mapped[Sha256]
    enregistre_le: Mapped[datetime]
    lettre_chemin: Mapped[str | None] = mapped_column(String(500))


# --- rules -------------------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def salary_ceiling(plafond_etp: Decimal, etp: Decimal) -> Decimal:
    """The loaded-salary ceiling for a part-time référent, pro rata of the ETP, to the cent."""
    return (plafond_etp * etp).quantize(CENT)


def examine_budget(formulaire: dict[str, Any], *, plafond_etp: Decimal, deplacements_requis: bool) -> list[Constat]:
    """Per référent and in total: ceilings, ETP, travel costs, expenses = resources to the cent."""
    constats: list[Constat] = []
    salaries = Decimal("0")
    for r in formulaire.get("referents", []):
        qui = f"{r.get('prenom', '')} {r.get('nom', '')}".strip() or "référent sans nom"
        etp, salaire = to_decimal(r.get("etp")), to_decimal(r.get("salaire_charge_annuel"))
        salaries += salaire or Decimal("0")  # counted even when the ETP is wrong: the budget check is about money
        if salaire is not None and salaire < 0:
            constats.append(Constat(Gravite.BLOQUANT, (
                f"{qui} : montant négatif pour le salaire chargé annuel ({format_euros(salaire)})")))
            continue
        if etp is None or not (Decimal("0") < etp <= Decimal("1")):
            shown = format_decimal_fr(etp) if etp is not None else (str(r.get("etp") or "").strip() or "absent")
            constats.append(Constat(Gravite.BLOQUANT, f"{qui} : ETP « {shown} » hors de l'intervalle ]0 ; 1]"))
            continue
        if salaire is None:
            constats.append(Constat(Gravite.BLOQUANT, f"{qui} : salaire chargé annuel non renseigné"))
            continue
        ceiling = salary_ceiling(plafond_etp, etp)
        if salaire > ceiling:
            constats.append(Constat(Gravite.BLOQUANT, (
                f"{qui} : salaire chargé de {format_euros(salaire)} supérieur au plafond de {format_euros(ceiling)} "
                f"pour {format_decimal_fr(etp)} ETP ({format_euros(plafond_etp)} par ETP)"
            )))
    depenses = [to_decimal(formulaire.get(k)) for k in DEPENSES]
    ressources = [to_decimal(formulaire.get(k)) for k in RESSOURCES]
    budget_salaires, deplacements = depenses[0], depenses[1]
    for cle, montant in zip((*DEPENSES, *RESSOURCES), (*depenses, *ressources)):
        if montant is not None and montant < 0:
            constats.append(Constat(Gravite.BLOQUANT, f"montant négatif pour {LIBELLES_MONTANTS[cle]} : {format_euros(montant)}"))
    if deplacements_requis and (deplacements is None or deplacements == 0):  # negative: said above
        constats.append(Constat(Gravite.BLOQUANT, "frais de déplacement absents du budget : ils sont exigés pour les rencontres avec les entreprises"))
    if budget_salaires is not None and formulaire.get("referents") and budget_salaires != salaries:
        constats.append(Constat(Gravite.RESERVE, (
            f"salaires du budget ({format_euros(budget_salaires)}) différents de la somme des salaires "
            f"des référents ({format_euros(salaries)})"
        )))
    total_depenses = sum((d for d in depenses if d is not None), Decimal("0"))
    total_ressources = sum((r for r in ressources if r is not None), Decimal("0"))
    if total_depenses != total_ressources:
        constats.append(Constat(Gravite.BLOQUANT, (
            f"budget non équilibré : dépenses {format_euros(total_depenses)}, ressources {format_euros(total_ressources)} "
            f"(écart de {format_euros(abs(total_depenses - total_ressources))})"
        )))
    return constats


def examine_dossier(
    *,
    formulaire: dict[str, Any] | None,
    pieces_manquantes: list[str],
    siret: str | None,
    contact_email: str | None,
    plafond_etp: Decimal,
    deplacements_requis: bool,
) -> list[Constat]:
    """Every finding on a dossier, each with its French reason and its weight."""
    constats = [Constat(Gravite.RESERVE if "envoi" in m or "CV" in m else Gravite.BLOQUANT, f"dossier incomplet : {m}")
                for m in pieces_manquantes]
    if (motif := siret_motif(siret)) is not None:
        constats.append(Constat(Gravite.BLOQUANT, motif))
    if not contact_email or "@" not in contact_email:
        constats.append(Constat(Gravite.RESERVE, "aucune adresse électronique de contact"))
    if formulaire is not None:
        constats.extend(examine_budget(formulaire, plafond_etp=plafond_etp, deplacements_requis=deplacements_requis))
        for anomalie in formulaire.get("anomalies", []):
            constats.append(Constat(Gravite.RESERVE, f"formulaire : {anomalie}"))
    if not constats:
        constats.append(Constat(Gravite.INFORMATION, "dossier complet, budget conforme au cahier des charges"))
    return constats


def propose_avis(constats: list[Constat]) -> tuple[Avis, list[str]]:
    """Défavorable when anything blocks, réservé when something must be fixed, else favorable."""
    bloquants = [c.texte for c in constats if c.gravite is Gravite.BLOQUANT]
    if bloquants:
        return Avis.DEFAVORABLE, bloquants
    reserves = [c.texte for c in constats if c.gravite is Gravite.RESERVE]
    if reserves:
        return Avis.RESERVE, reserves
    return Avis.FAVORABLE, []


def ajournement_bloquant(a: Ajournement, comite_le: date) -> str | None:
    """Why the comité of ``comite_le`` cannot decide this ajourné dossier yet — no answer, and the porteur may
    still answer (until the end of its ``reponse_avant`` day) — else None."""
    if a.repondu_le is not None or comite_le > a.reponse_avant:
        return None
    return (f"ajourné par le comité du {format_date(a.ajourne_le)}, il a jusqu'au {format_date(a.reponse_avant)} "
            f"pour répondre et n'a pas encore répondu : le comité du {format_date(comite_le)} ne peut pas encore "
            "le décider (laissez sa décision vide)")


def ajournement_etat(a: Ajournement, comite_le: date) -> str:
    """What the comité of ``comite_le`` reads about the answer: its deadline and whether it came."""
    delai = f"réponse attendue au plus tard le {format_date(a.reponse_avant)}"
    if a.repondu_le is not None:
        return f"{delai} : reçue le {format_date(a.repondu_le)}"
    if comite_le > a.reponse_avant:
        return f"{delai} : aucune réponse dans le délai"
    return f"{delai} : pas de réponse à ce jour"
