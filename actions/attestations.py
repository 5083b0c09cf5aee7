"""Rendering the numbered attestations de dépôt and queueing their e-mails."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from actions.outbox import enqueue
from adapters.database import transaction
from adapters.pdf import pdf_versions
from adapters.storage import Storage
from adapters.workers import worker_pool
from models.appel import Appel
from models.dossier import Attestation, Depot
from templates.attestation import AttestationData, PieceLine, attestation_context
from templates.mails import render_mail
from templates.render import render_attestation

PARALLEL_THRESHOLD = 40  # below this, starting workers costs more than it saves


@dataclass
class RenderReport:
    rendues: int = 0
    pdf: int = 0
    sans_adresse: list[str] | None = None


def attestation_data(attestation: Attestation, appel: Appel) -> AttestationData:
    c = attestation.contenu
    return AttestationData(
        numero=attestation.numero, appel_titre=appel.titre, appel_annee=appel.annee,
        porteur_nom=c["porteur_nom"], porteur_siret=c["porteur_siret"], porteur_adresse=c["porteur_adresse"],
        canal=c["canal"], recu_le=datetime.fromisoformat(c["recu_le"]), date_limite=appel.date_limite,
        hors_delai=c["hors_delai"], canaux_recus=tuple(c["canaux_recus"]), canaux_attendus=tuple(c["canaux_attendus"]),
        pieces=tuple(
            PieceLine(p["nom"], p["taille"], p["sha256"], "acceptée" if p["acceptee"] else "refusée", p["motif"])
            for p in c["pieces"]
        ),
        manquants=tuple(c["manquants"]), complement=c["rang"] > 1, version=c["rang"], emis_le=attestation.emise_le,
    )


def _render(job: tuple[AttestationData, Path]) -> Path:
    return render_attestation(*job)


def render_pending(
    factory: sessionmaker[Session], storage: Storage, annee: int, *, pdf: bool, workers: int = 2
) -> RenderReport:
    """Render every attestation of the call that has no document yet, then queue its e-mail."""
    with factory() as session:
        appel = session.scalar(select(Appel).where(Appel.annee == annee))
        if appel is None:
            return RenderReport(sans_adresse=[])
        todo = list(session.scalars(
            select(Attestation).where(Attestation.appel_id == appel.id, Attestation.chemin.is_(None)).order_by(Attestation.seq)
        ))
        jobs = {a.id: (attestation_data(a, appel), storage.ensure_dir(f"attestations/{annee}") / f"{a.numero}.docx") for a in todo}
    report = RenderReport(sans_adresse=[])
    if not jobs:
        return report
    with worker_pool(workers if len(jobs) >= PARALLEL_THRESHOLD else 1, ("templates.render",)) as pool:
        list(pool.imap(_render, jobs.values(), chunksize=16))
    docx = {aid: out for aid, (_, out) in jobs.items()}
    documents = pdf_versions(docx, storage.ensure_dir(f"attestations/{annee}"), enabled=pdf)
    report.pdf = sum(documents[aid] != docx[aid] for aid in docx)
    with transaction(factory) as session:
        for aid, (data, _) in jobs.items():
            chemin = str(documents[aid].relative_to(storage.root))
            won = session.execute(
                update(Attestation).where(Attestation.id == aid, Attestation.chemin.is_(None)).values(chemin=chemin)
            ).rowcount
            if not won:  # another run recorded it (and queued its mail) first
                continue
            attestation = session.get(Attestation, aid)
            report.rendues += 1
            destinataires = attestation.contenu["destinataires"]
            if not destinataires:
                report.sans_adresse.append(attestation.numero)
                continue
            subject, body = render_mail("attestation_depot", attestation_context(data))
            depot = session.get(Depot, attestation.depot_id)
            enqueue(
                session, cle=f"attestation:{attestation.numero}", destinataires=destinataires, sujet=subject,
                corps=body, pieces_jointes=[attestation.chemin], maintenant=attestation.emise_le,
                appel_id=appel.id, dossier_id=depot.dossier_id,
            )
    return report
