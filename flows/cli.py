"""La ligne de commande ``aap`` : ce que l'assistante et les chargées de projet tapent."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from flows.runtime import set_prefect_defaults

set_prefect_defaults()

app = typer.Typer(help="Appel à projets du PLIE : publication, dépôts, attestations.", no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None)
appel_app = typer.Typer(help="L'appel à projets de l'année.", no_args_is_help=True)
depots_app = typer.Typer(help="Les dépôts reçus par courriel.", no_args_is_help=True)
depot_app = typer.Typer(help="Un dépôt saisi à la main (courrier).", no_args_is_help=True)
courriels_app = typer.Typer(help="La boîte d'envoi.", no_args_is_help=True)
app.add_typer(appel_app, name="appel")
app.add_typer(depots_app, name="depots")
app.add_typer(depot_app, name="depot")
app.add_typer(courriels_app, name="courriels")

Maintenant = Annotated[Optional[str], typer.Option("--maintenant", help="Date et heure à utiliser comme « maintenant » (ISO 8601, heure de Paris par défaut).")]
AnneeAppel = Annotated[int, typer.Option("--appel", help="Année de l'appel, par exemple 2018.")]


def _fail(message: str) -> None:
    typer.echo(f"Erreur : {message}", err=True)
    raise typer.Exit(1)


@appel_app.command("publier")
def appel_publier(
    config: Annotated[Path, typer.Argument(help="Fichier de configuration de l'appel (config/appels/2018.toml).")],
    maintenant: Maintenant = None,
) -> None:
    """Crée l'appel (sans effet s'il existe déjà), produit le dossier de réponse et l'annonce."""
    from flows.publication import publication

    if not config.exists():
        _fail(f"fichier introuvable : {config}")
    result = publication(str(config), maintenant)
    typer.echo(("Appel créé." if result["cree"] else "Appel déjà publié : rien n'a changé.")
               + f" Annonces mises en file : {result['annonces']}.")
    typer.echo(f"Dossier de réponse : {result['formulaire']}")
    _echo_mail(result["courriels"])


@depots_app.command("relever")
def depots_relever(
    boite: Annotated[Path, typer.Argument(help="Boîte Maildir (ou dossier de fichiers .eml) à relever.")],
    annee: AnneeAppel,
    maintenant: Maintenant = None,
) -> None:
    """Enregistre chaque message reçu comme dépôt, produit et envoie les attestations de dépôt."""
    from flows.depots import releve_depots

    if not boite.is_dir():
        _fail(f"boîte introuvable : {boite}")
    result = releve_depots(str(boite), annee, maintenant)
    d = result["depots"]
    typer.echo(f"Messages lus : {d['lus']} — nouveaux dépôts : {d['depots']} (dont hors délai : {d['hors_delai']}), "
               f"doublons : {d['doublons']}, déjà enregistrés : {d['deja_vus']}, non identifiés : {d['non_identifies']}.")
    for erreur in d["erreurs"]:
        typer.echo(f"  ! {erreur}")
    typer.echo(f"Attestations produites : {result['attestations']['rendues']}.")
    _echo_mail(result["courriels"])


@depot_app.command("postal")
def depot_postal(
    fichiers: Annotated[list[Path], typer.Argument(help="Les pièces numérisées de l'envoi.")],
    annee: AnneeAppel,
    siret: Annotated[str, typer.Option("--siret", help="SIRET de la structure (14 chiffres).")],
    recu_le: Annotated[str, typer.Option("--recu-le", help="Date du cachet d'arrivée (ISO 8601, heure de Paris par défaut).")],
    nom: Annotated[Optional[str], typer.Option("--nom", help="Nom de la structure, si elle est encore inconnue.")] = None,
    maintenant: Maintenant = None,
) -> None:
    """Enregistre un dépôt reçu par courrier et envoie son attestation."""
    from actions.depots import SaisieRefusee
    from flows.depots import depot_postal as flow

    missing = [str(f) for f in fichiers if not f.is_file()]
    if missing:
        _fail("fichier(s) introuvable(s) : " + ", ".join(missing))
    try:
        result = flow(annee, siret, recu_le, [str(f) for f in fichiers], nom, maintenant)
    except SaisieRefusee as exc:
        _fail(str(exc))
    label = {"doublon": "déjà enregistré (rien de nouveau)", "hors_delai": "enregistré hors délai"}
    typer.echo(f"Dépôt postal n° {result['depot']['depot']} : {label.get(result['depot']['resultat'], 'enregistré')}.")
    _echo_mail(result["courriels"])


@app.command("dossiers")
def dossiers(
    annee: AnneeAppel,
    as_json: Annotated[bool, typer.Option("--json", help="Sortie JSON (pour les outils).")] = False,
) -> None:
    """Liste les dossiers de l'appel (sans lancer Prefect)."""
    from actions.listing import list_dossiers
    from flows.runtime import runtime

    rt = runtime()
    with rt.factory() as session:
        rows = list_dossiers(session, annee, str(rt.storage.root))
    if as_json:
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return
    from flows.summary import dossiers_table

    typer.echo(dossiers_table(rows))


@courriels_app.command("envoyer")
def courriels_envoyer() -> None:
    """Envoie les courriels restés en attente (après une panne du serveur de messagerie)."""
    from flows.mail import send_outbox

    _echo_mail(send_outbox())


@app.command("demo")
def demo(
    sortie: Annotated[Path, typer.Option("--sortie", help="Dossier où la démonstration range ses boîtes aux lettres.")] = Path("var/demo"),
) -> None:
    """Rejoue l'appel 2018 : publication, dépôts d'exemple, attestations envoyées à un serveur SMTP local."""
    from flows.demo import run_demo

    run_demo(sortie)


def _echo_mail(report: dict) -> None:
    typer.echo(f"Courriels envoyés : {report['envoyes']}, en attente : {report['en_attente']}, en échec : {report['echecs']}.")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
