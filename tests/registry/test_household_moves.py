"""Moving people between households: a person who holds a seat or a room with the household
they would leave is not moved until that seat or room is released (or split explicitly)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aman.core.roles import Role
from aman.registry.models import Household, Person
from aman.shelter.services import household_house, stay_set_status
from aman.transport.services import booking_close, leg_book
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, today
from tests.transport.conftest import make_leg, register_household


def _patch(world: World, household: int, body: dict[str, Any]) -> Any:
    return world.api(Role.OPERATOR).patch(
        f"/api/households/{household}", data=json.dumps(body), content_type="application/json"
    )


def test_a_member_booked_with_the_household_is_not_moved_until_the_seat_is_released(
    world: World,
) -> None:
    logistics = world.users[Role.LOGISTICS]
    family = register_household(world, 3)
    _father, _mother, son = family.members.order_by("pk")
    leg = make_leg(world)
    bookings = {b.person_id: b for b in leg_book(actor=logistics, leg=leg, households=[family])}
    client = world.client(Role.OPERATOR)
    page = client.post(f"/people/{son.pk}/household/", {"action": "alone"}, follow=True)
    text = page.content.decode()
    assert "Household changed." not in text
    assert f"{son.reference_code_display} holds a seat on {leg}" in text
    assert f"(booking {bookings[son.pk].pk})" in text
    assert Person.objects.get(pk=son.pk).household_id == family.pk
    # The API: 409, the seat named.
    other = register_household(world, 1)
    response = _patch(world, other.pk, {"add_members": [son.pk]})
    assert response.status_code == 409, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert body["extra"]["conflicts"] == [
        f"{son.reference_code_display} holds a seat on {leg} (booking {bookings[son.pk].pk})"
    ]
    assert Person.objects.get(pk=son.pk).household_id == family.pk
    # Released, he moves; the others keep their seats.
    booking_close(
        actor=logistics, booking=bookings[son.pk], status="released", note="stays with relatives"
    )
    response = _patch(world, other.pk, {"add_members": [son.pk]})
    assert response.status_code == 200, response.content
    assert Person.objects.get(pk=son.pk).household_id == other.pk
    assert son.pk in [m["id"] for m in response.json()["members"]]
    assert Household.objects.get(pk=family.pk).members.count() == 2


def test_a_member_housed_with_the_household_is_not_moved_until_the_stay_ends(
    world: World,
) -> None:
    logistics = world.users[Role.LOGISTICS]
    family = register_household(world, 2)
    _mother, daughter = family.members.order_by("pk")
    hotel = make_hotel(world, name="Hotel Absheron")
    make_block(hotel, world)
    first = today() + timedelta(days=1)
    (stay,) = household_house(
        actor=logistics,
        crisis=world.crisis,
        household=family,
        hotel=hotel,
        first_night=first,
        last_night=first + timedelta(days=2),
    )
    response = _patch(world, family.pk, {"remove_members": [daughter.pk]})
    assert response.status_code == 409, response.content
    (conflict,) = response.json()["extra"]["conflicts"]
    assert conflict.startswith(f"{daughter.reference_code_display} is housed at Hotel Absheron")
    assert conflict.endswith(f"(stay {stay.pk})")
    assert Person.objects.get(pk=daughter.pk).household_id == family.pk
    stay_set_status(actor=logistics, stay=stay, status="cancelled", note="moved to relatives")
    response = _patch(world, family.pk, {"remove_members": [daughter.pk]})
    assert response.status_code == 200, response.content
    assert Person.objects.get(pk=daughter.pk).household_id != family.pk
