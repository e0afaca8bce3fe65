"""Re-planning after a disruption keeps what still works and moves few households."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from aman.planning.optimizer import check, generate, plan, scenario


def _solve(data: dict[str, Any], lp: str = "auto") -> dict[str, Any]:
    s = scenario.load(data)
    out = plan.to_json(plan.solve(s, plan.Options(lp=lp)))
    assert check.check(s, out) == []
    return out


def _notified(data: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    told = {i["household"]: plan.steps_of(i) for i in out["itineraries"]}
    data = copy.deepcopy(data)
    data["policy"]["firm_hours"] = 0  # nothing firm: every itinerary may move
    for h in data["households"]:
        if h["id"] in told:
            h["notified"] = told[h["id"]]
    return data


def _legs(itinerary: dict[str, Any]) -> list[str]:
    return [
        s.get("leg") or s.get("pool") or s.get("place")
        for s in itinerary["steps"]
        if s["type"] != "hotel"
    ]


@pytest.mark.parametrize("lp", ["arcs", "columns"])
def test_a_replan_without_disruption_changes_nothing(lp: str) -> None:
    data = generate.generate(1500, seed=11)
    first = _solve(data, lp)
    again = _solve(_notified(data, first), lp)
    assert again["stability"]["displaced"] == 0
    assert again["stability"]["changed"] == 0
    assert {i["household"]: _legs(i) for i in again["itineraries"]} == {
        i["household"]: _legs(i) for i in first["itineraries"]
    }


@pytest.mark.parametrize("lp", ["arcs", "columns"])
def test_a_cancelled_flight_moves_its_households_and_few_others(lp: str) -> None:
    data = generate.generate(3000, seed=12)
    first = _solve(data, lp)
    used = Counter(
        s["leg"]
        for i in first["itineraries"]
        for s in i["steps"]
        if s["type"] == "leg" and s["kind"] == "flight"
    )
    cancelled, _ = used.most_common(1)[0]
    on_it = {i["household"] for i in first["itineraries"] if cancelled in _legs(i)}
    data2 = _notified(data, first)
    data2["legs"] = [leg for leg in data2["legs"] if leg["id"] != cancelled]
    second = _solve(data2, lp)
    st = second["stability"]
    assert st["notified"] == len(first["itineraries"])
    assert st["displaced"] == len(on_it)
    assert st["changed"] <= 1.15 * st["displaced"]
    before = {i["household"]: _legs(i) for i in first["itineraries"]}
    after = {i["household"]: _legs(i) for i in second["itineraries"]}
    moved = {h for h in before if after.get(h) != before[h]}
    assert on_it <= moved
    assert len(moved) == st["changed"]


def test_a_locked_or_firm_itinerary_is_kept_when_a_crossing_closes_later() -> None:
    data = generate.generate(800, seed=13)
    first = _solve(data)
    data2 = _notified(data, first)
    data2["policy"]["firm_hours"] = 24
    start = scenario.load(data).start
    # Close Astara from day 2 on: itineraries through it after that must move.
    for c in data2["crossings"]:
        if c["place"] == "AST":
            c["closed"] = [
                {"from": (start.replace(day=start.day + 1)).isoformat(), "to": data["end"]}
            ]
    second = _solve(data2)
    firm = {i["household"] for i in second["itineraries"] if i["fixed"]}
    before = {i["household"]: _legs(i) for i in first["itineraries"]}
    after = {i["household"]: _legs(i) for i in second["itineraries"]}
    assert firm  # some itineraries start within the first 24 hours
    assert all(after[h] == before[h] for h in firm)
