"""The application's own record of runs, and what it tells the SA: the failure mail of a scheduled run (once per
run, once per outage) and the daily digest's runs that failed or were left « en cours » by a stopped process."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

from actions.echeancier import run_echeancier
from actions.outbox import send_pending
from actions.passages import close_passage, open_passage, queue_failure_mail
from adapters.storage import Storage
from models import Courriel, CourrielStatut

pytestmark = pytest.mark.database_matters("one failure mail per outage rests on unique keys")

SA = "assistante.plie@example.org"
NOW = datetime(2017, 12, 8, 9, 0, tzinfo=timezone.utc)
DEPLOIEMENT = "releve-planifiee/releve-depots"
MESSAGE = "4 courriels non envoyés : serveur SMTP injoignable ; ils partiront au prochain passage."


def _fail(factory, run_id: str, maintenant: datetime) -> str | None:
    return queue_failure_mail(factory, sa_email=SA, deploiement=DEPLOIEMENT, flow_run_id=run_id,
                              nom="releve-planifiee-le-08-12-2017-09h00", debut=maintenant, message=MESSAGE,
                              lien=f"http://127.0.0.1:4200/runs/flow-run/{run_id}", maintenant=maintenant)


def test_a_failed_run_queues_one_french_mail_to_the_sa_even_when_its_hook_runs_twice(factory):
    assert _fail(factory, "run-1", NOW) == f"echec:{DEPLOIEMENT}:run-1"
    assert _fail(factory, "run-1", NOW + timedelta(hours=7)) is None  # a retry of the same run

    with factory() as s:
        [mail] = s.scalars(select(Courriel)).all()
    assert (mail.destinataires, mail.statut) == ([SA], CourrielStatut.PENDING)
    assert mail.sujet == "Passage en échec : releve-planifiee-le-08-12-2017-09h00"
    assert f"s'est terminé en échec :\n\n  {MESSAGE}\n" in mail.corps.replace("\u202f", " ")
    assert "Son journal et ses comptes rendus : http://127.0.0.1:4200/runs/flow-run/run-1" in mail.corps


def test_an_outage_mails_one_failure_however_many_runs_fail_and_a_later_one_is_mailed_again(factory):
    _fail(factory, "run-1", NOW)
    assert _fail(factory, "run-2", NOW + timedelta(days=1)) is None  # the first is still unsent: same outage
    with factory() as s, s.begin():
        s.execute(update(Courriel).values(statut=CourrielStatut.SENT))

    assert _fail(factory, "run-3", NOW + timedelta(hours=5)) is None  # sent, but less than six hours ago
    assert _fail(factory, "run-4", NOW + timedelta(hours=6)) == f"echec:{DEPLOIEMENT}:run-4"


def test_the_digest_lists_the_runs_that_failed_today_and_those_a_stopped_process_left_running(
        factory, appel, sink, mail, tmp_path):
    wall = datetime(2026, 12, 1, 7, 0, tzinfo=timezone.utc)  # runs are stamped with the wall clock
    killed = open_passage(factory, etape="releve", nom="releve-2018-le-07-12-2017-17h05", appel=2018,
                          orchestrateur="prefect", flow_run_id="a", parametres={}, debut=wall - timedelta(hours=3))
    failed = open_passage(factory, etape="releve", nom="releve-2018-le-08-12-2017-09h00", appel=2018,
                          orchestrateur="prefect", flow_run_id="b", parametres={}, debut=wall - timedelta(hours=2))
    close_passage(factory, failed, statut="courriels non envoyés", message=MESSAGE, fin=wall - timedelta(hours=2))
    old = open_passage(factory, etape="releve", nom="releve-2018-le-01-12-2017-09h00", appel=2018,
                       orchestrateur="direct", flow_run_id=None, parametres={}, debut=wall - timedelta(days=3))
    close_passage(factory, old, statut="échoué", message="Interrompu.", fin=wall - timedelta(days=3))
    running = open_passage(factory, etape="echeancier", nom="echeancier-le-01-12-2026-08h00", appel=None,
                           orchestrateur="prefect", flow_run_id="c", parametres={}, debut=wall - timedelta(minutes=1))

    run_echeancier(factory, Storage(tmp_path / "storage"), maintenant=datetime(2018, 1, 15, 6, tzinfo=timezone.utc),
                   sa_email=SA, passages_au=wall)
    send_pending(factory, mail, tmp_path)

    [digest] = [m for m in sink.messages() if m["X-Envelope-To"] == SA]
    body = digest.get_body(("plain",)).get_content().replace("\u202f", " ")
    assert digest["Subject"].endswith(", 2 passages en échec")
    section = body.split("Passages en échec ou interrompus (détail : « aap passages ») :\n")[1].split("\n\n")[0]
    assert section.splitlines() == [
        "  - releve-2018-le-07-12-2017-17h05 : commencé le 1er décembre 2026 à 5 h 00, toujours « en cours » — son "
        "processus s'est sans doute arrêté avant la fin ; relancez-le (il ne refait que ce qui manque)",
        f"  - releve-2018-le-08-12-2017-09h00 : courriels non envoyés le 1er décembre 2026 à 6 h 00 — {MESSAGE}",
    ]
    assert killed and running and "echeancier-le-01-12-2026" not in body and "01-12-2017" not in body
