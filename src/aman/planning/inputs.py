"""The database's current situation as a planner scenario (`aman.scenario/1`).

What is exported, and how (docs/planning.md, "From the database"):

- places: every place a leg starts or ends at, where a household is, and where a hotel is.
  Places of one country within `HUB_KM` of each other (a city, its airport, its assembly
  points, its hotels) are one place of the scenario — a hub — so that a bus arriving in
  Baku connects to a flight from Baku's airport and to Baku's hotels; border crossings
  stay apart. A household whose city is not known is at its country (no route from there);
- crossings of the affected countries that a leg reaches, with their hours, people per day
  (unset: unlimited, with a warning), closures from their status history, and whether the
  entry state wants transit permits;
- legs still to go (planned, confirmed, boarding) departing within the horizon, with the
  seats free for the planner: capacity − partner allocations − seats held by bookings,
  except the bookings of a published plan for the households being planned (those seats
  are theirs to keep or to give up);
- bus pools of the crisis;
- hotels with their free beds per night (rooms of their blocks that night — a block's
  number of rooms may change from a night on — not held by stays, × beds per room), plus
  the rooms held by a published plan's planned stays of the households being planned; and
  those free rooms per night by beds per room (`rooms`: publishing gives each household
  rooms of its own, so the planner charges rooms, not beds);
- households with someone to move: size (members who travel), the beds they need when
  infants among them share one (`beds`: members at least `INFANT_AGE` the day after the
  horizon, or of unknown age), priority, a medical escort
  (any member with a medical need), transit permits per crossing (refused when any
  member's latest answer is refused, approved when every member's is, pending else),
  declined (nobody wants to leave), their place (the contact's city, or where the last
  leg they boarded went), the itinerary they were told by the published plan (`notified`)
  being planned;
- households with someone to move: size (members who travel), priority, a medical escort
  (any member with a medical need), transit permits per crossing (approved, with the
  days of the horizon on which every member is approved on that day's list; else refused
  when any member's latest answer is refused, pending else), declined (nobody wants to
  leave), their place (the contact's city, or where the last leg they boarded went), their
  earliest availability (the later of the household's own and the last boarded leg's
  arrival), the itinerary they were told by the published plan (`notified`)
  and an officer's lock (`locked`); seats an officer booked by hand lock the household to
  those legs. A leg still to go that the household missed (its seats released, a no-show,
  offloaded; nobody of it holding a seat there) is not told any more (`_missed`): the
  household is displaced and planned afresh; after a no-show or an offload not before
  that leg has left.

Ids name the database rows: `p<pk>` places, `leg<pk>`, `pool<pk>`, `hotel<pk>`, `hh<pk>`.
Nobody's name leaves the database: a household is labelled by its contact's reference code.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aman.core.models import Crisis
from aman.geo.models import Place, PlaceStatus, PlaceStatusEvent
from aman.planning import pool_legs as trips
from aman.planning.optimizer import scenario as sc
from aman.planning.optimizer.plan import steps_of
from aman.registry.models import Household, Intent, Person, PriorityPolicy
from aman.registry.statuses import Status
from aman.shelter.models import (
    HOLDS_ROOM,
    INFANT_AGE,
    Hotel,
    RoomBlock,
    Stay,
    StayNight,
    StayStatus,
)
from aman.transport.models import (
    FLIGHTS,
    HOLDS_SEAT,
    Booking,
    BookingStatus,
    Leg,
    LegStatus,
    Mode,
    PermitEntry,
)

HUB_KM = 50.0
UNLIMITED = 100_000
NOT_PLANNED = frozenset({Status.WITHDRAWN, Status.ARRIVED_HOME})
NOT_LEAVING = frozenset({Status.STAYING, Status.DECLINED})
# Out of the affected countries, or housed somewhere (a stay checked in says where).
OUT = frozenset({Status.CROSSED_BORDER, Status.ACCOMMODATED})
KINDS: dict[str, str] = {
    Place.Kind.CITY: "city",
    Place.Kind.AIRPORT: "airport",
    Place.Kind.CROSSING: "crossing",
    Place.Kind.ASSEMBLY_POINT: "assembly_point",
    Place.Kind.HOTEL: "city",
}


def leg_kind(mode: str) -> str:
    if mode in FLIGHTS:
        return "flight"
    kinds: dict[str, str] = {Mode.BUS: "bus", Mode.FERRY: "ferry", Mode.TRAIN: "train"}
    return kinds.get(mode, "bus")


def pk_of(ref: str, prefix: str) -> int | None:
    """The database id in a scenario id (`leg12` → 12), or None."""
    if ref.startswith(prefix) and ref[len(prefix) :].isdigit():
        return int(ref[len(prefix) :])
    return None


WARNINGS = {
    "crossing_no_entry": _("Crossing %(crossing)s has no entry country: left out."),
    "crossing_unlimited": _(
        "Crossing %(crossing)s has no number of people per day: taken as unlimited."
    ),
    "leg_crossing_elsewhere": _(
        "Leg %(leg)s reaches a crossing that does not lead out of the affected countries: left out."
    ),
    "leg_within_hub": _("Leg %(leg)s starts and ends at one hub: left out."),
    "leg_no_arrival": _("Leg %(leg)s has no planned arrival: left out."),
    "leg_airport_closed": _(
        "Leg %(leg)s departs from or lands at %(airport)s while it is closed: left out."
    ),
    "household_too_big": _(
        "Household %(household)s has %(n)s people, more than 60 travel together: left out."
    ),
    "nothing": _("Nothing to plan: no legs and no households."),
    "household_safe": _(
        "Household %(household)s is out of the affected countries (its status says so), but "
        "no leg it boarded, no hotel it checked in to and no city abroad says where: left "
        "out (give it its city abroad to have it planned home)."
    ),
    "household_by_hand": _(
        "Household %(household)s has seats booked by hand that do not reach safety: left "
        "to the officer (release them to have it planned)."
    ),
}


# The planner's own warnings on a plan (its `warnings`: a code and parameters).
PLAN_WARNINGS = {
    "lock_dropped": _(
        "Household %(household)s: its locked itinerary is no longer possible; it was planned "
        "freely."
    ),
    "lp_failed": _(
        "The linear programme ended %(status)s: the plan is the priority-greedy's, without a bound."
    ),
    "price_unknown": _("What keeping the promises costs could not be computed: %(error)s"),
    "limits_failed": _("The per-day limits could not be computed: %(error)s"),
}


def plan_warning_text(warning: dict[str, Any] | str) -> str:
    """One of the planner's warnings on a plan in words, in the active language (a plan
    of before the codes has English text)."""
    if isinstance(warning, str):
        return warning
    template = PLAN_WARNINGS.get(warning.get("code", ""))
    if template is None:
        return str(warning.get("text") or warning)
    params = {k: v for k, v in warning.items() if k not in ("code", "text")}
    household = params.get("household")
    if isinstance(household, str) and household.startswith("hh"):
        params["household"] = f"H{household[2:]}"
    try:
        return str(template) % params
    except (KeyError, TypeError, ValueError):
        return str(warning.get("text") or warning)


def warning_text(warning: dict[str, Any] | str) -> str:
    """A remark on the inputs in words, in the active language."""
    if isinstance(warning, str):
        return warning
    template = WARNINGS.get(warning.get("code", ""))
    if template is None:
        return str(warning)
    return str(template) % {k: v for k, v in warning.items() if k != "code"}


@dataclass
class Export:
    data: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # Scenario place id -> the database places it stands for.
    hubs: dict[str, list[int]] = field(default_factory=dict)


def distance_km(a: Place, b: Place) -> float:
    if a.latitude is None or a.longitude is None or b.latitude is None or b.longitude is None:
        return math.inf
    lat1, lon1 = math.radians(a.latitude), math.radians(a.longitude)
    lat2, lon2 = math.radians(b.latitude), math.radians(b.longitude)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(h)))


def _hubs(places: dict[int, Place], links: list[tuple[int, int]]) -> dict[int, int]:
    """Each place's hub: the representative of its group (crossings are alone)."""
    parent = {pk: pk for pk in places}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    grouped = [p for p in places.values() if p.kind != Place.Kind.CROSSING]
    by_country: dict[int, list[Place]] = defaultdict(list)
    for p in grouped:
        by_country[p.country_id].append(p)
    for group in by_country.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if distance_km(a, b) <= HUB_KM:
                    union(a.pk, b.pk)
    for x, y in links:
        if x in places and y in places:
            union(x, y)
    members: dict[int, list[Place]] = defaultdict(list)
    for pk in places:
        members[find(pk)].append(places[pk])
    out: dict[int, int] = {}
    rank: dict[str, int] = {Place.Kind.CITY: 0, Place.Kind.AIRPORT: 1, Place.Kind.ASSEMBLY_POINT: 2}
    for group in members.values():
        head = min(group, key=lambda p: (rank.get(p.kind, 3), p.pk))
        for p in group:
            out[p.pk] = head.pk
    return out


