"""No-shows: a household that did not show up for the leg it was told (its seats released
at the gate) is not planned back onto that leg; its seats go to others."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import TestCase

from aman.planning import services
from aman.planning.models import Plan, PlanStatus
from aman.planning.optimizer import check, scenario
from aman.transport.models import HOLDS_SEAT, Booking, BookingStatus
from aman.transport.services import leg_release_no_shows, leg_set_status
from tests.planning.world import START, situation

pytestmark = pytest.mark.django_db


def run(crisis) -> Plan:
    with TestCase.captureOnCommitCallbacks(execute=True):
        plan = services.plan_start(actor=None, crisis=crisis, start=START)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT, plan.error
    return plan


def on_leg(plan: Plan, leg_pk: int) -> set[str]:
    return {
        item["household"]
        for item in plan.result["itineraries"]
        if any(st.get("leg") == f"leg{leg_pk}" for st in item["steps"])
    }


def test_no_shows_are_not_planned_back_onto_the_leg_they_missed(world) -> None:
    """Four seats on the bus to the border, four households of two: the first plan puts
    two on it and publishes. The bus boards; nobody of the two shows up, and the gate
    releases them (4 seats free). The re-plan keeps neither on that bus (their told
    itinerary is displaced, even within the firm hours) and gives its four seats to the
    two households that were waiting; publishing it books them."""
    s = situation(world.crisis, households=4, bus_seats=4)
    bus1 = s.legs["bus1"]
    first = run(world.crisis)
    missed = on_leg(first, bus1.pk)
    assert len(missed) == 2
    waiting = {f"hh{h.pk}" for h in s.households} - missed
    services.plan_publish(actor=world.users["logistics"], plan=first)
    assert Booking.objects.filter(leg=bus1, status__in=HOLDS_SEAT).count() == 4

    leg_set_status(actor=None, leg=bus1, status="confirmed")
    leg_set_status(actor=None, leg=bus1, status="boarding")
    released = leg_release_no_shows(actor=world.users["logistics"], leg=bus1)
    assert len(released) == 4
    bus1.refresh_from_db()
    assert bus1.seats_taken == 0

    second = run(world.crisis)
    assert check.check(scenario.load(second.scenario), second.result) == []
    told = {h["id"]: h for h in second.scenario["households"]}
    for hid in missed:
        # What it was told no longer names the bus it missed, and nothing leaving before
        # that bus has gone is planned for it.
        assert all(st.get("leg") != f"leg{bus1.pk}" for st in told[hid].get("notified", []))
        assert told[hid]["available_from"] > bus1.departure_planned.isoformat()
    # The bus it missed is not in its plan; the waiting households have its seats.
    assert on_leg(second, bus1.pk) == waiting
    stability = second.result["stability"]
    assert set(stability["displaced_households"]) == missed
    assert stability["displaced"] == 2
    compared = services.compare(second)
    assert {hid for hid, e in compared.items() if e.get("cause") == services.DISPLACED} == missed

    services.plan_publish(actor=world.users["logistics"], plan=second)
    seats = Counter(
        f"hh{b.household_id}" for b in Booking.objects.filter(leg=bus1, status__in=HOLDS_SEAT)
    )
    assert seats == {hid: 2 for hid in waiting}
    assert Booking.objects.filter(leg=bus1, status=BookingStatus.NO_SHOW).count() == 4


def test_a_household_checked_in_whose_flight_seats_were_released_is_not_put_back_on_it(
    world,
) -> None:
    """Checked in for the bus of what it was told, then its flight's seats released (no
    visa): the rest of its itinerary is no longer kept as a lock — it would book the
    released seats again — and the re-plan does not put it back on that flight."""
    from aman.transport.services import booking_check_in, booking_close, booking_confirm

    s = situation(world.crisis, households=2, bus_seats=8)
    bus1, flight = s.legs["bus1"], s.legs["flight"]
    first = run(world.crisis)
    item = next(
        i
        for i in first.result["itineraries"]
        if {f"leg{bus1.pk}", f"leg{flight.pk}"} <= {st.get("leg") for st in i["steps"]}
    )
    household = item["household"]
    services.plan_publish(actor=world.users["logistics"], plan=first)
    hid = int(household.removeprefix("hh"))
    leg_set_status(actor=None, leg=bus1, status="confirmed")
    leg_set_status(actor=None, leg=bus1, status="boarding")
    for booking in Booking.objects.filter(leg=bus1, household_id=hid):
        if booking.status == BookingStatus.OFFERED:
            booking = booking_confirm(actor=None, booking=booking)
        booking_check_in(actor=world.users["logistics"], booking=booking)
    for booking in Booking.objects.filter(leg=flight, household_id=hid, status__in=HOLDS_SEAT):
        booking_close(
            actor=world.users["logistics"],
            booking=booking,
            status=BookingStatus.RELEASED,
            note="no visa",
        )
    second = run(world.crisis)
    told = {h["id"]: h for h in second.scenario["households"]}[household]
    assert "locked" not in told, "the rest with the released flight is not kept as a lock"
    assert household not in on_leg(second, flight.pk), "not planned back onto the flight"
