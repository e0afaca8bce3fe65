"""The JSON Schemas in docs/planning.md describe what the planner reads and writes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from aman.planning.optimizer import generate, plan, scenario

DOC = Path(__file__).resolve().parents[2] / "docs" / "planning.md"


def _schemas() -> dict[str, Any]:
    blocks = re.findall(r"```json\n(.*?)```", DOC.read_text(), flags=re.S)
    found = {}
    for block in blocks:
        data = json.loads(block)
        found[data["$id"]] = data
    return found


@pytest.fixture(scope="module")
def solved() -> tuple[dict[str, Any], dict[str, Any]]:
    data = generate.generate(600, seed=21, mode="strict")
    data["households"][0]["locked"] = [{"type": "leg", "leg": "B1"}]
    out = plan.to_json(plan.solve(scenario.load(data)))
    return data, out


def test_the_documented_schemas_are_valid_schemas() -> None:
    schemas = _schemas()
    assert set(schemas) == {"aman.scenario/1", "aman.plan/1"}
    for schema in schemas.values():
        jsonschema.Draft202012Validator.check_schema(schema)


def test_scenarios_and_plans_follow_their_schemas(
    solved: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    data, out = solved
    schemas = _schemas()
    jsonschema.validate(data, schemas["aman.scenario/1"])
    jsonschema.validate(scenario.dump(scenario.load(data)), schemas["aman.scenario/1"])
    jsonschema.validate(json.loads(json.dumps(out)), schemas["aman.plan/1"])
    assert out["itineraries"] and out["unassigned"] and out["stages"]


def test_a_plans_prices_are_a_scenarios_prices() -> None:
    """What a plan gives the next re-plan (`prices`, under weights) is what a scenario
    takes, and it survives writing and reading."""
    data = generate.generate(600, seed=21)
    out = plan.to_json(plan.solve(scenario.load(data), plan.Options(limits=True)))
    jsonschema.validate(json.loads(json.dumps(out)), _schemas()["aman.plan/1"])
    assert out["bound_from"] == "lp" and out["prices"]
    assert out["limits"] and any("people" in x for x in out["shadow_prices"])
    again = {**data, "prices": out["prices"]}
    jsonschema.validate(again, _schemas()["aman.scenario/1"])
    s = scenario.load(again)
    assert scenario.dump(s)["prices"] == out["prices"]
    assert scenario.dump(scenario.load(scenario.dump(s))) == scenario.dump(s)


def test_a_scenario_survives_writing_and_reading() -> None:
    s = scenario.load(generate.generate(300, seed=4))
    again = scenario.load(json.loads(json.dumps(scenario.dump(s))))
    assert again == s
    assert again.digest() == s.digest()


def test_a_scenario_with_rooms_follows_the_schema_and_survives_writing_and_reading() -> None:
    data = generate.generate(300, seed=4, rooms=True)
    assert all("rooms" in h for h in data["hotels"])
    assert any("beds" in h for h in data["households"])
    jsonschema.validate(data, _schemas()["aman.scenario/1"])
    s = scenario.load(data)
    jsonschema.validate(scenario.dump(s), _schemas()["aman.scenario/1"])
    assert scenario.load(json.loads(json.dumps(scenario.dump(s)))) == s


def test_a_plan_pricing_a_bus_pool_follows_the_schema() -> None:
    from tests.planning.test_optimizer import binding_pool

    out = plan.to_json(plan.solve(scenario.load(binding_pool()), plan.Options(limits=True)))
    assert any(x["kind"] == "pool" and "people" in x for x in out["shadow_prices"])
    jsonschema.validate(json.loads(json.dumps(out)), _schemas()["aman.plan/1"])
