"""Instruction of the dossiers: findings, avis, one note per dossier; re-instruct only what changed."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.appels import SaisieRefusee, load_appel
from actions.documents import DocumentSpec, produce
from actions.dossiers import counted_depots, latest_form, refresh_dossier
from adapters.database import retry_on_conflict, transaction
from adapters.storage import Storage
from config.appel_config import AppelConfig
from models.appel import Appel
from models.dossier import Dossier, DossierStatut, advance
from models.instruction import (
    Constat,
    Gravite,
    Instruction,
    examine_dossier,
    propose_avis,
    salary_ceiling,
    to_decimal,
)
from francais.formats import compte, format_decimal_fr
from templates.note_instruction import (
    ConstatLigne,
    NoteInstructionData,
    ReferentLigne,
    note_context,
)

log = logging.getLogger("aap.instruction")
INSTRUCTIBLE = {DossierStatut.INCOMPLET, DossierStatut.COMPLET, DossierStatut.INSTRUIT, DossierStatut.AJOURNE}


@dataclass
class InstructionReport:
    instruits: list[str] = field(default_factory=list)
    inchanges: list[str] = field(default_factory=list)
    hors_delai_non_admis: list[str] = field(default_factory=list)
    notes: int = 0


def instruct_appel(factory: sessionmaker[Session], storage: Storage, annee: int, *, maintenant: datetime, pdf: bool) -> InstructionReport:
    report = InstructionReport()
    with factory() as session:
        appel, cfg = load_appel(session, annee)
        ids = list(session.scalars(select(Dossier.id).where(Dossier.appel_id == appel.id).order_by(Dossier.seq)))
    for dossier_id in ids:
        line = retry_on_conflict(lambda: _instruct_one(factory, appel.id, cfg, dossier_id, maintenant, report))
        if line is not None:
            log.log(*line)
    report.notes = render_notes(factory, storage, annee, pdf=pdf)
    return report


def _instruct_one(factory, appel_id: int, cfg: AppelConfig, dossier_id: int, maintenant: datetime,
                  report: InstructionReport) -> tuple[int, str] | None:
    """Instruct one dossier if its inputs changed; return the log's (level, French line), None when it is past instruction."""
    with transaction(factory) as session:
        dossier = session.get(Dossier, dossier_id)
        if dossier.statut is DossierStatut.HORS_DELAI and not dossier.admis:
            report.hors_delai_non_admis.append(dossier.numero)
            return logging.WARNING, (f"Dossier {dossier.numero} non instruit : reçu hors délai et non admis "
                                     "(« aap dossier admettre »).")
        if dossier.statut not in INSTRUCTIBLE | {DossierStatut.HORS_DELAI}:
            return None
        depots = counted_depots(dossier, list(dossier.depots))
        formulaire = latest_form(depots)
        inputs = {
            "formulaire": formulaire, "manquants": dossier.pieces_manquantes, "siret": dossier.porteur.siret,
            "contact": dossier.porteur.contact_email, "plafond": str(cfg.commande.plafond_salaire_charge_etp),
            "deplacements": cfg.commande.frais_deplacement_requis,
            "pieces": sorted(p.sha256 for d in depots for p in d.pieces if p.acceptee),
        }
        empreinte = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
        previous = session.scalar(
            select(Instruction).where(Instruction.dossier_id == dossier.id).order_by(Instruction.version.desc()).limit(1)
        )
        if previous is not None and previous.empreinte == empreinte:
            report.inchanges.append(dossier.numero)
            return logging.INFO, f"Dossier {dossier.numero} inchangé depuis son instruction : rien à refaire."
        constats = examine_dossier(
            formulaire=formulaire, pieces_manquantes=list(dossier.pieces_manquantes), siret=dossier.porteur.siret,
            contact_email=dossier.porteur.contact_email, plafond_etp=cfg.commande.plafond_salaire_charge_etp,
            deplacements_requis=cfg.commande.frais_deplacement_requis,
        )
        avis, _ = propose_avis(constats)
        session.add(Instruction(
            dossier_id=dossier.id, version=(previous.version + 1) if previous else 1, empreinte=empreinte, avis=avis,
            constats=[{"gravite": c.gravite.value, "texte": c.texte} for c in constats], instruit_le=maintenant,
        ))
        dossier.avis = avis.value
        dossier.constats = [{"gravite": c.gravite.value, "texte": c.texte} for c in constats]
        if dossier.statut is not DossierStatut.AJOURNE:  # still waiting for its answer: a new note, the same state
            dossier.statut = advance(dossier.statut, DossierStatut.INSTRUIT)
        dossier.mis_a_jour_le = maintenant
        report.instruits.append(dossier.numero)
        bloquants = sum(c.gravite is Gravite.BLOQUANT for c in constats)
        version = f" (version {previous.version + 1})" if previous else ""
        return logging.INFO, (f"Dossier {dossier.numero} instruit{version} : avis {avis.value}, "
                              f"{compte(bloquants, 'constat bloquant', 'constats bloquants')}.")


@dataclass(frozen=True)
class Admission:
    """What ``aap dossier admettre`` did; ``nouvelle`` is False when the dossier was admitted already."""

    numero: str
    statut: DossierStatut
    nouvelle: bool
    message: str


