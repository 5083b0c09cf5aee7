"""The demo's structures look like real ones: each its own address, contact and phone number, and the
envelopes the SA scanned were stamped on different days."""
from __future__ import annotations

import re

from flows.demo_data import PORTEURS, _postal


def test_each_sample_structure_has_its_own_address_contact_and_phone():
    for champ in ("adresse", "contact", "telephone", "email", "siret"):
        valeurs = [getattr(p, champ) for p in PORTEURS]
        assert len(set(valeurs)) == len(PORTEURS), champ
    for p in PORTEURS:
        assert re.fullmatch(r"03 53 01 \d\d \d\d", p.telephone)  # ARCEP's numbers for fiction
        rue, ville = p.adresse.split("\n")
        assert re.fullmatch(r"\d{5} \S.*", ville), p.adresse
        assert p.email.endswith(".example.org")


def test_the_scanned_envelopes_were_stamped_on_different_days(tmp_path):
    stamps = [recu_le[:10] for _, recu_le, _ in _postal(tmp_path)]
    assert len(set(stamps)) == len(stamps)
