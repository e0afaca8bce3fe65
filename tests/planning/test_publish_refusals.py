"""What publishing and locking refuse, through the API and the pages: a plan whose legs
were re-timed or cancelled since the run, a lock on a plan no longer a draft or the
published one; and the changes list refuses a kind it does not know."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aman.planning.models import Plan, PlanLock, PlanStatus
from aman.transport.models import Booking
from aman.transport.services import leg_set_status, leg_update
from tests.planning.world import DAYS, at, situation

pytestmark = pytest.mark.django_db


def post(client, path: str, body: dict | None = None) -> Any:
    return client.post(path, data=json.dumps(body or {}), content_type="application/json")


def _plan(api, capture) -> dict[str, Any]:
    with capture(execute=True):
        started = post(api, "/api/plans", {"days": DAYS})
    assert started.status_code == 202, started.content
    return api.get(f"/api/plans/{started.json()['id']}").json()


def _publish(api, capture, plan_id: int) -> dict[str, Any]:
    with capture(execute=True):
        assert post(api, f"/api/plans/{plan_id}/publish").status_code == 202
    return api.get(f"/api/plans/{plan_id}").json()


@pytest.mark.parametrize(
    ("change", "what"),
    [
        # The flight now leaves before the bus reaches Yerevan.
        (
            lambda leg: leg_update(
                actor=None, leg=leg, data={"departure_planned": at(20), "arrival_planned": at(24)}
            ),
            "departure time, arrival time",
        ),
        (
            lambda leg: leg_update(actor=None, leg=leg, data={"arrival_planned": at(56)}),
            "arrival time",
        ),
        (
            lambda leg: leg_set_status(actor=None, leg=leg, status="cancelled", note="airspace"),
            "cancelled",
        ),
    ],
)
def test_a_leg_changed_since_the_run_refuses_the_publish(
    world, django_capture_on_commit_callbacks, change: Any, what: str
) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    api = world.api("logistics")
    plan = _plan(api, django_capture_on_commit_callbacks)
    assert len(plan["result"]["itineraries"]) == 2
    change(s.legs["flight"])
    detail = _publish(api, django_capture_on_commit_callbacks, plan["id"])
    assert detail["status"] == "draft"
    assert detail["error"] == (
        f"KC 1998 EVN → ALA changed since the plan was computed ({what}), and the plan takes "
        "2 households on it: run the planner again."
    )
    stored = Plan.objects.get(pk=plan["id"]).error_detail
    assert stored["code"] == "leg_changed" and stored["n"] == 2
    assert not Booking.objects.filter(crisis=world.crisis).exists()
    # The page says it too.
    page = world.client("logistics").get(f"/planning/{plan['id']}/").content.decode()
    assert "KC 1998 EVN → ALA changed since the plan was computed" in page


def test_a_leg_changed_but_not_in_its_times_publishes(
    world, django_capture_on_commit_callbacks
) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    api = world.api("logistics")
    plan = _plan(api, django_capture_on_commit_callbacks)
    # Fewer seats, still enough for the plan's four people (seats are checked by booking).
    leg_update(actor=None, leg=s.legs["bus2"], data={"capacity": 30, "carrier": "Ararat Tour"})
    assert _publish(api, django_capture_on_commit_callbacks, plan["id"])["status"] == "published"


def test_only_a_draft_or_the_published_plan_locks(
    world, django_capture_on_commit_callbacks
) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    api = world.api("logistics")
    first = _plan(api, django_capture_on_commit_callbacks)
    _publish(api, django_capture_on_commit_callbacks, first["id"])
    second = _plan(api, django_capture_on_commit_callbacks)
    _publish(api, django_capture_on_commit_callbacks, second["id"])
    third = _plan(api, django_capture_on_commit_callbacks)
    assert post(api, f"/api/plans/{third['id']}/discard").status_code == 200
    statuses = dict(Plan.objects.values_list("pk", "status"))
    assert statuses == {
        first["id"]: PlanStatus.SUPERSEDED,
        second["id"]: PlanStatus.PUBLISHED,
        third["id"]: PlanStatus.DISCARDED,
    }
    household = s.household(0).pk
    for plan_id, status in ((first["id"], "superseded"), (third["id"], "discarded")):
        response = post(api, f"/api/plans/{plan_id}/households/{household}/lock")
        assert response.status_code == 409, response.content
        assert response.json()["message"] == (
            "Only a draft or the published plan's itineraries can be locked; this plan is "
            f"{status}."
        )
        # The page's Lock (not offered there) is refused the same.
        client = world.client("logistics")
        client.post(f"/planning/{plan_id}/lock/{household}/", {"action": "lock"})
        assert not PlanLock.objects.exists()
    response = post(api, f"/api/plans/{second['id']}/households/{household}/lock")
    assert response.status_code == 200, response.content
    assert PlanLock.objects.get().plan_id == second["id"]


def test_the_changes_list_refuses_an_unknown_kind(
    world, django_capture_on_commit_callbacks
) -> None:
    situation(world.crisis, households=2, bus_seats=10)
    api = world.api("logistics")
    plan = _plan(api, django_capture_on_commit_callbacks)
    _publish(api, django_capture_on_commit_callbacks, plan["id"])
    response = api.get(f"/api/plans/{plan['id']}/changes?kind=bogus")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["message"] == "Unknown kind “bogus”: use one of new, changed, cancelled."
    assert body["extra"] == {"field": "kind", "allowed": ["new", "changed", "cancelled"]}
    listed = api.get(f"/api/plans/{plan['id']}/changes?kind=new").json()
    assert listed["count"] == 2 and {c["kind"] for c in listed["items"]} == {"new"}
