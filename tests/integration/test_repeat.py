"""Commands safe to repeat: the same bilan form sent again in a new mail, the same postal envelope registered
again with its stamp typed another way — each is done once, and the second time says so."""
from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from actions.attestations import render_pending
from actions.depots import register_postal
from models import Attestation, Depot
from tests.integration.test_suivi import A, BILAN_A, PIECES_A, Story, morning
from tests.samples import cv_pdf, porteur

pytestmark = pytest.mark.database_matters("a repeated dépôt is found by its unique keys")

PARIS = ZoneInfo("Europe/Paris")


def test_the_same_bilan_form_sent_again_in_a_new_mail_gets_one_number_and_one_receipt(
        db_url, factory, storage, appel, sink, mail, tmp_path):
    story = Story(db_url, factory, storage, mail, sink, tmp_path / "boite", tmp_path)
    story.sign_conventions(A)
    story.run("15 juillet", date(2018, 7, 15))
    first = story.answer("A", A, BILAN_A, PIECES_A, morning(date(2018, 7, 20), 10))

    again = story.answer("A, qui n'a pas vu l'accusé", A, BILAN_A, PIECES_A, morning(date(2018, 7, 21), 9))

    assert (first.report.bilans, len(first.mails)) == (1, 1)
    assert (again.report.bilans, again.report.doublons, again.mails) == (0, 1, [])
    assert list(story.bilans()) == ["BIL-2018-0001"]


def test_a_postal_envelope_registered_again_with_its_stamp_typed_differently_is_the_same_depot(factory, storage, appel,
                                                                                               tmp_path):
    p = porteur(7)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(cv_pdf(f"Courrier de {p.nom}"))

    def register(recu_le: datetime):
        return register_postal(factory, storage, 2018, siret=p.siret, recu_le=recu_le, files=[scan], nom=p.nom,
                               maintenant=datetime(2017, 12, 6, 11, tzinfo=PARIS))

    first, outcome = register(datetime(2017, 12, 6, 10, 0, tzinfo=PARIS))  # « 2017-12-06T10:00 »
    render_pending(factory, storage, 2018, pdf=False, workers=1)
    again, again_outcome = register(datetime(2017, 12, 6, tzinfo=PARIS))  # « 2017-12-06 »
    render_pending(factory, storage, 2018, pdf=False, workers=1)

    assert (outcome, again_outcome, again.id) == ("depot", "doublon", first.id)
    with factory() as s:
        counts = [s.scalar(select(func.count()).select_from(t)) for t in (Depot, Attestation)]
    assert counts == [1, 1]
