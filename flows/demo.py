"""``aap demo``: the 2018 call replayed on the embedded defaults, mail caught by a local SMTP sink."""
from __future__ import annotations

import time
from collections import Counter
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import typer
from sqlalchemy import func, select

from actions.listing import list_dossiers
from actions.publication import register_known_porteur
from adapters.smtp_sink import SmtpSink
from config.appel_config import CONFIG_DIR
from flows.comite import decisions_comite, preparation_comite
from flows.demo_data import KNOWN, build_answers, build_sample
from flows.demo_suivi import replay_year
from flows.depots import depot_postal, releve_depots
from flows.instruction import instruction
from flows.publication import publication
from flows.runtime import PARIS, configure, runtime
from flows.summary import decisions_table, dossiers_table
from forms.synthese import fill_decisions
from models.instruction import DecisionComite
from francais.formats import compte, format_date, format_decimal_fr

ANNEE = 2018
INSTRUCTION = datetime(2017, 12, 8, 14, 0, tzinfo=PARIS).isoformat()
COMITE = datetime(2017, 12, 11, 18, 0, tzinfo=PARIS).isoformat()
REPONSES = datetime(2017, 12, 15, 9, 0, tzinfo=PARIS).isoformat()
REINSTRUCTION = datetime(2017, 12, 18, 10, 0, tzinfo=PARIS).isoformat()
COMITE_2 = datetime(2017, 12, 20, 18, 0, tzinfo=PARIS).isoformat()
PREPARATION_3 = datetime(2017, 12, 27, 9, 0, tzinfo=PARIS).isoformat()  # the day after the ajournés' last day to answer
COMITE_3 = datetime(2017, 12, 27, 18, 0, tzinfo=PARIS).isoformat()
RELEVE = datetime(2017, 12, 8, 8, 30, tzinfo=PARIS).isoformat()  # the morning after the deadline


def run_demo(sortie: Path, apres=None) -> None:  # noqa: ANN001 - apres: what runs next while the SMTP sink listens
    started = time.monotonic()
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
                   f"{d['doublons']} doublons, {d['deja_vus']} déjà enregistrés, {d['non_identifies']} non identifiés, "
                   f"{d['a_verifier']} à vérifier.")
        for erreur in d["erreurs"]:
            typer.echo(f"  ! {erreur}")
        for siret, recu_le, scans in sample.postal:
            depot_postal(ANNEE, siret, recu_le, [str(s) for s in scans], None, RELEVE)
        reject_impersonation(rt)
        with rt.factory() as session:
            rows = list_dossiers(session, ANNEE, str(rt.storage.root))
        typer.echo("")
        typer.echo(dossiers_table(rows))
        run_comite(rt, sortie)
        run_conventions(rt, sortie)
        typer.echo("")
        typer.echo(f"Attestations : {rt.storage.root / 'attestations' / str(ANNEE)}")
        typer.echo(f"Courriels reçus par le serveur SMTP local (Maildir) : {sink_dir} ({len(sink.messages())} messages)")
        typer.echo(f"Liste détaillée : aap dossiers --appel {ANNEE} --json")
        typer.echo(f"Démonstration terminée en {format_decimal_fr(Decimal(f'{time.monotonic() - started:.1f}'))} s.")
        if apres is None:
            typer.echo("Back office dans le navigateur : « python3 make.py demo --web » (ou « aap demo --web »).")
            return
        apres()


