"""Transport fixtures: households registered through the real intake service and legs
created through the real service, between places of the shipped reference data."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from django.utils import timezone

from aman.core.roles import Role
from aman.geo.models import Place
from aman.registry.models import Household
from aman.registry.services import registration_submit
from aman.transport.models import Leg
from aman.transport.services import leg_create
from tests.conftest import World

_serial = count(1)


def register_household(
    world: World, size: int = 3, *, country: str = "IR", **extra: Any
) -> Household:
    """A household of `size` people in Tehran, each with a passport."""
    n = next(_serial)
    members = []
    for i in range(size):
        members.append(
            {
                "surname": f"Ахметов{'а' if i % 2 else ''}",
                "given_names": ["Нұрлан", "Айгүл", "Әлихан", "Дана", "Ерлан", "Сая"][i % 6],
                "birth_date": f"{1950 + (n * 7 + i * 13) % 60}-0{1 + i % 9}-1{i % 9}",
                "sex": "F" if i % 2 else "M",
                "documents": [
                    {
                        "kind": "passport",
                        "number": f"N{n:04d}{i:04d}",
                        "issuing_state": "KAZ",
                        "expiry_date": "2031-05-01",
                    }
                ],
                **extra,
            }
        )
    record = registration_submit(
        crisis=world.crisis,
        channel="hotline",
        payload={
            "members": members,
            "location": {"country": country, "city": "Tehran"},
            "intent": "leave",
            "consent": True,
        },
    )
    household = record.household
    assert household is not None, record.rejection_reasons
    return household


def place(kind: str, **lookup: str) -> Place:
    return Place.objects.get(kind=kind, **lookup)


def make_leg(world: World, *, capacity: int = 10, **overrides: Any) -> Leg:
    data: dict[str, Any] = {
        "mode": "charter",
        "origin": place("airport", iata="IKA"),
        "destination": place("airport", iata="ALA"),
        "departure_planned": timezone.now() + timedelta(days=1),
        "arrival_planned": timezone.now() + timedelta(days=1, hours=4),
        "capacity": capacity,
        "carrier": "Air Astana",
        "number": "KC 7001",
        "fare": "95000",
        "currency": "KZT",
    }
    data.update(overrides)
    return leg_create(actor=world.users[Role.LOGISTICS], crisis=world.crisis, data=data)


@pytest.fixture
def logistics(world: World) -> Any:
    return world.users[Role.LOGISTICS]
