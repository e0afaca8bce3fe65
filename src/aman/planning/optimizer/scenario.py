"""The planner's input: a scenario, as plain data, read from and written to JSON.

The JSON format (`aman.scenario/1`) is a public interface documented with its JSON Schema
in docs/planning.md: the database is exported to it (`aman plan export-scenario`) and the
headless planner reads it (`aman plan solve`). `load` checks every field and names the
first wrong one in `ScenarioError`; nothing here imports Django.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

FORMAT = "aman.scenario/1"
LEG_KINDS = ("bus", "flight", "ferry", "train")
PLACE_KINDS = ("city", "assembly_point", "crossing", "airport", "hub")
PERMIT_STATES = ("approved", "pending", "refused")
MODES = ("weights", "strict")


# What is wrong with a scenario's field: a code, its parameters, and the words in English
# (the code is for translation, as the planner's reasons': `aman plan` and the pages say
# them in the officer's language). Every parameter is text.
ERRORS: dict[str, str] = {
    "required": "is required",
    "not_string": "must be a non-empty string",
    "not_choice": "must be one of %(choices)s, not %(value)s",
    "not_whole": "must be a whole number",
    "not_number": "must be a number",
    "out_of_range": "is out of range: %(value)s",
    "not_bool": "must be true or false",
    "moment_type": "must be a date-time like 2026-03-02T08:00:00+03:30",
    "not_moment": "is not a date-time: %(value)s",
    "no_offset": "needs a UTC offset (e.g. +05:00 or Z)",
    "not_day": "is not a date like 2026-03-02: %(value)s",
    "not_clock": "is not a time like 08:00: %(value)s",
    "not_zone": "is not a time zone: %(value)s",
    "not_list": "must be a list",
    "no_steps": "must be a non-empty list of steps",
    "not_object": "must be an object",
    "rooms_map": 'must map nights to rooms: {"2026-03-02": [{"beds": 2, "count": 10}]}',
    "rooms_list": 'must list the rooms: [{"beds": 2, "count": 10}]',
    "rooms_twice": "rooms of %(beds)s beds are listed twice",
    "rooms_beds": "the rooms hold %(held)s beds, the hotel's beds that night are %(beds)s",
    "rooms_missing": "gives no rooms for the night of %(night)s",
    "not_json_object": "a scenario is a JSON object",
    "format": "must be %(format)s",
    "end_before_start": "must be after the start",
    "horizon": "the horizon is at most %(days)s days",
    "no_affected": "must list at least one country code",
    "home_affected": "cannot be one of the affected countries",
    "no_places": "must list at least one place",
    "twice": "%(value)s is listed twice",
    "no_place": "names no place: %(value)s",
    "not_crossing": "%(value)s is not a place of kind crossing",
    "opens_closes": "give both opens and closes, or neither",
    "closed_spans": 'must be a list of {"from", "to"}',
    "to_before_from": "must be after from",
    "entry_affected": "must be outside the affected countries",
    "crossing_missing": "the crossing %(value)s has no crossing entry",
    "arrival_before": "is before the departure",
    "same_place": "is the same place as from",
    "used": "%(value)s is already used",
    "no_departures": "must list at least one time",
    "last_before_first": "is before first_day",
    "by_day_map": "must be an object of days",
    "hotel_affected": "hotels are planned outside the affected countries",
    "beds_map": 'must map nights to beds: {"2026-03-02": 40}',
    "permits_map": "must map crossings to approved/pending/refused",
    "no_crossing": "names no crossing: %(value)s",
    "permit_days_map": "must map crossings to lists of days",
    "no_days": "must list at least one day",
    "connection_map": "must map place kinds to minutes",
    "not_place_kind": "is not a place kind",
    "not_json": "not JSON: %(error)s at line %(line)s",
    "not_between": "must be from %(low)s to %(high)s, not %(value)s",
    "not_at_least": "must be at least %(low)s, not %(value)s",
}


class ScenarioError(ValueError):
    """A scenario that cannot be planned, with the path of the offending field (`where`),
    what is wrong with it (`code` of `ERRORS`, `params`), and that in English (`message`)."""

    def __init__(self, where: str, code: str, **params: Any) -> None:
        self.where = where
        self.code = code
        self.params = {k: str(v) for k, v in params.items()}
        self.message = ERRORS[code] % self.params
        super().__init__(f"{where}: {self.message}")


@dataclass(frozen=True)
class Place:
    id: str
    name: str
    kind: str
    country: str
    timezone: str


@dataclass(frozen=True)
class Crossing:
    """A border crossing: the place is on the affected side; people who pass are in the
    entry country. `opens`/`closes` are local times (None: around the clock)."""

    place: str
    entry_country: str
    daily_capacity: int
    opens: time | None = None
    closes: time | None = None
    minutes: int = 60
    permit_required: bool = False
    closed: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class Leg:
    id: str
    kind: str
    origin: str
    destination: str
    departure: datetime
    arrival: datetime
    seats: int
    cost_per_seat: float = 0.0
    escort: bool = False


@dataclass(frozen=True)
class BusPool:
    """N buses of S seats a day from a city to a crossing (or any place); the trips are not
    fixed: the planner chooses how many buses leave at each of the departure times.
    `buses_by_day` gives fewer buses on some days (from the database: those of the pool's
    buses already made into legs that stay legs)."""

    id: str
    origin: str
    destination: str
    buses_per_day: int
    seats: int
    travel_minutes: int
    departures: tuple[time, ...]
    first_day: date
    last_day: date
    escort: bool = False
    cost_per_seat: float = 0.0
    buses_by_day: dict[date, int] = field(default_factory=dict)

    def buses(self, day: date) -> int:
        """The buses the pool runs on `day` (a day of its origin's clock)."""
        return self.buses_by_day.get(day, self.buses_per_day)


@dataclass(frozen=True)
class Hotel:
    """A hotel's free beds per night; where its free rooms are known too (`rooms`: per
    night, beds per room -> rooms free), a household is charged the rooms it takes, not
    its people (`aman.planning.optimizer.rooms`)."""

    id: str
    place: str
    beds: dict[date, int]
    name: str = ""
    cost_per_night: float = 0.0
    rooms: dict[date, dict[int, int]] | None = None


@dataclass(frozen=True)
class Step:
    """One step of an itinerary as given in a scenario (a lock or a notified itinerary):
    a leg, a bus-pool trip, or a crossing pass. Waits and hotel nights follow from them."""

    kind: str  # "leg" | "pool" | "crossing"
    ref: str  # leg id, pool id or crossing place id
    at: datetime | None = None  # pool departure / crossing pass time


@dataclass(frozen=True)
class Household:
    id: str
    location: str
    size: int
    priority: int = 0
    available_from: datetime | None = None
    needs_escort: bool = False
    permits: dict[str, str] = field(default_factory=dict)
    # Crossing -> the (local) days an approved permit holds on; a crossing not named here:
    # every day.
    permit_days: dict[str, frozenset[date]] = field(default_factory=dict)
    declined: bool = False
    locked: tuple[Step, ...] | None = None
    notified: tuple[Step, ...] | None = None
    label: str = ""
    # Members who need a bed of their own (infants share one); None: every member.
    beds: int | None = None

    @property
    def room_need(self) -> int:
        """The beds the household needs in a hotel whose rooms are known."""
        return self.size if self.beds is None else self.beds


@dataclass(frozen=True)
class Policy:
    mode: str = "weights"
    # A person safe at the horizon's end is worth (1 - time_weight) of one safe at its start.
    time_weight: float = 0.5
    # Getting home after being safe, as a share of being safe.
    home_weight: float = 0.2
    # Per person and hotel night, in the objective's units (one safe person = 1 x weight).
    night_cost: float = 0.002
    # Per unit of money (seat and night costs), in the objective's units.
    money_cost: float = 0.00001
    # Per person who keeps a notified itinerary, in the objective's units (1.0: keeping
    # one person's itinerary is worth as much as bringing one person without priority
    # to safety at the start).
    stability_reward: float = 1.0
    firm_hours: int = 48


@dataclass(frozen=True)
class Price:
    """A dual price of the plan being re-planned (its `prices`): what one more seat, place
    at a crossing, bed or pool-bus seat was worth in its LP. A re-plan uses them to bound
    the value of a plan that keeps every notified itinerary still possible, and keeps that
    plan, without solving the full LP, when the bound shows it is close enough."""

    kind: str  # "leg" | "crossing" | "night" | "pool_trip"
    ref: str  # leg id, crossing or hotel place id, pool id
    price: float
    day: date | None = None  # crossing day, night
    at: datetime | None = None  # pool trip departure


PRICE_KINDS = ("leg", "crossing", "night", "pool_trip")


@dataclass(frozen=True)
class Scenario:
    name: str
    start: datetime
    end: datetime
    timezone: str
    home_country: str
    affected_countries: frozenset[str]
    places: dict[str, Place]
    crossings: dict[str, Crossing]
    legs: dict[str, Leg]
    pools: dict[str, BusPool]
    hotels: dict[str, Hotel]
    households: dict[str, Household]
    connection_minutes: dict[str, int]
    policy: Policy
    prices: tuple[Price, ...] = ()

    def zone(self, place: str | None = None) -> ZoneInfo:
        name = self.places[place].timezone if place else self.timezone
        return ZoneInfo(name or self.timezone)

    def minutes(self, moment: datetime) -> int:
        """Minutes since the horizon's start (the optimizer's clock)."""
        return int((moment - self.start).total_seconds() // 60)

    def moment(self, minutes: int) -> datetime:
        return self.start + timedelta(minutes=minutes)

    @property
    def horizon(self) -> int:
        return self.minutes(self.end)

    def connection(self, place: str) -> int:
        kind = self.places[place].kind
        return self.connection_minutes.get(kind, self.connection_minutes.get("default", 60))

    def affected(self, place: str) -> bool:
        return self.places[place].country in self.affected_countries

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(dump(self), sort_keys=True).encode()).hexdigest()[:16]


# --- reading -------------------------------------------------------------------------------


def _need(data: dict[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None:
        raise ScenarioError(f"{where}.{key}", "required")
    return data[key]


def _str(value: Any, where: str, *, choices: tuple[str, ...] | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(where, "not_string")
    if choices and value not in choices:
        raise ScenarioError(where, "not_choice", choices=", ".join(choices), value=repr(value))
    return value


def _int(value: Any, where: str, *, low: int = 0, high: int | None = None) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ScenarioError(where, "not_whole")
    if value < low or (high is not None and value > high):
        if high is not None:
            raise ScenarioError(where, "not_between", low=low, high=high, value=value)
        raise ScenarioError(where, "not_at_least", low=low, value=value)
    return value


def _float(value: Any, where: str, *, low: float = 0.0, high: float | None = None) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ScenarioError(where, "not_number")
    if value < low or (high is not None and value > high):
        raise ScenarioError(where, "out_of_range", value=value)
    return float(value)


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ScenarioError(where, "not_bool")
    return value


def _moment(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ScenarioError(where, "moment_type")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ScenarioError(where, "not_moment", value=repr(value)) from None
    if moment.tzinfo is None:
        raise ScenarioError(where, "no_offset")
    return moment


def _day(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ScenarioError(where, "not_day", value=repr(value)) from None


def _clock(value: Any, where: str) -> time:
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        raise ScenarioError(where, "not_clock", value=repr(value)) from None


def _zone(value: Any, where: str) -> str:
    name = _str(value, where)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(where, "not_zone", value=repr(name)) from None
    return name


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ScenarioError(f"{where}.{key}", "not_list")
    return value


def _steps(value: Any, where: str) -> tuple[Step, ...]:
    if not isinstance(value, list) or not value:
        raise ScenarioError(where, "no_steps")
    steps = []
    for i, raw in enumerate(value):
        here = f"{where}[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(here, "not_object")
        kind = _str(raw.get("type"), f"{here}.type", choices=("leg", "pool", "crossing"))
        if kind == "leg":
            steps.append(Step("leg", _str(raw.get("leg"), f"{here}.leg")))
        elif kind == "pool":
            ref = _str(raw.get("pool"), f"{here}.pool")
            steps.append(Step("pool", ref, _moment(raw.get("departure"), f"{here}.departure")))
        else:
            ref = _str(raw.get("place"), f"{here}.place")
            steps.append(Step("crossing", ref, _moment(raw.get("at"), f"{here}.at")))
    return tuple(steps)


def _rooms(value: Any, beds: dict[date, int], where: str) -> dict[date, dict[int, int]]:
    """A hotel's free rooms per night, each night holding exactly its beds."""
    if not isinstance(value, dict):
        raise ScenarioError(where, "rooms_map")
    out: dict[date, dict[int, int]] = {}
    for key, rooms in value.items():
        night = _day(key, where)
        here = f"{where}[{key}]"
        if not isinstance(rooms, list):
            raise ScenarioError(here, "rooms_list")
        sizes: dict[int, int] = {}
        for j, raw in enumerate(rooms):
            if not isinstance(raw, dict):
                raise ScenarioError(f"{here}[{j}]", "not_object")
            b = _int(raw.get("beds"), f"{here}[{j}].beds", low=1, high=100)
            if b in sizes:
                raise ScenarioError(f"{here}[{j}].beds", "rooms_twice", beds=b)
            sizes[b] = _int(raw.get("count"), f"{here}[{j}].count", high=100_000)
        held = sum(b * n for b, n in sizes.items())
        if held != beds.get(night, 0):
            raise ScenarioError(
                here,
                "rooms_beds",
                held=held,
                beds=beds.get(night, 0),
            )
        out[night] = sizes
    for night, n in beds.items():
        if n > 0 and night not in out:
            raise ScenarioError(where, "rooms_missing", night=night.isoformat())
    return out


def load(data: Any) -> Scenario:
    """A Scenario from parsed JSON, or ScenarioError naming the first wrong field."""
    if not isinstance(data, dict):
        raise ScenarioError("$", "not_json_object")
    if data.get("format") != FORMAT:
        raise ScenarioError("$.format", "format", format=repr(FORMAT))
    tz = _zone(data.get("timezone", "UTC"), "$.timezone")
    start = _moment(_need(data, "start", "$"), "$.start")
    end = _moment(_need(data, "end", "$"), "$.end")
    if end <= start:
        raise ScenarioError("$.end", "end_before_start")
    if end - start > timedelta(days=60):
        raise ScenarioError("$.end", "horizon", days=60)
    home = _str(_need(data, "home_country", "$"), "$.home_country")
    affected = data.get("affected_countries")
    if not isinstance(affected, list) or not affected:
        raise ScenarioError("$.affected_countries", "no_affected")
    affected_set = frozenset(_str(c, "$.affected_countries[]") for c in affected)
    if home in affected_set:
        raise ScenarioError("$.home_country", "home_affected")

    if not isinstance(data.get("places"), list) or not data["places"]:
        raise ScenarioError("$.places", "no_places")
    places: dict[str, Place] = {}
    for i, raw in enumerate(_list(data, "places", "$")):
        where = f"$.places[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(where, "not_object")
        pid = _str(raw.get("id"), f"{where}.id")
        if pid in places:
            raise ScenarioError(f"{where}.id", "twice", value=repr(pid))
        places[pid] = Place(
            id=pid,
            name=str(raw.get("name") or pid),
            kind=_str(raw.get("kind", "city"), f"{where}.kind", choices=PLACE_KINDS),
            country=_str(raw.get("country"), f"{where}.country"),
            timezone=_zone(raw.get("timezone", tz), f"{where}.timezone"),
        )

    def place_ref(value: Any, where: str) -> str:
        pid = _str(value, where)
        if pid not in places:
            raise ScenarioError(where, "no_place", value=repr(pid))
        return pid

    crossings: dict[str, Crossing] = {}
    for i, raw in enumerate(_list(data, "crossings", "$")):
        where = f"$.crossings[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(where, "not_object")
        pid = place_ref(raw.get("place"), f"{where}.place")
        if pid in crossings:
            raise ScenarioError(f"{where}.place", "twice", value=repr(pid))
        if places[pid].kind != "crossing":
            raise ScenarioError(f"{where}.place", "not_crossing", value=repr(pid))
        opens = raw.get("opens")
        closes = raw.get("closes")
        if (opens is None) != (closes is None):
            raise ScenarioError(f"{where}.opens", "opens_closes")
        closed = []
        spans = raw.get("closed") or []
        if not isinstance(spans, list) or not all(isinstance(x, dict) for x in spans):
            raise ScenarioError(f"{where}.closed", "closed_spans")
        for j, span in enumerate(spans):
            a = _moment(span.get("from"), f"{where}.closed[{j}].from")
            b = _moment(span.get("to"), f"{where}.closed[{j}].to")
            if b <= a:
                raise ScenarioError(f"{where}.closed[{j}].to", "to_before_from")
            closed.append((a, b))
        entry = _str(raw.get("entry_country"), f"{where}.entry_country")
        if entry in affected_set:
            raise ScenarioError(f"{where}.entry_country", "entry_affected")
        crossings[pid] = Crossing(
            place=pid,
            entry_country=entry,
            daily_capacity=_int(raw.get("daily_capacity"), f"{where}.daily_capacity"),
            opens=_clock(opens, f"{where}.opens") if opens is not None else None,
            closes=_clock(closes, f"{where}.closes") if closes is not None else None,
            minutes=_int(raw.get("minutes", 60), f"{where}.minutes", high=24 * 60),
            permit_required=_bool(raw.get("permit_required", False), f"{where}.permit_required"),
            closed=tuple(closed),
        )
    for pid, place in places.items():
        if place.kind == "crossing" and pid not in crossings:
            raise ScenarioError("$.crossings", "crossing_missing", value=repr(pid))

    legs: dict[str, Leg] = {}
    for i, raw in enumerate(_list(data, "legs", "$")):
        where = f"$.legs[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(where, "not_object")
        lid = _str(raw.get("id"), f"{where}.id")
        if lid in legs:
            raise ScenarioError(f"{where}.id", "twice", value=repr(lid))
        dep = _moment(raw.get("departure"), f"{where}.departure")
        arr = _moment(raw.get("arrival"), f"{where}.arrival")
        if arr < dep:
            raise ScenarioError(f"{where}.arrival", "arrival_before")
        origin = place_ref(raw.get("from"), f"{where}.from")
        destination = place_ref(raw.get("to"), f"{where}.to")
        if origin == destination:
            raise ScenarioError(f"{where}.to", "same_place")
        legs[lid] = Leg(
            id=lid,
            kind=_str(raw.get("kind"), f"{where}.kind", choices=LEG_KINDS),
            origin=origin,
            destination=destination,
            departure=dep,
            arrival=arr,
            seats=_int(raw.get("seats"), f"{where}.seats", high=100_000),
            cost_per_seat=_float(raw.get("cost_per_seat", 0), f"{where}.cost_per_seat"),
            escort=_bool(raw.get("escort", False), f"{where}.escort"),
        )

    pools: dict[str, BusPool] = {}
    for i, raw in enumerate(_list(data, "bus_pools", "$")):
        where = f"$.bus_pools[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(where, "not_object")
        pid = _str(raw.get("id"), f"{where}.id")
        if pid in pools or pid in legs:
            raise ScenarioError(f"{where}.id", "used", value=repr(pid))
        deps = raw.get("departures", ["06:00", "10:00", "14:00"])
        if not isinstance(deps, list) or not deps:
            raise ScenarioError(f"{where}.departures", "no_departures")
        first = _day(
            raw.get("first_day", start.astimezone(ZoneInfo(tz)).date().isoformat()),
            f"{where}.first_day",
        )
        last = _day(
            raw.get("last_day", end.astimezone(ZoneInfo(tz)).date().isoformat()),
            f"{where}.last_day",
        )
        if last < first:
            raise ScenarioError(f"{where}.last_day", "last_before_first")
        origin = place_ref(raw.get("from"), f"{where}.from")
        destination = place_ref(raw.get("to"), f"{where}.to")
        if origin == destination:
            raise ScenarioError(f"{where}.to", "same_place")
        buses = _int(raw.get("buses_per_day"), f"{where}.buses_per_day", high=1000)
        by_day = raw.get("buses_by_day", {})
        if not isinstance(by_day, dict):
            raise ScenarioError(f"{where}.buses_by_day", "by_day_map")
        pools[pid] = BusPool(
            id=pid,
            origin=origin,
            destination=destination,
            buses_per_day=buses,
            seats=_int(raw.get("seats"), f"{where}.seats", low=1, high=500),
            travel_minutes=_int(
                raw.get("travel_minutes"), f"{where}.travel_minutes", high=7 * 24 * 60
            ),
            departures=tuple(
                sorted({_clock(d, f"{where}.departures[{j}]") for j, d in enumerate(deps)})
            ),
            first_day=first,
            last_day=last,
            escort=_bool(raw.get("escort", False), f"{where}.escort"),
            cost_per_seat=_float(raw.get("cost_per_seat", 0), f"{where}.cost_per_seat"),
            buses_by_day={
                _day(day, f"{where}.buses_by_day"): _int(
                    n, f"{where}.buses_by_day.{day}", high=buses
                )
                for day, n in by_day.items()
            },
        )

    hotels: dict[str, Hotel] = {}
    for i, raw in enumerate(_list(data, "hotels", "$")):
        where = f"$.hotels[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(where, "not_object")
        hid = _str(raw.get("id"), f"{where}.id")
        if hid in hotels:
            raise ScenarioError(f"{where}.id", "twice", value=repr(hid))
        pid = place_ref(raw.get("place"), f"{where}.place")
        if places[pid].country in affected_set:
            raise ScenarioError(f"{where}.place", "hotel_affected")
        nights = raw.get("beds")
        if not isinstance(nights, dict):
            raise ScenarioError(f"{where}.beds", "beds_map")
        beds = {
            _day(k, f"{where}.beds"): _int(v, f"{where}.beds[{k}]", high=100_000)
            for k, v in nights.items()
        }
        hotels[hid] = Hotel(
            id=hid,
            place=pid,
            beds=beds,
            name=str(raw.get("name") or hid),
            cost_per_night=_float(raw.get("cost_per_night", 0), f"{where}.cost_per_night"),
            rooms=_rooms(raw["rooms"], beds, f"{where}.rooms") if "rooms" in raw else None,
        )

    households: dict[str, Household] = {}
    for i, raw in enumerate(_list(data, "households", "$")):
        where = f"$.households[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(where, "not_object")
        hid = _str(raw.get("id"), f"{where}.id")
        if hid in households:
            raise ScenarioError(f"{where}.id", "twice", value=repr(hid))
        permits = raw.get("permits") or {}
        if not isinstance(permits, dict):
            raise ScenarioError(f"{where}.permits", "permits_map")
        for crossing, state in permits.items():
            if crossing not in crossings:
                raise ScenarioError(f"{where}.permits", "no_crossing", value=repr(crossing))
            _str(state, f"{where}.permits.{crossing}", choices=PERMIT_STATES)
        permit_days = raw.get("permit_days") or {}
        if not isinstance(permit_days, dict):
            raise ScenarioError(f"{where}.permit_days", "permit_days_map")
        for crossing, days in permit_days.items():
            if crossing not in crossings:
                raise ScenarioError(f"{where}.permit_days", "no_crossing", value=repr(crossing))
            if not isinstance(days, list) or not days:
                raise ScenarioError(f"{where}.permit_days.{crossing}", "no_days")
        avail = raw.get("available_from")
        size = _int(raw.get("size"), f"{where}.size", low=1, high=60)
        need = raw.get("beds")
        households[hid] = Household(
            id=hid,
            location=place_ref(raw.get("location"), f"{where}.location"),
            size=size,
            priority=_int(raw.get("priority", 0), f"{where}.priority", high=100),
            available_from=_moment(avail, f"{where}.available_from") if avail else None,
            needs_escort=_bool(raw.get("needs_escort", False), f"{where}.needs_escort"),
            permits=dict(permits),
            permit_days={
                crossing: frozenset(
                    _day(d, f"{where}.permit_days.{crossing}[{j}]") for j, d in enumerate(days)
                )
                for crossing, days in permit_days.items()
            },
            declined=_bool(raw.get("declined", False), f"{where}.declined"),
            locked=_steps(raw["locked"], f"{where}.locked") if raw.get("locked") else None,
            notified=_steps(raw["notified"], f"{where}.notified") if raw.get("notified") else None,
            label=str(raw.get("label") or ""),
            beds=_int(need, f"{where}.beds", low=1, high=size) if need is not None else None,
        )

    raw_policy = data.get("policy") or {}
    if not isinstance(raw_policy, dict):
        raise ScenarioError("$.policy", "not_object")
    policy = Policy(
        mode=_str(raw_policy.get("mode", "weights"), "$.policy.mode", choices=MODES),
        time_weight=_float(raw_policy.get("time_weight", 0.5), "$.policy.time_weight", high=0.95),
        home_weight=_float(raw_policy.get("home_weight", 0.2), "$.policy.home_weight", high=1),
        night_cost=_float(raw_policy.get("night_cost", 0.002), "$.policy.night_cost", high=0.1),
        money_cost=_float(raw_policy.get("money_cost", 0.00001), "$.policy.money_cost", high=0.01),
        stability_reward=_float(
            raw_policy.get("stability_reward", 1.0), "$.policy.stability_reward", high=10
        ),
        firm_hours=_int(raw_policy.get("firm_hours", 48), "$.policy.firm_hours", high=24 * 14),
    )
    connection = data.get("connection_minutes") or {}
    if not isinstance(connection, dict):
        raise ScenarioError("$.connection_minutes", "connection_map")
    prices: list[Price] = []
    for i, raw in enumerate(_list(data, "prices", "$")):
        # Prices may name legs, places or pools no longer in the scenario (a cancelled
        # leg): they are kept and simply match nothing.
        where = f"$.prices[{i}]"
        if not isinstance(raw, dict):
            raise ScenarioError(where, "not_object")
        kind = _str(raw.get("kind"), f"{where}.kind", choices=PRICE_KINDS)
        prices.append(
            Price(
                kind=kind,
                ref=_str(raw.get("ref"), f"{where}.ref"),
                price=_float(raw.get("price"), f"{where}.price", high=1e6),
                day=_day(raw.get("day"), f"{where}.day") if kind in ("crossing", "night") else None,
                at=_moment(raw.get("at"), f"{where}.at") if kind == "pool_trip" else None,
            )
        )

    conn = {"default": 60, "airport": 120, "crossing": 0}
    for key, value in connection.items():
        if key != "default" and key not in PLACE_KINDS:
            raise ScenarioError(f"$.connection_minutes.{key}", "not_place_kind")
        conn[key] = _int(value, f"$.connection_minutes.{key}", high=24 * 60)
    return Scenario(
        name=str(data.get("name") or "scenario"),
        start=start,
        end=end,
        timezone=tz,
        home_country=home,
        affected_countries=affected_set,
        places=places,
        crossings=crossings,
        legs=legs,
        pools=pools,
        hotels=hotels,
        households=households,
        connection_minutes=conn,
        policy=policy,
        prices=tuple(prices),
    )


def loads(text: str | bytes) -> Scenario:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError("$", "not_json", error=exc.msg, line=exc.lineno) from None
    return load(data)


# --- writing -------------------------------------------------------------------------------


def _hhmm(value: time) -> str:
    return value.strftime("%H:%M") if not value.second else value.strftime("%H:%M:%S")


def dump_steps(steps: tuple[Step, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for step in steps:
        if step.kind == "leg":
            out.append({"type": "leg", "leg": step.ref})
        elif step.kind == "pool":
            assert step.at is not None
            out.append({"type": "pool", "pool": step.ref, "departure": step.at.isoformat()})
        else:
            assert step.at is not None
            out.append({"type": "crossing", "place": step.ref, "at": step.at.isoformat()})
    return out


def dump(s: Scenario) -> dict[str, Any]:
    """The scenario as JSON-ready data (`load(dump(s)) == s`)."""
    p = s.policy
    return {
        "format": FORMAT,
        "name": s.name,
        "start": s.start.isoformat(),
        "end": s.end.isoformat(),
        "timezone": s.timezone,
        "home_country": s.home_country,
        "affected_countries": sorted(s.affected_countries),
        "policy": {
            "mode": p.mode,
            "time_weight": p.time_weight,
            "home_weight": p.home_weight,
            "night_cost": p.night_cost,
            "money_cost": p.money_cost,
            "stability_reward": p.stability_reward,
            "firm_hours": p.firm_hours,
        },
        "connection_minutes": dict(s.connection_minutes),
        "places": [
            {
                "id": x.id,
                "name": x.name,
                "kind": x.kind,
                "country": x.country,
                "timezone": x.timezone,
            }
            for x in s.places.values()
        ],
        "crossings": [
            {
                "place": c.place,
                "entry_country": c.entry_country,
                "daily_capacity": c.daily_capacity,
                **(
                    {"opens": _hhmm(c.opens), "closes": _hhmm(c.closes)}
                    if c.opens and c.closes
                    else {}
                ),
                "minutes": c.minutes,
                "permit_required": c.permit_required,
                "closed": [{"from": a.isoformat(), "to": b.isoformat()} for a, b in c.closed],
            }
            for c in s.crossings.values()
        ],
        "legs": [
            {
                "id": x.id,
                "kind": x.kind,
                "from": x.origin,
                "to": x.destination,
                "departure": x.departure.isoformat(),
                "arrival": x.arrival.isoformat(),
                "seats": x.seats,
                "cost_per_seat": x.cost_per_seat,
                "escort": x.escort,
            }
            for x in s.legs.values()
        ],
        "bus_pools": [
            {
                "id": x.id,
                "from": x.origin,
                "to": x.destination,
                "buses_per_day": x.buses_per_day,
                "seats": x.seats,
                "travel_minutes": x.travel_minutes,
                "departures": [_hhmm(d) for d in x.departures],
                "first_day": x.first_day.isoformat(),
                "last_day": x.last_day.isoformat(),
                "escort": x.escort,
                "cost_per_seat": x.cost_per_seat,
                **(
                    {"buses_by_day": {d.isoformat(): n for d, n in sorted(x.buses_by_day.items())}}
                    if x.buses_by_day
                    else {}
                ),
            }
            for x in s.pools.values()
        ],
        "hotels": [
            {
                "id": x.id,
                "name": x.name,
                "place": x.place,
                "cost_per_night": x.cost_per_night,
                "beds": {d.isoformat(): n for d, n in sorted(x.beds.items())},
                **({"rooms": _dump_rooms(x.rooms)} if x.rooms is not None else {}),
            }
            for x in s.hotels.values()
        ],
        "households": [_dump_household(h) for h in s.households.values()],
        **({"prices": [dump_price(x) for x in s.prices]} if s.prices else {}),
    }


def dump_price(x: Price) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": x.kind, "ref": x.ref}
    if x.day is not None:
        out["day"] = x.day.isoformat()
    if x.at is not None:
        out["at"] = x.at.isoformat()
    out["price"] = x.price
    return out


def _dump_rooms(rooms: dict[date, dict[int, int]]) -> dict[str, list[dict[str, int]]]:
    return {
        d.isoformat(): [{"beds": b, "count": n} for b, n in sorted(sizes.items())]
        for d, sizes in sorted(rooms.items())
    }


def _dump_household(h: Household) -> dict[str, Any]:
    out: dict[str, Any] = {"id": h.id, "location": h.location, "size": h.size}
    if h.beds is not None:
        out["beds"] = h.beds
    if h.label:
        out["label"] = h.label
    out["priority"] = h.priority
    if h.available_from:
        out["available_from"] = h.available_from.isoformat()
    if h.needs_escort:
        out["needs_escort"] = True
    if h.permits:
        out["permits"] = dict(h.permits)
    if h.permit_days:
        out["permit_days"] = {
            c: [d.isoformat() for d in sorted(days)] for c, days in h.permit_days.items()
        }
    if h.declined:
        out["declined"] = True
    if h.locked:
        out["locked"] = dump_steps(h.locked)
    if h.notified:
        out["notified"] = dump_steps(h.notified)
    return out


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()
