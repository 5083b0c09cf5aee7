"""Retention and purge of personal data on a real database (SQLite and PostgreSQL) and real files: a 2018 call
played through the real intake, instruction, comité and conventions, then a purge five years later removes
exactly what the simulation listed, never what is held, says so on download, and a second run removes nothing."""
from __future__ import annotations

import json
import os
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from actions.anonymisation import EFFACE
from actions.consultation import FichierSupprime, convention_detail, dossier_detail, stored_file
from actions.conventions import convention_history
from actions.listing import list_dossiers
from actions.conservation import hold, record_payment, release
from actions.convention_documents import render_pending_conventions
from actions.depots import SaisieRefusee
from actions.purge import finish_deletions, mark, purge, simulate
from models.conservation import FichierPurge
from models.convention import Convention
from models.courriel import Courriel
from models.dossier import Attestation, Depot, Dossier, NaturePiece, Piece
from models.journal import Entree, Journal, verify_chain
from models.porteur import Porteur, PorteurAdresse
from tests.integration.test_conventions import BINOME, NON_RETENU, UN_ETP, bureau_in

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.shared_per_database("db_url")
UTC = timezone.utc
CINQ_ANS_APRES = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
AVANT = datetime(2019, 6, 1, 9, 0, tzinfo=UTC)  # the non-retained dossier's two years not over


def build_annee(w) -> dict[str, str]:
    """Two retained dossiers with signed conventions (paid last on 15 March 2019) and one not retained."""
    bureau = bureau_in(w)
    numeros = bureau.retain(UN_ETP, BINOME, non_retenus=[NON_RETENU])
    bureau.establish()
    for c in ("CONV-2018-001", "CONV-2018-002"):
        bureau.sign(c)
        record_payment(w.factory, c, le=date(2019, 3, 15))
    render_pending_conventions(w.factory, w.storage, pdf=False)
    return numeros


@pytest.fixture
def annee(world, snapshots) -> dict[str, str]:
    return snapshots.restore("annee", build_annee, world)


def _on_disk(world, chemins) -> set[str]:
    return {c for c in chemins if world.storage.path(c).is_file()}


def _files_of(world, numero: str) -> set[str]:
    with world.factory() as s:
        return set(s.scalars(select(FichierPurge.chemin).where(FichierPurge.numero == numero)))


