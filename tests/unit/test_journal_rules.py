"""The journal's rules: canonical form, chain hash, verification, seals (no database)."""
from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from models.journal import (
    GENESE,
    Ecriture,
    Sceau,
    canonical,
    covering_seal,
    days_to_seal,
    json_value,
    next_entry,
    parse_seal_text,
    paris_day,
    seal_text,
    verify_chain,
    verify_seal,
)

T0 = datetime(2018, 3, 1, 22, 30, tzinfo=timezone.utc)  # 23:30 in Paris


def chain(n: int):
    out, tete = [], None
    for i in range(n):
        e = next_entry(Ecriture("essai", f"Entrée {i}.", appel=2018, donnees={"n": i, "montant": Decimal("1.50")}),
                       tete=tete, moment=T0 + timedelta(minutes=i))
        out.append(e)
        tete = (e.id, e.empreinte)
    return out


def test_the_hash_is_sha256_of_the_previous_hash_then_the_sorted_key_json():
    [e] = chain(1)
    expected = ('{"appel":2018,"convention":null,"donnees":{"montant":"1.50","n":0},"dossier":null,"genre":"essai",'
                '"id":1,"moment":"2018-03-01T22:30:00.000000Z","texte":"Entrée 0.","utilisateur":null}')
    assert canonical(id=1, moment=e.moment, genre="essai", appel=2018, dossier=None, convention=None,
                     utilisateur=None, texte="Entrée 0.", donnees=e.donnees) == expected
    assert e.precedent == GENESE
    assert e.empreinte == hashlib.sha256((GENESE + expected).encode("utf-8")).hexdigest()


def test_payload_values_become_plain_json_money_as_text_never_a_float():
    assert json_value({"m": Decimal("44500.00"), "d": date(2018, 1, 2), "s": {"b", "a"}, 3: (1, 2)}) == \
        {"m": "44500.00", "d": "2018-01-02", "s": ["a", "b"], "3": [1, 2]}


def test_an_intact_chain_verifies_and_a_changed_text_is_named():
    entries = chain(4)
    assert verify_chain(entries) is None
    changed = entries[2].__class__(**{**vars(entries[2]), "texte": "Autre."})
    anomalie = verify_chain([entries[0], entries[1], changed, entries[3]])
    assert anomalie.entree == 3 and "a été modifiée" in anomalie.message


def test_a_missing_entry_and_a_reordered_chain_are_named():
    entries = chain(4)
    assert verify_chain([entries[0], entries[2], entries[3]]).entree == 3
    assert "manque" in verify_chain([entries[0], entries[2], entries[3]]).message
    assert verify_chain([entries[1], entries[0]]).entree == 2


def test_the_paris_day_decides_what_a_new_entry_seals():
    [e] = chain(1)  # 23:30 in Paris on 1 March
    assert paris_day(e.moment) == date(2018, 3, 1)
    assert days_to_seal(e, T0 + timedelta(minutes=20), False) is None  # 23:50, same day
    assert days_to_seal(e, T0 + timedelta(minutes=40), False) == date(2018, 3, 1)  # 00:10 on 2 March
    assert days_to_seal(e, T0 + timedelta(minutes=40), True) is None  # already sealed
    assert days_to_seal(None, T0, False) is None


def test_a_seal_file_reads_back_and_is_checked_against_the_chain():
    entries = chain(3)
    sceau = Sceau(date(2018, 3, 1), 2, entries[1].empreinte)
    assert parse_seal_text(seal_text(sceau)) == sceau
    assert parse_seal_text("n'importe quoi") is None
    assert verify_seal(sceau, entries[1], sceau) is None
    assert "ne correspond plus" in verify_seal(sceau, entries[2], sceau)
    assert "absent" in verify_seal(sceau, entries[1], None)
    assert "absente du journal" in verify_seal(sceau, None, None)


def test_an_entry_is_covered_by_the_first_seal_at_or_after_it():
    seals = [Sceau(date(2018, 3, 1), 5, "a"), Sceau(date(2018, 3, 2), 9, "b")]
    assert covering_seal(seals, 5).entree == 5 and covering_seal(seals, 6).entree == 9
    assert covering_seal(seals, 10) is None
