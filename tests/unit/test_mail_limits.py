"""Parsing under limits (issue 8, §5): a hostile message is held unread with a French reason,
fast, and its sender, Received time and Message-ID are still read from its top headers."""
from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.eml_samples import write_eml
from adapters.mailbox import Limites, parse_message
from tests.hostile_messages import deeply_nested, huge_header, many_headers, many_parts, with_attachments

SENDER = "bombe@example.org"
WHEN = datetime(2017, 12, 6, 9, 0, tzinfo=UTC)
MID = "<hostile@example.org>"


def held(tmp_path: Path, raw: bytes, limites: Limites = Limites()):
    path = write_eml(tmp_path, "m", raw)
    started = time.monotonic()
    message = parse_message(path, limites)
    elapsed = time.monotonic() - started
    assert message.limite is not None, message.problems
    assert (message.sender_address, message.received_at, message.message_id) == (SENDER, WHEN, MID)
    assert message.attachments == () and message.limite in message.problems
    assert elapsed < 2, f"{elapsed:.1f} s pour refuser le message"
    return message


def test_a_message_nested_five_thousand_levels_deep_is_held_unread(tmp_path):
    message = held(tmp_path, deeply_nested(SENDER, WHEN, MID, depth=5000))
    assert message.limite.startswith("structure MIME trop imbriquée (5\u202f001 parties multiples")


def test_a_nesting_deeper_than_the_depth_limit_is_held_after_parsing(tmp_path):
    message = held(tmp_path, deeply_nested(SENDER, WHEN, MID, depth=30), Limites(conteneurs=1000, profondeur=20))
    assert message.limite == "structure MIME trop profonde (plus de 20 niveaux)"


def test_a_message_of_ten_thousand_parts_is_held_unread(tmp_path):
    message = held(tmp_path, many_parts(SENDER, WHEN, MID, parts=10_000))
    assert message.limite == "trop de parties MIME (10\u202f000 ; au plus 1\u202f000)"


def test_a_two_megabyte_header_is_held_unread(tmp_path):
    message = held(tmp_path, huge_header(SENDER, WHEN, MID))
    assert message.limite == "en-têtes trop volumineux (plus de 256 Ko)"


def test_ten_thousand_header_fields_are_held_unread(tmp_path):
    message = held(tmp_path, many_headers(SENDER, WHEN, MID, count=10_000))
    assert message.limite == "trop d'en-têtes (10\u202f006 ; au plus 500)"


def test_a_message_over_the_size_limit_is_held_without_being_read_whole(tmp_path):
    raw = with_attachments(SENDER, WHEN, MID, [("cv.pdf", b"%PDF-1.4 " + b"0" * 300_000)])
    message = held(tmp_path, raw, Limites(taille_message=100_000))
    assert message.limite.startswith("message trop volumineux (0,4 Mo ; au plus 0,1 Mo)")
    assert message.size == len(raw)


def test_attachments_over_the_decoded_size_limit_are_held(tmp_path):
    raw = with_attachments(SENDER, WHEN, MID, [(f"cv{i}.pdf", b"%PDF" + bytes(200_000)) for i in range(3)])
    message = held(tmp_path, raw, Limites(taille_decodee=500_000))
    assert message.limite.startswith("pièces jointes trop volumineuses une fois décodées")


def test_the_held_message_keeps_the_fingerprint_of_all_its_bytes(tmp_path):
    import hashlib

    raw = many_parts(SENDER, WHEN, MID, parts=2000)
    assert held(tmp_path, raw).raw_sha256 == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize("parts", [10, 900])
def test_a_message_within_the_limits_is_read_as_before(tmp_path, parts):
    message = parse_message(write_eml(tmp_path, "m", many_parts(SENDER, WHEN, MID, parts=parts)))
    assert message.limite is None and len(message.attachments) == parts


def test_the_limits_scan_of_a_thirty_megabyte_message_is_fast(tmp_path):
    from adapters.mailbox import over_limits

    raw = with_attachments(SENDER, WHEN, MID, [("cv.pdf", b"%PDF-1.4 " + bytes(22 * 1024 * 1024))])
    started = time.monotonic()
    assert over_limits(raw) is None
    assert time.monotonic() - started < 1


def test_a_sender_header_built_to_slow_the_parser_is_read_quickly(tmp_path):
    raw = (b"Received: by mx.plie.example.org; Wed, 06 Dec 2017 10:00:00 +0100\r\n"
           b"From: a" + b"." * 100_000 + b"@example.org\r\nSubject: x\r\n\r\nBonjour.\r\n")
    started = time.monotonic()
    message = parse_message(write_eml(tmp_path, "m", raw))
    assert time.monotonic() - started < 2  # Python's structured parser alone takes minutes on it
    assert message.limite is None and message.sender_address is None
