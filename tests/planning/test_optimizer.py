"""Hand-made scenarios whose best plan is known, solved by every method."""

from __future__ import annotations

from typing import Any

import pytest

from aman.planning.optimizer import check, scenario
from tests.planning.build import at, base, bus, flight, household
from tests.planning.helpers import by_household, moves, reasons, solve

METHODS = ["auto", "lp", "lp-columns", "greedy"]


@pytest.mark.parametrize("method", METHODS)
def test_the_seats_go_to_the_highest_priority_and_households_travel_whole(method: str) -> None:
    data = base(
        households=[household("low", 20, 0), household("high", 20, 5), household("mid", 20, 1)]
    )
    out = solve(data, method)
    planned = by_household(out)
    assert set(planned) == {"high", "mid"}
    assert moves(planned["high"]) == ["B1", "AST", "T1", "F1"]
    assert planned["high"]["safe_at"] == at(9)  # the bus reaches the crossing, 24h open
    assert planned["high"]["home_at"] == at(24)
    assert reasons(out) == {"low": "no_capacity"}
    assert out["summary"]["people_safe"] == 40
    assert out["summary"]["people_home"] == 40


@pytest.mark.parametrize("method", METHODS)
def test_a_household_is_never_split_to_fill_seats(method: str) -> None:
    data = base(
        legs=[
            bus("B1", "THR", "AST", 2, 9, 5),
            bus("T1", "AST", "GYD", 12, 17, 50),
            flight("F1", 21, 100),
        ],
        households=[household("six", 6, 3)],
    )
    out = solve(data, method)
    assert out["itineraries"] == []
    assert reasons(out) == {"six": "no_capacity"}


def test_the_lp_bound_sees_the_seats_a_whole_household_cannot_use() -> None:
    data = base(
        legs=[
            bus("B1", "THR", "AST", 2, 9, 5),
            bus("T1", "AST", "GYD", 12, 17, 50),
            flight("F1", 21, 100),
        ],
        households=[household("six", 6, 3)],
    )
    out = solve(data, "lp")
    assert out["bound"] > 0  # five people could leave if families could be split
    assert out["objective"] == 0
    assert out["gap"] == 1.0


@pytest.mark.parametrize("method", METHODS)
def test_earlier_seats_go_to_priority(method: str) -> None:
    data = base(
        end=at(96),
        legs=[
            bus("B1", "THR", "AST", 2, 9, 10),
            bus("B2", "THR", "AST", 30, 37, 10),
            bus("T1", "AST", "GYD", 12, 17, 50),
            bus("T2", "AST", "GYD", 40, 45, 50),
            flight("F1", 21, 100),
            flight("F2", 50, 100),
        ],
        households=[household("plain", 10, 0), household("elderly", 10, 2)],
    )
    planned = by_household(solve(data, method))
    assert moves(planned["elderly"])[0] == "B1"
    assert moves(planned["plain"])[0] == "B2"


@pytest.mark.parametrize("method", METHODS)
def test_a_closed_crossing_is_passed_when_it_opens(method: str) -> None:
    data = base(
        crossings=[
            {
                "place": "AST",
                "entry_country": "AZ",
                "daily_capacity": 100,
                "opens": "08:00",
                "closes": "20:00",
                "minutes": 60,
            }
        ],
        legs=[
            bus("B1", "THR", "AST", 23, 30, 50),
            bus("T1", "AST", "GYD", 36, 41, 50),
            flight("F1", 45, 100),
        ],
        households=[household("h", 4, 1)],
    )
    planned = by_household(solve(data, method))
    step = next(s for s in planned["h"]["steps"] if s["type"] == "crossing")
    assert step["at"] == at(32)  # arrived at 06:00, passes when it opens at 08:00
    assert planned["h"]["safe_at"] == at(32)


@pytest.mark.parametrize("method", METHODS)
def test_a_crossings_daily_capacity_holds(method: str) -> None:
    data = base(
        crossings=[{"place": "AST", "entry_country": "AZ", "daily_capacity": 10, "minutes": 60}],
        households=[household("a", 6, 2), household("b", 5, 1), household("c", 4, 0)],
    )
    out = solve(data, method)
    assert sum(i["size"] for i in out["itineraries"]) <= 10
    # The best: a (6, priority 2) and c (4): the day's ten places, priority first.
    assert set(by_household(out)) == {"a", "c"}