@pytest.mark.database_matters("deletes under foreign keys and the journal's triggers")
def test_a_purge_five_years_later_removes_exactly_what_the_simulation_listed_and_nothing_held(world, annee):
    hold(world.factory, "CONV-2018-002", motif="contrôle FSE en cours", par="assistante", maintenant=CINQ_ANS_APRES)
    with world.factory() as s:
        held_paths = {p.chemin for p in s.scalars(select(Piece).join(Depot).join(Dossier).where(Dossier.numero == "2018-002"))}
    sim = simulate(world.factory, world.storage, maintenant=CINQ_ANS_APRES)
    lines = "\n".join(sim.purgeables)
    assert "Dossier 2018-003" in lines and "non retenu au comité du 11 décembre 2017" in lines
    assert "Convention CONV-2018-001 et dossier 2018-001" in lines
    assert "CONV-2018-002" not in lines
    assert any("bloqué (CONV-2018-002) : contrôle FSE en cours" in c for c in sim.conserves)
    listed = set(sim.fichiers)
    assert listed and all(world.storage.path(c).is_file() for _, _, c in listed)

    done = purge(world.factory, world.storage, maintenant=CINQ_ANS_APRES, par="assistante")

    assert set(done.marques) == listed
    assert sorted(done.contacts) == sorted(sim.contacts) and BINOME.siret not in done.contacts
    gone = {c for _, _, c in listed}
    assert not _on_disk(world, gone - held_paths)
    assert _on_disk(world, held_paths) == held_paths
    with world.factory() as s:
        rows = list(s.scalars(select(FichierPurge)))
        assert {(r.nature, r.objet_id, r.chemin) for r in rows} == listed
        assert all(r.efface_le == CINQ_ANS_APRES and r.sha256 and r.taille is not None for r in rows)
        pieces = {p.id: p for p in s.scalars(select(Piece))}
        for r in rows:
            if r.nature == "piece":  # the row keeps its name, size and SHA-256
                assert (pieces[r.objet_id].nom, pieces[r.objet_id].taille, pieces[r.objet_id].sha256) == (r.nom, r.taille, r.sha256)
        contacts = {p.siret: p for p in s.scalars(select(Porteur))}
        for siret in (UN_ETP.siret, NON_RETENU.siret):
            p = contacts[siret]
            assert (p.contact_nom, p.contact_email, p.contact_telephone) == (None, None, None) and p.anonymise_le
            assert p.nom and p.siret == siret
        assert contacts[BINOME.siret].contact_email and contacts[BINOME.siret].anonymise_le is None
        known = set(s.scalars(select(PorteurAdresse.porteur_id)))
        assert known == {contacts[BINOME.siret].id}
        senders = {d.numero: {dep.expediteur for dep in d.depots} for d in s.scalars(select(Dossier))}
        assert senders["2018-003"] == {None} and senders["2018-002"] - {None}

        journal = list(s.execute(select(Journal.__table__).order_by(Journal.id)).mappings())
        assert verify_chain(Entree(**r) for r in journal) is None
        purges = sorted((r["genre"], r["dossier"] or "", r["convention"] or "") for r in journal if r["genre"].startswith("purge"))
        assert purges == [("purge", "2018-001", "CONV-2018-001"), ("purge", "2018-003", ""), ("purge_contacts", "", ""),
                          ("purge_contacts", "", ""), ("purge_effacement", "", "")]
        assert [r["convention"] for r in journal if r["genre"] == "conservation_blocage"] == ["CONV-2018-002"]
        entry = next(r for r in journal if r["genre"] == "purge" and r["dossier"] == "2018-003")
        assert {r["utilisateur"] for r in journal if r["genre"].startswith("purge")} == {"assistante"}
        assert {(f["nature"], f["id"], f["sha256"]) for f in entry["donnees"]["fichiers"]} == {
            (r.nature, r.objet_id, r.sha256) for r in rows if r.numero == "2018-003"}
        journal_text = json.dumps(journal, default=str)
        assert "@" not in journal_text.replace("@example.org", "") and "contact1@" not in journal_text

    with world.factory() as s:  # the copies of personal data in rows went with the files, not the held ones'
        conventions = {c.numero: c for c in s.scalars(select(Convention))}
        assert [r["nom_complet"] for r in conventions["CONV-2018-001"].referents] == ["Référent 1"]
        assert [r["nom_complet"] for r in conventions["CONV-2018-002"].referents] == ["Lucie Martin", "Paul Bernard"]
        assert conventions["CONV-2018-001"].referents[0]["salaire"] == "44499.99"
        bodies = {d: set(s.scalars(select(Courriel.corps).join(Dossier, Courriel.dossier_id == Dossier.id)
                                   .where(Dossier.numero == d))) for d in ("2018-001", "2018-002", "2018-003")}
        assert bodies["2018-001"] == bodies["2018-003"] == {EFFACE} and EFFACE not in bodies["2018-002"]
        for a in s.scalars(select(Attestation).join(Depot).join(Dossier).where(Dossier.numero == "2018-003")):
            assert a.contenu["destinataires"] == []
        # what the SA reads still reads: listings, pages, histories of purged items
        assert {r["numero"] for r in list_dossiers(s, 2018, str(world.storage.root))} >= {"2018-001", "2018-003"}
        assert dossier_detail(s, 2018, "2018-003")["numero"] == "2018-003"
        assert convention_history(s, "CONV-2018-001", aujourd_hui=CINQ_ANS_APRES.date())
        assert convention_detail(s, "CONV-2018-001", aujourd_hui=CINQ_ANS_APRES.date())

    again = purge(world.factory, world.storage, maintenant=CINQ_ANS_APRES)
    assert (again.marques, again.elements, again.effaces, again.contacts) == ([], [], 0, [])
    with world.factory() as s:
        assert s.scalar(select(func.count()).select_from(Journal).where(Journal.genre.like("purge%"))) == 5  # nothing new
    assert simulate(world.factory, world.storage, maintenant=CINQ_ANS_APRES).purgeables == []


def test_a_purged_file_says_when_and_why_it_went_and_a_held_one_downloads(world, annee):
    hold(world.factory, "2018-002", motif="litige", par="assistante", maintenant=CINQ_ANS_APRES)
    purge(world.factory, world.storage, maintenant=CINQ_ANS_APRES)
    with world.factory() as s:
        purged = s.scalar(select(Piece).join(Depot).join(Dossier).where(Dossier.numero == "2018-003").limit(1))
        kept = s.scalar(select(Piece).join(Depot).join(Dossier).where(Dossier.numero == "2018-002").limit(1))
        with pytest.raises(FichierSupprime) as exc:
            stored_file(s, world.storage.root, "piece", purged.id)
        assert "supprimé le 15 janvier 2025 au terme de sa durée de conservation" in str(exc.value)
        assert "non retenu" in str(exc.value)
        assert stored_file(s, world.storage.root, "piece", kept.id).chemin.is_file()
        convention = s.scalar(select(Convention).where(Convention.numero == "CONV-2018-002"))
        assert world.storage.path(convention.chemin).is_file()  # a held dossier keeps its convention whole


