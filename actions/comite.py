"""The comité de pilotage: its pack (synthesis workbook, notes bundle), its decisions, the letters."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from actions.appels import SaisieRefusee, load_appel
from actions.dossiers import counted_depots, latest_form
from actions.documents import DocumentSpec, produce
from adapters.database import transaction
from adapters.library_errors import french_os_error
from adapters.pdf import merge_pdfs
from adapters.storage import Storage
from config.appel_config import AppelConfig
from config.refus import Refus
from forms.synthese import (
    DECISIONS,
    LigneSynthese,
    SyntheseIllisible,
    read_synthese,
    write_synthese,
)
from models.appel import Appel
from models.comite import Comite
from models.dossier import (
    UNDECIDED,
    Dossier,
    DossierStatut,
    TransitionInterdite,
    advance,
)
from models.instruction import (
    Ajournement,
    Decision,
    DecisionComite,
    Gravite,
    Instruction,
    ajournement_bloquant,
    ajournement_etat,
    decision_lue,
    to_decimal,
)
from francais.formats import compte, format_date, format_decimal_fr
from templates.lettre_decision import LettreDecisionData, lettre_context

log = logging.getLogger("aap.comite")
DECISION_STATUT = {Decision.RETENU: DossierStatut.RETENU, Decision.NON_RETENU: DossierStatut.NON_RETENU,
                   Decision.AJOURNE: DossierStatut.AJOURNE}


@dataclass
class PackReport:
    comite_le: date
    synthese: Path
    notes: Path | None
    dossiers: list[str]
    non_instruits: list[str]
    ajournes: list[str] = field(default_factory=list)
    """One French line per ajourné dossier of the pack: its answer's deadline and whether the answer came."""


class DecisionsRefusees(Refus):
    """The decisions file is refused as a whole; ``problemes`` has one French line per problem."""

    def __init__(self, problemes: list[str]):
        super().__init__("\n".join(problemes))
        self.problemes = problemes


@dataclass
class DecisionsReport:
    comite_le: date
    enregistrees: list[str] = field(default_factory=list)
    inchangees: list[str] = field(default_factory=list)
    en_attente: list[str] = field(default_factory=list)
    """Ajourné dossiers left undecided: they may still answer."""
    avertissements: list[str] = field(default_factory=list)
    lettres: int = 0


def _referents(formulaire: dict) -> list[tuple[str, Decimal, Decimal]]:
    out = []
    for r in formulaire.get("referents", []):
        out.append((f"{r.get('prenom', '')} {r.get('nom', '')}".strip(), to_decimal(r.get("etp")) or Decimal("0"),
                    to_decimal(r.get("salaire_charge_annuel")) or Decimal("0")))
    return out


def dossier_etp(dossier: Dossier) -> Decimal:
    return sum((etp for _, etp, _ in _referents(latest_form(counted_depots(dossier, list(dossier.depots))) or {})), Decimal("0"))


def ajournement_of(session: Session, dossier: Dossier, *, avant: date) -> Ajournement | None:
    """The dossier's wait for its answer, when a comité before ``avant`` adjourned it and no decision came since:
    its deadline, and when the first dépôt that counts arrived after the ajournement was recorded."""
    if dossier.reponse_avant is None:
        return None
    dc = session.scalar(select(DecisionComite).where(
        DecisionComite.dossier_id == dossier.id, DecisionComite.decision == Decision.AJOURNE,
        DecisionComite.comite_le < avant).order_by(DecisionComite.comite_le.desc()).limit(1))
    if dc is None:
        return None
    answers = [d.recu_le for d in counted_depots(dossier, list(dossier.depots)) if d.recu_le >= dc.enregistre_le]
    return Ajournement(dc.comite_le, dc.reponse_avant or dossier.reponse_avant, min(answers) if answers else None)


def synthese_line(dossier: Dossier, reponse: str = "") -> LigneSynthese:
    formulaire = latest_form(counted_depots(dossier, list(dossier.depots))) or {}
    referents = _referents(formulaire)
    etp = sum((e for _, e, _ in referents), Decimal("0"))
    salaires = to_decimal(formulaire.get("budget_salaires"))
    depenses = [to_decimal(formulaire.get(k)) for k in ("budget_salaires", "budget_deplacements", "budget_autres")]
    total = sum((d for d in depenses if d is not None), Decimal("0")) if any(d is not None for d in depenses) else None
    return LigneSynthese(
        numero=dossier.numero, porteur=dossier.porteur.nom, siret=dossier.porteur.siret,
        referents=" ; ".join(f"{nom} ({format_decimal_fr(e)} ETP)" for nom, e, _ in referents),
        etp=etp, cout_salarial=salaires, cout_par_etp=(salaires / etp).quantize(Decimal("0.01")) if salaires and etp else None,
        deplacements=to_decimal(formulaire.get("budget_deplacements")), total_depenses=total,
        constats="\n".join(f"[{c['gravite']}] {c['texte']}" for c in dossier.constats or []), avis=dossier.avis or "",
        reponse=reponse,
    )


