"""``aap demo``: the 2018 call replayed on the embedded defaults, mail caught by a local SMTP sink."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from actions.listing import list_dossiers
from actions.publication import register_known_porteur
from adapters.smtp_sink import SmtpSink
from config.appel_config import CONFIG_DIR
from flows.demo_data import KNOWN, build_sample
from flows.depots import depot_postal, releve_depots
from flows.publication import publication
from flows.runtime import PARIS, configure, runtime
from flows.summary import dossiers_table

ANNEE = 2018
RELEVE = datetime(2017, 12, 8, 8, 30, tzinfo=PARIS).isoformat()  # the morning after the deadline


def run_demo(sortie: Path) -> None:
    sortie = sortie.resolve()
    sortie.mkdir(parents=True, exist_ok=True)
    sink_dir = sortie / "courriels-envoyes"
    with SmtpSink(sink_dir) as sink:
        rt = configure(runtime().settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": sink.port}))
        typer.echo(f"Serveur SMTP local sur 127.0.0.1:{sink.port} ; base : {rt.settings.database_url}")
        for p in KNOWN:
            register_known_porteur(rt.factory, siret=p.siret, nom=p.nom, email=p.email)
        pub = publication(str(CONFIG_DIR / f"{ANNEE}.toml"), datetime(2017, 11, 21, 9, 0, tzinfo=PARIS).isoformat())
        typer.echo(("Appel 2018 publié" if pub["cree"] else "Appel 2018 déjà publié") + f" ; dossier de réponse : {pub['formulaire']}")
        sample = build_sample(sortie, Path(pub["formulaire"]))
        result = releve_depots(str(sample.maildir), ANNEE, RELEVE)
        d = result["depots"]
        typer.echo(f"Relève de {sample.maildir} : {d['lus']} messages, {d['depots']} nouveaux dépôts, "
                   f"{d['doublons']} doublons, {d['deja_vus']} déjà enregistrés, {d['non_identifies']} non identifiés.")
        for erreur in d["erreurs"]:
            typer.echo(f"  ! {erreur}")
        for siret, recu_le, scans in sample.postal:
            depot_postal(ANNEE, siret, recu_le, [str(s) for s in scans], None, RELEVE)
        with rt.factory() as session:
            rows = list_dossiers(session, ANNEE, str(rt.storage.root))
        typer.echo("")
        typer.echo(dossiers_table(rows))
        typer.echo("")
        typer.echo(f"Attestations : {rt.storage.root / 'attestations' / str(ANNEE)}")
        typer.echo(f"Courriels reçus par le serveur SMTP local (Maildir) : {sink_dir} ({len(sink.messages())} messages)")
        typer.echo(f"Liste détaillée : aap dossiers --appel {ANNEE} --json")