def reject_impersonation(rt) -> None:
    """The dépôt sent in Tremplin's name from an address it never used waits « à vérifier »; Tremplin's known
    contact was told; the SA calls Tremplin, which sent nothing, and rejects it (kept, with her reason)."""
    from actions.depots import reject_depot
    from actions.listing import waiting_queue

    with rt.factory() as session:
        held = [e for e in waiting_queue(session, ANNEE) if e["statut"] == "à vérifier" and e["depot"] is not None]
    if not held:
        typer.echo("Usurpation d'identité : aucun dépôt à vérifier (déjà traité).")
    for e in held:
        typer.echo(f"Dépôt n° {e['depot']} au nom de {e['porteur']} envoyé par {e['expediteur']} : à vérifier "
                   f"({e['motif']}) ; le dossier n'a pas changé et son contact connu en est averti.")
        motif = "la structure confirme ne pas avoir envoyé ce dépôt"
        reject_depot(rt.factory, ANNEE, e["depot"], motif=motif, maintenant=datetime.fromisoformat(RELEVE))
        typer.echo(f"Dépôt n° {e['depot']} rejeté par l'assistante : {motif}.")


def run_comite(rt, sortie: Path) -> None:
    """Instruction, the comité's pack, decisions typed in the workbook by the demo, notifications;
    then the ajourné porteurs' answers, their re-instruction and a second comité, which leaves the
    ajournés still free to answer undecided; a third, once their deadline has passed, closes them."""
    instruite = instruction(ANNEE, INSTRUCTION)
    typer.echo(f"\nInstruction : {compte(len(instruite['instruits']), 'dossier instruit', 'dossiers instruits')}, "
               f"{compte(len(instruite['inchanges']), 'inchangé', 'inchangés')} ; notes rédigées : {instruite['notes']}.")
    hold_comite(rt, sortie, date(2017, 12, 11), COMITE, INSTRUCTION)
    answers = build_answers(sortie)
    result = releve_depots(str(answers.maildir), ANNEE, REPONSES)
    typer.echo(f"\nRéponses aux questions du comité : {compte(result['depots']['depots'], 'nouveau dépôt', 'nouveaux dépôts')}.")
    for siret, recu_le, scans in answers.postal:
        depot_postal(ANNEE, siret, recu_le, [str(s) for s in scans], None, REPONSES)
    instruite = instruction(ANNEE, REINSTRUCTION)
    typer.echo(f"Nouvelle instruction : {', '.join(instruite['instruits']) or 'aucun dossier'} "
               f"(inchangés : {len(instruite['inchanges'])}).")
    hold_comite(rt, sortie, date(2017, 12, 20), COMITE_2, REINSTRUCTION)
    hold_comite(rt, sortie, date(2017, 12, 27), COMITE_3, PREPARATION_3)
    with rt.factory() as session:
        rows = list_dossiers(session, ANNEE, str(rt.storage.root))
    typer.echo("")
    typer.echo(decisions_table(rows))


def hold_comite(rt, sortie: Path, comite_le: date, apres: str, avant: str) -> None:
    with rt.factory() as session:
        decided = session.scalar(select(func.count()).select_from(DecisionComite).where(DecisionComite.comite_le == comite_le))
        rows = list_dossiers(session, ANNEE, str(rt.storage.root))
    if decided:
        typer.echo(f"Comité du {format_date(comite_le)} : décisions déjà enregistrées, rien à refaire.")
        return
    pack = preparation_comite(ANNEE, comite_le.isoformat(), None, avant)
    typer.echo(f"Comité du {format_date(comite_le)} : {compte(len(pack['dossiers']), 'dossier', 'dossiers')} ; synthèse {pack['synthese']}")
    typer.echo(f"Recueil des notes : {pack['notes'] or 'pas de PDF (LibreOffice absent)'}")
    for ligne in pack["ajournes"]:
        typer.echo(f"  Ajourné : {ligne}")
    listed = [r for r in rows if r["numero"] in pack["dossiers"]]
    choix = demo_decisions(listed, comite_le)
    filled = fill_decisions(Path(pack["synthese"]), choix, sortie / f"synthese_remplie_{comite_le.isoformat()}.xlsx")
    typer.echo(f"Synthèse remplie en séance : {filled}")
    result = decisions_comite(ANNEE, str(filled), None, apres)
    counts = Counter(decision.lower() for decision, _ in choix.values())
    typer.echo(f"Décisions enregistrées : {len(result['enregistrees'])} ("
               + ", ".join(f"{k} : {v}" for k, v in sorted(counts.items())) + f") ; lettres : {result['lettres']} ; "
               f"courriels envoyés : {result['courriels']['envoyes']}.")
    if result["en_attente"]:
        typer.echo("Ajournés sans décision, en attente de leur réponse : " + ", ".join(result["en_attente"]) + ".")
    for avertissement in result["avertissements"]:
        typer.echo(f"Avertissement : {avertissement}")


