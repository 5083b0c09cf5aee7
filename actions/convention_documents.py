"""The convention and avenant documents, and their e-mails for signature (after the commit)."""
from __future__ import annotations

from datetime import date
from typing import Any
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.conventions import AMOUNTS, echeances
from actions.documents import DocumentSpec, produce
from adapters.storage import Storage
from config.appel_config import AppelConfig
from models.appel import Appel
from models.convention import (
    Avenant,
    AvenantNature,
    Convention,
    one_year_from,
)
from models.indicateurs import objectifs_au_prorata
from templates.avenant import AvenantData, avenant_context
from templates.convention import (
    ConventionData,
    EcheanceConvention,
    ObjectifsConvention,
    ReferentConvention,
    convention_context,
)


def _state(etat: dict[str, Any], cfg: AppelConfig) -> dict[str, Any]:
    """Référents, amounts and pro-rata objectives from a stored snapshot, as the documents want them."""
    referents = tuple(ReferentConvention(r["nom_complet"], Decimal(r["etp"]), Decimal(r["salaire"])) for r in etat["referents"])
    etp = Decimal(etat["etp"])
    o = cfg.objectifs
    return {
        "referents": referents, "etp_total": etp, **{k: Decimal(etat[k]) for k in AMOUNTS},
        "objectifs": ObjectifsConvention(**objectifs_au_prorata(etp, Decimal(1), **o.model_dump())),
    }


def _echeances(debut: date, fin: date, cfg: AppelConfig) -> tuple[EcheanceConvention, ...]:
    return tuple(EcheanceConvention(libelle, due) for libelle, due in echeances(debut, fin, cfg.suivi))


def convention_data(c: Convention, appel: Appel, cfg: AppelConfig) -> ConventionData:
    """The convention as established: its first year, its first amounts."""
    porteur = c.dossier.porteur
    first = one_year_from(c.debut)
    return ConventionData(
        numero=c.numero, appel_titre=appel.titre, appel_annee=appel.annee, dossier_numero=c.dossier.numero,
        porteur_nom=porteur.nom, porteur_siret=porteur.siret, porteur_adresse=porteur.adresse,
        representant=porteur.contact_nom, debut=first.debut, fin=first.fin, **_state(c.etat_initial, cfg),
        echeances=_echeances(first.debut, first.fin, cfg), renouvellements_max=c.renouvellements_max,
        emise_le=c.etablie_le,
    )


def avenant_data(a: Avenant, appel: Appel, cfg: AppelConfig) -> AvenantData:
    c = a.convention
    porteur = c.dossier.porteur
    return AvenantData(
        numero=a.numero, ordre=a.ordre, nature=a.nature.value, convention_numero=c.numero, convention_debut=c.debut,
        appel_annee=appel.annee, porteur_nom=porteur.nom, porteur_siret=porteur.siret, porteur_adresse=porteur.adresse,
        representant=porteur.contact_nom, valide_le=a.valide_le, instance=a.instance, renouvellement=a.renouvellement,
        renouvellements_max=c.renouvellements_max, periode_debut=a.periode_debut, periode_fin=a.periode_fin,
        changements=tuple(a.changements), **_state(a.etat, cfg),
        echeances=_echeances(a.periode_debut, a.periode_fin, cfg), emis_le=a.etabli_le,
    )


def _config(appel_id: int, session: Session) -> tuple[Appel, AppelConfig]:
    appel = session.get(Appel, appel_id)
    return appel, AppelConfig.model_validate(appel.config)


CONVENTION = DocumentSpec(
    nature="convention", modele="convention.docx", chemin=Convention.chemin,
    a_faire=lambda: select(Convention).where(Convention.chemin.is_(None)).order_by(Convention.id),
    dossier=lambda c: "conventions", fichier=lambda c, data: c.numero,
    donnees=lambda session, c: convention_data(c, *_config(c.appel_id, session)), contexte=convention_context,
    notification="convention_a_signer", quand=lambda c, data: data.emise_le,
    journal=lambda c, data: f"Convention {c.numero} rédigée pour le dossier {data.dossier_numero} ({data.porteur_nom}).",
    logger="aap.conventions",
)
AVENANT = DocumentSpec(
    nature="avenant", modele="avenant.docx", chemin=Avenant.chemin,
    a_faire=lambda: select(Avenant).where(Avenant.chemin.is_(None)).order_by(Avenant.id),
    dossier=lambda a: "conventions", fichier=lambda a, data: a.numero,
    donnees=lambda session, a: avenant_data(a, *_config(a.convention.appel_id, session)), contexte=avenant_context,
    notification="avenant_a_signer",
    journal=lambda a, data: f"Avenant {a.numero} rédigé ({a.nature.value}) pour la convention {data.convention_numero}.",
    logger="aap.conventions",
)


def render_pending_conventions(factory: sessionmaker[Session], storage: Storage, *, pdf: bool) -> int:
    """Render every convention and avenant without a document; queue each for signature by e-mail."""
    return sum(len(produce(factory, storage, spec, pdf=pdf).produits) for spec in (CONVENTION, AVENANT))


__all__ = ["AvenantNature", "render_pending_conventions", "convention_data", "avenant_data"]
