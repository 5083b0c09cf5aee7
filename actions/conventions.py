"""Conventions and avenants: establish, sign, renew (at most twice), modify, and what the SA tracks."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from actions.appels import SaisieRefusee, load_appel
from actions.dossiers import counted_depots, latest_form
from adapters.database import retry_on_conflict, transaction
from config.appel_config import AppelConfig, SuiviRegles
from config.refus import Refus
from forms.tableur import Colonne as C
from forms.tableur import Feuille, write_tableur
from francais.elision import de
from francais.formats import compte, format_date, format_decimal_fr, format_euros, to_paris
from models.appel import Appel
from models.convention import (
    Avenant,
    AvenantNature,
    Convention,
    ConventionNonSignee,
    ConventionStatut,
    PeriodeDejaRenouvelee,
    RenouvellementsEpuises,
    avenant_en_vigueur,
    etat_en_vigueur,
    fin_en_vigueur,
    next_action,
    one_year_from,
    prolonger,
    statut_convention,
)
from models.dossier import Dossier, DossierStatut
from models.suivi import Echeance, NatureEcheance, planned_echeances
from models.instruction import salary_ceiling, to_decimal

log = logging.getLogger("aap.conventions")
AMOUNTS = ("budget_salaires", "budget_deplacements", "budget_autres", "ressources_fse", "ressources_plie", "ressources_autres")
ZERO = Decimal("0.00")


class ConflitRenouvellement(Exception):
    """Another process renewed the same convention meanwhile: load again and decide again."""


@dataclass(frozen=True)
class AvenantDemande:
    """What an avenant request did: ``numero`` is the new avenant, or None when the request was already
    carried out (then nothing changed: no avenant, no document, no mail); ``message`` says it in French."""

    numero: str | None
    message: str


def echeances(debut: date, fin: date, suivi: SuiviRegles) -> list[tuple[str, date]]:
    """The reporting obligations of one period, with their due dates (``models.suivi.planned_echeances``)."""
    mi, final = planned_echeances(debut, fin, mi_parcours_mois=suivi.mi_parcours_mois,
                                  delai_mi_parcours_jours=suivi.delai_mi_parcours_jours,
                                  delai_final_jours=suivi.delai_final_jours)
    return [
        ("Situation budgétaire et bilan quantitatif et qualitatif à mi-parcours, avec les justificatifs", mi.due_le),
        ("Situation budgétaire et bilan quantitatif et qualitatif de fin d'action, avec les justificatifs",
         final.due_le),
        ("Fiches de présence signées par les participants (chaque mois)", fin),
    ]


# --- establishing --------------------------------------------------------------------------


def establish_conventions(
    factory: sessionmaker[Session], annee: int, *, maintenant: datetime, dossier_numero: str | None = None
) -> list[str]:
    """A numbered convention for every retained dossier that has none (or for the one named)."""
    created: list[str] = []
    lines: list[str] = []

    def record() -> None:
        created.clear()  # a retried transaction starts again
        lines.clear()
        with transaction(factory) as session:
            appel, cfg = load_appel(session, annee)
            query = (select(Dossier).where(Dossier.appel_id == appel.id).order_by(Dossier.seq)
                     .options(selectinload(Dossier.porteur)))
            if dossier_numero:
                dossier = session.scalar(query.where(Dossier.numero == dossier_numero))
                if dossier is None:
                    raise SaisieRefusee(f"dossier {dossier_numero} inconnu pour l'appel {annee}")
                if dossier.statut is not DossierStatut.RETENU:
                    raise SaisieRefusee(f"le dossier {dossier_numero} n'a pas été retenu par le comité "
                                        f"(statut : {dossier.statut.value}) : pas de convention possible")
                dossiers = [dossier]
            else:
                dossiers = list(session.scalars(query.where(Dossier.statut == DossierStatut.RETENU)))
            existing = set(session.scalars(select(Convention.dossier_id).where(Convention.appel_id == appel.id)))
            for dossier in dossiers:
                if dossier.id in existing:
                    continue
                created.append(_new_convention(session, appel, cfg, dossier, maintenant).numero)
                lines.append(f"Convention {created[-1]} établie pour le dossier {dossier.numero} ({dossier.porteur.nom}).")

    retry_on_conflict(record)
    for line in lines:
        log.info(line)
    return created


def _new_convention(session: Session, appel: Appel, cfg: AppelConfig, dossier: Dossier, maintenant: datetime) -> Convention:
    form = latest_form(counted_depots(dossier, list(dossier.depots))) or {}
    referents = [
        {"nom_complet": f"{r.get('prenom', '')} {r.get('nom', '')}".strip(),
         "etp": str(to_decimal(r.get("etp")) or ZERO), "salaire": str(to_decimal(r.get("salaire_charge_annuel")) or ZERO)}
        for r in form.get("referents", [])
    ]
    seq = (session.scalar(select(func.max(Convention.seq)).where(Convention.appel_id == appel.id)) or 0) + 1
    periode = one_year_from(cfg.calendrier.debut_convention)
    convention = Convention(
        appel_id=appel.id, dossier_id=dossier.id, seq=seq, numero=f"CONV-{appel.annee}-{seq:03d}",
        statut=ConventionStatut.A_SIGNER, debut=periode.debut, fin=periode.fin, renouvellements=0,
        renouvellements_max=cfg.convention.renouvellements_max, referents=referents,
        etp=sum((Decimal(r["etp"]) for r in referents), ZERO), etablie_le=maintenant,
        **{k: (to_decimal(form.get(k)) or ZERO) for k in AMOUNTS},
    )
    convention.etat_initial = convention_state(convention)
    session.add(convention)
    session.flush()
    return convention


# --- signing ---------------------------------------------------------------------------------


def sign(factory: sessionmaker[Session], numero: str, *, le: date) -> str:
    """Record the signature of a convention or of an avenant (same date twice: nothing changes)."""

    def record() -> str:
        with transaction(factory) as session:
            avenant = session.scalar(select(Avenant).where(Avenant.numero == numero))
            target: Convention | Avenant | None = avenant or session.scalar(select(Convention).where(Convention.numero == numero))
            if target is None:
                raise SaisieRefusee(f"aucune convention ni aucun avenant n° {numero}")
            # la convention signée, l'avenant signé
            article, nom, signe = ("l'", "avenant", "signé") if isinstance(target, Avenant) else ("la ", "convention", "signée")
            signed = target.signe_le if isinstance(target, Avenant) else target.signee_le
            if signed is not None:
                if signed != le:
                    raise SaisieRefusee(f"{article}{nom} {numero} est déjà {signe} depuis le {format_date(signed)}")
                return f"{nom.capitalize()} {numero} déjà {signe} le {format_date(signed)}"
            if isinstance(target, Avenant):
                target.signe_le = le
            else:
                target.signee_le, target.statut = le, ConventionStatut.EN_COURS
            return f"{nom.capitalize()} {numero} {signe} le {format_date(le)}"

    message = retry_on_conflict(record)
    log.info("%s.", message)
    return message


# --- avenants --------------------------------------------------------------------------------


def _load_for_update(session: Session, numero: str) -> Convention:
    convention = session.scalar(
        select(Convention).where(Convention.numero == numero).with_for_update().execution_options(populate_existing=True)
    )
    if convention is None:
        raise SaisieRefusee(f"aucune convention n° {numero}")
    return convention


def prolong(factory: sessionmaker[Session], numero: str, *, valide_le: date, instance: str | None,
            maintenant: datetime) -> AvenantDemande:
    """Renew the convention for one more year by avenant, once per year: the same request again changes
    nothing and says so. A renewal past the limit is refused — by this rule, and by the database's
    constraints if two processes race for the last one."""

    def record() -> AvenantDemande:
        with transaction(factory) as session:
            c = _load_for_update(session, numero)
            renouvellements = [a for a in c.avenants if a.nature is AvenantNature.PROLONGATION]
            precedents = [f"avenant {a.numero} du {format_date(a.valide_le)}" for a in renouvellements]
            try:
                periode = prolonger(
                    numero=c.numero, statut=c.statut, debut=c.debut, fin=c.fin, renouvellements=c.renouvellements,
                    renouvellements_max=c.renouvellements_max, precedents=precedents, valide_le=valide_le,
                    renouvelee_par={a.periode_debut: f"avenant {a.numero} du {format_date(a.valide_le)}"
                                    for a in renouvellements})
            except PeriodeDejaRenouvelee as deja:
                return AvenantDemande(None, str(deja))
            rang = c.renouvellements + 1
            won = session.execute(
                update(Convention).where(Convention.id == c.id, Convention.renouvellements == c.renouvellements)
                .values(renouvellements=rang, fin=periode.fin)
                .execution_options(synchronize_session=False)
            ).rowcount
            if won != 1:
                raise ConflitRenouvellement(numero)
            avenant = _new_avenant(
                session, c, AvenantNature.PROLONGATION, valide_le=valide_le, instance=instance, maintenant=maintenant,
                renouvellement=rang, periode_debut=periode.debut, periode_fin=periode.fin,
                changements=[f"Période renouvelée du {format_date(periode.debut)} au {format_date(periode.fin)} "
                             f"(renouvellement n° {rang} sur {c.renouvellements_max})"],
            )
            return AvenantDemande(avenant.numero, f"avenant {avenant.numero} établi : convention renouvelée du "
                                                  f"{format_date(periode.debut)} au {format_date(periode.fin)}")

    try:
        demande = _retry_renewal(record)
    except Refus as refus:
        log.warning("Renouvellement de la convention %s refusé : %s.", numero, refus)
        raise
    log.info("Convention %s : %s.", numero, demande.message)
    return demande


def _retry_renewal(work):  # noqa: ANN001, ANN202
    for _ in range(10):
        try:
            return retry_on_conflict(work)
        except ConflitRenouvellement:
            continue
    raise SaisieRefusee("la convention est modifiée par un autre traitement : réessayez")


@dataclass
class Modification:
    """What a modification avenant changes (amounts, a référent's ETP or salary, a référent replaced)."""

    montants: dict[str, Decimal] = field(default_factory=dict)
    etp: dict[str, Decimal] = field(default_factory=dict)
    salaires: dict[str, Decimal] = field(default_factory=dict)
    remplacements: dict[str, str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        return not (self.montants or self.etp or self.salaires or self.remplacements)


def modify(
    factory: sessionmaker[Session], numero: str, changes: Modification, *, valide_le: date, instance: str | None,
    maintenant: datetime,
) -> AvenantDemande:
    """A modification avenant: the period stays, the renewal count too. A change the convention already
    has (the same request again) makes no avenant and says so."""
    if changes.is_empty():
        raise SaisieRefusee("aucune modification demandée")

    def record() -> AvenantDemande:
        with transaction(factory) as session:
            c = _load_for_update(session, numero)
            appel = session.get(Appel, c.appel_id)
            cfg = AppelConfig.model_validate(appel.config)
            lignes = apply_modification(c, changes, plafond_etp=cfg.commande.plafond_salaire_charge_etp)
            if not lignes:  # every value asked is the convention's already
                derniers = [a for a in c.avenants if a.nature is AvenantNature.MODIFICATION]
                par = f" (dernier avenant de modification : {derniers[-1].numero} du {format_date(derniers[-1].valide_le)})" \
                    if derniers else ""
                return AvenantDemande(None, f"la convention {c.numero} a déjà ces valeurs{par} : "
                                            "aucun avenant établi, rien n'a changé"), 0
            avenant = _new_avenant(
                session, c, AvenantNature.MODIFICATION, valide_le=valide_le, instance=instance, maintenant=maintenant,
                renouvellement=None, periode_debut=period_start(c), periode_fin=c.fin, changements=lignes,
            )
            return AvenantDemande(avenant.numero, f"avenant {avenant.numero} établi : " + " ; ".join(lignes)), len(lignes)

    try:
        demande, changements = retry_on_conflict(record)
    except Refus:  # its reason may name référents: the SA reads it where she typed the command
        log.warning("Avenant de modification de la convention %s refusé.", numero)
        raise
    if demande.numero is None:
        log.info("Convention %s : déjà à ces valeurs, aucun avenant établi.", numero)
    else:  # what changed names référents: it stays in the avenant
        log.info("Avenant %s établi pour la convention %s : modification (%s).", demande.numero, numero,
                 compte(changements, "changement", "changements"))
    return demande


def apply_modification(c: Convention, changes: Modification, *, plafond_etp: Decimal) -> list[str]:
    """Change the convention in place; return the French lines saying what changed. Refuse what breaks a rule."""
    lignes: list[str] = []
    referents = [dict(r) for r in c.referents]
    by_name = {r["nom_complet"].casefold(): r for r in referents}

    def find(nom: str) -> dict[str, str]:
        r = by_name.get(nom.strip().casefold())
        if r is None:
            raise SaisieRefusee(f"référent « {nom} » absent de la convention {c.numero} "
                                f"(référents : {', '.join(x['nom_complet'] for x in referents)})")
        return r

    for ancien, nouveau in changes.remplacements.items():
        if ancien.strip().casefold() not in by_name and nouveau.strip().casefold() in by_name:
            continue  # replaced already
        r = find(ancien)
        if r["nom_complet"] == nouveau.strip():
            continue
        lignes.append(f"Référent remplacé : {r['nom_complet']} par {nouveau.strip()}")
        r["nom_complet"] = nouveau.strip()
        del by_name[ancien.strip().casefold()]  # the replaced référent is no longer in the convention
        by_name[nouveau.strip().casefold()] = r
    for nom, etp in changes.etp.items():
        r = find(nom)
        if not Decimal("0") < etp <= Decimal("1"):
            raise SaisieRefusee(f"ETP {de(r['nom_complet'])} : {format_decimal_fr(etp)} hors de l'intervalle ]0 ; 1]")
        if Decimal(r["etp"]) == etp:
            continue
        lignes.append(f"ETP {de(r['nom_complet'])} : {format_decimal_fr(Decimal(r['etp']))} → {format_decimal_fr(etp)}")
        r["etp"] = str(etp)
    for nom, salaire in changes.salaires.items():
        r = find(nom)
        if Decimal(r["salaire"]) == salaire:
            continue
        lignes.append(f"Salaire chargé {de(r['nom_complet'])} : {format_euros(Decimal(r['salaire']))} → {format_euros(salaire)}")
        r["salaire"] = str(salaire.quantize(Decimal("0.01")))
    for r in referents:
        ceiling = salary_ceiling(plafond_etp, Decimal(r["etp"]))
        if Decimal(r["salaire"]) > ceiling:
            raise SaisieRefusee(f"salaire chargé {de(r['nom_complet'])} ({format_euros(Decimal(r['salaire']))}) supérieur au "
                                f"plafond de {format_euros(ceiling)} pour {format_decimal_fr(Decimal(r['etp']))} ETP")
    for key, value in changes.montants.items():
        if key not in AMOUNTS:
            raise SaisieRefusee(f"montant inconnu : {key}")
        if getattr(c, key) == value:
            continue
        lignes.append(f"{LIBELLES[key]} : {format_euros(getattr(c, key))} → {format_euros(value)}")
        setattr(c, key, value.quantize(Decimal("0.01")))
    depenses = c.budget_salaires + c.budget_deplacements + c.budget_autres
    ressources = c.ressources_fse + c.ressources_plie + c.ressources_autres
    if depenses != ressources:
        raise SaisieRefusee(f"budget non équilibré après modification : dépenses {format_euros(depenses)}, "
                            f"ressources {format_euros(ressources)}")
    c.referents = referents
    c.etp = sum((Decimal(r["etp"]) for r in referents), ZERO)
    return lignes


LIBELLES = {
    "budget_salaires": "Salaires chargés", "budget_deplacements": "Frais de déplacement", "budget_autres": "Autres dépenses",
    "ressources_fse": "FSE", "ressources_plie": "PLIE", "ressources_autres": "Autres ressources",
}


def period_start(c: Convention, fin: date | None = None) -> date:
    """The start of the year ending ``fin`` (by default the convention's last year, after its renewals)."""
    start, fin = c.debut, fin or c.fin
    while one_year_from(start).fin < fin:
        start = one_year_from(start).fin + timedelta(days=1)
    return start


def current_period(c: Convention, jour: date, fin: date) -> dict[str, str]:
    """The year of the convention ``jour`` falls in (its first before it starts, its last once it ended)."""
    debut = period_start(c, min(max(jour, c.debut), fin))
    return {"debut": debut.isoformat(), "fin": one_year_from(debut).fin.isoformat()}


def _new_avenant(session: Session, c: Convention, nature: AvenantNature, *, valide_le: date, instance: str | None,
                 maintenant: datetime, renouvellement: int | None, periode_debut: date, periode_fin: date,
                 changements: list[str]) -> Avenant:
    ordre = (session.scalar(select(func.max(Avenant.ordre)).where(Avenant.convention_id == c.id)) or 0) + 1
    avenant = Avenant(
        convention_id=c.id, ordre=ordre, numero=f"{c.numero}-A{ordre}", nature=nature, renouvellement=renouvellement,
        valide_le=valide_le, instance=(instance or "")[:300] or None, periode_debut=periode_debut, periode_fin=periode_fin,
        changements=changements, etat=convention_state(c), etabli_le=maintenant,
    )
    session.add(avenant)
    session.flush()
    return avenant


def convention_state(c: Convention) -> dict[str, Any]:
    return {"referents": [dict(r) for r in c.referents], "etp": str(c.etp), **{k: str(getattr(c, k)) for k in AMOUNTS}}


# --- what the SA reads -------------------------------------------------------------------------


def list_conventions(session: Session, annee: int | None = None, *, aujourd_hui: date,
                     numero: str | None = None) -> list[dict[str, Any]]:
    """Each convention as it stands on ``aujourd_hui`` (the clock is a parameter): its status by the calendar,
    the period and the figures in force (an avenant counts once signed), the next action."""
    query = select(Convention).order_by(Convention.numero).options(
        selectinload(Convention.dossier).selectinload(Dossier.porteur), selectinload(Convention.avenants))
    if annee is not None:
        query = query.join(Appel, Appel.id == Convention.appel_id).where(Appel.annee == annee)
    if numero is not None:
        query = query.where(Convention.numero == numero)
    finals = final_bilans_received(session)
    rows = []
    for c in session.scalars(query):
        fin = fin_en_vigueur(c, aujourd_hui)
        final_recu = (c.id, fin) in finals
        etat = etat_en_vigueur(c, aujourd_hui)
        rows.append({
            "numero": c.numero, "porteur": c.dossier.porteur.nom, "siret": c.dossier.porteur.siret,
            "dossier": c.dossier.numero, "debut": c.debut.isoformat(), "fin": fin.isoformat(),
            "periode_en_cours": current_period(c, aujourd_hui, fin),
            "renouvellements": c.renouvellements, "renouvellements_max": c.renouvellements_max,
            "statut": statut_convention(c, aujourd_hui, bilan_final_recu=final_recu),
            "signee_le": c.signee_le.isoformat() if c.signee_le else None,
            "prochaine_action": next_action(c, aujourd_hui, bilan_final_recu=final_recu),
            "etp": etat["etp"], "montant_total": str(sum(Decimal(etat[k]) for k in AMOUNTS[:3])),
            "avenants": [f"{a.numero} (à signer)" if a.signe_le is None else a.numero for a in c.avenants],
            "document": c.chemin,
        })
    return rows


def final_bilans_received(session: Session) -> set[tuple[int, date]]:
    """(convention id, period end) of every final bilan received complete."""
    return {(e.convention_id, e.periode_fin) for e in session.scalars(
        select(Echeance).where(Echeance.nature == NatureEcheance.FINAL).options(selectinload(Echeance.bilans)))
        if any(b.conforme for b in e.bilans)}


def convention_history(session: Session, numero: str, *, aujourd_hui: date) -> dict[str, Any]:
    c = session.scalar(select(Convention).where(Convention.numero == numero))
    if c is None:
        raise SaisieRefusee(f"aucune convention n° {numero}")
    [row] = list_conventions(session, aujourd_hui=aujourd_hui, numero=numero)
    row["historique"] = [{
        "numero": c.numero, "nature": "convention", "date": to_paris(c.etablie_le).date().isoformat(),
        "signe_le": c.signee_le.isoformat() if c.signee_le else None,
        "changements": [f"Convention initiale du {format_date(c.debut)} au {format_date(one_year_from(c.debut).fin)}"],
    }] + [{
        "numero": a.numero, "nature": a.nature.value, "date": a.valide_le.isoformat(), "instance": a.instance,
        "signe_le": a.signe_le.isoformat() if a.signe_le else None, "changements": list(a.changements),
        "document": a.chemin,
    } for a in c.avenants]
    return row


def export_conventions(session: Session, path: Path, annee: int | None = None, *, aujourd_hui: date) -> Path:
    """The SA's tracking workbook on ``aujourd_hui``: one row per convention, one per avenant."""
    rows = list_conventions(session, annee, aujourd_hui=aujourd_hui)
    avenants = session.scalars(select(Avenant).join(Convention).order_by(Convention.numero, Avenant.ordre))
    return write_tableur(path, [
        Feuille("Conventions", (
            C("Convention", 16), C("Structure", 34), C("SIRET", 16), C("Dossier", 10), C("Début", 12, "date"),
            C("Fin", 12, "date"), C("Renouvellements", 10, "nombre"), C("Maximum", 10, "nombre"), C("Statut", 12),
            C("Signée le", 12, "date"), C("Prochaine action", 28), C("ETP", 8, "decimal"), C("Montant total", 14, "euros"),
            C("Avenants", 30),
        ), [(r["numero"], r["porteur"], r["siret"], r["dossier"], date.fromisoformat(r["debut"]),
             date.fromisoformat(r["fin"]), r["renouvellements"], r["renouvellements_max"], r["statut"],
             date.fromisoformat(r["signee_le"]) if r["signee_le"] else None, r["prochaine_action"], Decimal(r["etp"]),
             Decimal(r["montant_total"]), r["avenants"]) for r in rows]),
        Feuille("Avenants", (
            C("Avenant", 20), C("Convention", 16), C("Nature", 14), C("Renouvellement", 10, "nombre"),
            C("Validé le", 12, "date"), C("Instance", 30), C("Période du", 12, "date"), C("au", 12, "date"),
            C("Changements", 60), C("Signé le", 12, "date"), C("En vigueur", 12),
        ), [(a.numero, a.convention.numero, a.nature.value, a.renouvellement, a.valide_le, a.instance, a.periode_debut,
             a.periode_fin, list(a.changements), a.signe_le,
             "à signer" if a.signe_le is None else ("oui" if avenant_en_vigueur(a, aujourd_hui) else "pas encore"))
            for a in avenants
            if annee is None or a.convention.numero.startswith(f"CONV-{annee}-")]),
    ], titre="Suivi des conventions du PLIE")


__all__ = ["ConventionNonSignee", "RenouvellementsEpuises", "echeances", "establish_conventions", "sign", "prolong",
           "modify", "Modification", "list_conventions", "convention_history"]
