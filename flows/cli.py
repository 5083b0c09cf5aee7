"""La ligne de commande ``aap`` : ce que l'assistante et les chargées de projet tapent."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows import cli_valeurs as lire
from flows.cli_edge import Commandes
from flows.runtime import set_prefect_defaults

set_prefect_defaults()

app = typer.Typer(help="Appel à projets du PLIE : publication, dépôts, attestations.", no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None, cls=Commandes)
appel_app = typer.Typer(help="L'appel à projets de l'année.", no_args_is_help=True)
depots_app = typer.Typer(help="Les dépôts reçus par courriel.", no_args_is_help=True)
depot_app = typer.Typer(help="Un dépôt : saisi à la main (courrier), rattaché, confirmé ou rejeté.", no_args_is_help=True)
porteur_app = typer.Typer(help="Une structure (porteur de projet) et les adresses qui peuvent parler en son nom.",
                          no_args_is_help=True)
courriels_app = typer.Typer(help="La boîte d'envoi : la lister (sans lancer Prefect), envoyer ce qui attend.",
                             invoke_without_command=True)
comite_app = typer.Typer(help="Le comité de pilotage : dossier de séance et décisions.", no_args_is_help=True)
dossier_app = typer.Typer(help="Un dossier.", no_args_is_help=True)
conventions_app = typer.Typer(help="Les conventions : établir, lister (--json), exporter.", invoke_without_command=True)
avenant_app = typer.Typer(help="Les avenants : prolonger (renouveler) ou modifier une convention.", no_args_is_help=True)
app.add_typer(conventions_app, name="conventions")
app.add_typer(avenant_app, name="avenant")
app.add_typer(comite_app, name="comite")
app.add_typer(dossier_app, name="dossier")
app.add_typer(appel_app, name="appel")
app.add_typer(depots_app, name="depots")
app.add_typer(depot_app, name="depot")
app.add_typer(porteur_app, name="porteur")
app.add_typer(courriels_app, name="courriels")
modeles_app = typer.Typer(help="Les modèles Word des documents.", no_args_is_help=True)
app.add_typer(modeles_app, name="modeles")
journal_app = typer.Typer(help="Le journal des opérations (chaîné et scellé chaque jour) : l'historique d'un dossier "
                               "ou d'une convention, sa vérification, son scellement.", invoke_without_command=True)
app.add_typer(journal_app, name="journal")

Maintenant = Annotated[Optional[str], typer.Option(
    "--maintenant", parser=lire.moment, metavar="DATE",
    help="Date et heure à utiliser comme « maintenant » (AAAA-MM-JJTHH:MM, heure de Paris par défaut).")]
AnneeAppel = Annotated[int, typer.Option("--appel", parser=lire.annee, metavar="ANNÉE", help="Année de l'appel, par exemple 2018.")]
AnneeFacultative = Annotated[Optional[int], typer.Option("--appel", parser=lire.annee, metavar="ANNÉE",
                                                         help="Année de l'appel (toutes par défaut).")]
DateComite = Annotated[Optional[str], typer.Option("--date-comite", parser=lire.jour, metavar="DATE",
                                                   help="Date du comité (AAAA-MM-JJ) ; par défaut celle de l'appel.")]
ClasseurEcrit = Annotated[Path, typer.Argument(parser=lire.fichier_ecrit, metavar="FICHIER", help="Le classeur .xlsx à écrire.")]
NumeroConvention = Annotated[str, typer.Argument(metavar="NUMERO", help="Numéro de la convention.")]


def _fail(message: str) -> None:
    typer.echo(f"Erreur : {message}", err=True)
    raise typer.Exit(1)


@appel_app.command("publier")
def appel_publier(
    config: Annotated[Path, typer.Argument(parser=lire.config_appel, metavar="CONFIG",
                                           help="L'année de l'appel (2019) ou son fichier de configuration (config/appels/2019.toml).")],
    maintenant: Maintenant = None,
) -> None:
    """Crée l'appel (sans effet s'il existe déjà), produit le dossier de réponse et l'annonce."""
    from flows.publication import publication

    result = publication(str(config), maintenant)
    typer.echo(("Appel créé." if result["cree"] else "Appel déjà publié : rien n'a changé.")
               + f" Annonces mises en file : {result['annonces']}.")
    typer.echo(f"Dossier de réponse : {result['formulaire']}")
    _echo_mail(result["courriels"])


@depots_app.command("relever")
def depots_relever(
    boite: Annotated[Path, typer.Argument(parser=lire.dossier_lu, metavar="BOITE", help="Boîte Maildir (ou dossier de fichiers .eml) à relever.")],
    annee: AnneeAppel,
    maintenant: Maintenant = None,
) -> None:
    """Enregistre chaque message reçu comme dépôt, produit et envoie les attestations de dépôt."""
    from flows.depots import releve_depots

    result = releve_depots(str(boite), annee, maintenant)
    d = result["depots"]
    typer.echo(f"Messages lus : {d['lus']} — nouveaux dépôts : {d['depots']} (dont hors délai : {d['hors_delai']}), "
               f"doublons : {d['doublons']}, déjà enregistrés : {d['deja_vus']}, non identifiés : {d['non_identifies']}, "
               f"à vérifier : {d['a_verifier']}.")
    for erreur in d["erreurs"]:
        typer.echo(f"  ! {erreur}")
    typer.echo(f"Attestations produites : {result['attestations']['rendues']}.")
    _echo_mail(result["courriels"])