def demo_decisions(rows: list[dict], comite_le: date) -> dict[str, tuple[str, str]]:
    """What the comité decides in the demo: favorable → retenu, réservé → ajourné, défavorable → non retenu;
    an ajourné dossier that has not answered waits for its deadline, and the first comité after it closes it."""
    choix = {}
    for r in rows:
        if r["numero"] is None or r["avis"] is None:
            continue
        if r["decision"] == "ajourné":  # no answer came (an answer would have sent it back to instruction)
            if comite_le > date.fromisoformat(r["reponse_avant"]):
                choix[r["numero"]] = ("Non retenu", "Pas de réponse aux questions complémentaires dans le délai.")
        elif r["avis"] == "favorable":
            choix[r["numero"]] = ("Retenu", "")
        elif r["avis"] == "réservé":
            choix[r["numero"]] = ("Ajourné", "Merci de transmettre l'original signé par voie postale "
                                            "et de préciser le planning de recrutement des référents.")
        else:
            choix[r["numero"]] = ("Non retenu", "Le dossier ne respecte pas le cahier des charges.")
    return choix


def run_conventions(rt, sortie: Path) -> None:
    """Conventions for the retained dossiers, signatures, two renewals and a refused third, a modification."""
    from actions.conventions import (
        Modification,
        export_conventions,
        list_conventions,
        sign,
    )
    from flows.conventions import (
        avenant_modification,
        avenant_prolongation,
        etablissement_conventions,
    )
    from flows.summary import conventions_table

    result = etablissement_conventions(ANNEE, None, datetime(2017, 12, 28, 10, 0, tzinfo=PARIS).isoformat())
    typer.echo(f"\nConventions établies : {', '.join(result['conventions']) or 'aucune nouvelle'} ; "
               f"courriels envoyés : {result['courriels']['envoyes']}.")
    with rt.factory() as session:
        rows = list_conventions(session, ANNEE, aujourd_hui=date(2017, 12, 28))
    for row in rows:
        sign(rt.factory, row["numero"], le=date(2017, 12, 29))
    first, second = rows[0]["numero"], rows[1]["numero"]
    if not rows[1]["avenants"]:
        modification = avenant_modification(
            second, Modification(etp={_first_referent(rows[1], rt): Decimal("0.8")},
                                 salaires={_first_referent(rows[1], rt): Decimal("35600.00")},
                                 montants=_rebalanced(rt, second, Decimal("35600.00"))),
            "2018-03-01", "bureau du PLIE du 1er mars 2018", datetime(2018, 3, 2, 9, 0, tzinfo=PARIS).isoformat())
        typer.echo(f"Avenant de modification {modification['avenant'] or modification['refus'] or modification['deja']} "
                   "(ETP ramené à 0,8) : ne compte pas comme renouvellement.")

    def renew(jour: date) -> str:
        return _renew(rt, first, jour.isoformat(), f"comité de pilotage du {format_date(jour)}")

    typer.echo("\nL'année 2018 rejouée (horloge simulée) :")
    for line in replay_year(rt, sortie, renew=renew):
        typer.echo(f"  {line}")
    typer.echo(_renew(rt, first, "2019-11-14", "comité de pilotage du 14 novembre 2019"))
    third = avenant_prolongation(first, "2020-11-12", "comité de pilotage du 12 novembre 2020",
                                 datetime(2020, 11, 12, 18, 0, tzinfo=PARIS).isoformat())
    typer.echo(f"Troisième renouvellement de {first} : " + (f"refusé : {third['refus']}" if third["refus"] else
                                                               f"accepté ({third['avenant']}) — anomalie !"))
    report_year(rt, sortie, first)
    with rt.factory() as session:
        typer.echo("")
        au = date(2020, 11, 12)  # the simulated clock's last day: the third renewal refused
        typer.echo(conventions_table(list_conventions(session, ANNEE, aujourd_hui=au)))
        path = export_conventions(session, sortie / "suivi_conventions.xlsx", ANNEE, aujourd_hui=au)
    typer.echo(f"Suivi des conventions : {path}")


