"""The one-address rule: what a form field, a header or the SA may give as an e-mail address."""
from __future__ import annotations

import pytest

from models.adresse import (
    AROBASE,
    CONTROLE,
    GROUPE,
    NOM_AFFICHE,
    NOM_TROMPEUR,
    PLUSIEURS,
    SAUT_DE_LIGNE,
    VIDE,
    check_address,
    check_header_mailbox,
    single_address,
)


@pytest.mark.parametrize("text, expected", [
    ("claire.martin@structure1.example.org", "claire.martin@structure1.example.org"),
    ("  Claire.Martin@Example.ORG\t", "claire.martin@example.org"),
    ("x451@example.org", "x451@example.org"),
    ("o'hara+aap@example.org", "o'hara+aap@example.org"),
])
def test_one_bare_address_is_accepted_lower_cased(text, expected):
    assert check_address(text).address == expected
    assert check_address(text).reason is None


@pytest.mark.parametrize("text, reason", [
    ("a@example.org, b@example.org", PLUSIEURS),
    ("a@example.org; b@example.org", PLUSIEURS),
    ("x@example.org\r\nBcc: y@example.org", SAUT_DE_LIGNE),
    ("x@example.org\nBcc: y@example.org", SAUT_DE_LIGNE),
    ("x@example.org\rBcc: y@example.org", SAUT_DE_LIGNE),
    ("x@example.org\u2028Bcc: y@example.org", SAUT_DE_LIGNE),
    ("amis: a@example.org, b@example.org;", GROUPE),
    ("undisclosed-recipients:;", GROUPE),
    ('"Evil <a@example.org>" <b@example.org>', NOM_AFFICHE),
    ("Claire Martin <claire@example.org>", NOM_AFFICHE),
    ("claire@example.org (Claire)", NOM_AFFICHE),
    ('"a b"@example.org', NOM_AFFICHE),
    ("a@b@example.org", AROBASE),
    ("claire.example.org", AROBASE),
    ("a\u200b@example.org", CONTROLE),
    ("a\x00@example.org", CONTROLE),
    ("", VIDE),
    ("   ", VIDE),
    (None, VIDE),
    (42, VIDE),
])
def test_anything_but_one_bare_address_is_refused_with_its_french_reason(text, reason):
    check = check_address(text)
    assert (check.address, check.reason) == (None, reason)
    assert single_address(text) is None


@pytest.mark.parametrize("text", ["a@b", "a.@example.org", "a..b@example.org", "a@-x.example.org", "é@example.org",
                                  "a@exa_mple.org", "a" * 65 + "@example.org", "a@" + "b" * 250 + ".org"])
def test_malformed_addresses_are_refused(text):
    check = check_address(text)
    assert check.address is None and check.reason


@pytest.mark.parametrize("raw, address, name", [
    ("Claire Martin <claire@example.org>", "claire@example.org", "Claire Martin"),
    ("claire@example.org", "claire@example.org", ""),
    ('"Martin, Claire" <Claire@Example.org>', "claire@example.org", "Martin, Claire"),
    ("=?utf-8?q?=C3=89lodie?= <elodie@example.org>", "elodie@example.org", "Élodie"),
    ("claire@example.org <claire@example.org>", "claire@example.org", ""),
])
def test_a_header_with_one_mailbox_gives_its_address_and_name(raw, address, name):
    check = check_header_mailbox(raw)
    assert (check.address, check.display_name, check.reason) == (address, name, None)


@pytest.mark.parametrize("raw, reason", [
    ("a@example.org, b@example.org", PLUSIEURS),
    ("amis: a@example.org, b@example.org;", GROUPE),
    ("undisclosed-recipients:;", GROUPE),
    ('"Evil <a@example.org>" <b@example.org>', PLUSIEURS),
    ("Evil <a@example.org> <b@example.org>", PLUSIEURS),
    ("=?utf-8?q?a@example.org?= <b@example.org>", PLUSIEURS),
    ("", VIDE),
])
def test_a_header_naming_several_addresses_or_a_group_is_refused(raw, reason):
    check = check_header_mailbox(raw)
    assert (check.address, check.reason) == (None, reason)


def test_a_display_name_with_chevrons_is_dropped_and_said():
    check = check_header_mailbox('"Service <officiel>" <b@example.org>')
    assert (check.address, check.display_name, check.reason) == ("b@example.org", "", NOM_TROMPEUR)
