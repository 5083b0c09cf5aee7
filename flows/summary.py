"""French tables printed for the SA (plain text, fits a terminal)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from francais.formats import compte, format_date, format_datetime_paris, to_paris


def dossiers_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "Aucun dossier pour cet appel."
    header = ("N°", "Structure", "SIRET", "Statut", "Canaux", "Reçu le", "Att.", "À compléter / motifs")
    lines = []
    for r in rows:
        notes = [*r["pieces_manquantes"], *r["motifs"]]
        lines.append((
            r["numero"] or f"dépôt {r['depot']}",
            _cut(r["porteur"] or "?", 34),
            r["siret"] or "—",
            r["statut"] + (" (hors délai)" if r["hors_delai"] and r["statut"] != "hors délai" else ""),
            " + ".join(r["canaux"]) or "—",
            format_datetime_paris(datetime.fromisoformat(r["recu_le"])),
            str(len(r["attestations"])),
            _cut("; ".join(notes), 90) if notes else "—",
        ))
    out = _table(header, lines).split("\n")
    complets = sum(r["statut"] == "complet" for r in rows)
    attente = sum(r["numero"] is None for r in rows)
    out.append(f"\n{compte(len(rows) - attente, 'dossier', 'dossiers')}, dont {compte(complets, 'complet', 'complets')} ; {compte(attente, 'dépôt', 'dépôts')} en attente "
               "(non identifiés ou à vérifier : « aap dossiers --json », clé en_attente).")
    return "\n".join(out)


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def decisions_table(rows: list[dict[str, Any]]) -> str:
    """After the comité: each instructed dossier, its avis and the decision."""
    header = ("N°", "Structure", "Avis", "Décision", "Réponse avant", "Constats")
    lines = [
        (r["numero"], _cut(r["porteur"], 34), r["avis"], r["decision"] or "en attente",
         format_date(date.fromisoformat(r["reponse_avant"])) if r["reponse_avant"] else "—",
         _cut("; ".join(r["constats"]), 80) or "—")
        for r in rows if r["numero"] and r["avis"]
    ]
    if not lines:
        return "Aucun dossier instruit."
    return _table(header, lines)


def _table(header: tuple[str, ...], lines: list[tuple]) -> str:
    widths = [max(len(str(x[i])) for x in [header, *lines]) for i in range(len(header))]
    out = [" | ".join(str(c).ljust(w) for c, w in zip(header, widths)), "-+-".join("-" * w for w in widths)]
    out += [" | ".join(str(c).ljust(w) for c, w in zip(line, widths)) for line in lines]
    return "\n".join(out)


def conventions_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "Aucune convention."
    header = ("Convention", "Structure", "Période en cours", "Renouv.", "Statut", "Prochaine action")
    lines = [
        (r["numero"], _cut(r["porteur"], 34),
         f"{format_date(date.fromisoformat(r['periode_en_cours']['debut']))} – {format_date(date.fromisoformat(r['fin']))}",
         f"{r['renouvellements']}/{r['renouvellements_max']}", r["statut"], r["prochaine_action"])
        for r in rows
    ]
    return _table(header, lines)


def history_text(row: dict[str, Any]) -> str:
    out = [f"Convention {row['numero']} — {row['porteur']} (SIRET {row['siret']})",
           f"Renouvellements : {row['renouvellements']} sur {row['renouvellements_max']} ; "
           f"prochaine action : {row['prochaine_action']}", ""]
    for h in row["historique"]:
        accord = "e" if h["nature"] == "convention" else ""  # la convention signée, l'avenant signé
        signed = f"signé{accord} le {format_date(date.fromisoformat(h['signe_le']))}" if h["signe_le"] else "à signer"
        out.append(f"{h['numero']} ({h['nature']}, {format_date(date.fromisoformat(h['date']))}, {signed})")
        out.extend(f"    {c}" for c in h["changements"])
    return "\n".join(out)


def courriels_table(rows: list[dict[str, Any]]) -> str:
    """The outbox: one line per mail, its error in full when it has one."""
    if not rows:
        return "Aucun courriel dans la boîte d'envoi."
    header = ("N°", "Nature", "Destinataire", "Statut", "Essais", "Créé le", "Erreur")
    lines = [
        (str(r["id"]), r["nature"], _cut(", ".join(r["destinataires"]) or "—", 40), r["statut"], str(r["tentatives"]),
         format_datetime_paris(datetime.fromisoformat(r["cree_le"])), _cut(r["erreur"] or "—", 100))
        for r in rows
    ]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["statut"]] = counts.get(r["statut"], 0) + 1
    total = " ; ".join(f"{statut} : {n}" for statut, n in counts.items())
    return _table(header, lines) + f"\n\n{compte(len(rows), 'courriel', 'courriels')} — {total}."


def passages_table(rows: list[dict[str, Any]]) -> str:
    """The latest runs of the stages (``aap passages``), newest first: what each did or why it failed."""
    if not rows:
        return "Aucun passage enregistré."
    header = ("N°", "Passage", "Par", "Début", "Statut", "Message ou compte rendu")
    lines = [
        (str(r["id"]), r["nom"], "Prefect" if r["orchestrateur"] == "prefect" else "commande",
         format_datetime_paris(datetime.fromisoformat(r["debut"])), r["statut"],
         _cut(r["message"] or _first_line(r["resume"]) or "—", 100))
        for r in rows
    ]
    return _table(header, lines)


def _first_line(resume: str | None) -> str:
    """The first line of a markdown summary (``- 5 messages lus, …``), without its bullet."""
    items = [line[2:] for line in (resume or "").splitlines() if line.startswith("- ")]
    return items[0] if items else ""


def journal_table(entrees: list) -> str:  # list[models.journal.Entree]
    """A dossier's history: entry number, Paris time, who acted (when an account did), what happened."""
    if not entrees:
        return "Aucune entrée au journal."
    return _table(("N°", "Le (heure de Paris)", "Par", "Opération"),
                  [(e.id, f"{to_paris(e.moment):%d/%m/%Y %H:%M:%S}", e.utilisateur or "—", e.texte) for e in entrees])


def verification_lines(result: Any) -> list[str]:  # actions.journal.Verification
    """What ``aap journal verifier`` says: intact with its figures, or the first anomaly."""
    lines = list(result.lignes)
    if result.anomalie is not None:
        return [*lines, f"Journal altéré : {result.anomalie.message}.",
                f"Première entrée qui ne correspond pas : n° {result.anomalie.entree}."
                if result.anomalie.entree is not None else "Entrée en cause inconnue."]
    if result.entrees == 0:
        return lines or ["Le journal est vide : rien à vérifier."]
    sceau = result.dernier_sceau
    scelle = (f" ; dernier sceau : {format_date(sceau.jour)} (entrée n° {sceau.entree})" if sceau else " ; aucun sceau encore")
    return [*lines, f"Journal intact : {compte(result.entrees, 'entrée recalculée', 'entrées recalculées')}, {compte(result.sceaux, 'sceau du jour vérifié', 'sceaux du jour vérifiés')}"
                    f"{scelle} ; {compte(result.non_scelles, 'entrée pas encore scellée', 'entrées pas encore scellées')}."]
