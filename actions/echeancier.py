"""The échéancier: open each period's échéances, send what is due (requests, reminders), tell the SA."""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from actions.conventions import final_bilans_received
from actions.listing import queue_lines, waiting_queue
from actions.notifications import notify
from actions.outbox import failed_lines
from actions.conservation import inventory
from config.refus import Refus
from actions.passages import digest_lines
from adapters.database import retry_on_conflict, transaction
from adapters.storage import Storage
from config.appel_config import AppelConfig
from forms.bilan import BilanPrefill, write_bilan_form
from models.appel import Appel
from models.convention import (
    Convention,
    ConventionStatut,
    etat_en_vigueur,
    fin_en_vigueur,
    next_action,
    one_year_from,
)
from models.indicateurs import objectifs_au_prorata
from models.suivi import (
    Echeance,
    Envoi,
    StatutBilan,
    due_mailings,
    fraction_couverte,
    jeton_echeance,
    planned_echeances,
    statut_bilan,
)
from francais.formats import compte, format_date
from templates.suivi_mails import demande_context, digest_context, relance_context

log = logging.getLogger("aap.echeancier")
PARIS = ZoneInfo("Europe/Paris")
PURGEABLES_AU_PLUS = 20  # the digest names the first ones; « aap purge --simulation » lists them all
FIN_PROCHE_JOURS = 60


@dataclass
class EcheancierReport:
    jour: date
    ouvertes: int = 0
    envois: list[str] = field(default_factory=list)
    retards: list[str] = field(default_factory=list)
    a_corriger: list[str] = field(default_factory=list)
    attendus: list[str] = field(default_factory=list)
    fins_prochaines: list[str] = field(default_factory=list)
    echecs: list[str] = field(default_factory=list)  # mails given up, for the SA
    en_attente: list[str] = field(default_factory=list)
    passages: list[str] = field(default_factory=list)  # runs failed in the last day, or left « en cours »
    purgeables: list[str] = field(default_factory=list)  # what the retention rules allow to purge (not done yet)


def run_echeancier(factory: sessionmaker[Session], storage: Storage, *, maintenant: datetime, sa_email: str,
                   passages_au: datetime | None = None) -> EcheancierReport:
    """Idempotent: run it twice the same day, or a month late, and each message goes out once.

    ``passages_au``: the wall clock the runs' own records are read against (they are stamped with it, not with
    a replayed ``maintenant``); None: ``maintenant``."""
    jour = maintenant.astimezone(PARIS).date()
    report = EcheancierReport(jour)
    retry_on_conflict(lambda: _open_echeances(factory, report))
    if report.ouvertes:
        log.info("Échéancier du %s : %s.", format_date(jour), compte(report.ouvertes, "échéance ouverte", "échéances ouvertes"))
    with factory() as session:
        ids = _with_something_due(session, jour)
    for echeance_id in ids:
        for level, line in retry_on_conflict(lambda: _send_due(factory, storage, echeance_id, jour, maintenant, report)):
            log.log(level, line)
    with transaction(factory) as session:
        _late_and_ending(session, jour, report)
        report.echecs = failed_lines(session)
        report.passages = digest_lines(session, au=passages_au or maintenant)
        try:
            report.purgeables = [e.ligne(jour) for e in inventory(session, storage, jour=jour) if e.purgeable(jour)]
        except Refus as exc:  # a call's TOML unreadable: the digest says so and goes out all the same
            report.purgeables = [f"durées de conservation non évaluées : {exc}"]
        report.en_attente = [line for annee in session.scalars(select(Appel.annee).order_by(Appel.annee))
                             for line in queue_lines(waiting_queue(session, annee))]
        context = digest_context(jour=jour, envois=report.envois, retards=report.retards, a_corriger=report.a_corriger,
                                 attendus=report.attendus, fins_prochaines=report.fins_prochaines,
                                 echecs=report.echecs, en_attente=report.en_attente, passages=report.passages,
                                 purgeables=report.purgeables[:PURGEABLES_AU_PLUS],
                                 purgeables_total=len(report.purgeables))
        # one digest a day; a later run of the same day that sent something new sends its own
        first = notify(session, "digest_echeancier", sa_email, context, maintenant=maintenant, jour=jour)
        digest = first
        if first is None and report.envois:
            empreinte = hashlib.sha256("\n".join(report.envois).encode()).hexdigest()[:12]
            digest = notify(session, "digest_echeancier", sa_email, context, maintenant=maintenant, jour=jour,
                            suite=f":{empreinte}")
    for retard in report.retards:
        log.info("Bilan en retard : %s.", retard)
    if report.a_corriger:  # their errors quote what the porteur typed: the digest lists them
        log.info("Bilans reçus avec erreurs, à corriger : %s.", len(report.a_corriger))
    log.info("Récapitulatif de l'échéancier du %s %s.", format_date(jour),
             "mis en file pour l'assistante" if digest is not None else "déjà envoyé aujourd'hui : rien de nouveau")
    return report


