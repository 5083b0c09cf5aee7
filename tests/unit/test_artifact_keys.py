"""A run's artifacts: its French summary and each of its tables under keys of their own, so that the latest
version under a key (one click in Prefect's UI) is always a table, or always a summary."""
from __future__ import annotations

import pytest

from flows.comite import decisions_comite
from flows.conventions import etablissement_conventions
from flows.depots import depot_postal, releve_depots
from flows.echeancier import echeancier
from flows.instruction import instruction
from flows.passage import summary_key

NO_MAIL = {"envoyes": 0, "en_attente": 0, "echecs": 0}
RUNS = [
    (releve_depots, {"annee": 2018}, {
        "depots": {"lus": 3, "depots": 2, "hors_delai": 0, "non_identifies": 1, "a_verifier": 0, "deja_vus": 0,
                   "doublons": 0, "erreurs": []},
        "attestations": {"rendues": 2}, "courriels": NO_MAIL, "depots_avant": 0}),
    (depot_postal, {"annee": 2018}, {"attestations": {"rendues": 1}, "courriels": NO_MAIL}),
    (instruction, {"annee": 2018}, {"instruits": ["2018-001"], "inchanges": [], "notes": 1, "hors_delai_non_admis": []}),
    (decisions_comite, {"annee": 2018}, {"enregistrees": ["2018-001"], "inchangees": [], "lettres": 1,
                                         "courriels": NO_MAIL, "en_attente": [], "avertissements": []}),
    (etablissement_conventions, {"annee": 2018}, {"conventions": ["CONV-2018-001"], "documents": 1, "courriels": NO_MAIL}),
    (echeancier, {}, {"jour": "2018-07-15", "ouvertes": 0, "envois": [], "retards": [], "a_corriger": [],
                      "fins_prochaines": [], "echecs": [], "passages": [], "courriels": NO_MAIL}),
]


@pytest.mark.parametrize(("stage", "params", "result"), RUNS, ids=[stage.nom for stage, _, _ in RUNS])
def test_a_runs_tables_never_share_the_key_of_its_summary(stage, params, result):
    report = stage.compte_rendu(result, params)

    assert report.tables, f"{stage.nom} : ce test attend un passage qui publie au moins un tableau"
    assert summary_key(stage, params) not in report.tables
