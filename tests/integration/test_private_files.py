"""The database, its WAL files and everything under var/ are their owner's only from their creation: the process
sets its umask at start (flows/runtime.py), nobody chmods afterwards. Checked in a fresh process started with the
usual umask 022, set up as the ``aap`` command sets itself up, while its database connection is still open."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, os, stat, sys
from datetime import datetime, timezone
from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app  # what « aap » imports first

result = CliRunner().invoke(app, ["dossiers", "--appel", "2018"])  # a first command: creates var/ and the database
from actions.attestations import render_pending
from actions.depots import register_postal
from actions.publication import publish_appel
from config.appel_config import load_appel_config
from flows.runtime import runtime
from tests.samples import cv_pdf, porteur

rt = runtime()
publish_appel(rt.factory, rt.storage, load_appel_config(2018), maintenant=datetime(2017, 11, 21, 8, tzinfo=timezone.utc))
scan = Path(sys.argv[1]) / "scan.pdf"
scan.write_bytes(cv_pdf("Courrier"))
register_postal(rt.factory, rt.storage, 2018, siret=porteur(1).siret, recu_le=datetime(2017, 12, 6, 9, tzinfo=timezone.utc),
                files=[scan], nom="Structure", maintenant=datetime(2017, 12, 6, 10, tzinfo=timezone.utc))
render_pending(rt.factory, rt.storage, 2018, pdf=False, workers=2)
with rt.factory() as s:  # the connection stays open: the -wal and -shm files exist now
    s.connection()
    var = Path(sys.argv[1]) / "var"
    modes = {str(p.relative_to(var.parent)): [stat.S_IMODE(p.stat().st_mode), p.is_dir()] for p in [var, *var.rglob("*")]}
    print(json.dumps({"exit": result.exit_code, "modes": modes}))
"""


def test_the_database_its_wal_files_and_everything_under_var_are_owner_only_from_creation(tmp_path):
    env = {**os.environ, "AAP_DATABASE_URL": f"sqlite:///{tmp_path}/var/aap.sqlite",
           "AAP_STORAGE_DIR": str(tmp_path / "var" / "storage"), "AAP_PDF": "off",
           "PREFECT_HOME": str(tmp_path / "prefect")}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300, preexec_fn=lambda: os.umask(0o022))

    assert proc.returncode == 0, proc.stderr[-4000:]
    modes = json.loads(proc.stdout.strip().splitlines()[-1])["modes"]
    assert {"var", "var/aap.sqlite", "var/aap.sqlite-wal", "var/aap.sqlite-shm", "var/storage"} <= set(modes)
    assert any(name.startswith("var/storage/attestations") and name.endswith(".docx") for name in modes), modes
    assert any(name.startswith("var/storage/appels") and name.endswith(".xlsx") for name in modes), modes
    not_private = {name: oct(mode) for name, (mode, is_dir) in modes.items() if mode != (0o700 if is_dir else 0o600)}
    assert not_private == {}