def test_nothing_goes_before_its_period_ends(world, annee):
    sim = simulate(world.factory, world.storage, maintenant=AVANT)
    assert sim.purgeables == []
    assert any("Dossier 2018-003" in c and "purgeable à partir du 11 décembre 2019" in c for c in sim.conserves)
    assert any("CONV-2018-001" in c and "conservée jusqu'au 31 décembre 2024" in c for c in sim.conserves)
    assert purge(world.factory, world.storage, maintenant=AVANT).marques == []


@pytest.mark.database_matters("a purge interrupted between its transactions")
def test_a_run_killed_after_marking_is_finished_by_the_next_one(world, annee):
    marked = mark(world.factory, world.storage, maintenant=CINQ_ANS_APRES)  # killed before any deletion
    chemins = {c for _, _, c in marked.marques}
    assert chemins and _on_disk(world, chemins) == chemins
    with world.factory() as s:
        assert all(r.efface_le is None for r in s.scalars(select(FichierPurge)))
    rerun = purge(world.factory, world.storage, maintenant=CINQ_ANS_APRES)
    assert rerun.marques == [] and rerun.effaces == len(marked.marques)
    assert not _on_disk(world, chemins)
    assert finish_deletions(world.factory, world.storage, maintenant=CINQ_ANS_APRES) == (0, 0)


@pytest.mark.database_matters("deletes under foreign keys and the journal's triggers")
def test_holds_refuse_in_french_and_a_release_lets_the_purge_through(world, annee):
    with pytest.raises(SaisieRefusee, match="aucun dossier ni convention n° « 2018-999 »"):
        hold(world.factory, "2018-999", motif="contrôle", par="a", maintenant=CINQ_ANS_APRES)
    with pytest.raises(SaisieRefusee, match="motif"):
        hold(world.factory, "2018-003", motif="  ", par="a", maintenant=CINQ_ANS_APRES)
    hold(world.factory, "2018-003", motif="réclamation", par="a", maintenant=CINQ_ANS_APRES)
    with pytest.raises(SaisieRefusee, match="déjà bloqué depuis le 15 janvier 2025"):
        hold(world.factory, "2018-003", motif="autre", par="a", maintenant=CINQ_ANS_APRES)
    with pytest.raises(SaisieRefusee, match="n'est pas bloqué"):
        release(world.factory, "CONV-2018-001", par="a", maintenant=CINQ_ANS_APRES)
    assert "2018-003" not in {n for n in _purged_numbers(world, CINQ_ANS_APRES)}
    release(world.factory, "2018-003", par="a", maintenant=CINQ_ANS_APRES)
    assert "2018-003" in _purged_numbers(world, CINQ_ANS_APRES)
    with world.factory() as s:
        genres = list(s.scalars(select(Journal.genre).where(Journal.dossier == "2018-003", Journal.genre.like("%blocage"))
                                .order_by(Journal.id)))
    assert genres == ["conservation_blocage", "conservation_deblocage"]


def _purged_numbers(world, moment) -> set[str]:
    purge(world.factory, world.storage, maintenant=moment)
    with world.factory() as s:
        return set(s.scalars(select(FichierPurge.numero)))


def test_an_fse_convention_without_its_last_payment_is_kept_with_its_structures_contacts(world, annee):
    with world.factory() as s, s.begin():
        s.scalar(select(Convention).where(Convention.numero == "CONV-2018-001")).dernier_paiement_le = None
    sim = simulate(world.factory, world.storage, maintenant=CINQ_ANS_APRES)
    line = next(c for c in sim.conserves if c.startswith("Convention CONV-2018-001"))
    assert "convention cofinancée par le FSE : date du dernier paiement non enregistrée" in line
    contacts = next(c for c in sim.conserves if c.startswith(f"Contacts de {UN_ETP.nom}"))
    assert "conservés avec la convention CONV-2018-001 (convention cofinancée par le FSE" in contacts
    assert UN_ETP.siret not in sim.contacts and NON_RETENU.siret in sim.contacts


