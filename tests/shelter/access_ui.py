"""Access-matrix rows (see tests/shelter/access.py): the shelter pages of views.py.

Objects are made lazily inside each persona's savepoint (see `call` in
tests/test_access_matrix.py), so every persona finds the same world."""

from datetime import timedelta
from typing import Any

from tests.shelter.access import SHELTER
from tests.shelter.access_api import world_operator

WORLD_HOTEL = "Matrix Hotel"


def world_hotel(w: Any) -> int:
    """A hotel in Baku in the world's crisis."""
    from aman.shelter.models import Hotel
    from aman.shelter.services import hotel_create

    hotel = Hotel.objects.filter(crisis=w.crisis, place__name=WORLD_HOTEL).first()
    if hotel is None:
        hotel = hotel_create(
            actor=None,
            crisis=w.crisis,
            data={"name": WORLD_HOTEL, "country": "AZ", "latitude": 40.37, "longitude": 49.84},
        )
    return hotel.pk


def _tonight(w: Any) -> Any:
    from aman.shelter.models import Hotel
    from aman.shelter.views import hotel_today

    return hotel_today(Hotel.objects.get(pk=world_hotel(w)))


def world_block(w: Any) -> int:
    """Three family rooms for a week from tonight in the world's hotel."""
    from aman.shelter.models import RoomBlock
    from aman.shelter.services import block_create

    block = RoomBlock.objects.filter(hotel_id=world_hotel(w)).first()
    if block is None:
        from aman.shelter.models import Hotel

        block = block_create(
            actor=None,
            hotel=Hotel.objects.get(pk=world_hotel(w)),
            data=block_form(w),
        )
    return block.pk


def block_form(w: Any) -> dict[str, Any]:
    first = _tonight(w)
    return {
        "room_type": "family",
        "beds": "4",
        "rooms": "3",
        "first_night": first.isoformat(),
        "last_night": (first + timedelta(days=6)).isoformat(),
        "rate": "80",
        "currency": "USD",
        "meals": "breakfast",
        "payer": "state",
        "tour_operator": "",
        "contract_ref": "",
        "notes": "",
    }


def world_stay(w: Any) -> int:
    """The person in Iran's household, in the world's hotel for two nights."""
    from aman.registry.models import Person
    from aman.shelter.models import Stay
    from aman.shelter.services import household_house

    stay = Stay.objects.filter(block_id=world_block(w)).first()
    if stay is None:
        first = _tonight(w)
        from aman.shelter.models import Hotel

        (stay,) = household_house(
            actor=None,
            crisis=w.crisis,
            household=Person.objects.get(pk=w.people["IR"]).household,
            hotel=Hotel.objects.get(pk=world_hotel(w)),
            first_night=first,
            last_night=first + timedelta(days=1),
        )
    return stay.pk


def iraq_household(w: Any) -> int:
    from aman.registry.models import Person

    household = Person.objects.get(pk=w.people["IQ"]).household
    assert household is not None
    return household.pk


def suggestion(w: Any) -> dict[str, Any]:
    """A confirmed suggestion for the person in Iraq's household (who sleeps alone)."""
    world_block(w)
    first = _tonight(w)
    return {
        "first_night": first.isoformat(),
        "last_night": (first + timedelta(days=1)).isoformat(),
        "suggest": "1",
        "households": f"H{iraq_household(w)}",
    }


def confirm(w: Any) -> dict[str, Any]:
    from aman.registry.models import Person

    data = suggestion(w)
    hid = iraq_household(w)
    data.pop("suggest")
    data["action"] = "confirm"
    data["house"] = [str(hid)]
    data[f"room-{hid}"] = [f"{world_block(w)}:{Person.objects.get(pk=w.people['IQ']).pk}"]
    return data


def manual(w: Any) -> dict[str, Any]:
    data = suggestion(w)
    return {
        "action": "manual",
        "household": data["households"],
        "hotel": str(world_hotel(w)),
        "first_night": data["first_night"],
        "last_night": data["last_night"],
    }


def rooms(w: Any) -> dict[str, Any]:
    """The person in Iraq housed by hand in a room of the world's block."""
    from aman.registry.models import Person

    person = Person.objects.get(pk=w.people["IQ"])
    return {
        **manual(w),
        "action": "rooms",
        "room_1": str(world_block(w)),
        f"guest_{person.pk}": "1",
    }


