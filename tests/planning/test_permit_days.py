"""A transit permit holds for its day: an entry state's list is for one crossing and one
day, so a household approved for one day is not planned across on another — in the
scenario (`permit_days`), by the planner, by the checker — and publishing refuses a plan
that crosses where permits are wanted on a day without an approval for everyone."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from aman.geo.models import Place
from aman.geo.services import crossing_update
from aman.planning.models import Plan
from aman.planning.optimizer import check, scenario
from aman.registry.models import Household
from aman.transport.models import Booking, PermitEntry, PermitList
from tests.planning.build import base, bus, flight, household
from tests.planning.helpers import by_household, moves, reasons, solve
from tests.planning.world import DAYS, START, people_of, situation

# The scenario on paper ----------------------------------------------------------------------


def two_days(**more: Any) -> dict[str, Any]:
    """A bus a day to the crossing AST (permits wanted), passed at 09:00 on 2026-03-02 and
    on 2026-03-03 (Tehran), each with its bus on and its flight home."""
    return base(
        crossings=[
            {
                "place": "AST",
                "entry_country": "AZ",
                "daily_capacity": 1000,
                "minutes": 60,
                "permit_required": True,
            }
        ],
        legs=[
            bus("B1", "THR", "AST", 2, 9, 50),
            bus("T1", "AST", "GYD", 12, 17, 50),
            flight("F1", 21, 100),
            bus("B2", "THR", "AST", 26, 33, 50),
            bus("T2", "AST", "GYD", 36, 41, 50),
            flight("F2", 45, 100),
        ],
        **more,
    )


@pytest.mark.parametrize("method", ["greedy", "lp"])
def test_an_approval_holds_on_the_days_it_names(method: str) -> None:
    data = two_days(
        households=[
            household("any", 2, permits={"AST": "approved"}),
            household("first", 2, permits={"AST": "approved"}, permit_days={"AST": ["2026-03-02"]}),
            household(
                "second", 2, permits={"AST": "approved"}, permit_days={"AST": ["2026-03-03"]}
            ),
            household("later", 2, permits={"AST": "approved"}, permit_days={"AST": ["2026-03-05"]}),
        ]
    )
    out = solve(data, method)  # held to the checker too
    planned = by_household(out)
    assert moves(planned["any"])[:2] == ["B1", "AST"]
    assert moves(planned["first"])[:2] == ["B1", "AST"]
    # Approved for the second day only: the second day's bus, however early the first.
    assert moves(planned["second"])[:2] == ["B2", "AST"]
    assert "later" not in planned and reasons(out)["later"] == "permit_pending"
    (why,) = [u["reason"] for u in out["unassigned"] if u["household"] == "later"]
    assert why["crossing"] == "AST"


def test_the_checker_refuses_a_pass_on_a_day_the_permit_does_not_name() -> None:
    data = two_days(
        households=[
            household("h", 2, permits={"AST": "approved"}, permit_days={"AST": ["2026-03-02"]})
        ]
    )
    out = solve(data)
    data["households"][0]["permit_days"] = {"AST": ["2026-03-03"]}
    problems = check.check(scenario.load(data), out)
    assert any("a day its permit does not name" in p for p in problems), problems


@pytest.mark.parametrize(
    ("permit_days", "message"),
    [
        (["2026-03-02"], r"permit_days: must map crossings"),
        ({"NOPE": ["2026-03-02"]}, r"permit_days: names no crossing: 'NOPE'"),
        ({"AST": []}, r"permit_days\.AST: must list at least one day"),
        ({"AST": ["2 March"]}, r"permit_days\.AST\[0\]: is not a date"),
    ],
)
def test_bad_permit_days_name_the_field(permit_days: Any, message: str) -> None:
    data = two_days(households=[household("h", 2, permit_days=permit_days)])
    with pytest.raises(scenario.ScenarioError, match=message):
        scenario.load(data)


def test_permit_days_survive_writing_and_reading() -> None:
    data = two_days(
        households=[
            household(
                "h",
                2,
                permits={"AST": "approved"},
                permit_days={"AST": ["2026-03-03", "2026-03-02"]},
            )
        ]
    )
    s = scenario.load(data)
    assert s.households["h"].permit_days == {"AST": {date(2026, 3, 2), date(2026, 3, 3)}}
    written = scenario.dump(s)
    assert written["households"][0]["permit_days"] == {"AST": ["2026-03-02", "2026-03-03"]}
    assert scenario.load(written) == s


# From the database, through the API ---------------------------------------------------------


def post(client, path: str, body: dict) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def _approve(crisis, household: Household, day: date, decision: str = "approved") -> PermitList:
    """The entry state's answer for every member of `household` on the Norduz list of `day`."""
    norduz = Place.objects.get(code="IR-AM-NORDUZ")
    found, _created = PermitList.objects.get_or_create(
        crisis=crisis, crossing=norduz, day=day, defaults={"status": "answered"}
    )
    for person in people_of(household):
        PermitEntry.objects.update_or_create(
            permit_list=found, person=person, defaults={"decision": decision}
        )
    return found


