"""An independent check of a plan against its scenario.

It shares nothing with the planner but the scenario reader and the rule of what a
household takes in a hotel whose rooms are known (`rooms.charge`, the publishing rule):
it walks each itinerary from the household's location and availability, step by step,
and counts every capacity itself. It reports (`violations`: codes with parameters, in
`PROBLEMS`' English words by `check`) every capacity exceeded (in a
hotel whose rooms are known: its rooms of each size, so that publishing can book every
stay, in whatever order it takes them), every household planned twice or not at all,
every step out of time order, too short a connection, a crossing passed while closed or
without a permit approved (for its day, where the household's approval names days), a
night outside the affected countries without a hotel bed or at a border crossing, a
locked household moved while its locked itinerary was still possible, and anything
outside the horizon.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aman.planning.optimizer import rooms as room_rule
from aman.planning.optimizer.scenario import Crossing, Hotel, Household, Scenario

NIGHT_HOUR = 3

# The checker's problems: a code, its parameters, and the words in English (the code is
# for translation, as the planner's reasons': `aman plan check` says them in the officer's
# language). Every parameter is text.
PROBLEMS: dict[str, str] = {
    "not_a_plan": "the plan is not an aman.plan/1 document",
    "expected_string": "%(path)s: expected a string, not %(got)s",
    "expected_list": "%(path)s: expected a list, not %(got)s",
    "expected_object": "%(path)s: expected an object, not %(got)s",
    "expected_number": "%(path)s: expected a whole number, not %(got)s",
    "expected_type": "%(path)s: expected one of %(choices)s, not %(got)s",
    "required": "%(path)s: is required",
    "unknown_household": "household %(household)s is not in the scenario",
    "twice": "household %(household)s appears %(n)s times in the plan",
    "missing": "household %(household)s is neither planned nor listed as unassigned",
    "declined": "household %(household)s declined but is planned",
    "split": "household %(household)s travels with %(n)s people, not all %(size)s",
    "lock_moved": "household %(household)s is locked to another itinerary, still possible",
    "lock_unplanned": (
        "household %(household)s is locked to an itinerary still possible, but has none"
    ),
    "no_steps": "household %(household)s has an itinerary without steps",
    "no_bed": (
        "household %(household)s spends the night of %(night)s at %(place)s without a hotel bed"
    ),
    "never_leaves": "household %(household)s is planned but never leaves the affected countries",
    "after_home": "household %(household)s, step %(step)s comes after the household is home",
    "pass_elsewhere": (
        "household %(household)s, step %(step)s: passes %(crossing)s without being there"
    ),
    "pass_early": (
        "household %(household)s, step %(step)s: passes %(crossing)s at %(at)s before "
        "arriving (%(ready)s)"
    ),
    "pass_overnight": (
        "household %(household)s, step %(step)s: waits overnight at the crossing %(crossing)s"
    ),
    "pass_closed": "household %(household)s, step %(step)s: %(crossing)s is closed at %(at)s",
    "pass_permit": (
        "household %(household)s, step %(step)s: passes %(crossing)s without an approved "
        "transit permit"
    ),
    "pass_permit_day": (
        "household %(household)s, step %(step)s: passes %(crossing)s on %(day)s, a day its "
        "permit does not name"
    ),
    "pass_horizon": (
        "household %(household)s, step %(step)s: passes %(crossing)s outside the horizon"
    ),
    "never_open": (
        "household %(household)s, step %(step)s: %(crossing)s does not open before the horizon ends"
    ),
    "no_hotel": "household %(household)s, step %(step)s: no hotel %(hotel)s",
    "hotel_elsewhere": (
        "household %(household)s, step %(step)s: the hotel %(hotel)s is not where the household is"
    ),
    "not_night": "household %(household)s, step %(step)s: %(value)s is not a night",
    "hotel_no_beds": (
        "household %(household)s, step %(step)s: the hotel %(hotel)s has no beds the night "
        "of %(night)s"
    ),
    "hotel_no_rooms": (
        "household %(household)s, step %(step)s: the hotel %(hotel)s has no rooms for %(n)s "
        "people for every night from %(first)s to %(last)s"
    ),
    "no_crossing": "household %(household)s, step %(step)s: no crossing %(crossing)s or no time",
    "no_leg": "household %(household)s, step %(step)s: no leg %(leg)s",
    "no_pool": "household %(household)s, step %(step)s: no bus pool %(pool)s or no time",
    "pool_departure": (
        "household %(household)s, step %(step)s: %(pool)s has no departure at %(at)s"
    ),
    "leaves_elsewhere": (
        "household %(household)s, step %(step)s: leaves %(origin)s but the household is at "
        "%(place)s"
    ),
    "departs_early": (
        "household %(household)s, step %(step)s: departs %(at)s before the household can "
        "board (%(ready)s)"
    ),
    "departs_horizon": "household %(household)s, step %(step)s: departs outside the horizon",
    "no_escort": (
        "household %(household)s, step %(step)s: needs a medical escort, which the leg lacks"
    ),
    "step_type": "household %(household)s, step %(step)s: unknown step type %(kind)s",
    "leg_full": "leg %(leg)s: %(n)s people on %(seats)s seats",
    "crossing_full": "crossing %(crossing)s on %(day)s: %(n)s people, %(capacity)s a day",
    "hotel_full": "hotel %(hotel)s the night of %(night)s: %(n)s people in %(beds)s beds",
    "rooms_full": (
        "hotel %(hotel)s the night of %(night)s: %(n)s rooms of %(beds)s beds needed, %(free)s free"
    ),
    "pool_full": "bus pool %(pool)s on %(day)s: %(n)s buses, %(buses)s that day",
}


@dataclass
class Problem:
    """One violation: its code (`PROBLEMS`) and parameters, each as text."""

    code: str
    params: dict[str, str]

    @property
    def text(self) -> str:
        """In English (the optimizer's own words, for headless use)."""
        return PROBLEMS[self.code] % self.params

    def __str__(self) -> str:
        return self.text


def _p(code: str, **params: Any) -> Problem:
    return Problem(code, {k: str(v) for k, v in params.items()})


def _t(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else None


def _nights(zone: ZoneInfo, since: datetime, until: datetime) -> list[date]:
    """The nights (by date) whose 03:00 local lies in [since, until)."""
    out = []
    day = since.astimezone(zone).date() - timedelta(days=1)
    while True:
        instant = datetime(day.year, day.month, day.day, NIGHT_HOUR, tzinfo=zone)
        if instant >= until:
            break
        if instant >= since:
            out.append(day - timedelta(days=1))
        day += timedelta(days=1)
    return out


def _crossing_open(c: Crossing, at: datetime, zone: ZoneInfo) -> bool:
    if any(a <= at < b for a, b in c.closed):
        return False
    if c.opens is None or c.closes is None:
        return True
    local = at.astimezone(zone).time()
    if c.opens <= c.closes:
        return c.opens <= local < c.closes
    return local >= c.opens or local < c.closes


def _first_open(c: Crossing, since: datetime, zone: ZoneInfo, until: datetime) -> datetime | None:
    """The first moment from `since` (before `until`) when the crossing lets people through."""
    candidates = {since} | {b for _a, b in c.closed if since <= b < until}
    if c.opens is not None:
        day = since.astimezone(zone).date()
        while True:
            moment = datetime.combine(day, c.opens, tzinfo=zone)
            if moment >= until:
                break
            if moment >= since:
                candidates.add(moment)
            day += timedelta(days=1)
    for moment in sorted(candidates):
        if moment < until and _crossing_open(c, moment, zone):
            return moment
    return None


@dataclass
class Walk:
    """One itinerary walked from the household's place: what is wrong with its steps, and
    what it uses."""

    problems: list[Problem] = field(default_factory=list)
    moved: list[tuple[str, str, datetime | None]] = field(default_factory=list)
    legs: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    crossings: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    beds: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    trips: dict[tuple[str, datetime], int] = field(default_factory=lambda: defaultdict(int))
    # Rooms charged in hotels whose rooms are known: (hotel, night, beds per room) -> rooms.
    rooms: dict[tuple[str, date, int], int] = field(default_factory=lambda: defaultdict(int))
    # Nights spent abroad without a hotel step (counted, not flagged: `lodge`), and each
    # stay's place and nights.
    nights: dict[tuple[str, date], int] = field(default_factory=lambda: defaultdict(int))
    stays: list[tuple[str, list[date]]] = field(default_factory=list)


def _walk(
    s: Scenario, h: Household, steps: list[dict[str, Any]], hid: str, *, lodge: bool = False
) -> Walk:
    """Walk `steps` from the household's place and availability, checking each step.
    `lodge` walks an itinerary given as a lock's steps: a crossing left out is passed at
    the first moment it is open, and the nights abroad are counted (the hotels are the
    planner's choice) rather than flagged."""
    w = Walk()
    problems = w.problems
    home = s.home_country

    def country_of(place: str, side: str) -> str:
        if side == "out":
            return s.crossings[place].entry_country
        return s.places[place].country

    place = h.location
    side = "in" if place in s.crossings else ""
    ready = max(s.start, h.available_from) if h.available_from else s.start
    arrived = ready  # since when the household is where it is
    housed: set[date] = set()
    done = False
    if not steps:
        problems.append(_p("no_steps", household=hid))

    def need_beds(until: datetime, place: str, side: str, arrived: datetime) -> None:
        if country_of(place, side) in s.affected_countries:
            return
        nights = _nights(s.zone(place), arrived, until)
        if lodge and nights:
            w.stays.append((place, nights))
        for night in nights:
            if lodge:
                w.nights[(place, night)] += h.size
            elif night not in housed:
                problems.append(_p("no_bed", household=hid, night=night, place=place))

    def pass_crossing(cid: str, at: datetime, here: dict[str, Any]) -> None:
        nonlocal place, side, ready, arrived
        c = s.crossings[cid]
        if place != cid or side != "in":
            problems.append(_p("pass_elsewhere", **here, crossing=cid))
        if at < ready:
            problems.append(_p("pass_early", **here, crossing=cid, at=at, ready=ready))
        elif _nights(s.zone(cid), ready, at):
            problems.append(_p("pass_overnight", **here, crossing=cid))
        if not _crossing_open(c, at, s.zone(cid)):
            problems.append(_p("pass_closed", **here, crossing=cid, at=at))
        if c.permit_required and h.permits.get(cid) != "approved":
            problems.append(_p("pass_permit", **here, crossing=cid))
        elif c.permit_required and cid in h.permit_days:
            day = at.astimezone(s.zone(cid)).date()
            if day not in h.permit_days[cid]:
                problems.append(_p("pass_permit_day", **here, crossing=cid, day=day))
        if not s.start <= at < s.end:
            problems.append(_p("pass_horizon", **here, crossing=cid))
        w.crossings[(cid, at.astimezone(s.zone(cid)).date())] += h.size
        w.moved.append(("crossing", cid, at))
        place, side = cid, "out"  # (wherever it was: said above)
        ready = at + timedelta(minutes=c.minutes)
        arrived = ready

    for k, step in enumerate(steps):
        here = {"household": hid, "step": k + 1}
        if done:
            problems.append(_p("after_home", **here))
            break
        kind = step.get("type")
        if kind == "hotel":
            hotel = s.hotels.get(str(step.get("hotel")))
            if hotel is None:
                problems.append(_p("no_hotel", **here, hotel=repr(step.get("hotel"))))
                continue
            if hotel.place != place or side == "in":
                problems.append(_p("hotel_elsewhere", **here, hotel=hotel.id))
            stay: list[date] = []
            for raw in step.get("nights") or []:
                try:
                    night = date.fromisoformat(raw)
                except (TypeError, ValueError):
                    problems.append(_p("not_night", **here, value=repr(raw)))
                    continue
                if hotel.beds.get(night, 0) <= 0:
                    problems.append(_p("hotel_no_beds", **here, hotel=hotel.id, night=night))
                # Where the rooms are known, infants share a bed: its people who need one.
                w.beds[(hotel.id, night)] += h.size if hotel.rooms is None else h.room_need
                housed.add(night)
                stay.append(night)
            if hotel.rooms is not None and stay:
                # Publishing books the step as one stay, from its first night to its last.
                first, last = min(stay), max(stay)
                run = [first + timedelta(days=i) for i in range((last - first).days + 1)]
                charged = _charged(hotel, run, h)
                if charged is None:
                    problems.append(
                        _p(
                            "hotel_no_rooms",
                            **here,
                            hotel=hotel.id,
                            n=h.room_need,
                            first=first,
                            last=last,
                        )
                    )
                else:
                    for night in run:
                        for b, n in charged.items():
                            w.rooms[(hotel.id, night, b)] += n
            continue
        if kind == "crossing":
            cid = str(step.get("place"))
            at = _t(step.get("at"))
            if cid not in s.crossings or at is None:
                problems.append(_p("no_crossing", **here, crossing=repr(cid)))
                continue
            pass_crossing(cid, at, here)
            continue
        if kind in ("leg", "pool"):
            if kind == "leg":
                leg = s.legs.get(str(step.get("leg")))
                if leg is None:
                    problems.append(_p("no_leg", **here, leg=repr(step.get("leg"))))
                    continue
                origin, dest, dep, arr = leg.origin, leg.destination, leg.departure, leg.arrival
                escort = leg.escort
                trip: tuple[str, datetime] | None = None
                leg_id = leg.id
            else:
                pool = s.pools.get(str(step.get("pool")))
                dep_t = _t(step.get("departure"))
                if pool is None or dep_t is None:
                    problems.append(_p("no_pool", **here, pool=repr(step.get("pool"))))
                    continue
                zone = s.zone(pool.origin)
                local = dep_t.astimezone(zone)
                # Compare instants: a clock time in a daylight-saving gap moves.
                scheduled = {
                    datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
                    for day in (local.date() - timedelta(days=1), local.date())
                    if pool.first_day <= day <= pool.last_day
                    for clock in pool.departures
                }
                if dep_t.astimezone(UTC) not in scheduled:
                    problems.append(_p("pool_departure", **here, pool=pool.id, at=dep_t))
                origin, dest, dep = pool.origin, pool.destination, dep_t
                arr = dep + timedelta(minutes=pool.travel_minutes)
                escort = pool.escort
                trip = (pool.id, dep)
                leg_id = ""
            if lodge and place in s.crossings and side == "in" and origin == place:
                # A lock may leave the crossing out: passed at its first open moment.
                at_open = _first_open(s.crossings[place], ready, s.zone(place), s.end)
                if at_open is None:
                    problems.append(_p("never_open", **here, crossing=place))
                else:
                    pass_crossing(place, at_open, here)
            if trip is None:
                w.legs[leg_id] += h.size
                w.moved.append(("leg", leg_id, None))
            else:
                w.trips[trip] += h.size
                w.moved.append(("pool", trip[0], trip[1]))
            if origin != place or (place in s.crossings and side != "out"):
                problems.append(_p("leaves_elsewhere", **here, origin=origin, place=place))
            if dep < ready:
                problems.append(_p("departs_early", **here, at=dep, ready=ready))
            if not s.start <= dep < s.end:
                problems.append(_p("departs_horizon", **here))
            if h.needs_escort and not escort:
                problems.append(_p("no_escort", **here))
            need_beds(dep, place, side, arrived)
            housed = set()
            place = dest
            side = "in" if dest in s.crossings else ""
            ready = arr + timedelta(minutes=s.connection(dest))
            arrived = ready
            if s.places[dest].country == home:
                done = True
            continue
        problems.append(_p("step_type", **here, kind=repr(kind)))
    if not done:
        if country_of(place, side) in s.affected_countries:
            problems.append(_p("never_leaves", household=hid))
        elif ready < s.end:
            need_beds(s.end, place, side, arrived)
    return w


def _charged(hotel: Hotel, nights: list[date], h: Household) -> dict[int, int] | None:
    """The rooms the household is charged for a stay of these nights in a hotel whose
    rooms are known (`rooms.charge`), from the rooms the scenario gives free."""
    assert hotel.rooms is not None
    supply = room_rule.stay_supply([hotel.rooms.get(n, {}) for n in nights])
    return room_rule.charge(h.room_need, supply)


def _houses(hotel: Hotel, h: Household, nights: list[date], fixed: Walk) -> bool:
    """Whether the hotel has room for the household for these nights, as one stay, beside
    the fixed itineraries."""
    if hotel.rooms is None:
        return all(
            hotel.beds.get(n, 0) - fixed.beds.get((hotel.id, n), 0) >= h.size for n in nights
        )
    if any(hotel.beds.get(n, 0) <= 0 for n in nights):
        return False
    charged = _charged(hotel, nights, h)
    if charged is None:
        return False
    return all(
        fixed.rooms.get((hotel.id, n, b), 0) + k <= hotel.rooms.get(n, {}).get(b, 0)
        for n in nights
        for b, k in charged.items()
    )


def _lock_possible(s: Scenario, h: Household, fixed: Walk) -> bool:
    """Whether the household's locked itinerary is still possible beside the fixed
    itineraries the plan kept (locked and firm): its steps pass every step check, and
    every capacity it uses has room for it after them. The planner keeps a lock only
    then; otherwise it plans the household freely, with a warning."""
    assert h.locked is not None
    steps: list[dict[str, Any]] = []
    for st in h.locked:
        if st.kind == "leg":
            steps.append({"type": "leg", "leg": st.ref})
        elif st.kind == "pool":
            steps.append({"type": "pool", "pool": st.ref, "departure": _iso(st.at)})
        else:
            steps.append({"type": "crossing", "place": st.ref, "at": _iso(st.at)})
    w = _walk(s, h, steps, h.id, lodge=True)
    if w.problems:
        return False
    for lid, n in w.legs.items():
        if fixed.legs.get(lid, 0) + n > s.legs[lid].seats:
            return False
    for (cid, day), n in w.crossings.items():
        if fixed.crossings.get((cid, day), 0) + n > s.crossings[cid].daily_capacity:
            return False
    for key, n in w.trips.items():
        pool = s.pools[key[0]]
        day = key[1].astimezone(s.zone(pool.origin)).date()
        riding = sum(
            -(-m // pool.seats)
            for (pid, dep), m in fixed.trips.items()
            if pid == pool.id
            and dep != key[1]
            and dep.astimezone(s.zone(pool.origin)).date() == day
        )
        if riding + -(-(fixed.trips.get(key, 0) + n) // pool.seats) > pool.buses(day):
            return False
    # Each stay in one hotel, or (where no hotel's rooms are known) night by night in any
    # with the beds: never more than the planner allows itself.
    for where, nights in w.stays:
        hotels = [x for x in s.hotels.values() if x.place == where]
        if any(_houses(x, h, nights, fixed) for x in hotels):
            continue
        if any(x.rooms is not None for x in hotels) or not all(
            any(_houses(x, h, [n], fixed) for x in hotels) for n in nights
        ):
            return False
    return True


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# The fields each kind of step needs, and what they hold.
STEP_FIELDS: dict[str, tuple[tuple[str, type], ...]] = {
    "leg": (("leg", str),),
    "pool": (("pool", str), ("departure", str)),
    "crossing": (("place", str), ("at", str)),
    "hotel": (("hotel", str), ("nights", list)),
}
# The problem a value of another type is, by the type expected.
NAMES = {
    str: "expected_string",
    list: "expected_list",
    dict: "expected_object",
    int: "expected_number",
}


def _is(value: Any, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def shape(plan: dict[str, Any]) -> list[str]:
    """What in the plan is not of the shape of `aman.plan/1` (its itineraries and the
    households without one), each named by its path, in English: the plan is only walked
    when there is none."""
    return [p.text for p in _shape(plan)]


def _shape(plan: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []

    def want(value: Any, kind: type, path: str) -> bool:
        if _is(value, kind):
            return True
        problems.append(_p(NAMES[kind], path=path, got=type(value).__name__))
        return False

    for name in ("itineraries", "unassigned"):
        items = plan.get(name)
        if items is None or not want(items, list, name):
            continue
        for i, item in enumerate(items):
            where = f"{name}[{i}]"
            if not want(item, dict, where):
                continue
            if "household" not in item:
                problems.append(_p("required", path=f"{where}.household"))
            else:
                want(item["household"], str, f"{where}.household")
            if name == "unassigned":
                continue
            if "size" in item:
                want(item["size"], int, f"{where}.size")
            if "steps" not in item:
                problems.append(_p("required", path=f"{where}.steps"))
            elif want(item["steps"], list, f"{where}.steps"):
                for k, step in enumerate(item["steps"]):
                    at = f"{where}.steps[{k}]"
                    if not want(step, dict, at):
                        continue
                    kind = step.get("type")
                    if kind not in STEP_FIELDS:
                        problems.append(
                            _p(
                                "expected_type",
                                path=f"{at}.type",
                                choices=", ".join(STEP_FIELDS),
                                got=repr(kind),
                            )
                        )
                        continue
                    for field_name, field_kind in STEP_FIELDS[kind]:
                        if field_name not in step:
                            problems.append(_p("required", path=f"{at}.{field_name}"))
                        elif (
                            want(step[field_name], field_kind, f"{at}.{field_name}")
                            and field_name == "nights"
                        ):
                            for n, night in enumerate(step["nights"]):
                                want(night, str, f"{at}.nights[{n}]")
    return problems


def check(s: Scenario, plan: dict[str, Any]) -> list[str]:
    """Every violation of the scenario's rules by the plan, in English words (empty:
    valid); a plan not of the plan format's shape is not walked: what is wrong in it, by
    path."""
    return [p.text for p in violations(s, plan)]


def violations(s: Scenario, plan: Any) -> list[Problem]:
    """`check`'s violations as codes with their parameters (`Problem`), for whoever says
    them in another language."""
    problems: list[Problem] = []
    if not isinstance(plan, dict) or plan.get("format") != "aman.plan/1":
        return [_p("not_a_plan")]
    malformed = _shape(plan)
    if malformed:
        return malformed
    itineraries = plan.get("itineraries") or []
    unassigned = plan.get("unassigned") or []
    seen: dict[str, int] = defaultdict(int)
    for item in itineraries:
        seen[str(item.get("household"))] += 1
    for item in unassigned:
        seen[str(item.get("household"))] += 1
    for hid, n in seen.items():
        if hid not in s.households:
            problems.append(_p("unknown_household", household=hid))
        elif n > 1:
            problems.append(_p("twice", household=hid, n=n))
    for hid in s.households:
        if hid not in seen:
            problems.append(_p("missing", household=hid))

    total = Walk()
    fixed = Walk()  # what the fixed itineraries (locked and firm) use
    moved_locks: list[Household] = []
    for item in itineraries:
        hid = str(item.get("household"))
        h = s.households.get(hid)
        if h is None:
            continue
        if h.declined:
            problems.append(_p("declined", household=hid))
        if item.get("size") != h.size:
            problems.append(_p("split", household=hid, n=item.get("size"), size=h.size))
        w = _walk(s, h, item.get("steps") or [], hid)
        problems.extend(w.problems)
        sums = [total]
        if h.locked:
            want = [(st.kind, st.ref, st.at if st.kind != "leg" else None) for st in h.locked]
            # A lock may leave a crossing out: passed whenever it lets people through.
            named = {st.ref for st in h.locked if st.kind == "crossing"}
            got = [
                (k, r, t if k != "leg" else None)
                for k, r, t in w.moved
                if k != "crossing" or r in named
            ]
            if want != got:
                moved_locks.append(h)
            else:
                sums.append(fixed)
        elif item.get("fixed"):
            sums.append(fixed)
        for into in sums:
            for attr in ("legs", "crossings", "beds", "trips", "rooms"):
                mine, theirs = getattr(w, attr), getattr(into, attr)
                for key, n in mine.items():
                    theirs[key] += n
    for h in moved_locks:
        if _lock_possible(s, h, fixed):
            problems.append(_p("lock_moved", household=h.id))
    for item in unassigned:
        h = s.households.get(str(item.get("household")))
        if h is not None and h.locked and not h.declined and _lock_possible(s, h, fixed):
            problems.append(_p("lock_unplanned", household=h.id))

    for lid, n in total.legs.items():
        if n > s.legs[lid].seats:
            problems.append(_p("leg_full", leg=lid, n=n, seats=s.legs[lid].seats))
    for (cid, day), n in total.crossings.items():
        cap = s.crossings[cid].daily_capacity
        if n > cap:
            problems.append(_p("crossing_full", crossing=cid, day=day, n=n, capacity=cap))
    for (hid, night), n in total.beds.items():
        beds = s.hotels[hid].beds.get(night, 0)
        if n > beds:
            problems.append(_p("hotel_full", hotel=hid, night=night, n=n, beds=beds))
    for (hid, night, b), n in sorted(total.rooms.items()):
        free = (s.hotels[hid].rooms or {}).get(night, {}).get(b, 0)
        if n > free:
            problems.append(_p("rooms_full", hotel=hid, night=night, n=n, beds=b, free=free))
    buses: dict[tuple[str, date], int] = defaultdict(int)
    for (pid, dep), n in total.trips.items():
        pool = s.pools[pid]
        buses[(pid, dep.astimezone(s.zone(pool.origin)).date())] += -(-n // pool.seats)
    for (pid, day), n in buses.items():
        if n > s.pools[pid].buses(day):
            problems.append(_p("pool_full", pool=pid, day=day, n=n, buses=s.pools[pid].buses(day)))
    return problems
