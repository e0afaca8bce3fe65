"""Reviewing a plan: the planner's own warnings in the officer's language, the limits per
priority level under strict priority, honest words for the shadow prices; bad requests
answered with a 4xx, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import TestCase
from django.utils import translation

from aman.geo.models import Place
from aman.planning import services
from aman.planning.models import BusPool, Plan, PlanStatus
from aman.transport.services import leg_set_status
from tests.planning.world import DAYS, START, situation

pytestmark = pytest.mark.django_db


def run(crisis, **kwargs) -> Plan:
    with TestCase.captureOnCommitCallbacks(execute=True):
        plan = services.plan_start(actor=None, crisis=crisis, start=START, **kwargs)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT, plan.error
    return plan


def post(client, path: str, body: dict, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def test_a_lock_no_longer_possible_is_said_on_the_plan_page(world) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    first = run(world.crisis)
    locked = s.household(1)
    services.household_lock(actor=None, plan=first, household=locked)
    services.plan_discard(actor=None, plan=first)
    leg_set_status(actor=None, leg=s.legs["bus2"], status="cancelled", note="breakdown")
    second = run(world.crisis)
    assert {"code": "lock_dropped", "household": f"hh{locked.pk}"}.items() <= (
        second.result["warnings"][0].items()
    )
    client = world.client("logistics")
    page = client.get(f"/planning/{second.pk}/").content.decode()
    assert f"Household H{locked.pk}: its locked itinerary is no longer possible" in page
    with translation.override("ru"):
        from aman.planning.inputs import plan_warning_text

        text = plan_warning_text(second.result["warnings"][0])
    assert f"H{locked.pk}" in text


def test_changes_are_refused_for_a_plan(world, django_capture_on_commit_callbacks) -> None:
    situation(world.crisis, households=1)
    api = world.api("logistics")
    norduz = Place.objects.get(code="IR-AM-NORDUZ")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            api,
            "/api/plans",
            {
                "kind": "plan",
                "days": DAYS,
                "changes": [{"type": "close_crossing", "crossing": norduz.pk}],
            },
            HTTP_IDEMPOTENCY_KEY="plan-with-changes",
        )
    assert response.status_code == 400, response.content
    assert "Changes are for a what-if" in response.json()["message"]
    assert not Plan.objects.exists()


def test_deleting_a_bus_pool_that_is_not_there_is_a_404(world) -> None:
    situation(world.crisis, households=1)
    client = world.client("logistics")
    for ref in ("abc", "12abc", "999999", "9" * 40):
        assert client.post("/planning/pools/", {"delete": ref}).status_code == 404, ref
    assert not BusPool.objects.exists()


def test_strict_priority_shows_each_levels_limits(world) -> None:
    from aman.registry.models import PriorityPolicy

    situation(world.crisis, households=3, bus_seats=4)
    updated = PriorityPolicy.objects.filter(crisis=world.crisis).update(mode="strict")
    if not updated:
        PriorityPolicy.objects.create(crisis=world.crisis, mode="strict", rules={})
    plan = run(world.crisis)
    assert plan.result["bound"] is None and plan.result["stages"]
    for stage in plan.result["stages"]:
        assert stage["plan"] <= stage["bound"] * (1 + 1e-6) + 1e-6
        assert stage["gap"] is not None
    page = world.client("logistics").get(f"/planning/{plan.pk}/").content.decode()
    assert 'id="stages"' in page
    rows = page.split('id="stages"')[1].split("</table>")[0].count("<tr>") - 1
    assert rows == len(plan.result["stages"])


def test_shadow_prices_say_value_not_people(world) -> None:
    """Five seats on the first bus: the words give the value, priority-weighted, and cap
    the people at the seats."""
    situation(world.crisis, households=4, bus_seats=5)
    plan = run(world.crisis)
    prices = [x for x in plan.result["shadow_prices"] if x["kind"] == "leg"]
    assert prices
    page = world.client("logistics").get(f"/planning/{plan.pk}/").content.decode()
    assert "people brought out at once; as" not in page
    assert "of the plan&#x27;s value" in page or "of the plan's value" in page
    seats = {x["id"]: x["seats"] for x in plan.scenario["legs"]}
    for x in prices:
        assert f"at most {seats[x['ref']]} more people brought out" in page
    # Once the per-day limits are known, the people too, by the day they count most.
    priced = [x for x in plan.result["shadow_prices"] if x.get("people")]
    assert priced, plan.result["shadow_prices"]
    for x in priced:
        people = x["people"]
        assert 0 < people["most"] <= people["units"]
        assert (
            f"would bring at most {people['most']} more people to safety by the end of "
            f"{people['by_day']}."
        ) in page


def test_lock_and_unlock_through_the_api(world) -> None:
    from aman.planning.models import PlanLock

    s = situation(world.crisis, households=1, bus_seats=10)
    plan = run(world.crisis)
    api = world.api("logistics")
    hid = s.household(0).pk
    response = post(api, f"/api/plans/{plan.pk}/households/{hid}/lock", {})
    assert response.status_code == 200, response.content
    assert PlanLock.objects.get(household_id=hid).steps == response.json()["steps"]
    assert post(api, f"/api/plans/{plan.pk}/households/999999/lock", {}).status_code == 404
    assert post(api, f"/api/plans/{plan.pk}/households/{hid}/unlock", {}).status_code == 200
    assert not PlanLock.objects.exists()
    again = post(api, f"/api/plans/{plan.pk}/households/{hid}/unlock", {})
    assert again.status_code == 409 and "not locked" in again.json()["message"]


def test_a_full_bus_pool_is_priced_on_the_page_and_in_the_api(world) -> None:
    """Two seats on the bus to the border and one pool bus of four a day: five households
    of two, and the pool's bus is what keeps people back. The page says what one more bus
    from Tehran to Norduz that day would bring (in the officer's language), the API's
    plan carries it too."""
    s = situation(world.crisis, households=5, bus_seats=2)
    tehran = Place.objects.get(kind="city", name="Tehran")
    day = s.legs["bus1"].departure_planned.astimezone(tehran.zone).date()
    BusPool.objects.create(
        crisis=world.crisis,
        origin=tehran,
        destination=Place.objects.get(code="IR-AM-NORDUZ"),
        buses_per_day=1,
        seats=4,
        travel_minutes=720,
        departures="07:00",
        first_day=day,
        last_day=day,
    )
    plan = run(world.crisis, days=DAYS)
    assert plan.result["pool_trips"]
    pools = [x for x in plan.result["shadow_prices"] if x["kind"] == "pool"]
    assert [(x["day"], x["seats"]) for x in pools] == [(day.isoformat(), 4)]
    (priced,) = pools
    assert priced["per_unit"] > 0
    # Once the limits are known, in people: a bus of four seats brings at most four more.
    assert priced["people"]["units"] == 1 and 0 < priced["people"]["most"] <= 4
    names = {p["id"]: p["name"] for p in plan.scenario["places"]}
    origin, destination = names[priced["from"]], names[priced["to"]]
    client = world.client("logistics")
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    said = (
        f"One more bus from {origin} to {destination} on {day.isoformat()} (4 seats, "
        f"leaving 07:00) is worth {priced['per_unit']:.2f} of the plan"
    )
    assert said in page.replace("&#x27;", "'")
    assert (
        f"That one more bus would bring at most {priced['people']['most']} more people to "
        f"safety by the end of {priced['people']['by_day']}."
    ) in page
    api = world.api("logistics").get(f"/api/plans/{plan.pk}")
    assert api.status_code == 200
    items = [x for x in api.json()["result"]["shadow_prices"] if x["kind"] == "pool"]
    assert items == pools