def convention_periods(c: Convention, jour: date) -> list[tuple[date, date]]:
    """The initial year and one more per renewal signed by ``jour`` (a renewal counts once signed)."""
    periods, start, fin = [], c.debut, fin_en_vigueur(c, jour)
    while start <= fin:
        p = one_year_from(start)
        periods.append((p.debut, p.fin))
        start = p.fin + timedelta(days=1)
    return periods


def _open_echeances(factory: sessionmaker[Session], report: EcheancierReport) -> None:
    with transaction(factory) as session:
        existing = set(session.scalars(select(Echeance.jeton)))
        conventions = session.scalars(select(Convention).where(Convention.statut == ConventionStatut.EN_COURS)).all()
        configs = _configs(session, {c.appel_id for c in conventions})
        for c in conventions:
            cfg = configs[c.appel_id].suivi
            for debut, fin in convention_periods(c, report.jour):
                for e in planned_echeances(debut, fin, mi_parcours_mois=cfg.mi_parcours_mois,
                                           delai_mi_parcours_jours=cfg.delai_mi_parcours_jours,
                                           delai_final_jours=cfg.delai_final_jours):
                    jeton = jeton_echeance(c.numero, e.nature, e.periode_debut)
                    if jeton in existing:
                        continue
                    session.add(Echeance(convention_id=c.id, nature=e.nature, periode_debut=e.periode_debut,
                                         periode_fin=e.periode_fin, due_le=e.due_le, jeton=jeton, relances=[]))
                    existing.add(jeton)
                    report.ouvertes += 1


def _with_something_due(session: Session, jour: date) -> list[int]:
    """The échéances with a request or a reminder due ``jour``, in the order of their due dates, read at once (the
    échéances, their conventions' calls and bilans: four queries, not three per échéance): each is then handled in
    a transaction of its own, which checks again what is due."""
    rows = session.scalars(select(Echeance).options(selectinload(Echeance.convention), selectinload(Echeance.bilans))
                           .order_by(Echeance.due_le, Echeance.id)).all()
    configs = _configs(session, {e.convention.appel_id for e in rows})
    return [e.id for e in rows if _due(e, configs[e.convention.appel_id], jour)]


def _configs(session: Session, appel_ids: set[int]) -> dict[int, AppelConfig]:
    """Each call's configuration, validated once."""
    return {a.id: AppelConfig.model_validate(a.config) for a in session.scalars(select(Appel).where(Appel.id.in_(appel_ids)))}


def _due(e: Echeance, cfg: AppelConfig, jour: date) -> list[Envoi]:
    """What must go out ``jour`` for this échéance (``models.suivi.due_mailings``)."""
    return due_mailings(
        aujourd_hui=jour, due_le=e.due_le, demande_jours_avant=cfg.suivi.demande_jours_avant,
        relances_jours_apres=cfg.suivi.relances_jours_apres, demande_le=e.demande_le,
        relances_envoyees={r["rang"] for r in e.relances}, recu=any(b.conforme for b in e.bilans),
    )


def _send_due(factory, storage: Storage, echeance_id: int, jour: date, maintenant: datetime,
              report: EcheancierReport) -> list[tuple[int, str]]:
    """Queue what is due for one échéance; return the log's (level, French line) of each, said once committed."""
    lines: list[tuple[int, str]] = []
    with transaction(factory) as session:
        e = session.get(Echeance, echeance_id)
        c = e.convention
        cfg = AppelConfig.model_validate(session.get(Appel, c.appel_id).config)
        envois = _due(e, cfg, jour)
        contact = c.dossier.porteur.contact_email
        for envoi in envois:
            if e.formulaire_chemin is None:
                e.formulaire_chemin = _write_form(storage, e, c, cfg, jour)
            if envoi.kind == "demande":
                kind, context, details = "demande_bilan", demande_context(**_mail_args(e, c)), {}
                e.demande_le = jour
                what = f"demande de bilan {e.nature.value} {e.periode_debut.year} — {c.numero} ({c.dossier.porteur.nom})"
            else:
                kind, details = "relance_bilan", {"rang": envoi.rang}
                context = relance_context(**_mail_args(e, c), rang=envoi.rang, retard_jours=(jour - e.due_le).days)
                e.relances = [*e.relances, {"rang": envoi.rang, "le": jour.isoformat()}]
                what = (f"relance n° {envoi.rang} du bilan {e.nature.value} {e.periode_debut.year} — {c.numero} "
                        f"({c.dossier.porteur.nom})")
            if not contact:
                report.envois.append(f"{what} — aucune adresse électronique connue : à envoyer par courrier "
                                     f"(formulaire : {e.formulaire_chemin})")
                lines.append((logging.WARNING, f"{what[0].upper()}{what[1:]} : aucune adresse électronique connue, "
                                               "à envoyer par courrier."))
            elif notify(session, kind, e, context, maintenant=maintenant, pieces_jointes=[e.formulaire_chemin],
                        **details):
                report.envois.append(what)
                lines.append((logging.INFO, f"{what[0].upper()}{what[1:]} : mise en file d'envoi."))
    return lines


