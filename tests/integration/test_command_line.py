"""Mistakes at the command line, as the SA makes them: real ``aap`` processes against a real database.

Each mistake prints one French line on stderr, exits non-zero, does nothing (no row, no file), and
shows neither a traceback nor a file name the SA did not type. These commands refuse before
Prefect starts; the ones refused inside a Prefect run are in tests/flows/test_command_line_runs.py.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from actions.publication import publish_appel
from adapters.database import session_factory
from adapters.storage import Storage
from config.appel_config import load_appel_config
from models.base import Base
from tests.conftest import PUBLICATION

ROOT = Path(__file__).resolve().parents[2]
ENGLISH = re.compile(r"\b(Usage|Error|Invalid|Missing|No such|Try|Got unexpected|requires|does not exist|Traceback)\b")

MISTAKES = [
    # (what the SA typed, a fragment of the French line)
    (["dossiers"], "option « --appel » manquante"),
    (["dossiers", "--appel", "deux-mille-dix-huit"], "« deux-mille-dix-huit » n'est pas une année"),
    (["dossiers", "--appel", "2031"], "l'appel 2031 n'est pas publié"),
    (["conventions", "--appel", "2031"], "l'appel 2031 n'est pas publié"),
    (["dossiers", "--appel"], "l'option « --appel » attend une valeur"),
    (["dossiers", "--appel", "2018", "en-trop"], "en trop sur la ligne : « en-trop »"),
    (["dossiers", "--apel", "2018"], "option inconnue : « --apel »"),
    (["dossierz"], "commande inconnue : « dossierz »"),
    (["comite", "preparez"], "commande inconnue : « preparez »"),
    (["appel", "publier", "2031"], "pas de configuration pour l'appel 2031"),
    (["appel", "publier", "absent.toml"], "configuration de l'appel introuvable : absent.toml"),
    (["appel", "publier", "mal-ecrit.toml"], "configuration de l'appel mal écrite : mal-ecrit.toml"),
    (["appel", "publier", "2018", "--maintenant", "demain"], "« demain » n'est pas une date"),
    (["depots", "relever", "boite-absente", "--appel", "2018"], "dossier introuvable : « boite-absente »"),
    (["depots", "relever", "scan.pdf", "--appel", "2018"], "« scan.pdf » n'est pas un dossier"),
    (["depot", "postal", "--appel", "2018", "--siret", "1", "--recu-le", "2017-12-06"], "argument « FICHIER » manquant"),
    (["depot", "postal", "scan.pdf", "absent.pdf", "--appel", "2018", "--siret", "1", "--recu-le", "2017-12-06"],
     "fichier introuvable : « absent.pdf »"),
    (["depot", "postal", "scan.pdf", "--appel", "2018", "--siret", "1", "--recu-le", "06/12/2017"],
     "option « --recu-le » : « 06/12/2017 » n'est pas une date"),
    (["depot", "rattacher", "douze", "--appel", "2018", "--siret", "1"], "« douze » n'est pas un numéro"),
    (["dossier", "admettre", "2018-999", "--appel", "2018", "--motif", "retard de La Poste"],
     "dossier 2018-999 inconnu pour l'appel 2018"),
    (["comite", "preparer", "--appel", "2018", "--date-comite", "2017-02-30"], "« 2017-02-30 » n'est pas une date du calendrier"),
    (["comite", "decisions", "synthese-absente.xlsx", "--appel", "2018"], "fichier introuvable : « synthese-absente.xlsx »"),
    (["convention", "2018-C-999"], "aucune convention n° 2018-C-999"),
    (["convention", "signer", "2018-C-999", "--le", "le 28 décembre"], "« le 28 décembre » n'est pas une date"),
    (["convention", "signer", "2018-C-999"], "indiquez le numéro signé et la date"),
    (["avenant", "prolonger", "2018-C-001", "--valide-le", "2018-11-31"], "« 2018-11-31 » n'est pas une date du calendrier"),
    (["avenant", "modifier", "2018-C-001", "--valide-le", "2018-03-01", "--etp", "Sophie Durand"],
     "« Sophie Durand » : attendu CLÉ=VALEUR"),
    (["fiches-presence", "2018-C-999", "--mois", "2018-13"], "« 2018-13 » n'est pas un mois"),
    (["fiches-presence", "2018-C-999", "--mois", "2018-03"], "aucune convention n° 2018-C-999"),
    (["export", "dossier-absent/export.xlsx", "--appel", "2018"], "le dossier de « dossier-absent/export.xlsx » n'existe pas"),
    (["export", ".", "--appel", "2018"], "« . » est un dossier"),
    (["export", "export.xlsx", "--appel", "2031"], "l'appel 2031 n'est pas publié"),
    (["suivi", "rapport", "rapport.xlsx", "--appel", "2031"], "l'appel 2031 n'est pas publié"),
    (["dossier-fse", "2018-C-999", "dossier-fse.pdf"], "aucune convention n° 2018-C-999"),
    (["courriels", "--statut", "bidon"], "statut inconnu : « bidon »"),
    (["conservation", "bloquer", "2018-999", "--motif", "contrôle FSE"], "aucun dossier ni convention n° « 2018-999 »"),
    (["conservation", "debloquer", "CONV-2018-999"], "aucun dossier ni convention n° « CONV-2018-999 »"),
    (["conservation", "paiement", "CONV-2018-999", "--le", "2019-02-30"], "n'est pas une date du calendrier"),
    (["conservation", "paiement", "CONV-2018-999", "--le", "2019-03-15"], "aucune convention n° « CONV-2018-999 »"),
    (["modeles", "verifier", "absent.docx"], "fichier introuvable : « absent.docx »"),
    (["demo", "--sortie", "scan.pdf/demo"], "impossible de créer « scan.pdf/demo » : « scan.pdf » est un fichier"),
]


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bureau(tmp_path_factory.mktemp("bureau"))


def make_bureau(root: Path) -> Path:
    """The SA's working folder: the 2018 call published in a SQLite database, a scan, a broken config."""
    publish_appel(session_factory(_env(root)["AAP_DATABASE_URL"]), Storage(root / "storage"), load_appel_config(2018),
                  maintenant=PUBLICATION)
    (root / "scan.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (root / "mal-ecrit.toml").write_text("[appel\nannee = 2019\n", encoding="utf-8")
    return root


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AAP_") and k != "PREFECT_API_URL"}
    return {**env, "AAP_DATABASE_URL": f"sqlite:///{root}/aap.sqlite", "AAP_STORAGE_DIR": str(root / "storage"),
            "AAP_PDF": "off", "AAP_SMTP_HOST": "127.0.0.1", "AAP_SMTP_PORT": "9", "PREFECT_HOME": str(root / "prefect"),
            "PYTHONPATH": str(ROOT), "COLUMNS": "100"}


def aap(root: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=root, env={**_env(root), **env},
                          capture_output=True, text=True, timeout=300)


def _state(root: Path) -> tuple[dict[str, int], list[str]]:
    """Every table's row count and every file: what a mistake must leave as it found it."""
    factory = session_factory(_env(root)["AAP_DATABASE_URL"])
    with factory() as s:
        counts = {t.name: s.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*")
                   if not p.relative_to(root).parts[0].startswith("prefect") and p.name != "aap.sqlite")
    return counts, files


def test_every_mistake_is_one_french_line_and_changes_nothing(bureau, commandes):
    """Each mistake in a process of its own, forked from one that imported the command line once
    (tests/cli_forks.py): the forty commands cost their work, not forty start-ups."""
    before = _state(bureau)
    results = [commandes.run(args, cwd=bureau, env=_env(bureau)) for args, _ in MISTAKES]

    for (args, fragment), proc in zip(MISTAKES, results):
        said = f"aap {' '.join(args)} → rc={proc.returncode}, stdout={proc.stdout!r}, stderr={proc.stderr!r}"
        lines = proc.stderr.splitlines()
        assert proc.returncode != 0, said
        assert len(lines) == 1 and lines[0].startswith("Erreur : "), said
        assert fragment in lines[0], said
        assert not ENGLISH.search(proc.stderr), said
        assert "/tmp" not in proc.stderr and str(bureau) not in proc.stderr and ".tmp" not in proc.stderr, said
        assert proc.stdout == "", said
    assert _state(bureau) == before


def test_a_bad_setting_is_named_with_what_it_accepts(bureau):
    proc = aap(bureau, "dossiers", "--appel", "2018", AAP_PDF="on", AAP_SMTP_PORT="vingt-cinq")

    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == ("Erreur : réglage AAP_SMTP_PORT invalide : « vingt-cinq » (un nombre entier attendu) ; "
                           "réglage AAP_PDF invalide : « on » (valeurs possibles : auto ou off)\n")


def test_help_is_in_french_in_every_section():
    from typer.testing import CliRunner

    from flows.cli import app

    def aide(*args: str) -> str:
        result = CliRunner().invoke(app, list(args), prog_name="aap")
        assert result.exit_code == 0, result.output
        return result.output

    for args in (["--help"], ["depot", "postal", "--help"], ["comite", "--help"], ["convention", "--help"], []):
        out = aide(*args)

        assert out.startswith("Utilisation\u00a0: aap"), out
        assert "Options\u00a0:" in out and "Afficher ce message et quitter." in out, out
        assert not ENGLISH.search(out) and "Show this message" not in out and not re.search(r"\bCOMMAND\b", out), out
    postal = aide("depot", "postal", "--help")
    assert "Arguments\u00a0:" in postal and "[obligatoire]" in postal and "<list[Path]>" not in postal
    assert "Commandes\u00a0:" in aide("comite", "--help")
