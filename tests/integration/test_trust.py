"""Who may speak for a structure, and what is a duplicate: on a real database, real files and real SMTP.

A structure's known addresses are the contact and sender addresses of its accepted dépôts and those the SA
adds. Once it has a dossier, a form naming it from any other address waits « à vérifier » and changes nothing.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from actions.listing import list_dossiers
from models import Attestation, Depot, Dossier, Porteur
from models.porteur import PorteurAdresse
from tests.conftest import depot_entries, run_intake
from tests.samples import cvs, deliver, deliver_complete, form_bytes, luhn_siret, paris, porteur

INCONNU = "expéditeur inconnu pour cette structure"
pytestmark = pytest.mark.shared_per_database("db_url")  # its snapshots built once per database, on one worker
STRANGER = "usurpateur@example.org"


def _rows(factory, storage):
    with factory() as s:
        return {r["siret"]: r for r in list_dossiers(s, 2018, str(storage.root)) if r["numero"]}


def _queue(factory):
    from actions.listing import waiting_queue

    with factory() as s:
        return waiting_queue(s, 2018)


def _to(message) -> str:
    return message["To"].addresses[0].addr_spec


def _body(message) -> str:
    return message.get_body(("plain",)).get_content()


def _impersonate(maildir, forms, p, *, when=None, n=1):
    """A stranger sends a complete-looking form carrying ``p``'s SIRET, its own name and its own contact."""
    form = form_bytes(forms, p, porteur_nom="Structure Usurpée", contact_email=STRANGER, contact_nom="Faux Contact",
                      porteur_adresse="1 rue Inventée")
    return deliver(maildir, sender=STRANGER, sender_name="Faux Contact", when=when or paris(5, 9),
                   message_id=f"<usurpation-{n}@example.org>", attachments=[("dossier.xlsx", form), *cvs(p)])


@pytest.fixture
def held(world, snapshots):
    """``p`` answered on 4 December; on 5 December a stranger sends a form in its name.

    Built once per module and database, then copied into each test (tests/snapshots.py)."""
    return snapshots.restore("held", lambda w: build_held(w.factory, w.storage, w.maildir, w.mail, w.tmp), world)


def build_held(factory, storage, maildir, mail, tmp_path):
    p = porteur(30)
    deliver_complete(maildir, tmp_path / "f", p, paris(4, 9))
    run_intake(factory, storage, maildir, mail)
    _impersonate(maildir, tmp_path / "f", p)
    report, _ = run_intake(factory, storage, maildir, mail)
    return p, report


def test_a_form_naming_a_known_structure_from_an_unknown_address_is_held_and_changes_nothing(
    factory, storage, sink, held
):
    p, report = held

    assert report.depots == 0 and report.a_verifier == 1
    row = _rows(factory, storage)[p.siret]
    assert row["porteur"] == p.nom and [d["version"] for d in row["depots"]] == [1] and len(row["attestations"]) == 1
    with factory() as s:
        porteur_row = s.scalar(select(Porteur).where(Porteur.siret == p.siret))
        assert (porteur_row.nom, porteur_row.contact_email, porteur_row.contact_nom, porteur_row.adresse) == (
            p.nom, p.email, "Claire Martin", "12 rue de la Liberté\n21000 Dijon")
        assert s.scalar(select(func.count()).select_from(PorteurAdresse).where(PorteurAdresse.email == STRANGER)) == 0
        assert s.scalar(select(func.count()).select_from(Attestation)) == 1
    [entry] = _queue(factory)
    assert (entry["statut"], entry["motif"], entry["siret"], entry["porteur"]) == ("à vérifier", INCONNU, p.siret, p.nom)
    assert entry["expediteur"] == STRANGER and INCONNU in entry["motifs"]


def test_nothing_goes_to_the_stranger_and_the_known_contact_is_told_without_the_strangers_content(sink, held):
    p, _ = held

    mails = sink.messages()
    assert all(_to(m) != STRANGER for m in mails)
    [notice] = [m for m in mails if "vérification" in str(m["Subject"])]
    assert _to(notice) == p.email
    text = str(notice["Subject"]) + _body(notice)
    assert "2018-001" in text and "5 décembre 2017 à 9 h 00" in text
    for stranger_content in ("Usurpée", "usurpateur", "Faux Contact", "Inventée"):
        assert stranger_content not in text


def test_the_sa_confirms_a_held_depot_it_becomes_a_complement_attested_and_its_address_known(
    factory, storage, sink, mail, held
):
    from actions.attestations import render_pending
    from actions.depots import SaisieRefusee, confirm_depot
    from actions.outbox import send_pending

    p, _ = held
    [entry] = _queue(factory)

    confirm_depot(factory, 2018, entry["depot"], maintenant=paris(8, 9))
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    send_pending(factory, mail, storage.root)

    assert _queue(factory) == []
    row = _rows(factory, storage)[p.siret]
    assert [d["version"] for d in row["depots"]] == [1, 2] and len(row["attestations"]) == 2
    assert any("confirmé par l'assistante" in m for m in row["motifs"])
    assert depot_entries(factory, entry["depot"]) == [("depot_a_verifier", None), ("depot_confirme", "2018-001")]
    with factory() as s:
        known = set(s.scalars(select(PorteurAdresse.email).join(Porteur).where(Porteur.siret == p.siret)))
    assert STRANGER in known
    assert any("AAP-2018-0002" in str(m["Subject"]) for m in sink.messages())
    with pytest.raises(SaisieRefusee, match="n'est pas à vérifier"):
        confirm_depot(factory, 2018, entry["depot"], maintenant=paris(8, 10))