def _plan(api, capture) -> dict[str, Any]:
    with capture(execute=True):
        started = post(api, "/api/plans", {"days": DAYS})
    assert started.status_code == 202, started.content
    return api.get(f"/api/plans/{started.json()['id']}").json()


@pytest.mark.django_db
def test_a_household_approved_for_another_day_is_not_planned_across(
    world, django_capture_on_commit_callbacks
) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    norduz = crossing_update(
        actor=None, place=Place.objects.get(code="IR-AM-NORDUZ"), transit_permit="yes"
    )
    bus_day = START.date()  # the first bus reaches Norduz at 20:00 Tehran time
    ours, theirs = s.household(0), s.household(1)
    _approve(world.crisis, ours, bus_day + timedelta(days=2))  # not the bus's day
    _approve(world.crisis, theirs, bus_day)
    api = world.api("logistics")
    plan = _plan(api, django_capture_on_commit_callbacks)
    scenario_data = api.get(f"/api/plans/{plan['id']}/scenario").json()
    households = {h["id"]: h for h in scenario_data["households"]}
    crossing = f"p{norduz.pk}"
    assert households[f"hh{ours.pk}"]["permits"] == {crossing: "approved"}
    assert households[f"hh{ours.pk}"]["permit_days"] == {
        crossing: [(bus_day + timedelta(days=2)).isoformat()]
    }
    assert households[f"hh{theirs.pk}"]["permit_days"] == {crossing: [bus_day.isoformat()]}
    planned = {i["household"]: i for i in plan["result"]["itineraries"]}
    assert f"hh{theirs.pk}" in planned and f"hh{ours.pk}" not in planned
    why = {u["household"]: u["reason"] for u in plan["result"]["unassigned"]}
    assert why[f"hh{ours.pk}"]["code"] == "permit_pending"
    assert why[f"hh{ours.pk}"]["crossing"] == "Norduz"

    # Approved for the bus's day too: planned across that day, and published.
    _approve(world.crisis, ours, bus_day)
    plan = _plan(api, django_capture_on_commit_callbacks)
    planned = {i["household"]: i for i in plan["result"]["itineraries"]}
    (passed,) = [st for st in planned[f"hh{ours.pk}"]["steps"] if st["type"] == "crossing"]
    assert passed["at"].startswith(bus_day.isoformat())
    with django_capture_on_commit_callbacks(execute=True):
        post(api, f"/api/plans/{plan['id']}/publish", {})
    assert api.get(f"/api/plans/{plan['id']}").json()["status"] == "published"


@pytest.mark.django_db
def test_a_publish_across_a_crossing_without_that_days_permit_is_refused(
    world, django_capture_on_commit_callbacks
) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    crossing_update(actor=None, place=Place.objects.get(code="IR-AM-NORDUZ"), transit_permit="yes")
    bus_day = START.date()
    permit_list = _approve(world.crisis, s.household(0), bus_day)
    _approve(world.crisis, s.household(1), bus_day)
    api = world.api("logistics")
    plan = _plan(api, django_capture_on_commit_callbacks)
    assert len(plan["result"]["itineraries"]) == 2
    # The entry state takes one approval back (through the permits API) before publishing.
    refused = people_of(s.household(0))[0]
    response = post(
        api,
        f"/api/permits/{permit_list.pk}/answers",
        {"answers": [{"person": refused.reference_code, "decision": "refused"}]},
    )
    assert response.status_code == 200, response.content
    with django_capture_on_commit_callbacks(execute=True):
        assert post(api, f"/api/plans/{plan['id']}/publish", {}).status_code == 202
    detail = api.get(f"/api/plans/{plan['id']}").json()
    assert detail["status"] == "draft"
    assert detail["error"] == (
        f"The plan takes 1 households across Norduz on {bus_day.isoformat()} without a "
        "transit permit approved for that day: run the planner again."
    )
    assert Plan.objects.get(pk=plan["id"]).error_detail == {
        "code": "permit_missing",
        "place": "Norduz",
        "day": bus_day.isoformat(),
        "n": 1,
    }
    assert not Booking.objects.filter(crisis=world.crisis).exists()


@pytest.mark.django_db
def test_a_crossing_that_wants_permits_since_the_run_refuses_the_publish(
    world, django_capture_on_commit_callbacks
) -> None:
    situation(world.crisis, households=2, bus_seats=10)
    api = world.api("logistics")
    plan = _plan(api, django_capture_on_commit_callbacks)
    assert len(plan["result"]["itineraries"]) == 2
    crossing_update(actor=None, place=Place.objects.get(code="IR-AM-NORDUZ"), transit_permit="yes")
    with django_capture_on_commit_callbacks(execute=True):
        post(api, f"/api/plans/{plan['id']}/publish", {})
    detail = api.get(f"/api/plans/{plan['id']}").json()
    assert detail["status"] == "draft"
    assert "The plan takes 2 households across Norduz" in detail["error"]
    assert not Booking.objects.filter(crisis=world.crisis).exists()
