"""Reading received e-mails as hostile input: real files in tmp_path, real parser."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import stat
import unicodedata
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from adapters.eml_samples import build_depot_email, write_eml, write_maildir_message
from adapters.mailbox import (
    FICHIER,
    RECEIVED,
    BoiteIntrouvable,
    delivery_time,
    iter_mailbox,
    parse_message,
)

RECEPTION = datetime(2017, 12, 7, 16, 59, tzinfo=UTC)
LYING_DATE = datetime(2017, 12, 1, 9, 0, tzinfo=UTC)
PROBLEME_RECEIVED = "en-tête Received absent ou illisible : heure de dépôt du fichier utilisée"


def depot(**overrides: object) -> bytes:
    """A realistic dépôt e-mail; any field can be overridden."""
    fields: dict[str, object] = {
        "sender": "contact@association-exemple.example.org",
        "sender_name": "Association Exemple",
        "to": "aap@plie.example.org",
        "subject": "Réponse à l'appel à projets 2018",
        "received_at": RECEPTION,
        "message_id": "<depot-1@association-exemple.example.org>",
        "attachments": [("dossier_reponse.xlsx", b"PK\x03\x04form"), ("CV_referent.pdf", b"%PDF-1.4 cv")],
    }
    fields.update(overrides)
    return build_depot_email(**fields)  # type: ignore[arg-type]


def hand_made(headers: str, body: bytes = b"Bonjour.\r\n") -> bytes:
    """Raw bytes written by hand, CRLF line ends, for what EmailMessage refuses to build."""
    return headers.replace("\n", "\r\n").encode("utf-8") + b"\r\n" + body


def multipart(headers: str, *parts: bytes) -> bytes:
    body = b"".join(b"--sep\r\n" + p + b"\r\n" for p in parts) + b"--sep--\r\n"
    return hand_made(
        headers + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="sep"\n', body
    )


PLAIN_HEADERS = (
    "Received: from mail.example.org by mx.plie.example.org with ESMTPS id 1A; "
    "Thu, 07 Dec 2017 17:59:00 +0100\n"
    "From: Association Exemple <contact@example.org>\n"
    "To: aap@plie.example.org\n"
    "Subject: Dépôt\n"
)
TEXT_PART = b"Content-Type: text/plain\r\n\r\nBonjour.\r\n"


# --- reception time -------------------------------------------------------


def test_reception_time_is_the_topmost_received_hop_not_the_date_header(tmp_path: Path) -> None:
    path = write_eml(tmp_path, "depot", depot(date_header=LYING_DATE))

    message = parse_message(path)

    assert message.received_at == RECEPTION
    assert message.received_at.tzinfo == UTC
    assert message.received_from == RECEIVED
    assert message.date_header == LYING_DATE
    assert PROBLEME_RECEIVED not in message.problems


def test_an_older_relay_hop_below_the_topmost_received_is_ignored(tmp_path: Path) -> None:
    raw = hand_made(
        "Received: from mail.example.org by mx.plie.example.org; Thu, 7 Dec 2017 17:05:00 +0100\n"
        "Received: from [10.0.0.5] by mail.example.org; Thu, 7 Dec 2017 16:30:00 +0100\n"
        "From: contact@example.org\n"
        "Date: Thu, 7 Dec 2017 16:29:00 +0100\n"
    )

    message = parse_message(write_eml(tmp_path, "relai", raw))

    assert message.received_at == datetime(2017, 12, 7, 16, 5, tzinfo=UTC)


def test_without_received_the_maildir_file_name_gives_the_time_and_a_problem(tmp_path: Path) -> None:
    raw = hand_made(
        "From: contact@example.org\nSubject: sans Received\nDate: Fri, 1 Dec 2017 10:00:00 +0100\n"
    )
    path = write_maildir_message(tmp_path / "Maildir", raw, delivered_at=RECEPTION)
    os.utime(path, (0, 0))  # the name, not the mtime, must decide

    message = parse_message(path)

    assert path.name.startswith("1512665940.")
    assert message.received_at == RECEPTION
    assert message.received_from == FICHIER
    assert PROBLEME_RECEIVED in message.problems
    assert message.date_header == datetime(2017, 12, 1, 9, 0, tzinfo=UTC)


def test_without_received_a_plain_eml_file_uses_its_mtime(tmp_path: Path) -> None:
    path = write_eml(tmp_path, "sans-received.eml", hand_made("From: contact@example.org\n"))
    os.utime(path, (RECEPTION.timestamp(), RECEPTION.timestamp()))

    assert delivery_time(path) == RECEPTION
    assert parse_message(path).received_at == RECEPTION


@pytest.mark.parametrize(
    "received",
    [
        "from mail.example.org by mx.plie.example.org",
        "from mail.example.org by mx.plie.example.org; le 7 décembre vers 17 h",
        "from x; Thu, 31 Feb 2017 25:61:00 +0100",
        "",
    ],
)
def test_an_unreadable_received_falls_back_to_the_file_time(tmp_path: Path, received: str) -> None:
    raw = hand_made(f"Received: {received}\nFrom: contact@example.org\nDate: Fri, 1 Dec 2017 10:00:00 +0100\n")
    path = write_maildir_message(tmp_path / "Maildir", raw, delivered_at=RECEPTION)

    message = parse_message(path)

    assert message.received_at == RECEPTION
    assert message.received_from == FICHIER
    assert PROBLEME_RECEIVED in message.problems


def test_a_received_without_offset_is_read_as_utc(tmp_path: Path) -> None:
    raw = hand_made("Received: from a by b; Thu, 07 Dec 2017 16:59:00 -0000\nFrom: c@example.org\n")

    assert parse_message(write_eml(tmp_path, "m", raw)).received_at == RECEPTION


# --- attachments ----------------------------------------------------------


def test_a_path_traversal_attachment_name_keeps_only_the_basename(tmp_path: Path) -> None:
    raw = depot(attachments=[("../../etc/passwd", b"root:x:0:0"), ("..\\..\\boot.ini", b"x")])

    message = parse_message(write_eml(tmp_path, "m", raw))

    names = [(a.filename, a.original_filename) for a in message.attachments]
    assert names == [("passwd", "../../etc/passwd"), ("boot.ini", "..\\..\\boot.ini")]
    assert message.attachments[0].content == b"root:x:0:0"


def test_an_encoded_word_filename_is_decoded(tmp_path: Path) -> None:
    encoded = base64.b64encode("CV_Éloïse.pdf".encode()).decode()
    raw = multipart(
        PLAIN_HEADERS,
        TEXT_PART,
        (
            "Content-Type: application/pdf\r\n"
            f'Content-Disposition: attachment; filename="=?utf-8?b?{encoded}?="\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n"
        ).encode(),
    )

    (attachment,) = parse_message(write_eml(tmp_path, "m", raw)).attachments

    assert attachment.filename == "CV_Éloïse.pdf"
    assert attachment.content == b"%PDF-1.4"
    assert attachment.content_type == "application/pdf"


def test_an_rfc2231_decomposed_filename_is_normalised_to_nfc(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "CV_Éloïse.pdf")
    raw = depot(attachments=[(decomposed, b"%PDF")])

    (attachment,) = parse_message(write_eml(tmp_path, "m", raw)).attachments

    assert attachment.filename == unicodedata.normalize("NFC", "CV_Éloïse.pdf")
    assert attachment.original_filename == decomposed


def test_control_characters_and_bidi_overrides_leave_the_display_name(tmp_path: Path) -> None:
    raw = depot(attachments=[("cv\tjean\u202efdp.exe", b"MZ")])

    (attachment,) = parse_message(write_eml(tmp_path, "m", raw)).attachments

    assert attachment.filename == "cv jeanfdp.exe"
    assert attachment.original_filename == "cv?jean?fdp.exe"


def test_a_very_long_name_is_cut_to_150_characters_keeping_its_extension(tmp_path: Path) -> None:
    raw = depot(attachments=[("budget-" + "x" * 300 + ".xlsx", b"PK")])

    (attachment,) = parse_message(write_eml(tmp_path, "m", raw)).attachments

    assert len(attachment.filename) == 150
    assert attachment.filename.endswith(".xlsx")
    assert attachment.filename.startswith("budget-xxx")


def test_an_attachment_without_a_usable_name_is_numbered(tmp_path: Path) -> None:
    raw = multipart(
        PLAIN_HEADERS,
        TEXT_PART,
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment\r\n\r\nA\r\n",
        b'Content-Type: application/pdf\r\nContent-Disposition: attachment; filename="../.."\r\n\r\nB\r\n',
    )

    message = parse_message(write_eml(tmp_path, "m", raw))

    assert [(a.filename, a.original_filename) for a in message.attachments] == [
        ("piece-jointe-1", None),
        ("piece-jointe-2", "../.."),
    ]


def test_attachments_in_nested_multiparts_are_all_found(tmp_path: Path) -> None:
    inner = (
        b'Content-Type: multipart/related; boundary="in"\r\n\r\n'
        b"--in\r\nContent-Type: text/html\r\n\r\n<p>Bonjour</p>\r\n"
        b'--in\r\nContent-Type: image/png\r\nContent-Disposition: inline; filename="logo.png"\r\n\r\nPNG\r\n'
        b"--in--"
    )
    raw = multipart(
        PLAIN_HEADERS,
        inner,
        b'Content-Type: application/pdf; name="statuts.pdf"\r\n\r\n%PDF\r\n',
    )

    message = parse_message(write_eml(tmp_path, "m", raw))

    assert [a.filename for a in message.attachments] == ["logo.png", "statuts.pdf"]
    assert "aucune pièce jointe" not in message.problems


def test_a_forwarded_email_is_opened_one_level_and_its_attachments_are_the_pieces(tmp_path: Path) -> None:
    forwarded = depot(subject="Envoi initial", attachments=[("dossier.xlsx", b"PK\x03\x04form"), ("cv.pdf", b"%PDF")])
    raw = multipart(PLAIN_HEADERS, TEXT_PART, b"Content-Type: message/rfc822\r\n\r\n" + forwarded)

    message = parse_message(write_eml(tmp_path, "m", raw))

    assert [(a.filename, a.content) for a in message.attachments] == [("dossier.xlsx", b"PK\x03\x04form"),
                                                                      ("cv.pdf", b"%PDF")]
    assert message.sender_address == "contact@example.org"  # the one who forwarded it
    assert ("dossier transféré : les pièces jointes du message joint « Envoi initial » de "
            "contact@association-exemple.example.org sont lues comme pièces du dépôt") in message.problems


def test_an_email_attached_inside_a_forwarded_one_stays_one_file(tmp_path: Path) -> None:
    inner = depot(subject="Plus ancien", attachments=[("cv.pdf", b"%PDF")])
    forwarded = multipart(PLAIN_HEADERS.replace("Dépôt", "Transfert"), TEXT_PART,
                          b"Content-Type: message/rfc822\r\n\r\n" + inner).replace(b"--sep", b"--sep2").replace(
                              b'boundary="sep"', b'boundary="sep2"')
    raw = multipart(PLAIN_HEADERS, TEXT_PART, b"Content-Type: message/rfc822\r\n\r\n" + forwarded)

    message = parse_message(write_eml(tmp_path, "m", raw))

    (attachment,) = message.attachments
    assert attachment.filename == "message-joint.eml" and attachment.content_type == "message/rfc822"
    assert b"Subject: Plus ancien" in attachment.content and b'filename="cv.pdf"' in attachment.content
    assert sum(p.startswith("dossier transféré") for p in message.problems) == 1


def test_bad_base64_is_kept_with_a_problem_and_the_other_parts_still_read(tmp_path: Path) -> None:
    raw = multipart(
        PLAIN_HEADERS,
        TEXT_PART,
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=casse.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBER!!!i0xLj*Q\r\n",
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=bon.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n",
    )

    message = parse_message(write_eml(tmp_path, "m", raw))

    assert [a.filename for a in message.attachments] == ["casse.pdf", "bon.pdf"]
    assert message.attachments[1].content == b"%PDF-1.4"
    assert any("casse.pdf" in p and "encodage" in p for p in message.problems)


def test_a_message_without_attachment_says_so(tmp_path: Path) -> None:
    message = parse_message(write_eml(tmp_path, "m", depot(attachments=[])))

    assert message.attachments == ()
    assert "aucune pièce jointe" in message.problems


# --- hostile headers and content -----------------------------------------


def test_a_raw_newline_in_the_sender_name_does_not_lose_the_headers_below(tmp_path: Path) -> None:
    raw = multipart(
        PLAIN_HEADERS.replace(
            "From: Association Exemple <contact@example.org>",
            'From: "Jean\nDupont" <Jean.Dupont@Example.org>',
        ),
        TEXT_PART,
        b"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=cv.pdf\r\n\r\n%PDF\r\n",
    )

    message = parse_message(write_eml(tmp_path, "m", raw))

    assert message.sender_address == "jean.dupont@example.org"
    assert message.sender_name == "Jean Dupont"
    assert message.subject == "Dépôt"
    assert [a.filename for a in message.attachments] == ["cv.pdf"]


def test_an_encoded_newline_in_the_sender_name_is_removed(tmp_path: Path) -> None:
    raw = hand_made(
        "From: =?utf-8?q?Jean=0A=0DBcc=3A_victime=40example=2Eorg?= <jean@example.org>\n"
        "Subject: =?utf-8?q?D=C3=A9p=C3=B4t=0Aligne?=\n"
    )

    message = parse_message(write_eml(tmp_path, "m", raw))

    assert message.sender_address == "jean@example.org"
    assert "\n" not in message.sender_name and "\r" not in message.sender_name
    assert message.sender_name.startswith("Jean")
    assert message.subject == "Dépôt ligne"


def test_non_utf8_header_bytes_give_storable_text(tmp_path: Path) -> None:
    raw = (
        b"From: Association \xe9t\xe9 <contact@example.org>\r\n"
        b"Subject: D\xe9p\xf4t \xff\r\n\r\nBonjour\r\n"
    )

    message = parse_message(write_eml(tmp_path, "m", raw))

    assert message.sender_address == "contact@example.org"
    message.subject.encode("utf-8")  # no lone surrogate left
    message.sender_name.encode("utf-8")


@pytest.mark.parametrize("from_header", ["", "pas une adresse", "<@>", "Jean <jean@>"])
def test_an_unusable_from_gives_no_address_and_a_problem(tmp_path: Path, from_header: str) -> None:
    message = parse_message(write_eml(tmp_path, "m", hand_made(f"From: {from_header}\n")))

    assert message.sender_address is None
    assert any("expéditeur" in p for p in message.problems)


def test_the_message_id_is_normalised(tmp_path: Path) -> None:
    message = parse_message(write_eml(tmp_path, "m", hand_made("Message-ID:  < abc.1@example.org >\n")))
    blank = parse_message(write_eml(tmp_path, "n", hand_made("Message-ID:   \n")))

    assert message.message_id == "<abc.1@example.org>"
    assert blank.message_id is None


def test_an_empty_file_is_an_empty_message(tmp_path: Path) -> None:
    path = write_eml(tmp_path, "vide", b"")

    message = parse_message(path)

    assert "message vide" in message.problems
    assert message.attachments == ()
    assert message.size == 0
    assert message.received_from == FICHIER


@pytest.mark.parametrize(
    "garbage",
    [
        random.Random(2017).randbytes(8192),
        b"\x00" * 100,
        b"\xff\xfe\r\n\r\n\x00",
        b"Content-Type: multipart/mixed; boundary=\r\n\r\n--\r\n--\r\n",
        b'Content-Type: multipart/mixed; boundary="a"\r\n\r\n' + b"--a\r\nContent-Type: multipart/mixed; boundary=\"a\"\r\n\r\n" * 1000,
        b"Content-Type: message/rfc822\r\n\r\n" * 500,
        b"From: \"\r\nSubject: =?x-unknown?q?a?= =?utf-8?b?!!!?=\r\nReceived: ;\r\n\r\n",
    ],
    ids=["random", "nul", "bom", "empty-boundary", "deep-multipart", "deep-rfc822", "broken-headers"],
)
def test_garbage_never_raises(tmp_path: Path, garbage: bytes) -> None:
    path = write_eml(tmp_path, "dechet", garbage)

    message = parse_message(path)

    assert message.size == len(garbage)
    assert message.problems
    for attachment in message.attachments:
        assert attachment.filename and "/" not in attachment.filename


def test_the_fingerprint_is_the_sha256_of_the_file_bytes(tmp_path: Path) -> None:
    raw = depot()
    message = parse_message(write_eml(tmp_path, "m", raw))

    assert message.raw_sha256 == hashlib.sha256(raw).hexdigest()
    assert message.size == len(raw)


# --- mailbox listing and samples ------------------------------------------


def test_a_maildir_lists_new_and_cur_but_not_tmp(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    first = write_maildir_message(maildir, depot(), delivered_at=RECEPTION)
    second = write_maildir_message(maildir, depot(), delivered_at=datetime(2017, 12, 6, tzinfo=UTC))
    seen = (maildir / "cur" / (second.name + ":2,S"))
    second.rename(seen)
    (maildir / "tmp" / "1512665000.M1P1.host").write_bytes(depot())
    (maildir / "new" / ".cache").write_bytes(b"x")

    assert iter_mailbox(maildir) == [seen, first]


def test_a_plain_folder_lists_its_eml_files_in_name_order(tmp_path: Path) -> None:
    b = write_eml(tmp_path, "b-depot", depot())
    a = write_eml(tmp_path, "a-depot.EML", depot())
    (tmp_path / "notes.txt").write_text("pas un message")
    (tmp_path / "sous-dossier.eml").mkdir()

    assert iter_mailbox(tmp_path) == [a, b]


def test_a_missing_mailbox_is_a_clear_french_error(tmp_path: Path) -> None:
    with pytest.raises(BoiteIntrouvable, match="Boîte aux lettres introuvable"):
        iter_mailbox(tmp_path / "absente")


def test_a_sample_maildir_message_is_private_and_dated(tmp_path: Path) -> None:
    path = write_maildir_message(tmp_path / "Maildir", depot(), delivered_at=RECEPTION)

    assert path.parent.name == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_mtime == RECEPTION.timestamp()
    assert delivery_time(path) == RECEPTION


def test_the_sample_topmost_received_is_the_plie_server_in_paris_time() -> None:
    parsed = BytesParser(policy=policy.default).parsebytes(depot())

    topmost, older = (" ".join(str(h).split()) for h in parsed.get_all("Received"))

    assert " by mx.plie.example.org " in topmost
    assert topmost.endswith("; Thu, 07 Dec 2017 17:59:00 +0100")
    assert older.endswith("17:58:58 +0100")