@pytest.mark.parametrize("method", METHODS)
def test_transit_permits_and_escorts_are_respected_and_explained(method: str) -> None:
    data = base(
        crossings=[
            {
                "place": "AST",
                "entry_country": "AZ",
                "daily_capacity": 100,
                "minutes": 60,
                "permit_required": True,
            }
        ],
        households=[
            household("ok", 2, permits={"AST": "approved"}),
            household("waiting", 2, permits={"AST": "pending"}),
            household("refused", 2, permits={"AST": "refused"}),
            household("escort", 2, needs_escort=True, permits={"AST": "approved"}),
            household("no", 2, declined=True),
        ],
    )
    out = solve(data, method)
    assert set(by_household(out)) == {"ok"}
    assert reasons(out) == {
        "waiting": "permit_pending",
        "refused": "permit_refused",
        "escort": "needs_escort",
        "no": "declined",
    }
    text = {u["household"]: u["reason"]["text"] for u in out["unassigned"]}
    assert text["escort"] == "needs a medical escort; none available"
    assert text["waiting"] == "transit permit pending at AST"


@pytest.mark.parametrize("method", METHODS)
def test_a_night_at_the_hub_needs_a_hotel_bed(method: str) -> None:
    legs = [
        bus("B1", "THR", "AST", 2, 9, 50),
        bus("T1", "AST", "GYD", 12, 17, 50),
        flight("F1", 34, 100),
    ]  # leaves Baku the next morning
    night = "2026-03-02"
    no_bed = solve(base(legs=legs, households=[household("h", 3)]), method)
    assert reasons(no_bed) == {"h": "no_capacity"}
    hotels = [{"id": "HB", "place": "GYD", "beds": {night: 3}, "cost_per_night": 40}]
    out = solve(base(legs=legs, hotels=hotels, households=[household("h", 3)]), method)
    steps = [{k: v for k, v in st.items() if k != "firm"} for st in by_household(out)["h"]["steps"]]
    assert {"type": "hotel", "hotel": "HB", "place": "GYD", "nights": [night]} in steps
    assert out["summary"]["hotel_nights"] == 3


@pytest.mark.parametrize("method", METHODS)
def test_bus_pools_run_no_more_buses_than_there_are(method: str) -> None:
    data = base(
        end=at(96),
        legs=[bus("T1", "AST", "GYD", 16, 21, 50), flight("F1", 24, 100)],
        bus_pools=[
            {
                "id": "P",
                "from": "THR",
                "to": "AST",
                "buses_per_day": 1,
                "seats": 10,
                "travel_minutes": 420,
                "departures": ["06:00", "12:00"],
                "first_day": "2026-03-02",
                "last_day": "2026-03-02",
            }
        ],
        households=[household("a", 6, 1), household("b", 6, 0)],
    )
    out = solve(data, method)
    assert list(by_household(out)) == ["a"]
    assert out["pool_trips"] == [
        {
            "pool": "P",
            "from": "THR",
            "to": "AST",
            "departure": at(6),
            "arrival": at(13),
            "buses": 1,
            "people": 6,
        }
    ]


def _pool_of_two(**more: Any) -> dict[str, Any]:
    return base(
        end=at(96),
        legs=[bus("T1", "AST", "GYD", 16, 21, 50), flight("F1", 24, 100)],
        bus_pools=[
            {
                "id": "P",
                "from": "THR",
                "to": "AST",
                "buses_per_day": 2,
                "seats": 10,
                "travel_minutes": 420,
                "departures": ["06:00"],
                "first_day": "2026-03-02",
                "last_day": "2026-03-02",
                **more,
            }
        ],
        households=[household("a", 6, 1), household("b", 6, 0)],
    )


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("buses", "placed"), [(None, ["a", "b"]), (1, ["a"]), (0, [])])
def test_a_bus_pool_runs_fewer_buses_on_the_days_it_says(
    method: str, buses: int | None, placed: list[str]
) -> None:
    more = {} if buses is None else {"buses_by_day": {"2026-03-02": buses}}
    out = solve(_pool_of_two(**more), method)
    assert sorted(by_household(out)) == placed
    assert sum(t["buses"] for t in out["pool_trips"]) == len(placed)


def test_a_plan_with_more_buses_than_the_day_has_is_refused_by_the_checker() -> None:
    two = solve(_pool_of_two())
    s = scenario.load(_pool_of_two(buses_by_day={"2026-03-02": 1}))
    assert scenario.load(scenario.dump(s)) == s
    assert check.check(s, two) == ["bus pool P on 2026-03-02: 2 buses, 1 that day"]
    with pytest.raises(
        scenario.ScenarioError, match=r"buses_by_day\.2026-03-02: must be from 0 to 2"
    ):
        scenario.load(_pool_of_two(buses_by_day={"2026-03-02": 3}))
    with pytest.raises(scenario.ScenarioError, match=r"buses_by_day: is not a date"):
        scenario.load(_pool_of_two(buses_by_day={"soon": 1}))


