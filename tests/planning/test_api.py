"""The planner through the REST API: start (idempotent), poll, read the inputs, publish;
every error as {"message", "extra"} with a 4xx."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from aman.planning.models import Plan, PlanStatus
from aman.transport.models import HOLDS_SEAT, Booking
from tests.planning.world import DAYS, situation

pytestmark = pytest.mark.django_db


def post(client, path: str, body: dict, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def _planned(result: dict) -> tuple[Counter, Counter]:
    """The plan's (leg, household) → people, and its (household, hotel, first night, last
    night) → hotel steps."""
    seats: Counter = Counter()
    stays: Counter = Counter()
    for item in result["itineraries"]:
        hid = int(item["household"][2:])
        for step in item["steps"]:
            if step["type"] == "leg":
                seats[(int(step["leg"][3:]), hid)] += item["size"]
            elif step["type"] == "hotel":
                nights = sorted(step["nights"])
                stays[(hid, int(step["hotel"][5:]), nights[0], nights[-1])] += 1
    return seats, stays


def _made(api, crisis: int) -> tuple[Counter, Counter]:
    """The seats held on every leg of the crisis and its stays (a household's rooms
    housed together: one group), read through the API."""
    seats: Counter = Counter()
    legs = api.get(f"/api/legs?crisis={crisis}&limit=500").json()["items"]
    for leg in legs:
        bookings = api.get(f"/api/legs/{leg['id']}/bookings?limit=500")
        assert bookings.status_code == 200, bookings.content
        for b in bookings.json()["items"]:
            if b["status"] in HOLDS_SEAT:
                seats[(b["leg_id"], b["household_id"])] += 1
    stays: Counter = Counter()
    groups = set()
    for stay in api.get(f"/api/stays?crisis={crisis}&limit=500").json()["items"]:
        if stay["status"] in ("cancelled", "no_show"):
            continue
        key = (stay["household_id"], stay["hotel_id"], stay["first_night"], stay["last_night"])
        if (key, stay["group"]) not in groups:
            groups.add((key, stay["group"]))
            stays[key] += 1
    return seats, stays


def test_start_poll_publish(world, django_capture_on_commit_callbacks) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    api = world.api("logistics")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, "/api/plans", {"days": DAYS}, HTTP_IDEMPOTENCY_KEY="plan-1")
    assert response.status_code == 202, response.content
    first = response.json()
    assert first["status"] == "running" and first["kind"] == "plan"
    # A retry with the same key answers the same plan and starts nothing new.
    again = post(api, "/api/plans", {"days": DAYS}, HTTP_IDEMPOTENCY_KEY="plan-1")
    assert again.json()["id"] == first["id"] and Plan.objects.count() == 1

    detail = api.get(f"/api/plans/{first['id']}").json()
    assert detail["status"] == "draft" and detail["people_safe"] == 4
    assert {i["household"] for i in detail["result"]["itineraries"]} == {
        f"hh{h.pk}" for h in s.households
    }
    scenario = api.get(f"/api/plans/{first['id']}/scenario").json()
    assert scenario["format"] == "aman.scenario/1"

    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, f"/api/plans/{first['id']}/publish", {})
    assert response.status_code == 202 and response.json()["status"] == "publishing"
    published = api.get(f"/api/plans/{first['id']}").json()
    assert published["status"] == "published"
    assert Booking.objects.filter(crisis=world.crisis).count() == 4 * 3
    # Exactly the plan's bookings and stays, as the API tells them: per household, the
    # seats on each leg of its itinerary (nothing on any other leg), and a stay per hotel
    # step, its first and last night the step's.
    want_seats, want_stays = _planned(published["result"])
    got_seats, got_stays = _made(api, world.crisis.pk)
    assert want_stays, "the plan sleeps people in Yerevan between the bus and the flight"
    assert got_seats == want_seats
    assert got_stays == want_stays
    refused = post(api, f"/api/plans/{first['id']}/publish", {})
    assert refused.status_code == 409 and "Only a draft" in refused.json()["message"]


def test_a_what_if_through_the_api(world, django_capture_on_commit_callbacks) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    api = world.api("crisis_manager")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            api,
            "/api/plans",
            {
                "kind": "what_if",
                "days": DAYS,
                "changes": [{"type": "cancel_leg", "leg": s.legs["bus1"].pk}],
            },
        )
    assert response.status_code == 202, response.content
    plan = Plan.objects.get(pk=response.json()["id"])
    assert plan.kind == "what_if" and plan.status == PlanStatus.DRAFT
    assert plan.result["summary"]["people_safe"] == 0
    refused = post(api, f"/api/plans/{plan.pk}/publish", {})
    assert refused.status_code == 409 and "never published" in refused.json()["message"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"days": 30}, 422, "days"),
        ({"method": "magic"}, 422, "method"),
        ({"kind": "what_if"}, 400, "A what-if needs at least one change"),
        (
            {"kind": "what_if", "changes": [{"type": "cancel_leg", "leg": 999999}]},
            400,
            "not in the plan's inputs",
        ),
        ({"kind": "what_if", "changes": [{"type": "teleport"}]}, 422, "type"),
    ],
)
def test_errors_are_clear(world, body, status, says) -> None:
    situation(world.crisis, households=1)
    response = post(world.api("logistics"), "/api/plans", body)
    assert response.status_code == status, response.content
    data = response.json()
    assert set(data) >= {"message", "extra"}
    assert says in json.dumps(data)
    assert not Plan.objects.exists()


def test_a_publish_through_a_crossing_closed_since_the_run_is_refused(
    world, django_capture_on_commit_callbacks
) -> None:
    from aman.geo.models import Place
    from aman.geo.services import place_status_set

    situation(world.crisis, households=2, bus_seats=10)
    api = world.api("logistics")
    with django_capture_on_commit_callbacks(execute=True):
        first = post(api, "/api/plans", {"days": DAYS}).json()
    place_status_set(
        actor=None, place=Place.objects.get(code="IR-AM-NORDUZ"), status="closed", reason="x"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, f"/api/plans/{first['id']}/publish", {})
    assert response.status_code == 202
    detail = api.get(f"/api/plans/{first['id']}").json()
    assert detail["status"] == "draft"
    assert "Norduz is closed now when the plan takes 2 households through it" in detail["error"]
    assert not Booking.objects.filter(crisis=world.crisis).exists()
