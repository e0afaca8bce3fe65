"""Seeded synthetic scenarios for tests and benchmarks: people stranded in Iran's cities
leave by bus to four land crossings, continue by bus to hubs in the neighbouring
countries, sleep in hub hotels and fly home to Kazakhstan; capacities are set so that
buses, crossings and beds bind. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aman.planning.optimizer.scenario import FORMAT

TEHRAN = ZoneInfo("Asia/Tehran")

CITIES = [  # id, name, weight of the population, hours by bus to each crossing
    ("THR", "Tehran", 30, {"AST": 9, "NOR": 14, "SAR": 14, "BAZ": 12}),
    ("MHD", "Mashhad", 12, {"AST": 18, "NOR": 22, "SAR": 3, "BAZ": 24}),
    ("IFN", "Isfahan", 12, {"AST": 13, "NOR": 16, "SAR": 15, "BAZ": 15}),
    ("SYZ", "Shiraz", 10, {"AST": 17, "NOR": 18, "SAR": 17, "BAZ": 19}),
    ("TBZ", "Tabriz", 10, {"AST": 6, "NOR": 5, "SAR": 20, "BAZ": 4}),
    ("KIH", "Kish", 6, {"AST": 22, "NOR": 24, "SAR": 22, "BAZ": 24}),
    ("QOM", "Qom", 6, {"AST": 10, "NOR": 15, "SAR": 15, "BAZ": 13}),
    ("RAS", "Rasht", 6, {"AST": 3, "NOR": 10, "SAR": 16, "BAZ": 10}),
    ("AWZ", "Ahvaz", 4, {"AST": 16, "NOR": 18, "SAR": 20, "BAZ": 17}),
    ("KER", "Kerman", 4, {"AST": 18, "NOR": 21, "SAR": 14, "BAZ": 20}),
]
CROSSINGS = [  # id, name, entry country, tz, opens, closes, people/day share, permit, hub, hours
    ("AST", "Astara", "AZ", "Asia/Baku", "08:00", "20:00", 0.35, False, "GYD", 5),
    ("NOR", "Nordooz", "AM", "Asia/Yerevan", "09:00", "18:00", 0.15, False, "EVN", 8),
    ("SAR", "Sarakhs", "TM", "Asia/Ashgabat", None, None, 0.25, True, "ASB", 4),
    ("BAZ", "Bazargan", "TR", "Europe/Istanbul", "07:00", "22:00", 0.25, False, "VAN", 5),
]
HUBS = [  # airport id, name, country, tz, flight hours home
    ("GYD", "Baku", "AZ", "Asia/Baku", 3),
    ("EVN", "Yerevan", "AM", "Asia/Yerevan", 4),
    ("ASB", "Ashgabat", "TM", "Asia/Ashgabat", 2),
    ("VAN", "Van", "TR", "Europe/Istanbul", 5),
]
HOME = [("ALA", "Almaty"), ("NQZ", "Astana"), ("CIT", "Shymkent")]
SIZES = [(1, 30), (2, 25), (3, 20), (4, 15), (5, 7), (6, 3)]
PRIORITIES = [(0, 40), (1, 15), (2, 20), (3, 10), (4, 8), (6, 5), (9, 2)]
# Hotels' rooms (`rooms=True`): shares of the beds in rooms of 1, 2, 3 and 4 beds.
ROOM_MIXES = [
    {2: 1.0},
    {1: 0.3, 2: 0.7},
    {2: 0.6, 4: 0.4},
    {1: 0.1, 2: 0.5, 3: 0.2, 4: 0.2},
]


def generate(
    people: int,
    *,
    seed: int = 1,
    days: int = 7,
    flights: int | None = None,
    bus_trips: int | None = None,
    mode: str = "weights",
    pressure: float = 1.25,
    closures: int = 0,
    rooms: bool = False,
) -> dict[str, Any]:
    """A scenario (JSON-ready) of about `people` people. `pressure` is people per seat
    across the borders: above 1, not everyone can leave within the horizon. `closures`
    closes that many crossings for a span each (drawn apart: the rest of the scenario is
    the same whatever their number). `rooms` gives the hotels their free rooms (a mix of
    sizes, some taken on some nights: each night's beds are its rooms') and some families
    an infant without a bed of its own (drawn apart too)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    start = datetime(2026, 3, 2, tzinfo=TEHRAN)
    end = start + timedelta(days=days)
    flights = flights if flights is not None else max(4, people // 100)
    bus_trips = bus_trips if bus_trips is not None else max(8, (people * 3) // 100)
    border_seats = people / pressure

    places: list[dict[str, Any]] = []
    for cid, name, *_ in CITIES:
        places.append(
            {"id": cid, "name": name, "kind": "city", "country": "IR", "timezone": "Asia/Tehran"}
        )
    crossings = []
    for xid, name, entry, _tz, opens, closes, share, permit, _hub, _h in CROSSINGS:
        places.append(
            {
                "id": xid,
                "name": name,
                "kind": "crossing",
                "country": "IR",
                "timezone": "Asia/Tehran",
            }
        )
        item: dict[str, Any] = {
            "place": xid,
            "entry_country": entry,
            "daily_capacity": max(20, int(border_seats * share / days * 1.1)),
            "minutes": 60,
            "permit_required": permit,
        }
        if opens:
            item["opens"], item["closes"] = opens, closes
        crossings.append(item)
    for hid, name, country, tz, _h in HUBS:
        places.append(
            {"id": hid, "name": name, "kind": "airport", "country": country, "timezone": tz}
        )
    for hid, name in HOME:
        places.append(
            {"id": hid, "name": name, "kind": "airport", "country": "KZ", "timezone": "Asia/Almaty"}
        )

    def at(hours: float) -> str:
        return (start + timedelta(minutes=round(hours * 60))).isoformat()

    legs: list[dict[str, Any]] = []
    weights = [c[2] for c in CITIES]
    n_in = int(bus_trips * 0.6)
    n_out = bus_trips - n_in
    for i in range(n_in):
        city = rng.choices(CITIES, weights=weights)[0]
        cross = rng.choices(CROSSINGS, weights=[c[6] for c in CROSSINGS])[0]
        dep = rng.uniform(2, days * 24 - 12)
        dep = round(dep * 2) / 2  # on the half hour
        legs.append(
            {
                "id": f"B{i}",
                "kind": "bus",
                "from": city[0],
                "to": cross[0],
                "departure": at(dep),
                "arrival": at(dep + city[3][cross[0]]),
                "seats": rng.choice([45, 49, 50, 53]),
                "cost_per_seat": 20,
                "escort": rng.random() < 0.2,
            }
        )
    for i in range(n_out):
        cross = rng.choices(CROSSINGS, weights=[c[6] for c in CROSSINGS])[0]
        dep = round(rng.uniform(8, days * 24 - 4) * 2) / 2
        legs.append(
            {
                "id": f"T{i}",
                "kind": "bus",
                "from": cross[0],
                "to": cross[8],
                "departure": at(dep),
                "arrival": at(dep + cross[9]),
                "seats": rng.choice([45, 50, 53]),
                "cost_per_seat": 15,
                "escort": rng.random() < 0.3,
            }
        )
    for i in range(flights):
        hub = rng.choices(HUBS, weights=[4, 2, 3, 3])[0]
        dest = rng.choice(HOME)
        dep = round(rng.uniform(12, days * 24 - 2) * 4) / 4
        legs.append(
            {
                "id": f"F{i}",
                "kind": "flight",
                "from": hub[0],
                "to": dest[0],
                "departure": at(dep),
                "arrival": at(dep + hub[4]),
                "seats": rng.choice([150, 174, 180, 186, 220]),
                "cost_per_seat": 250,
                "escort": rng.random() < 0.5,
            }
        )
    pools = []
    hours_to = {c[0]: c[3] for c in CITIES}
    for city_id, cross_id in (("THR", "AST"), ("TBZ", "BAZ"), ("MHD", "SAR")):
        hours = hours_to[city_id][cross_id]
        pools.append(
            {
                "id": f"P-{city_id}-{cross_id}",
                "from": city_id,
                "to": cross_id,
                "buses_per_day": max(1, people // 5000),
                "seats": 45,
                "travel_minutes": hours * 60,
                "departures": ["06:00", "12:00", "18:00"],
            }
        )
    hotels = []
    for hid, _name, _country, tz, _h in HUBS:
        zone = ZoneInfo(tz)
        first = start.astimezone(zone).date() - timedelta(days=1)
        for k in range(3):
            beds = max(10, int(people * 0.02 * rng.uniform(0.5, 1.5)))
            hotels.append(
                {
                    "id": f"{hid}-H{k}",
                    "name": f"Hotel {k + 1} {hid}",
                    "place": hid,
                    "cost_per_night": rng.choice([35, 50, 80]),
                    "beds": {
                        (first + timedelta(days=d)).isoformat(): beds for d in range(days + 2)
                    },
                }
            )
    households = []
    n = 0
    i = 0
    while n < people:
        size = rng.choices([s for s, _ in SIZES], weights=[w for _, w in SIZES])[0]
        size = min(size, people - n)
        city = rng.choices(CITIES, weights=weights)[0]
        household: dict[str, Any] = {
            "id": f"H{i}",
            "location": city[0],
            "size": size,
            "priority": rng.choices([p for p, _ in PRIORITIES], weights=[w for _, w in PRIORITIES])[
                0
            ],
        }
        if rng.random() < 0.3:
            household["available_from"] = at(rng.uniform(0, 72))
        if rng.random() < 0.01:
            household["needs_escort"] = True
        state = rng.choices(["approved", "pending", "refused"], weights=[6, 3, 1])[0]
        household["permits"] = {"SAR": state}
        if rng.random() < 0.02:
            household["declined"] = True
        households.append(household)
        n += size
        i += 1
    closing = random.Random(seed + 7919)  # noqa: S311 - synthetic data, not secrets
    for item in closing.sample(crossings, min(closures, len(crossings))):
        begin = closing.uniform(0, days * 24 - 1)
        item["closed"] = [{"from": at(begin), "to": at(closing.uniform(begin + 1, days * 24))}]
    if rooms:
        _add_rooms(hotels, households, random.Random(seed + 104729))  # noqa: S311
    return {
        "format": FORMAT,
        "name": f"synthetic {people} people, seed {seed}",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone": "Asia/Tehran",
        "home_country": "KZ",
        "affected_countries": ["IR"],
        "policy": {"mode": mode},
        "connection_minutes": {"default": 60, "airport": 120, "crossing": 0},
        "places": places,
        "crossings": crossings,
        "legs": legs,
        "bus_pools": pools,
        "hotels": hotels,
        "households": households,
    }


def _add_rooms(
    hotels: list[dict[str, Any]], households: list[dict[str, Any]], rng: random.Random
) -> None:
    for hotel in hotels:
        mix = rng.choice(ROOM_MIXES)
        beds = max(hotel["beds"].values())
        counts = {b: max(1, round(beds * share / b)) for b, share in mix.items()}
        hotel["rooms"] = {}
        for night in hotel["beds"]:
            free = {b: max(0, n - rng.choice([0, 0, 0, 1, 2])) for b, n in counts.items()}
            hotel["rooms"][night] = [{"beds": b, "count": n} for b, n in sorted(free.items())]
            hotel["beds"][night] = sum(b * n for b, n in free.items())
    for h in households:
        if h["size"] >= 3 and rng.random() < 0.2:
            h["beds"] = h["size"] - 1  # an infant shares a bed
