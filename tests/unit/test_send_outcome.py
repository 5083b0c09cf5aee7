"""Transient or permanent is decided by the SMTP reply code, never by the words of the reply or the address."""
from __future__ import annotations

import pytest

from adapters.smtp import SendOutcome, outcome_for_code


@pytest.mark.parametrize("code", [421, 450, 451, 452, 454, None])
def test_a_4xx_reply_or_no_reply_at_all_is_transient(code):
    assert outcome_for_code(code, "refusé").transient


@pytest.mark.parametrize("code", [550, 551, 552, 553, 554, 501])
def test_a_5xx_reply_is_a_permanent_refusal(code):
    assert not outcome_for_code(code, "refusé").transient


def test_text_that_looks_like_a_transient_code_changes_nothing():
    outcome = outcome_for_code(550, "destinataire refusé : x451@example.org (550 indisponible, délai dépassé)")
    assert outcome == SendOutcome(False, 550, "destinataire refusé : x451@example.org (550 indisponible, délai dépassé)")
