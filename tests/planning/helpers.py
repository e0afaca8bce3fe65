from __future__ import annotations

from typing import Any

from aman.planning.optimizer import check, plan, scenario


def solve(data: dict[str, Any], method: str = "auto") -> dict[str, Any]:
    """Solve, then hold the plan to the independent checker. `lp-columns`: the LP by
    column generation rather than in the arc formulation."""
    s = scenario.load(data)
    options = plan.Options(method=method)
    if method == "lp-columns":
        options = plan.Options(method="lp", lp="columns")
    out = plan.to_json(plan.solve(s, options))
    assert check.check(s, out) == []
    return out


def by_household(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["household"]: i for i in out["itineraries"]}


def reasons(out: dict[str, Any]) -> dict[str, str]:
    return {u["household"]: u["reason"]["code"] for u in out["unassigned"]}


def moves(itinerary: dict[str, Any]) -> list[str]:
    return [
        s.get("leg") or s.get("pool") or s.get("place")
        for s in itinerary["steps"]
        if s["type"] != "hotel"
    ]