@depot_app.command("postal")
def depot_postal(
    fichiers: Annotated[list[Path], typer.Argument(parser=lire.fichier_lu, metavar="FICHIER", help="Les pièces numérisées de l'envoi.")],
    annee: AnneeAppel,
    siret: Annotated[str, typer.Option("--siret", metavar="SIRET", help="SIRET de la structure (14 chiffres).")],
    recu_le: Annotated[str, typer.Option("--recu-le", parser=lire.moment, metavar="DATE",
                                         help="Date du cachet d'arrivée (AAAA-MM-JJTHH:MM, heure de Paris par défaut).")],
    nom: Annotated[Optional[str], typer.Option("--nom", metavar="NOM", help="Nom de la structure, si elle est encore inconnue.")] = None,
    maintenant: Maintenant = None,
) -> None:
    """Enregistre un dépôt reçu par courrier et envoie son attestation."""
    from flows.depots import depot_postal as flow

    result = flow(annee, siret, recu_le, [str(f) for f in fichiers], nom, maintenant)
    label = {"doublon": "déjà enregistré (rien de nouveau)", "hors_delai": "enregistré hors délai"}
    typer.echo(f"Dépôt postal n° {result['depot']['depot']} : {label.get(result['depot']['resultat'], 'enregistré')}.")
    _echo_mail(result["courriels"])


@depot_app.command("rattacher")
def depot_rattacher(
    depot: Annotated[int, typer.Argument(parser=lire.numero, metavar="DEPOT",
                                         help="Numéro du dépôt non identifié (colonne N° de « aap dossiers »).")],
    annee: AnneeAppel,
    siret: Annotated[str, typer.Option("--siret", metavar="SIRET", help="SIRET de la structure (14 chiffres).")],
    nom: Annotated[Optional[str], typer.Option("--nom", metavar="NOM", help="Nom de la structure, si elle est encore inconnue.")] = None,
    maintenant: Maintenant = None,
) -> None:
    """Rattache un dépôt non identifié à une structure : il rejoint son dossier et reçoit son attestation."""
    from flows.depots import rattachement_depot

    result = rattachement_depot(annee, depot, siret, nom, maintenant)
    typer.echo(f"Dépôt n° {result['depot']['depot']} rattaché au dossier {result['depot']['dossier']}.")
    _echo_mail(result["courriels"])


NumeroEnAttente = Annotated[str, typer.Argument(
    metavar="NUMERO", help="Numéro du dépôt (colonne N° de « aap dossiers ») ou du bilan (BIL-2018-0004) en attente.")]


@depot_app.command("confirmer")
def depot_confirmer(numero: NumeroEnAttente, annee: AnneeAppel, maintenant: Maintenant = None) -> None:
    """Confirme qu'un dépôt (ou un bilan) à vérifier vient bien de sa structure : il rejoint son dossier comme
    complément, son expéditeur devient une adresse connue, il reçoit son attestation (ou son accusé de réception)."""
    from flows.depots import confirmation_depot

    result = confirmation_depot(annee, numero, maintenant)
    c = result["confirme"]
    typer.echo(f"Dépôt n° {c['depot']} confirmé : complément du dossier {c['dossier']}." if c["depot"] is not None
               else f"Bilan n° {c['bilan']} confirmé : rattaché à sa convention.")
    _echo_mail(result["courriels"])


@depot_app.command("rejeter")
def depot_rejeter(
    numero: NumeroEnAttente,
    annee: AnneeAppel,
    motif: Annotated[str, typer.Option("--motif", metavar="TEXTE", help="Pourquoi ce dépôt est rejeté (conservé avec ce motif).")],
    maintenant: Maintenant = None,
) -> None:
    """Rejette un dépôt (ou un bilan) en attente : il est conservé avec le motif et ne change aucun dossier (sans lancer Prefect)."""
    from actions.attente import reject_waiting
    from flows.runtime import parse_moment, runtime

    typer.echo(reject_waiting(runtime().factory, annee, numero, motif=motif, maintenant=parse_moment(maintenant)))


@porteur_app.command("adresse-ajouter")
def porteur_adresse_ajouter(
    siret: Annotated[str, typer.Argument(metavar="SIRET", help="SIRET de la structure (14 chiffres).")],
    adresse: Annotated[str, typer.Argument(metavar="ADRESSE", help="L'adresse électronique qui peut parler au nom de la structure.")],
) -> None:
    """Ajoute une adresse connue de la structure : ses dépôts et bilans seront acceptés sans vérification (sans lancer Prefect)."""
    from actions.porteurs import add_address
    from flows.runtime import runtime

    porteur = add_address(runtime().factory, siret, adresse)
    typer.echo(f"Adresse {adresse.strip().lower()} connue pour {porteur.nom} (SIRET {porteur.siret}).")


