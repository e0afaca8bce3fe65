"""Small hand-made scenarios: a city in Iran, a crossing to Azerbaijan, Baku, Almaty."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

START = datetime(2026, 3, 2, tzinfo=ZoneInfo("Asia/Tehran"))


def at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def base(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": "aman.scenario/1",
        "name": "test",
        "start": START.isoformat(),
        "end": at(72),
        "timezone": "Asia/Tehran",
        "home_country": "KZ",
        "affected_countries": ["IR"],
        "policy": {"mode": "weights"},
        "connection_minutes": {"default": 60, "airport": 120, "crossing": 0},
        "places": [
            {"id": "THR", "kind": "city", "country": "IR", "timezone": "Asia/Tehran"},
            {"id": "AST", "kind": "crossing", "country": "IR", "timezone": "Asia/Tehran"},
            {"id": "GYD", "kind": "airport", "country": "AZ", "timezone": "Asia/Baku"},
            {"id": "ALA", "kind": "airport", "country": "KZ", "timezone": "Asia/Almaty"},
        ],
        "crossings": [
            {"place": "AST", "entry_country": "AZ", "daily_capacity": 1000, "minutes": 60}
        ],
        "legs": [
            bus("B1", "THR", "AST", 2, 9, 50),
            bus("T1", "AST", "GYD", 12, 17, 50),
            flight("F1", 21, 100),
        ],
        "bus_pools": [],
        "hotels": [],
        "households": [],
    }
    data.update(copy.deepcopy(changes))
    return data


def bus(
    lid: str, a: str, b: str, dep: float, arr: float, seats: int, **more: Any
) -> dict[str, Any]:
    return {
        "id": lid,
        "kind": "bus",
        "from": a,
        "to": b,
        "departure": at(dep),
        "arrival": at(arr),
        "seats": seats,
        **more,
    }


def flight(lid: str, dep: float, seats: int, **more: Any) -> dict[str, Any]:
    return {
        "id": lid,
        "kind": "flight",
        "from": "GYD",
        "to": "ALA",
        "departure": at(dep),
        "arrival": at(dep + 3),
        "seats": seats,
        **more,
    }


def household(hid: str, size: int, priority: int = 0, **more: Any) -> dict[str, Any]:
    return {"id": hid, "location": "THR", "size": size, "priority": priority, **more}
