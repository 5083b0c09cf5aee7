"""Rendering the numbered attestations de dépôt and queueing their e-mails."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.documents import DocumentSpec, Production, RenderAhead, produce
from adapters.storage import Storage
from models.appel import Appel
from models.dossier import Attestation
from templates.attestation import AttestationData, PieceLine, attestation_context


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
        canal=c["canal"], recu_le=datetime.fromisoformat(c["recu_le"]),
        date_limite=datetime.fromisoformat(c["date_limite"]) if "date_limite" in c else appel.date_limite,
        hors_delai=c["hors_delai"], canaux_recus=tuple(c["canaux_recus"]), canaux_attendus=tuple(c["canaux_attendus"]),
        recus=tuple((r["canal"], datetime.fromisoformat(r["recu_le"]), r["hors_delai"]) for r in c.get("recus", [])),
        pieces=tuple(
            PieceLine(p["nom"], p["taille"], p["sha256"], "acceptée" if p["acceptee"] else "refusée", p["motif"])
            for p in c["pieces"]
        ),
        manquants=tuple(c["manquants"]), complement=c["rang"] > 1, version=c["rang"], emis_le=attestation.emise_le,
    )


def _spec(appel: Appel) -> DocumentSpec:
    return DocumentSpec(
        nature="attestation", modele="attestation_depot.docx", chemin=Attestation.chemin,
        a_faire=lambda: select(Attestation).where(Attestation.appel_id == appel.id, Attestation.chemin.is_(None))
        .order_by(Attestation.seq),
        dossier=lambda a: f"attestations/{appel.annee}", fichier=lambda a, data: a.numero,
        donnees=lambda session, a: attestation_data(a, appel), contexte=attestation_context,
        notification="attestation_depot", quand=lambda a, data: a.emise_le,
        journal=lambda a, data: f"Attestation {a.numero} rédigée pour le dossier {a.contenu['dossier']}.",
        logger="aap.attestations",
    )


def render_pending(
    factory: sessionmaker[Session], storage: Storage, annee: int, *, pdf: bool, workers: int = 2
) -> RenderReport:
    """Render every attestation of the call that has no document yet, then queue its e-mail."""
    with factory() as session:
        appel = session.scalar(select(Appel).where(Appel.annee == annee))
    if appel is None:
        return RenderReport(sans_adresse=[])
    done = produce(factory, storage, _spec(appel), pdf=pdf, workers=workers, sans_adresse=lambda a: a.numero)
    return report_of(done)


def report_of(done: Production) -> RenderReport:
    return RenderReport(rendues=len(done.produits), pdf=done.pdf, sans_adresse=done.sans_adresse)


def render_ahead(factory: sessionmaker[Session], storage: Storage, annee: int, *, preload: tuple[str, ...] = (),
                 on_recorded: Callable[[], None] = lambda: None) -> RenderAhead | None:
    """The attestations of the call rendered in a worker while the intake records dépôts (None: no such call)."""
    with factory() as session:
        appel = session.scalar(select(Appel).where(Appel.annee == annee))
    if appel is None:
        return None
    return RenderAhead(factory, storage, _spec(appel), sans_adresse=lambda a: a.numero, preload=preload,
                       on_recorded=on_recorded)
