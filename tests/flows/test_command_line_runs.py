"""Mistakes found inside a stage's run: the command ends with the same French line as any other
refusal — not a traceback, nor Prefect's « Finished in state Failed » lines — and the run's trace (its
``passage`` row) says it was refused, and why."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

import pytest

from adapters.database import session_factory
from models import Passage
from tests.integration.test_command_line import ENGLISH, _env, _state, aap, make_bureau

REFUSED_IN_A_RUN = [
    (["depots", "relever", ".", "--appel", "2031"], "Erreur : l'appel 2031 n'est pas publié : lancez d'abord « aap appel publier »"),
    (["conventions", "etablir", "--appel", "2018", "--dossier", "2018-999"], "Erreur : dossier 2018-999 inconnu pour l'appel 2018"),
    (["depot", "postal", "scan.pdf", "--appel", "2018", "--siret", "12345678901234", "--recu-le", "2017-12-06T10:00"],
     "Erreur : SIRET invalide : « 12345678901234 » (clé de contrôle incorrecte)"),
]


@pytest.fixture(scope="module")
def bureau(tmp_path_factory: pytest.TempPathFactory):
    return make_bureau(tmp_path_factory.mktemp("bureau"))


def test_a_run_refused_for_a_french_reason_prints_that_reason_alone(bureau):
    before = _state(bureau)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda n: aap(bureau, *REFUSED_IN_A_RUN[n][0], PREFECT_HOME=str(bureau / f"prefect-{n}")),
                                range(len(REFUSED_IN_A_RUN))))

    for (args, line), proc in zip(REFUSED_IN_A_RUN, results):
        said = f"aap {' '.join(args)} → rc={proc.returncode}, stderr={proc.stderr[-3000:]!r}"
        assert proc.returncode == 1, said
        [said_once] = proc.stderr.splitlines()
        assert said_once.startswith(line), said
        assert not ENGLISH.search(proc.stderr) and "/tmp" not in proc.stderr, said
    after = _state(bureau)
    passages = after[0].pop("passage") - before[0].pop("passage")
    assert after == before  # nothing changed but the runs' own trace
    with session_factory(_env(bureau)["AAP_DATABASE_URL"])() as s:
        refused = sorted(s.scalars(select(Passage).order_by(Passage.id.desc()).limit(passages)), key=lambda p: p.id)
    assert passages == len(REFUSED_IN_A_RUN)
    for _, line in REFUSED_IN_A_RUN:
        assert [p for p in refused if p.message.startswith("Refusé : " + line.removeprefix("Erreur : "))], line
    assert {(p.statut.value, p.orchestrateur) for p in refused} == {("échoué", "direct")}