@pytest.mark.parametrize("method", METHODS)
def test_a_locked_household_keeps_its_itinerary(method: str) -> None:
    data = base(
        end=at(96),
        legs=[
            bus("B1", "THR", "AST", 2, 9, 10),
            bus("B2", "THR", "AST", 30, 37, 10),
            bus("T1", "AST", "GYD", 12, 17, 50),
            bus("T2", "AST", "GYD", 40, 45, 50),
            flight("F1", 21, 100),
            flight("F2", 50, 100),
        ],
        households=[
            household(
                "late",
                4,
                5,
                locked=[
                    {"type": "leg", "leg": "B2"},
                    {"type": "crossing", "place": "AST", "at": at(37)},
                    {"type": "leg", "leg": "T2"},
                    {"type": "leg", "leg": "F2"},
                ],
            )
        ],
    )
    planned = by_household(solve(data, method))
    assert moves(planned["late"]) == ["B2", "AST", "T2", "F2"]
    assert planned["late"]["fixed"] is True


def test_strict_priority_serves_each_level_before_the_next() -> None:
    # One early seat with a medical escort, one seat two days later without. Weights:
    # priority 1 takes the late seat so that the household needing the escort can leave
    # too (2 × late + 1 × early is worth more than 2 × early). Strict priority gives
    # priority 1 the best it can have, the early seat, whatever it costs the others.
    legs = [
        bus("B1", "THR", "AST", 2, 9, 1, escort=True),
        bus("B2", "THR", "AST", 40, 47, 1),
        bus("T1", "AST", "GYD", 12, 17, 50, escort=True),
        bus("T2", "AST", "GYD", 48, 53, 50, escort=True),
        flight("F1", 21, 100, escort=True),
        flight("F2", 57, 100, escort=True),
    ]
    hs = [household("p1", 1, 1), household("escorted", 1, 0, needs_escort=True)]
    weights = solve(base(end=at(96), legs=legs, households=hs))
    strict = solve(base(end=at(96), legs=legs, households=hs, policy={"mode": "strict"}))
    assert moves(by_household(weights)["p1"])[0] == "B2"
    assert moves(by_household(weights)["escorted"])[0] == "B1"
    assert moves(by_household(strict)["p1"])[0] == "B1"
    assert reasons(strict) == {"escorted": "no_capacity"}
    assert [s["priority"] for s in strict["stages"]] == [1, 0]


def test_rounding_keeps_households_whole_where_the_lp_would_split_them() -> None:
    # The LP takes the priority person and two of the three (fractional); a plan can
    # only take whole households: one of the two, never both.
    legs = [
        bus("B1", "THR", "AST", 2, 9, 3),
        bus("T1", "AST", "GYD", 12, 17, 50),
        flight("F1", 21, 100),
    ]
    out = solve(base(legs=legs, households=[household("p1", 1, 1), household("three", 3, 0)]))
    assert len(out["itineraries"]) == 1
    assert out["objective"] < out["bound"]


def test_shadow_prices_name_the_capacity_that_binds() -> None:
    # Forty people, one bus of 20 seats: its seats are what keeps people back.
    data = base(
        legs=[
            bus("B1", "THR", "AST", 2, 9, 20),
            bus("T1", "AST", "GYD", 12, 17, 50),
            flight("F1", 21, 100),
        ],
        households=[household(f"h{i}", 2) for i in range(20)],
    )
    out = solve(data, "auto")
    top = out["shadow_prices"][0]
    assert (top["kind"], top["ref"]) == ("leg", "B1")
    assert top["per_unit"] > 0.9  # a person brought out early is worth almost 1 (+ home)
    assert top["text"].startswith("one more seat on bus B1 THR→AST (2026-03-02 02:00) is worth")
    assert all(p["ref"] != "F1" for p in out["shadow_prices"])  # half empty: worth nothing


def two_days() -> dict[str, Any]:
    """Twenty people; ten seats out on the first day's bus, five on the second's; the
    flights have room to spare."""
    return base(
        legs=[
            bus("B1", "THR", "AST", 2, 9, 10),
            bus("T1", "AST", "GYD", 12, 17, 50),
            flight("F1", 21, 100),
            bus("B2", "THR", "AST", 26, 33, 5),
            bus("T2", "AST", "GYD", 36, 41, 50),
            flight("F2", 45, 100),
        ],
        households=[household(f"H{i}", 1, priority=i % 3) for i in range(20)],
    )


