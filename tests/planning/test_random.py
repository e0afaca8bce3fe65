"""Random scenarios: whatever the planner does, the independent checker finds no
violation, every household is accounted for, and no plan beats the LP bound."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aman.planning.optimizer import check, generate, plan, scenario


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    people=st.integers(min_value=30, max_value=600),
    seed=st.integers(min_value=0, max_value=10_000),
    days=st.integers(min_value=2, max_value=5),
    mode=st.sampled_from(["weights", "strict"]),
    method=st.sampled_from(["auto", "greedy"]),
    pressure=st.floats(min_value=0.5, max_value=3.0),
)
def test_every_plan_holds_every_rule(
    people: int, seed: int, days: int, mode: str, method: str, pressure: float
) -> None:
    data = generate.generate(
        people,
        seed=seed,
        days=days,
        mode=mode,
        pressure=pressure,
        flights=max(2, people // 60),
        bus_trips=max(6, people // 12),
    )
    s = scenario.load(data)
    result = plan.solve(s, plan.Options(method=method))
    out = plan.to_json(result)
    assert check.check(s, out) == []
    planned = {i["household"] for i in out["itineraries"]}
    missing = {u["household"] for u in out["unassigned"]}
    assert planned | missing == set(s.households)
    assert not planned & missing
    if out["bound"] is not None:
        assert out["objective"] <= out["bound"] * (1 + 1e-6) + 1e-6
    if method == "auto" and mode == "weights" and out["baseline"]:
        assert out["objective"] >= out["baseline"]["objective"] - 1e-9  # the better is kept
