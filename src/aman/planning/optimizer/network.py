"""The time-expanded network of a scenario, as numpy arrays.

Nodes are (side, minute) pairs: a side is a place, except that a border crossing has two,
the affected side where buses arrive (`in`) and the entry side where people are once they
pass (`out`). A place's nodes are the minutes at which something can happen there: a
departure, an arrival plus the minimum connection time, a crossing's opening, a crossing's
pass that a locked or notified itinerary names, the end of the horizon. Arcs are of five kinds:

- LEG: a fixed leg (bus, flight, ferry, train), capacity its seats;
- POOL: one departure time of a bus pool on one day; the buses are shared per pool and day;
- PASS: passing a crossing while it is open, capacity its people per (local) day;
- WAIT: staying at a place from one node to the next. Outside the affected countries a
  wait that spans a night (03:00 local) needs a hotel bed there that night (where none is
  contracted, the night's capacity is 0); nobody waits overnight at a border crossing;
- END: the horizon's end, to the sink. Arrivals in the home country go to the sink too.

A person is safe on the first arc from the affected country to elsewhere; its value falls
linearly with the time it happens (`Policy.time_weight`); getting home adds a share
(`Policy.home_weight`). Hotel nights and money cost a little, so that among equally fast
plans the cheaper one wins.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from functools import cached_property

import numpy as np

from aman.planning.optimizer.scenario import Crossing, Household, Scenario

WAIT, LEG, POOL, PASS, END, LOCK = 0, 1, 2, 3, 4, 5
KIND_NAMES = {WAIT: "wait", LEG: "leg", POOL: "pool", PASS: "crossing", END: "end"}
NIGHT_HOUR = 3  # a night is the night of the date before the 03:00 it contains


@dataclass(frozen=True)
class Side:
    place: str
    part: str  # "" or "in"/"out" for crossings
    country: str
    affected: bool


@dataclass
class Resource:
    """A capacity shared by arcs, in people: a leg's seats, a crossing's day, the beds of a
    place's hotels for one night."""

    kind: str  # "leg" | "crossing" | "night"
    ref: str  # leg id, crossing place id, hotel place id
    day: date | None
    capacity: int


@dataclass
class PoolTrip:
    pool: str
    day: date
    departure: int  # minutes
    arrival: int
    seats: int
    pool_day: int  # index into Network.pool_days


@dataclass
class Network:
    scenario: Scenario
    sides: list[Side]
    side_index: dict[tuple[str, str], int]
    node_side: np.ndarray
    node_time: np.ndarray
    side_nodes: list[np.ndarray]  # node ids of a side, by time
    tail: np.ndarray
    head: np.ndarray  # == sink for arrivals home and END arcs
    kind: np.ndarray
    ref: np.ndarray  # LEG: leg index; POOL: trip index; PASS: crossing index; WAIT: side
    t_from: np.ndarray  # departure / pass / wait start (minutes)
    t_to: np.ndarray  # arrival (real, before the connection time), END: horizon
    safe_value: np.ndarray  # per person, times the class weight
    home_value: np.ndarray  # per person, times the class weight
    cost: np.ndarray  # per person, not weighted
    escort_ok: np.ndarray  # bool: usable by people who need a medical escort
    permit: np.ndarray  # crossing index whose permit the arc needs, or -1
    resources: list[Resource]
    arc_resources: list[list[int]]  # per arc
    trips: list[PoolTrip]
    pool_days: list[tuple[str, date, int]]  # (pool, day, buses)
    leg_ids: list[str]
    crossing_ids: list[str]
    hotels_at: dict[tuple[str, date], list[tuple[str, int]]]  # (place, night) -> [(hotel, beds)]
    nights: dict[int, list[date]] = field(default_factory=dict)  # WAIT arc -> nights
    sources: dict[str, int] = field(default_factory=dict)  # household -> node (or -1)
    problems: dict[str, str] = field(default_factory=dict)  # household -> reason code
    # The mean size of the households whose promise a plan may keep or break (told, not
    # fixed, their itinerary still possible): the stability reward's unit (plan.solve).
    told_mean: float = 1.0
    # Permits as households state them -> the crossings they may pass (`class_of`).
    approved_of: dict[tuple[tuple[str, str], ...], frozenset[int]] = field(default_factory=dict)

    @property
    def sink(self) -> int:
        return len(self.node_time)

    @property
    def n_arcs(self) -> int:
        return len(self.tail)

    @cached_property
    def moving(self) -> list[bool]:
        """Per arc (a plain list, read one arc at a time): does it move people (a leg, a
        pool trip, a crossing)?"""
        return np.isin(self.kind, (LEG, POOL, PASS)).tolist()


