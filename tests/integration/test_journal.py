"""The journal on a real database (SQLite and PostgreSQL): written in the change's transaction, chained, refused
to UPDATE and DELETE by the database, sealed each Paris day, and checked by ``aap journal verifier`` — which
names the first entry someone changed behind the triggers' back."""
from __future__ import annotations

import importlib.util
import json
import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from actions.journal import history, seal_until, verify
from adapters.database import transaction
from adapters.journal import HORLOGE, record, use_storage
from flows import runtime as runtime_module
from flows.runtime import configure, get_settings
from models import Journal, SceauJournal
from actions.depots import register_mailbox
from adapters.mailbox import iter_mailbox
from tests.conftest import RELEVE, run_intake
from tests.samples import cvs, deliver, deliver_complete, paris, porteur

pytestmark = pytest.mark.database_matters("the journal's triggers, its chain under concurrent writers, its seals")

DEBUT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[2]
TABLES = ("journal", "sceau_journal")


def genres(factory) -> list[str]:
    with factory() as s:
        return list(s.scalars(select(Journal.genre).order_by(Journal.id)))


def _migration():
    spec = importlib.util.spec_from_file_location("migration_0013", ROOT / "migrations/versions/0013_journal.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def drop_triggers(factory):
    """What someone with access to the database can do: remove the triggers that refuse changes. They are put
    back afterwards (the PostgreSQL test database is the worker's, emptied and reused by the next test)."""
    dropped = []

    def drop(f=None) -> None:
        with transaction(f or factory) as s:
            if s.get_bind().dialect.name == "postgresql":
                for table in TABLES:
                    s.execute(text(f"DROP TRIGGER {table}_immuable ON {table}"))
            else:
                for table in TABLES:
                    s.execute(text(f"DROP TRIGGER {table}_sans_modification"))
                    s.execute(text(f"DROP TRIGGER {table}_sans_suppression"))
        dropped.append(f or factory)

    yield drop
    migration = _migration()
    for f in dropped:
        with transaction(f) as s:
            if s.get_bind().dialect.name == "postgresql":
                for table in TABLES:
                    s.execute(text(f"DROP TRIGGER IF EXISTS {table}_sans_vidage ON {table}"))
                    for statement in migration.PG_TRIGGERS.format(table=table).split(";"):
                        s.execute(text(statement))


@pytest.fixture
def clock():
    """The journal's clock, moved by the test (the real clock otherwise)."""
    now = [DEBUT]
    token = HORLOGE.set(lambda: now[0])
    yield now
    HORLOGE.reset(token)


@pytest.fixture
def cli(db_url, storage):
    previous = runtime_module._current
    rt = configure(get_settings().model_copy(update={"database_url": db_url, "storage_dir": storage.root, "pdf": "off"}))

    from flows.cli import app

    def run(*args: str):
        return CliRunner().invoke(app, list(args))

    yield rt, run
    runtime_module._current = previous


def test_an_intake_journals_each_depot_piece_attestation_and_mail_in_order_and_the_chain_verifies(
        factory, storage, appel, mail, maildir, tmp_path):
    p = porteur(1, referents=2)
    deliver_complete(maildir, tmp_path / "f", p, paris(6, 10))

    run_intake(factory, storage, maildir, mail)

    kinds = genres(factory)
    assert kinds[0] == "appel_publie"
    for kind in ("dossier_ouvert", "depot_enregistre", "attestation_numerotee", "courriel_en_file",
                 "document", "courriel_envoye"):
        assert kind in kinds, kind
    assert kinds.index("depot_enregistre") < kinds.index("attestation_numerotee") < kinds.index("courriel_envoye")
    with factory() as s:
        result = verify(s, storage.root)
        dossier = history(s, dossier="2018-001")
    assert result.intact and result.entrees == len(kinds)
    assert {e.genre for e in dossier} >= {"dossier_ouvert", "depot_enregistre", "attestation_numerotee", "courriel_envoye"}
    assert "Attestation AAP-2018-0001 numérotée pour le dépôt n° 1." in [e.texte for e in dossier]
    [depot] = [e for e in dossier if e.genre == "depot_enregistre"]
    with factory() as s:  # the pièces it brought, in its entry: one per file, with the file's SHA-256
        from models import Piece

        assert sorted(p["sha256"] for p in depot.donnees["pieces"]) == sorted(s.scalars(select(Piece.sha256)))
    assert "piece_recue" not in kinds


def test_journaling_a_depot_selects_again_no_row_its_own_flush_inserted(factory, storage, appel, mail, maildir, tmp_path):
    from sqlalchemy import event

    p = porteur(3, referents=2)
    deliver_complete(maildir, tmp_path / "f", p, paris(6, 10))
    statements: list[str] = []
    engine = factory.kw["bind"]

    def seen(conn, cursor, statement, *args) -> None:
        statements.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", seen)
    try:
        report = register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=RELEVE)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert report.depots == 1
    by_id = [s for s in statements if s.startswith("select") and ("where depot.id =" in s or "where dossier.id =" in s)]
    assert by_id == []  # the dépôt and the dossier the pièces' entries name come from the flush itself
    with factory() as s:
        entries = [(e.genre, e.dossier, e.texte) for e in s.scalars(select(Journal).order_by(Journal.id))]
        found = [e for e in history(s, dossier="2018-001") if e.genre == "depot_enregistre"]
    assert len(found) == 1, entries  # once seen failing in a whole run (not alone): the journal as it was then
    [depot] = found
    assert depot.dossier == "2018-001" and len(depot.donnees["pieces"]) == 3