def prepare_comite(
    factory: sessionmaker[Session], storage: Storage, annee: int, *, comite_le: date | None, sortie: Path | None,
    maintenant: datetime,
) -> PackReport:
    """Write the synthesis workbook and the bundle of notes for every instructed, undecided dossier."""
    with transaction(factory) as session:
        appel, cfg = load_appel(session, annee)
        comite_le = comite_le or cfg.calendrier.comite
        dossiers = list(session.scalars(
            select(Dossier).where(Dossier.appel_id == appel.id, Dossier.statut.in_(UNDECIDED)).order_by(Dossier.seq)
        ))
        listed = [d for d in dossiers if d.statut in {DossierStatut.INSTRUIT, DossierStatut.AJOURNE}]
        waiting = [d.numero for d in dossiers if d not in listed and (d.statut is not DossierStatut.HORS_DELAI or d.admis)]
        if not listed:
            raise SaisieRefusee("aucun dossier instruit en attente de décision : lancez d'abord « aap instruire »")
        numeros = [d.numero for d in listed]
        etats = {}
        for d in listed:
            if (a := ajournement_of(session, d, avant=comite_le)) is not None:
                etats[d.numero] = ajournement_etat(a, comite_le)
        ajournes = [f"{numero} ({d.porteur.nom}) : {etats[numero]}" for numero, d in zip(numeros, listed) if numero in etats]
        versions = [f"{d.numero}:{session.scalar(select(func.count()).where(Instruction.dossier_id == d.id))}"
                    for d in listed]
        # the same dossiers, instructed the same way, for the same comité: the same pack, whatever the clock says
        jeton = hashlib.sha256(f"{annee}|{comite_le}|{','.join(versions)}|{'|'.join(ajournes)}".encode()).hexdigest()[:32]
        if (same := session.scalar(select(Comite).where(Comite.jeton == jeton))) is not None:
            # the same pack asked again: keep the file, which the SA may have filled in place
            log.info("Dossier de séance du comité du %s déjà préparé (%s) : rien n'a changé.", format_date(comite_le),
                     compte(len(numeros), "dossier", "dossiers"))
            return PackReport(comite_le, Path(same.synthese_chemin), _existing_bundle(same), numeros, waiting, ajournes)
        folder = Path(sortie) if sortie else storage.ensure_dir(f"comites/{annee}")
        folder.mkdir(parents=True, exist_ok=True)
        earlier = session.scalar(select(func.count()).select_from(Comite).where(
            Comite.appel_id == appel.id, Comite.comite_le == comite_le)) or 0
        # a new pack for the same comité never overwrites one the SA may already be filling
        name = f"synthese_comite_{comite_le.isoformat()}" + (f"_{earlier + 1}" if earlier else "") + ".xlsx"
        synthese = write_synthese(
            folder / name, annee=annee, titre=appel.titre, comite_le=comite_le,
            referents_voulus=cfg.commande.referents_voulus, lignes=[synthese_line(d, etats.get(d.numero, "")) for d in listed], jeton=jeton,
        )
        session.add(Comite(appel_id=appel.id, comite_le=comite_le, jeton=jeton, dossiers=numeros,
                           synthese_chemin=str(synthese.resolve()), prepare_le=maintenant))
        notes = []
        for d in listed:
            latest = session.scalar(select(Instruction).where(Instruction.dossier_id == d.id)
                                    .order_by(Instruction.version.desc()).limit(1))
            if latest is not None and latest.note_chemin and latest.note_chemin.endswith(".pdf"):
                notes.append((f"{d.numero} — {d.porteur.nom}", storage.path(latest.note_chemin)))
    bundle = None
    if notes and len(notes) == len(listed):
        bundle = merge_pdfs(notes, bundle_path(synthese))
    log.info("Dossier de séance du comité du %s préparé : %s (%s)%s.", format_date(comite_le),
             compte(len(numeros), "dossier", "dossiers"), synthese.name,
             f", {compte(len(waiting), 'dossier non instruit', 'dossiers non instruits')}" if waiting else "")
    return PackReport(comite_le, synthese, bundle, numeros, waiting, ajournes)


def bundle_path(synthese: Path) -> Path:
    """The notes' bundle beside its synthesis: ``synthese_comite_2017-12-11_2.xlsx`` → ``notes_instruction_comite_2017-12-11_2.pdf``."""
    return synthese.with_name(synthese.stem.replace("synthese_comite_", "notes_instruction_comite_", 1) + ".pdf")


