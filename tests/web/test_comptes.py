"""Accounts at the command line, as the SA's administrator types them: real ``aap`` processes, a real database."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from actions.utilisateurs import ConnexionRefusee, sign_in
from adapters.database import session_factory
from models.utilisateur import Utilisateur

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2017, 12, 8, 9, tzinfo=timezone.utc)


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AAP_") and k != "PREFECT_API_URL"}
    env.update(AAP_DATABASE_URL=f"sqlite:///{root}/aap.sqlite", AAP_STORAGE_DIR=str(root / "storage"),
               PREFECT_HOME=str(root / "prefect"), PYTHONPATH=str(ROOT))
    return env


def aap(root: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=root, env=_env(root), input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_an_account_is_added_with_its_password_from_stdin_then_deactivated(tmp_path):
    added = aap(tmp_path, "utilisateur", "ajouter", "Marie.Durand", "--role", "lecture", stdin="un long mot de passe\n")

    assert added.returncode == 0, added.stderr
    assert added.stdout == "Compte « marie.durand » créé (rôle : lecture).\n"
    assert "un long mot de passe" not in added.stdout + added.stderr
    factory = session_factory(f"sqlite:///{tmp_path}/aap.sqlite")
    with factory() as s:
        user = s.scalar(select(Utilisateur))
        assert user.mot_de_passe.startswith("$argon2id$") and "un long" not in user.mot_de_passe
        assert "$m=65536,t=3,p=4$" in user.mot_de_passe  # argon2's recommended cost (RFC 9106), not the tests' own
    sign_in(factory, "marie.durand", "un long mot de passe", maintenant=NOW)

    again = aap(tmp_path, "utilisateur", "ajouter", "marie.durand", "--role", "lecture", stdin="un autre mot de passe\n")
    assert again.returncode == 1 and again.stderr == "Erreur : le compte « marie.durand » existe déjà\n"
    off = aap(tmp_path, "utilisateur", "desactiver", "marie.durand")
    assert off.returncode == 0 and "désactivé" in off.stdout
    with pytest.raises(ConnexionRefusee):
        sign_in(factory, "marie.durand", "un long mot de passe", maintenant=NOW)


@pytest.mark.parametrize("args, stdin, said", [
    (["utilisateur", "ajouter", "sa", "--role", "admin"], "un long mot de passe\n", "rôle inconnu : « admin »"),
    (["utilisateur", "ajouter", "sa", "--role", "gestion"], "court\n", "mot de passe trop court : 10 caractères au moins"),
    (["utilisateur", "ajouter", "é t é", "--role", "gestion"], "un long mot de passe\n", "identifiant « é t é » invalide"),
    (["utilisateur", "desactiver", "personne"], "", "aucun compte « personne »"),
])
def test_an_account_command_refused_is_one_french_line(tmp_path, args, stdin, said, commandes):
    proc = commandes.run(args, cwd=tmp_path, env=_env(tmp_path), input=stdin)  # a process forked (tests/cli_forks.py)

    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr.startswith("Erreur : ") and said in proc.stderr and len(proc.stderr.splitlines()) == 1
