"""Legs and bookings through the services: households together, all or nothing, the
database's seat count, cancellations, no-shows, arrival, permits and undertakings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from aman.core.errors import ApplicationError, Conflict
from aman.core.models import AuditEntry
from aman.registry.models import Person
from aman.registry.statuses import Status
from aman.transport import services
from aman.transport.models import Booking, BookingStatus, Leg, LegStatus, PermitDecision
from tests.conftest import World
from tests.factories import country
from tests.transport.conftest import make_leg, place, register_household

pytestmark = pytest.mark.django_db


def test_a_household_is_booked_together_and_its_people_are_assigned(
    world: World, logistics
) -> None:
    household = register_household(world, 3)
    leg = make_leg(world, capacity=5)
    one = Person.objects.filter(household=household).first()
    bookings = services.leg_book(
        actor=logistics,
        leg=leg,
        people=[one, *Person.objects.filter(household=household).exclude(pk=one.pk)],
    )
    assert len(bookings) == 3
    leg.refresh_from_db()
    assert (leg.seats_taken, leg.seats_free) == (3, 2)
    assert set(Person.objects.filter(household=household).values_list("status", flat=True)) == {
        Status.ASSIGNED
    }
    assert AuditEntry.objects.filter(verb="leg_book", object_id=str(leg.pk)).exists()


def test_naming_one_member_without_a_reason_is_refused(world: World, logistics) -> None:
    household = register_household(world, 3)
    leg = make_leg(world)
    one = Person.objects.filter(household=household).first()
    with pytest.raises(Conflict, match="household travels together"):
        services.leg_book(actor=logistics, leg=leg, people=[one])
    assert not Booking.objects.exists()
    booked = services.leg_book(actor=logistics, leg=leg, people=[one], split_reason="father stays")
    assert [b.split_reason for b in booked] == ["father stays"]


def test_all_or_nothing_when_seats_do_not_suffice(world: World, logistics) -> None:
    big = register_household(world, 4)
    leg = make_leg(world, capacity=3)
    with pytest.raises(Conflict, match="3 free on this leg, 4 asked for"):
        services.leg_book(actor=logistics, leg=leg, households=[big])
    leg.refresh_from_db()
    assert leg.seats_taken == 0 and not Booking.objects.exists()


def test_the_database_refuses_a_seat_that_is_not_there(world: World, logistics) -> None:
    """The backstop: a booking written past the services still cannot overbook."""
    leg = make_leg(world, capacity=2)
    people = list(Person.objects.filter(household=register_household(world, 3)))
    for person in people[:2]:
        Booking.objects.create(crisis=world.crisis, leg=leg, person=person)
    with pytest.raises(IntegrityError), transaction.atomic():
        Booking.objects.create(crisis=world.crisis, leg=leg, person=people[2])
    leg.refresh_from_db()
    assert leg.seats_taken == 2
    # A released booking frees its seat in the count, and the seat can be given again.
    first = Booking.objects.filter(leg=leg).first()
    first.status = BookingStatus.RELEASED
    first.save()
    leg.refresh_from_db()
    assert leg.seats_taken == 1
    Booking.objects.create(crisis=world.crisis, leg=leg, person=people[2])
    leg.refresh_from_db()
    assert leg.seats_taken == 2


def test_partner_allocations_hold_seats_back(world: World, logistics) -> None:
    leg = make_leg(world, capacity=5)
    services.allocation_set(actor=logistics, leg=leg, country=country("UZ"), seats=3)
    leg.refresh_from_db()
    assert leg.seats_free == 2
    with pytest.raises(Conflict, match="2 free"):
        services.leg_book(actor=logistics, leg=leg, households=[register_household(world, 3)])
    with pytest.raises(Conflict, match="Only 2 seats"):
        services.allocation_set(actor=logistics, leg=leg, country=country("TJ"), seats=3)
    with pytest.raises(Conflict, match="cannot have fewer than 3 seats"):
        services.leg_update(actor=logistics, leg=leg, data={"capacity": 2})


def test_leg_validation_names_every_field(world: World, logistics) -> None:
    with pytest.raises(ApplicationError) as caught:
        services.leg_create(
            actor=logistics,
            crisis=world.crisis,
            data={
                "mode": "rocket",
                "origin": "XXX",
                "destination": "ALA",
                "departure_planned": "tomorrow",
                "capacity": "0",
                "cost": "a lot",
            },
        )
    errors = caught.value.extra["errors"]
    assert {"mode", "origin", "departure_planned", "capacity", "cost"} <= set(errors)


def test_check_in_board_depart_and_arrive_home(world: World, logistics) -> None:
    household = register_household(world, 2)
    leg = make_leg(world)
    a, b = services.leg_book(actor=logistics, leg=leg, households=[household])
    services.booking_confirm(actor=logistics, booking=a)
    services.booking_check_in(actor=logistics, booking=a, seat="12a")
    services.booking_board(actor=logistics, booking=a)
    a.refresh_from_db()
    assert (a.status, a.seat) == (BookingStatus.BOARDED, "12A")
    a.person.refresh_from_db()
    assert a.person.status == Status.BOARDED
    with pytest.raises(Conflict, match="Boarded"):
        services.booking_board(actor=logistics, booking=a)
    services.leg_set_status(actor=logistics, leg=leg, status=LegStatus.CONFIRMED)
    services.leg_set_status(actor=logistics, leg=leg, status=LegStatus.BOARDING)
    out = services.leg_set_status(actor=logistics, leg=leg, status=LegStatus.DEPARTED)
    assert [x.pk for x in out.no_shows] == [b.pk]
    out = services.leg_set_status(actor=logistics, leg=leg, status=LegStatus.ARRIVED)
    assert out.safe == 1
    a.person.refresh_from_db()
    assert a.person.status == Status.ARRIVED_HOME
    history = list(a.events.order_by("id").values_list("status", flat=True))
    assert history == ["offered", "confirmed", "checked_in", "boarded"]


def test_cancelling_needs_a_reason_and_lists_the_households(world: World, logistics) -> None:
    h1, h2 = register_household(world, 2), register_household(world, 1)
    earlier = register_household(world, 1)
    leg = make_leg(world)
    services.leg_book(actor=logistics, leg=leg, households=[h1, h2, earlier])
    # Released before the cancellation (and booked elsewhere): not the cancellation's.
    (gone,) = Booking.objects.filter(leg=leg, household=earlier)
    services.booking_close(actor=logistics, booking=gone, status="released")
    with pytest.raises(ApplicationError, match="why"):
        services.leg_set_status(actor=logistics, leg=leg, status=LegStatus.CANCELLED)
    out = services.leg_set_status(
        actor=logistics, leg=leg, status=LegStatus.CANCELLED, note="airspace closed"
    )
    assert out.affected_households == sorted([h1.pk, h2.pk])
    leg.refresh_from_db()
    assert leg.seats_taken == 0 and leg.cancel_reason == "airspace closed"
    assert set(services.affected_households(leg)) == {h1.pk, h2.pk}
    assert set(Person.objects.filter(household__in=[h1, h2]).values_list("status", flat=True)) == {
        Status.VERIFIED
    }
    # A household booked on another leg since is planned already: no longer listed.
    services.leg_book(actor=logistics, leg=make_leg(world, number="KC 7010"), households=[h2])
    assert set(services.affected_households(leg)) == {h1.pk}


def test_releasing_no_shows_frees_their_seats(world: World, logistics) -> None:
    h1, h2 = register_household(world, 2), register_household(world, 2)
    leg = make_leg(world, capacity=4)
    a, b = services.leg_book(actor=logistics, leg=leg, households=[h1])
    services.leg_book(actor=logistics, leg=leg, households=[h2])
    # Not before the leg boards: days ahead it would take everyone's seat.
    with pytest.raises(Conflict, match="while the leg is boarding"):
        services.leg_release_no_shows(actor=logistics, leg=leg)
    for status in ("confirmed", "boarding"):
        services.leg_set_status(actor=logistics, leg=leg, status=status)
    services.booking_check_in(actor=logistics, booking=a)
    closed = services.leg_release_no_shows(actor=logistics, leg=leg)
    # The household at the gate keeps its other member's seat; the other household goes.
    assert sorted(x.household_id for x in closed) == [h2.pk, h2.pk]
    assert [x.pk for x in services.households_waited_for(leg)] == [b.pk]
    leg.refresh_from_db()
    assert leg.seats_free == 2
    h3 = register_household(world, 2)
    assert len(services.leg_book(actor=logistics, leg=leg, households=[h3])) == 2


def test_a_refused_transit_permit_blocks_the_bus(world: World, logistics) -> None:
    astara = place("crossing", code="IR-AZ-ASTARA")
    day = timezone.localtime(timezone.now() + timedelta(days=1), astara.zone).date()
    bus = make_leg(
        world,
        mode="bus",
        origin=place("airport", iata="IKA"),
        destination=astara,
        departure_planned=timezone.now() + timedelta(days=1),
        arrival_planned=None,
        capacity=40,
    )
    household = register_household(world, 2)
    a, b = services.leg_book(actor=logistics, leg=bus, households=[household])
    permits = services.permit_list_build(
        actor=logistics, crisis=world.crisis, crossing=astara, day=day
    )
    assert permits.entries.count() == 2
    services.permit_list_submit(actor=logistics, permit_list=permits, reference="AZ-2026-17")
    entry = permits.entries.get(person=a.person)
    services.permit_answer(
        actor=logistics, permit_list=permits, answers={entry.pk: PermitDecision.REFUSED}
    )
    with pytest.raises(Conflict, match="refused"):
        services.booking_board(actor=logistics, booking=a)
    services.booking_board(actor=logistics, booking=b)
    assert services.permit_state(bus, [a.person_id, b.person_id]) == {
        a.person_id: "refused",
        b.person_id: "pending",
    }


def test_cost_recovery_requires_the_signed_undertaking(world: World, logistics) -> None:
    services.transport_policy_set(actor=logistics, crisis=world.crisis, cost_recovery=True)
    leg = make_leg(world)
    (booking,) = services.leg_book(
        actor=logistics, leg=leg, households=[register_household(world, 1)]
    )
    with pytest.raises(ApplicationError, match=r"undertaking to repay 95000\.00 KZT"):
        services.booking_check_in(actor=logistics, booking=booking)
    services.booking_check_in(actor=logistics, booking=booking, undertaking_signed_by="N. Akhmetov")
    booking.refresh_from_db()
    assert booking.undertaking.amount == 95000 and booking.undertaking.currency == "KZT"


def test_a_leg_that_left_takes_nobody(world: World, logistics) -> None:
    leg = make_leg(world)
    services.leg_set_status(actor=logistics, leg=leg, status=LegStatus.CANCELLED, note="storm")
    with pytest.raises(Conflict, match="cancelled"):
        services.leg_book(actor=logistics, leg=leg, households=[register_household(world, 1)])
    assert Leg.objects.get(pk=leg.pk).status == LegStatus.CANCELLED


def test_people_who_lose_their_seat_wait_again_and_onward_bookings_keep_the_journey(
    world: World, logistics
) -> None:
    from aman.transport import selectors

    flight = make_leg(world, capacity=6)
    came, missed = register_household(world, 1), register_household(world, 1)
    (boarded,) = services.leg_book(actor=logistics, leg=flight, households=[came])
    (absent,) = services.leg_book(actor=logistics, leg=flight, households=[missed])
    services.booking_board(actor=logistics, booking=boarded)
    services.leg_set_status(actor=logistics, leg=flight, status=LegStatus.CONFIRMED)
    services.leg_set_status(actor=logistics, leg=flight, status=LegStatus.BOARDING)
    # Booked on an onward leg while on board: still boarded, not back to "assigned".
    later = flight.arrival_planned + timedelta(hours=1)
    onward = make_leg(
        world,
        origin=place("airport", iata="ALA"),
        destination=place("airport", iata="NQZ"),
        departure_planned=later,
        arrival_planned=later + timedelta(hours=2),
    )
    services.leg_book(actor=logistics, leg=onward, households=[came])
    boarded.person.refresh_from_db()
    assert boarded.person.status == Status.BOARDED
    services.leg_set_status(actor=logistics, leg=flight, status=LegStatus.DEPARTED)
    absent.person.refresh_from_db()
    assert absent.person.status == Status.VERIFIED  # the no-show waits for a seat again
    bus = make_leg(world, mode="bus", capacity=10)
    waiting = selectors.waiting_households(user=logistics, crisis=world.crisis, leg=bus)
    assert absent.person.reference_code in {
        p["reference_code"] for g in waiting for p in g["people"]
    }


def test_offloaded_or_cancelled_during_boarding_means_waiting_again(
    world: World, logistics
) -> None:
    leg = make_leg(world)
    a, b = services.leg_book(actor=logistics, leg=leg, households=[register_household(world, 2)])
    services.booking_board(actor=logistics, booking=a)
    services.booking_board(actor=logistics, booking=b)
    services.booking_close(actor=logistics, booking=a, status="offloaded", note="unwell")
    a.person.refresh_from_db()
    assert a.person.status == Status.VERIFIED
    services.leg_set_status(actor=logistics, leg=leg, status=LegStatus.CANCELLED, note="engine")
    b.person.refresh_from_db()
    assert b.person.status == Status.VERIFIED
    steps = list(b.person.status_events.order_by("id").values_list("status", flat=True))
    assert steps[-3:] == ["boarded", "assigned", "verified"]


def test_a_person_booked_twice_under_two_records_is_merged_only_once_a_seat_is_released(
    world: World, logistics
) -> None:
    from aman.dedup.merging import person_merge, person_unmerge

    leg = make_leg(world, capacity=5)
    one, two = register_household(world, 1), register_household(world, 1)
    (first,) = services.leg_book(actor=logistics, leg=leg, households=[one])
    (second,) = services.leg_book(actor=logistics, leg=leg, households=[two])
    other_leg = make_leg(
        world,
        capacity=5,
        number="KC 9",
        departure_planned=timezone.now() + timedelta(days=3),
        arrival_planned=timezone.now() + timedelta(days=3, hours=4),
    )
    (moved,) = services.leg_book(actor=logistics, leg=other_leg, households=[two])
    # Two seats on one leg: refused, both bookings named; nothing is released.
    with pytest.raises(Conflict) as refused:
        person_merge(actor=logistics, survivor=first.person, absorbed=second.person)
    (conflict,) = refused.value.extra["conflicts"]
    assert conflict["kind"] == "bookings"
    assert (conflict["survivor_booking"], conflict["absorbed_booking"]) == (first.pk, second.pk)
    assert "two seats on KC 7001" in refused.value.message
    second.refresh_from_db()
    leg.refresh_from_db()
    assert second.status == BookingStatus.OFFERED and leg.seats_taken == 2
    # The officer releases the seat that is not wanted; then the merge goes through.
    services.booking_close(actor=logistics, booking=second, status="released", note="twice")
    merge = person_merge(actor=logistics, survivor=first.person, absorbed=second.person)
    moved.refresh_from_db()  # the only seat on another leg moves to the kept record
    assert moved.person_id == first.person_id and moved.status == BookingStatus.OFFERED
    second.refresh_from_db()  # a released booking holds no seat: it moves too
    assert second.person_id == first.person_id
    person_unmerge(actor=logistics, merge=merge)
    moved.refresh_from_db()
    second.refresh_from_db()
    assert moved.person_id == second.person_id == two.members.get().pk
    leg.refresh_from_db()
    assert leg.seats_taken == 1


def test_seats_at_the_same_time_on_two_legs_refuse_a_merge_but_a_connection_does_not(
    world: World, logistics
) -> None:
    from aman.dedup.merging import merge_conflicts

    start = timezone.now() + timedelta(days=1)
    bus = make_leg(
        world,
        mode="bus",
        number="BUS 1",
        departure_planned=start,
        arrival_planned=start + timedelta(hours=4),
    )
    flight = make_leg(
        world,
        number="KC 2",
        departure_planned=start + timedelta(hours=2),
        arrival_planned=start + timedelta(hours=6),
    )
    onward = make_leg(
        world,
        number="KC 3",
        departure_planned=start + timedelta(hours=4),
        arrival_planned=start + timedelta(hours=8),
    )
    one, two = register_household(world, 1), register_household(world, 1)
    services.leg_book(actor=logistics, leg=bus, households=[one])
    (at_once,) = services.leg_book(actor=logistics, leg=flight, households=[two])
    a, b = one.members.get(), two.members.get()
    (conflict,) = merge_conflicts(a, b)
    assert conflict.refs["absorbed_booking"] == at_once.pk
    assert "seats on two legs at the same time" in conflict.text
    services.booking_close(actor=logistics, booking=at_once, status="released", note="x")
    services.leg_book(actor=logistics, leg=onward, households=[two])
    assert merge_conflicts(a, b) == []


def test_one_person_holds_one_seat_at_a_time(world: World, logistics) -> None:
    household = register_household(world, 2)
    departs = timezone.now() + timedelta(days=1)
    first = make_leg(world, departure_planned=departs, arrival_planned=departs + timedelta(hours=4))
    services.leg_book(actor=logistics, leg=first, households=[household])
    # The same hours on another flight: refused, the seat held named.
    clash = make_leg(
        world,
        number="KC 7099",
        departure_planned=departs + timedelta(hours=1),
        arrival_planned=departs + timedelta(hours=5),
    )
    with pytest.raises(Conflict, match="Already holding a seat at that time") as refused:
        services.leg_book(actor=logistics, leg=clash, households=[household])
    assert len(refused.value.extra["elsewhere"]) == 2
    assert not Booking.objects.filter(leg=clash).exists()
    # A connection (departing as the first arrives) is no clash.
    onward = make_leg(
        world,
        number="KC 7100",
        origin=place("airport", iata="ALA"),
        destination=place("airport", iata="NQZ"),
        departure_planned=departs + timedelta(hours=4),
        arrival_planned=departs + timedelta(hours=6),
    )
    assert len(services.leg_book(actor=logistics, leg=onward, households=[household])) == 2


def test_releasing_one_member_while_the_others_keep_their_seats_needs_a_reason(
    world: World, logistics
) -> None:
    household = register_household(world, 2)
    leg = make_leg(world)
    first, second = services.leg_book(actor=logistics, leg=leg, households=[household])
    with pytest.raises(ApplicationError, match="Others of the household keep their seats"):
        services.booking_close(actor=logistics, booking=first, status="released")
    assert Booking.objects.get(pk=first.pk).status == BookingStatus.OFFERED
    services.booking_close(actor=logistics, booking=first, status="released", note="stays")
    # The last one of the household goes without a reason: nobody is left behind.
    services.booking_close(actor=logistics, booking=second, status="released")
    assert set(Booking.objects.filter(leg=leg).values_list("status", flat=True)) == {"released"}