def _existing_bundle(comite: Comite) -> Path | None:
    bundle = bundle_path(Path(comite.synthese_chemin))
    return bundle if bundle.is_file() else None


def record_decisions(
    factory: sessionmaker[Session], annee: int, fichier: Path, *, date_comite: date | None, maintenant: datetime
) -> DecisionsReport:
    """Check the whole filled workbook, then record every decision at once — or nothing at all."""
    try:
        data = Path(fichier).read_bytes()
    except OSError as exc:
        raise DecisionsRefusees([f"fichier illisible : {fichier} ({french_os_error(exc)})"]) from exc
    try:
        lu = read_synthese(data)
    except SyntheseIllisible as exc:
        raise DecisionsRefusees([exc.motif]) from exc
    sha = hashlib.sha256(data).hexdigest()
    with transaction(factory) as session:
        appel, cfg = load_appel(session, annee)
        comite = session.scalar(select(Comite).where(Comite.jeton == (lu.jeton or ""), Comite.appel_id == appel.id))
        if lu.annee != annee or comite is None:
            raise DecisionsRefusees([f"ce classeur n'est pas une synthèse produite pour l'appel {annee} "
                                     "(« aap comite preparer ») : aucune décision enregistrée"])
        comite_le = date_comite or comite.comite_le
        report = DecisionsReport(comite_le)
        problemes, decided, report.en_attente = _check_rows(session, appel, comite, lu.decisions, comite_le)
        if problemes:
            log.warning("Décisions du comité refusées, aucune enregistrée : %s.",
                        compte(len(problemes), "problème", "problèmes"))
            for probleme in problemes:
                log.warning("Décisions refusées : %s.", probleme)
            raise DecisionsRefusees(problemes)
        lines: list[str] = []
        for dossier, decision, motif in decided:
            existing = session.scalar(select(DecisionComite).where(
                DecisionComite.dossier_id == dossier.id, DecisionComite.comite_le == comite_le))
            if existing is not None:
                report.inchangees.append(dossier.numero)
                continue
            session.add(DecisionComite(
                dossier_id=dossier.id, comite_le=comite_le, decision=decision, motif=motif or None,
                reponse_avant=comite_le + timedelta(days=cfg.comite.delai_reponse_jours) if decision is Decision.AJOURNE else None,
                fichier_sha256=sha, enregistre_le=maintenant,
            ))
            dossier.statut = advance(dossier.statut, DECISION_STATUT[decision])
            dossier.reponse_avant = comite_le + timedelta(days=cfg.comite.delai_reponse_jours) if decision is Decision.AJOURNE else None
            dossier.mis_a_jour_le = maintenant
            report.enregistrees.append(dossier.numero)
            lines.append(decision_line(dossier.numero, dossier.porteur.nom, decision, dossier.reponse_avant))
        session.flush()
        retained = sum((dossier_etp(d) for d in session.scalars(
            select(Dossier).where(Dossier.appel_id == appel.id, Dossier.statut == DossierStatut.RETENU))), Decimal("0"))
        if retained > cfg.commande.referents_voulus:
            report.avertissements.append(
                f"attention : {format_decimal_fr(retained)} ETP retenus pour {cfg.commande.referents_voulus} référents voulus")
    for line in lines:  # once committed
        log.info(line)
    for numero in report.en_attente:
        log.info("Dossier %s : ajourné, réponse attendue, pas de décision pour l'instant.", numero)
    for avertissement in report.avertissements:
        log.warning("Décisions du comité : %s.", avertissement)
    return report


def decision_line(numero: str, structure: str, decision: Decision, reponse_avant: date | None) -> str:
    """« Dossier 2018-003 (Tremplin Emploi) : retenu. », an ajourné one with its answer's deadline."""
    suite = f", réponse attendue avant le {format_date(reponse_avant)}" if reponse_avant else ""
    return f"Dossier {numero} ({structure}) : {decision.value}{suite}."


