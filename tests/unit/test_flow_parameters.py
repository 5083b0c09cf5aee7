"""What Prefect's UI shows of the stages' parameters: a French title and description for each, plain types, and
nothing the « Run » form would send as null (and then refuse itself)."""
from __future__ import annotations

import importlib
import re

import pytest

from flows.passage import Passage

STAGE_MODULES = ("flows.publication", "flows.depots", "flows.instruction", "flows.comite", "flows.conventions",
                 "flows.echeancier", "flows.mail", "flows.deployments")
CODE_NAME = re.compile(r"^[a-z_]+$")


def _stages() -> dict[str, Passage]:
    found = {}
    for name in STAGE_MODULES:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, Passage):
                found[value.nom] = value
    return found


def _deployments():
    from flows.deployments import build_deployments

    return {d.name: d._parameter_openapi_schema.model_dump() for d in build_deployments()}


def _cycle():
    from flows.cycle import cycle_appel

    return cycle_appel.parameters.model_dump()


def test_every_stage_is_found():
    assert {"releve-depots", "depot-postal", "publication-appel", "instruction", "decisions-comite", "echeancier",
            "releve-planifiee", "publication-planifiee", "avenant-modification", "envoi-courriels"} <= set(_stages())


@pytest.mark.parametrize("schema_of", ["stage", "deployment", "cycle"])
def test_every_parameter_the_ui_shows_has_a_french_title_and_a_description(schema_of):
    schemas = ({n: s.flow.parameters.model_dump() for n, s in _stages().items()} if schema_of == "stage"
               else _deployments() if schema_of == "deployment" else {"cycle-appel": _cycle()})
    for flow, schema in schemas.items():
        for key, prop in schema["properties"].items():
            where = f"{flow}.{key}"
            assert prop["title"] != key and not CODE_NAME.match(prop["title"]), where
            assert prop["title"][0].isupper(), where
            assert len(prop.get("description") or "") > 15, where
            assert {"type": "null"} not in prop.get("anyOf", []), f"{where} : « Property is type None »"


def test_no_deployed_parameter_defaults_to_null_so_the_run_form_leaves_it_empty():
    for name, schema in _deployments().items():
        for key, prop in schema["properties"].items():
            assert prop.get("default", "absent") is not None, f"{name}.{key}"


def test_maintenant_is_described_the_same_everywhere_it_appears():
    described = {s.flow.parameters.model_dump()["properties"]["maintenant"]["description"]
                 for s in _stages().values() if "maintenant" in s.signature.parameters}
    described |= {schema["properties"]["maintenant"]["description"] for schema in _deployments().values()}
    [description] = described
    assert "heure de Paris" in description and "vide : l'heure réelle" in description


def test_the_november_publication_takes_a_year_as_a_number_or_as_text_or_a_path():
    config = _deployments()["publication-novembre"]["properties"]["config_path"]

    assert config["title"] == "Appel à publier" and config["default"] == ""
    assert {option["type"] for option in config["anyOf"]} == {"integer", "string"}


def test_a_scheduled_intake_years_is_a_number_left_empty_by_default():
    annee = _deployments()["releve-depots"]["properties"]["annee"]

    assert annee["type"] == "integer" and "default" not in annee
    assert annee["title"] == "Année de l'appel"
