"""Sending through fastapi-mail into a real aiosmtpd sink on a free port."""

from __future__ import annotations

import asyncio
import stat
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from adapters.smtp import MailSettings, OutgoingMail, SendOutcome, make_message_id, send_batch
from adapters.smtp_sink import SmtpSink, find_free_port

SENDER = "PLIE du bassin dijonnais <plie@example.org>"
SUBJECT = "Accusé de réception « AAP 2018 »"
ATTACHMENT_BYTES = b"PK\x03\x04" + bytes(range(256)) * 40


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path / "maildir") as running:
        yield running


@pytest.fixture
def attachment(tmp_path: Path) -> Path:
    path = tmp_path / "Convention signée « 2018 ».docx"
    path.write_bytes(ATTACHMENT_BYTES)
    return path


def settings_for(port: int) -> MailSettings:
    return MailSettings(host="127.0.0.1", port=port, sender=SENDER, timeout=5)


def make_mail(number: int, *, to: str | None = None, attachments: tuple[Path, ...] = ()) -> OutgoingMail:
    key = f"attestation:AAP-2018-{number:04d}"
    return OutgoingMail(
        key=key,
        to=(to or f"porteur{number}@example.org",),
        subject=f"{SUBJECT} n° {number}",
        body=f"Bonjour,\n\nVotre dépôt n° {number} est bien reçu.\n",
        message_id=make_message_id(key),
        attachments=attachments,
    )


def send_and_collect(settings: MailSettings, mails: list[OutgoingMail]) -> dict[str, SendOutcome | None]:
    results: dict[str, SendOutcome | None] = {}

    def record(mail: OutgoingMail, outcome: SendOutcome | None) -> None:
        results[mail.key] = outcome

    send_batch(settings, mails, record)
    return results


def attachment_of(message: EmailMessage) -> EmailMessage:
    parts = list(message.iter_attachments())
    assert len(parts) == 1
    return parts[0]  # type: ignore[return-value]


