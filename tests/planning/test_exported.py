"""What the database's situation becomes as the planner's inputs: people already out of
the affected countries are not planned out again; a closed airport's flights are left
out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import TestCase

from aman.planning import inputs, services
from aman.planning.models import Plan, PlanStatus
from aman.registry.services import person_set_status
from tests.planning.world import START, people_of, situation

pytestmark = pytest.mark.django_db


def run(crisis, **kwargs) -> Plan:
    with TestCase.captureOnCommitCallbacks(execute=True):
        plan = services.plan_start(actor=None, crisis=crisis, start=START, **kwargs)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT, plan.error
    return plan


def test_a_household_that_crossed_by_its_own_means_takes_no_seat_out(world) -> None:
    """Set to crossed_border by an officer with nothing saying where: left out with a
    remark, its seats on the bus to the border left to others."""
    s = situation(world.crisis, households=2, bus_seats=2)
    safe = s.household(0)  # the priority household: it would take the only two seats
    for person in people_of(safe):
        person_set_status(actor=None, person=person, status="crossed_border")
    plan = run(world.crisis)
    assert f"hh{safe.pk}" not in {h["id"] for h in plan.scenario["households"]}
    assert {"code": "household_safe", "household": f"H{safe.pk}"} in plan.input_warnings
    placed = {i["household"] for i in plan.result["itineraries"]}
    assert placed == {f"hh{s.household(1).pk}"}
    page = world.client("logistics").get(f"/planning/{plan.pk}/").content.decode()
    assert f"Household H{safe.pk} is out of the affected countries" in page


def test_a_household_checked_in_abroad_is_planned_home_from_its_hotel(world) -> None:
    """Checked in at the hotel in Yerevan (its status: accommodated), its city still
    Tehran: planned from Yerevan (the flight home only), not bused out of Tehran again."""
    from django.utils import timezone

    from aman.shelter.services import household_house, stay_set_status

    s = situation(world.crisis, households=1, bus_seats=2)
    housed = s.household(0)
    assert s.hotel is not None
    today = timezone.localtime(timezone.now(), s.hotel.place.zone).date()
    (stay, *_rest) = household_house(
        actor=None,
        crisis=world.crisis,
        household=housed,
        hotel=s.hotel,
        first_night=today,
        last_night=today + timedelta(days=3),
    )
    stay_set_status(actor=None, stay=stay, status="checked_in")
    assert {p.status for p in people_of(housed)} == {"accommodated"}
    export = inputs.export(world.crisis, start=START, days=4)
    item = next(h for h in export.data["households"] if h["id"] == f"hh{housed.pk}")
    place = next(p for p in export.data["places"] if p["id"] == item["location"])
    assert place["country"] == "AM"
    plan = run(world.crisis)
    steps = next(i for i in plan.result["itineraries"] if i["household"] == f"hh{housed.pk}")
    assert [st["leg"] for st in steps["steps"] if st["type"] == "leg"] == [
        f"leg{s.legs['flight'].pk}"
    ]


def test_a_closed_airport_takes_no_flight(world) -> None:
    from aman.geo.models import Place
    from aman.geo.services import place_status_set

    s = situation(world.crisis, households=2, bus_seats=10)
    evn = Place.objects.get(kind="airport", iata="EVN")
    place_status_set(actor=None, place=evn, status="closed", reason="airspace closed")
    plan = run(world.crisis)
    flight = f"leg{s.legs['flight'].pk}"
    assert flight not in {x["id"] for x in plan.scenario["legs"]}
    assert {
        "code": "leg_airport_closed",
        "leg": str(s.legs["flight"]),
        "airport": "EVN",
    } in plan.input_warnings
    assert plan.result["summary"]["people_home"] == 0
    page = world.client("logistics").get(f"/planning/{plan.pk}/").content.decode()
    assert "while it is closed: left out" in page
    services.plan_discard(actor=None, plan=plan)
    # Open again: it flies.
    place_status_set(actor=None, place=evn, status="open")
    plan = run(world.crisis)
    assert flight in {x["id"] for x in plan.scenario["legs"]}
    assert plan.result["summary"]["people_home"] == 4


def test_a_hotel_shrunk_from_a_night_on_offers_the_beds_of_each_night(world) -> None:
    """Ten double rooms, shrunk to six from the third night on: the planner gets 20 beds (ten
    rooms of two) on the nights before and 12 (six) from then on, never more than the block
    has on a night."""
    from aman.shelter.models import RoomBlock
    from aman.shelter.services import block_update

    s = situation(world.crisis, households=1, bus_seats=2)
    block = RoomBlock.objects.get(hotel=s.hotel)
    from_night = block.first_night + timedelta(days=2)
    block_update(actor=None, block=block, data={"rooms": 6, "rooms_from": from_night.isoformat()})
    export = inputs.export(world.crisis, start=START, days=4)
    (hotel,) = [h for h in export.data["hotels"] if h["id"] == f"hotel{s.hotel.pk}"]
    assert hotel["beds"], hotel
    for night, beds in hotel["beds"].items():
        rooms = 10 if night < from_night.isoformat() else 6
        assert beds == 2 * rooms, (night, beds)
        assert hotel["rooms"][night] == [{"beds": 2, "count": rooms}]
    assert {b for b in hotel["beds"].values()} == {20, 12}