def test_the_journal_names_no_address_no_referent_and_no_file_name(factory, storage, appel, mail, maildir, tmp_path):
    p = porteur(2, referents=2)
    deliver(maildir, sender=p.email, when=paris(6, 11), message_id="<journal@example.org>",
            attachments=[("CV_Prénom1_Nom1.exe", b"MZ pas un CV"), *cvs(p, skip={0})])
    run_intake(factory, storage, maildir, mail)

    with factory() as s:
        written = json.dumps([[e.texte, e.donnees] for e in s.scalars(select(Journal))], ensure_ascii=False)
    assert "piece_refusee" in genres(factory) or "depot_non_identifie" in genres(factory)
    for personal in (p.email, "@example.org", "Prénom1", "Nom1", "Prénom2", "CV_"):
        assert personal not in written


def test_the_database_refuses_to_change_or_delete_an_entry_or_a_seal(factory, appel):
    for statement in ("UPDATE journal SET texte = 'autre chose'", "DELETE FROM journal"):
        with pytest.raises(DBAPIError) as refused:
            with transaction(factory) as s:
                s.execute(text(statement))
        assert "le journal ne se" in str(refused.value)
    assert genres(factory) == ["appel_publie"]


def test_a_change_rolled_back_leaves_no_entry(factory, appel):
    with pytest.raises(RuntimeError):
        with transaction(factory) as s:
            record(s, "essai", "Écrit puis annulé.")
            raise RuntimeError("annulé")
    assert genres(factory) == ["appel_publie"]


def test_verifier_names_the_entry_changed_after_the_triggers_were_dropped(cli, appel, drop_triggers):
    rt, run = cli
    for n in range(5):
        with transaction(rt.factory) as s:
            record(s, "essai", f"Entrée d'essai {n}.", donnees={"n": n})
    intact = run("journal", "verifier")
    assert intact.exit_code == 0, intact.output
    assert "Journal intact : 6 entrées recalculées" in intact.output

    drop_triggers(rt.factory)
    with transaction(rt.factory) as s:  # entry 3 says something else, its stored hash untouched
        s.execute(text("UPDATE journal SET texte = 'Entrée d''essai 9.' WHERE id = 3"))

    caught = run("journal", "verifier")
    assert caught.exit_code == 1
    assert "Journal altéré : l'entrée n° 3 du" in caught.output and "a été modifiée" in caught.output
    assert "Première entrée qui ne correspond pas : n° 3." in caught.output
    assert "Traceback" not in caught.output


def test_verifier_catches_an_entry_rehashed_by_whoever_changed_it(factory, storage, appel, drop_triggers):
    """Recomputing the changed entry's own hash does not help: the next entry no longer follows it."""
    from models.journal import canonical, chain_hash

    for n in range(3):
        with transaction(factory) as s:
            record(s, "essai", f"Entrée {n}.")
    drop_triggers()
    with transaction(factory) as s:
        row = s.get(Journal, 2)
        forged = chain_hash(row.precedent, canonical(id=2, moment=row.moment, genre=row.genre, appel=row.appel,
                                                      dossier=row.dossier, convention=row.convention,
                                                      utilisateur=row.utilisateur, texte="Autre chose.",
                                                      donnees=row.donnees))
        s.execute(text("UPDATE journal SET texte = 'Autre chose.', empreinte = :h WHERE id = 2"), {"h": forged})
    with factory() as s:
        result = verify(s, storage.root)
    assert result.anomalie is not None and result.anomalie.entree == 3
    assert "ne suit pas la n° 2" in result.anomalie.message


def test_a_removed_entry_is_named(factory, storage, appel, drop_triggers):
    for n in range(3):
        with transaction(factory) as s:
            record(s, "essai", f"Entrée {n}.")
    drop_triggers()
    with transaction(factory) as s:
        s.execute(text("DELETE FROM journal WHERE id = 2"))
    with factory() as s:
        result = verify(s, storage.root)
    assert result.anomalie.entree == 3 and "l'entrée n° 2 manque" in result.anomalie.message