def _renew(rt, numero: str, valide_le: str, instance: str) -> str:
    """A renewal validated on ``valide_le`` (once: a second demo run finds it done), signed two weeks later."""
    from actions.conventions import convention_history, sign
    from flows.conventions import avenant_prolongation

    with rt.factory() as session:
        done = [h for h in convention_history(session, numero, aujourd_hui=date.fromisoformat(valide_le))["historique"] if h["date"] == valide_le]
    if done:
        return (f"Renouvellement de {numero} validé le {format_date(date.fromisoformat(valide_le))} : "
                f"déjà enregistré ({done[0]['numero']}).")
    result = avenant_prolongation(numero, valide_le, instance, datetime.fromisoformat(valide_le).replace(tzinfo=PARIS).isoformat())
    if result["refus"]:
        return f"Renouvellement de {numero} refusé : {result['refus']}"
    if result["deja"]:
        return f"Renouvellement de {numero} validé le {valide_le} : {result['deja']}."
    sign(rt.factory, result["avenant"], le=date.fromisoformat(valide_le) + timedelta(days=14))
    return (f"Renouvellement de {numero} par l'avenant {result['avenant']} "
            f"(validé le {format_date(date.fromisoformat(valide_le))}, signé).")


def report_year(rt, sortie: Path, numero: str) -> None:
    """What the SA and the financeurs read at the end of the year, and where it is."""
    from actions.fse import build_fse_pack, render_fiches_presence
    from actions.suivi_rapport import write_suivi_report
    from adapters.pdf import soffice_path

    fin = datetime(2019, 3, 31, 18, 0, tzinfo=PARIS)
    with rt.factory() as session:
        workbook, synthese = write_suivi_report(session, ANNEE, sortie / "suivi_2018.xlsx", maintenant=fin)
        fiches = render_fiches_presence(session, rt.storage, numero, date(2018, 3, 1), pdf=rt.settings.pdf == "auto")
        pack = (build_fse_pack(session, rt.storage, numero, sortie / f"dossier_fse_{numero}.pdf", maintenant=fin)
                if soffice_path() else None)
    typer.echo(f"\nRapport de suivi consolidé (avec graphiques) : {workbook}")
    typer.echo(f"Synthèse pour le comité de pilotage : {synthese}")
    for fiche in fiches:
        typer.echo(f"Fiche de présence de mars 2018 : {fiche}")
    typer.echo(f"Dossier FSE de {numero} : {pack or 'non produit (LibreOffice absent)'}")


def _first_referent(row: dict, rt) -> str:
    from models.convention import Convention

    with rt.factory() as session:
        c = session.scalar(select(Convention).where(Convention.numero == row["numero"]))
        return c.referents[0]["nom_complet"]


def _rebalanced(rt, numero: str, new_salary: Decimal) -> dict[str, Decimal]:
    """The salary line and the PLIE's share move together, so that the budget stays balanced."""
    from models.convention import Convention

    with rt.factory() as session:
        c = session.scalar(select(Convention).where(Convention.numero == numero))
        old = Decimal(c.referents[0]["salaire"])
        return {"budget_salaires": c.budget_salaires - old + new_salary,
                "ressources_plie": c.ressources_plie - old + new_salary}
