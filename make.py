#!/usr/bin/env python3
"""Set-up and entry points on a fresh machine with only Python ≥ 3.11 and pip.

    python3 make.py demo     # l'année de démonstration (SQLite, serveur SMTP local)
    python3 make.py test     # la suite de tests (SQLite, et PostgreSQL s'il écoute sur 127.0.0.1:5432)
    python3 make.py aap ...  # n'importe quelle commande aap, dans l'environnement du projet

The first call creates .venv and installs the project in it; later calls reinstall only when
pyproject.toml has changed.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".aap-installed"


def ensure_env() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 ou plus récent est requis (ici : {sys.version.split()[0]}).")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted and (BIN / "aap").exists():
        return
    if not (BIN / "python").exists():
        print("Création de l'environnement .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installation des dépendances (première fois : une à deux minutes) …", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"demo", "test", "aap"}:
        print(__doc__)
        return 2
    ensure_env()
    os.chdir(ROOT)
    command, rest = argv[0], argv[1:]
    if command == "demo":
        args = [str(BIN / "aap"), "demo", *rest]
    elif command == "test":
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    else:
        args = [str(BIN / "aap"), *rest]
    return subprocess.call(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
