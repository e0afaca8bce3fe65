"""What a re-plan changes for whom: only what was still to come is compared, households
no longer planned (home, withdrawn) are done, not cancelled; each change says why."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import TestCase

from aman.planning import services, views
from aman.planning.models import Plan, PlanChange, PlanStatus
from aman.registry.services import person_set_status
from aman.transport.models import Booking
from aman.transport.services import booking_board, leg_set_status
from tests.planning.world import START, people_of, situation

pytestmark = pytest.mark.django_db


def run(crisis, start=START, **kwargs) -> Plan:
    with TestCase.captureOnCommitCallbacks(execute=True):
        plan = services.plan_start(actor=None, crisis=crisis, start=start, **kwargs)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT, plan.error
    return plan


def test_a_household_on_its_way_is_kept_not_moved(world) -> None:
    """The first bus has left with the household on it: the re-plan keeps the rest of its
    itinerary, and neither the diff nor publishing calls that a change."""
    s = situation(world.crisis, households=1, bus_seats=10)
    first = run(world.crisis)
    services.plan_publish(actor=None, plan=first)
    bus1 = s.legs["bus1"]
    leg_set_status(actor=None, leg=bus1, status="confirmed")
    leg_set_status(actor=None, leg=bus1, status="boarding")
    for booking in Booking.objects.filter(leg=bus1):
        booking_board(actor=None, booking=booking)
    leg_set_status(actor=None, leg=bus1, status="departed", at=START + timedelta(hours=2))
    second = run(world.crisis, start=START + timedelta(hours=3))
    assert second.result["stability"]["changed"] == 0
    diff = views._diff(second)
    assert diff is not None
    label = f"H{s.household(0).pk}"
    assert diff["moved"] == [] and diff["kept"] == [label]
    services.plan_publish(actor=None, plan=second)
    assert not PlanChange.objects.filter(plan=second).exists()


def test_a_household_home_is_done_not_cancelled(world) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    first = run(world.crisis)
    services.plan_publish(actor=None, plan=first)
    home = s.household(0)
    for person in people_of(home):
        person_set_status(actor=None, person=person, status="arrived_home")
    second = run(world.crisis)
    diff = views._diff(second)
    assert diff is not None
    assert diff["lost"] == [] and diff["done"] == [f"H{home.pk}"]
    assert diff["kept"] == [f"H{s.household(1).pk}"]
    services.plan_publish(actor=None, plan=second)
    assert not PlanChange.objects.filter(plan=second).exists()
    client = world.client("logistics")
    page = client.get(f"/planning/{second.pk}/").content.decode()
    assert "1 household no longer planned" in page


def test_a_displaced_household_says_why_and_the_lists_page(world) -> None:
    """The first bus cancelled: every household told loses its itinerary because it is
    no longer possible — the diff, the change records and the API say so, page by page."""
    from aman.planning.models import PlanChange as Change

    s = situation(world.crisis, households=3, bus_seats=10)
    first = run(world.crisis)
    services.plan_publish(actor=None, plan=first)
    leg_set_status(actor=None, leg=s.legs["bus1"], status="cancelled", note="breakdown")
    second = run(world.crisis)
    diff = views._diff(second)
    assert diff is not None
    assert {cause for _h, _why, cause in diff["lost"]} == {"its itinerary is no longer possible"}
    client = world.client("logistics")
    page = client.get(f"/planning/{second.pk}/?diff=lost").content.decode()
    assert 'id="diff-lost"' in page and "its itinerary is no longer possible" in page
    services.plan_publish(actor=None, plan=second)
    records = list(Change.objects.filter(plan=second))
    assert {(c.kind, c.cause) for c in records} == {("cancelled", "displaced")}
    api = world.api("logistics")
    body = api.get(f"/api/plans/{second.pk}/changes?limit=2").json()
    assert body["count"] == 3 and len(body["items"]) == 2
    assert {i["cause"] for i in body["items"]} == {"displaced"}
    only_new = api.get(f"/api/plans/{second.pk}/changes?kind=new").json()
    assert only_new["count"] == 0


def test_each_step_says_whether_it_is_firm(world) -> None:
    situation(world.crisis, households=1, bus_seats=10)
    plan = run(world.crisis)
    steps = plan.result["itineraries"][0]["steps"]
    firm_until = START + timedelta(hours=plan.scenario["policy"]["firm_hours"])
    for step in steps:
        moment = step.get("departure") or step.get("at")
        if moment:
            assert step["firm"] is (datetime.fromisoformat(moment) < firm_until)
    assert {st["firm"] for st in steps} == {True, False}  # the flight is 50 hours away
    page = world.client("logistics").get(f"/planning/{plan.pk}/").content.decode()
    assert ">firm</span>" in page and ">provisional</span>" in page