def test_a_call_without_durations_purges_nothing(world, annee):
    sim = simulate(world.factory, world.storage, maintenant=CINQ_ANS_APRES, regles=lambda annee: None)
    assert sim.purgeables == [] and sim.fichiers == []
    assert any("l'appel 2018 ne fixe pas de durées de conservation" in c for c in sim.conserves)


def test_the_commands_say_in_french_what_would_go_what_went_and_refuse_twice_the_same_hold(world, annee, commandes):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AAP_") and k != "PREFECT_API_URL"}
    env.update({"AAP_DATABASE_URL": world.db_url, "AAP_STORAGE_DIR": str(world.storage.root), "AAP_PDF": "off",
                "PREFECT_HOME": str(world.tmp / "prefect"), "PYTHONPATH": str(ROOT), "COLUMNS": "200"})

    def _aap(*args: str) -> subprocess.CompletedProcess[str]:  # each command a process (tests/cli_forks.py)
        return commandes.run(list(args), cwd=world.tmp, env=env)

    held = _aap("conservation", "bloquer", "2018-003", "--motif", "réclamation de la structure",
                "--maintenant", "2025-01-15T10:00")
    assert held.returncode == 0, held.stderr
    assert held.stdout == "Le dossier 2018-003 est bloqué : aucune purge n'y touchera (motif : réclamation de la structure).\n"
    twice = _aap("conservation", "bloquer", "2018-003", "--motif", "autre")
    assert twice.returncode == 1 and twice.stderr.startswith("Erreur : le dossier 2018-003 est déjà bloqué depuis le 15 janvier 2025")

    sim = _aap("purge", "--simulation", "--maintenant", "2025-01-15T10:00")
    assert sim.returncode == 0, sim.stderr
    assert sim.stdout.startswith("Simulation de purge au 15 janvier 2025 : 4 éléments à purger, 15 fichiers, "
                                 "2 structures dont les contacts seraient anonymisés.")
    assert "  conservé : Dossier 2018-003 (Structure d'insertion n° 3) — non retenu au comité du 11 décembre 2017 ; " \
           "pièces conservées 2 ans — conservé : bloqué (2018-003) : réclamation de la structure (6 fichiers)" in sim.stdout
    assert "Contacts de Structure d'insertion n° 3 (SIRET 400 000 003 00014) — " in sim.stdout and "(contacts)\n" in sim.stdout

    done = _aap("purge", "--maintenant", "2025-01-15T10:00")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Purge du 15 janvier 2025 : 4 éléments, 15 fichiers marqués, 15 fichiers supprimés, "
                                  "2 structures anonymisées.")
    again = _aap("purge", "--maintenant", "2025-01-15T10:00")
    assert again.stdout.startswith("Purge du 15 janvier 2025 : 0 élément, 0 fichier marqué, 0 fichier supprimé")
    assert "2018-003" in _aap("purge", "--simulation", "--maintenant", "2025-01-15T10:00").stdout


def test_the_daily_digest_says_what_became_purgeable_and_stops_once_it_is_purged(world, annee):
    from actions.echeancier import run_echeancier
    from models.courriel import Courriel

    def digest(moment: datetime) -> str:
        run_echeancier(world.factory, world.storage, maintenant=moment, sa_email="assistante.plie@example.org")
        with world.factory() as s:
            corps = s.scalar(select(Courriel.corps).where(Courriel.cle.like("digest:%")).order_by(Courriel.id.desc()).limit(1))
        return corps.replace("\u202f", " ").replace("\xa0", " ")  # French typography's thin spaces, as plain ones

    assert "durée de conservation est échue" not in digest(datetime(2019, 6, 3, 6, 0, tzinfo=UTC))
    body = digest(datetime(2019, 12, 12, 6, 0, tzinfo=UTC))
    assert "Données personnelles dont la durée de conservation est échue" in body
    assert "  - Dossier 2018-003 (Structure d'insertion n° 3) — non retenu au comité du 11 décembre 2017 ; " \
           "pièces conservées 2 ans — purgeable depuis le 11 décembre 2019 (6 fichiers)" in body
    assert "CONV-2018-001" not in body.split("durée de conservation est échue")[1]
    purge(world.factory, world.storage, maintenant=datetime(2019, 12, 12, 7, 0, tzinfo=UTC))
    assert "Dossier 2018-003" not in digest(datetime(2019, 12, 13, 6, 0, tzinfo=UTC)).split("Ce message")[0].split(
        "Conventions arrivant")[1]


