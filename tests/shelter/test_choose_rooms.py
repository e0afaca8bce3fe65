"""Housing one household in rooms the officer chooses, on the assignment page through the
Django test client: the chooser offers the chosen hotel's blocks with free rooms, the
household goes through the same service as `POST /api/stays` with `rooms` (audited), and
every refusal of that service is shown on the field it concerns."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Household, Person
from aman.shelter.models import Hotel, RoomBlock, Stay, StayNight
from aman.shelter.services import household_house
from aman.shelter.views import hotel_today
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household

pytestmark = pytest.mark.django_db

LOGISTICS = Role.LOGISTICS


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _members(household: Household) -> list[Person]:
    return list(Person.objects.filter(household=household).order_by("id"))


def _day(hotel: Hotel, days: int = 0) -> str:
    return (hotel_today(hotel) + timedelta(days=days)).isoformat()


def _step(household: Household, hotel: Hotel, **extra: str) -> dict[str, str]:
    """What the first step (the manual form) sends."""
    return {
        "household": f"H{household.pk}",
        "hotel": str(hotel.pk),
        "first_night": _day(hotel),
        "last_night": _day(hotel, 1),
        "people": "",
        "split_reason": "",
        "payer": "",
        **extra,
    }


def _rooms(
    household: Household, hotel: Hotel, rooms: dict[int, RoomBlock], where: list[int | None]
) -> dict[str, str]:
    """The chooser sent: the block of each room, and each member's room (None: no room)."""
    data = {**_step(household, hotel), "action": "rooms"}
    data |= {f"room_{k}": str(block.pk) for k, block in rooms.items()}
    for person, k in zip(_members(household), where, strict=True):
        data[f"guest_{person.pk}"] = "" if k is None else str(k)
    return data


def _field_error(response: Any, name: str) -> str:
    match = re.search(rf'id="id_{name}_errors">(.*?)</div>', _text(response), re.S)
    assert match is not None, f"no error on {name}"
    return match.group(1)


