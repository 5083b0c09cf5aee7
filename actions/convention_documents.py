"""The convention and avenant documents, and their e-mails for signature (after the commit)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.conventions import AMOUNTS, echeances
from actions.outbox import enqueue
from adapters.database import transaction
from adapters.pdf import pdf_versions
from adapters.storage import Storage
from config.appel_config import AppelConfig
from models.appel import Appel
from models.convention import (
    Avenant,
    AvenantNature,
    Convention,
    objectifs_pro_rata,
    one_year_from,
)
from templates.avenant import AvenantData, avenant_context, render_avenant
from templates.convention import (
    ConventionData,
    EcheanceConvention,
    ObjectifsConvention,
    ReferentConvention,
    convention_context,
    render_convention,
)
from templates.mails import render_mail


def _state(etat: dict[str, Any], cfg: AppelConfig) -> dict[str, Any]:
    """Référents, amounts and pro-rata objectives from a stored snapshot, as the documents want them."""
    referents = tuple(ReferentConvention(r["nom_complet"], Decimal(r["etp"]), Decimal(r["salaire"])) for r in etat["referents"])
    etp = Decimal(etat["etp"])
    o = cfg.objectifs
    return {
        "referents": referents, "etp_total": etp, **{k: Decimal(etat[k]) for k in AMOUNTS},
        "objectifs": ObjectifsConvention(**objectifs_pro_rata(
            etp, entrees=o.entrees, file_active=o.file_active, taux_sorties_positives=o.taux_sorties_positives,
            partenariats_par_binome=o.partenariats_par_binome)),
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


def render_pending_conventions(factory: sessionmaker[Session], storage: Storage, *, pdf: bool) -> int:
    """Render every convention and avenant without a document; queue each for signature by e-mail."""
    jobs: dict[tuple[str, int], tuple[Any, Any]] = {}
    with factory() as session:
        folder = storage.ensure_dir("conventions")
        for c in session.scalars(select(Convention).where(Convention.chemin.is_(None)).order_by(Convention.id)):
            appel = session.get(Appel, c.appel_id)
            data = convention_data(c, appel, AppelConfig.model_validate(appel.config))
            jobs[("convention", c.id)] = (data, render_convention(data, folder / f"{c.numero}.docx"))
        for a in session.scalars(select(Avenant).where(Avenant.chemin.is_(None)).order_by(Avenant.id)):
            appel = session.get(Appel, a.convention.appel_id)
            data = avenant_data(a, appel, AppelConfig.model_validate(appel.config))
            jobs[("avenant", a.id)] = (data, render_avenant(data, folder / f"{a.numero}.docx"))
    if not jobs:
        return 0
    documents = {k: path for k, (_, path) in jobs.items()}
    documents = pdf_versions(documents, folder, enabled=pdf)
    with transaction(factory) as session:
        for (kind, row_id), (data, _) in jobs.items():
            row = session.get(Convention if kind == "convention" else Avenant, row_id)
            if row.chemin is not None:
                continue
            row.chemin = str(documents[(kind, row_id)].relative_to(storage.root))
            convention = row if kind == "convention" else row.convention
            contact = convention.dossier.porteur.contact_email
            if not contact:
                continue
            context = convention_context(data) if kind == "convention" else avenant_context(data)
            subject, body = render_mail("convention_a_signer" if kind == "convention" else "avenant_a_signer", context)
            enqueue(session, cle=f"{kind}:{data.numero}", destinataires=[contact], sujet=subject, corps=body,
                    pieces_jointes=[row.chemin], maintenant=data.emise_le if kind == "convention" else data.emis_le,
                    appel_id=convention.appel_id, dossier_id=convention.dossier_id)
    return len(jobs)


__all__ = ["AvenantNature", "render_pending_conventions", "convention_data", "avenant_data"]
