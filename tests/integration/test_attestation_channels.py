"""The channels section of the attestation and of its mail: what this dépôt brought, what the dossier has received
so far (each with its date and whether it was in time), what is still expected — never contradicting the first
sentence. Through the real intake (e-mail and post), documents and mails read back."""
from __future__ import annotations

from actions.attestations import render_pending
from actions.depots import register_postal
from actions.outbox import send_pending
from templates.render import read_docx_text
from tests.conftest import run_intake
from tests.samples import cv_pdf, deliver_complete, paris, porteur


def fr(text: str) -> str:
    return text.replace("\u202f", " ").replace("\xa0", " ")


def attestation(storage, numero: str) -> str:
    return fr(read_docx_text(storage.root / f"attestations/2018/{numero}.docx"))


def body(message) -> str:
    return fr(message.get_body(("plain",)).get_content())


def post(factory, storage, tmp_path, p, when):
    scan = tmp_path / f"scan-{p.siret}-{when:%d%H%M}.pdf"
    scan.write_bytes(cv_pdf(f"Courrier de {p.nom} du {when:%d/%m %H:%M}"))
    register_postal(factory, storage, 2018, siret=p.siret, recu_le=when, files=[scan], nom=None, maintenant=when)


def test_a_late_e_mail_is_attested_as_received_late_not_as_nothing_received(factory, storage, appel, sink, mail,
                                                                             maildir, tmp_path):
    late = porteur(4)
    deliver_complete(maildir, tmp_path / "f", late, paris(7, 17, 1))

    run_intake(factory, storage, maildir, mail)

    text = attestation(storage, "AAP-2018-0001")
    assert "le 7 décembre 2017 à 17 h 01, par courriel" in text
    assert "Ce dépôt : courriel reçu le 7 décembre 2017 à 17 h 01, hors délai." in text
    assert "Reçu à ce jour pour ce dossier : courriel le 7 décembre 2017 à 17 h 01 (hors délai)." in text
    assert "Encore attendu : courrier postal." in text
    assert "aucun" not in text.split("Canaux reçus / attendus")[1].split("Pièces manquantes")[0]
    assert "dans les délais" not in text.split("Pièces manquantes")[1]  # no « aucun dépôt reçu dans les délais »
    [message] = sink.messages()
    text = body(message)
    assert "reçu le 7 décembre 2017 à 17 h 01 par courriel" in text
    assert "Reçu à ce jour pour votre dossier : courriel le 7 décembre 2017 à 17 h 01 (hors délai)." in text
    assert "Reçu à ce jour : aucun" not in text


def test_a_late_postal_copy_is_attested_as_received_late_not_as_still_expected(factory, storage, appel, sink, mail,
                                                                                maildir, tmp_path):
    p = porteur(5)
    deliver_complete(maildir, tmp_path / "f", p, paris(6, 10))
    run_intake(factory, storage, maildir, mail)

    post(factory, storage, tmp_path, p, paris(8, 9))
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    send_pending(factory, mail, storage.root)

    text = attestation(storage, "AAP-2018-0002")
    assert "le 8 décembre 2017 à 9 h 00, par courrier postal" in text
    assert "Ce dépôt : courrier postal reçu le 8 décembre 2017 à 9 h 00, hors délai." in text
    assert ("Reçu à ce jour pour ce dossier : courriel le 6 décembre 2017 à 10 h 00 (dans les délais) ; "
            "courrier postal le 8 décembre 2017 à 9 h 00 (hors délai).") in text
    assert "Encore attendu : aucun autre envoi." in text
    assert "courrier postal." not in text.split("Encore attendu")[1].split("\n")[0].replace("aucun autre envoi.", "")
    assert "non reçu" not in text  # « envoi postal (courrier) non reçu » would contradict the first sentence
    second = body(sink.messages()[-1])
    assert "Encore attendu" not in second and "courrier postal le 8 décembre 2017 à 9 h 00 (hors délai)" in second


def test_a_postal_copy_in_time_completes_the_channels_and_says_so(factory, storage, appel, sink, mail, maildir,
                                                                  tmp_path):
    p = porteur(6)
    deliver_complete(maildir, tmp_path / "f", p, paris(6, 10))
    run_intake(factory, storage, maildir, mail)

    post(factory, storage, tmp_path, p, paris(7, 11))
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    send_pending(factory, mail, storage.root)

    text = attestation(storage, "AAP-2018-0002")
    assert ("Reçu à ce jour pour ce dossier : courriel le 6 décembre 2017 à 10 h 00 (dans les délais) ; "
            "courrier postal le 7 décembre 2017 à 11 h 00 (dans les délais).") in text
    assert "Encore attendu : aucun autre envoi." in text
    assert "Nous avons bien reçu votre réponse par les deux voies, dans les délais." in body(sink.messages()[-1])
