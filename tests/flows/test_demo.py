"""``aap demo`` as the README runs it: twice, the second run changing nothing."""
from __future__ import annotations

import json
import email
import mailbox
from email import policy
import os
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _maildir(path: Path) -> list[email.message.EmailMessage]:
    box = mailbox.Maildir(path, factory=lambda f: email.message_from_binary_file(f, policy=policy.default), create=False)
    return list(box)


def _aap(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AAP_")}
    env["AAP_PDF"] = "off"  # the PDF path is tested with the documents; here, the year's logic
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=600)


DEMO_KINDS = {
    "appel_publie", "depot_enregistre", "depot_a_verifier", "depot_rejete", "depot_non_identifie",
    "piece_refusee", "attestation_numerotee", "dossier_ouvert", "dossier_statut", "instruction", "comite_prepare",
    "decision", "lettre", "document", "convention_etablie", "signature", "avenant", "convention_modifiee",
    "echeance_prevue", "echeance_demandee", "echeance_relancee", "bilan_accepte", "bilan_refuse",
    "courriel_en_file", "courriel_envoye", "structure",
}
"""What the demo's year journals (a mail that fails and an account's action are not in the demo: the outbox and
back-office tests check those)."""
RETENTION_KINDS = {"convention_dernier_paiement", "conservation_blocage", "purge", "purge_effacement"}
"""What the retention adds when the SA records the payments, holds one convention and purges five years on."""


def _journal_query(cwd: Path, sql: str) -> list[tuple]:
    """Read the demo's database (its WAL included) as the application would: the -shm file this connection may
    create is its owner's only, like everything under var/ (the privacy check below)."""
    import sqlite3
    from contextlib import closing

    previous = os.umask(0o077)
    try:
        with closing(sqlite3.connect(cwd / "var/aap.sqlite")) as db:
            return db.execute(sql).fetchall()
    finally:
        os.umask(previous)


def _journal_kinds(cwd: Path) -> set[str]:
    return {kind for (kind,) in _journal_query(cwd, "SELECT DISTINCT genre FROM journal")}


def _journal_count(cwd: Path) -> int:
    return _journal_query(cwd, "SELECT count(*) FROM journal")[0][0]


