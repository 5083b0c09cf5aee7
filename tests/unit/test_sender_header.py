"""The sender read from a message's From header is exactly one address, or none with its French reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from adapters.eml_samples import write_eml
from adapters.mailbox import parse_message


def message_from(tmp_path: Path, from_value: str):
    raw = (f"From: {from_value}\r\nTo: plie-aap@example.org\r\nSubject: Dépôt\r\n"
           "Received: from mx.example.org by plie.example.org; Wed, 6 Dec 2017 10:00:00 +0100\r\n"
           "\r\nBonjour.\r\n").encode("utf-8")
    return parse_message(write_eml(tmp_path, "m", raw))


@pytest.mark.parametrize("from_value, reason", [
    ("a@example.org, b@example.org", "plusieurs adresses"),
    ("Jean <a@example.org>, Paul <b@example.org>", "plusieurs adresses"),
    ("amis: a@example.org, b@example.org;", "groupe d'adresses"),
    ('"Evil <a@example.org>" <b@example.org>', "plusieurs adresses"),
    ("Evil <a@example.org> <b@example.org>", "plusieurs adresses"),
])
def test_a_from_header_with_a_list_a_group_or_a_decoy_gives_no_sender_and_says_why(tmp_path, from_value, reason):
    message = message_from(tmp_path, from_value)

    assert message.sender_address is None
    assert any(p.startswith("expéditeur (en-tête From) : " + reason) for p in message.problems), message.problems


def test_a_from_header_with_one_mailbox_gives_its_address_and_name(tmp_path):
    message = message_from(tmp_path, "Claire Martin <Claire.Martin@Example.org>")

    assert (message.sender_address, message.sender_name) == ("claire.martin@example.org", "Claire Martin")
    assert not any("expéditeur" in p for p in message.problems)


def test_a_display_name_with_chevrons_is_dropped_with_its_reason(tmp_path):
    message = message_from(tmp_path, '"Service <officiel>" <b@example.org>')

    assert (message.sender_address, message.sender_name) == ("b@example.org", "")
    assert any("le nom affiché contient une adresse ou des chevrons" in p for p in message.problems)
