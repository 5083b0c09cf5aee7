"""Finding who a dépôt comes from (the form's SIRET, else an address known for one structure), and who may
speak for a structure (its known addresses)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions.notifications import notify
from adapters.database import retry_on_conflict, transaction
from forms.reponse import FormulaireReponse
from models.adresse import check_address, single_address
from models.convention import Convention
from models.dossier import Dossier
from models.porteur import (
    Porteur,
    PorteurAdresse,
    is_valid_siret,
    may_speak_for,
    normalize_address,
    normalize_siret,
    siret_motif,
)
from templates.trust_mails import verification_context


_LOOK = object()  # the porteur is still to be looked up


def identify_porteur(session: Session, form: FormulaireReponse | None, expediteur: str | None, siret: str | None,
                     *, claimed: Porteur | None | object = _LOOK) -> Porteur | None:
    """``claimed``: what ``claimed_porteur`` found for the same form and sender in this transaction (not looked up
    again)."""
    if siret:
        return find_or_create_by_siret(session, siret, None)
    if form is not None:
        candidate = normalize_siret(form.porteur_siret)
        if is_valid_siret(candidate):
            return find_or_create_by_siret(session, candidate, form.porteur_nom, existing=claimed)
    return porteur_of_address(session, expediteur) if claimed is _LOOK else claimed


def claimed_porteur(session: Session, form: FormulaireReponse | None, expediteur: str | None) -> Porteur | None:
    """The existing structure a message speaks for (its form's SIRET, else its sender), creating nothing."""
    if form is not None and is_valid_siret(candidate := normalize_siret(form.porteur_siret)):
        return session.scalar(select(Porteur).where(Porteur.siret == candidate))
    return porteur_of_address(session, expediteur)


def porteur_of_address(session: Session, expediteur: str | None) -> Porteur | None:
    """The one structure this address is known for (none when it is known for several)."""
    address = normalize_address(expediteur)
    if not address:
        return None
    found = list(session.scalars(select(Porteur).join(PorteurAdresse).where(PorteurAdresse.email == address).limit(2)))
    return found[0] if len(found) == 1 else None


def known_addresses(session: Session, porteur: Porteur) -> set[str]:
    if porteur.id is None:  # created by this transaction, not yet flushed: its addresses are those added to it
        return {a.email for a in porteur.adresses}
    return set(session.scalars(select(PorteurAdresse.email).where(PorteurAdresse.porteur_id == porteur.id)))


def speaks_for(session: Session, porteur: Porteur, expediteur: str | None) -> bool:
    """Whether a message from ``expediteur`` may act for ``porteur`` (see ``models.porteur.may_speak_for``)."""
    etablie = session.scalar(select(Dossier.id).where(Dossier.porteur_id == porteur.id).limit(1)) is not None
    return may_speak_for(expediteur, etablie=etablie, adresses_connues=known_addresses(session, porteur))


def structure_reference(session: Session, porteur: Porteur, appel_id: int | None = None) -> tuple[str, Dossier | None]:
    """How the PLIE knows the structure: its dossier for this call, else its latest convention or dossier."""
    dossiers = list(session.scalars(select(Dossier).where(Dossier.porteur_id == porteur.id).order_by(Dossier.id)))
    current = next((d for d in dossiers if d.appel_id == appel_id), None)
    if current is not None:
        return f"dossier {current.numero}", current
    convention = session.scalar(select(Convention).where(Convention.dossier_id.in_([d.id for d in dossiers]))
                                .order_by(Convention.id.desc()).limit(1)) if dossiers else None
    if convention is not None:
        return f"convention {convention.numero}", None
    return (f"dossier {dossiers[-1].numero}" if dossiers else f"SIRET {porteur.siret}"), None


def notify_held(session: Session, porteur: Porteur, *, reference: str, recu_le: datetime, objet: str,
                maintenant: datetime, appel_id: int | None, bilan: bool = False) -> None:
    """The structure's known contact hears that something in its name waits for verification; nothing of the
    stranger's message is quoted. Without a known contact, the SA's queue is the only trace."""
    notify(session, "depot_a_verifier", porteur, verification_context(
        porteur_nom=porteur.nom, reference=reference, recu_le=recu_le, bilan=bilan),
        maintenant=maintenant, appel_id=appel_id, objet=objet)


def find_or_create_by_siret(session: Session, siret: str, nom: str | None, *,
                            existing: Porteur | None | object = _LOOK) -> Porteur:
    """``existing``: the porteur of this SIRET as this transaction already looked it up (None: there was none; a
    structure created meanwhile by another process makes the insert conflict, and the caller's transaction is
    retried)."""
    porteur = session.scalar(select(Porteur).where(Porteur.siret == siret)) if existing is _LOOK else existing
    if porteur is None:  # inserted by the transaction's next flush, with what refers to it
        porteur = Porteur(siret=siret, nom=(nom or f"Structure SIRET {siret}")[:500])
        session.add(porteur)
    elif nom and porteur.nom.startswith("Structure SIRET "):
        porteur.nom = nom[:500]
    return porteur


def update_from_form(porteur: Porteur, form: dict[str, Any], expediteur: str | None = None) -> str | None:
    """Take the structure's name, address and contact from a trusted form (a contact e-mail refused at reading,
    empty here, gives way to the sender's address); return the previous contact address when it changed
    (that person is told)."""
    porteur.nom = (form.get("porteur_nom") or porteur.nom)[:500]
    porteur.adresse = (form.get("porteur_adresse") or "")[:500] or porteur.adresse
    porteur.contact_nom = (form.get("contact_nom") or "")[:200] or porteur.contact_nom
    previous = porteur.contact_email
    porteur.contact_email = (single_address(form.get("contact_email")) or single_address(expediteur)
                             or porteur.contact_email)
    porteur.contact_telephone = (form.get("contact_telephone") or "")[:50] or porteur.contact_telephone
    return previous if previous and previous != porteur.contact_email else None


def remember_addresses(session: Session, porteur: Porteur, addresses: list[str | None]) -> None:
    new = {a for a in map(single_address, addresses) if a}
    if not new:
        return
    known = known_addresses(session, porteur)  # once: the addresses added here are told apart by the set
    for address in sorted(new - known):  # flushed with the transaction's next query or its commit
        session.add(PorteurAdresse(email=address, porteur=porteur))


def add_address(factory: sessionmaker[Session], siret: str, adresse: str) -> Porteur:
    """The SA says that this address may speak for the structure (« aap porteur adresse-ajouter »)."""
    from actions.appels import SaisieRefusee

    siret = normalize_siret(siret)
    if (motif := siret_motif(siret)) is not None:
        raise SaisieRefusee(motif)
    check = check_address(adresse)
    if not check.ok:
        raise SaisieRefusee(f"adresse électronique refusée : {check.reason}")

    def record() -> Porteur:
        with transaction(factory) as session:
            porteur = session.scalar(select(Porteur).where(Porteur.siret == siret))
            if porteur is None:
                raise SaisieRefusee(f"aucune structure connue sous le SIRET {siret}")
            remember_addresses(session, porteur, [check.address])
            return porteur

    return retry_on_conflict(record)