def test_the_sa_rejects_a_held_depot_it_is_kept_with_the_reason_and_nothing_is_attested(
    factory, storage, sink, mail, held
):
    from actions.depots import SaisieRefusee, reject_depot

    p, _ = held
    [entry] = _queue(factory)
    with pytest.raises(SaisieRefusee, match="motif"):
        reject_depot(factory, 2018, entry["depot"], motif="  ", maintenant=paris(8, 9))

    reject_depot(factory, 2018, entry["depot"], motif="la structure ne connaît pas cet expéditeur", maintenant=paris(8, 9))

    assert _queue(factory) == []
    with factory() as s:
        depot = s.get(Depot, entry["depot"])
        assert depot.statut.value == "rejeté" and depot.dossier_id is None
        assert any("la structure ne connaît pas cet expéditeur" in m for m in depot.motifs)
        assert len(depot.pieces) == 2  # kept
        assert s.scalar(select(func.count()).select_from(Attestation)) == 1
    assert [d["version"] for d in _rows(factory, storage)[p.siret]["depots"]] == [1]


def test_a_later_formless_mail_from_the_stranger_is_not_filed_on_the_dossier(
    factory, storage, sink, mail, maildir, held
):
    p, _ = held
    deliver(maildir, sender=STRANGER, when=paris(6, 9), message_id="<usurpation-suite@example.org>",
            attachments=[("complement.pdf", cvs(p)[0][1][:-6] + b"\n%%EOF\n")])

    run_intake(factory, storage, maildir, mail)

    assert [d["version"] for d in _rows(factory, storage)[p.siret]["depots"]] == [1]
    assert all(_to(m) != STRANGER for m in sink.messages())


def test_a_form_from_a_known_address_may_change_the_contact_and_the_previous_contact_is_told(
    factory, storage, appel, sink, mail, maildir, tmp_path
):
    p = porteur(31)
    deliver_complete(maildir, tmp_path / "f", p, paris(4, 9))
    run_intake(factory, storage, maildir, mail)
    nouveau = "nadia.nouvelle@structure31.example.org"
    deliver(maildir, sender=p.email, when=paris(5, 9), message_id="<nouveau-contact@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p, contact_email=nouveau,
                                                      contact_nom="Nadia Nouvelle")), *cvs(p)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert report.depots == 1
    with factory() as s:
        assert s.scalar(select(Porteur.contact_email).where(Porteur.siret == p.siret)) == nouveau
    [notice] = [m for m in sink.messages() if "contact" in str(m["Subject"]).lower()]
    assert _to(notice) == p.email
    assert "Nadia Nouvelle" in _body(notice) and nouveau in _body(notice)