def _cities_from_addresses(rows: list[dict[str, Any]]) -> None:
    """People whose city was typed, not chosen: the first part of their address (before a
    comma) names a city of their country in any of its names ("Tehran", "Тегеран") — the
    most populous such city is taken as theirs (in `city_id`)."""
    wanted = [r for r in rows if not r["city_id"] and r["country_id"] and r["address"]]
    if not wanted:
        return
    countries = {r["country_id"] for r in wanted}
    names: dict[tuple[int, str], tuple[int, int]] = {}
    for city in Place.objects.filter(kind=Place.Kind.CITY, country_id__in=countries).values(
        "pk", "country_id", "name", "name_ru", "name_kk", "alt_names", "population"
    ):
        spellings = {city["name"], city["name_ru"], city["name_kk"]}
        spellings |= set((city["alt_names"] or "").replace(",", "|").split("|"))
        for spelling in spellings:
            key = (city["country_id"], spelling.strip().casefold())
            if key[1] and (key not in names or names[key][1] < (city["population"] or 0)):
                names[key] = (city["pk"], city["population"] or 0)
    for r in wanted:
        typed = str(r["address"]).split(",")[0].strip().casefold()
        found = names.get((r["country_id"], typed))
        if found is not None:
            r["city_id"] = found[0]


