"""The call's lifecycle flow: instruction, the comité's pack, a pause until the SA gives the filled
synthesis back (as from the Prefect UI), then the decisions, the letters and the mails."""
from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from prefect.client.schemas.objects import FlowRun
from prefect.flow_runs import resume_flow_run
from sqlalchemy import func, select

from actions.depots import register_postal
from actions.publication import publish_appel
from config.appel_config import load_appel_config
from config.settings import Settings
from flows.cycle import cycle_appel
from flows.runtime import configure
from forms.synthese import fill_decisions, read_synthese
from models import Comite, Courriel, CourrielStatut, DecisionComite, Dossier
from models.dossier import DossierStatut
from tests.conftest import run_intake
from tests.samples import cv_pdf, cvs, deliver, form_bytes, paris, porteur

UTC = timezone.utc
PAUSE_SECONDS = 120  # how long the flow waits for the decisions; a broken resume fails well before


pytestmark = [pytest.mark.usefixtures("prefect_harness"), pytest.mark.xdist_group("prefect")]


@pytest.fixture
def rt(db_url, tmp_path, sink):
    return configure(Settings(database_url=db_url, storage_dir=tmp_path / "storage", smtp_port=sink.port, pdf="off"))


@pytest.fixture
def dossiers(rt, sink, mail, tmp_path) -> list:
    """The 2018 call, published, with two complete dossiers (one favorable, one without travel costs)."""
    publish_appel(rt.factory, rt.storage, load_appel_config(2018), maintenant=datetime(2017, 11, 21, 8, 0, tzinfo=UTC))
    good, bad = porteur(61, referents=2), porteur(62)
    maildir = tmp_path / "boite"
    # received a minute apart: the dossiers are numbered in order of reception (2018-001 is the good one)
    for minute, (p, changes) in enumerate(((good, {}), (bad, {"budget_deplacements": Decimal("0")}))):
        deliver(maildir, sender=p.email, when=paris(6, 10, minute), message_id=f"<m-{p.siret}@example.org>", sender_name=p.nom,
                attachments=[("dossier.xlsx", form_bytes(tmp_path / "forms", p, **changes)), *cvs(p)])
    run_intake(rt.factory, rt.storage, maildir, mail)
    for p in (good, bad):
        scan = tmp_path / f"scan-{p.siret}.pdf"
        scan.write_bytes(cv_pdf(f"Courrier de {p.nom}"))
        register_postal(rt.factory, rt.storage, 2018, siret=p.siret, recu_le=paris(6, 15), files=[scan], nom=None,
                        maintenant=paris(6, 15))
    return [good, bad]


class Cycle:
    """``cycle_appel`` running in a thread of its own, as a worker runs it, under a name the test can find."""

    def __init__(self, attente_secondes: int) -> None:
        self.name = f"cycle-test-{uuid.uuid4().hex[:12]}"
        self.result: dict[str, Any] | None = None
        self.error: BaseException | None = None
        flow = cycle_appel.with_options(flow_run_name=self.name)
        self.thread = threading.Thread(target=self._run, args=(flow, attente_secondes), daemon=True)

    def _run(self, flow, attente_secondes: int) -> None:
        try:
            self.result = flow(2018, "2017-12-08T14:00", attente_secondes)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            self.error = exc

    def start(self) -> Cycle:
        self.thread.start()
        return self

    def flow_run(self) -> FlowRun | None:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[self.name])))
        return runs[0] if runs else None

    def wait_until_paused(self, timeout: float = 90) -> FlowRun:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.flow_run()
            if run is not None and run.state is not None and run.state.is_paused():
                return run
            if not self.thread.is_alive():
                raise AssertionError(f"the flow ended without pausing: {self.error!r} {self.result!r}")
            time.sleep(0.5)
        raise AssertionError(f"the flow did not pause within {timeout} s (state: {run.state if run else None})")

    def join(self, timeout: float = 90) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the flow was still running after {timeout} s"


def synthese_path(rt) -> Path:
    with rt.factory() as s:
        return Path(s.scalar(select(Comite.synthese_chemin)))


def counts(rt) -> tuple[int, int]:
    with rt.factory() as s:
        return (s.scalar(select(func.count()).select_from(DecisionComite)),
                s.scalar(select(func.count()).select_from(Courriel).where(Courriel.cle.like("decision:%"))))


def test_cycle_pauses_for_the_filled_synthesis_then_records_and_notifies_the_decisions(rt, sink, dossiers):
    good, bad = dossiers
    attestations = len(sink.messages())
    cycle = Cycle(PAUSE_SECONDS).start()

    paused = cycle.wait_until_paused()

    synthese = synthese_path(rt)
    assert [d.numero for d in read_synthese(synthese).decisions] == ["2018-001", "2018-002"]
    assert counts(rt) == (0, 0)  # nothing decided while the flow waits
    rempli = fill_decisions(synthese, {"2018-001": ("Retenu", ""), "2018-002": ("Non retenu", "Frais de déplacement absents.")},
                            synthese.with_name("synthese_remplie.xlsx"))
    resume_flow_run(paused.id, run_input={"fichier": str(rempli)})
    cycle.join()

    assert cycle.error is None, repr(cycle.error)
    result = cycle.result
    assert sorted(result["instruction"]["instruits"]) == ["2018-001", "2018-002"]
    assert result["comite"]["dossiers"] == ["2018-001", "2018-002"]
    assert result["decisions"]["enregistrees"] == ["2018-001", "2018-002"]
    assert (result["decisions"]["lettres"], result["decisions"]["courriels"]["envoyes"]) == (2, 2)
    assert cycle.flow_run().state.is_completed()
    with rt.factory() as s:
        assert {numero: statut for numero, statut in s.execute(select(Dossier.numero, Dossier.statut))} == {
            "2018-001": DossierStatut.RETENU, "2018-002": DossierStatut.NON_RETENU}
        assert set(s.scalars(select(Courriel.statut).where(Courriel.cle.like("decision:%")))) == {CourrielStatut.SENT}
    decision_mails = {m["To"].addresses[0].addr_spec: m["Subject"] for m in sink.messages()[attestations:]}
    assert decision_mails == {
        good.email: "Appel à projets 2018 — décision du comité de pilotage : dossier 2018-001 retenu",
        bad.email: "Appel à projets 2018 — décision du comité de pilotage : dossier 2018-002 non retenu",
    }


def test_cycle_refuses_a_bad_decisions_file_and_records_nothing(rt, sink, dossiers):
    attestations = len(sink.messages())
    cycle = Cycle(PAUSE_SECONDS).start()
    paused = cycle.wait_until_paused()
    synthese = synthese_path(rt)
    rempli = fill_decisions(synthese, {"2018-001": ("Retenu", ""), "2018-002": ("Ajourné", "")},
                            synthese.with_name("synthese_remplie.xlsx"))

    resume_flow_run(paused.id, run_input={"fichier": str(rempli)})
    cycle.join()

    assert "ligne 7, dossier 2018-002 : décision « Ajourné » sans les questions complémentaires" in str(cycle.error)
    assert cycle.flow_run().state.is_failed()
    assert counts(rt) == (0, 0) and len(sink.messages()) == attestations


def test_cycle_without_an_answer_in_time_fails_and_decides_nothing(rt, sink, dossiers):
    cycle = Cycle(attente_secondes=2).start()

    cycle.join()

    assert cycle.error is not None and "never resumed" in str(cycle.error)
    assert cycle.flow_run().state.is_failed()
    assert counts(rt) == (0, 0)
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(Comite)) == 1  # the pack was written before the wait
