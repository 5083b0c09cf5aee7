"""What a purge removes from the rows once an item's files are gone: the copies of personal data in columns.

What counts as personal here (and goes): who sent each dépôt and what its form said (contacts, référents'
names, salaries), the référents named on pièces, in the attestations' and instructions' texts, in a convention
and its avenants (a référent becomes « Référent 1 », with his ETP and salary kept as figures), the recipients
and bodies of the mails about the dossier, who sent each bilan and its qualitative part, and a structure's
contact person, e-mail, telephone and known addresses. What stays: the structure (a legal person: name,
SIRET, postal address), numbers, statuses, dates, amounts, file names, sizes and SHA-256.

Updates are statements, not ORM changes: the purge journals what it did in one entry per item.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models.convention import Avenant, Convention
from models.courriel import Courriel, CourrielStatut
from models.dossier import Attestation, Depot, Dossier, Piece
from models.instruction import Instruction
from models.porteur import Porteur, PorteurAdresse
from models.suivi import Bilan, Echeance

EFFACE = "[supprimé au terme de la durée de conservation]"
ABANDON = "non envoyé : son dossier a été purgé au terme de sa durée de conservation"


def anonymise_dossiers(session: Session, dossier_ids: list[int]) -> None:
    depots = select(Depot.id).where(Depot.dossier_id.in_(dossier_ids))
    session.execute(update(Depot).where(Depot.id.in_(depots))
                    .values(expediteur=None, expediteur_nom=None, formulaire=None, sujet=None))
    session.execute(update(Piece).where(Piece.depot_id.in_(depots)).values(referent=None))
    for a in session.execute(select(Attestation.id, Attestation.contenu).where(Attestation.depot_id.in_(depots))).all():
        contenu = {**a.contenu, "destinataires": [], "manquants": _efface(a.contenu.get("manquants"))}
        session.execute(update(Attestation).where(Attestation.id == a.id).values(contenu=contenu))
    for d in session.execute(select(Dossier.id, Dossier.pieces_manquantes, Dossier.constats)
                             .where(Dossier.id.in_(dossier_ids))).all():
        session.execute(update(Dossier).where(Dossier.id == d.id).values(
            pieces_manquantes=_efface(d.pieces_manquantes), constats=_constats(d.constats)))
    for i in session.execute(select(Instruction.id, Instruction.constats)
                             .where(Instruction.dossier_id.in_(dossier_ids))).all():
        session.execute(update(Instruction).where(Instruction.id == i.id).values(constats=_constats(i.constats) or []))
    # a mail still waiting about it would carry a deleted file to an erased address: it is given up, said why
    session.execute(update(Courriel).where(Courriel.dossier_id.in_(dossier_ids), Courriel.statut == CourrielStatut.PENDING)
                    .values(statut=CourrielStatut.FAILED, erreur=ABANDON))
    session.execute(update(Courriel).where(Courriel.dossier_id.in_(dossier_ids),
                                           Courriel.statut.in_((CourrielStatut.SENT, CourrielStatut.FAILED)))
                    .values(destinataires=[], corps=EFFACE))
    for c in session.scalars(select(Convention).where(Convention.dossier_id.in_(dossier_ids))):
        _anonymise_convention(session, c)


def anonymise_loose(session: Session, *, depot_ids: list[int], bilan_ids: list[int]) -> None:
    """A dépôt tied to no dossier, a bilan tied to no échéance: who sent it and what it said of people."""
    if depot_ids:
        session.execute(update(Depot).where(Depot.id.in_(depot_ids))
                        .values(expediteur=None, expediteur_nom=None, formulaire=None, sujet=None))
        session.execute(update(Piece).where(Piece.depot_id.in_(depot_ids)).values(referent=None))
    for b in session.execute(select(Bilan.id, Bilan.contenu, Bilan.erreurs).where(Bilan.id.in_(bilan_ids))).all():
        _anonymise_bilan(session, b)


def _anonymise_bilan(session: Session, b: Any) -> None:
    contenu = None if b.contenu is None else {**b.contenu, "qualitatif": EFFACE if b.contenu.get("qualitatif") else ""}
    session.execute(update(Bilan).where(Bilan.id == b.id).values(expediteur=None, contenu=contenu, erreurs=_efface(b.erreurs)))


def _anonymise_convention(session: Session, c: Convention) -> None:
    session.execute(update(Convention).where(Convention.id == c.id).values(
        referents=_referents(c.referents), etat_initial=_etat(c.etat_initial)))
    for a in c.avenants:
        session.execute(update(Avenant).where(Avenant.id == a.id).values(
            etat=_etat(a.etat), changements=_efface(a.changements)))
    echeances = select(Echeance.id).where(Echeance.convention_id == c.id)
    for b in session.execute(select(Bilan.id, Bilan.contenu, Bilan.erreurs).where(Bilan.echeance_id.in_(echeances))).all():
        _anonymise_bilan(session, b)


def anonymise_contacts(session: Session, porteur_id: int | None, maintenant: datetime) -> None:
    """The structure keeps its name, SIRET and postal address (a legal person's); its contact person, e-mail,
    telephone and the addresses known to speak for it go."""
    session.execute(delete(PorteurAdresse).where(PorteurAdresse.porteur_id == porteur_id))
    session.execute(update(Porteur).where(Porteur.id == porteur_id).values(
        contact_nom=None, contact_email=None, contact_telephone=None, anonymise_le=maintenant))


def _efface(lines: list[str] | None) -> list[str]:
    return [EFFACE] if lines else []


def _constats(constats: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Each finding keeps its gravity; its text (it may name a référent) goes."""
    return None if constats is None else [{**c, "texte": EFFACE} for c in constats]


def _referents(referents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "nom_complet": f"Référent {i}"} for i, r in enumerate(referents, start=1)]


def _etat(etat: dict[str, Any]) -> dict[str, Any]:
    return {**etat, "referents": _referents(etat.get("referents") or [])} if etat else etat