def test_batch_of_three_arrives_whole_over_one_connection(sink: SmtpSink, attachment: Path) -> None:
    mails = [make_mail(n, attachments=(attachment,)) for n in (1, 2, 3)]

    results = send_and_collect(settings_for(sink.port), mails)

    assert results == {m.key: None for m in mails}
    received = sink.messages()
    assert len(received) == 3
    assert sink.connections == 1
    assert len({m["X-Peer"] for m in received}) == 1
    for mail, message in zip(mails, received):
        assert message.get_all("Message-ID") == [mail.message_id]
        assert message["Subject"] == mail.subject
        assert message["To"] == mail.to[0]
        assert message["X-Envelope-To"] == mail.to[0]
        assert message["From"].addresses[0].display_name == "PLIE du bassin dijonnais"
        assert message["X-Envelope-From"] == "<plie@example.org>"
        assert message["Auto-Submitted"] == "auto-generated"
        body = message.get_body(preferencelist=("plain",))
        assert body is not None and body.get_content() == mail.body
        part = attachment_of(message)
        assert part.get_filename() == "Convention signée « 2018 ».docx"
        assert part.get_content_type() == (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        assert part.get_payload(decode=True) == ATTACHMENT_BYTES


def test_multipart_root_has_no_transfer_encoding(sink: SmtpSink, attachment: Path) -> None:
    send_and_collect(settings_for(sink.port), [make_mail(1, attachments=(attachment,))])

    (message,) = sink.messages()
    assert message.get_content_type() == "multipart/mixed"
    assert message["Content-Transfer-Encoding"] is None
    assert message.get_param("charset") is None


def raw_messages(sink: SmtpSink) -> list[bytes]:
    return [path.read_bytes() for path in (sink.maildir_path / "new").iterdir()]


def test_attachment_name_uses_registered_utf8_charset(sink: SmtpSink, attachment: Path) -> None:
    send_and_collect(settings_for(sink.port), [make_mail(1, attachments=(attachment,))])

    (raw,) = raw_messages(sink)
    assert b"filename*=utf-8''Convention%20sign%C3%A9e%20%C2%AB%202018%20%C2%BB.docx" in raw
    assert b"UTF8''" not in raw


def test_ascii_attachment_name_is_plain(sink: SmtpSink, tmp_path: Path) -> None:
    path = tmp_path / "annexe-budget.pdf"
    path.write_bytes(b"%PDF-1.4 test")

    send_and_collect(settings_for(sink.port), [make_mail(1, attachments=(path,))])

    part = attachment_of(sink.messages()[0])
    assert b'Content-Disposition: attachment; filename="annexe-budget.pdf"' in raw_messages(sink)[0]
    assert part.get_content_type() == "application/pdf"
    assert part.get_payload(decode=True) == b"%PDF-1.4 test"


def test_message_id_is_deterministic() -> None:
    first = make_message_id("attestation:AAP-2018-0003")

    assert first == make_message_id("attestation:AAP-2018-0003")
    assert first != make_message_id("attestation:AAP-2018-0004")
    assert first.startswith("<") and first.endswith("@aap.example.org>")
    assert len(first) == len("<") + 32 + len("@aap.example.org>")


def test_outage_reports_every_mail_failed_without_raising(sink: SmtpSink) -> None:
    sink.refuse = True
    mails = [make_mail(n) for n in (1, 2, 3)]

    results = send_and_collect(settings_for(sink.port), mails)

    assert set(results) == {m.key for m in mails}
    assert all(o is not None and o.transient and o.code == 451 for o in results.values())
    assert sink.messages() == []


def test_closed_port_reports_every_mail_unreachable() -> None:
    mails = [make_mail(n) for n in (1, 2, 3)]

    results = send_and_collect(settings_for(find_free_port()), mails)

    assert set(results) == {m.key for m in mails}
    assert all(
        o is not None and o.transient and o.code is None and o.reason.startswith("serveur SMTP injoignable : ")
        for o in results.values()
    )


def test_refused_recipient_does_not_stop_the_batch(sink: SmtpSink) -> None:
    sink.refused_recipients = {"inconnu@example.org"}
    mails = [make_mail(1), make_mail(2, to="inconnu@example.org"), make_mail(3)]

    results = send_and_collect(settings_for(sink.port), mails)

    assert results[mails[0].key] is None and results[mails[2].key] is None
    outcome = results[mails[1].key]
    assert outcome is not None and not outcome.transient and outcome.code == 550
    assert "inconnu@example.org" in outcome.reason and "550" in outcome.reason
    assert [m["Message-ID"] for m in sink.messages()] == [mails[0].message_id, mails[2].message_id]
    assert sink.connections == 1


def test_partly_refused_recipients_are_reported(sink: SmtpSink) -> None:
    sink.refused_recipients = {"inconnu@example.org"}
    mail = OutgoingMail(
        key="relance:1",
        to=("elodie@example.org", "inconnu@example.org"),
        subject="Relance",
        body="Bonjour",
        message_id=make_message_id("relance:1"),
    )

    results = send_and_collect(settings_for(sink.port), [mail])

    outcome = results["relance:1"]
    assert outcome is not None and outcome.reason.startswith("remis en partie") and not outcome.transient
    (message,) = sink.messages()
    assert message["X-Envelope-To"] == "elodie@example.org"
    assert [a.addr_spec for a in message["To"].addresses] == ["elodie@example.org", "inconnu@example.org"]


def test_missing_attachment_fails_only_that_mail(sink: SmtpSink, tmp_path: Path) -> None:
    mails = [make_mail(1), make_mail(2, attachments=(tmp_path / "absent.docx",)), make_mail(3)]

    results = send_and_collect(settings_for(sink.port), mails)

    assert results[mails[0].key] is None and results[mails[2].key] is None
    outcome = results[mails[1].key]
    assert outcome is not None and not outcome.transient and outcome.reason.startswith("message impossible")
    assert len(sink.messages()) == 2


def test_environment_cannot_suppress_or_rename_sending(
    sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPPRESS_SEND", "1")
    monkeypatch.setenv("MAIL_FROM_NAME", "Quelqu'un d'autre")

    results = send_and_collect(settings_for(sink.port), [make_mail(1)])

    assert results == {"attestation:AAP-2018-0001": None}
    (message,) = sink.messages()
    assert message["From"].addresses[0].display_name == "PLIE du bassin dijonnais"


def test_plain_sender_address_is_accepted(sink: SmtpSink) -> None:
    settings = MailSettings(host="127.0.0.1", port=sink.port, sender="plie@example.org")

    assert send_and_collect(settings, [make_mail(1)]) == {"attestation:AAP-2018-0001": None}
    assert sink.messages()[0]["From"] == "plie@example.org"


def test_empty_batch_opens_no_connection(sink: SmtpSink) -> None:
    send_batch(settings_for(sink.port), [], lambda mail, error: None)

    assert sink.connections == 0


def test_send_batch_runs_from_a_worker_thread(sink: SmtpSink) -> None:
    outcome: dict[str, str | None] = {}
    worker = threading.Thread(
        target=lambda: outcome.update(send_and_collect(settings_for(sink.port), [make_mail(1)]))
    )

    worker.start()
    worker.join(timeout=30)

    assert outcome == {"attestation:AAP-2018-0001": None}
    assert len(sink.messages()) == 1


def test_send_batch_runs_inside_a_running_event_loop(sink: SmtpSink) -> None:
    async def caller() -> dict[str, str | None]:
        return send_and_collect(settings_for(sink.port), [make_mail(1)])

    assert asyncio.run(caller()) == {"attestation:AAP-2018-0001": None}
    assert len(sink.messages()) == 1


def test_sink_files_are_private(sink: SmtpSink) -> None:
    send_and_collect(settings_for(sink.port), [make_mail(1)])

    (path,) = (sink.maildir_path / "new").iterdir()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sink.maildir_path.stat().st_mode) == 0o700


def test_sink_port_refuses_connections_after_stop(tmp_path: Path) -> None:
    sink = SmtpSink(tmp_path / "maildir")
    port = sink.start()
    sink.stop()

    results = send_and_collect(settings_for(port), [make_mail(1)])

    assert results["attestation:AAP-2018-0001"] is not None


def test_sink_counts_one_connection_per_batch(sink: SmtpSink) -> None:
    send_and_collect(settings_for(sink.port), [make_mail(1), make_mail(2)])
    send_and_collect(settings_for(sink.port), [make_mail(3)])

    assert sink.connections == 2
    assert len({m["X-Peer"] for m in sink.messages()}) == 2


def test_an_address_containing_451_refused_for_good_is_a_permanent_refusal(sink: SmtpSink) -> None:
    sink.refused_recipients = {"x451@example.org"}

    results = send_and_collect(settings_for(sink.port), [make_mail(1, to="x451@example.org")])

    outcome = results["attestation:AAP-2018-0001"]
    assert outcome == SendOutcome(False, 550, "destinataire refusé : x451@example.org (550 5.1.1 destinataire inconnu)")


HOSTILE_RECIPIENTS = [
    "a@example.org, b@example.org",
    "a@example.org; b@example.org",
    "x@example.org\r\nBcc: y@example.org",
    "x@example.org\nBcc: y@example.org",
    "amis: a@example.org, b@example.org;",
    '"Evil <a@example.org>" <b@example.org>',
    "Evil <a@example.org>",
    "   ",
]


@pytest.mark.parametrize("hostile", HOSTILE_RECIPIENTS)
def test_a_recipient_that_is_not_exactly_one_address_is_refused_before_any_rcpt(sink: SmtpSink, hostile: str) -> None:
    mails = [make_mail(1), make_mail(2, to=hostile), make_mail(3)]

    results = send_and_collect(settings_for(sink.port), mails)

    outcome = results[mails[1].key]
    assert outcome is not None and not outcome.transient and outcome.code is None
    assert outcome.reason.startswith("destinataire refusé avant l'envoi (")
    assert sink.rcpts == ["porteur1@example.org", "porteur3@example.org"]
    assert [m["X-Envelope-To"] for m in sink.messages()] == ["porteur1@example.org", "porteur3@example.org"]
