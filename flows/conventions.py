"""Conventions and avenants: establish or amend, render, send for signature."""
from __future__ import annotations

from datetime import date

from actions.convention_documents import render_pending_conventions
from actions.conventions import AvenantDemande, Modification, establish_conventions, modify, prolong
from actions.appels import SaisieRefusee
from flows import comptes_rendus
from flows.mail import send_outbox
from flows.parametres import Annee, Changements, Instance, Maintenant, NumeroConvention, NumeroDossier, ValideLe
from flows.passage import etape, passage
from flows.runtime import parse_moment, runtime
from models.convention import ConventionEchue, ConventionNonSignee, RenouvellementsEpuises


@etape("etablir-conventions")
def establish(annee: int, dossier: str | None, maintenant: str | None) -> list[str]:
    return establish_conventions(runtime().factory, annee, maintenant=parse_moment(maintenant), dossier_numero=dossier)


REFUSALS = (RenouvellementsEpuises, ConventionNonSignee, ConventionEchue, SaisieRefusee)


def read_modification(*, montants: list[str] | None = None, etp: list[str] | None = None,
                      salaires: list[str] | None = None, remplacements: list[str] | None = None) -> Modification:
    """What a modification avenant changes, from « CLÉ=VALEUR » texts as ``aap avenant modifier`` and the back office
    take them (« budget_salaires=40000 », « Prénom Nom=0,8 », « Ancien Nom=Nouveau Nom »); ``SaisieRefusee`` names
    the first text that is not one."""
    from forms.dossier_reponse import parse_decimal_fr

    def pairs(values: list[str] | None, convert) -> dict:  # noqa: ANN001
        out = {}
        for item in values or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise SaisieRefusee(f"« {item} » : attendu CLÉ=VALEUR")
            try:
                out[key.strip()] = convert(value.strip())
            except ValueError:
                raise SaisieRefusee(f"« {item} » : valeur illisible") from None
        return out

    return Modification(montants=pairs(montants, parse_decimal_fr), etp=pairs(etp, lambda v: parse_decimal_fr(v, etp=True)),
                        salaires=pairs(salaires, parse_decimal_fr), remplacements=pairs(remplacements, str))


@etape("prolonger-convention")
def renew(numero: str, valide_le: str, instance: str | None, maintenant: str | None) -> dict:
    """A refusal is an expected answer, not a failed run: it comes back as its French reason."""
    try:
        return _answer(prolong(runtime().factory, numero, valide_le=date.fromisoformat(valide_le),
                               instance=instance, maintenant=parse_moment(maintenant)))
    except REFUSALS as exc:
        return {"avenant": None, "refus": str(exc), "deja": None}


@etape("modifier-convention")
def amend(numero: str, changes: Modification, valide_le: str, instance: str | None, maintenant: str | None) -> dict:
    try:
        return _answer(modify(runtime().factory, numero, changes, valide_le=date.fromisoformat(valide_le),
                              instance=instance, maintenant=parse_moment(maintenant)))
    except REFUSALS as exc:
        return {"avenant": None, "refus": str(exc), "deja": None}


def _answer(demande: AvenantDemande) -> dict:
    """The new avenant's number, or (``deja``) why the same request again changed nothing."""
    return {"avenant": demande.numero, "refus": None, "deja": None if demande.numero else demande.message}


@etape("rendre-conventions")
def render_documents() -> int:
    rt = runtime()
    return render_pending_conventions(rt.factory, rt.storage, pdf=rt.settings.pdf == "auto")


@passage("etablissement-conventions", etape="conventions", compte_rendu=comptes_rendus.conventions)
def etablissement_conventions(annee: Annee, dossier: NumeroDossier = None, maintenant: Maintenant = None) -> dict:
    """Établit la convention de chaque dossier retenu et l'envoie pour signature."""
    created = establish(annee, dossier, maintenant)
    return {"conventions": created, "documents": render_documents(), "courriels": send_outbox()}


@passage("avenant-prolongation", etape="prolongation", compte_rendu=comptes_rendus.avenant)
def avenant_prolongation(numero: NumeroConvention, valide_le: ValideLe, instance: Instance = None,
                         maintenant: Maintenant = None) -> dict:
    """Renouvelle une convention pour un an par avenant (deux fois au plus)."""
    result = renew(numero, valide_le, instance, maintenant)
    return {**result, "documents": render_documents(), "courriels": send_outbox()}


@passage("avenant-modification", etape="modification", compte_rendu=comptes_rendus.avenant)
def avenant_modification(numero: NumeroConvention, changes: Changements, valide_le: ValideLe, instance: Instance = None,
                         maintenant: Maintenant = None) -> dict:
    """Modifie une convention par avenant, sans changer sa période."""
    result = amend(numero, changes, valide_le, instance, maintenant)
    return {**result, "documents": render_documents(), "courriels": send_outbox()}