def _check_rows(session: Session, appel: Appel, comite: Comite, rows, comite_le: date):
    problemes: list[str] = []
    decided: list[tuple[Dossier, Decision, str]] = []
    en_attente: list[str] = []
    seen: set[str] = set()
    dossiers = {d.numero: d for d in session.scalars(  # their structures with them: the log names them
        select(Dossier).where(Dossier.appel_id == appel.id).options(selectinload(Dossier.porteur)))}
    for row in rows:
        where = f"ligne {row.ligne}, dossier {row.numero}"
        dossier = dossiers.get(row.numero)
        if dossier is None:
            problemes.append(f"{where} : dossier inconnu pour l'appel {appel.annee}")
            continue
        if row.numero in seen:
            problemes.append(f"{where} : dossier présent deux fois dans le classeur")
            continue
        seen.add(row.numero)
        ajournement = ajournement_of(session, dossier, avant=comite_le)
        if ajournement is not None and (attente := ajournement_bloquant(ajournement, comite_le)) is not None:
            if row.decision:
                problemes.append(f"{where} : {attente}")
            else:
                en_attente.append(dossier.numero)
            continue
        if not row.decision:
            problemes.append(f"{where} : décision non renseignée")
            continue
        decision = decision_lue(row.decision)
        if decision is None:
            problemes.append(f"{where} : décision « {row.decision} » inconnue (attendu : {', '.join(DECISIONS)})")
            continue
        if decision is not Decision.RETENU and not row.motif:
            what = "les questions complémentaires" if decision is Decision.AJOURNE else "le motif"
            problemes.append(f"{where} : décision « {row.decision} » sans {what} (colonne « Motif ou questions »)")
            continue
        previous = session.scalar(select(DecisionComite).where(
            DecisionComite.dossier_id == dossier.id, DecisionComite.comite_le == comite_le))
        if previous is not None:
            if previous.decision is not decision or (previous.motif or "") != row.motif:
                problemes.append(f"{where} : une autre décision est déjà enregistrée pour le comité du {comite_le:%d/%m/%Y}"
                                 f" ({previous.decision.value})")
            else:
                decided.append((dossier, decision, row.motif))
            continue
        if decision is Decision.RETENU and dossier_etp(dossier) <= 0:
            problemes.append(f"{where} : aucun référent (ETP) dans le formulaire du dossier : il ne peut pas être retenu")
            continue
        try:
            advance(dossier.statut, DECISION_STATUT[decision])
        except TransitionInterdite:
            problemes.append(f"{where} : le dossier est « {dossier.statut.value} » : il ne peut pas être "
                             f"{decision.value} (seul un dossier instruit peut recevoir une décision)")
            continue
        decided.append((dossier, decision, row.motif))
    for numero in comite.dossiers:
        if numero not in seen and numero in dossiers:
            problemes.append(f"dossier {numero} ({dossiers[numero].porteur.nom}) absent du classeur")
    return problemes, decided, en_attente


def notify_decisions(factory: sessionmaker[Session], storage: Storage, annee: int, *, pdf: bool, maintenant: datetime) -> int:
    """A letter for every decision that has none yet, mailed through the outbox with the letter attached."""
    with factory() as session:
        appel, cfg = load_appel(session, annee)
    lettre = DocumentSpec(
        nature="lettre_decision", modele="lettre_decision.docx", chemin=DecisionComite.lettre_chemin,
        a_faire=lambda: select(DecisionComite).join(Dossier, Dossier.id == DecisionComite.dossier_id)
        .where(Dossier.appel_id == appel.id, DecisionComite.lettre_chemin.is_(None)),
        dossier=lambda dc: f"decisions/{annee}", fichier=lambda dc, data: data.numero_courrier,
        donnees=lambda session, dc: lettre_data(appel, cfg, session.get(Dossier, dc.dossier_id), dc, maintenant),
        contexte=lettre_context, notification="notification_decision", quand=lambda dc, data: maintenant,
        details=lambda session, dc: {"dossier_numero": session.get(Dossier, dc.dossier_id).numero},
        journal=lambda dc, data: (f"Lettre de décision {data.numero_courrier} rédigée pour le dossier "
                                  f"{data.dossier_numero} ({dc.decision.value})."),
        logger="aap.comite",
    )
    return len(produce(factory, storage, lettre, pdf=pdf).produits)


def lettre_data(appel: Appel, cfg: AppelConfig, dossier: Dossier, dc: DecisionComite, maintenant: datetime) -> LettreDecisionData:
    ajourne = dc.decision is Decision.AJOURNE
    return LettreDecisionData(
        appel_titre=appel.titre, appel_annee=appel.annee, dossier_numero=dossier.numero, porteur_nom=dossier.porteur.nom,
        porteur_adresse=dossier.porteur.adresse, contact_nom=dossier.porteur.contact_nom, decision=dc.decision.value,
        motif=None if ajourne else dc.motif, questions=dc.motif if ajourne else None, reponse_avant=dc.reponse_avant,
        comite_le=dc.comite_le, etp_retenus=dossier_etp(dossier), debut_convention=cfg.calendrier.debut_convention,
        emis_le=maintenant, numero_courrier=f"DEC-{dossier.numero}-{dc.comite_le:%Y%m%d}",
        points_bloquants=tuple(c["texte"] for c in dossier.constats or [] if c["gravite"] == Gravite.BLOQUANT.value),
    )