def _options(response: Any, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', response.content.decode(), re.S)
    assert select is not None
    return re.findall(r'<option value="(\d+)"', select.group(0))


def test_the_chooser_offers_the_hotels_blocks_with_free_rooms(world: World) -> None:
    hotel = make_hotel(world)
    family = make_block(hotel, world, rooms=2, beds=4, rate="80.00", currency="USD")
    full = make_block(hotel, world, room_type="double", beds=2, rooms=1, rate="45")
    later = make_block(hotel, world, first_night=hotel_today(hotel) + timedelta(days=1))
    elsewhere = make_block(make_hotel(world), world)
    household_house(
        actor=world.users[LOGISTICS],
        crisis=world.crisis,
        rooms=[(full, _members(register_household(world, 2)))],
        first_night=_day(hotel),
        last_night=_day(hotel, 1),
    )
    household = register_household(world, 3)
    client = world.client(LOGISTICS)

    page = client.post("/shelter/assign/", {**_step(household, hotel), "action": "choose"})

    assert page.status_code == 200 and 'id="rooms-form"' in page.content.decode()
    text = _text(page)
    assert "Family · beds: 4 · free rooms: 2 · 80.00 USD a night" in text
    offered = _options(page, "room_1")
    assert offered == [str(family.pk)]
    assert str(full.pk) not in offered and str(later.pk) not in offered
    assert str(elsewhere.pk) not in offered
    for person in _members(household):
        assert person.reference_code_display in text
    # Filled in with the suggestion: the whole household in one family room.
    assert re.search(rf'<option value="{family.pk}" selected>', page.content.decode())
    assert AuditEntry.objects.filter(
        verb="shelter_choose_rooms", object_id=str(household.pk), actor=world.users[LOGISTICS]
    ).exists()
    assert not Stay.objects.filter(household=household).exists()


def test_house_a_household_in_the_rooms_chosen(world: World) -> None:
    hotel = make_hotel(world)
    double = make_block(hotel, world, room_type="double", beds=2, rooms=2)
    twin = make_block(hotel, world, room_type="twin", beds=2, rooms=1)
    household = register_household(world, 4)
    client = world.client(LOGISTICS)

    done = client.post(
        "/shelter/assign/", _rooms(household, hotel, {1: double, 2: twin}, [1, 2, 1, 2])
    )

    stays = list(Stay.objects.filter(household=household).order_by("id"))
    assert done.status_code == 302 and done["Location"] == f"/shelter/stays/{stays[0].pk}/"
    members = _members(household)
    assert [(s.block, sorted(g.pk for g in s.guests.all())) for s in stays] == [
        (double, sorted([members[0].pk, members[2].pk])),
        (twin, sorted([members[1].pk, members[3].pk])),
    ]
    assert len({s.group for s in stays}) == 1 and {s.source for s in stays} == {"ui"}
    assert StayNight.objects.filter(stay__in=stays).count() == 4  # two rooms, two nights
    for stay in stays:
        entry = AuditEntry.objects.get(verb="stay_create", object_id=str(stay.pk))
        assert entry.actor == world.users[LOGISTICS] and entry.changes["block"][1] == stay.block_id


def test_a_split_needs_its_reason_on_the_form(world: World) -> None:
    hotel = make_hotel(world)
    double = make_block(hotel, world, room_type="double", beds=2, rooms=2)
    household = register_household(world, 3)
    client = world.client(LOGISTICS)
    data = _rooms(household, hotel, {1: double}, [1, 1, None])

    refused = client.post("/shelter/assign/", data)

    assert refused.status_code == 200
    assert "A household stays together" in _field_error(refused, "split_reason")
    assert not Stay.objects.filter(household=household).exists()
    done = client.post("/shelter/assign/", {**data, "split_reason": "the son stays with a friend"})
    assert done.status_code == 302
    stay = Stay.objects.get(household=household)
    assert stay.split_reason == "the son stays with a friend" and stay.guests.count() == 2


def test_each_refusal_is_on_its_field(world: World) -> None:
    hotel = make_hotel(world)
    double = make_block(hotel, world, room_type="double", beds=2, rooms=1)
    family = make_block(hotel, world, room_type="family", beds=4, rooms=2)
    other_hotel_block = make_block(make_hotel(world), world)
    household = register_household(world, 3)
    client = world.client(LOGISTICS)

    crowded = client.post("/shelter/assign/", _rooms(household, hotel, {1: double}, [1, 1, 1]))
    assert "Too many people for the room." in _field_error(crowded, "room_1")

    no_block = client.post("/shelter/assign/", _rooms(household, hotel, {1: family}, [1, 1, 2]))
    assert "Choose a room block for this room." in _field_error(no_block, "room_2")

    nobody = client.post(
        "/shelter/assign/", _rooms(household, hotel, {1: family}, [None, None, None])
    )
    # On the first member listed (the highest priority, then the eldest).
    listed = re.search(r'<select name="(guest_\d+)"', nobody.content.decode())
    assert listed is not None
    assert "Choose a room for at least one member." in _field_error(nobody, listed.group(1))
    first = _members(household)[0]

    foreign = client.post(
        "/shelter/assign/", _rooms(household, hotel, {1: other_hotel_block}, [1, 1, 1])
    )
    assert _field_error(foreign, "room_1")

    # One member is housed elsewhere already on the first night.
    household_house(
        actor=world.users[LOGISTICS],
        crisis=world.crisis,
        household=household,
        people=[first],
        split_reason="arrived a day earlier",
        rooms=[(family, [first])],
        first_night=_day(hotel),
        last_night=_day(hotel),
    )
    twice = client.post("/shelter/assign/", _rooms(household, hotel, {1: family}, [1, 1, 1]))
    assert "Already housed on some of these nights" in _field_error(twice, f"guest_{first.pk}")
    assert Stay.objects.filter(household=household).count() == 1


def test_a_room_taken_meanwhile_is_refused_on_its_field(world: World) -> None:
    hotel = make_hotel(world)
    double = make_block(hotel, world, room_type="double", beds=2, rooms=1)
    household = register_household(world, 2)
    client = world.client(LOGISTICS)
    page = client.post("/shelter/assign/", {**_step(household, hotel), "action": "choose"})
    assert _options(page, "room_1") == [str(double.pk)]
    # Another officer gives the last room to another household before this one is sent.
    other = register_household(world, 2)
    (taken,) = household_house(
        actor=world.users[LOGISTICS],
        crisis=world.crisis,
        household=other,
        hotel=hotel,
        first_night=_day(hotel),
        last_night=_day(hotel, 1),
    )

    refused = client.post("/shelter/assign/", _rooms(household, hotel, {1: double}, [1, 1]))

    assert refused.status_code == 200
    assert "No room of this block is free" in _field_error(refused, "room_1")
    assert not Stay.objects.filter(household=household).exists()
    assert list(StayNight.objects.filter(block=double).values_list("stay", flat=True)) == [
        taken.pk,
        taken.pk,
    ]
    # The full block stays selected (its refusal is on it) but shows no free room.
    assert "free rooms: 0" in _text(refused)


def test_back_to_the_first_step_keeps_what_was_typed(world: World) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world)
    household = register_household(world, 2)
    back = world.client(LOGISTICS).post(
        "/shelter/assign/", {**_step(household, hotel, payer="person"), "action": "edit"}
    )
    text = back.content.decode()
    assert 'id="manual-form"' in text and f'value="H{household.pk}"' in text
    assert '<option value="person" selected>' in text
