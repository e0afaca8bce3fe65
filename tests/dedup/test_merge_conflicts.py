"""Two records of one person housed on the same nights, or holding seats at the same time:
the merge is refused, naming the stays and bookings, through the API and the merge page;
once the officer has kept only the right one, the merge goes through and its undo restores
everything exactly — stays with their nights, guests and history, bookings and seats."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aman.core.roles import Role
from aman.dedup.models import CandidatePair, Merge
from aman.registry.models import Person
from aman.shelter import services as shelter
from aman.shelter.models import Stay, StayStatus
from aman.transport import services as transport
from aman.transport.models import BookingStatus
from tests.conftest import World
from tests.dedup.test_merge import merge_api, state, the_pair
from tests.shelter.conftest import make_block, make_hotel, today
from tests.transport.conftest import make_leg


def house(world: World, person: Person, first: int, last: int) -> list[Stay]:
    """The person's household in a hotel of its own, from the night `first` days from today
    to the night `last` days from today."""
    hotel = make_hotel(world)
    make_block(hotel, world)
    return shelter.household_house(
        actor=world.users[Role.LOGISTICS],
        crisis=world.crisis,
        household=person.household,
        hotel=hotel,
        first_night=today() + timedelta(days=first),
        last_night=today() + timedelta(days=last),
    )


def people(pair: CandidatePair) -> tuple[Person, Person]:
    return Person.objects.get(pk=pair.person_a_id), Person.objects.get(pk=pair.person_b_id)


def undo(world: World, merge_id: int) -> Any:
    return world.api(Role.OPERATOR).post(f"/api/merges/{merge_id}/undo")


def test_records_housed_in_two_hotels_on_the_same_nights_are_not_merged_through_the_api(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    a, b = people(pair)
    (kept,) = house(world, a, 0, 2)
    (other,) = house(world, b, 1, 3)
    before = state()
    response = merge_api(world, pair)
    assert response.status_code == 409, response.content
    body = response.json()
    assert "cannot be merged yet" in body["message"]
    assert f"stay {kept.pk} at {kept.block.hotel}" in body["message"]
    assert f"stay {other.pk} at {other.block.hotel}" in body["message"]
    (conflict,) = body["extra"]["conflicts"]
    assert conflict["kind"] == "stays"
    assert (conflict["survivor_stay"], conflict["absorbed_stay"]) == (kept.pk, other.pk)
    assert conflict["first_night"] == (today() + timedelta(days=1)).isoformat()
    assert conflict["last_night"] == (today() + timedelta(days=2)).isoformat()
    assert state() == before and not Merge.objects.exists()
    pair.refresh_from_db()
    assert pair.status == "open"

    # The officer cancels the stay the person will not take; then merge, and undo exactly.
    shelter.stay_set_status(
        actor=world.users[Role.LOGISTICS],
        stay=other,
        status=StayStatus.CANCELLED,
        note="registered twice",
    )
    before = state()
    merged = merge_api(world, pair)
    assert merged.status_code == 201, merged.content
    assert set(Stay.objects.filter(guests=a).values_list("pk", flat=True)) == {kept.pk, other.pk}
    assert state() != before
    undone = undo(world, merged.json()["id"])
    assert undone.status_code == 200, undone.content
    assert state() == before


def test_stays_on_other_nights_move_and_come_back_exactly(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    a, b = people(pair)
    (kept,) = house(world, a, 0, 1)
    (later,) = house(world, b, 2, 3)  # the next hotel on the way: no night in common
    before = state()
    merged = merge_api(world, pair)
    assert merged.status_code == 201, merged.content
    assert set(Stay.objects.filter(guests=a).values_list("pk", flat=True)) == {kept.pk, later.pk}
    later.refresh_from_db()
    assert (later.adults, later.children) == (1, 0), "the person counted once"
    assert undo(world, merged.json()["id"]).status_code == 200
    assert state() == before


def test_the_merge_page_names_the_stays_and_refuses_the_merge(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    a, b = people(pair)
    (kept,) = house(world, a, 0, 2)
    (other,) = house(world, b, 0, 0)
    client = world.client(Role.OPERATOR)
    page = client.get(f"/people/duplicates/{pair.pk}/merge/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="merge-conflicts"' in html
    assert f"stay {kept.pk} at {kept.block.hotel}" in html
    assert f"stay {other.pk} at {other.block.hotel}" in html
    assert "disabled>" in html, "the merge button waits for the conflict to be resolved"
    before = state()
    response = client.post(f"/people/duplicates/{pair.pk}/merge/", {"keep": "a"})
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="merge-error"' in html and "cannot be merged yet" in html
    assert state() == before and not Merge.objects.exists()


def test_records_booked_on_the_same_leg_are_merged_once_a_seat_is_released(
    world: World, family: dict[str, Any]
) -> None:
    pair, _first = the_pair(world, family)
    a, b = people(pair)
    logistics = world.users[Role.LOGISTICS]
    leg = make_leg(world, capacity=10)
    later = make_leg(
        world,
        number="KC 7003",
        departure_planned=leg.departure_planned + timedelta(days=2),
        arrival_planned=leg.departure_planned + timedelta(days=2, hours=4),
    )
    transport.leg_book(actor=logistics, leg=leg, households=[a.household, b.household])
    (onward,) = transport.leg_book(actor=logistics, leg=later, households=[b.household])
    first_seat = a.bookings.get(leg=leg)
    second_seat = b.bookings.get(leg=leg)
    before = state()

    refused = merge_api(world, pair)
    assert refused.status_code == 409, refused.content
    body = refused.json()
    assert f"booking {first_seat.pk}" in body["message"]
    assert f"booking {second_seat.pk}" in body["message"]
    (conflict,) = body["extra"]["conflicts"]
    assert conflict["kind"] == "bookings" and conflict["survivor_leg"] == leg.pk
    page = world.client(Role.OPERATOR).get(f"/people/duplicates/{pair.pk}/merge/")
    assert f"booking {second_seat.pk}" in page.content.decode()
    assert state() == before, "no seat freed by a refused merge"

    transport.booking_close(
        actor=logistics, booking=second_seat, status=BookingStatus.RELEASED, note="twice"
    )
    before = state()
    merged = merge_api(world, pair)
    assert merged.status_code == 201, merged.content
    onward.refresh_from_db()
    assert onward.person_id == a.pk
    leg.refresh_from_db()
    assert leg.seats_taken == len(family["members"])
    assert undo(world, merged.json()["id"]).status_code == 200
    assert state() == before
