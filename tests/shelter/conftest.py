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
from aman.shelter.services import block_create, hotel_create
from tests.conftest import World
from tests.transport.conftest import register_household  # noqa: F401 (re-exported)

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