def test_the_fse_pack_of_a_purged_convention_is_refused_with_when_and_why(world, annee, tmp_path):
    from actions.fse import build_fse_pack
    from adapters.pdf import soffice_path

    if soffice_path() is None:
        pytest.skip("LibreOffice absent")
    purge(world.factory, world.storage, maintenant=CINQ_ANS_APRES)
    with world.factory() as s, pytest.raises(SaisieRefusee) as exc:
        build_fse_pack(s, world.storage, "CONV-2018-001", tmp_path / "fse.pdf", maintenant=CINQ_ANS_APRES)
    assert str(exc.value).startswith("les pièces et documents de la convention CONV-2018-001 ont été supprimés le "
                                     "15 janvier 2025 au terme de leur durée de conservation (convention cofinancée par le FSE")
    assert not (tmp_path / "fse.pdf").exists()


@pytest.mark.database_matters("deletes under foreign keys")
def test_a_depot_tied_to_no_dossier_goes_too_but_not_the_bytes_a_kept_dossier_shares(world, annee):
    from tests.conftest import run_intake
    from tests.samples import cv_pdf, deliver, paris

    with world.factory() as s:  # the same CV as the held dossier's, sent from an unknown address
        shared = s.scalar(select(Piece).join(Depot).join(Dossier).where(Dossier.numero == "2018-002",
                                                                        Piece.nature == NaturePiece.CV).limit(1))
        shared_bytes, shared_path = world.storage.path(shared.chemin).read_bytes(), shared.chemin
    deliver(world.maildir, sender="inconnu@example.org", when=paris(6, 16),
            attachments=[("cv.pdf", shared_bytes), ("lettre.pdf", cv_pdf("Lettre sans structure"))],
            message_id="<sans-structure@example.org>")
    run_intake(world.factory, world.storage, world.maildir, world.mail)
    hold(world.factory, "2018-002", motif="litige", par="assistante", maintenant=CINQ_ANS_APRES)

    sim = simulate(world.factory, world.storage, maintenant=CINQ_ANS_APRES)
    loose = next(line for line in sim.purgeables if line.startswith("Dépôt n° "))
    assert "dépôt non identifié sans dossier, reçu le 6 décembre 2017 ; conservé 2 ans" in loose and "(3 fichiers)" in loose
    done = purge(world.factory, world.storage, maintenant=CINQ_ANS_APRES)
    assert set(done.marques) == set(sim.fichiers) and done.partages == 1
    assert world.storage.path(shared_path).is_file()  # the held dossier still needs these bytes
    with world.factory() as s:
        depot = s.scalar(select(Depot).where(Depot.dossier_id.is_(None)))
        assert depot.expediteur is None and all(not world.storage.path(p.chemin).is_file()
                                                for p in depot.pieces if p.chemin != shared_path)
    release(world.factory, "2018-002", par="assistante", maintenant=CINQ_ANS_APRES)
    last = purge(world.factory, world.storage, maintenant=CINQ_ANS_APRES)
    assert last.partages == 0 and not world.storage.path(shared_path).is_file()


def test_a_convention_is_said_held_in_the_feminine(world, annee):
    said = hold(world.factory, "CONV-2018-001", motif="contrôle", par="a", maintenant=CINQ_ANS_APRES)
    assert said == "La convention CONV-2018-001 est bloquée : aucune purge n'y touchera (motif : contrôle)"
    with pytest.raises(SaisieRefusee, match="la convention CONV-2018-001 est déjà bloquée depuis le 15 janvier 2025"):
        hold(world.factory, "CONV-2018-001", motif="autre", par="a", maintenant=CINQ_ANS_APRES)
    assert release(world.factory, "CONV-2018-001", par="a", maintenant=CINQ_ANS_APRES).startswith(
        "La convention CONV-2018-001 est débloquée")
    with pytest.raises(SaisieRefusee, match="numéro mal formé"):
        hold(world.factory, "2018-001\nErreur", motif="x", par="a", maintenant=CINQ_ANS_APRES)


def test_a_document_recorded_as_pdf_goes_with_the_docx_it_was_converted_from(tmp_path):
    from actions.conservation import document_files
    from adapters.storage import Storage

    storage = Storage(tmp_path / "stockage")
    folder = storage.ensure_dir("attestations/2018")
    (folder / "AAP-2018-0001.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    (folder / "AAP-2018-0001.docx").write_bytes(b"PK")
    refs = document_files(storage, "attestation", 1, "attestations/2018/AAP-2018-0001.pdf")
    assert [r.chemin for r in refs] == ["attestations/2018/AAP-2018-0001.pdf", "attestations/2018/AAP-2018-0001.docx"]
    assert document_files(storage, "synthese", 1, "/ailleurs/synthese.xlsx") == []  # outside the storage: not ours
