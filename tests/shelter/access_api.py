"""Access-matrix rows (see tests/shelter/access.py): the shelter API's operations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from tests.conftest import World
from tests.shelter.access import SHELTER


def _night(n: int) -> str:
    from django.utils import timezone

    return (timezone.localdate() + timedelta(days=n)).isoformat()


def world_hotel(w: World) -> int:
    """A hotel of the world's crisis (made once, found again by its notes)."""
    from aman.shelter.models import Hotel
    from aman.shelter.services import hotel_create

    hotel = Hotel.objects.filter(crisis=w.crisis, notes="matrix").first()
    if hotel is None:
        hotel = hotel_create(
            actor=None,
            crisis=w.crisis,
            data={
                "name": "Matrix Hotel",
                "country": "AZ",
                "latitude": 40.4,
                "longitude": 49.8,
                "notes": "matrix",
            },
        )
    return hotel.pk


def world_operator(w: World) -> int:
    """A tour operator (made once, found again by its name)."""
    from aman.shelter.models import TourOperator
    from aman.shelter.services import tour_operator_create

    operator = TourOperator.objects.filter(name="Matrix Operator").first()
    if operator is None:
        operator = tour_operator_create(actor=None, data={"name": "Matrix Operator"})
    return operator.pk


def world_block(w: World) -> int:
    """Three family rooms in the world's hotel for a week from today."""
    from aman.shelter.models import Hotel, RoomBlock
    from aman.shelter.services import block_create

    block = RoomBlock.objects.filter(hotel_id=world_hotel(w), contract_ref="matrix").first()
    if block is None:
        block = block_create(
            actor=None,
            hotel=Hotel.objects.get(pk=world_hotel(w)),
            data={
                "room_type": "family",
                "beds": 4,
                "rooms": 3,
                "first_night": _night(0),
                "last_night": _night(6),
                "rate": "80",
                "currency": "USD",
                "payer": "state",
                "contract_ref": "matrix",
            },
        )
    return block.pk


def household(w: World, where: str) -> int:
    from aman.registry.models import Person

    return Person.objects.get(pk=w.people[where]).household_id or 0


def world_stay(w: World) -> int:
    """The household of the person in Iran, in the world's hotel tonight and tomorrow."""
    from aman.registry.models import Household
    from aman.shelter.models import Hotel, Stay
    from aman.shelter.services import household_house

    world_block(w)
    stay = Stay.objects.filter(household_id=household(w, "IR")).first()
    if stay is None:
        (stay,) = household_house(
            actor=None,
            crisis=w.crisis,
            household=Household.objects.get(pk=household(w, "IR")),
            hotel=Hotel.objects.get(pk=world_hotel(w)),
            first_night=_night(0),
            last_night=_night(1),
        )
    return stay.pk


def plan_item(w: World) -> dict[str, Any]:
    """The household of the person in Iraq in the world's hotel (a plan's item, or the body
    of POST /api/stays)."""
    world_block(w)
    return {
        "household": household(w, "IQ"),
        "hotel": world_hotel(w),
        "first_night": _night(0),
        "last_night": _night(1),
    }


def suggest_body(w: World) -> dict[str, Any]:
    world_block(w)
    return {"households": [household(w, "IQ")], "first_night": _night(0), "last_night": _night(1)}


def A(name: str, path: Callable[[World], str] | None = None, **kw: Any) -> dict[str, Any]:
    method, template = name.split(" ", 1)
    return {
        "name": name,
        "method": method.lower(),
        "path": path or (lambda w: template),
        "allowed": SHELTER,
        "anonymous": 401,
        "api": True,
        **kw,
    }


ROWS: list[dict[str, Any]] = [
    A("GET /api/tour-operators"),
    A("POST /api/tour-operators", ok=201, data=lambda w: {"name": "Matrix Tours"}),
    A(
        "PATCH /api/tour-operators/{operator_id}",
        lambda w: f"/api/tour-operators/{world_operator(w)}",
        data=lambda w: {"contact": "Matrix desk"},
    ),
    A("GET /api/hotels"),
    A(
        "POST /api/hotels",
        ok=201,
        data=lambda w: {"name": "Hotel Nizami", "country": "AZ", "latitude": 40.37},
    ),
    A("GET /api/hotels/{hotel_id}", lambda w: f"/api/hotels/{world_hotel(w)}"),
    A(
        "PATCH /api/hotels/{hotel_id}",
        lambda w: f"/api/hotels/{world_hotel(w)}",
        data=lambda w: {"phone": "+994 12 000 00 01"},
    ),
    A("GET /api/hotels/{hotel_id}/blocks", lambda w: f"/api/hotels/{world_hotel(w)}/blocks"),
    A(
        "POST /api/hotels/{hotel_id}/blocks",
        lambda w: f"/api/hotels/{world_hotel(w)}/blocks",
        ok=201,
        data=lambda w: {
            "room_type": "double",
            "rooms": 5,
            "first_night": _night(0),
            "last_night": _night(3),
            "rate": "60",
            "currency": "AZN",
            "payer": "state",
        },
    ),
    A("GET /api/blocks/{block_id}", lambda w: f"/api/blocks/{world_block(w)}"),
    A(
        "PATCH /api/blocks/{block_id}",
        lambda w: f"/api/blocks/{world_block(w)}",
        data=lambda w: {"rooms": 4},
    ),
    A(
        "GET /api/hotels/{hotel_id}/occupancy",
        lambda w: f"/api/hotels/{world_hotel(w)}/occupancy?from={date(2026, 3, 1)}&days=7",
    ),
    A(
        "GET /api/hotels/{hotel_id}/day",
        lambda w: f"/api/hotels/{world_hotel(w)}/day?stay={world_stay(w)}",
    ),
    A(
        "GET /api/hotels/{hotel_id}/day.csv",
        lambda w: f"/api/hotels/{world_hotel(w)}/day.csv?stay={world_stay(w)}",
    ),
    A("GET /api/stays"),
    A(
        "POST /api/stays",
        ok=201,
        data=plan_item,
    ),
    A("GET /api/stays/{stay_id}", lambda w: f"/api/stays/{world_stay(w)}"),
    A("GET /api/stays/{stay_id}/voucher", lambda w: f"/api/stays/{world_stay(w)}/voucher"),
    A(
        "POST /api/stays/{stay_id}/status",
        lambda w: f"/api/stays/{world_stay(w)}/status",
        data=lambda w: {"status": "checked_in", "room_number": "12"},
    ),
    A(
        "POST /api/stays/{stay_id}/nights",
        lambda w: f"/api/stays/{world_stay(w)}/nights",
        data=lambda w: {"last_night": _night(3)},
    ),
    A(
        "POST /api/stays/{stay_id}/move",
        lambda w: f"/api/stays/{world_stay(w)}/move",
        data=lambda w: {},
    ),
    A(
        "POST /api/stays/suggest",
        data=suggest_body,
    ),
    A(
        "POST /api/stays/from-plan",
        ok=201,
        data=lambda w: {"plan_ref": "matrix-plan", "items": [plan_item(w)]},
    ),
    A("GET /api/exchange-rates"),
    A(
        "POST /api/exchange-rates",
        ok=201,
        data=lambda w: {"currency": "USD", "rate": "510", "valid_from": "2026-03-01"},
    ),
    A("GET /api/ledger", lambda w: f"/api/ledger?stay={world_stay(w)}"),
    A("GET /api/ledger.xlsx", lambda w: f"/api/ledger.xlsx?stay={world_stay(w)}"),
]
