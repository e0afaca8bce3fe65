"""The planner's pages over HTTP: run, review (filters, reasons, limits), lock, what-if,
publish, bus pools — with their errors."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from aman.planning.models import BusPool, Plan, PlanLock, PlanStatus
from aman.transport.models import Booking
from tests.planning.world import DAYS, situation

pytestmark = pytest.mark.django_db


def _run(client, capture, **data) -> Plan:
    with capture(execute=True):
        response = client.post("/planning/run/", {"days": DAYS, "method": "auto", **data})
    assert response.status_code == 302
    plan = Plan.objects.latest("pk")
    assert response["Location"] == f"/planning/{plan.pk}/"
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT, plan.error
    return plan


def _publish(client, capture, plan: Plan) -> str:
    """Publish (in the background: inline here, at the commit) and read the page after."""
    with capture(execute=True):
        response = client.post(f"/planning/{plan.pk}/publish/")
    assert response.status_code == 302
    return client.get(f"/planning/{plan.pk}/").content.decode()


def test_run_review_lock_and_publish(world, django_capture_on_commit_callbacks) -> None:
    s = situation(world.crisis, households=3, bus_seats=4)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)

    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert 'id="people-safe"' in page and "4 / 8" in page  # 4 seats on the first bus
    assert "LP bound" in page and 'id="by-priority"' in page and 'id="by-day"' in page
    # The limits: by the last day at most the 4 seats of the first bus (the 8 people
    # cannot all be safe), and never fewer than the plan brings out.
    limits = plan.result["limits"]
    assert limits and limits[-1]["most_safe"] == 4.0
    assert "At most" in page
    # The priority household is planned; the household left over is explained.
    assert f'id="h-{s.household(0).pk}"' in page
    left = client.get(f"/planning/{plan.pk}/?show=unassigned").content.decode()
    assert "no capacity from Tehran before the horizon ends" in left
    assert "no route from IR" in left
    # Filters: priority group of the first household only.
    top = plan.result["itineraries"][0]["priority"]
    only = client.get(f"/planning/{plan.pk}/?priority={top}").content.decode()
    assert only.count('id="h-') == sum(
        1 for i in plan.result["itineraries"] if i["priority"] == top
    )

    # Lock the first household; the next plan keeps it as locked.
    response = client.post(f"/planning/{plan.pk}/lock/{s.household(0).pk}/", {"action": "lock"})
    assert response.status_code == 302
    lock = PlanLock.objects.get(household=s.household(0))
    assert lock.steps[0]["type"] == "leg"

    # Publish: bookings appear; the page says so; a second publish is refused with a message.
    page = _publish(client, django_capture_on_commit_callbacks, plan)
    assert 'id="plan-status">Published<' in page
    # Each household with a new itinerary is to be told.
    assert "2 households to tell" in page
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    assert Booking.objects.filter(crisis=world.crisis).count() == 4 * 3  # 2 buses + flight
    response = client.post(f"/planning/{plan.pk}/publish/", follow=True)
    assert "Only a draft can be published" in response.content.decode()

    # The next plan starts from the published one: the diff shows nothing moved.
    second = _run(client, django_capture_on_commit_callbacks)
    assert second.base_id == plan.pk
    exported = {h["id"]: h for h in second.scenario["households"]}
    assert "locked" in exported[f"hh{s.household(0).pk}"]
    assert "notified" in exported[f"hh{s.household(1).pk}"]
    page = client.get(f"/planning/{second.pk}/").content.decode()
    assert re.search(r"0 households added, 0 moved, 0 lose their itinerary, 2 unchanged", page)


def test_a_draft_is_reviewable_while_its_limits_are_computed(
    world, django_capture_on_commit_callbacks
) -> None:
    """The planner keeps the draft before the price of stability and the per-day limits
    (as long again as the plan at 100,000 people); meanwhile the page says what it is
    still computing and refreshes, and the plan can be published."""
    situation(world.crisis, households=3, bus_seats=4)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)
    assert plan.progress == "" and plan.result["limits"], "explained by the end of the run"
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert 'id="explaining"' not in page and 'http-equiv="refresh"' not in page
    # The state between the two: the draft kept, its limits not yet.
    Plan.objects.filter(pk=plan.pk).update(progress="limits")
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert 'id="explaining"' in page and 'http-equiv="refresh"' in page
    assert "the most people who could be safe by each day" in page
    assert 'id="people-safe"' in page, "the plan itself is shown meanwhile"
    api = world.api("logistics").get(f"/api/plans/{plan.pk}").json()
    assert (api["status"], api["progress"]) == ("draft", "limits")
    # Asked again (a worker died while explaining): the draft stands, no endless spinner.
    from aman.planning.services import plan_solve

    again = plan_solve(plan.pk)
    assert (again.status, again.progress) == (PlanStatus.DRAFT, "")
    assert again.result["itineraries"] == plan.result["itineraries"]
    Plan.objects.filter(pk=plan.pk).update(progress="limits")
    _publish(client, django_capture_on_commit_callbacks, plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED, plan.error


def test_what_if_a_cancelled_flight(world, django_capture_on_commit_callbacks) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    client = world.client("crisis_manager")
    first = _run(client, django_capture_on_commit_callbacks)
    _publish(client, django_capture_on_commit_callbacks, first)
    # An empty what-if is refused with a clear error.
    response = client.post("/planning/what-if/", {"days": DAYS})
    assert response.status_code == 200 and "Choose at least one change" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/planning/what-if/", {"days": DAYS, "cancel_leg": s.legs["flight"].pk}
        )
    assert response.status_code == 302
    what_if = Plan.objects.latest("pk")
    what_if.refresh_from_db()
    assert what_if.kind == Plan.Kind.WHAT_IF and what_if.status == PlanStatus.DRAFT
    assert f"leg{s.legs['flight'].pk}" not in {x["id"] for x in what_if.scenario["legs"]}
    page = client.get(f"/planning/{what_if.pk}/").content.decode()
    assert "cancelled" in page and "2 moved" in page
    assert 'id="publish"' not in page
    # Nothing was touched: the flight is still there and its bookings too.
    s.legs["flight"].refresh_from_db()
    assert s.legs["flight"].status == "planned"
    assert Booking.objects.filter(leg=s.legs["flight"]).count() == 4
    # Publishing a what-if is refused.
    response = client.post(f"/planning/{what_if.pk}/publish/", follow=True)
    assert "never published" in response.content.decode()
    # Without the first bus nobody leaves Tehran: who loses their itinerary, and why.
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/planning/what-if/", {"days": DAYS, "cancel_leg": s.legs["bus1"].pk})
    page = client.get(f"/planning/{Plan.objects.latest('pk').pk}/").content.decode()
    lost = page[page.index('id="diff-lost"') :]
    assert f"H{s.household(0).pk}: no route from Tehran" in lost


def test_bus_pools_feed_the_plan_and_become_legs(world, django_capture_on_commit_callbacks) -> None:
    s = situation(world.crisis, households=3, bus_seats=2)
    client = world.client("logistics")
    start = (s.legs["bus1"].departure_planned).date()
    bad = client.post(
        "/planning/pools/",
        {
            "origin": "Nowhere",
            "destination": "IR-AM-NORDUZ",
            "buses_per_day": 1,
            "seats": 4,
            "travel_hours": 12,
            "departures": "07:00,25:00",
            "first_day": start.isoformat(),
            "last_day": start.isoformat(),
        },
    )
    assert bad.status_code == 200 and "No place" in bad.content.decode()
    assert not BusPool.objects.exists()
    from aman.geo.models import Place

    tehran = Place.objects.get(kind="city", name="Tehran")
    response = client.post(
        "/planning/pools/",
        {
            "origin": str(tehran.pk),
            "destination": "IR-AM-NORDUZ",
            "buses_per_day": 1,
            "seats": 4,
            "travel_hours": 12,
            "departures": "07:00",
            "first_day": start.isoformat(),
            "last_day": start.isoformat(),
        },
    )
    assert response.status_code == 302
    plan = _run(client, django_capture_on_commit_callbacks)
    assert plan.result["pool_trips"], "the pool's bus carries the households the leg cannot"
    client.cookies["django_language"] = "kk"  # published by an officer reading Kazakh
    _publish(client, django_capture_on_commit_callbacks, plan)
    client.cookies["django_language"] = "en"
    pool_leg = s.crisis.legs.get(source="plan")
    assert pool_leg.bookings.count() == plan.result["pool_trips"][0]["people"]
    # Its number is the same in every language: buses × seats per bus.
    assert pool_leg.number == f"{plan.result['pool_trips'][0]['buses']}x4"
    # Planned again: the pool's trip is the pool's, not a leg as well; nobody moves.
    again = _run(client, django_capture_on_commit_callbacks)
    assert f"leg{pool_leg.pk}" not in {x["id"] for x in again.scenario["legs"]}
    assert again.result["stability"]["changed"] == 0
    _publish(client, django_capture_on_commit_callbacks, again)
    again.refresh_from_db()
    assert again.status == PlanStatus.PUBLISHED
    assert s.crisis.legs.filter(source="plan").count() == 1
    assert (
        pool_leg.bookings.filter(status="offered").count() == plan.result["pool_trips"][0]["people"]
    )


def test_pages_in_russian_and_kazakh(world, django_capture_on_commit_callbacks) -> None:
    situation(world.crisis, households=1)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)
    for language, heading, button in (
        ("ru", "По группам приоритета", "Запустить планировщик"),
        ("kk", "Басымдық тобы бойынша", "Жоспарлаушыны іске қосу"),
    ):
        client.cookies["django_language"] = language
        assert heading in client.get(f"/planning/{plan.pk}/").content.decode(), language
        assert button in client.get("/planning/").content.decode(), language


def test_what_if_a_flight_is_added(world, django_capture_on_commit_callbacks) -> None:
    from tests.planning.world import at

    situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    _run(client, django_capture_on_commit_callbacks)
    # A flight with its times wrong is refused with the reason.
    departure = at(30).astimezone(ZoneInfo("Asia/Almaty")).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(
        "/planning/what-if/", {"days": DAYS, "flight_from": "EVN", "flight_to": "ALA"}
    )
    assert "A flight needs where from, where to, a departure and hours" in bad.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/planning/what-if/",
            {
                "days": DAYS,
                "flight_from": "EVN",
                "flight_to": "ALA",
                "flight_departure": departure,
                "flight_hours": "4",
                "flight_seats": "100",
            },
        )
    assert response.status_code == 302
    what_if = Plan.objects.latest("pk")
    added = [x for x in what_if.scenario["legs"] if x["id"] == "whatif1"]
    assert added and added[0]["seats"] == 100
    # The earlier flight takes everyone home sooner.
    home = [i for i in what_if.result["itineraries"] if i.get("home_at")]
    assert len(home) == 2
    assert all("whatif1" in [s.get("leg") for s in i["steps"]] for i in home)
    assert (
        "a flight of 100 seats EVN → ALA" in client.get(f"/planning/{what_if.pk}/").content.decode()
    )


def test_a_publish_refused_in_the_background_says_why(
    world, django_capture_on_commit_callbacks
) -> None:
    from aman.transport.services import leg_update

    s = situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)
    leg_update(actor=None, leg=s.legs["bus1"], data={"capacity": 2})
    page = _publish(client, django_capture_on_commit_callbacks, plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and "Not enough seats" in plan.error
    assert "The plan could not be published" in page and "Run the planner again" in page
    assert not Booking.objects.filter(crisis=world.crisis).exists()


def test_remarks_on_the_inputs(world, django_capture_on_commit_callbacks) -> None:
    from aman.geo.models import Place

    situation(world.crisis, households=1)
    Place.objects.filter(code="IR-AM-NORDUZ").update(daily_capacity=None)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)
    assert {"code": "crossing_unlimited", "crossing": "Norduz"} in plan.input_warnings
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert "Crossing Norduz has no number of people per day: taken as unlimited." in page


def test_a_publish_through_a_crossing_closed_since_the_run_says_why(
    world, django_capture_on_commit_callbacks
) -> None:
    from aman.geo.models import Place
    from aman.geo.services import place_status_set

    situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)
    norduz = Place.objects.get(code="IR-AM-NORDUZ")
    place_status_set(actor=None, place=norduz, status="closed", reason="shelling")
    page = _publish(client, django_capture_on_commit_callbacks, plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and "Norduz is closed now" in plan.error
    assert "The plan could not be published" in page
    assert "Norduz is closed now when the plan takes 2 households through it" in page
    assert not Booking.objects.filter(crisis=world.crisis).exists()
