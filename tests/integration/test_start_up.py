"""What a command loads before it works: « --help » and a mistake on the command line load neither the ORM nor
Prefect nor the mail client; a database already at the latest migration does not load Alembic."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "prefect", "alembic", "fastapi_mail", "docxtpl")
PROBE = (
    "import sys\nfrom flows import cli\nsys.argv=['aap', *{args!r}]\n"
    "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
    "print('CHARGÉS', *sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})), file=sys.stderr)\n"
)


def _loaded(args: list[str], env: dict[str, str], heavy: tuple[str, ...] = HEAVY
            ) -> tuple[set[str], subprocess.CompletedProcess]:
    proc = subprocess.run([sys.executable, "-c", PROBE.format(args=args, heavy=heavy)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    [line] = [line for line in proc.stderr.splitlines() if line.startswith("CHARGÉS")]
    return set(line.split()[1:]), proc


@pytest.mark.parametrize("args", [["--help"], ["depots", "relever", "--help"], ["dossiers", "--appel", "deux-mille"],
                                  ["nimporte"]])
def test_help_and_a_refused_argument_load_no_orm_prefect_or_mail_client(args, tmp_path):
    env = {**os.environ, "AAP_DATABASE_URL": f"sqlite:///{tmp_path / 'aap.sqlite'}"}
    env.pop("PREFECT_API_URL", None)

    loaded, proc = _loaded(args, env)

    assert loaded == set(), proc.stderr
    assert not (tmp_path / "aap.sqlite").exists()  # nor the database


def test_a_listing_on_a_database_at_the_latest_migration_loads_neither_alembic_nor_the_mail_client(tmp_path):
    env = {**os.environ, "AAP_DATABASE_URL": f"sqlite:///{tmp_path / 'aap.sqlite'}", "AAP_STORAGE_DIR": str(tmp_path)}
    env.pop("PREFECT_API_URL", None)
    first, proc = _loaded(["passages"], env)  # a new database: migrated by Alembic
    assert "alembic" in first and proc.returncode == 0, proc.stderr

    then, proc = _loaded(["passages"], env)

    assert "sqlalchemy" in then and not {"alembic", "prefect", "fastapi_mail"} & then, proc.stderr


def test_listing_dossiers_and_conventions_loads_none_of_the_intake_s_readers_and_renderers(tmp_path):
    """The lists a command prints need the database, not openpyxl, pypdf or the .docx renderer (a second of start-up
    they once paid through ``actions.depots``)."""
    env = {**os.environ, "AAP_DATABASE_URL": f"sqlite:///{tmp_path / 'aap.sqlite'}", "AAP_STORAGE_DIR": str(tmp_path),
           "AAP_PDF": "off"}
    env.pop("PREFECT_API_URL", None)
    published = subprocess.run([sys.executable, "-m", "flows.cli", "appel", "publier", "config/appels/2018.toml",
                                "--maintenant", "2017-11-21T09:00"], capture_output=True, text=True, env=env, cwd=ROOT,
                               timeout=120)
    assert published.returncode == 0, published.stdout + published.stderr
    readers = ("openpyxl", "pypdf", "docx", "docxtpl", "prefect")

    for args in (["dossiers", "--appel", "2018"], ["conventions", "--appel", "2018"]):
        loaded, proc = _loaded(args, env, readers)

        assert "dossier" in proc.stdout.lower() or "convention" in proc.stdout.lower(), proc.stdout + proc.stderr
        assert loaded == set(), (args, loaded)


def test_a_releve_reads_its_messages_in_workers_and_loads_no_reader_itself(tmp_path, sink):
    """The process that records dépôts receives what its workers read: it loads neither openpyxl nor pypdf (35 Mo
    of every relève's memory, and half a second of its start-up), though each message holds a form and a CV."""
    from tests.conftest import RELEVE
    from tests.samples import deliver_complete, porteur

    env = {**os.environ, "AAP_DATABASE_URL": f"sqlite:///{tmp_path / 'aap.sqlite'}", "AAP_STORAGE_DIR": str(tmp_path),
           "AAP_PDF": "off", "AAP_SMTP_HOST": "127.0.0.1", "AAP_SMTP_PORT": str(sink.port)}
    env.pop("PREFECT_API_URL", None)
    published = subprocess.run([sys.executable, "-m", "flows.cli", "appel", "publier", "config/appels/2018.toml",
                                "--maintenant", "2017-11-21T09:00"], capture_output=True, text=True, env=env, cwd=ROOT,
                               timeout=120)
    assert published.returncode == 0, published.stdout + published.stderr
    forms = tmp_path / "formulaires"
    forms.mkdir()
    for n in (1, 2):
        deliver_complete(tmp_path / "boite", forms, porteur(n), RELEVE, n)

    loaded, proc = _loaded(["depots", "relever", str(tmp_path / "boite"), "--appel", "2018", "--maintenant",
                            "2017-12-08T09:00"], env, ("openpyxl", "pypdf", "prefect"))

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "nouveaux dépôts : 2" in proc.stdout, proc.stdout
    assert loaded == set(), loaded
    sent = sorted((m["To"], m["Subject"]) for m in sink.messages())
    assert [to for to, _ in sent] == [porteur(1).email, porteur(2).email], sent
    assert all(subject.startswith("Attestation de dépôt") for _, subject in sent), sent