def test_the_limits_curve_is_the_most_that_could_be_safe_each_day() -> None:
    from aman.planning.optimizer import plan, scenario

    data = two_days()
    s = scenario.load(data)
    assert plan.limits(s) == [
        {"day": "2026-03-02", "most_safe": 10.0},
        {"day": "2026-03-03", "most_safe": 15.0},
        {"day": "2026-03-04", "most_safe": 15.0},
    ]
    out = plan.to_json(plan.solve(s, plan.Options(limits=True)))
    assert out["limits"] == plan.limits(s)
    assert out["summary"]["people_safe"] == 15
    # Without a way on from Azerbaijan (no flight, no hotel), nobody can stay safe past the
    # first night: the curve is never above a later day's.
    stuck = scenario.load(base(legs=data["legs"][:1], households=data["households"]))
    assert [row["most_safe"] for row in plan.limits(stuck)] == [0.0, 0.0, 0.0]


def test_shadow_prices_in_people_by_day_once_the_limits_are_known() -> None:
    """Twenty people, ten seats on the first day's bus and five on the second's: as many
    seats again on the first bus would bring at most ten more people out by the end of
    the first day, on the second bus five more by the end of the second — the words
    issue 7 asks for ("… would bring 164 more people out by day 3")."""
    from aman.planning.optimizer import plan, scenario

    data = two_days()
    s = scenario.load(data)
    # Without the limits the prices are in value only.
    bare = plan.to_json(plan.solve(s))
    assert bare["shadow_prices"] and not any("people" in x for x in bare["shadow_prices"])
    out = plan.to_json(plan.solve(s, plan.Options(limits=True)))
    by_leg = {x["ref"]: x for x in out["shadow_prices"] if x["kind"] == "leg"}
    assert by_leg["B1"]["people"] == {
        "by_day": "2026-03-02",
        "per_unit": 1.0,
        "units": 10,
        "most": 10,
    }
    assert by_leg["B2"]["people"]["most"] == 5
    assert by_leg["B2"]["people"]["by_day"] == "2026-03-03"
    assert by_leg["B1"]["text"].endswith(
        "as many seats again would bring at most 10 more people to safety by the end of 2026-03-02"
    )
    # The flights have room to spare: never named.
    assert "F1" not in by_leg and "F2" not in by_leg


def binding_pool() -> dict[str, Any]:
    """Thirty people, one pool bus of ten a day for two days, everything after it with
    room to spare: the pool's buses are what keep people back."""
    return base(
        end=at(96),
        legs=[
            bus("T1", "AST", "GYD", 16, 21, 50),
            flight("F1", 24, 100),
            bus("T2", "AST", "GYD", 40, 45, 50),
            flight("F2", 48, 100),
        ],
        bus_pools=[
            {
                "id": "P",
                "from": "THR",
                "to": "AST",
                "buses_per_day": 1,
                "seats": 10,
                "travel_minutes": 420,
                "departures": ["06:00"],
                "first_day": "2026-03-02",
                "last_day": "2026-03-03",
            }
        ],
        households=[household(f"h{i}", 2) for i in range(15)],
    )


def test_shadow_prices_name_a_bus_pool_that_binds() -> None:
    """One more bus on the first day would bring at most ten more people out by the end
    of that day — the words issue 7 asks for; no leg, crossing or bed is named."""
    from aman.planning.optimizer import plan, scenario

    data = binding_pool()
    s = scenario.load(data)
    bare = solve(data, "auto")
    assert [(x["kind"], x["ref"], x["day"]) for x in bare["shadow_prices"]] == [
        ("pool", "P", "2026-03-02"),
        ("pool", "P", "2026-03-03"),
    ]
    first = bare["shadow_prices"][0]
    # A bus of ten seats, each worth about one person brought out early (and home).
    assert 10 < first["per_unit"] < 12 and "people" not in first
    assert first["text"].startswith(
        "one more bus of pool P THR→AST on 2026-03-02 (10 seats, leaving 06:00) is worth"
    )
    out = plan.to_json(plan.solve(s, plan.Options(limits=True)))
    assert out["summary"]["people_safe"] == 20
    by_day = {x["day"]: x for x in out["shadow_prices"] if x["kind"] == "pool"}
    assert by_day["2026-03-02"]["people"] == {
        "by_day": "2026-03-02",
        "per_unit": 10.0,
        "units": 1,
        "most": 10,
    }
    assert by_day["2026-03-03"]["people"]["by_day"] == "2026-03-03"
    assert by_day["2026-03-02"]["text"].endswith(
        "it would bring at most 10 more people to safety by the end of 2026-03-02"
    )
