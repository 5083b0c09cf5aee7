"""Finding who a dépôt comes from: by the form's SIRET, else by an address already known."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms.dossier_reponse import FormulaireReponse
from models.adresse import single_address
from models.porteur import Porteur, PorteurAdresse, is_valid_siret, normalize_siret


def identify_porteur(session: Session, form: FormulaireReponse | None, expediteur: str | None, siret: str | None) -> Porteur | None:
    if siret:
        return find_or_create_by_siret(session, siret, None)
    if form is not None:
        candidate = normalize_siret(form.porteur_siret)
        if is_valid_siret(candidate):
            return find_or_create_by_siret(session, candidate, form.porteur_nom)
    if expediteur:
        return session.scalar(select(Porteur).join(PorteurAdresse).where(PorteurAdresse.email == expediteur.lower()))
    return None


def find_or_create_by_siret(session: Session, siret: str, nom: str | None) -> Porteur:
    porteur = session.scalar(select(Porteur).where(Porteur.siret == siret))
    if porteur is None:
        porteur = Porteur(siret=siret, nom=(nom or f"Structure SIRET {siret}")[:500])
        session.add(porteur)
        session.flush()
    elif nom and porteur.nom.startswith("Structure SIRET "):
        porteur.nom = nom[:500]
    return porteur


def update_from_form(porteur: Porteur, form: FormulaireReponse, expediteur: str | None = None) -> None:
    """The form's fields; a contact e-mail refused at reading (empty here) gives way to the sender's address."""
    porteur.nom = (form.porteur_nom or porteur.nom)[:500]
    porteur.adresse = form.porteur_adresse[:500] or porteur.adresse
    porteur.contact_nom = form.contact_nom[:200] or porteur.contact_nom
    porteur.contact_email = single_address(form.contact_email) or single_address(expediteur) or porteur.contact_email
    porteur.contact_telephone = form.contact_telephone[:50] or porteur.contact_telephone


def remember_addresses(session: Session, porteur: Porteur, addresses: list[str | None]) -> None:
    for address in {a for a in map(single_address, addresses) if a}:
        if session.scalar(select(PorteurAdresse.id).where(PorteurAdresse.email == address)) is None:
            session.add(PorteurAdresse(email=address[:254], porteur_id=porteur.id))
    session.flush()
