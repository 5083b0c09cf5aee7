"""The stages' parameters as Prefect shows them (a deployment's « Run » form, a run's parameters): a French
title and description for each, and a plain type (``int | None`` is shown as a number left empty, not as a
choice between a number and « None »).

Prefect builds a flow's parameter schema with pydantic from the signature, but titles every field with its
code name; ``json_schema_extra`` is merged last, so the French title and description given here win.
A stage annotates its parameters with these types; the annotation changes nothing when it is called
directly (a command on the embedded default).
"""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, WithJsonSchema


def libelle(titre: str, description: str) -> Any:
    """The French title and description of a parameter, for Prefect's schema."""
    return Field(json_schema_extra={"title": titre, "description": description})


TEXTE = WithJsonSchema({"type": "string"})  # optional text: a field left empty, never a « None » to choose
NOMBRE = WithJsonSchema({"type": "integer"})

MAINTENANT = ("Date et heure à utiliser comme « maintenant », pour rejouer un passage à une date donnée "
              "(AAAA-MM-JJTHH:MM, heure de Paris, par exemple 2017-12-07T17:05) ; vide : l'heure réelle.")

Maintenant = Annotated[str | None, TEXTE, libelle("Maintenant", MAINTENANT)]
Annee = Annotated[int, libelle("Année de l'appel", "L'année de l'appel à projets, par exemple 2018.")]
AnneeOuverte = Annotated[int | None, NOMBRE, libelle(
    "Année de l'appel", "L'année de l'appel à projets, par exemple 2018 ; vide : l'appel dont la fenêtre de dépôt "
    "est ouverte (de sa publication à 30 jours après sa date limite).")]
ConfigAppel = Annotated[int | str, WithJsonSchema({"anyOf": [
    {"type": "integer", "title": "Année"}, {"type": "string", "title": "Année ou fichier"}]}), libelle(
    "Appel à publier", "L'année de l'appel (2019) ou son fichier de configuration (config/appels/2019.toml).")]
ConfigAppelFacultative = Annotated[int | str, WithJsonSchema({"anyOf": [
    {"type": "string", "title": "Année ou fichier"}, {"type": "integer", "title": "Année"}]}), libelle(
    "Appel à publier", "L'année de l'appel (2019) ou son fichier de configuration (config/appels/2019.toml) ; "
    "vide : AAP_APPEL_CONFIG, sinon l'appel de l'année qui suit.")]
Boite = Annotated[str, libelle("Boîte de dépôt", "La boîte Maildir (ou le dossier de fichiers .eml) à relever.")]
BoiteFacultative = Annotated[str, libelle(
    "Boîte de dépôt", "La boîte Maildir (ou le dossier de fichiers .eml) à relever ; vide : AAP_MAILDIR, "
    "sinon var/boite-depots.")]
Siret = Annotated[str, libelle("SIRET", "Le SIRET de la structure (14 chiffres).")]
NomStructure = Annotated[str | None, TEXTE, libelle(
    "Nom de la structure", "Son nom, si la structure est encore inconnue ; vide : le nom déjà connu.")]
RecuLe = Annotated[str, libelle(
    "Reçu le", "La date du cachet d'arrivée de l'envoi postal (AAAA-MM-JJTHH:MM, heure de Paris).")]
Pieces = Annotated[list[str], libelle("Pièces", "Les chemins des pièces numérisées de l'envoi.")]
NumeroDepot = Annotated[int, libelle("Numéro du dépôt", "Le numéro du dépôt non identifié (colonne N° de « aap dossiers »).")]
Reference = Annotated[str, libelle(
    "Dépôt ou bilan", "Le numéro du dépôt (12) ou du bilan (BIL-2018-0004) à vérifier.")]
DateComite = Annotated[str | None, TEXTE, libelle(
    "Date du comité", "La date du comité de pilotage (AAAA-MM-JJ) ; vide : celle de la configuration de l'appel.")]
Sortie = Annotated[str | None, TEXTE, libelle(
    "Dossier de sortie", "Le dossier où écrire la synthèse et le recueil des notes ; vide : le stockage de l'appel.")]
Classeur = Annotated[str, libelle("Classeur des décisions", "Le chemin du classeur de synthèse rempli en séance (.xlsx).")]
NumeroDossier = Annotated[str | None, TEXTE, libelle(
    "Dossier", "Un seul dossier (numéro, par exemple 2018-003) ; vide : tous les dossiers retenus.")]
NumeroConvention = Annotated[str, libelle("Convention", "Le numéro de la convention.")]
ValideLe = Annotated[str, libelle("Validé le", "La date de validation par les instances du PLIE (AAAA-MM-JJ).")]
Instance = Annotated[str | None, TEXTE, libelle(
    "Instance", "L'instance qui a validé, par exemple « comité de pilotage du 15 novembre 2018 » ; vide : non précisée.")]
Changements = Annotated[Any, libelle(
    "Modifications", "Ce que l'avenant change : montants, ETP, salaires, référents remplacés.")]
AttenteSecondes = Annotated[int, libelle(
    "Attente des décisions (secondes)", "Combien de temps le passage attend le classeur des décisions du comité ; "
    "au-delà, il s'arrête sans rien changer.")]


def pour_le_formulaire(schema: Any) -> Any:
    """A Prefect ``ParameterSchema`` as the « Run » form should read it: a parameter whose default is None has
    no default there, so the form leaves it empty and sends nothing (the stage's own default applies) instead
    of sending null, which the form itself then refuses (« None is not of type 'integer' »)."""
    for prop in schema.properties.values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]
    return schema