def _closures(
    place: Place, events: list[PlaceStatusEvent], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """Spans within [start, end) when the crossing is closed, from its status history."""
    spans: list[tuple[datetime, datetime]] = []
    closed_since: datetime | None = None
    state: str = PlaceStatus.OPEN
    for event in events:
        if event.effective_at <= start:
            state = event.status
            continue
        if event.status == PlaceStatus.CLOSED and state != PlaceStatus.CLOSED:
            closed_since = event.effective_at
        elif event.status != PlaceStatus.CLOSED and state == PlaceStatus.CLOSED:
            spans.append((closed_since or start, event.effective_at))
            closed_since = None
        state = event.status
    if not events and place.status == PlaceStatus.CLOSED:
        state = PlaceStatus.CLOSED
    if state == PlaceStatus.CLOSED:
        spans.append((closed_since or start, end))
    return [(max(a, start), min(b, end)) for a, b in spans if b > start and a < end]


def _zone_name(place: Place) -> str:
    return place.timezone or settings.TIME_ZONE


def _infant(birth: date | None, day: date) -> bool:
    """Younger than `INFANT_AGE` on `day` (as `Person.age_on` counts); unknown: not."""
    if birth is None:
        return False
    age = day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
    return age < INFANT_AGE


# A booking that gave its seat up: the household missed that leg (`_missed`).
MISSED = (BookingStatus.RELEASED, BookingStatus.NO_SHOW, BookingStatus.OFFLOADED)
# Of those, the ones that say the household was not at the leg when it left.
NOT_THERE = (BookingStatus.NO_SHOW, BookingStatus.OFFLOADED)


def _missed(
    crisis: Crisis, start: datetime, person_household: dict[int, int], leaving: set[int]
) -> tuple[dict[int, set[int]], dict[int, set[str]], dict[int, datetime]]:
    """The legs still to go (planned, confirmed, boarding, departing from `start` on) that
    households being planned missed: a travelling member's booking on it released, a
    no-show or offloaded, and no travelling member of the household holding a seat on it.
    Per household: those legs, the pool trips among them (by `pool_legs.pool_ref`), and —
    when one was a no-show or offloaded — the moment just after the last such leg leaves
    (the household was not there: nothing leaving before that is planned for it)."""
    rows = list(
        Booking.objects.filter(
            crisis=crisis,
            status__in=MISSED,
            leg__status__in=(LegStatus.PLANNED, LegStatus.CONFIRMED, LegStatus.BOARDING),
            leg__departure_planned__gte=start,
        ).values(
            "leg_id",
            "person_id",
            "status",
            "leg__source",
            "leg__source_ref",
            "leg__departure_planned",
        )
    )
    holding: set[tuple[int, int]] = set()
    for leg_pk, person_pk in Booking.objects.filter(
        leg_id__in={r["leg_id"] for r in rows}, status__in=HOLDS_SEAT
    ).values_list("leg_id", "person_id"):
        if person_pk in leaving and person_pk in person_household:
            holding.add((person_household[person_pk], leg_pk))
    legs: dict[int, set[int]] = defaultdict(set)
    pool_trips: dict[int, set[str]] = defaultdict(set)
    not_before: dict[int, datetime] = {}
    for r in rows:
        hid = person_household.get(r["person_id"])
        if hid is None or r["person_id"] not in leaving or (hid, r["leg_id"]) in holding:
            continue
        legs[hid].add(r["leg_id"])
        ref = r["leg__source_ref"]
        if r["leg__source"] == Leg.Source.PLAN and re.match(trips.POOL_LEG, ref):
            pool_trips[hid].add(ref)
        if r["status"] in NOT_THERE:
            after = r["leg__departure_planned"] + timedelta(minutes=1)
            not_before[hid] = max(after, not_before.get(hid, after))
    return legs, pool_trips, not_before


def export(
    crisis: Crisis,
    *,
    start: datetime | None = None,
    days: int = 7,
    published: Any = None,
) -> Export:
    """The scenario of the crisis from `start` (now) for `days` days. `published` is the
    crisis's published plan (its itineraries are what households were told)."""
    start = (start or timezone.now()).replace(second=0, microsecond=0)
    end = start + timedelta(days=days)
    warnings: list[dict[str, Any]] = []
    affected = set(crisis.affected_countries.values_list("code", flat=True))
    home = crisis.home_country.code

    # Households and their travelling members.
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    person_rows = (
        Person.objects.filter(crisis=crisis, household__isnull=False)
        .exclude(status__in=NOT_PLANNED)
        .values(
            "pk",
            "household_id",
            "status",
            "intent",
            "medical_need",
            "city_id",
            "country_id",
            "country__code",
            "address",
            "reference_code",
            "birth_date",
        )
        .order_by("household_id", "pk")
    )
    for row in person_rows:
        members[row["household_id"]].append(dict(row))
    _cities_from_addresses([r for rows in members.values() for r in rows])
    households = {
        h["pk"]: h
        for h in Household.objects.filter(crisis=crisis, pk__in=list(members)).values(
            "pk", "priority", "contact_id", "available_from"
        )
    }
    person_household = {p["pk"]: hid for hid, rows in members.items() for p in rows}
    leaving_ids = {
        p["pk"]
        for rows in members.values()
        for p in rows
        if p["status"] not in NOT_LEAVING and p["intent"] != Intent.STAY
    }

    # What the published plan told each household.
    # A pool trip made into a leg that stays a leg (its pool changed): told as that leg.
    pool_legs = trips.load(crisis)
    told: dict[int, list[dict[str, Any]]] = {}
    if published is not None and published.result:
        for item in published.result.get("itineraries", []):
            hid = pk_of(item["household"], "hh")
            if hid is not None:
                told[hid] = pool_legs.translate(item["steps"], hid)

    # Legs still to go, and the bookings holding their seats.
    legs = list(
        Leg.objects.filter(
            crisis=crisis,
            status__in=(LegStatus.PLANNED, LegStatus.CONFIRMED, LegStatus.BOARDING),
            departure_planned__gte=start,
            departure_planned__lt=end,
        )
        .select_related("destination__country")
        # The trips of a bus pool that a published plan made into legs are the pool's:
        # planned again from the pool, not as legs (their buses would count twice) —
        # unless the pool changed since: then they are legs (`pool_legs`).
        .exclude(source=Leg.Source.PLAN, source_ref__regex=trips.POOL_LEG)
        .order_by("departure_planned", "pk")
    )
    leg_ids = {leg.pk for leg in legs}
    # The seats held by the people being planned are theirs to keep or to give up: given
    # back to the legs; the household keeps them through what it was told (a published
    # plan's offered or confirmed seats) or through a lock (seats booked by an officer, or
    # checked in). Seats of members who stay are not given back (publishing releases them).
    given_back: dict[int, int] = defaultdict(int)
    manual: dict[int, set[int]] = defaultdict(set)  # household -> legs it is held to
    booking_rows = Booking.objects.filter(
        crisis=crisis, status__in=HOLDS_SEAT, leg_id__in=leg_ids
    ).values("leg_id", "person_id", "household_id", "source", "status")
    held: dict[int, list[int]] = defaultdict(list)  # household -> legs of its seats
    # Households checked in (or boarded) on a leg of what the published plan told them:
    # that happened, and the rest of what they were told goes with it — their told
    # itinerary is locked (below), never read as seats booked by hand.
    told_legs = {
        hid: {pk for st in steps if st.get("type") == "leg" and (pk := pk_of(st["leg"], "leg"))}
        for hid, steps in told.items()
    }
    checked_told: set[int] = set()
    for b in booking_rows:
        hid = person_household.get(b["person_id"])
        if hid is None or b["person_id"] not in leaving_ids:
            continue
        held[hid].append(b["leg_id"])
        if b["source"] == Leg.Source.PLAN and hid in told:
            if b["status"] in (BookingStatus.OFFERED, BookingStatus.CONFIRMED):
                continue
            if b["leg_id"] in told_legs[hid]:
                checked_told.add(hid)
                continue
        manual[hid].add(b["leg_id"])
    # Seats booked by hand that do not reach safety: the officer plans that household
    # (left out below, its seats stay taken); the planner would add a second way out.
    by_leg = {leg.pk: leg for leg in legs}
    by_hand: set[int] = set()
    for hid, hand_legs in manual.items():
        last = max((by_leg[pk] for pk in hand_legs), key=lambda x: x.departure_planned)
        if last.destination.country.code in affected:
            by_hand.add(hid)
    for hid, seat_legs in held.items():
        if hid not in by_hand:
            for leg_pk in seat_legs:
                given_back[leg_pk] += 1
    missed_legs, missed_trips, not_before = _missed(crisis, start, person_household, leaving_ids)
    # Where households went on legs already under way or done.
    moved: dict[int, tuple[int, datetime]] = {}
    for m in (
        Booking.objects.filter(
            crisis=crisis,
            status=BookingStatus.BOARDED,
            leg__status__in=(LegStatus.DEPARTED, LegStatus.ARRIVED),
        )
        .values(
            "person_id",
            "leg__destination_id",
            "leg__arrival_actual",
            "leg__arrival_planned",
            "leg__departure_planned",
        )
        .order_by("leg__departure_planned")
    ):
        hid = person_household.get(m["person_id"])
        if hid is not None:
            at = m["leg__arrival_actual"] or m["leg__arrival_planned"] or start
            moved[hid] = (m["leg__destination_id"], at)

    # Households out of the affected countries by other means (crossed the border on
    # their own, housed abroad): where a hotel they checked in to is, else their city if
    # it is abroad; nothing says where, they are left out (below) — never planned out
    # again from their old city, taking seats others need.
    out_of_reach: set[int] = set()
    checked_in: dict[int, int] = {}
    for hid, rows in members.items():
        travelling = [r for r in rows if r["status"] not in NOT_LEAVING]
        if hid in moved or not travelling or any(r["status"] not in OUT for r in travelling):
            continue
        out_of_reach.add(hid)
    if out_of_reach:
        for stay in (
            Stay.objects.filter(
                crisis=crisis, household_id__in=out_of_reach, status=StayStatus.CHECKED_IN
            )
            .values("household_id", "block__hotel__place_id")
            .order_by("first_night", "pk")
        ):
            checked_in[stay["household_id"]] = stay["block__hotel__place_id"]

    from aman.planning.models import BusPool, PlanLock

    locked = {
        lock.household_id: pool_legs.translate(lock.steps, lock.household_id)
        for lock in PlanLock.objects.filter(crisis=crisis)
    }
    referenced: set[int] = set()
    for steps in [*told.values(), *locked.values()]:
        for st in steps:
            ref = pk_of(st["leg"], "leg") if st.get("type") == "leg" else None
            if ref is not None:
                referenced.add(ref)
    leg_times = {
        f"leg{pk}": (dep if status not in (LegStatus.DEPARTED, LegStatus.ARRIVED) else None)
        for pk, dep, status in Leg.objects.filter(pk__in=referenced).values_list(
            "pk", "departure_planned", "status"
        )
    }

    def ahead(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The steps still to come: those before `start` (legs departed, crossings passed)
        are what already happened, and the household is where they led."""
        for i, st in enumerate(steps):
            if st["type"] == "leg":
                when = leg_times.get(st["leg"], start)
            else:
                when = datetime.fromisoformat(st.get("departure") or st["at"])
            if when is not None and when >= start:
                return steps[i:]
        return []

    pools = list(BusPool.objects.filter(crisis=crisis).select_related("origin", "destination"))
    locks = {hid: ahead(steps) for hid, steps in locked.items() if hid in members}

    # Places.
    place_ids: set[int] = set()
    for leg in legs:
        place_ids |= {leg.origin_id, leg.destination_id}
    for pool in pools:
        place_ids |= {pool.origin_id, pool.destination_id}
    endpoints = set(place_ids)
    hotels = list(
        Hotel.objects.filter(crisis=crisis).select_related("place", "place__country", "city")
    )
    links: list[tuple[int, int]] = []
    for hotel in hotels:
        place_ids.add(hotel.place_id)
        if hotel.city_id:
            place_ids.add(hotel.city_id)
            links.append((hotel.place_id, hotel.city_id))
    for hid, rows in members.items():
        if hid in moved:
            place_ids.add(moved[hid][0])
        else:
            place_ids |= {r["city_id"] for r in rows if r["city_id"]}
    places = {
        p.pk: p
        for p in Place.objects.filter(pk__in=place_ids).select_related("country", "entry_country")
    }
    hub_of = _hubs(places, links)
    used_hubs = {hub_of[pk] for pk in endpoints if pk in hub_of}

    out_places: dict[str, dict[str, Any]] = {}
    hubs: dict[str, list[int]] = defaultdict(list)

    def place_id(pk: int) -> str:
        head = places[hub_of[pk]]
        sid = f"p{head.pk}"
        if sid not in out_places:
            out_places[sid] = {
                "id": sid,
                "name": head.name,
                "kind": KINDS[head.kind],
                "country": head.country.code,
                "timezone": _zone_name(head),
            }
        if pk not in hubs[sid]:
            hubs[sid].append(pk)
            if places[pk].kind == Place.Kind.AIRPORT:
                out_places[sid]["kind"] = "airport"
        return sid

    # Crossings.
    crossing_pks = [
        pk
        for pk in endpoints
        if places[pk].kind == Place.Kind.CROSSING and places[pk].country.code in affected
    ]
    events: dict[int, list[PlaceStatusEvent]] = defaultdict(list)
    for event in PlaceStatusEvent.objects.filter(place_id__in=crossing_pks).order_by(
        "effective_at", "pk"
    ):
        events[event.place_id].append(event)
    crossings: list[dict[str, Any]] = []
    permit_crossings: dict[int, str] = {}
    from aman.planning.models import PlanningPolicy

    planning = PlanningPolicy.objects.filter(crisis=crisis).first() or PlanningPolicy()
    crossing_minutes = planning.crossing_minutes
    for pk in sorted(crossing_pks):
        p = places[pk]
        if p.entry_country_id is None:
            warnings.append({"code": "crossing_no_entry", "crossing": p.name})
            continue
        assert p.entry_country is not None
        entry = p.entry_country.code
        if entry in affected:
            continue
        sid = place_id(pk)
        crossing: dict[str, Any] = {
            "place": sid,
            "entry_country": entry,
            "daily_capacity": p.daily_capacity if p.daily_capacity is not None else UNLIMITED,
            "minutes": crossing_minutes,
            "permit_required": p.transit_permit == Place.Permit.YES,
            "closed": [
                {"from": a.isoformat(), "to": b.isoformat()}
                for a, b in _closures(p, events[pk], start, end)
            ],
        }
        if p.daily_capacity is None:
            warnings.append({"code": "crossing_unlimited", "crossing": p.name})
        if p.opens_at is not None and p.closes_at is not None:
            crossing["opens"] = p.opens_at.strftime("%H:%M")
            crossing["closes"] = p.closes_at.strftime("%H:%M")
        crossings.append(crossing)
        if crossing["permit_required"]:
            permit_crossings[pk] = sid
    crossing_sids = {c["place"] for c in crossings}

    # Airports closed at some time of the horizon (their status history, as crossings'):
    # a leg departing from or landing at one while it is closed is left out. Arrivals may
    # fall after the horizon's end: their closures are read a few days further.
    airport_pks = [pk for pk in endpoints if places[pk].kind == Place.Kind.AIRPORT]
    airport_events: dict[int, list[PlaceStatusEvent]] = defaultdict(list)
    for event in PlaceStatusEvent.objects.filter(place_id__in=airport_pks).order_by(
        "effective_at", "pk"
    ):
        airport_events[event.place_id].append(event)
    airport_closed = {
        pk: spans
        for pk in airport_pks
        if (spans := _closures(places[pk], airport_events[pk], start, end + timedelta(days=3)))
    }

    def closed_airport(leg: Leg) -> Place | None:
        for pk, moment in (
            (leg.origin_id, leg.departure_planned),
            (leg.destination_id, leg.arrival_planned),
        ):
            if moment is not None and any(a <= moment < b for a, b in airport_closed.get(pk, [])):
                return places[pk]
        return None

    # Legs.
    out_legs: list[dict[str, Any]] = []
    for leg in legs:
        o, d = places[leg.origin_id], places[leg.destination_id]
        if any(p.kind == Place.Kind.CROSSING and f"p{p.pk}" not in crossing_sids for p in (o, d)):
            warnings.append({"code": "leg_crossing_elsewhere", "leg": str(leg)})
            continue
        origin, destination = place_id(leg.origin_id), place_id(leg.destination_id)
        if origin == destination:
            warnings.append({"code": "leg_within_hub", "leg": str(leg)})
            continue
        if leg.arrival_planned is None:
            warnings.append({"code": "leg_no_arrival", "leg": str(leg)})
            continue
        shut = closed_airport(leg)
        if shut is not None:
            warnings.append(
                {"code": "leg_airport_closed", "leg": str(leg), "airport": shut.iata or shut.name}
            )
            continue
        seats = leg.capacity - leg.seats_allocated - leg.seats_taken + given_back[leg.pk]
        per_seat = float(leg.cost) / leg.capacity if leg.cost else 0.0
        out_legs.append(
            {
                "id": f"leg{leg.pk}",
                "kind": leg_kind(leg.mode),
                "from": origin,
                "to": destination,
                "departure": leg.departure_planned.isoformat(),
                "arrival": leg.arrival_planned.isoformat(),
                "seats": max(0, seats),
                "cost_per_seat": round(per_seat, 2),
                "escort": leg.escort,
            }
        )

    out_pools = []
    for pool in pools:
        origin, destination = place_id(pool.origin_id), place_id(pool.destination_id)
        if origin == destination:
            continue
        out_pool: dict[str, Any] = {
            "id": f"pool{pool.pk}",
            "from": origin,
            "to": destination,
            "buses_per_day": pool.buses_per_day,
            "seats": pool.seats,
            "travel_minutes": pool.travel_minutes,
            "departures": pool.departure_list,
            "first_day": pool.first_day.isoformat(),
            "last_day": pool.last_day.isoformat(),
            "escort": pool.escort,
            "cost_per_seat": float(pool.cost_per_seat or 0),
        }
        # Its buses already in legs kept from before it changed run no second time.
        fewer = {
            day.isoformat(): max(0, pool.buses_per_day - n)
            for day, n in sorted(pool_legs.taken(pool).items())
            if pool.first_day <= day <= pool.last_day
        }
        if fewer:
            out_pool["buses_by_day"] = fewer
        out_pools.append(out_pool)

    # Hotels: free beds per night.
    first_night = start.date() - timedelta(days=1)
    last_night = end.date() + timedelta(days=1)
    # Rooms of the published plan's planned stays of the households planned again.
    returned = set(
        Stay.objects.filter(
            crisis=crisis,
            source=Stay.Source.PLAN,
            status=StayStatus.PLANNED,
            household_id__in=list(told),
            first_night__gte=timezone.localdate(start),
        ).values_list("pk", flat=True)
    )
    taken: dict[tuple[int, date], int] = defaultdict(int)
    for night_row in (
        StayNight.objects.filter(
            block__crisis=crisis,
            night__gte=first_night,
            night__lte=last_night,
            stay__status__in=HOLDS_ROOM,
        )
        .exclude(stay_id__in=returned)
        .values("block_id", "night")
    ):
        taken[(night_row["block_id"], night_row["night"])] += 1
    out_hotels = []
    blocks_of: dict[int, list[RoomBlock]] = defaultdict(list)
    for block in RoomBlock.objects.filter(
        crisis=crisis, last_night__gte=first_night, first_night__lte=last_night
    ).prefetch_related("rooms_history"):
        blocks_of[block.hotel_id].append(block)
    for hotel in hotels:
        head = hub_of[hotel.place_id]
        if head not in used_hubs or not blocks_of[hotel.pk]:
            continue
        if places[head].country.code in affected:
            continue
        beds: dict[str, int] = {}
        rooms: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        rates: list[float] = []
        for block in blocks_of[hotel.pk]:
            rates.append(float(block.rate) / max(1, block.beds))
            # Each night's own number of rooms: a block shrunk or grown from a night on.
            counts = block.room_counts()
            night = max(block.first_night, first_night)
            while night <= min(block.last_night, last_night):
                free = counts.on(night) - taken[(block.pk, night)]
                if free > 0:
                    beds[night.isoformat()] = beds.get(night.isoformat(), 0) + free * block.beds
                    rooms[night.isoformat()][block.beds] += free
                night += timedelta(days=1)
        if not beds:
            continue
        out_hotels.append(
            {
                "id": f"hotel{hotel.pk}",
                "name": hotel.place.name,
                "place": place_id(hotel.place_id),
                "cost_per_night": round(sum(rates) / len(rates), 2),
                "beds": dict(sorted(beds.items())),
                "rooms": {
                    night: [{"beds": b, "count": n} for b, n in sorted(sizes.items())]
                    for night, sizes in sorted(rooms.items())
                },
            }
        )

    # Permits: each member's answer per crossing and day (a list is for one day), and
    # their latest answer per crossing.
    answers: dict[tuple[int, int], str] = {}
    on_day: dict[tuple[int, int], dict[date, str]] = defaultdict(dict)
    if permit_crossings:
        for answer in (
            PermitEntry.objects.filter(
                permit_list__crisis=crisis, permit_list__crossing_id__in=list(permit_crossings)
            )
            .values("person_id", "permit_list__crossing_id", "permit_list__day", "decision")
            .order_by("permit_list__day", "pk")
        ):
            key = (answer["person_id"], answer["permit_list__crossing_id"])
            answers[key] = answer["decision"]
            on_day[key][answer["permit_list__day"]] = answer["decision"]

    out_households = []
    for hid, rows in members.items():
        household = households[hid]
        leaving = [r for r in rows if r["status"] not in NOT_LEAVING and r["intent"] != Intent.STAY]
        declined = not leaving
        group = rows if declined else leaving
        if len(group) > 60:
            warnings.append({"code": "household_too_big", "household": f"H{hid}", "n": len(group)})
            continue
        contact = next((r for r in rows if r["pk"] == household["contact_id"]), group[0])
        if hid in moved:
            location_pk: int | None = moved[hid][0]
        elif hid in checked_in and checked_in[hid] in places:
            location_pk = checked_in[hid]
        else:
            location_pk = contact["city_id"] or next(
                (r["city_id"] for r in group if r["city_id"]), None
            )
        if hid in out_of_reach and hid not in checked_in:
            abroad = location_pk is not None and places[location_pk].country.code not in affected
            if not abroad and any(r["status"] == Status.CROSSED_BORDER for r in group):
                warnings.append({"code": "household_safe", "household": f"H{hid}"})
                continue
        if location_pk is not None:
            location = place_id(location_pk)
        else:
            code = contact["country__code"] or next(iter(sorted(affected)))
            location = f"country-{code}"
            if location not in out_places:
                out_places[location] = {
                    "id": location,
                    "name": code,
                    "kind": "city",
                    "country": code,
                    "timezone": settings.TIME_ZONE,
                }
        out: dict[str, Any] = {
            "id": f"hh{hid}",
            "label": contact["reference_code"],
            "location": location,
            "size": len(group),
            "priority": min(100, household["priority"]),
        }
        # Infants share a bed (publishing packs rooms so): counted the day after the
        # horizon, later than any night a stay can start, when the fewest still are.
        last_day = end.date() + timedelta(days=1)
        need = max(1, sum(1 for r in group if not _infant(r["birth_date"], last_day)))
        if need < len(group):
            out["beds"] = need
        # Its earliest availability: the later of the household's own and the arrival of
        # the last leg it boarded.
        earliest = [
            t
            for t in (household["available_from"], moved[hid][1] if hid in moved else None)
            if t is not None and t > start
        ]
        if hid in not_before:
            # Did not show up for a leg still to go (or was offloaded from it): not planned
            # on it again, nor on anything leaving before it.
            earliest.append(not_before[hid])
        if earliest:
            out["available_from"] = max(earliest).isoformat()
        if any(r["medical_need"] for r in group):
            out["needs_escort"] = True
        permits = {}
        permit_days: dict[str, list[str]] = {}
        for pk, sid in permit_crossings.items():
            # Approved on the days of the horizon when every member is approved on that
            # day's list; else refused if any member's latest answer is, pending otherwise.
            approved = sorted(
                day
                for day in {d for r in group for d in on_day[(r["pk"], pk)]}
                if first_night <= day <= last_night
                and all(on_day[(r["pk"], pk)].get(day) == "approved" for r in group)
            )
            states = [answers.get((r["pk"], pk), "pending") for r in group]
            if approved:
                permits[sid] = "approved"
                permit_days[sid] = [day.isoformat() for day in approved]
            elif "refused" in states:
                permits[sid] = "refused"
            else:
                permits[sid] = "pending"
        if permits:
            out["permits"] = permits
        if permit_days:
            out["permit_days"] = permit_days
        if declined:
            out["declined"] = True
        if hid in by_hand:
            warnings.append({"code": "household_by_hand", "household": f"H{hid}"})
            continue

        def missed(st: dict[str, Any], hid: int = hid) -> bool:
            """A leg or pool trip of its itinerary the household missed (its seats
            released, a no-show, offloaded)."""
            if st["type"] == "leg":
                return pk_of(st["leg"], "leg") in missed_legs.get(hid, ())
            return st["type"] == "pool" and trips.pool_ref(
                st["pool"], st["departure"]
            ) in missed_trips.get(hid, ())

        # What it was told that is still to come (a leg of it may be gone).
        rest = ahead(steps_of({"steps": told[hid]})) if hid in told else []
        if locks.get(hid):
            out["locked"] = locks[hid]
        elif hid in checked_told and rest and not any(missed(st) for st in rest):
            # Checked in for a leg of what it was told: it keeps the rest of it (unless
            # no longer possible: then the re-plan moves it, and the change is told). A
            # rest with a leg it lost (its flight's seats released) is not kept: what is
            # left of it is told, and the household planned afresh from there.
            out["locked"] = rest
        elif manual.get(hid):
            by_time = [x for x in out_legs if pk_of(x["id"], "leg") in manual[hid]]
            if by_time:
                out["locked"] = [{"type": "leg", "leg": x["id"]} for x in by_time]
        if hid in told and not declined:
            # Even when a leg of it is gone: the re-plan then sees the household displaced.
            # A leg or pool trip it missed (its seats released, a no-show, offloaded) is
            # no longer told: the rest of the itinerary cannot be kept (displaced), its
            # seats are for others, and the household is planned afresh.
            still = [st for st in rest if not missed(st)]
            if still:
                out["notified"] = still
        out_households.append(out)

    policy = PriorityPolicy.objects.filter(crisis=crisis).values_list("mode", flat=True).first()
    data = {
        "format": sc.FORMAT,
        "name": f"{crisis.code} {start.astimezone(UTC):%Y-%m-%d %H:%M} UTC",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone": settings.TIME_ZONE,
        "home_country": home,
        "affected_countries": sorted(affected),
        "policy": {
            "mode": policy or "weights",
            "stability_reward": planning.stability_reward,
            "firm_hours": planning.firm_hours,
        },
        "connection_minutes": {
            "default": planning.connection_minutes,
            "airport": planning.airport_connection_minutes,
            "crossing": 0,
        },
        "places": list(out_places.values()),
        "crossings": crossings,
        "legs": out_legs,
        "bus_pools": out_pools,
        "hotels": out_hotels,
        "households": sorted(out_households, key=lambda h: int(h["id"][2:])),
    }
    if published is not None and published.result and published.result.get("prices") and told:
        # The published plan's dual prices: the re-plan bounds a plan that keeps what it
        # told households with them, and may keep that plan without the full LP.
        data["prices"] = published.result["prices"]
    if not out_places:
        warnings.append({"code": "nothing"})
    return Export(data=data, warnings=warnings, hubs=dict(hubs))
