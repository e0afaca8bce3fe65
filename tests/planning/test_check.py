"""The checker finds every kind of violation in a plan that was valid, then tampered."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from aman.planning.optimizer import check, plan, scenario
from tests.planning.build import at, base, bus, flight, household

HOTELS = [{"id": "HB", "place": "GYD", "beds": {"2026-03-02": 4}}]


def _valid() -> tuple[scenario.Scenario, dict[str, Any]]:
    data = base(
        end=at(96),
        crossings=[
            {
                "place": "AST",
                "entry_country": "AZ",
                "daily_capacity": 10,
                "opens": "08:00",
                "closes": "20:00",
                "minutes": 60,
                "permit_required": True,
            }
        ],
        legs=[
            bus("B1", "THR", "AST", 2, 9, 10),
            bus("T1", "AST", "GYD", 12, 17, 50),
            flight("F1", 34, 100),
        ],
        hotels=HOTELS,
        households=[
            household("a", 4, 2, permits={"AST": "approved"}),
            household("b", 3, 0, permits={"AST": "approved"}),
        ],
    )
    s = scenario.load(data)
    out = plan.to_json(plan.solve(s))
    assert check.check(s, out) == []
    assert {i["household"] for i in out["itineraries"]} == {"a"}  # four beds: a only
    return s, out


def _steps(out: dict[str, Any], hid: str) -> list[dict[str, Any]]:
    return next(i for i in out["itineraries"] if i["household"] == hid)["steps"]


def _tamper(change: str) -> list[str]:
    s, out = _valid()
    out = copy.deepcopy(out)
    steps = _steps(out, "a")
    b = copy.deepcopy(next(i for i in out["itineraries"] if i["household"] == "a"))
    b.update(household="b", size=3)
    if change == "overbooked":
        data = scenario.dump(s)
        data["legs"][0]["seats"] = 3
        s = scenario.load(data)
    elif change == "twice":
        out["itineraries"].append(copy.deepcopy(out["itineraries"][0]))
    elif change == "missing":
        out["unassigned"] = []
    elif change == "closed":
        next(x for x in steps if x["type"] == "crossing")["at"] = at(22)  # 22:00
    elif change == "permit":
        data = scenario.dump(s)
        data["households"][0]["permits"] = {"AST": "pending"}
        s = scenario.load(data)
    elif change == "no_bed":
        out["itineraries"][0]["steps"] = [x for x in steps if x["type"] != "hotel"]
    elif change == "beds":
        out["unassigned"] = [u for u in out["unassigned"] if u["household"] != "b"]
        out["itineraries"].append(b)
    elif change == "split":
        out["itineraries"][0]["size"] = 2
    elif change == "order":
        steps.reverse()
    elif change == "early":
        data = scenario.dump(s)
        data["households"][0]["available_from"] = at(5)
        s = scenario.load(data)
    elif change == "locked":
        data = scenario.dump(s)
        # Locked to passing Astara an hour later: still possible, and not kept.
        data["households"][0]["locked"] = [
            {"type": "leg", "leg": "B1"},
            {"type": "crossing", "place": "AST", "at": at(10)},
            {"type": "leg", "leg": "T1"},
            {"type": "leg", "leg": "F1"},
        ]
        s = scenario.load(data)
    elif change == "horizon":
        data = scenario.dump(s)
        data["end"] = at(30)
        s = scenario.load(data)
    return check.check(s, out)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("overbooked", "leg B1: 4 people on 3 seats"),
        ("twice", "household a appears 2 times in the plan"),
        ("missing", "household b is neither planned nor listed as unassigned"),
        ("closed", "AST is closed at"),
        ("permit", "without an approved transit permit"),
        ("no_bed", "spends the night of 2026-03-02 at GYD without a hotel bed"),
        ("beds", "hotel HB the night of 2026-03-02: 7 people in 4 beds"),
        ("split", "travels with 2 people, not all 4"),
        ("order", "leaves GYD but the household is at THR"),
        ("early", "departs"),
        ("locked", "household a is locked to another itinerary, still possible"),
        ("horizon", "departs outside the horizon"),
    ],
)
def test_the_checker_reports_each_violation(change: str, expected: str) -> None:
    problems = _tamper(change)
    assert any(expected in p for p in problems), problems


def test_the_checker_refuses_what_is_not_a_plan() -> None:
    s, _ = _valid()
    assert check.check(s, {"format": "something else"}) == [
        "the plan is not an aman.plan/1 document"
    ]


@pytest.mark.parametrize(
    "lock",
    [
        # Only the legs: the crossing is passed whenever it lets people through.
        [{"type": "leg", "leg": "B1"}, {"type": "leg", "leg": "T1"}, {"type": "leg", "leg": "F1"}],
    ],
)
def test_a_lock_kept_is_no_violation(lock: list[dict[str, Any]]) -> None:
    s, out = _valid()
    data = scenario.dump(s)
    data["households"][0]["locked"] = lock
    assert check.check(scenario.load(data), out) == []


LOCK_AN_HOUR_LATER: list[dict[str, Any]] = [
    {"type": "leg", "leg": "B1"},
    {"type": "crossing", "place": "AST", "at": at(10)},
    {"type": "leg", "leg": "T1"},
    {"type": "leg", "leg": "F1"},
]


@pytest.mark.parametrize("why", ["closed", "cancelled", "permit"])
def test_a_lock_no_longer_possible_may_be_moved(why: str) -> None:
    """The planner drops a lock that is no longer possible (with a warning) and plans the
    household freely: the checker holds the plan to that rule, not to the lock."""
    s, out = _valid()
    data = scenario.dump(s)
    lock = copy.deepcopy(LOCK_AN_HOUR_LATER)
    if why == "closed":  # Astara closed at the locked hour
        data["crossings"][0]["closed"] = [{"from": at(9.5), "to": at(11)}]
    elif why == "cancelled":
        lock[3] = {"type": "leg", "leg": "F-gone"}
    else:  # the permit was withdrawn: a lock through Astara cannot be kept
        data["households"][0]["permits"] = {"AST": "pending"}
    data["households"][0]["locked"] = lock
    problems = check.check(scenario.load(data), out)
    assert not any("locked" in p for p in problems), problems


@pytest.mark.parametrize("fixed", [True, False])
def test_a_lock_without_room_beside_the_fixed_itineraries_may_be_moved(fixed: bool) -> None:
    """b is locked to the bus a took: when a's itinerary is fixed (firm or locked) there
    is no room left for b's lock, and moving b is right; when a's is not, b's lock was
    possible and should have been kept."""
    s, out = _valid()
    data = scenario.dump(s)
    data["legs"][0]["seats"] = 4
    data["households"][1]["locked"] = copy.deepcopy(LOCK_AN_HOUR_LATER)
    out = copy.deepcopy(out)
    out["itineraries"][0]["fixed"] = fixed
    problems = check.check(scenario.load(data), out)
    assert any("household b is locked" in p for p in problems) is (not fixed), problems


def test_the_checker_names_each_malformed_part_of_a_plan() -> None:
    s, out = _valid()
    out = copy.deepcopy(out)
    out["itineraries"][0]["steps"] = "abc"
    out["itineraries"].append("b")
    out["unassigned"] = [{"household": 3}]
    assert check.check(s, out) == [
        "itineraries[0].steps: expected a list, not str",
        "itineraries[1]: expected an object, not str",
        "unassigned[0].household: expected a string, not int",
    ]