def test_the_first_entry_of_a_new_day_seals_the_day_before_in_a_file_only_its_owner_reads(
        factory, storage, appel, clock):
    use_storage(factory, storage.root)
    with transaction(factory) as s:
        record(s, "essai", "Lundi.")
    clock[0] = DEBUT + timedelta(hours=13)  # 23:00 in Paris: still Monday
    with transaction(factory) as s:
        lundi_soir = record(s, "essai", "Lundi soir.")
    clock[0] = DEBUT + timedelta(days=1)
    with transaction(factory) as s:
        record(s, "essai", "Mardi.")

    with factory() as s:
        [sceau] = s.scalars(select(SceauJournal)).all()
        result = verify(s, storage.root)
    assert (sceau.jour.isoformat(), sceau.entree, sceau.empreinte) == ("2026-03-02", lundi_soir.id, lundi_soir.empreinte)
    path = storage.root / sceau.chemin
    assert f"empreinte: {lundi_soir.empreinte}" in path.read_text("utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert result.intact and result.sceaux == 1 and result.non_scelles == 1


def test_a_seal_file_that_no_longer_says_what_the_row_says_is_caught(factory, storage, appel, clock):
    use_storage(factory, storage.root)
    with transaction(factory) as s:
        record(s, "essai", "Lundi.")
    clock[0] = DEBUT + timedelta(days=1)
    with transaction(factory) as s:
        record(s, "essai", "Mardi.")
    with factory() as s:
        chemin = s.scalar(select(SceauJournal.chemin))
    path = storage.root / chemin
    path.write_text(path.read_text("utf-8").replace("empreinte: ", "empreinte: 0"), "utf-8")
    with factory() as s:
        result = verify(s, storage.root)
    assert "le fichier du sceau du 2026-03-02 ne dit pas ce que dit la base" in result.anomalie.message


def test_a_journal_cut_after_its_seal_is_caught_by_the_seal_file(factory, storage, appel, clock, drop_triggers):
    """Someone removes the last entries and the seal rows that cover them: the seal's file still says them."""
    use_storage(factory, storage.root)
    for day in range(3):
        clock[0] = DEBUT + timedelta(days=day)
        with transaction(factory) as s:
            record(s, "essai", f"Jour {day}.")
    drop_triggers()
    with transaction(factory) as s:
        s.execute(text("DELETE FROM sceau_journal WHERE entree >= 3"))
        s.execute(text("DELETE FROM journal WHERE id >= 3"))
    with factory() as s:
        result = verify(s, storage.root)
    assert result.anomalie is not None and result.anomalie.entree == 3
    assert "la base n'a plus ce sceau : le journal a été tronqué" in result.anomalie.message


def test_sceller_seals_the_last_day_once_it_is_over_and_only_once(factory, storage, appel, clock):
    with transaction(factory) as s:
        last = record(s, "essai", "Le dernier du lundi.")
    assert seal_until(factory, storage.root, maintenant=DEBUT + timedelta(hours=1)) is None  # Monday is not over
    sceau = seal_until(factory, storage.root, maintenant=DEBUT + timedelta(days=1))
    assert (sceau.entree, sceau.empreinte) == (last.id, last.empreinte)
    assert seal_until(factory, storage.root, maintenant=DEBUT + timedelta(days=2)) is None
    with factory() as s:
        assert verify(s, storage.root).sceaux == 1


def test_two_writers_appending_at_once_never_fork_the_chain(factory, storage, appel):
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def write(worker: int) -> None:
        try:
            start.wait()
            for n in range(25):
                with transaction(factory) as s:
                    record(s, "essai", f"Écrivain {worker}, entrée {n}.", donnees={"w": worker, "n": n})
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Journal)) == 101
        result = verify(s, storage.root)
    assert result.intact and result.entrees == 101


def test_journal_dossier_prints_its_history_and_refuses_an_unknown_number(cli, appel, mail, maildir, tmp_path):
    rt, run = cli
    deliver_complete(maildir, tmp_path / "f", porteur(1), paris(6, 10))
    run_intake(rt.factory, rt.storage, maildir, mail)

    shown = run("journal", "--dossier", "2018-001")
    unknown = run("journal", "--dossier", "2018-999")

    assert shown.exit_code == 0, shown.output
    assert "Journal : Dossier 2018-001" in shown.output and "Attestation AAP-2018-0001 numérotée" in shown.output
    assert unknown.exit_code == 1 and "aucun dossier n° « 2018-999 »" in unknown.output
    as_json = json.loads(run("journal", "--dossier", "2018-001", "--json").output)
    assert {"depot_enregistre", "dossier_ouvert"} <= {e["genre"] for e in as_json} and len(as_json[0]["empreinte"]) == 64


