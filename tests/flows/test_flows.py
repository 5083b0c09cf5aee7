"""The Prefect flows, under one session-wide test harness, on both databases."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config.settings import Settings
from flows.depots import depot_postal, releve_depots
from flows.publication import publication
from flows.runtime import configure
from models import Appel, Courriel, CourrielStatut, Depot
from tests.samples import deliver_complete, paris, porteur

ROOT = Path(__file__).resolve().parents[2]


pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.xdist_group("prefect")]


@pytest.fixture
def rt(db_url, tmp_path, sink):
    return configure(Settings(database_url=db_url, storage_dir=tmp_path / "storage", smtp_port=sink.port, pdf="off"))


def test_publication_is_idempotent_and_writes_the_form(rt):
    first = publication(str(ROOT / "config/appels/2018.toml"), "2017-11-21T09:00")
    second = publication(str(ROOT / "config/appels/2018.toml"), "2017-11-21T09:00")

    assert (first["cree"], second["cree"]) == (True, False)
    assert Path(first["formulaire"]).is_file()
    assert oct(Path(first["formulaire"]).stat().st_mode & 0o777) == "0o600"
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(Appel)) == 1


@pytest.mark.database_matters("a re-run or a repeat is refused by unique keys")
def test_intake_flow_registers_attests_and_mails_then_reruns_without_duplicates(rt, sink, tmp_path):
    publication(str(ROOT / "config/appels/2018.toml"), "2017-11-21T09:00")
    maildir = tmp_path / "boite"
    for n in range(3):
        deliver_complete(maildir, tmp_path / "forms", porteur(30 + n), paris(6, 9 + n))

    first = releve_depots(str(maildir), 2018, "2017-12-08T09:00")
    second = releve_depots(str(maildir), 2018, "2017-12-08T10:00")

    assert first["depots"]["depots"] == 3 and first["courriels"]["envoyes"] == 3
    assert second["depots"]["deja_vus"] == 3 and second["courriels"]["envoyes"] == 0
    assert len(sink.messages()) == 3
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(Depot)) == 3
        assert set(s.scalars(select(Courriel.statut))) == {CourrielStatut.SENT}


def test_postal_flow_registers_the_envelope_and_mails_its_attestation(rt, sink, tmp_path):
    publication(str(ROOT / "config/appels/2018.toml"), "2017-11-21T09:00")
    p = porteur(40)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
                     b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 10 10]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")

    result = depot_postal(2018, p.siret, "2017-12-06T09:00", [str(scan)], p.nom, "2017-12-06T10:00")

    assert result["depot"]["resultat"] == "depot"
    with rt.factory() as s:
        depot = s.scalar(select(Depot))
        assert depot.canal.value == "courrier" and depot.attestation.numero == "AAP-2018-0001"
    # no contact address is known for a structure seen only by post: nothing to send, nothing lost
    assert result["courriels"]["envoyes"] == 0


def test_dossiers_json_lists_the_fields_without_starting_prefect(rt, tmp_path):
    publication(str(ROOT / "config/appels/2018.toml"), "2017-11-21T09:00")
    maildir = tmp_path / "boite"
    deliver_complete(maildir, tmp_path / "forms", porteur(50), paris(7, 17, 1))
    releve_depots(str(maildir), 2018, "2017-12-08T09:00")
    code = (
        "import sys\nfrom flows import cli\nsys.argv=['aap','dossiers','--appel','2018','--json']\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print('prefect importé' if 'prefect' in sys.modules else 'sans prefect', file=sys.stderr)\n"
    )
    env = {**os.environ, "AAP_DATABASE_URL": rt.settings.database_url, "AAP_STORAGE_DIR": str(rt.storage.root)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)

    assert proc.stderr.strip().endswith("sans prefect"), proc.stderr
    [row] = json.loads(proc.stdout)["dossiers"]
    for key in ("numero", "siret", "porteur", "statut", "canaux", "recu_le", "hors_delai", "pieces_manquantes", "motifs", "attestations"):
        assert key in row
    assert row["recu_le"] == "2017-12-07T16:01:00+00:00" and row["hors_delai"] is True
    assert Path(row["attestations"][0]).is_file()


def test_the_scheduled_intake_creates_a_missing_maildir_for_its_owner_only_and_leaves_an_existing_one(rt, tmp_path):
    from flows.deployments import releve_planifiee

    publication(str(ROOT / "config/appels/2018.toml"), "2017-11-21T09:00")
    boite = tmp_path / "var" / "boite-depots"
    existing = tmp_path / "autre-boite"
    existing.mkdir(mode=0o755)
    existing.chmod(0o755)

    first = releve_planifiee(str(boite), None, "2017-12-08T09:00")
    second = releve_planifiee(str(existing), 2018, "2017-12-08T09:15")

    assert (first["statut"], first["appel"], first["depots"]["lus"]) == ("relevé", 2018, 0)
    assert {p: oct((boite / p).stat().st_mode & 0o777) for p in ("", "cur", "new", "tmp")} == dict.fromkeys(
        ("", "cur", "new", "tmp"), "0o700")
    assert second["statut"] == "relevé" and oct(existing.stat().st_mode & 0o777) == "0o755"
    assert not (existing / "new").exists()


@pytest.fixture
def chained(monkeypatch):
    """The relève chains its steps from 3 messages on (500 in the bench), recording documents 2 at a time."""
    import actions.documents
    import flows.depots

    monkeypatch.setattr(flows.depots, "EN_CHAINE", 3)
    monkeypatch.setattr(actions.documents, "EN_AVANCE", 2)


@pytest.mark.database_matters("threads record, render and claim mails at once")
def test_a_chained_intake_attests_and_mails_each_depot_once_while_it_records_them(rt, sink, tmp_path, chained):
    from models import Document, Passage

    publication(str(ROOT / "config/appels/2018.toml"), "2017-11-21T09:00")
    maildir = tmp_path / "boite"
    for n in range(5):
        deliver_complete(maildir, tmp_path / "forms", porteur(60 + n), paris(6, 9 + n))

    first = releve_depots(str(maildir), 2018, "2017-12-08T09:00")
    second = releve_depots(str(maildir), 2018, "2017-12-08T10:00")

    assert first["depots"]["depots"] == 5 and first["attestations"]["rendues"] == 5
    assert first["courriels"] == {"envoyes": 5, "en_attente": 0, "echecs": 0, "causes_attente": [], "causes_echecs": []}
    assert second["depots"]["deja_vus"] == 5 and second["attestations"]["rendues"] == 0
    assert second["courriels"]["envoyes"] == 0
    assert sorted(m["Subject"].split("n° ")[1][:13] for m in sink.messages()) == [f"AAP-2018-000{i}" for i in range(1, 6)]
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(Document)) == 5
        assert set(s.scalars(select(Courriel.statut))) == {CourrielStatut.SENT}
        journal = s.scalars(select(Passage.journal).where(Passage.etape == "releve").order_by(Passage.id)).first()
    assert journal.count("attestation de dépôt") == 5 and journal.count("rédigée pour le dossier") == 5


def test_a_chained_intake_meets_a_server_down_once_and_the_next_run_sends_what_waits(rt, sink, tmp_path, chained):
    publication(str(ROOT / "config/appels/2018.toml"), "2017-11-21T09:00")
    maildir = tmp_path / "boite"
    for n in range(4):
        deliver_complete(maildir, tmp_path / "forms", porteur(70 + n), paris(6, 9 + n))
    sink.refuse = True

    first = releve_depots(str(maildir), 2018, "2017-12-08T09:00")
    sink.refuse = False
    second = releve_depots(str(maildir), 2018, "2017-12-08T10:00")

    assert first["courriels"]["envoyes"] == 0 and first["courriels"]["en_attente"] == 4
    assert second["courriels"]["envoyes"] == 4
    with rt.factory() as s:
        assert set(s.scalars(select(Courriel.tentatives))) == {2}  # once in each run, never twice in one
    assert len(sink.messages()) == 4