def _mail_args(e: Echeance, c: Convention) -> dict:
    return {"convention_numero": c.numero, "porteur_nom": c.dossier.porteur.nom, "periode": e.nature.value,
            "periode_debut": e.periode_debut, "periode_fin": e.periode_fin, "date_limite": e.due_le,
            "formulaire_nom": f"{e.jeton}.xlsx"}


def _write_form(storage: Storage, e: Echeance, c: Convention, cfg: AppelConfig, jour: date) -> str:
    """The pre-filled form: the period the bilan covers, the ETP and amounts in force (an avenant counts once
    signed) and the objectives pro rata of that period."""
    folder = storage.ensure_dir("suivi/formulaires")
    etat = etat_en_vigueur(c, min(jour, e.periode_fin))
    etp = Decimal(etat["etp"])
    fraction = fraction_couverte(e.nature, mi_parcours_mois=cfg.suivi.mi_parcours_mois)
    prefill = BilanPrefill(
        jeton=e.jeton, convention_numero=c.numero, periode=e.nature.value, periode_debut=e.periode_debut,
        periode_fin=e.periode_fin, porteur_nom=c.dossier.porteur.nom, porteur_siret=c.dossier.porteur.siret, etp=etp,
        objectifs=objectifs_au_prorata(etp, fraction, **cfg.objectifs.model_dump()),
        budget_prevu={k: Decimal(etat[f"budget_{k}"]) for k in ("salaires", "deplacements", "autres")},
        ressources_prevues={k: Decimal(etat[f"ressources_{k}"]) for k in ("fse", "plie", "autres")},
        date_limite=e.due_le,
    )
    path = write_bilan_form(folder / f"{e.jeton}.xlsx", prefill)
    return str(path.relative_to(storage.root))


def _late_and_ending(session: Session, jour: date, report: EcheancierReport) -> None:
    """Late (due date passed, nothing received), to correct (received with errors) and awaited (requested,
    not yet due) are three lists: one status function, ``models.suivi.statut_bilan``."""
    finals_recus = final_bilans_received(session)
    for e in session.scalars(select(Echeance).order_by(Echeance.due_le, Echeance.id)):
        statut = statut_bilan(aujourd_hui=jour, due_le=e.due_le, accepte=any(b.conforme for b in e.bilans),
                              recu_avec_erreurs=bool(e.bilans))
        quoi = f"{e.convention.numero} ({e.convention.dossier.porteur.nom}) : bilan {e.nature.value} {e.periode_debut.year}"
        if statut is StatutBilan.EN_RETARD:
            report.retards.append(f"{quoi} attendu le {format_date(e.due_le)}, non reçu "
                                  f"({(jour - e.due_le).days} jours de retard)")
        elif statut is StatutBilan.A_CORRIGER:
            last = e.bilans[-1]
            echeance = (f"échéance du {format_date(e.due_le)} dépassée de {(jour - e.due_le).days} jours"
                        if jour > e.due_le else f"à corriger avant le {format_date(e.due_le)}")
            report.a_corriger.append(f"{quoi} n° {last.numero} reçu avec erreurs, {echeance} : " + " ; ".join(last.erreurs))
        elif statut is StatutBilan.ATTENDU and e.demande_le is not None:
            report.attendus.append(f"{quoi} demandé le {format_date(e.demande_le)}, attendu au plus tard le "
                                   f"{format_date(e.due_le)}")
    for c in session.scalars(select(Convention).order_by(Convention.numero)):
        fin = fin_en_vigueur(c, jour)
        if c.signee_le is not None and jour <= fin <= jour + timedelta(days=FIN_PROCHE_JOURS):
            report.fins_prochaines.append(f"{c.numero} ({c.dossier.porteur.nom}) : fin le {format_date(fin)}, "
                                          f"{next_action(c, jour, bilan_final_recu=(c.id, fin) in finals_recus)}")