@app.command("dossiers")
def dossiers(
    annee: AnneeAppel,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (pour les outils) : {\"dossiers\": […], \"en_attente\": […]}.")] = False,
) -> None:
    """Liste les dossiers de l'appel et ce qui attend l'assistante (sans lancer Prefect)."""
    from actions.appels import load_appel
    from actions.listing import list_dossiers, waiting_queue
    from flows.runtime import runtime

    rt = runtime()
    with rt.factory() as session:
        load_appel(session, annee)  # an unknown year is a mistake, not an empty list
        rows = list_dossiers(session, annee, str(rt.storage.root))
        queue = waiting_queue(session, annee) if as_json else []
    if as_json:
        listing = {"dossiers": [r for r in rows if r["numero"] is not None], "en_attente": queue}
        json.dump(listing, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    from flows.summary import dossiers_table

    typer.echo(dossiers_table(rows))


@app.command("instruire")
def instruire(annee: AnneeAppel, maintenant: Maintenant = None) -> None:
    """Instruit les dossiers reçus dans les délais (ou admis) : constats, avis, note d'instruction."""
    from flows.instruction import instruction

    result = instruction(annee, maintenant)
    typer.echo(f"Dossiers instruits : {len(result['instruits'])} ({', '.join(result['instruits']) or '—'}) ; "
               f"inchangés depuis la dernière instruction : {len(result['inchanges'])}.")
    if result["hors_delai_non_admis"]:
        typer.echo("Hors délai, non instruits (« aap dossier admettre » pour les admettre) : "
                   + ", ".join(result["hors_delai_non_admis"]))
    typer.echo(f"Notes d'instruction rédigées : {result['notes']}.")


@dossier_app.command("admettre")
def dossier_admettre(
    numero: Annotated[str, typer.Argument(metavar="NUMERO", help="Numéro du dossier, par exemple 2018-008.")],
    annee: AnneeAppel,
    motif: Annotated[str, typer.Option("--motif", metavar="TEXTE", help="Pourquoi ce dossier hors délai est instruit malgré tout.")],
    maintenant: Maintenant = None,
) -> None:
    """Admet à l'instruction un dossier reçu hors délai."""
    from actions.instruction import admit_late_dossier
    from flows.runtime import parse_moment, runtime

    admission = admit_late_dossier(runtime().factory, annee, numero, motif, maintenant=parse_moment(maintenant))
    typer.echo(admission.message[0].upper() + admission.message[1:] + ".")


@comite_app.command("preparer")
def comite_preparer(
    annee: AnneeAppel,
    sortie: Annotated[Optional[Path], typer.Option("--sortie", parser=lire.dossier_ecrit, metavar="DOSSIER",
                                                   help="Dossier où écrire la synthèse et le recueil des notes.")] = None,
    date_comite: DateComite = None,
    maintenant: Maintenant = None,
) -> None:
    """Écrit la synthèse (.xlsx) à remplir en séance et le recueil PDF des notes d'instruction."""
    from flows.comite import preparation_comite
    from francais.formats import compte

    result = preparation_comite(annee, date_comite, str(sortie) if sortie else None, maintenant)
    typer.echo(f"Comité du {_jour(result['comite_le'])} : {compte(len(result['dossiers']), 'dossier', 'dossiers')} à décider.")
    typer.echo(f"Synthèse : {result['synthese']}")
    typer.echo(f"Notes d'instruction : {result['notes'] or 'pas de recueil PDF (LibreOffice absent)'}")
    if result["non_instruits"]:
        typer.echo("Non instruits, absents de la synthèse : " + ", ".join(result["non_instruits"]))
    for ligne in result["ajournes"]:
        typer.echo(f"Ajourné : {ligne}")


@comite_app.command("decisions")
def comite_decisions(
    fichier: Annotated[Path, typer.Argument(parser=lire.fichier_lu, metavar="FICHIER", help="La synthèse remplie en séance (.xlsx).")],
    annee: AnneeAppel,
    date_comite: Annotated[Optional[str], typer.Option("--date-comite", parser=lire.jour, metavar="DATE",
                                                       help="Date du comité (AAAA-MM-JJ) ; par défaut celle de la synthèse.")] = None,
    maintenant: Maintenant = None,
) -> None:
    """Enregistre les décisions du comité (tout le fichier ou rien) et notifie chaque porteur."""
    from actions.comite import DecisionsRefusees
    from flows.comite import decisions_comite

    try:
        result = decisions_comite(annee, str(fichier), date_comite, maintenant)
    except DecisionsRefusees as exc:
        typer.echo("Fichier refusé, aucune décision enregistrée, aucun courriel envoyé :", err=True)
        for probleme in exc.problemes:
            typer.echo(f"  - {probleme}", err=True)
        raise typer.Exit(1)
    for avertissement in result["avertissements"]:
        typer.echo(f"Avertissement : {avertissement}")
    typer.echo(f"Décisions enregistrées : {len(result['enregistrees'])} ; déjà enregistrées : {len(result['inchangees'])} ; "
               f"lettres rédigées : {result['lettres']}.")
    if result["en_attente"]:
        typer.echo("Ajournés sans décision, en attente de leur réponse : " + ", ".join(result["en_attente"]) + ".")
    _echo_mail(result["courriels"])


@app.command("export")
def export(
    fichier: ClasseurEcrit,
    annee: AnneeAppel,
) -> None:
    """Exporte chaque dossier : état, dates, canaux, pièces, constats, décision, courriels (sans lancer Prefect)."""
    from datetime import datetime, timezone

    from actions.export import export_appel
    from flows.runtime import runtime

    with runtime().factory() as session:
        path = export_appel(session, annee, fichier, maintenant=datetime.now(timezone.utc))
    typer.echo(f"Export écrit : {path}")


@conventions_app.callback()
def conventions(
    ctx: typer.Context,
    annee: AnneeFacultative = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (pour les outils).")] = False,
    maintenant: Maintenant = None,
) -> None:
    """Liste les conventions, leur statut à ce jour et la prochaine action de chacune (sans lancer Prefect)."""
    if ctx.invoked_subcommand is not None:
        return
    from actions.conventions import list_conventions
    from actions.appels import load_appel
    from flows.runtime import parse_day, runtime
    from flows.summary import conventions_table

    with runtime().factory() as session:
        if annee is not None:
            load_appel(session, annee)  # an unknown year is a mistake, not an empty list
        rows = list_conventions(session, annee, aujourd_hui=parse_day(maintenant))
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        typer.echo(conventions_table(rows))


@conventions_app.command("etablir")
def conventions_etablir(
    annee: AnneeAppel,
    dossier: Annotated[Optional[str], typer.Option("--dossier", metavar="NUMERO",
                                                   help="Un seul dossier (numéro), sinon tous les dossiers retenus.")] = None,
    maintenant: Maintenant = None,
) -> None:
    """Établit la convention de chaque dossier retenu et l'envoie pour signature."""
    from flows.conventions import etablissement_conventions

    result = etablissement_conventions(annee, dossier, maintenant)
    typer.echo(f"Conventions établies : {', '.join(result['conventions']) or 'aucune nouvelle'} ; "
               f"documents rédigés : {result['documents']}.")
    _echo_mail(result["courriels"])


@conventions_app.command("export")
def conventions_export(
    fichier: ClasseurEcrit,
    annee: AnneeFacultative = None,
    maintenant: Maintenant = None,
) -> None:
    """Exporte les conventions, leurs renouvellements, leur statut à ce jour et la prochaine action (sans lancer Prefect)."""
    from actions.conventions import export_conventions
    from flows.runtime import parse_day, runtime

    with runtime().factory() as session:
        typer.echo(f"Export écrit : {export_conventions(session, fichier, annee, aujourd_hui=parse_day(maintenant))}")


@app.command("convention")
def convention(
    premier: Annotated[str, typer.Argument(metavar="NUMERO|signer", help="Un numéro de convention (son historique), ou « signer ».")],
    numero: Annotated[Optional[str], typer.Argument(metavar="NUMERO", help="Avec « signer » : la convention ou l'avenant signé.")] = None,
    le: Annotated[Optional[str], typer.Option("--le", parser=lire.jour, metavar="DATE",
                                              help="Avec « signer » : date de signature (AAAA-MM-JJ).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON.")] = False,
    maintenant: Maintenant = None,
) -> None:
    """« aap convention NUMERO » : l'historique (convention et avenants) ; « aap convention signer NUMERO --le DATE »."""
    from datetime import date

    from actions.conventions import convention_history, sign
    from flows.runtime import parse_day, runtime
    from flows.summary import history_text

    if premier == "signer":
        if not numero or not le:
            _fail("indiquez le numéro signé et la date : aap convention signer NUMERO --le AAAA-MM-JJ")
        typer.echo(sign(runtime().factory, numero, le=date.fromisoformat(le)) + ".")
        return
    with runtime().factory() as session:
        row = convention_history(session, premier, aujourd_hui=parse_day(maintenant))
    if as_json:
        json.dump(row, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        typer.echo(history_text(row))


ValideLe = Annotated[str, typer.Option("--valide-le", parser=lire.jour, metavar="DATE",
                                       help="Date de validation par les instances du PLIE (AAAA-MM-JJ).")]
Instance = Annotated[Optional[str], typer.Option("--instance", metavar="TEXTE", help="L'instance qui a validé, par exemple « comité de pilotage du 15 novembre 2018 ».")]


@avenant_app.command("prolonger")
def avenant_prolonger(
    numero: NumeroConvention,
    valide_le: ValideLe,
    instance: Instance = None,
    maintenant: Maintenant = None,
) -> None:
    """Renouvelle la convention pour un an (deux renouvellements au plus)."""
    from flows.conventions import avenant_prolongation

    result = avenant_prolongation(numero, valide_le, instance, maintenant)
    if result["refus"]:
        _fail(f"renouvellement refusé : {result['refus']}")
    if result["deja"]:
        typer.echo(f"Demande déjà traitée : {result['deja']}.")
        return
    typer.echo(f"Avenant {result['avenant']} établi et envoyé pour signature.")
    _echo_mail(result["courriels"])


@avenant_app.command("modifier")
def avenant_modifier(
    numero: NumeroConvention,
    valide_le: ValideLe,
    instance: Instance = None,
    etp: Annotated[Optional[list[str]], typer.Option("--etp", metavar="CLÉ=VALEUR", help="« Prénom Nom=0,8 » : nouvel ETP d'un référent (répétable).")] = None,
    salaire: Annotated[Optional[list[str]], typer.Option("--salaire", metavar="CLÉ=VALEUR", help="« Prénom Nom=35600 » : nouveau salaire chargé annuel (répétable).")] = None,
    remplacer: Annotated[Optional[list[str]], typer.Option("--remplacer", metavar="CLÉ=VALEUR", help="« Ancien Prénom Nom=Nouveau Prénom Nom » (répétable).")] = None,
    montant: Annotated[Optional[list[str]], typer.Option("--montant", metavar="CLÉ=VALEUR", help="« budget_salaires=40000 », « ressources_fse=20000 »… (répétable).")] = None,
    maintenant: Maintenant = None,
) -> None:
    """Modifie la convention (montants, ETP, référent remplacé) sans changer sa période ni compter comme renouvellement."""
    from actions.appels import SaisieRefusee
    from flows.conventions import avenant_modification, read_modification

    try:
        changes = read_modification(montants=montant, etp=etp, salaires=salaire, remplacements=remplacer)
    except SaisieRefusee as exc:
        _fail(str(exc))
    result = avenant_modification(numero, changes, valide_le, instance, maintenant)
    if result["refus"]:
        _fail(f"modification refusée : {result['refus']}")
    if result["deja"]:
        typer.echo(f"Demande déjà traitée : {result['deja']}.")
        return
    typer.echo(f"Avenant {result['avenant']} établi et envoyé pour signature.")
    _echo_mail(result["courriels"])


@app.command("serve")
def serve(
    seulement: Annotated[Optional[list[str]], typer.Option(
        "--seulement", help="Ne servir que ce déploiement (répétable) : publication-novembre, releve-depots, echeancier-quotidien.")] = None,
) -> None:
    """Sert les déploiements planifiés (publication, relève des dépôts, échéancier) auprès du serveur Prefect (PREFECT_API_URL)."""
    from flows.deployments import serve_deployments

    try:
        serve_deployments(seulement, echo=typer.echo)
    except ValueError as exc:
        _fail(str(exc))


@app.command("echeancier")
def echeancier(maintenant: Maintenant = None) -> None:
    """Envoie les demandes et relances de bilans dues (rattrape les jours manqués) et le récapitulatif du jour."""
    from flows.echeancier import echeancier as flow
    from francais.formats import compte

    result = flow(maintenant)
    typer.echo(f"Échéancier du {_jour(result['jour'])} : {compte(result['ouvertes'], 'échéance ouverte', 'échéances ouvertes')}, "
               f"{compte(len(result['envois']), 'envoi', 'envois')}, {compte(len(result['retards']), 'retard', 'retards')}, "
               f"{compte(len(result['a_corriger']), 'bilan', 'bilans')} à corriger, "
               f"{compte(len(result['fins_prochaines']), 'fin de convention proche', 'fins de convention proches')}.")
    for line in result["envois"]:
        typer.echo(f"  envoi : {line}")
    for line in result["retards"]:
        typer.echo(f"  retard : {line}")
    for line in result["a_corriger"]:
        typer.echo(f"  à corriger : {line}")
    for line in result["echecs"]:
        typer.echo(f"  courriel en échec : {line}")
    for line in result["passages"]:
        typer.echo(f"  passage en échec : {line}")
    _echo_mail(result["courriels"])


suivi_app = typer.Typer(help="Le suivi des conventions : rapport consolidé.", no_args_is_help=True)
app.add_typer(suivi_app, name="suivi")


@suivi_app.command("rapport")
def suivi_rapport(
    fichier: Annotated[Path, typer.Argument(parser=lire.fichier_ecrit, metavar="FICHIER",
                                            help="Le classeur .xlsx à écrire (la synthèse .docx est écrite à côté).")],
    annee: AnneeAppel,
    maintenant: Maintenant = None,
) -> None:
    """Réalisé et objectifs au prorata, par convention et par période, avec graphiques (sans lancer Prefect)."""
    from actions.suivi_rapport import write_suivi_report
    from flows.runtime import parse_moment, runtime

    with runtime().factory() as session:
        workbook, synthese = write_suivi_report(session, annee, fichier, maintenant=parse_moment(maintenant))
    typer.echo(f"Rapport : {workbook}")
    typer.echo(f"Synthèse pour le comité : {synthese}")


@app.command("fiches-presence")
def fiches_presence(
    numero: NumeroConvention,
    mois: Annotated[str, typer.Option("--mois", parser=lire.mois, metavar="MOIS", help="Le mois, AAAA-MM (par exemple 2018-03).")],
) -> None:
    """Produit les fiches de présence vierges du mois, une par référent, à imprimer."""
    from datetime import date

    from actions.fse import render_fiches_presence
    from flows.runtime import runtime

    rt = runtime()
    with rt.factory() as session:
        paths = render_fiches_presence(session, rt.storage, numero, date.fromisoformat(f"{mois}-01"),
                                       pdf=rt.settings.pdf == "auto")
    for path in paths:
        typer.echo(f"Fiche de présence : {path}")


@app.command("dossier-fse")
def dossier_fse(
    numero: NumeroConvention,
    fichier: Annotated[Path, typer.Argument(parser=lire.fichier_ecrit, metavar="FICHIER", help="Le PDF à écrire.")],
    maintenant: Maintenant = None,
) -> None:
    """Assemble le dossier d'une convention pour un contrôle de service fait du FSE (un PDF avec signets)."""
    from actions.fse import build_fse_pack
    from flows.runtime import parse_moment, runtime

    rt = runtime()
    with rt.factory() as session:
        path = build_fse_pack(session, rt.storage, numero, fichier, maintenant=parse_moment(maintenant))
    typer.echo(f"Dossier FSE : {path}")


@journal_app.callback()
def journal(
    ctx: typer.Context,
    dossier: Annotated[Optional[str], typer.Option("--dossier", metavar="NUMERO",
                                                   help="L'historique de ce dossier (par exemple 2018-001), convention comprise.")] = None,
    convention: Annotated[Optional[str], typer.Option("--convention", metavar="NUMERO",
                                                      help="L'historique de cette convention.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (pour les outils).")] = False,
) -> None:
    """Affiche l'historique d'un dossier ou d'une convention, tel que le journal l'a enregistré (sans lancer Prefect)."""
    if ctx.invoked_subcommand is not None:
        return
    if dossier is None and convention is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    from actions.journal import dossier_history
    from flows.runtime import runtime
    from flows.summary import journal_table

    with runtime().factory() as session:
        titre, entrees = dossier_history(session, dossier=dossier, convention=convention)
    if as_json:
        json.dump([journal_row(e) for e in entrees], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    typer.echo(titre)
    typer.echo(journal_table(entrees))


def journal_row(e) -> dict:  # noqa: ANN001 - an Entree
    from models.journal import moment_text

    return {"entree": e.id, "moment": moment_text(e.moment), "genre": e.genre, "appel": e.appel, "dossier": e.dossier,
            "convention": e.convention, "utilisateur": e.utilisateur, "texte": e.texte, "donnees": e.donnees,
            "precedent": e.precedent, "empreinte": e.empreinte}


@journal_app.command("verifier")
def journal_verifier(appel: AnneeFacultative = None) -> None:
    """Recalcule les empreintes de la chaîne et contrôle les sceaux du jour : code 0 si le journal est intact ;
    sinon nomme la première entrée qui ne correspond pas (code 1). Avec --appel, la chaîne est vérifiée depuis
    sa première entrée jusqu'à la dernière de cet appel (elle est commune à tous les appels)."""
    from actions.journal import verify
    from flows.runtime import runtime
    from flows.summary import verification_lines

    from actions.appels import load_appel

    rt = runtime()
    with rt.factory() as session:
        if appel is not None:
            load_appel(session, appel)  # an unknown year is a mistake, not an intact journal
        result = verify(session, rt.storage.root, appel=appel)
    for line in verification_lines(result):
        typer.echo(line, err=not result.intact)
    if not result.intact:
        raise typer.Exit(1)


@journal_app.command("sceller")
def journal_sceller(maintenant: Maintenant = None) -> None:
    """Écrit le sceau du jour (ligne en base et fichier) du dernier jour du journal terminé à « maintenant »,
    s'il ne l'est pas encore : ce que fait aussi la première écriture d'un jour suivant."""
    from actions.journal import seal_until
    from flows.runtime import parse_moment, runtime
    from francais.formats import format_date

    rt = runtime()
    sceau = seal_until(rt.factory, rt.storage.root, maintenant=parse_moment(maintenant))
    if sceau is None:
        typer.echo("Rien à sceller : le dernier jour du journal est déjà scellé ou n'est pas terminé.")
        return
    typer.echo(f"Sceau du {format_date(sceau.jour)} : entrée n° {sceau.entree}, empreinte {sceau.empreinte}.")


STATUTS_COURRIEL = {"en-attente": "pending", "en-cours": "sending", "envoye": "sent", "en-echec": "failed"}


@courriels_app.callback()
def courriels(
    ctx: typer.Context,
    statut: Annotated[Optional[str], typer.Option(
        "--statut", help="Seulement ceux-ci : en-attente, en-cours, envoye, en-echec.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (pour les outils).")] = False,
) -> None:
    """Liste la boîte d'envoi : nature, destinataire, statut, essais et erreur de chaque courriel (sans lancer Prefect)."""
    if ctx.invoked_subcommand is not None:
        return
    from actions.outbox import list_courriels
    from flows.runtime import runtime
    from flows.summary import courriels_table
    from models.courriel import CourrielStatut

    if statut is not None and statut not in STATUTS_COURRIEL:
        _fail(f"statut inconnu : « {statut} » (attendu : {', '.join(STATUTS_COURRIEL)})")
    with runtime().factory() as session:
        rows = list_courriels(session, CourrielStatut(STATUTS_COURRIEL[statut]) if statut else None)
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        typer.echo(courriels_table(rows))


@app.command("passages")
def passages(
    nombre: Annotated[int, typer.Option("--nombre", metavar="N", help="Combien des derniers passages (20 par défaut).")] = 20,
    numero: Annotated[Optional[int], typer.Option("--numero", metavar="N", help="Le journal complet de ce passage.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (pour les outils).")] = False,
) -> None:
    """Liste les derniers passages (relève, instruction, échéancier…) : statut, message, compte rendu (sans lancer Prefect)."""
    from actions.passages import recent_passages
    from flows.runtime import runtime
    from flows.summary import passages_table

    with runtime().factory() as session:
        rows = recent_passages(session, limit=nombre, numero=numero)
    if numero is not None and not rows:
        _fail(f"aucun passage n° {numero}")
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    elif numero is not None:
        r = rows[0]
        typer.echo(f"{r['nom']} — {r['statut']}" + (f" : {r['message']}" if r["message"] else ""))
        typer.echo((r["resume"] or "").rstrip())
        typer.echo(r["journal"] or "(journal vide)")
    else:
        typer.echo(passages_table(rows))


@courriels_app.command("envoyer")
def courriels_envoyer() -> None:
    """Envoie les courriels restés en attente (après une panne du serveur de messagerie)."""
    from flows.mail import envoi_courriels

    _echo_mail(envoi_courriels()["courriels"])


@courriels_app.command("renvoyer")
def courriels_renvoyer(
    numero: Annotated[int, typer.Argument(parser=lire.numero, metavar="NUMERO",
                                          help="Numéro du courriel en échec (colonne N° de « aap courriels »).")],
) -> None:
    """Remet un courriel en échec dans la file d'envoi et envoie ce qui attend."""
    from actions.outbox import retry_failed
    from flows.mail import envoi_courriels
    from flows.runtime import runtime

    typer.echo(retry_failed(runtime().factory, numero) + ".")
    _echo_mail(envoi_courriels()["courriels"])


conservation_app = typer.Typer(help="La conservation des données personnelles : blocages (contrôle, litige), "
                                    "dernier paiement d'une convention.", no_args_is_help=True)
app.add_typer(conservation_app, name="conservation")
NumeroConserve = Annotated[str, typer.Argument(metavar="NUMERO", help="Numéro du dossier (2018-003) ou de la convention (CONV-2018-001).")]


def _qui() -> str:
    """Who typed the command: the session's login (the edge's fact, as the clock)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "ligne de commande"


@app.command("purge")
def purge(
    simulation: Annotated[bool, typer.Option("--simulation", help="Liste ce qui serait supprimé et pourquoi, sans rien supprimer.")] = False,
    maintenant: Maintenant = None,
) -> None:
    """Supprime les pièces, documents et contacts dont la durée de conservation est échue (jamais ce qui est bloqué) ;
    les noms, tailles et empreintes SHA-256 des fichiers restent enregistrés (sans lancer Prefect)."""
    from actions.purge import purge as purger, simulate
    from flows.runtime import parse_moment, runtime
    from francais.formats import compte

    rt = runtime()
    moment = parse_moment(maintenant)
    if simulation:
        sim = simulate(rt.factory, rt.storage, maintenant=moment)
        typer.echo(f"Simulation de purge au {sim.jour} : {compte(len(sim.purgeables), 'élément', 'éléments')} à purger, "
                   f"{compte(len(sim.fichiers), 'fichier', 'fichiers')}, "
                   f"{compte(len(sim.contacts), 'structure', 'structures')} dont les contacts seraient anonymisés.")
        for line in sim.purgeables:
            typer.echo(f"  à purger : {line}")
        for line in sim.conserves:
            typer.echo(f"  conservé : {line}")
        return
    done = purger(rt.factory, rt.storage, maintenant=moment, par=_qui())
    typer.echo(f"Purge du {done.jour} : {compte(len(done.elements), 'élément', 'éléments')}, "
               f"{compte(len(done.marques), 'fichier marqué', 'fichiers marqués')}, "
               f"{compte(done.effaces, 'fichier supprimé', 'fichiers supprimés')}, "
               f"{compte(len(done.contacts), 'structure anonymisée', 'structures anonymisées')}.")
    if done.partages:
        typer.echo(f"  {compte(done.partages, 'fichier gardé', 'fichiers gardés')} sur le disque : un élément conservé "
                   "a reçu les mêmes octets ; ils partiront avec lui.")
    for line in done.elements:
        typer.echo(f"  purgé : {line}")


@conservation_app.command("bloquer")
def conservation_bloquer(
    numero: NumeroConserve,
    motif: Annotated[str, typer.Option("--motif", metavar="TEXTE", help="Pourquoi il est conservé en entier (contrôle FSE, litige…).")],
    maintenant: Maintenant = None,
) -> None:
    """Conserve en entier un dossier ou une convention (et l'autre avec lui) : aucune purge n'y touche."""
    from actions.conservation import hold
    from flows.runtime import parse_moment, runtime

    typer.echo(hold(runtime().factory, numero, motif=motif, par=_qui(), maintenant=parse_moment(maintenant)) + ".")


@conservation_app.command("debloquer")
def conservation_debloquer(numero: NumeroConserve, maintenant: Maintenant = None) -> None:
    """Lève le blocage d'un dossier ou d'une convention : ses durées de conservation s'appliquent de nouveau."""
    from actions.conservation import release
    from flows.runtime import parse_moment, runtime

    typer.echo(release(runtime().factory, numero, par=_qui(), maintenant=parse_moment(maintenant)) + ".")


@conservation_app.command("paiement")
def conservation_paiement(
    numero: NumeroConvention,
    le: Annotated[str, typer.Option("--le", parser=lire.jour, metavar="DATE", help="Date du dernier paiement (AAAA-MM-JJ).")],
) -> None:
    """Enregistre le dernier paiement d'une convention : la conservation FSE court jusqu'au 31 décembre de la
    cinquième année qui suit."""
    from datetime import date

    from actions.conservation import record_payment
    from flows.runtime import runtime

    typer.echo(record_payment(runtime().factory, numero, le=date.fromisoformat(le)) + ".")


utilisateur_app = typer.Typer(help="Les comptes du back office (aap web).", no_args_is_help=True)
app.add_typer(utilisateur_app, name="utilisateur")


@utilisateur_app.command("ajouter")
def utilisateur_ajouter(
    identifiant: Annotated[str, typer.Argument(metavar="IDENTIFIANT", help="L'identifiant de connexion (minuscules, chiffres, « . », « _ », « - »).")],
    role: Annotated[str, typer.Option("--role", metavar="ROLE", help="gestion (voit et agit) ou lecture (voit seulement).")],
) -> None:
    """Crée un compte du back office ; le mot de passe est lu sur l'entrée standard (une ligne, 10 caractères au moins)."""
    from datetime import datetime, timezone

    from actions.utilisateurs import add_user
    from flows.runtime import runtime
    from models.utilisateur import Role

    if role not in {r.value for r in Role}:
        _fail(f"rôle inconnu : « {role} » (attendu : gestion ou lecture)")
    if sys.stdin.isatty():
        import getpass

        mot_de_passe = getpass.getpass("Mot de passe : ")
    else:
        mot_de_passe = sys.stdin.readline().rstrip("\r\n")
    user = add_user(runtime().factory, identifiant, mot_de_passe, Role(role), maintenant=datetime.now(timezone.utc))
    typer.echo(f"Compte « {user.identifiant} » créé (rôle : {user.role.value}).")


@utilisateur_app.command("desactiver")
def utilisateur_desactiver(
    identifiant: Annotated[str, typer.Argument(metavar="IDENTIFIANT", help="L'identifiant du compte.")],
) -> None:
    """Désactive un compte : il ne peut plus se connecter et ses sessions ouvertes sont fermées aussitôt."""
    from datetime import datetime, timezone

    from actions.utilisateurs import deactivate_user
    from flows.runtime import runtime

    user = deactivate_user(runtime().factory, identifiant, maintenant=datetime.now(timezone.utc))
    typer.echo(f"Compte « {user.identifiant} » désactivé ; ses sessions sont fermées.")


@app.command("web")
def web(
    hote: Annotated[str, typer.Option("--hote", metavar="ADRESSE", help="Adresse d'écoute (127.0.0.1 par défaut ; derrière un mandataire inverse en production).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port d'écoute.")] = 8000,
) -> None:
    """Sert le back office de l'assistante dans le navigateur (http://ADRESSE:PORT/)."""
    from web.serveur import serve

    serve(hote, port, echo=typer.echo)


@modeles_app.command("verifier")
def modeles_verifier(
    fichier: Annotated[Optional[Path], typer.Argument(
        parser=lire.fichier_lu, metavar="FICHIER", help="Modèle modifié à vérifier (par exemple templates/convention.docx) ; sans fichier : tous les modèles.")] = None,
) -> None:
    """Dit si un modèle Word modifié peut servir : variables connues, balises correctes, aucune section manquante."""
    from templates.verification import verifier_modele, verifier_tous

    resultats = verifier_tous() if fichier is None else {fichier.name: verifier_modele(fichier)}
    for nom, problemes in resultats.items():
        typer.echo(f"{nom} : {'utilisable' if not problemes else 'inutilisable'}")
        for probleme in problemes:
            typer.echo(f"  - {probleme}")
    if any(resultats.values()):
        raise typer.Exit(1)


@app.command("demo")
def demo(
    sortie: Annotated[Path, typer.Option("--sortie", parser=lire.dossier_ecrit, metavar="DOSSIER",
                                         help="Dossier où la démonstration range ses boîtes aux lettres.")] = Path("var/demo"),
    avec_web: Annotated[bool, typer.Option("--web", help="Puis sert le back office (http://127.0.0.1:8000/) avec un compte de démonstration.")] = False,
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Avec --web : port du back office.")] = 8000,
) -> None:
    """Rejoue l'appel 2018 : publication, dépôts d'exemple, attestations envoyées à un serveur SMTP local."""
    from flows.demo import run_demo

    if not avec_web:
        run_demo(sortie)
        return
    from web.serveur import serve_demo

    run_demo(sortie, apres=lambda: serve_demo(port, echo=typer.echo))


def _jour(iso: str) -> str:
    """A day the flows return as ISO text, written as the documents write it: « 11 décembre 2017 »."""
    from datetime import date

    from francais.formats import format_date

    return format_date(date.fromisoformat(iso))


def _echo_mail(report: dict) -> None:
    """The outbox's figures; mail left unsent is said in French and the command ends with code 1."""
    from actions.passages import mail_problem

    typer.echo(f"Courriels envoyés : {report['envoyes']}, en attente : {report['en_attente']}, en échec : {report['echecs']}.")
    problem = mail_problem(report)
    if problem:
        typer.echo(f"Attention : {problem}", err=True)
        raise typer.Exit(1)


def main() -> None:
    app(prog_name="aap")


if __name__ == "__main__":
    main()