def admit_late_dossier(factory: sessionmaker[Session], annee: int, numero: str, motif: str, *, maintenant: datetime) -> Admission:
    """The SA decides that a dossier received after the deadline is instructed all the same. Admitting it
    again changes nothing: an instructed dossier stays instructed, and in the comité's pack."""
    if not motif.strip():
        raise SaisieRefusee("le motif de l'admission est obligatoire")

    def record() -> Admission:
        with transaction(factory) as session:
            appel, cfg = load_appel(session, annee)
            dossier = session.scalar(select(Dossier).where(Dossier.appel_id == appel.id, Dossier.numero == numero)
                                     .with_for_update())
            if dossier is None:
                raise SaisieRefusee(f"dossier {numero} inconnu pour l'appel {annee}")
            if dossier.admis:
                return Admission(numero, dossier.statut, False, (
                    f"le dossier {numero} est déjà admis à l'instruction (motif : {dossier.admission_motif}) ; "
                    f"statut : {dossier.statut.value} : rien n'a changé"))
            if dossier.statut is not DossierStatut.HORS_DELAI and not any(d.hors_delai for d in dossier.depots):
                raise SaisieRefusee(f"le dossier {numero} a été reçu dans les délais : rien à admettre")
            dossier.admis, dossier.admission_motif = True, motif.strip()
            refresh_dossier(session, dossier, cfg, maintenant)
            return Admission(numero, dossier.statut, True,
                             f"dossier {numero} admis à l'instruction (statut : {dossier.statut.value})")

    admission = retry_on_conflict(record)
    if admission.nouvelle:  # her reason stays on the dossier
        log.info("Dossier %s reçu hors délai admis à l'instruction par l'assistante.", admission.numero)
    return admission


def render_notes(factory: sessionmaker[Session], storage: Storage, annee: int, *, pdf: bool) -> int:
    """A note d'instruction for every instruction that has none yet (one LibreOffice call for the batch)."""
    with factory() as session:
        appel, cfg = load_appel(session, annee)
    note = DocumentSpec(
        nature="note_instruction", modele="note_instruction.docx", chemin=Instruction.note_chemin,
        a_faire=lambda: select(Instruction).join(Dossier, Dossier.id == Instruction.dossier_id)
        .where(Dossier.appel_id == appel.id, Instruction.note_chemin.is_(None)),
        dossier=lambda i: f"instruction/{annee}", fichier=lambda i, data: f"note_{data.dossier_numero}_v{i.version}",
        donnees=lambda session, i: note_data(session, appel, cfg, session.get(Dossier, i.dossier_id), i),
        contexte=note_context, logger="aap.instruction",
        journal=lambda i, data: f"Note d'instruction du dossier {data.dossier_numero} rédigée (version {i.version}).",
    )
    return len(produce(factory, storage, note, pdf=pdf).produits)


def note_data(session: Session, appel: Appel, cfg: AppelConfig, dossier: Dossier, instruction: Instruction) -> NoteInstructionData:
    formulaire = latest_form(counted_depots(dossier, list(dossier.depots))) or {}
    plafond = cfg.commande.plafond_salaire_charge_etp
    referents = []
    for r in formulaire.get("referents", []):
        etp = to_decimal(r.get("etp")) or Decimal("0")
        salaire = to_decimal(r.get("salaire_charge_annuel")) or Decimal("0")
        ceiling = salary_ceiling(plafond, etp)
        referents.append(ReferentLigne(
            nom_complet=f"{r.get('prenom', '')} {r.get('nom', '')}".strip(), etp=etp, salaire=salaire, plafond=ceiling,
            conforme=Decimal("0") < etp <= Decimal("1") and salaire <= ceiling,
        ))
    earlier = session.scalars(
        select(Instruction).where(Instruction.dossier_id == dossier.id, Instruction.version < instruction.version)
        .order_by(Instruction.version)
    )
    o = cfg.objectifs
    porteur = dossier.porteur
    return NoteInstructionData(
        appel_titre=appel.titre, appel_annee=appel.annee, dossier_numero=dossier.numero, porteur_nom=porteur.nom,
        porteur_siret=porteur.siret, porteur_adresse=porteur.adresse, contact_nom=porteur.contact_nom,
        contact_email=porteur.contact_email, contact_telephone=porteur.contact_telephone, recu_le=dossier.recu_le,
        canaux=tuple(dossier.canaux), admission_hors_delai=dossier.admission_motif if dossier.admis else None,
        referents=tuple(referents), etp_total=sum((r.etp for r in referents), Decimal("0")),
        budget_salaires=to_decimal(formulaire.get("budget_salaires")),
        budget_deplacements=to_decimal(formulaire.get("budget_deplacements")),
        budget_autres=to_decimal(formulaire.get("budget_autres")),
        ressources_fse=to_decimal(formulaire.get("ressources_fse")),
        ressources_plie=to_decimal(formulaire.get("ressources_plie")),
        ressources_autres=to_decimal(formulaire.get("ressources_autres")),
        constats=tuple(ConstatLigne(c["gravite"], c["texte"]) for c in instruction.constats),
        avis=instruction.avis.value, avis_motifs=tuple(propose_avis_texts(instruction)), version=instruction.version,
        instruit_le=instruction.instruit_le, historique=tuple((i.instruit_le, i.avis.value) for i in earlier),
        plafond_etp=plafond,
        objectifs=(
            f"{o.entrees} entrées par ETP et par an",
            f"{o.file_active} personnes en file active par ETP",
            f"{format_decimal_fr(o.taux_sorties_positives * 100)} % de sorties positives",
            f"{o.partenariats_par_binome} partenariats durables avec des entreprises par an et par binôme",
        ),
    )


def propose_avis_texts(instruction: Instruction) -> list[str]:
    """The reasons behind a recorded avis, recomputed by the same rule that gave it."""
    return propose_avis([Constat(Gravite(c["gravite"]), c["texte"]) for c in instruction.constats])[1]

