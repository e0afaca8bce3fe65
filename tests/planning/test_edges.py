"""Edge cases found in review: where a household starts, promises that no longer hold,
strict priority with promises, ways back in, clocks that skip an hour, bad input."""

from __future__ import annotations

import pytest

from aman.planning.optimizer import check, plan, scenario
from tests.planning.build import at, base, bus, flight, household
from tests.planning.helpers import by_household, moves, reasons, solve


def test_a_household_already_abroad_needs_a_bed_for_the_nights_before_its_flight() -> None:
    # In Baku from the start (00:00 Tehran = 00:30 Baku); the flight leaves at 21:00: the
    # night that ends at 03:00 Baku time that morning needs a bed.
    hs = [{"id": "abroad", "location": "GYD", "size": 2, "priority": 1}]
    without = solve(base(households=hs))
    assert reasons(without) == {"abroad": "no_capacity"}
    hotels = [{"id": "HB", "place": "GYD", "beds": {"2026-03-01": 2}}]
    out = solve(base(households=hs, hotels=hotels))
    steps = by_household(out)["abroad"]["steps"]
    assert steps[0] == {
        "type": "hotel",
        "hotel": "HB",
        "place": "GYD",
        "nights": ["2026-03-01"],
        "firm": True,  # the nights before a firm flight: as firm
    }
    assert moves(by_household(out)["abroad"]) == ["F1"]


def test_nobody_waits_overnight_at_a_crossing_they_start_at() -> None:
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
        legs=[bus("T1", "AST", "GYD", 34, 39, 50), flight("F1", 45, 100)],
        households=[{"id": "border", "location": "AST", "size": 2, "available_from": at(21)}],
    )
    out = solve(data)
    assert "border" not in by_household(out)  # 21:00 is after closing; no night there


@pytest.mark.parametrize("change", ["refused", "escort"])
def test_a_promise_that_breaks_a_rule_now_is_not_kept(change: str) -> None:
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
        households=[household("h", 2, permits={"AST": "approved"})],
    )
    first = solve(data)
    steps = plan.steps_of(by_household(first)["h"])
    data["households"][0]["notified"] = steps
    data["policy"]["firm_hours"] = 72  # even a firm one
    if change == "refused":
        data["households"][0]["permits"] = {"AST": "refused"}
        expected = "permit_refused"
    else:
        data["households"][0]["needs_escort"] = True
        expected = "needs_escort"
    out = solve(data)
    assert reasons(out) == {"h": expected}


def test_strict_priority_with_promises_solves_its_lp() -> None:
    data = base(
        policy={"mode": "strict", "firm_hours": 0},
        households=[household("a", 2, 1), household("b", 2, 0)],
    )
    first = solve(data)
    data["households"][0]["notified"] = plan.steps_of(by_household(first)["a"])
    out = solve(data)
    assert out["lp_status"] == "Optimal"
    assert out["bound"] is None and out["gap"] is None  # strict: per level, in stages
    assert [s["priority"] for s in out["stages"]] == [1, 0]
    assert out["stability"]["changed"] == 0


def test_no_way_back_into_the_affected_country_is_planned() -> None:
    data = base(
        places=[
            {"id": "THR", "kind": "city", "country": "IR", "timezone": "Asia/Tehran"},
            {"id": "IKA", "kind": "airport", "country": "IR", "timezone": "Asia/Tehran"},
            {"id": "AST", "kind": "crossing", "country": "IR", "timezone": "Asia/Tehran"},
            {"id": "GYD", "kind": "airport", "country": "AZ", "timezone": "Asia/Baku"},
            {"id": "ALA", "kind": "airport", "country": "KZ", "timezone": "Asia/Almaty"},
        ],
        legs=[
            flight("OUT", 1, 50, **{"from": "IKA", "to": "GYD"}),
            flight("BACK", 5, 50, **{"from": "GYD", "to": "IKA"}),
            flight("HOME", 12, 50, **{"from": "IKA", "to": "ALA"}),
        ],
        households=[{"id": "h", "location": "IKA", "size": 1}],
    )
    out = solve(data)
    assert "BACK" not in moves(by_household(out)["h"])
    assert out["objective"] <= 1.2  # safe once (at most 1), home once (at most 0.2)


def test_a_bus_pool_departure_in_a_daylight_saving_gap_is_valid() -> None:
    data = base(
        start="2026-03-28T00:00:00+01:00",
        end="2026-03-31T00:00:00+02:00",
        timezone="Europe/Berlin",
        places=[
            {"id": "A", "kind": "city", "country": "IR", "timezone": "Europe/Berlin"},
            {"id": "B", "kind": "city", "country": "KZ", "timezone": "Europe/Berlin"},
        ],
        crossings=[],
        legs=[],
        bus_pools=[
            {
                "id": "P",
                "from": "A",
                "to": "B",
                "buses_per_day": 1,
                "seats": 10,
                "travel_minutes": 60,
                "departures": ["02:30"],
                "first_day": "2026-03-29",
                "last_day": "2026-03-29",
            }
        ],
        households=[{"id": "h", "location": "A", "size": 2}],
    )
    out = solve(data)  # solve() also runs the checker
    assert moves(by_household(out)["h"]) == ["P"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"places": []}, r"\$\.places: must list at least one place"),
        ({"legs": ["B1"]}, r"\$\.legs\[0\]: must be an object"),
        (
            {
                "bus_pools": [
                    {
                        "id": "P",
                        "from": "THR",
                        "to": "AST",
                        "buses_per_day": 1,
                        "seats": 10,
                        "travel_minutes": 60,
                        "departures": [],
                    }
                ]
            },
            r"\$\.bus_pools\[0\]\.departures: must list at least one time",
        ),
        (
            {
                "crossings": [
                    {
                        "place": "AST",
                        "entry_country": "AZ",
                        "daily_capacity": 5,
                        "closed": ["tomorrow"],
                    }
                ]
            },
            r"\$\.crossings\[0\]\.closed: must be a list",
        ),
    ],
)
def test_bad_scenarios_name_the_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.load(base(**change))


def test_times_with_seconds_survive_writing_and_reading() -> None:
    data = base(
        bus_pools=[
            {
                "id": "P",
                "from": "THR",
                "to": "AST",
                "buses_per_day": 1,
                "seats": 10,
                "travel_minutes": 60,
                "departures": ["08:00:30"],
            }
        ]
    )
    s = scenario.load(data)
    assert scenario.load(scenario.dump(s)) == s
    assert check.check(s, {"format": "aman.plan/1", "itineraries": [], "unassigned": []}) == []
