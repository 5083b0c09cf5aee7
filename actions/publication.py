"""Publishing a call: its row, its dossier de réponse, its announcement to known porteurs."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.notifications import notify
from actions.porteurs import find_or_create_by_siret, remember_addresses
from adapters.database import retry_on_conflict, transaction
from adapters.storage import Storage
from config.appel_config import AppelConfig
from forms.dossier_reponse import write_dossier_reponse
from models.adresse import single_address
from models.appel import Appel
from models.convention import Convention, requires_new_call
from models.dossier import Dossier
from models.porteur import Porteur
from francais.formats import compte, format_datetime_paris
from templates.mails import annonce_context

log = logging.getLogger("aap.publication")


@dataclass
class PublicationReport:
    appel_id: int
    cree: bool
    formulaire: Path
    annonces: int


def formulaire_relpath(annee: int) -> str:
    return f"appels/{annee}/dossier_reponse_{annee}.xlsx"


def publish_appel(
    factory: sessionmaker[Session], storage: Storage, cfg: AppelConfig, *, maintenant: datetime
) -> PublicationReport:
    """Idempotent: a second run finds the call, the form and the queued announcements in place."""
    relpath = formulaire_relpath(cfg.annee)
    formulaire = storage.path(relpath)
    if not formulaire.exists():
        storage.ensure_dir(str(Path(relpath).parent))
        tmp = formulaire.with_name(f".{formulaire.name}.tmp")
        write_dossier_reponse(
            tmp, annee=cfg.annee, titre=cfg.appel.titre,
            date_limite=format_datetime_paris(cfg.date_limite_utc()),
            plafond_etp=cfg.commande.plafond_salaire_charge_etp,
        )
        tmp.chmod(0o600)
        tmp.replace(formulaire)

    def record() -> PublicationReport:
        with transaction(factory) as session:
            appel = session.scalar(select(Appel).where(Appel.annee == cfg.annee))
            cree = appel is None
            if cree:
                appel = Appel(
                    annee=cfg.annee, titre=cfg.appel.titre, date_limite=cfg.date_limite_utc(),
                    publie_le=cfg.publication_utc(), config=cfg.model_dump(mode="json"), formulaire_chemin=relpath,
                )
                session.add(appel)
                session.flush()
            annonces = _announce(session, appel, cfg, formulaire.name, maintenant)
            return PublicationReport(appel.id, cree, formulaire, annonces)

    report = retry_on_conflict(record)
    annonces = compte(report.annonces, "annonce mise en file d'envoi", "annonces mises en file d'envoi")
    if report.cree:
        log.info("Appel %s publié : date limite le %s, dossier de réponse %s, %s.", cfg.annee,
                 format_datetime_paris(cfg.date_limite_utc()), formulaire.name, annonces)
    else:
        log.info("Appel %s déjà publié : %s.", cfg.annee, annonces)
    return report


def _announce(session: Session, appel: Appel, cfg: AppelConfig, formulaire_nom: str, maintenant: datetime) -> int:
    """Queue the announcement to every known porteur with an address that has not answered yet; a porteur whose
    convention can no longer be renewed is told, in its own announcement, that only an answer to this call continues it."""
    def announcement(epuisees: list[tuple[str, date, date, int]]) -> dict:
        return annonce_context(
            appel_titre=cfg.appel.titre, appel_annee=cfg.annee, date_limite=cfg.date_limite_utc(),
            formulaire_nom=formulaire_nom, comite_le=cfg.calendrier.comite, conventions_epuisees=epuisees,
        )

    epuisees = _conventions_requiring_this_call(session, appel, cfg)
    count = 0
    answered = select(Dossier.porteur_id).where(Dossier.appel_id == appel.id)
    known = select(Porteur).where(Porteur.contact_email.is_not(None), Porteur.id.not_in(answered)).order_by(Porteur.id)
    for porteur in session.scalars(known):
        queued = notify(session, "annonce_appel", porteur, announcement(epuisees.get(porteur.id, [])),
                        maintenant=maintenant, pieces_jointes=[appel.formulaire_chemin], appel_id=appel.id,
                        annee=cfg.annee)
        count += queued is not None
    return count


def _conventions_requiring_this_call(
    session: Session, appel: Appel, cfg: AppelConfig
) -> dict[int, list[tuple[str, date, date, int]]]:
    """By porteur: its earlier calls' conventions that cannot be renewed and end before this call's conventions start."""
    rows = session.execute(
        select(Dossier.porteur_id, Convention.numero, Convention.debut, Convention.fin, Convention.renouvellements,
               Convention.renouvellements_max)
        .join(Dossier, Dossier.id == Convention.dossier_id)
        .where(Convention.appel_id != appel.id, Convention.renouvellements >= Convention.renouvellements_max)
        .order_by(Convention.numero)
    ).all()
    found: dict[int, list[tuple[str, date, date, int]]] = {}
    for porteur_id, numero, debut, fin, renouvellements, maximum in rows:
        if requires_new_call(renouvellements=renouvellements, renouvellements_max=maximum, fin=fin,
                             publie_le=cfg.calendrier.publication, nouveau_debut=cfg.calendrier.debut_convention):
            found.setdefault(porteur_id, []).append((numero, debut, fin, renouvellements))
    return found


def register_known_porteur(
    factory: sessionmaker[Session], *, siret: str, nom: str, email: str, adresse: str | None = None
) -> int:
    """A structure already known to the PLIE (earlier calls), to be told of the next call."""
    def record() -> int:
        with transaction(factory) as session:
            porteur = find_or_create_by_siret(session, siret, nom)
            porteur.nom, porteur.contact_email = nom, single_address(email) or porteur.contact_email
            porteur.adresse = adresse or porteur.adresse
            remember_addresses(session, porteur, [email])
            session.flush()
            return porteur.id

    return retry_on_conflict(record)
