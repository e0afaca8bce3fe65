"""A small real situation in the database for the planner's pages and services: households
in Tehran, buses to the Norduz crossing (Armenia, no transit permits) and on to Yerevan, a
hotel in Yerevan, and flights from Yerevan to Almaty."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aman.core.models import Crisis
from aman.geo.models import Place
from aman.registry.models import Household, Person
from aman.registry.services import registration_submit
from aman.shelter.models import Hotel
from aman.shelter.services import block_create, hotel_create
from aman.transport.models import Leg
from aman.transport.services import leg_create

TEHRAN = ZoneInfo("Asia/Tehran")
# Every situation starts from this moment (the plan's "now"): tomorrow 06:00 in Tehran, so
# that the hotel nights are still to come (a stay is cancelled only before its first night).
START = (datetime.now(TEHRAN) + timedelta(days=1)).replace(
    hour=6, minute=0, second=0, microsecond=0
)
# How many days ahead the pages and the API plan from now: START is 6 to 30 hours away
# (by the time of day in Tehran) and the flight lands 54 hours after it, so 3 days missed
# it in the night hours in Tehran.
DAYS = 4


@dataclass
class Situation:
    crisis: Crisis
    legs: dict[str, Leg] = field(default_factory=dict)
    hotel: Hotel | None = None
    households: list[Household] = field(default_factory=list)

    def household(self, i: int) -> Household:
        return self.households[i]


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def register(
    crisis: Crisis, members: list[dict[str, Any]], city: str | None = "Tehran", typed: str = ""
) -> Household:
    """A household registered at a city chosen from the list, or typed (`typed`)."""
    location: dict[str, Any] = {"country": "IR", "city": typed, "address": "Hotel Azadi"}
    if city is not None:
        location["city_id"] = Place.objects.get(kind="city", name=city, country__code="IR").pk
    record = registration_submit(
        crisis=crisis,
        channel="hotline",
        payload={"members": members, "location": location, "consent": True},
    )
    person = record.people.first()
    assert person is not None and person.household is not None, record.rejection_reasons
    return person.household


def situation(crisis: Crisis, *, households: int = 3, bus_seats: int = 8) -> Situation:
    """`households` households of two (the first with a 75-year-old: priority), one bus
    Tehran → Norduz, one bus Norduz → Yerevan that night, a hotel in Yerevan, and a
    flight Yerevan → Almaty the day after."""
    s = Situation(crisis=crisis)
    norduz = Place.objects.get(code="IR-AM-NORDUZ")
    s.legs["bus1"] = leg_create(
        actor=None,
        crisis=crisis,
        data={
            "mode": "bus",
            "origin": str(Place.objects.get(kind="city", name="Tehran").pk),
            "destination": norduz.code,
            "departure_planned": at(2),
            "arrival_planned": at(14),
            "capacity": bus_seats,
        },
    )
    s.legs["bus2"] = leg_create(
        actor=None,
        crisis=crisis,
        data={
            "mode": "bus",
            "origin": norduz.code,
            "destination": "EVN",
            "departure_planned": at(16),
            "arrival_planned": at(23),
            "capacity": 40,
        },
    )
    s.legs["flight"] = leg_create(
        actor=None,
        crisis=crisis,
        data={
            "mode": "charter",
            "origin": "EVN",
            "destination": "ALA",
            "departure_planned": at(50),
            "arrival_planned": at(54),
            "capacity": 150,
            "number": "KC 1998",
        },
    )
    evn = Place.objects.get(kind="airport", iata="EVN")
    s.hotel = hotel_create(
        actor=None,
        crisis=crisis,
        data={
            "name": "Hotel Ararat",
            "country": "AM",
            "latitude": evn.latitude + 0.05 if evn.latitude is not None else 40.18,
            "longitude": evn.longitude if evn.longitude is not None else 44.51,
        },
    )
    block_create(
        actor=None,
        hotel=s.hotel,
        data={
            "room_type": "double",
            "beds": 2,
            "rooms": 10,
            "first_night": (START - timedelta(days=1)).date().isoformat(),
            "last_night": (START + timedelta(days=8)).date().isoformat(),
            "rate": "40",
            "currency": "USD",
            "payer": "state",
        },
    )
    for i in range(households):
        first = {"surname": f"Ахметов{i}", "given_names": "Нұрлан", "birth_date": "1985-01-01"}
        if i == 0:
            first["birth_date"] = "1950-01-01"
        s.households.append(
            register(
                crisis,
                [
                    first,
                    {"surname": f"Ахметова{i}", "given_names": "Айгүл", "birth_date": "1987-02-02"},
                ],
            )
        )
    return s


def people_of(household: Household) -> list[Person]:
    return list(household.members.order_by("pk"))
