"""What each stage's run says when it ends: a French summary and its tables (Prefect artifacts, and the
``passage`` row's summary). Keys are stable per call (``dossiers-2018``): the latest table is one click away."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flows.passage import CompteRendu
from flows.runtime import runtime
from francais.formats import compte, format_date, format_datetime_paris


def _n(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count <= 1 else (plural or singular + 's')}"


def courriels_phrase(report: dict | None) -> str:
    if not report:
        return ""
    parts = [_n(report["envoyes"], "courriel envoyé", "courriels envoyés")]
    if report["en_attente"]:
        parts.append(f"{report['en_attente']} en attente")
    if report["echecs"]:
        parts.append(f"{report['echecs']} en échec")
    return ", ".join(parts)


def dossiers_table(annee: int) -> tuple[str, list[dict[str, Any]]]:
    from actions.listing import list_dossiers

    rt = runtime()
    with rt.factory() as session:
        rows = list_dossiers(session, annee, str(rt.storage.root))
    return (f"Les dossiers de l'appel {annee} et les dépôts en attente, à ce jour", [
        {"Numéro": r["numero"] or f"dépôt {r['depot']}", "Structure": r["porteur"] or "non identifiée",
         "Statut": r["statut"], "Canaux": " + ".join(r["canaux"]) or "—",
         "Reçu le": format_datetime_paris(datetime.fromisoformat(r["recu_le"])),
         "Hors délai": "oui" if r["hors_delai"] else "non", "Attestations": len(r["attestations"]),
         "Avis": r.get("avis") or "—", "Décision": r.get("decision") or "—",
         "Pièces manquantes ou motifs": "; ".join([*r["pieces_manquantes"], *r["motifs"]]) or "—"}
        for r in rows])


def depots_table(annee: int, after_id: int) -> tuple[str, list[dict[str, Any]]]:
    from actions.listing import depots_since

    with runtime().factory() as session:
        return f"Les dépôts enregistrés par la dernière relève de l'appel {annee}", depots_since(session, annee, after_id)


def releve(result: dict, params: dict) -> CompteRendu:
    d, annee = result["depots"], params["annee"]
    attente = d["non_identifies"] + d["a_verifier"]
    lines = [
        f"{_n(d['lus'], 'message lu', 'messages lus')}, {_n(d['depots'], 'nouveau dépôt', 'nouveaux dépôts')}"
        f" (dont {d['hors_delai']} hors délai), {attente} en attente de l'assistante, "
        f"{_n(result['attestations']['rendues'], 'attestation rédigée', 'attestations rédigées')}, "
        f"{courriels_phrase(result['courriels'])}.",
        f"Déjà enregistrés : {d['deja_vus']} ; doublons : {d['doublons']} ; à vérifier : {d['a_verifier']} ; "
        f"non identifiés : {d['non_identifies']}.",
        *[f"Erreur : {e}" for e in d["erreurs"]],
    ]
    return CompteRendu(f"Relève des dépôts — appel {annee}", lines, {
        f"depots-{annee}": lambda: depots_table(annee, result.get("depots_avant", 0)),
        f"dossiers-{annee}": lambda: dossiers_table(annee),
    })


def depot_saisi(result: dict, params: dict) -> CompteRendu:
    """Postal dépôt, rattachement, confirmation: one dépôt, its dossier, its attestation."""
    annee = params["annee"]
    lines = [f"{_n(result['attestations']['rendues'], 'attestation rédigée', 'attestations rédigées')}, "
             f"{courriels_phrase(result['courriels'])}."]
    return CompteRendu(f"Dépôt de l'appel {annee}", lines, {f"dossiers-{annee}": lambda: dossiers_table(annee)})


def publication(result: dict, params: dict) -> CompteRendu:
    lines = ["Appel créé." if result["cree"] else "Appel déjà publié : rien n'a changé.",
             f"{_n(result['annonces'], 'annonce mise', 'annonces mises')} en file ; {courriels_phrase(result['courriels'])}."]
    return CompteRendu("Publication de l'appel", lines)


def instruction(result: dict, params: dict) -> CompteRendu:
    annee = params["annee"]
    lines = [f"{_n(len(result['instruits']), 'dossier instruit', 'dossiers instruits')}"
             f" ({', '.join(result['instruits']) or '—'}) ; inchangés : {len(result['inchanges'])} ; "
             f"{_n(result['notes'], 'note rédigée', 'notes rédigées')}.",
             ("Hors délai, non admis : " + ", ".join(result["hors_delai_non_admis"]))
             if result["hors_delai_non_admis"] else ""]
    return CompteRendu(f"Instruction — appel {annee}", lines, {f"dossiers-{annee}": lambda: dossiers_table(annee)})


def preparation_comite(result: dict, params: dict) -> CompteRendu:
    annee = params["annee"]
    lines = [f"Comité du {format_date(date.fromisoformat(result['comite_le']))} : "
             f"{_n(len(result['dossiers']), 'dossier')} à décider.",
             f"Synthèse : {result['synthese']}", *[f"Ajourné : {a}" for a in result["ajournes"]]]
    return CompteRendu(f"Dossier du comité — appel {annee}", lines)


def decisions_comite(result: dict, params: dict) -> CompteRendu:
    annee = params["annee"]
    lines = [f"Décisions enregistrées : {len(result['enregistrees'])} ({', '.join(result['enregistrees']) or '—'}) ; "
             f"déjà enregistrées : {len(result['inchangees'])} ; {_n(result['lettres'], 'lettre rédigée', 'lettres rédigées')} ; "
             f"{courriels_phrase(result['courriels'])}.",
             ("Ajournés en attente de leur réponse : " + ", ".join(result["en_attente"])) if result["en_attente"] else "",
             *[f"Avertissement : {a}" for a in result["avertissements"]]]
    return CompteRendu(f"Décisions du comité — appel {annee}", lines, {f"dossiers-{annee}": lambda: dossiers_table(annee)})


def conventions_table(annee: int | None) -> tuple[str, list[dict[str, Any]]]:
    from actions.conventions import list_conventions
    from flows.runtime import parse_day

    with runtime().factory() as session:
        rows = list_conventions(session, annee, aujourd_hui=parse_day(None))
    return ("Les conventions, leur statut et leur prochaine action", [
        {"Convention": r["numero"], "Structure": r["porteur"], "Statut": r["statut"],
         "Renouvellements": f"{r['renouvellements']}/{r['renouvellements_max']}", "Fin": format_date(date.fromisoformat(r["fin"])),
         "Prochaine action": r["prochaine_action"]} for r in rows])


def conventions(result: dict, params: dict) -> CompteRendu:
    annee = params["annee"]
    lines = [f"Conventions établies : {', '.join(result['conventions']) or 'aucune nouvelle'} ; "
             f"{_n(result['documents'], 'document rédigé', 'documents rédigés')} ; {courriels_phrase(result['courriels'])}."]
    return CompteRendu(f"Conventions — appel {annee}", lines, {f"etat-conventions-{annee}": lambda: conventions_table(annee)})


def avenant(result: dict, params: dict) -> CompteRendu:
    line = (f"Avenant {result['avenant']} établi et envoyé pour signature." if result["avenant"]
            else f"Refusé : {result['refus']}" if result["refus"] else f"Déjà traité : {result['deja']}")
    return CompteRendu(f"Avenant — convention {params['numero']}", [line, courriels_phrase(result["courriels"])])


def echeancier(result: dict, params: dict) -> CompteRendu:
    lines = [f"Échéancier du {format_date(date.fromisoformat(result['jour']))} : {compte(result['ouvertes'], 'échéance ouverte', 'échéances ouvertes')}, "
             f"{compte(len(result['envois']), 'envoi', 'envois')}, {compte(len(result['retards']), 'retard', 'retards')}, {len(result['a_corriger'])} à corriger ; "
             f"{courriels_phrase(result['courriels'])}."]
    rows = [{"Nature": nature, "Détail": line}
            for nature, key in (("envoi", "envois"), ("retard", "retards"), ("à corriger", "a_corriger"),
                                ("fin proche", "fins_prochaines"), ("courriel en échec", "echecs"),
                                ("passage en échec", "passages"))
            for line in result[key]]
    return CompteRendu("Échéancier des bilans", lines, {"echeances": ("Ce que l'échéancier a fait ou relevé", rows)})


def courriels(result: dict, params: dict) -> CompteRendu:
    return CompteRendu("Envoi des courriels en attente", [courriels_phrase(result["courriels"]) + "."])


def releve_planifiee(result: dict, params: dict) -> CompteRendu:
    """The scheduled intake: whether a call was in its window; the intake itself is its subflow's report."""
    if result["statut"] == "hors fenêtre":
        quel = f"L'appel {result['appel']} n'est" if result.get("appel") else "Aucun appel n'est"
        return CompteRendu("Relève planifiée", [f"{quel} dans sa fenêtre de dépôt (de sa publication à 30 jours "
                                                 "après sa date limite) : rien à relever."])
    d = result["depots"]
    return CompteRendu(f"Relève planifiée — appel {result['appel']}", [
        f"Appel {result['appel']} dans sa fenêtre de dépôt : {_n(d['lus'], 'message lu', 'messages lus')}, "
        f"{_n(d['depots'], 'nouveau dépôt', 'nouveaux dépôts')}, {courriels_phrase(result['courriels'])} "
        "(le détail est dans le compte rendu de la relève)."])