def test_a_mail_refused_by_the_server_is_journaled_as_failed_beside_its_bulk_update(factory, sink, mail, tmp_path):
    from actions.outbox import enqueue, send_pending
    from tests.conftest import RELEVE

    sink.refused_recipients = {"x451@example.org"}
    with transaction(factory) as s:
        enqueue(s, cle="attestation:AAP-2018-0001", destinataires=["x451@example.org"], sujet="Accusé",
                corps="Bonjour.\n", pieces_jointes=[], maintenant=RELEVE)
        enqueue(s, cle="attestation:AAP-2018-0002", destinataires=["porteur@example.org"], sujet="Accusé",
                corps="Bonjour.\n", pieces_jointes=[], maintenant=RELEVE)

    send_pending(factory, mail, tmp_path)

    with factory() as s:
        entries = [(j.genre, j.donnees["cle"], j.texte) for j in s.scalars(select(Journal).order_by(Journal.id))]
    assert sorted(e[:2] for e in entries if e[0] != "courriel_en_file") == [
        ("courriel_en_echec", "attestation:AAP-2018-0001"), ("courriel_envoye", "attestation:AAP-2018-0002")]
    assert ("courriel_en_file", "attestation:AAP-2018-0001") in [e[:2] for e in entries]
    assert "x451" not in json.dumps(entries)  # the address is in the outbox's row, not in the journal


def test_verifier_for_one_call_checks_the_chain_up_to_its_last_entry_and_refuses_an_unknown_year(cli, appel):
    rt, run = cli
    with transaction(rt.factory) as s:
        record(s, "essai", "De l'appel 2018.", appel=2018)
    with transaction(rt.factory) as s:
        record(s, "essai", "D'aucun appel.")

    for_2018 = run("journal", "verifier", "--appel", "2018")
    unknown = run("journal", "verifier", "--appel", "2031")

    assert for_2018.exit_code == 0 and "Journal intact : 2 entrées recalculées" in for_2018.output
    assert unknown.exit_code == 1 and "l'appel 2031 n'est pas publié" in unknown.output


def test_journal_sceller_writes_the_seal_of_a_day_that_is_over_and_verifier_checks_it(cli, appel, clock):
    rt, run = cli
    with transaction(rt.factory) as s:
        last = record(s, "essai", "Le dernier du lundi.")

    too_early = run("journal", "sceller", "--maintenant", "2026-03-02T23:00")
    sealed = run("journal", "sceller", "--maintenant", "2026-03-03T08:00")

    assert too_early.exit_code == 0 and "Rien à sceller" in too_early.output
    assert sealed.exit_code == 0, sealed.output
    assert f"Sceau du 2 mars 2026 : entrée n° {last.id}, empreinte {last.empreinte}." in sealed.output
    verified = run("journal", "verifier")
    assert verified.exit_code == 0 and "1 sceau du jour vérifié ; dernier sceau : 2 mars 2026" in verified.output




def test_a_session_factory_at_a_freed_factory_s_address_still_journals_and_names_its_author(db_url):
    """A database forgotten then opened again gets a new sessionmaker. SQLAlchemy's registry keys listeners by the
    ``id()`` of the sessionmaker's Session class and keeps the key after the class is gone, so ``event.contains``
    said « already listening » to a new factory at a freed one's address, and a whole transaction then went
    without journal entries or author rows (seen as two flaky tests)."""
    import gc

    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    from adapters.auteurs import register as register_authors
    from adapters.database import session_factory
    from adapters.journal_hook import journal_changes, register as register_journal
    from flows.passage import ACTEUR
    from models import ActionUtilisateur, Porteur

    engine = session_factory(db_url).kw["bind"]
    for _ in range(500):  # factories made and dropped, as forgetting a database does, until the case is met
        factory = sessionmaker(engine, expire_on_commit=False)
        if event.contains(factory, "after_flush", journal_changes):
            break
        register_journal(register_authors(factory))
        del factory
        gc.collect(1)  # the young generations, where the factory just dropped is: a full collection costs seconds in a whole run
    else:
        pytest.fail("aucune fabrique neuve n'a semblé déjà branchée : le cas qui échouait n'a pas été rencontré")
    register_journal(register_authors(factory))
    token = ACTEUR.set("assistante")
    try:
        with transaction(factory) as s:
            s.add(Porteur(nom="Structure à l'adresse reprise", siret=None))
    finally:
        ACTEUR.reset(token)
    with factory() as s:
        assert s.scalars(select(Journal.texte)).all() == ["Structure « Structure à l'adresse reprise » enregistrée."]
        assert s.scalars(select(ActionUtilisateur.table_nom)).all() == ["porteur"]
