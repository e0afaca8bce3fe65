"""Shelter fixtures: hotels and room blocks created through the real services, households
registered through the real intake service (tests.transport.conftest)."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from aman.core.roles import Role
from aman.shelter.models import Hotel, RoomBlock
from aman.shelter.services import (
    block_create,
    exchange_rate_set,
    hotel_create,
    household_house,
    tour_operator_create,
)
from tests.conftest import World
from tests.transport.conftest import register_household

_serial = count(1)


def today() -> date:
    """Today on the clock of the hotels `make_hotel` creates (in Baku): a hotel's nights are
    its own days, which differ from the server's around midnight."""
    return timezone.localtime(timezone.now(), ZoneInfo("Asia/Baku")).date()


def make_hotel(world: World, **overrides: Any) -> Hotel:
    n = next(_serial)
    data: dict[str, Any] = {
        "name": f"Hotel Caspian {n}",
        "country": "AZ",
        "address": "28 Neftchilar Avenue, Baku",
        "latitude": 40.37 + n / 1000,
        "longitude": 49.84,
        "contact": "Front desk",
        "phone": "+994 12 000 00 00",
    }
    data.update(overrides)
    return hotel_create(actor=world.users[Role.LOGISTICS], crisis=world.crisis, data=data)


def make_block(hotel: Hotel, world: World, **overrides: Any) -> RoomBlock:
    data: dict[str, Any] = {
        "room_type": "family",
        "beds": 4,
        "rooms": 3,
        "first_night": today(),
        "last_night": today() + timedelta(days=6),
        "rate": "80.00",
        "currency": "USD",
        "meals": "breakfast",
        "payer": "state",
        "contract_ref": "AZ-2026-001",
    }
    data.update(overrides)
    return block_create(actor=world.users[Role.LOGISTICS], hotel=hotel, data=data)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    """Rate-limit counters live in the cache: each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def logistics(world: World) -> Any:
    return world.users[Role.LOGISTICS]


# The cost ledger's data (tests/shelter/test_ledger.py, test_api_documents.py) ---------------------


def hotel_today(hotel: Hotel) -> date:
    return timezone.localtime(timezone.now(), hotel.place.zone).date()


@pytest.fixture
def costs(world: World, logistics: Any) -> dict[str, Any]:
    """Hotel A (Baku): 80.00 USD a room, the state pays. Hotel B (Dubai): 350.25 AED a room,
    through and paid by a tour operator. USD at 470.50 KZT, then 480.00 from today; AED has
    no rate yet."""
    operator = tour_operator_create(actor=logistics, data={"name": "Kazakh Tours"})
    a = make_hotel(world, name="Hotel Absheron")
    b = make_hotel(
        world, name="Hotel Deira", country="AE", latitude=25.27, longitude=55.30, address="Deira"
    )
    ta, tb = hotel_today(a), hotel_today(b)
    make_block(
        a,
        world,
        first_night=ta - timedelta(days=5),
        last_night=ta + timedelta(days=5),
        rate="80.00",
        currency="USD",
        payer="state",
        contract_ref="AZ-1",
    )
    make_block(
        b,
        world,
        room_type="double",
        beds=2,
        rooms=2,
        first_night=tb,
        last_night=tb + timedelta(5),
        rate="350.25",
        currency="AED",
        payer="tour_operator",
        tour_operator=operator.name,
        contract_ref="AE-7",
    )

    def house(size: int, hotel: Hotel, first: date, last: date) -> Any:
        return household_house(
            actor=logistics,
            crisis=world.crisis,
            household=register_household(world, size),
            hotel=hotel,
            first_night=first,
            last_night=last,
        )

    # A family of three in one room of A: two nights over, two to come.
    (h1,) = house(3, a, ta - timedelta(days=2), ta + timedelta(days=1))
    # One person in A, one night over.
    (h3,) = house(1, a, ta - timedelta(days=1), ta - timedelta(days=1))
    # Two people in one room of B, two nights to come.
    (h2,) = house(2, b, tb, tb + timedelta(days=1))
    exchange_rate_set(
        actor=logistics,
        crisis=world.crisis,
        data={"currency": "USD", "rate": "470.50", "valid_from": ta - timedelta(days=10)},
    )
    exchange_rate_set(
        actor=logistics,
        crisis=world.crisis,
        data={"currency": "usd", "rate": "480", "valid_from": ta, "source": "National Bank"},
    )
    # A rate of another crisis is never used here.
    exchange_rate_set(
        actor=logistics,
        crisis=world.other_crisis,
        data={"currency": "AED", "rate": "1", "valid_from": tb - timedelta(days=30)},
    )
    return {"a": a, "b": b, "ta": ta, "tb": tb, "operator": operator, "h1": h1, "h2": h2, "h3": h3}


def add_aed(world: World, costs: dict) -> None:
    exchange_rate_set(
        actor=world.users[Role.LOGISTICS],
        crisis=world.crisis,
        data={"currency": "AED", "rate": "128.2", "valid_from": costs["tb"]},
    )