def test_an_address_the_sa_adds_may_speak_for_the_structure(factory, storage, appel, sink, mail, maildir, tmp_path):
    from actions.porteurs import add_address
    from actions.depots import SaisieRefusee

    p = porteur(32)
    deliver_complete(maildir, tmp_path / "f", p, paris(4, 9))
    run_intake(factory, storage, maildir, mail)
    secretariat = "secretariat@structure32.example.org"
    with pytest.raises(SaisieRefusee, match="aucune structure"):
        add_address(factory, luhn_siret("9990000000001"), secretariat)
    with pytest.raises(SaisieRefusee, match="adresse"):
        add_address(factory, p.siret, "pas une adresse")

    add_address(factory, p.siret, secretariat.upper())
    deliver(maildir, sender=secretariat, when=paris(5, 9), message_id="<secretariat@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p, contact_telephone="03 80 11 11 11")), *cvs(p)])
    report, _ = run_intake(factory, storage, maildir, mail)

    assert report.depots == 1 and _queue(factory) == []
    assert [d["version"] for d in _rows(factory, storage)[p.siret]["depots"]] == [1, 2]


def test_the_dossiers_json_and_the_daily_digest_list_the_queue_with_each_reason(
    factory, storage, sink, mail, maildir, held
):
    from actions.echeancier import run_echeancier

    deliver(maildir, sender="qui@example.org", when=paris(6, 9), message_id="<orphelin@example.org>",
            attachments=[("presentation.pdf", b"%PDF-1.4 not really\n%%EOF")])
    run_intake(factory, storage, maildir, mail)

    queue = _queue(factory)
    assert [(e["statut"], e["motif"]) for e in queue] == [
        ("à vérifier", INCONNU),
        ("non identifié", "expéditeur inconnu et aucun SIRET valide dans un formulaire lisible : "
                          "dépôt conservé, en attente de rattachement par l'assistante"),
    ]
    run_echeancier(factory, storage, maintenant=paris(8, 7), sa_email="assistante.plie@example.org")
    from actions.outbox import send_pending
    send_pending(factory, mail, storage.root)
    [digest] = [m for m in sink.messages() if _to(m) == "assistante.plie@example.org"]
    body = _body(digest)
    assert "Dépôts en attente de l'assistante" in body
    assert f"dépôt n° {queue[0]['depot']}" in body and INCONNU in body
    assert f"dépôt n° {queue[1]['depot']}" in body and "qui@example.org" in body


def test_the_cli_lists_the_queue_under_en_attente(factory, storage, held, db_url, monkeypatch, tmp_path):
    import json

    from typer.testing import CliRunner

    from config.settings import Settings
    from flows import cli, runtime

    p, _ = held
    monkeypatch.setattr(runtime, "_current", runtime.Runtime(
        Settings(database_url=db_url, storage_dir=storage.root), factory, storage))

    out = CliRunner().invoke(cli.app, ["dossiers", "--appel", "2018", "--json"])

    assert out.exit_code == 0, out.output
    listing = json.loads(out.stdout)
    assert [d["siret"] for d in listing["dossiers"]] == [p.siret]
    assert [(e["statut"], e["motif"]) for e in listing["en_attente"]] == [("à vérifier", INCONNU)]


# --- §3: what is a duplicate -------------------------------------------------------------------


@pytest.mark.database_matters("dépôts told apart by unique keys")
def test_two_structures_sending_the_same_blank_annex_make_two_depots(factory, storage, sink, mail, maildir, appel):
    annexe = [("annexe_vierge.pdf", cvs(porteur(40))[0][1])]
    for n, sender in enumerate(("contact@structure-a.example.org", "contact@structure-b.example.org")):
        deliver(maildir, sender=sender, when=paris(5, 9, n), message_id=f"<annexe-{n}@example.org>",
                attachments=annexe)

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.doublons, report.non_identifies) == (0, 2)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Depot)) == 2


@pytest.mark.database_matters("dépôts told apart by unique keys")
def test_a_stranger_reusing_a_message_id_first_suppresses_nothing(factory, storage, sink, mail, maildir, tmp_path, appel):
    p = porteur(41)
    deliver(maildir, sender=STRANGER, when=paris(4, 9), message_id=f"<m1-{p.siret}@example.org>",
            attachments=[("tract.pdf", cvs(p)[0][1][:-6] + b"\n%%EOF\n")])
    deliver_complete(maildir, tmp_path / "f", p, paris(5, 9))  # the same Message-ID, later

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.doublons, report.depots, report.non_identifies) == (0, 1, 1)
    assert _rows(factory, storage)[p.siret]["statut"] == "incomplet"


@pytest.mark.database_matters("dépôts told apart by unique keys")
def test_the_same_files_from_the_same_structure_are_still_one_depot(factory, storage, sink, mail, maildir, tmp_path, appel):
    p = porteur(42)
    files = [("dossier.xlsx", form_bytes(tmp_path / "f", p)), *cvs(p)]
    for n in (1, 2):  # forwarded again: a new Message-ID, the same files
        deliver(maildir, sender=p.email, when=paris(5, 8 + n), message_id=f"<m{n}-{p.siret}@example.org>",
                attachments=files)

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.doublons) == (1, 1)


def test_a_message_with_a_response_form_and_a_bilan_form_is_a_depot(factory, storage, sink, mail, maildir, tmp_path, appel):
    from datetime import date
    from decimal import Decimal

    from forms.bilan import BilanPrefill, write_bilan_form

    p = porteur(43)
    prefill = BilanPrefill(
        jeton="BIL-CONV-2017-009-MI-2017", convention_numero="CONV-2017-009", periode="mi-parcours",
        periode_debut=date(2017, 1, 1), periode_fin=date(2017, 12, 31), porteur_nom=p.nom, porteur_siret=p.siret,
        etp=Decimal("1"), objectifs={"entrees": Decimal("56"), "file_active": Decimal("70"),
                                     "taux_sorties_positives": Decimal("0.5"), "partenariats": Decimal("3")},
        budget_prevu={"salaires": Decimal("0"), "deplacements": Decimal("0"), "autres": Decimal("0")},
        ressources_prevues={"fse": Decimal("0"), "plie": Decimal("0"), "autres": Decimal("0")},
        date_limite=date(2017, 7, 31),
    )
    bilan = write_bilan_form(tmp_path / "bilan.xlsx", prefill).read_bytes()
    deliver(maildir, sender=p.email, when=paris(5, 9), message_id="<avec-bilan@example.org>",
            attachments=[("bilan_2017.xlsx", bilan), ("dossier.xlsx", form_bytes(tmp_path / "f", p)), *cvs(p)])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.depots, report.bilans) == (1, 0)
    [depot] = _rows(factory, storage)[p.siret]["depots"]
    pieces = {x["nom"]: x for x in depot["pieces"]}
    assert pieces["bilan_2017.xlsx"]["acceptee"] and pieces["dossier.xlsx"]["nature"] == "formulaire"
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) == 1
