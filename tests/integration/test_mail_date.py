"""A mail's ``Date:`` is the moment its cause was recorded (the clock the action was given), not the
moment the outbox happened to send it: the demo's year reads as a year, a mail retried after an
outage keeps the date it was written."""
from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest

from actions.outbox import enqueue, send_pending
from adapters.database import transaction

pytestmark = pytest.mark.database_matters("times stored in UTC")

ECRIT_LE = datetime(2017, 12, 8, 7, 30, tzinfo=timezone.utc)


def test_a_mail_is_dated_when_it_was_written_not_when_it_was_sent(factory, storage, sink, mail):
    with transaction(factory) as s:
        enqueue(s, cle="essai:date", destinataires=["direction@tremplin.example.org"], sujet="Essai",
                corps="Bonjour,\n", pieces_jointes=[], maintenant=ECRIT_LE)

    assert send_pending(factory, mail, storage.root).envoyes == 1

    [message] = sink.messages()
    assert parsedate_to_datetime(message["Date"]) == ECRIT_LE
    assert message["Date"].endswith("+0100")  # said in Paris time, as the PLIE writes it