ROWS: list[dict[str, Any]] = [
    dict(name="hotel_list", method="get", path=lambda w: "/shelter/", allowed=SHELTER),
    dict(name="hotel_create", method="get", path=lambda w: "/shelter/hotels/new/", allowed=SHELTER),
    dict(
        name="hotel_create",
        method="post",
        path=lambda w: "/shelter/hotels/new/",
        allowed=SHELTER,
        ok=302,
        data=lambda w: {"name": "Hotel Absheron", "country": "AZ"},
    ),
    dict(
        name="hotel_detail",
        method="get",
        path=lambda w: f"/shelter/hotels/{world_hotel(w)}/",
        allowed=SHELTER,
    ),
    dict(
        name="hotel_edit",
        method="get",
        path=lambda w: f"/shelter/hotels/{world_hotel(w)}/edit/",
        allowed=SHELTER,
    ),
    dict(
        name="hotel_edit",
        method="post",
        path=lambda w: f"/shelter/hotels/{world_hotel(w)}/edit/",
        allowed=SHELTER,
        ok=302,
        data=lambda w: {"name": WORLD_HOTEL, "country": "AZ", "phone": "+994 12 000 00 00"},
    ),
    dict(
        name="block_create",
        method="get",
        path=lambda w: f"/shelter/hotels/{world_hotel(w)}/blocks/new/",
        allowed=SHELTER,
    ),
    dict(
        name="block_create",
        method="post",
        path=lambda w: f"/shelter/hotels/{world_hotel(w)}/blocks/new/",
        allowed=SHELTER,
        ok=302,
        data=block_form,
    ),
    dict(
        name="block_edit",
        method="get",
        path=lambda w: f"/shelter/blocks/{world_block(w)}/edit/",
        allowed=SHELTER,
    ),
    dict(
        name="block_edit",
        method="post",
        path=lambda w: f"/shelter/blocks/{world_block(w)}/edit/",
        allowed=SHELTER,
        ok=302,
        data=lambda w: {**block_form(w), "rooms": "4"},
    ),
    dict(
        name="hotel_day",
        method="get",
        path=lambda w: f"/shelter/hotels/{world_hotel(w)}/day/?stay={world_stay(w)}",
        allowed=SHELTER,
    ),
    dict(
        name="hotel_day_csv",
        method="get",
        path=lambda w: f"/shelter/hotels/{world_hotel(w)}/day.csv?stay={world_stay(w)}",
        allowed=SHELTER,
    ),
    dict(
        name="tour_operator_list",
        method="get",
        path=lambda w: "/shelter/operators/",
        allowed=SHELTER,
    ),
    dict(
        name="tour_operator_list",
        method="post",
        path=lambda w: "/shelter/operators/",
        allowed=SHELTER,
        ok=302,
        data=lambda w: {"name": "Kompas Tour", "phone": "+7 727 258 00 00"},
    ),
    dict(
        name="tour_operator_edit",
        method="get",
        path=lambda w: f"/shelter/operators/{world_operator(w)}/edit/",
        allowed=SHELTER,
    ),
    dict(
        name="tour_operator_edit",
        method="post",
        path=lambda w: f"/shelter/operators/{world_operator(w)}/edit/",
        allowed=SHELTER,
        ok=302,
        data=lambda w: {"name": "Matrix Operator", "phone": "+7 727 258 00 00"},
    ),
    dict(
        name="occupancy",
        method="get",
        path=lambda w: f"/shelter/occupancy/?days=14&stay={world_stay(w)}",
        allowed=SHELTER,
    ),
    dict(
        name="stay_list",
        method="get",
        path=lambda w: f"/shelter/stays/?stay={world_stay(w)}",
        allowed=SHELTER,
    ),
    dict(
        name="stay_detail",
        method="get",
        path=lambda w: f"/shelter/stays/{world_stay(w)}/",
        allowed=SHELTER,
    ),
    dict(
        name="stay_status",
        method="post",
        path=lambda w: f"/shelter/stays/{world_stay(w)}/status/",
        allowed=SHELTER,
        ok=302,
        data=lambda w: {"status": "checked_in", "room_number": "204"},
    ),
    dict(
        name="stay_nights",
        method="post",
        path=lambda w: f"/shelter/stays/{world_stay(w)}/nights/",
        allowed=SHELTER,
        ok=302,
        data=lambda w: {"last_night": (_tonight(w) + timedelta(days=2)).isoformat()},
    ),
    dict(
        name="stay_move",
        method="post",
        path=lambda w: f"/shelter/stays/{world_stay(w)}/move/",
        allowed=SHELTER,
        ok=302,
        data=lambda w: {"room": ""},
    ),
    dict(name="shelter_assign", method="get", path=lambda w: "/shelter/assign/", allowed=SHELTER),
    dict(
        name="shelter_assign",
        method="get",
        path=lambda w: "/shelter/assign/",
        allowed=SHELTER,
        data=suggestion,
    ),
    dict(
        name="shelter_assign",
        method="post",
        path=lambda w: "/shelter/assign/",
        allowed=SHELTER,
        data=confirm,
    ),
    dict(
        name="shelter_assign",
        method="post",
        path=lambda w: "/shelter/assign/",
        allowed=SHELTER,
        ok=302,
        data=manual,
    ),
    dict(
        name="shelter_assign",
        method="post",
        path=lambda w: "/shelter/assign/",
        allowed=SHELTER,
        ok=302,
        data=rooms,
    ),
]
