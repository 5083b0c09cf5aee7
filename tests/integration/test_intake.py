"""The intake end to end on a real database, real files and a real SMTP server."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from actions.listing import list_dossiers
from actions.outbox import send_pending
from models import Attestation, Courriel, CourrielStatut, Depot, Dossier, Reception
from templates.render import read_docx_text
from tests.conftest import depot_entries, run_intake
from tests.samples import cvs, deliver, deliver_complete, form_bytes, paris, porteur


def _rows(factory, storage):
    with factory() as s:
        return {r["porteur"]: r for r in list_dossiers(s, 2018, str(storage.root))}


def test_complete_dossier_gets_numbered_attestation_by_mail(factory, storage, appel, sink, mail, maildir, tmp_path):
    p = porteur(1, referents=2)
    deliver_complete(maildir, tmp_path / "f", p, paris(6, 10))

    report, sent = run_intake(factory, storage, maildir, mail)

    assert (report.depots, sent.envoyes) == (1, 1)
    row = _rows(factory, storage)[p.nom]
    assert row["statut"] == "incomplet"  # the postal copy is still expected
    assert row["canaux"] == ["courriel"]
    assert row["pieces_manquantes"] == ["envoi postal (courrier) non reçu"]
    assert row["recu_le"] == "2017-12-06T09:00:00+00:00"
    [message] = sink.messages()
    assert message["To"].addresses[0].addr_spec == p.email
    assert "AAP-2018-0001" in message["Subject"]
    [attached] = [part for part in message.iter_attachments()]
    assert attached.get_filename() == "AAP-2018-0001.docx"
    text = read_docx_text(storage.root / "attestations/2018/AAP-2018-0001.docx")
    assert "6 décembre 2017 à 10 h 00" in text
    for name, data in cvs(p):
        assert name in text


def test_missing_cv_is_listed_on_the_dossier_and_the_attestation(factory, storage, appel, mail, maildir, tmp_path):
    p = porteur(2, referents=2)
    deliver(maildir, sender=p.email, when=paris(6, 11), message_id="<a@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p)), *cvs(p, skip={1})])

    run_intake(factory, storage, maildir, mail)

    row = _rows(factory, storage)[p.nom]
    assert "CV de Prénom2 Nom2 manquant (fichier attendu : CV_Prénom2_Nom2.pdf)" in row["pieces_manquantes"]
    assert "CV de Prénom2 Nom2 manquant" in read_docx_text(storage.root / "attestations/2018/AAP-2018-0001.docx")


def test_dossier_one_minute_late_is_kept_and_attested_hors_delai(factory, storage, appel, sink, mail, maildir, tmp_path):
    on_time, late = porteur(3), porteur(4)
    deliver_complete(maildir, tmp_path / "f", on_time, paris(7, 17, 0, 0))
    deliver_complete(maildir, tmp_path / "f", late, paris(7, 17, 1, 0))

    report, _ = run_intake(factory, storage, maildir, mail)

    rows = _rows(factory, storage)
    assert (rows[on_time.nom]["hors_delai"], rows[late.nom]["hors_delai"]) == (False, True)
    assert rows[late.nom]["statut"] == "hors délai"
    assert report.hors_delai == 1
    late_mail = next(m for m in sink.messages() if m["To"].addresses[0].addr_spec == late.email)
    assert "après la date limite" in late_mail.get_body(("plain",)).get_content()


@pytest.mark.database_matters("one dépôt for one message rests on a unique key")
def test_same_mail_to_three_addresses_is_one_depot(factory, storage, appel, sink, mail, maildir, tmp_path):
    p = porteur(5)
    for i, to in enumerate(appel.appel.adresses_depot):
        deliver_complete(maildir, tmp_path / "f", p, paris(5, 9, 0, i), to=to)

    report, _ = run_intake(factory, storage, maildir, mail)

    assert (report.lus, report.depots, report.doublons) == (3, 1, 2)
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Depot)) == 1
        assert s.scalar(select(func.count()).select_from(Reception)) == 3  # every file accounted for
    assert len(sink.messages()) == 1


def test_complement_before_deadline_is_a_new_version_with_its_own_attestation(factory, storage, appel, sink, mail, maildir, tmp_path):
    p = porteur(6, referents=2)
    deliver(maildir, sender=p.email, when=paris(4, 9), message_id="<v1@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", p)), *cvs(p, skip={1})])
    deliver(maildir, sender=p.email, when=paris(6, 9), message_id="<v2@example.org>", attachments=cvs(p, skip={0}))

    run_intake(factory, storage, maildir, mail)

    row = _rows(factory, storage)[p.nom]
    assert [d["version"] for d in row["depots"]] == [1, 2]
    assert len(row["attestations"]) == 2
    assert not any("CV" in m for m in row["pieces_manquantes"])
    text = read_docx_text(storage.root / "attestations/2018/AAP-2018-0002.docx")
    assert "version 2" in text
    assert len(sink.messages()) == 2


def test_unknown_sender_without_form_waits_for_the_sa_and_gets_no_attestation(factory, storage, appel, sink, mail, maildir):
    deliver(maildir, sender="qui@example.org", when=paris(6, 9), message_id="<x@example.org>",
            attachments=[("presentation.pdf", b"%PDF-1.4 not really\n%%EOF")])

    report, _ = run_intake(factory, storage, maildir, mail)

    assert report.non_identifies == 1
    with factory() as s:
        rows = list_dossiers(s, 2018, str(storage.root))
        assert s.scalar(select(func.count()).select_from(Attestation)) == 0
    [row] = rows
    assert row["numero"] is None and row["statut"] == "non identifié"
    assert any("expéditeur inconnu" in m for m in row["motifs"])
    assert sink.messages() == []


def test_porteur_name_with_ampersand_and_brackets_survives_documents_and_mail(factory, storage, appel, sink, mail, maildir, tmp_path):
    p = porteur(7, nom="Emploi & Insertion <Côte-d'Or>")
    deliver_complete(maildir, tmp_path / "f", p, paris(6, 10))

    run_intake(factory, storage, maildir, mail)

    assert "Emploi & Insertion <Côte-d'Or>" in read_docx_text(storage.root / "attestations/2018/AAP-2018-0001.docx")
    assert "Emploi & Insertion <Côte-d'Or>" in sink.messages()[0]["Subject"]


@pytest.mark.database_matters("gapless numbers from a counter row, and unique keys on re-run")
def test_attestation_numbers_are_gapless_and_rerun_sends_nothing_twice(factory, storage, appel, sink, mail, maildir, tmp_path):
    for n in range(10, 15):
        deliver_complete(maildir, tmp_path / "f", porteur(n), paris(5, 8, n))
    run_intake(factory, storage, maildir, mail)

    report, sent = run_intake(factory, storage, maildir, mail)

    assert (report.deja_vus, report.depots, sent.envoyes) == (5, 0, 0)
    with factory() as s:
        numeros = list(s.scalars(select(Attestation.numero).order_by(Attestation.seq)))
    assert numeros == [f"AAP-2018-{i:04d}" for i in range(1, 6)]
    assert len(sink.messages()) == 5


def test_smtp_outage_leaves_mail_pending_with_the_error_then_next_run_sends(factory, storage, appel, sink, mail, maildir, tmp_path,
                                                                           caplog):
    import logging

    caplog.set_level(logging.INFO, logger="aap")
    deliver_complete(maildir, tmp_path / "f", porteur(20), paris(5, 8))
    sink.refuse = True
    run_intake(factory, storage, maildir, mail)
    with factory() as s:
        courriel = s.scalar(select(Courriel).where(Courriel.cle.like("attestation:%")))
        assert courriel.statut is CourrielStatut.PENDING
        assert "451" in courriel.erreur
    [warning] = _aap_lines(caplog, logging.WARNING)
    assert warning.startswith("Courriel « attestation de dépôt » (AAP-2018-0001) non envoyé : ")
    assert "451" in warning and warning.endswith(" ; nouvel essai au prochain passage.")

    sink.refuse = False
    sent = send_pending(factory, mail, storage.root)

    assert sent.envoyes == 1
    assert len(sink.messages()) == 1
    with factory() as s:
        assert s.scalar(select(Courriel.statut).where(Courriel.cle.like("attestation:%"))) is CourrielStatut.SENT


def test_postal_depot_completes_the_channels(factory, storage, appel, mail, maildir, tmp_path):
    from actions.depots import register_postal

    p = porteur(8)
    deliver_complete(maildir, tmp_path / "f", p, paris(5, 8))
    run_intake(factory, storage, maildir, mail)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(cvs(p)[0][1])

    register_postal(factory, storage, 2018, siret=p.siret, recu_le=paris(6, 9), files=[scan], nom=None, maintenant=paris(6, 10))
    again, outcome = register_postal(factory, storage, 2018, siret=p.siret, recu_le=paris(6, 9), files=[scan], nom=None,
                                     maintenant=paris(6, 11))

    assert outcome == "doublon"
    row = _rows(factory, storage)[p.nom]
    assert row["canaux"] == ["courriel", "courrier"]
    assert row["statut"] == "complet"
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Dossier)) == 1


@pytest.mark.database_matters("a failed registration rolls back alone, the message kept")
def test_a_message_that_cannot_be_registered_is_kept_for_the_sa_with_its_reason(
    factory, storage, appel, sink, mail, maildir, tmp_path, monkeypatch
):
    import actions.depots

    good, bad = porteur(60), porteur(61)
    deliver_complete(maildir, tmp_path / "f", good, paris(5, 8))
    deliver(maildir, sender=bad.email, when=paris(5, 9), message_id="<bad@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", bad)), ("annexe.pdf", cvs(bad)[0][1])])
    real = actions.depots.record_in

    def failing(session, appel_, cfg, msg, raw_stored, analyse, maintenant):  # fails on this message only
        if any(p.nom == "annexe.pdf" for p in analyse.pieces):
            raise RuntimeError("disque plein")
        return real(session, appel_, cfg, msg, raw_stored, analyse, maintenant)

    # recorded together, the two fail together; each is recorded again alone, and only this one fails
    monkeypatch.setattr(actions.depots, "record_in", failing)  # the files are read in a worker process
    report, _ = run_intake(factory, storage, maildir, mail)

    assert report.depots == 1 and report.non_identifies == 1
    assert report.erreurs == [report.erreurs[0]] and "enregistrement impossible (RuntimeError : disque plein)" in report.erreurs[0]
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Reception)) == 2  # nothing lost
        rows = list_dossiers(s, 2018, str(storage.root))
    waiting = [r for r in rows if r["numero"] is None]
    assert len(waiting) == 1 and "enregistrement impossible (RuntimeError : disque plein)" in waiting[0]["motifs"]


@pytest.mark.database_matters("the outbox claims its chunks with UPDATE … RETURNING")
def test_outbox_sends_by_chunks_and_a_failing_row_waits_for_the_next_run(factory, storage, appel, sink, mail, maildir, tmp_path):
    for n in range(70, 75):
        deliver_complete(maildir, tmp_path / "f", porteur(n), paris(5, 8, n - 60))
    from actions.attestations import render_pending
    from actions.depots import register_mailbox
    from adapters.mailbox import iter_mailbox

    register_mailbox(factory, storage, 2018, iter_mailbox(maildir), maintenant=paris(8, 9))
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    sink.refused_recipients = {porteur(71).email}
    report = send_pending(factory, mail, storage.root, chunk=2)

    assert report.envoyes == 4 and report.echecs == 1  # 550: permanent, recorded as failed
    assert sink.connections == 3  # 5 rows, chunks of 2
    again = send_pending(factory, mail, storage.root, chunk=2)
    assert (again.envoyes, again.echecs) == (0, 0)


def test_sa_ties_a_waiting_depot_to_a_porteur_and_its_attestation_goes_out(factory, storage, appel, sink, mail, maildir):
    from actions.attestations import render_pending
    from actions.depots import SaisieRefusee, attach_depot

    p = porteur(90)
    deliver(maildir, sender="secretariat@inconnu.example.org", when=paris(6, 9), message_id="<orphelin@example.org>",
            attachments=[("lettre.pdf", cvs(p)[0][1])])
    run_intake(factory, storage, maildir, mail)
    with factory() as s:
        [waiting] = [r for r in list_dossiers(s, 2018, str(storage.root)) if r["numero"] is None]

    with pytest.raises(SaisieRefusee, match="SIRET invalide"):
        attach_depot(factory, 2018, waiting["depot"], siret="12345678901234", nom=None, maintenant=paris(8, 9))
    depot = attach_depot(factory, 2018, waiting["depot"], siret=p.siret, nom=p.nom, maintenant=paris(8, 9))
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    send_pending(factory, mail, storage.root)

    row = _rows(factory, storage)[p.nom]
    assert row["numero"] == "2018-001" and len(row["attestations"]) == 1
    assert any("rattaché par l'assistante" in m for m in row["motifs"])
    assert depot_entries(factory, depot.id) == [("depot_non_identifie", None), ("depot_rattache", "2018-001")]
    [message] = sink.messages()
    assert message["To"].addresses[0].addr_spec == "secretariat@inconnu.example.org"
    with pytest.raises(SaisieRefusee, match="déjà rattaché"):
        attach_depot(factory, 2018, depot.id, siret=p.siret, nom=None, maintenant=paris(8, 10))



def _aap_lines(caplog, level: int | None = None) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if (r.name == "aap" or r.name.startswith("aap.")) and (level is None or r.levelno == level)]


def test_the_intake_says_in_french_one_line_per_depot_document_and_mail_and_never_an_address(
    factory, storage, appel, sink, mail, maildir, tmp_path, caplog
):
    import logging
    import re

    from adapters.mailbox import Limites

    caplog.set_level(logging.INFO, logger="aap")
    known, refused, late = porteur(1, referents=2), porteur(2), porteur(3)
    deliver_complete(maildir, tmp_path / "f", known, paris(5, 9))
    deliver_complete(maildir, tmp_path / "f", known, paris(5, 9, 0, 1), to="aap@plie.example.org")  # a duplicate
    deliver_complete(maildir, tmp_path / "f", refused, paris(5, 10))
    deliver(maildir, sender="inconnu@example.org", when=paris(5, 11), message_id="<x@example.org>",
            attachments=[("lettre.pdf", cvs(known)[0][1])])
    big = deliver(maildir, sender="gros@example.org", when=paris(5, 12), message_id="<gros@example.org>",
                  attachments=[("gros.pdf", b"%PDF-1.4\n" + b"0" * 300_000)])
    deliver_complete(maildir, tmp_path / "f", late, paris(7, 17, 5))
    sink.refused_recipients = {refused.email}
    limites = Limites(taille_message=200_000)
    run_intake(factory, storage, maildir, mail, limites=limites)
    deliver(maildir, sender="usurpateur@example.org", when=paris(8, 9), message_id="<u@example.org>",
            attachments=[("dossier.xlsx", form_bytes(tmp_path / "f", known, contact_email="usurpateur@example.org")),
                         *cvs(known)])
    run_intake(factory, storage, maildir, mail, limites=limites)

    lines = _aap_lines(caplog)
    assert not [line for line in lines if "@" in line]
    with factory() as s:
        depots = sorted(s.scalars(select(Depot.id)))
    said = [int(m.group(1)) for m in (
        re.match(r"(?:Dépôt n° |Message \S+ conservé sans être enregistré \(dépôt n° )(\d+)", line) for line in lines) if m]
    assert sorted(said) == depots == [1, 2, 3, 4, 5, 6]  # one line per dépôt, and only one
    for expected in [
        "Dépôt n° 1 enregistré : dossier 2018-001 (Structure d'insertion n° 1), incomplet (1 pièce manquante), "
        "dans les délais.",
        "Dépôt n° 3 non identifié (message " f"{paris(5, 11).timestamp():.0f}",
        "Dépôt n° 5 enregistré : dossier 2018-003 (Structure d'insertion n° 3), incomplet (1 pièce manquante), "
        "hors délai.",
        "Dépôt n° 6 à vérifier : expéditeur inconnu pour cette structure (Structure d'insertion n° 1).",
        "Attestation AAP-2018-0001 rédigée pour le dossier 2018-001.",
        "Courriel « attestation de dépôt » (AAP-2018-0001) envoyé.",
        "Boîte relevée : 6 messages lus, 3 nouveaux dépôts, 0 déjà enregistré, 1 doublon, "
        "2 en attente de l'assistante, 1 hors délai.",
    ]:
        assert [line for line in lines if line.startswith(expected)], expected
    assert [line for line in lines if re.fullmatch(r"Message \S+ : doublon du dépôt n° 1, rien de nouveau\.", line)]
    warnings = _aap_lines(caplog, logging.WARNING)
    assert warnings == [
        f"Message {big.name} conservé sans être enregistré (dépôt n° 4, en attente de l'assistante) : "
        "message trop volumineux (0,4 Mo ; au plus 0,2 Mo).",
        "Courriel « attestation de dépôt » (AAP-2018-0002) en échec : destinataire refusé : [adresse] "
        "(550 5.1.1 destinataire inconnu).",
    ]


def test_publishing_the_call_says_so_in_french_with_its_deadline_and_announcements(factory, storage, cfg, caplog):
    import logging

    from actions.publication import publish_appel, register_known_porteur
    from tests.conftest import PUBLICATION

    p = porteur(40)
    register_known_porteur(factory, siret=p.siret, nom=p.nom, email=p.email)
    caplog.set_level(logging.INFO, logger="aap")

    publish_appel(factory, storage, cfg, maintenant=PUBLICATION)
    publish_appel(factory, storage, cfg, maintenant=PUBLICATION)

    assert [line.replace("\u202f", " ") for line in _aap_lines(caplog)] == [
        "Appel 2018 publié : date limite le 7 décembre 2017 à 17 h 00, dossier de réponse dossier_reponse_2018.xlsx, "
        "1 annonce mise en file d'envoi.",
        "Appel 2018 déjà publié : 0 annonce mise en file d'envoi.",
    ]