def night_instants(zone_name: str, start: datetime, end: datetime) -> list[tuple[int, date]]:
    """(minute since start, night's date) of every 03:00 local within the horizon."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)
    day = start.astimezone(zone).date() - timedelta(days=1)
    out = []
    while True:
        instant = datetime(day.year, day.month, day.day, NIGHT_HOUR, tzinfo=zone)
        if instant > end:
            break
        if instant >= start:
            out.append((int((instant - start).total_seconds() // 60), day - timedelta(days=1)))
        day += timedelta(days=1)
    return out


def build(s: Scenario) -> Network:
    H = s.horizon
    sides: list[Side] = []
    side_index: dict[tuple[str, str], int] = {}

    def side(place: str, part: str = "") -> int:
        key = (place, part)
        if key not in side_index:
            country = s.places[place].country
            if part == "out":
                country = s.crossings[place].entry_country
            side_index[key] = len(sides)
            sides.append(Side(place, part, country, country in s.affected_countries))
        return side_index[key]

    def dep_side(place: str) -> int:
        return side(place, "out" if place in s.crossings else "")

    def arr_side(place: str) -> int:
        return side(place, "in" if place in s.crossings else "")

    def home(place: str) -> bool:
        return s.places[place].country == s.home_country

    times: dict[int, set[int]] = defaultdict(set)
    # Movements: (kind, ref, from side, departure, to side or -1 (home), arrival, escort, cost)
    moves: list[tuple[int, int, int, int, int, int, bool, float]] = []

    def move(
        kind: int, ref: int, origin: str, dest: str, dep: int, arr: int, escort: bool, cost: float
    ) -> None:
        # Never planned: a way back into the affected countries (from abroad, or from a
        # crossing's entry side), so that nobody is made safe twice.
        if s.affected(dest) and (origin in s.crossings or not s.affected(origin)):
            return
        a = dep_side(origin)
        times[a].add(dep)
        if home(dest):
            b = -1
        else:
            b = arr_side(dest)
            times[b].add(min(arr + s.connection(dest), H))
        moves.append((kind, ref, a, dep, b, arr, escort, cost))

    leg_ids = list(s.legs)
    for li, leg in enumerate(s.legs.values()):
        dep = s.minutes(leg.departure)
        if dep < 0 or dep >= H or home(leg.origin):
            continue
        move(
            LEG,
            li,
            leg.origin,
            leg.destination,
            dep,
            s.minutes(leg.arrival),
            leg.escort,
            leg.cost_per_seat,
        )

    trips: list[PoolTrip] = []
    pool_days: list[tuple[str, date, int]] = []
    for pool in s.pools.values():
        zone = s.zone(pool.origin)
        day = pool.first_day
        while day <= pool.last_day:
            pd = len(pool_days)
            used = False
            for clock in pool.departures:
                moment = datetime.combine(day, clock, tzinfo=zone)
                dep = s.minutes(moment)
                if dep < 0 or dep >= H:
                    continue
                arr = dep + pool.travel_minutes
                move(
                    POOL,
                    len(trips),
                    pool.origin,
                    pool.destination,
                    dep,
                    arr,
                    pool.escort,
                    pool.cost_per_seat,
                )
                trips.append(PoolTrip(pool.id, day, dep, arr, pool.seats, pd))
                used = True
            if used:
                pool_days.append((pool.id, day, pool.buses_per_day))
            day += timedelta(days=1)

    # Crossing openings: people who waited at the in side pass when it opens.
    crossing_ids = list(s.crossings)
    for crossing in s.crossings.values():
        a = side(crossing.place, "in")
        side(crossing.place, "out")
        if crossing.opens is not None and crossing.closes is not None:
            zone = s.zone(crossing.place)
            day = s.start.astimezone(zone).date()
            while True:
                moment = datetime.combine(day, crossing.opens, tzinfo=zone)
                if moment >= s.end:
                    break
                if moment >= s.start:
                    times[a].add(s.minutes(moment))
                day += timedelta(days=1)

    # The moments at which locked and notified itineraries pass a crossing: a told pass
    # is a moment of its own, not only while an arrival (which a cancelled leg takes
    # away) or an opening happens to fall then (plan.path_of looks the pass up exactly).
    for h in s.households.values():
        for steps in (h.locked, h.notified):
            for step in steps or ():
                if step.kind == "crossing" and step.ref in s.crossings and step.at is not None:
                    t = s.minutes(step.at)
                    if 0 <= t < H:
                        times[side(step.ref, "in")].add(t)

    # Sources.
    sources_time: dict[str, tuple[int, int]] = {}
    problems: dict[str, str] = {}
    for h in s.households.values():
        if h.declined:
            problems[h.id] = "declined"
            continue
        if home(h.location):
            problems[h.id] = "home"
            continue
        a = arr_side(h.location)
        t = max(0, s.minutes(h.available_from)) if h.available_from else 0
        if t >= H:
            problems[h.id] = "late"
            continue
        sources_time[h.id] = (a, t)
        if not sides[a].affected or sides[a].part == "in":
            # Abroad or at a border, the nights from the moment of availability count:
            # the household's first node is that moment, not the next departure.
            times[a].add(t)

    # Pass arcs need the in side's times first; every side ends at the horizon.
    for i in range(len(sides)):
        times[i].add(H)
    pass_moves: list[tuple[int, int, int, int]] = []  # (crossing idx, in side, t, out side)
    for ci, crossing in enumerate(s.crossings.values()):
        a = side_index[(crossing.place, "in")]
        b = side_index[(crossing.place, "out")]
        zone = s.zone(crossing.place)
        for t in sorted(times[a]):
            if t >= H or not _open(s, crossing, t, zone):
                continue
            times[b].add(min(t + crossing.minutes, H))
            pass_moves.append((ci, a, t, b))

    # Nodes.
    node_side_l: list[int] = []
    node_time_l: list[int] = []
    side_nodes: list[np.ndarray] = []
    side_times: list[list[int]] = []
    for i in range(len(sides)):
        ts = sorted(times[i])
        first = len(node_time_l)
        node_side_l += [i] * len(ts)
        node_time_l += ts
        side_nodes.append(np.arange(first, first + len(ts)))
        side_times.append(ts)
    n_nodes = len(node_time_l)
    sink = n_nodes

    def node_at(side_i: int, t: int) -> int:
        ts = side_times[side_i]
        return int(side_nodes[side_i][bisect.bisect_left(ts, t)])

    def node_from(side_i: int, t: int) -> int:
        """The first node of a side at or after t, or -1."""
        ts = side_times[side_i]
        k = bisect.bisect_left(ts, t)
        return int(side_nodes[side_i][k]) if k < len(ts) and ts[k] < H else -1

    # Resources and hotel beds per place and night.
    resources: list[Resource] = []
    leg_res: dict[int, int] = {}
    hotels_at: dict[tuple[str, date], list[tuple[str, int]]] = defaultdict(list)
    night_cost_at: dict[str, float] = {}
    for hotel in s.hotels.values():
        for night, beds in hotel.beds.items():
            if beds > 0:
                hotels_at[(hotel.place, night)].append((hotel.id, beds))
        cost = night_cost_at.get(hotel.place)
        night_cost_at[hotel.place] = (
            hotel.cost_per_night if cost is None else min(cost, hotel.cost_per_night)
        )
    night_res: dict[tuple[str, date], int] = {}
    crossing_res: dict[tuple[int, date], int] = {}

    pol = s.policy

    def safe_at(t: int) -> float:
        return 1.0 - pol.time_weight * min(max(t, 0), H) / H

    tail_l: list[int] = []
    head_l: list[int] = []
    kind_l: list[int] = []
    ref_l: list[int] = []
    tf_l: list[int] = []
    tt_l: list[int] = []
    sv_l: list[float] = []
    hv_l: list[float] = []
    cost_l: list[float] = []
    esc_l: list[bool] = []
    permit_l: list[int] = []
    arc_res: list[list[int]] = []
    nights_of: dict[int, list[date]] = {}

    def add(
        tail: int,
        head: int,
        kind: int,
        ref: int,
        t0: int,
        t1: int,
        *,
        sv: float = 0.0,
        hv: float = 0.0,
        cost: float = 0.0,
        escort: bool = True,
        permit: int = -1,
        res: list[int] | None = None,
    ) -> int:
        tail_l.append(tail)
        head_l.append(head)
        kind_l.append(kind)
        ref_l.append(ref)
        tf_l.append(t0)
        tt_l.append(t1)
        sv_l.append(sv)
        hv_l.append(hv)
        cost_l.append(cost)
        esc_l.append(escort)
        permit_l.append(permit)
        arc_res.append(res or [])
        return len(tail_l) - 1

    for kind, ref, a, dep, b, arr, escort, money in moves:
        tail = node_at(a, dep)
        crosses_out = sides[a].affected and (b == -1 or not sides[b].affected)
        sv = safe_at(dep) if crosses_out else 0.0
        if b == -1:
            head = sink
            hv = pol.home_weight * safe_at(arr)
        else:
            head = node_at(b, min(arr + s.connection(sides[b].place), H))
            hv = 0.0
        res: list[int] = []
        if kind == LEG:
            if ref not in leg_res:
                leg = s.legs[leg_ids[ref]]
                leg_res[ref] = len(resources)
                resources.append(Resource("leg", leg.id, None, leg.seats))
            res = [leg_res[ref]]
        add(
            tail,
            head,
            kind,
            ref,
            dep,
            arr,
            sv=sv,
            hv=hv,
            cost=pol.money_cost * money,
            escort=escort,
            res=res,
        )

    for ci, a, t, b in pass_moves:
        crossing = s.crossings[crossing_ids[ci]]
        day = s.moment(t).astimezone(s.zone(crossing.place)).date()
        key = (ci, day)
        if key not in crossing_res:
            crossing_res[key] = len(resources)
            resources.append(Resource("crossing", crossing.place, day, crossing.daily_capacity))
        add(
            node_at(a, t),
            node_at(b, min(t + crossing.minutes, H)),
            PASS,
            ci,
            t,
            t + crossing.minutes,
            sv=safe_at(t) if sides[a].affected else 0.0,
            permit=ci if crossing.permit_required else -1,
            res=[crossing_res[key]],
        )

    # Waits, night by night; and the horizon's end.
    instants_of: dict[str, list[tuple[int, date]]] = {}
    for i, sd in enumerate(sides):
        ts = side_times[i]
        nodes = side_nodes[i]
        if not sd.affected and sd.place not in instants_of:
            instants_of[sd.place] = night_instants(s.places[sd.place].timezone, s.start, s.end)
        if sd.part == "in" and sd.place not in instants_of:
            instants_of[sd.place] = night_instants(s.places[sd.place].timezone, s.start, s.end)
        instants = instants_of.get(sd.place, [])
        for k in range(len(ts) - 1):
            res = []
            nights: list[date] = []
            if sd.part == "in" and any(ts[k] <= i < ts[k + 1] for i, _ in instants):
                continue  # nobody spends the night at a border crossing
            if not sd.affected:
                # Where no bed is contracted the night's capacity is 0: the wait exists
                # (so that a missing hotel reads as a lack of capacity) but holds no one.
                for instant, night in instants:
                    if ts[k] <= instant < ts[k + 1]:
                        key2 = (sd.place, night)
                        if key2 not in night_res:
                            night_res[key2] = len(resources)
                            beds = sum(n for _, n in hotels_at.get(key2, []))
                            resources.append(Resource("night", sd.place, night, beds))
                        res.append(night_res[key2])
                        nights.append(night)
            cost = len(nights) * (pol.night_cost + pol.money_cost * night_cost_at.get(sd.place, 0))
            arc = add(
                int(nodes[k]), int(nodes[k + 1]), WAIT, i, ts[k], ts[k + 1], cost=cost, res=res
            )
            if nights:
                nights_of[arc] = nights
        add(int(nodes[-1]), sink, END, i, H, H)

    sources: dict[str, int] = {}
    for hid, (a, t) in sources_time.items():
        node = node_from(a, t)
        sources[hid] = node
        if node < 0:
            problems[hid] = "no_route"

    return Network(
        scenario=s,
        sides=sides,
        side_index=side_index,
        node_side=np.array(node_side_l, dtype=np.int64),
        node_time=np.array(node_time_l, dtype=np.int64),
        side_nodes=side_nodes,
        tail=np.array(tail_l, dtype=np.int64),
        head=np.array(head_l, dtype=np.int64),
        kind=np.array(kind_l, dtype=np.int8),
        ref=np.array(ref_l, dtype=np.int64),
        t_from=np.array(tf_l, dtype=np.int64),
        t_to=np.array(tt_l, dtype=np.int64),
        safe_value=np.array(sv_l),
        home_value=np.array(hv_l),
        cost=np.array(cost_l),
        escort_ok=np.array(esc_l, dtype=bool),
        permit=np.array(permit_l, dtype=np.int64),
        resources=resources,
        arc_resources=arc_res,
        trips=trips,
        pool_days=pool_days,
        leg_ids=leg_ids,
        crossing_ids=crossing_ids,
        hotels_at=dict(hotels_at),
        nights=nights_of,
        sources=sources,
        problems=problems,
    )


def _open(s: Scenario, crossing: Crossing, t: int, zone: tzinfo) -> bool:
    moment = s.moment(t)
    for a, b in crossing.closed:
        if a <= moment < b:
            return False
    if crossing.opens is None or crossing.closes is None:
        return True
    local = moment.astimezone(zone).time()
    if crossing.opens <= crossing.closes:
        return crossing.opens <= local < crossing.closes
    return local >= crossing.opens or local < crossing.closes  # open over midnight


@dataclass(frozen=True)
class ClassKey:
    """Households that the model cannot tell apart except by size: same priority, same
    need of an escort, same approved permits."""

    priority: int
    escort: bool
    permits: frozenset[int]


def class_of(net: Network, h: Household) -> ClassKey:
    stated = tuple(sorted(h.permits.items()))
    approved = net.approved_of.get(stated)
    if approved is None:
        approved = net.approved_of[stated] = frozenset(
            i
            for i, cid in enumerate(net.crossing_ids)
            if net.scenario.crossings[cid].permit_required and h.permits.get(cid) == "approved"
        )
    return ClassKey(h.priority, h.needs_escort, approved)


def allowed(net: Network, key: ClassKey) -> np.ndarray:
    """Arcs that households of a class may use."""
    ok = np.ones(net.n_arcs, dtype=bool)
    if key.escort:
        ok &= net.escort_ok
    needs = net.permit >= 0
    if needs.any():
        permitted = np.isin(net.permit, np.array(sorted(key.permits), dtype=np.int64))
        ok &= ~needs | permitted
    return ok
