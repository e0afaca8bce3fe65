"""From flows to named households: capacities left, the best path for one household,
the LP's flows as paths, and the priority-greedy that fills what rounding left.

Everything here keeps the integer plan feasible: a household is put on a path only if
every seat, crossing place, hotel bed and bus on it is free for all its members. In a hotel
whose free rooms are known it takes rooms, not beds: each stay (its nights in one hotel)
is charged the rooms `rooms.charge` gives, so that publishing can book them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from aman.planning.optimizer import rooms as room_rule
from aman.planning.optimizer.network import END, POOL, WAIT, ClassKey, Network, allowed
from aman.planning.optimizer.scenario import Household

EPS = 1e-9
BIG = np.iinfo(np.int64).max // 4


@dataclass
class Placed:
    household: str
    arcs: list[int]
    hotels: dict[int, list[str]]  # WAIT arc -> hotel per night


class Capacity:
    """What is left of every capacity, in whole people, beds and buses."""

    def __init__(self, net: Network) -> None:
        self.net = net
        self.left = np.array([r.capacity for r in net.resources], dtype=np.int64)
        self.night_res = [i for i, r in enumerate(net.resources) if r.kind == "night"]
        # Per night resource: beds left per hotel.
        self.beds: dict[int, dict[str, int]] = {}
        for i in self.night_res:
            r = net.resources[i]
            assert r.day is not None
            self.beds[i] = dict(net.hotels_at.get((r.ref, r.day), []))
        self.trip_people = np.zeros(len(net.trips), dtype=np.int64)
        self.day_buses = np.zeros(len(net.pool_days), dtype=np.int64)
        self.trip_buses = np.zeros(len(net.trips), dtype=np.int64)
        rows: list[int] = []
        cols: list[int] = []
        for a, res in enumerate(net.arc_resources):
            for k in res:
                rows.append(a)
                cols.append(k)
        order = np.lexsort((cols, rows))
        self._rows = np.array(rows, dtype=np.int64)[order]
        self._cols = np.array(cols, dtype=np.int64)[order]
        self._has_res = np.zeros(net.n_arcs, dtype=bool)
        self._has_res[self._rows] = True
        self._starts = np.searchsorted(self._rows, np.flatnonzero(self._has_res))
        self.pool_arcs = np.flatnonzero(net.kind == POOL)
        trips = net.ref[self.pool_arcs]
        self._pool_trip = trips
        self._pool_seats = np.array([net.trips[t].seats for t in trips], dtype=np.int64)
        self._pool_day = np.array([net.trips[t].pool_day for t in trips], dtype=np.int64)
        self._day_cap = np.array([d[2] for d in net.pool_days], dtype=np.int64)
        # Per arc, as plain lists: one household at a time reads them (numpy's scalar
        # access cost more than the rest of `fits` and `take` together at 100,000 people).
        self._kind: list[int] = net.kind.tolist()
        self._ref: list[int] = net.ref.tolist()
        self._res = net.arc_resources
        self._bed_arc = [
            k == WAIT and any(r in self.beds for r in res)
            for k, res in zip(self._kind, self._res, strict=True)
        ]
        # Per night resource, the hotels whose free rooms are known: rooms left by size.
        self.rooms: dict[int, dict[str, dict[int, int]]] = {}
        hotels = net.scenario.hotels
        for i in self.night_res:
            day = net.resources[i].day
            assert day is not None
            for hid in self.beds[i]:
                known = hotels[hid].rooms
                if known is not None:
                    self.rooms.setdefault(i, {})[hid] = dict(known.get(day, {}))
        self._charges: dict[tuple[str, tuple[int, ...], int], dict[int, int] | None] = {}

    def effective(self, need: int | None = None) -> np.ndarray:
        """Per resource, the most people one household may bring: for nights the beds of
        the emptiest hotel, else what is left. A hotel whose rooms are known either has
        rooms for a household needing `need` beds that night (no limit) or not (0)."""
        eff = self.left.copy()
        for i in self.night_res:
            rooms = self.rooms.get(i)
            if rooms is None or need is None:
                eff[i] = max(self.beds[i].values(), default=0)
                continue
            eff[i] = max(
                (
                    (BIG if self._whole(h, [i], 1, need) else 0) if h in rooms else n
                    for h, n in self.beds[i].items()
                ),
                default=0,
            )
        return eff

    def arc_room(self, need: int | None = None) -> np.ndarray:
        """Per arc, the largest household that still fits on it (nights in hotels whose
        rooms are known: for a household needing `need` beds)."""
        room = np.full(self.net.n_arcs, BIG, dtype=np.int64)
        if len(self._rows):
            eff = self.effective(need)[self._cols]
            room[self._has_res] = np.minimum.reduceat(eff, self._starts)
        if len(self.pool_arcs):
            trips = self._pool_trip
            free_buses = self._day_cap[self._pool_day] - self.day_buses[self._pool_day]
            room[self.pool_arcs] = (
                self.trip_buses[trips] + free_buses
            ) * self._pool_seats - self.trip_people[trips]
        return room

    def fits(self, arcs: list[int], size: int, need: int | None = None) -> bool:
        """Whether a household of `size` people (`need` of them needing a bed of their own:
        all by default) fits on the path."""
        use: dict[int, int] = {}
        trips: dict[int, int] = {}
        res, kind = self._res, self._kind
        for a in arcs:
            for r in res[a]:
                use[r] = use.get(r, 0) + size
            if kind[a] == POOL:
                t = self._ref[a]
                trips[t] = trips.get(t, 0) + size
        beds, left, rooms = self.beds, self.left, self.rooms
        in_rooms = False
        for r, n in use.items():
            if r in beds:
                if r in rooms:
                    in_rooms = True  # the stay decides, below
                elif max(beds[r].values(), default=0) < size:
                    return False
            elif left[r] < n:
                return False
        if in_rooms:
            wanted = size if need is None else need
            for stay in self._stays(arcs):
                if self._choose(stay, size, wanted) is None:
                    return False
        return not trips or self._buses_fit(trips)

    # -- hotels whose rooms are known -------------------------------------------------------

    def _stays(self, arcs: list[int]) -> list[list[int]]:
        """The path's stays, each the night resources of its nights in order: the nights
        at one place between two moves (as `take` houses them)."""
        out: list[list[int]] = []
        stay: list[int] = []
        beds = self.beds
        for a in arcs:
            if self._bed_arc[a]:
                stay += [r for r in self._res[a] if r in beds]
            elif stay and self._kind[a] != WAIT:
                out.append(stay)
                stay = []
        if stay:
            out.append(stay)
        return out

    def _charge(self, hotel: str, nights: list[int], need: int) -> dict[int, int] | None:
        """The rooms a household needing `need` beds is charged for these nights in a hotel
        whose rooms are known, from the rooms free before the plan (the scenario's)."""
        key = (hotel, tuple(nights), need)
        if key not in self._charges:
            known = self.net.scenario.hotels[hotel].rooms or {}
            days: list[date] = []
            for r in nights:
                day = self.net.resources[r].day
                assert day is not None
                days.append(day)
            supply = room_rule.stay_supply([known.get(d, {}) for d in days])
            self._charges[key] = room_rule.charge(need, supply)
        return self._charges[key]

    def _whole(self, hotel: str, nights: list[int], size: int, need: int) -> bool:
        """Whether the hotel houses the household for all these nights as one stay."""
        rooms = self.rooms
        if nights[0] not in rooms or hotel not in rooms[nights[0]]:
            return all(self.beds[r][hotel] >= size for r in nights)
        charged = self._charge(hotel, nights, need)
        if charged is None:
            return False
        for r in nights:
            free = rooms[r][hotel]
            if any(free.get(b, 0) < n for b, n in charged.items()):
                return False
        return True

    def _choose(self, nights: list[int], size: int, need: int) -> dict[int, str] | None:
        """A hotel per night of a stay with a hotel whose rooms are known: one hotel for
        the whole stay where one has room (the fullest), else night by night the emptiest
        with room, a run of nights in one hotel whose rooms are known charged as one stay
        (publishing books it as one); None when the stay cannot be housed."""
        beds = self.beds
        common: set[str] | None = None
        for r in nights:
            common = set(beds[r]) if common is None else common & set(beds[r])
        whole = [h for h in sorted(common or ()) if self._whole(h, nights, size, need)]
        if whole:
            hotel = min(whole, key=lambda h: (min(beds[r][h] for r in nights), h))
            return {r: hotel for r in nights}
        choice: dict[int, str] = {}
        run: list[int] = []
        for r in nights:
            for h in sorted(beds[r], key=lambda h: (-beds[r][h], h)):
                if run and choice[run[-1]] == h:
                    if self._whole(h, [*run, r], size, need):
                        run.append(r)
                        break
                elif self._whole(h, [r], size, need):
                    run = [r]
                    break
            else:
                return None
            choice[r] = h
        return choice

    def _buses_fit(self, trips: dict[int, int]) -> bool:
        extra: dict[int, int] = defaultdict(int)
        for t, n in trips.items():
            trip = self.net.trips[t]
            buses = -(-(self.trip_people[t] + n) // trip.seats)
            extra[trip.pool_day] += max(0, buses - self.trip_buses[t])
        return all(self.day_buses[d] + n <= self.net.pool_days[d][2] for d, n in extra.items())

    def take(self, arcs: list[int], size: int, need: int) -> dict[int, list[str]]:
        """Use the capacities of a path (which must fit); the hotels chosen per wait arc:
        one hotel for a stay where one has room every night, the emptiest one else."""
        hotels: dict[int, list[str]] = {}
        stay: list[int] = []
        res, kind, beds, left = self._res, self._kind, self.beds, self.left
        for a in arcs:
            for r in res[a]:
                if r not in beds:
                    left[r] -= size
            k = kind[a]
            if k == POOL:
                t = self._ref[a]
                trip = self.net.trips[t]
                self.trip_people[t] += size
                buses = -(-self.trip_people[t] // trip.seats)
                self.day_buses[trip.pool_day] += buses - self.trip_buses[t]
                self.trip_buses[t] = buses
            if self._bed_arc[a]:
                stay.append(a)
            elif stay and k != WAIT:
                self._house(stay, size, need, hotels)
                stay = []
        if stay:
            self._house(stay, size, need, hotels)
        return hotels

    def _house(self, stay: list[int], size: int, need: int, hotels: dict[int, list[str]]) -> None:
        nights = [(a, r) for a in stay for r in self.net.arc_resources[a] if r in self.beds]
        if any(r in self.rooms for _, r in nights):
            choice = self._choose([r for _, r in nights], size, need)
            if choice is not None:
                self._take_rooms(nights, choice, size, need, hotels)
                return
        common = None
        for _, r in nights:
            here = {h for h, n in self.beds[r].items() if n >= size}
            common = here if common is None else common & here
        if common:
            hotel = min(common, key=lambda h: (min(self.beds[r][h] for _, r in nights), h))
            choice = {r: hotel for _, r in nights}
        else:
            choice = {r: max(self.beds[r], key=lambda h: self.beds[r][h]) for _, r in nights}
        for a, r in nights:
            self.beds[r][choice[r]] -= size
            self.left[r] -= size
            hotels.setdefault(a, []).append(choice[r])

    def _take_rooms(
        self,
        nights: list[tuple[int, int]],
        choice: dict[int, str],
        size: int,
        need: int,
        hotels: dict[int, list[str]],
    ) -> None:
        """Charge a stay housed as `_choose` says: each run of nights in one hotel whose
        rooms are known its rooms (their beds), other hotels a bed a person."""
        runs: list[list[int]] = []
        for _, r in nights:
            if runs and choice[runs[-1][-1]] == choice[r]:
                runs[-1].append(r)
            else:
                runs.append([r])
        for run in runs:
            hotel = choice[run[0]]
            charged = None
            if run[0] in self.rooms and hotel in self.rooms[run[0]]:
                charged = self._charge(hotel, run, need)
            for r in run:
                if charged is None:
                    used = size
                else:
                    free = self.rooms[r][hotel]
                    for b, n in charged.items():
                        free[b] = free.get(b, 0) - n
                    used = room_rule.beds_of(charged)
                self.beds[r][hotel] -= used
                self.left[r] -= used
        for a, r in nights:
            hotels.setdefault(a, []).append(choice[r])


def time_loss(net: Network) -> np.ndarray:
    """Per arc and person, the value a path loses on it (non-negative, so that shortest
    paths are most valuable ones); affected-side END arcs are not usable (inf)."""
    s = net.scenario
    H = s.horizon
    tw = s.policy.time_weight
    hw = s.policy.home_weight
    affected = np.array([sd.affected for sd in net.sides], dtype=bool)
    tail_aff = affected[net.node_side[net.tail]]
    head_node = np.minimum(net.head, net.sink - 1)
    t_head = np.where(net.head == net.sink, np.minimum(net.t_to, H), net.node_time[head_node])
    t_tail = net.node_time[net.tail]
    pre = tail_aff & (net.head != net.sink) & affected[net.node_side[head_node]]
    dur = np.maximum(t_head - t_tail, 0).astype(float)
    loss = np.where(pre, (tw + hw * tw) * dur / H, hw * tw * dur / H)
    end = net.kind == END
    loss[end] = np.where(tail_aff[end], np.inf, hw * (1 - tw))
    return loss


class Searcher:
    """Best paths in what is left, one shortest-path tree per (escort need, permits, size),
    reused until the path it gives is blocked. Capacities only shrink, so a stale tree is
    optimistic: a path it gives that is still free is still the best one, and a source it
    cannot reach stays unreachable."""

    def __init__(self, net: Network, cap: Capacity) -> None:
        self.net = net
        self.cap = cap
        self.loss = time_loss(net)
        self.n = net.sink + 1
        # (dist, pred, pair, arcs, paths found in this tree by source), by (class, size,
        # beds needed where rooms are known, else 0)
        self.trees: dict[
            tuple[ClassKey, int, int],
            tuple[np.ndarray, list[int], np.ndarray, np.ndarray, dict[int, list[int]]],
        ] = {}
        # Per class: its usable arcs ordered by (head, tail, weight) once, so that each
        # tree only filters them by room (the reversed graph's rows are the heads).
        self.ordered: dict[ClassKey, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        self.searches = 0

    def _order(self, key: ClassKey) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        found = self.ordered.get(key)
        if found is None:
            net = self.net
            arcs = np.flatnonzero(allowed(net, key) & np.isfinite(self.loss))
            w = self.loss[arcs] + net.cost[arcs] + EPS
            heads, tails = net.head[arcs], net.tail[arcs]
            order = np.lexsort((w, tails, heads))
            arcs, w = arcs[order], w[order]
            pair = heads[order].astype(np.int64) * self.n + tails[order]
            found = self.ordered[key] = (arcs, w, pair, heads[order])
        return found

    def _tree(
        self, key: ClassKey, size: int, need: int | None = None
    ) -> tuple[np.ndarray, list[int], np.ndarray, np.ndarray, dict[int, list[int]]]:
        arcs, w, pair, heads = self._order(key)
        ok = self.cap.arc_room(need)[arcs] >= size
        arcs, w, pair, heads = arcs[ok], w[ok], pair[ok], heads[ok]
        # Parallel arcs: the cheapest (first in each (head, tail) run).
        first = np.ones(len(arcs), dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        arcs, w, pair, heads = arcs[first], w[first], pair[first], heads[first]
        n = self.n
        indptr = np.searchsorted(heads, np.arange(n + 1))
        g = sp.csr_matrix((w, pair % n, indptr), shape=(n, n))  # reversed: head -> tail
        dist, pred = dijkstra(g, directed=True, indices=n - 1, return_predecessors=True)
        self.searches += 1
        paths: dict[int, list[int]] = {}
        tree = (dist, pred.tolist(), pair, arcs, paths)
        self.trees[(key, size, need or 0)] = tree
        return tree

    def path(
        self, key: ClassKey, size: int, source: int, need: int | None = None
    ) -> list[int] | None:
        key = ClassKey(0, key.escort, key.permits)  # one tree serves every priority
        # Where rooms are known, households of one size but not the same need of beds fit
        # in different rooms: a tree per need.
        need = need if self.cap.rooms else None
        tree = self.trees.get((key, size, need or 0))
        fresh = tree is None
        if tree is None:
            tree = self._tree(key, size, need)
        sink = self.n - 1
        while True:
            dist, pred, pair, arcs_of, paths = tree
            arcs = paths.get(source)
            if arcs is None:
                if not np.isfinite(dist[source]):
                    return None
                nodes = [source]
                v = source
                while v != sink:
                    v = pred[v]
                    nodes.append(v)
                tails = np.array(nodes[:-1], dtype=np.int64)
                want = np.array(nodes[1:], dtype=np.int64) * self.n + tails
                arcs = paths[source] = arcs_of[np.searchsorted(pair, want)].tolist()
            if self.cap.fits(arcs, size, need):
                return arcs
            if fresh:
                # Cannot happen but where rooms are known: a fresh tree uses only arcs with
                # room, night by night, and a stay of several nights may still not fit.
                return None
            tree = self._tree(key, size, need)
            fresh = True


def order_key(h: Household) -> tuple[int, int, str]:
    """Priority first, then larger households (they are harder to fit), then id."""
    return (-h.priority, -h.size, h.id)


def greedy(
    net: Network,
    cap: Capacity,
    households: list[Household],
    keys: dict[str, ClassKey],
    placed: dict[str, Placed],
) -> int:
    """Give each household, highest priority first, the best path left for it."""
    searcher = Searcher(net, cap)
    for h in sorted(households, key=order_key):
        if h.id in placed:
            continue
        source = net.sources.get(h.id, -1)
        if source < 0:
            continue
        arcs = searcher.path(keys[h.id], h.size, source, h.room_need)
        if arcs is None:
            continue
        placed[h.id] = Placed(h.id, arcs, cap.take(arcs, h.size, h.room_need))
    return searcher.searches


def path_value(net: Network, arcs: list[int], weight: float) -> float:
    idx = np.array(arcs, dtype=np.int64)
    return float(weight * (net.safe_value[idx] + net.home_value[idx]).sum() - net.cost[idx].sum())


def moves(net: Network, arcs: list[int]) -> list[int]:
    """The arcs of a path that move people (legs, pool trips, crossings)."""
    moving = net.moving
    return [a for a in arcs if moving[a]]