def test_demo_covers_the_cases_and_a_second_run_duplicates_nothing(tmp_path):
    first = _aap(tmp_path, "demo")
    assert first.returncode == 0, first.stderr[-3000:]
    after_first = Counter(m["Message-ID"] for m in _maildir(tmp_path / "var/demo/courriels-envoyes"))

    journaled, _journal_count_after_first = _journal_kinds(tmp_path), _journal_count(tmp_path)
    verified = _aap(tmp_path, "journal", "verifier")

    second = _aap(tmp_path, "demo")

    assert second.returncode == 0, second.stderr[-3000:]
    sent = _maildir(tmp_path / "var/demo/courriels-envoyes")
    after_second = Counter(m["Message-ID"] for m in sent)
    assert after_second == after_first and max(after_second.values()) == 1
    def tables(out: str) -> tuple[str, str]:
        decisions = out[out.rindex("\nN° ", 0, out.index("| Avis")):out.index("\nConventions établies")]
        conventions = out[out.index("\nConvention    |"):out.index("Suivi des conventions :")]
        return decisions, conventions

    assert tables(first.stdout) == tables(second.stdout)
    # the journal covers every kind of change the year makes, and its chain recomputes
    assert verified.returncode == 0 and "Journal intact" in verified.stdout, verified.stdout + verified.stderr
    assert DEMO_KINDS <= journaled, DEMO_KINDS - journaled
    assert _journal_count(tmp_path) == _journal_count_after_first  # the second run changed nothing: nothing journaled
    assert "décisions déjà enregistrées, rien à refaire" in second.stdout

    var = tmp_path / "var"  # the demo's process set its umask at start: nothing under var/ is readable by others
    not_private = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in [var, *var.rglob("*")]
                   if stat.S_IMODE(p.stat().st_mode) != (0o700 if p.is_dir() else 0o600)}
    assert not_private == {}
    courriels = json.loads(_aap(tmp_path, "courriels", "--json").stdout)
    assert courriels and all(c["statut"] == "envoyé" and c["tentatives"] == 1 for c in courriels)
    assert len(courriels) == len(sent)

    listing = json.loads(_aap(tmp_path, "dossiers", "--appel", "2018", "--json").stdout)
    rows, queue = listing["dossiers"], listing["en_attente"]
    by_name = {r["porteur"]: r for r in rows}
    assert by_name["Emploi & Insertion <Côte-d'Or>"]["statut"] == "retenu"
    assert by_name["ACODEGE Insertion"]["hors_delai"] is True
    assert any("CV de Yann Moreau manquant" in m for m in by_name["Régie de quartier Fontaine d'Ouche"]["pieces_manquantes"])
    assert len(by_name["IDEES 21"]["attestations"]) == 2  # the complément has its own
    assert [e["statut"] for e in queue] == ["non identifié", "non identifié"]
    assert sum(r["numero"] is not None for r in rows) >= 8
    # the stranger posing as Tremplin: held, Tremplin's dossier unchanged and its contact told, then rejected
    assert ("au nom de Association Tremplin Emploi envoyé par direction.tremplin@example.org : à vérifier "
            "(expéditeur inconnu pour cette structure)") in first.stdout
    assert "rejeté par l'assistante : la structure confirme ne pas avoir envoyé ce dépôt" in first.stdout
    assert "aucun dépôt à vérifier (déjà traité)" in second.stdout
    assert [d["version"] for d in by_name["Association Tremplin Emploi"]["depots"]] == [1, 2]  # mail, then post
    assert not any(a.addr_spec == "direction.tremplin@example.org" for m in sent for a in m["To"].addresses)
    assert any("vérification" in str(m["Subject"]) and m["To"].addresses[0].addr_spec == "direction@tremplin.example.org"
               for m in sent)
    decisions = {r["decision"] for r in rows if r["numero"]}
    assert {"retenu", "non retenu"} <= decisions
    assert by_name["Mission Locale du bassin dijonnais"]["decision"] == "retenu"  # ajourné, answered, retained
    assert "ajourné : 3" in first.stdout and "retenu : 3" in first.stdout
    # the year: requests, a porteur reminded twice, a bilan with errors then corrected, renewals, the refusal
    assert "relance n° 1 du bilan mi-parcours 2018" in first.stdout and "relance n° 2 du bilan mi-parcours 2018" in first.stdout
    assert "— avec des erreurs" in first.stdout
    assert "Troisième renouvellement de CONV-2018-001 : refusé : la convention CONV-2018-001 a déjà été renouvelée 2 fois" in second.stdout
    assert (tmp_path / "var/demo/suivi_2018.xlsx").is_file() and (tmp_path / "var/demo/suivi_2018.docx").is_file()
    conventions = json.loads(_aap(tmp_path, "conventions", "--appel", "2018", "--json", "--maintenant", "2020-06-01").stdout)
    assert [(c["statut"], c["prochaine_action"]) for c in conventions][0] == ("prolongée par avenant", "nouvel appel requis")
    en_2026 = json.loads(_aap(tmp_path, "conventions", "--appel", "2018", "--json", "--maintenant", "2026-12-01").stdout)
    assert not any(c["statut"] == "en cours" for c in en_2026)  # the clock is a parameter: nothing from 2018 runs on
    assert [c["renouvellements"] for c in conventions] == [2, 0, 0, 0]
    depots = sum(len(r.get("depots", [])) for r in rows) + len(queue)
    assert depots >= 12

    # five years on: the payments recorded, one convention held, a simulation, then the purge of exactly that
    for numero in ("CONV-2018-001", "CONV-2018-002", "CONV-2018-003", "CONV-2018-004"):
        paid = _aap(tmp_path, "conservation", "paiement", numero, "--le", "2020-04-30")
        assert paid.returncode == 0, paid.stdout + paid.stderr
    held = _aap(tmp_path, "conservation", "bloquer", "CONV-2018-003", "--motif", "contrôle FSE en cours")
    assert held.returncode == 0, held.stdout + held.stderr
    files_before = {p for p in (tmp_path / "var/storage").rglob("*") if p.is_file()}
    simulation = _aap(tmp_path, "purge", "--simulation", "--maintenant", "2026-01-15T10:00")
    assert simulation.returncode == 0 and "CONV-2018-003" in simulation.stdout, simulation.stdout + simulation.stderr
    assert files_before == {p for p in (tmp_path / "var/storage").rglob("*") if p.is_file()}  # a simulation touches nothing
    purged = _aap(tmp_path, "purge", "--maintenant", "2026-01-15T10:00")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    gone = files_before - {p for p in (tmp_path / "var/storage").rglob("*") if p.is_file()}
    assert gone, purged.stdout
    marked = {row[0] for row in _journal_query(tmp_path, "SELECT chemin FROM fichier_purge")}
    assert {str(p.relative_to(tmp_path / "var/storage")) for p in gone} <= marked
    held_convention = _journal_query(tmp_path, "SELECT id FROM convention WHERE numero = 'CONV-2018-003'")
    assert held_convention and not _journal_query(
        tmp_path, "SELECT 1 FROM journal WHERE genre = 'purge' AND convention = 'CONV-2018-003'")
    again = _aap(tmp_path, "purge", "--maintenant", "2026-01-15T10:00")
    assert again.returncode == 0 and {p for p in (tmp_path / "var/storage").rglob("*") if p.is_file()} == files_before - gone
    assert RETENTION_KINDS <= _journal_kinds(tmp_path), RETENTION_KINDS - _journal_kinds(tmp_path)
    verified = _aap(tmp_path, "journal", "verifier")
    assert verified.returncode == 0 and "Journal intact" in verified.stdout, verified.stdout + verified.stderr

    attestation_mails = [m for m in sent if "Attestation de dépôt" in str(m["Subject"])]
    sent_rows = [c for r in rows for c in r.get("courriels", []) if c["statut"] == "sent"]
    assert len(attestation_mails) == len(sent_rows) > 0
