"""Solve a scenario: the LP, its rounding to named households, the priority-greedy repair,
the plain greedy beside it, and the plan as plain data (`aman.plan/1`, docs/planning.md).

Steps (`solve`):
1. build the time-expanded network;
2. put locked households, and notified ones whose itinerary starts within the firm hours,
   on their itineraries (they are fixed, their capacity is used);
3. solve the LP over the other households, with a column per notified itinerary
   rewarding those who keep it, in the arc formulation (HiGHS's interior point,
   crossover for a vertex; strict priority as a sequence of LPs, one per level; the
   plain greedy of step 6 runs meanwhile), each class's flow then decomposed into
   itineraries per source (model.py; column generation when asked for). A re-plan whose
   scenario carries the previous plan's dual prices first solves the LP with every
   notified itinerary still possible held, and keeps that plan when the bound from the
   prices proves it close (`_try_held`);
4. keep notified itineraries as the LP says, and give each source's households the
   itineraries the LP gives their class there, largest first (an LP re-solved on what
   rounding left out, a dive, did no better than step 5: measured, and dropped);
5. give every household still without an itinerary the best path left (priority first);
6. run the plain priority-greedy from the same fixed start, and keep the better plan.
"""

from __future__ import annotations

import threading
import time as _time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import numpy as np

from aman.planning.optimizer import integer, model, network, scenario
from aman.planning.optimizer.network import END, LEG, PASS, POOL, WAIT, ClassKey, Network
from aman.planning.optimizer.scenario import Household, Price, Scenario, Step

FORMAT = "aman.plan/1"

REASONS = {
    "declined": "declined",
    "home": "already in the home country",
    "late": "available only after the horizon ends",
    "no_route": "no route from {place} before the horizon ends",
    "no_capacity": "no capacity from {place} before the horizon ends",
    "needs_escort": "needs a medical escort; none available",
    "permit_pending": "transit permit pending at {crossing}",
    "permit_refused": "transit permit refused at {crossing}",
}

# The plan's warnings: a code, its parameters, and the text in English (the code is for
# translation, as the reasons').
WARNINGS = {
    "lock_dropped": "household {household}: its locked itinerary is no longer possible",
    "lp_failed": "the LP ended {status}; the plan is the greedy's",
    "price_unknown": "what keeping the promises costs is unknown: {error}",
    "limits_failed": "the limits could not be computed: {error}",
}


def warning(code: str, **params: Any) -> dict[str, Any]:
    """A warning of the plan (`warnings`): {"code", "text", **params}."""
    return {"code": code, "text": WARNINGS[code].format(**params), **params}


@dataclass
class Options:
    method: str = "auto"  # auto (LP + repair, greedy beside it) | lp | greedy
    lp: str = "auto"  # auto | columns (column generation) | arcs (the arc formulation)
    threads: int = 2
    time_limit: float = 120.0
    # The per-day curve of the most people who could be safe (one LP per day; `limits`).
    limits: bool = False
    # A re-plan whose scenario carries the previous plan's prices first keeps every
    # notified itinerary still possible and plans the others around them (an LP a
    # fraction of the size); that plan stands when the bound from the prices shows it
    # within `held_gap` of the best possible, else the full LP runs (`_try_held`).
    held: bool = True
    held_gap: float = 0.001
    # What keeping promises costs: a re-plan is solved again owing nobody anything (the
    # firm and locked itineraries still kept), and the two are compared
    # (`stability.without_promises`).
    price: bool = False
    # Told the stage being entered: network, greedy, lp, rounding, result, price, limits.
    progress: Callable[[str], None] | None = None

    def stage(self, name: str) -> None:
        if self.progress is not None:
            self.progress(name)


@dataclass
class Result:
    scenario: Scenario
    net: Network
    placed: dict[str, integer.Placed]
    fixed: set[str]  # locked or firm
    method: str
    objective: float
    bound: float | None
    lp_status: str
    seconds: dict[str, float]
    baseline: dict[str, Any] | None
    stability: dict[str, Any]
    warnings: list[dict[str, Any]] = field(default_factory=list)
    stages: list[dict[str, float]] = field(default_factory=list)
    lp: model.LPResult | None = None
    master: model.Master | None = None
    limits: list[dict[str, Any]] = field(default_factory=list)
    # The shadow prices' capacities in people safe by each day (`limits`, `shadow_prices`).
    people_gains: dict[ResourceKey, list[tuple[str, float]]] = field(default_factory=dict)
    # A re-plan that owes promises (notified itineraries not fixed): its price can be shown.
    promised: bool = False
    # "lp": the bound is the LP's optimum; "prices": a held plan's, from the scenario's
    # prices (`_try_held`).
    bound_from: str = "lp"
    firm: set[str] = field(default_factory=set)  # of `fixed`: kept as told, not locked

    @property
    def gap(self) -> float | None:
        if self.bound is None or self.bound <= 0:
            return None
        return max(0.0, (self.bound - self.objective) / self.bound)


@dataclass
class StepIndex:
    """Arcs by what a scenario's steps name, built once per solve (not per household)."""

    wait_from: dict[int, int]  # node -> its WAIT arc
    end_from: dict[int, int]  # node -> its END arc
    legs: dict[str, int]  # leg id -> LEG arc
    pools: dict[tuple[str, int], int]  # (pool id, departure minute) -> POOL arc
    passes: dict[tuple[str, int], int]  # (crossing id, minute) -> PASS arc
    pass_from: dict[int, int]  # node -> its PASS arc
    # The network's arrays as plain lists (read one element at a time), and the paths
    # already found by (source, steps): households told the same itinerary share it.
    node_time: list[int] = field(default_factory=list)
    node_side: list[int] = field(default_factory=list)
    head: list[int] = field(default_factory=list)
    tail: list[int] = field(default_factory=list)
    found: dict[tuple[int, tuple[Step, ...]], list[int] | None] = field(default_factory=dict)

    @classmethod
    def of(cls, net: Network) -> StepIndex:
        index = cls(
            {},
            {},
            {},
            {},
            {},
            {},
            net.node_time.tolist(),
            net.node_side.tolist(),
            net.head.tolist(),
            net.tail.tolist(),
        )
        for a in range(net.n_arcs - 1, -1, -1):  # the first arc wins, as before
            kind, ref, tail = int(net.kind[a]), int(net.ref[a]), int(net.tail[a])
            if kind == WAIT:
                index.wait_from[tail] = a
            elif kind == END:
                index.end_from[tail] = a
            elif kind == LEG:
                index.legs[net.leg_ids[ref]] = a
            elif kind == POOL:
                trip = net.trips[ref]
                index.pools[(trip.pool, trip.departure)] = a
            elif kind == PASS:
                index.passes[(net.crossing_ids[ref], int(net.t_from[a]))] = a
                index.pass_from[tail] = a
        return index


def path_of(
    net: Network, h: Household, steps: tuple[Step, ...], index: StepIndex
) -> list[int] | None:
    """The arcs of an itinerary given as steps, from the household's source on; None when
    it is no longer possible (a leg cancelled, a crossing closed, no bed for a night). A
    crossing not given as a step is passed at the first moment it lets people through."""
    source = net.sources.get(h.id, -1)
    if source < 0:
        return None
    memo = (source, steps)
    if memo not in index.found:
        index.found[memo] = _path_from(net, source, steps, index)
    arcs = index.found[memo]
    return None if arcs is None else list(arcs)


def _path_from(
    net: Network, source: int, steps: tuple[Step, ...], index: StepIndex
) -> list[int] | None:
    s = net.scenario
    node_time, node_side, head, tail = index.node_time, index.node_side, index.head, index.tail
    sink = net.sink
    arcs: list[int] = []
    v = source
    for step in steps:
        if step.kind == "leg":
            found = index.legs.get(step.ref)
        else:
            assert step.at is not None
            table = index.pools if step.kind == "pool" else index.passes
            found = table.get((step.ref, s.minutes(step.at)))
        if found is None:
            return None
        move = found
        target = tail[move]
        while v != target:
            if node_time[v] > node_time[target]:
                return None
            if node_side[v] != node_side[target]:
                crossing = index.pass_from.get(v)
                if crossing is not None:
                    after = head[crossing]
                    if (
                        node_side[after] == node_side[target]
                        and node_time[after] <= node_time[target]
                    ):
                        arcs.append(crossing)
                        v = after
                        continue
            w = index.wait_from.get(v)
            if w is None:
                return None
            arcs.append(w)
            v = head[w]
        arcs.append(move)
        v = head[move]
        if v == sink:
            return arcs
    while v != sink:
        w = index.wait_from.get(v)
        if w is None:
            end = index.end_from.get(v)
            if end is None:  # the steps stop where nobody may stay (an affected side)
                return None
            arcs.append(end)
            break
        arcs.append(w)
        v = head[w]
    return arcs


def _first_departure(net: Network, arcs: list[int]) -> int | None:
    moving = net.moving
    for a in arcs:
        if moving[a]:
            return int(net.t_from[a])
    return None


def household_value(net: Network, h: Household, arcs: list[int]) -> float:
    return h.size * integer.path_value(net, arcs, model.weight_of(h.priority))


def _kept(
    placed: dict[str, integer.Placed], notified: dict[str, list[int] | None], fixed: set[str]
) -> set[str]:
    """Notified households (not fixed) whose itinerary is unchanged: they earn the
    stability reward, as in the LP."""
    return {
        hid
        for hid, arcs in notified.items()
        if arcs is not None and hid not in fixed and hid in placed and placed[hid].arcs == arcs
    }


def reward_per_person(net: Network, size: int) -> float:
    """The stability reward is per household kept as told (one promise, one family to
    tell again), in people: `stability_reward` times the mean size of the households
    whose promise the plan may keep or break (`Network.told_mean`), whatever this one's
    size — so that keeping two small households is worth more than keeping one large one
    of the same people."""
    return net.scenario.policy.stability_reward * net.told_mean / size


def _evaluate(net: Network, placed: dict[str, integer.Placed], kept: set[str]) -> float:
    s = net.scenario
    hs = s.households
    total = sum(household_value(net, hs[k], p.arcs) for k, p in placed.items())
    return total + s.policy.stability_reward * net.told_mean * len(kept)


def solve(s: Scenario, options: Options | None = None) -> Result:
    opts = options or Options()
    t0 = _time.perf_counter()
    opts.stage("network")
    net = network.build(s)
    seconds = {"build": _time.perf_counter() - t0}
    keys = {h.id: network.class_of(net, h) for h in s.households.values()}
    warnings: list[dict[str, Any]] = []

    # Fixed: locked itineraries, and notified ones that start within the firm hours.
    firm_until = s.policy.firm_hours * 60
    fixed_paths: dict[str, list[int]] = {}
    firm: set[str] = set()  # fixed as told (within the firm hours), not by a lock
    notified_paths: dict[str, list[int] | None] = {}
    base = integer.Capacity(net)
    step_index = StepIndex.of(net)
    allowed_of: dict[ClassKey, np.ndarray] = {}

    def permitted(h: Household, arcs: list[int] | None) -> list[int] | None:
        """The itinerary, if the household may still take it (escort, permits)."""
        if arcs is None:
            return None
        key = keys[h.id]
        if key not in allowed_of:
            allowed_of[key] = network.allowed(net, key)
        return arcs if bool(allowed_of[key][np.array(arcs, dtype=np.int64)].all()) else None

    for h in sorted(s.households.values(), key=integer.order_key):
        if h.id in net.problems:
            if h.notified:  # what it was told can no longer be (no route, late): displaced
                notified_paths[h.id] = None
            continue
        if h.locked:
            arcs = permitted(h, path_of(net, h, h.locked, step_index))
            if arcs is not None and base.fits(arcs, h.size, h.room_need):
                fixed_paths[h.id] = arcs
                base.take(arcs, h.size, h.room_need)
                continue
            warnings.append(warning("lock_dropped", household=h.id))
        if h.notified:
            arcs = permitted(h, path_of(net, h, h.notified, step_index))
            notified_paths[h.id] = arcs
            first = _first_departure(net, arcs) if arcs else None
            if (
                arcs is not None
                and first is not None
                and first < firm_until
                and base.fits(arcs, h.size, h.room_need)
            ):
                fixed_paths[h.id] = arcs
                firm.add(h.id)
                base.take(arcs, h.size, h.room_need)
    fixed_start = _snapshot(base)
    promises = [
        s.households[hid].size
        for hid, arcs in notified_paths.items()
        if arcs is not None and hid not in fixed_paths
    ]
    net.told_mean = sum(promises) / len(promises) if promises else 1.0
    free = [
        h for h in s.households.values() if h.id not in net.problems and h.id not in fixed_paths
    ]

    def fixed_placed() -> dict[str, integer.Placed]:
        out = {}
        for hid, arcs in fixed_paths.items():
            out[hid] = integer.Placed(hid, arcs, {})
        return out

    def hotels_for_fixed(placed: dict[str, integer.Placed]) -> None:
        cap = integer.Capacity(net)
        for h in sorted((s.households[k] for k in fixed_paths), key=integer.order_key):
            placed[h.id].hotels = cap.take(fixed_paths[h.id], h.size, h.room_need)

    # Greedy (the baseline, and the plan when asked for).
    greedy_placed: dict[str, integer.Placed] | None = None
    greedy_value = None

    def run_greedy() -> None:
        nonlocal greedy_placed, greedy_value
        t = _time.perf_counter()
        cap = _restore(net, fixed_start)
        placed = fixed_placed()
        _keep_notified(net, cap, free, notified_paths, placed)
        integer.greedy(net, cap, free, keys, placed)
        kept_g = _kept(placed, notified_paths, set(fixed_paths))
        greedy_value = _evaluate(net, placed, kept_g)
        greedy_placed = placed
        seconds["greedy"] = _time.perf_counter() - t

    lp_placed: dict[str, integer.Placed] | None = None
    lp_value = None
    bound = None
    lp_status = "not run"
    bound_from = "lp"
    stages: list[dict[str, float]] = []
    lp_res = None
    master = None
    if opts.method in ("auto", "lp"):
        t = _time.perf_counter()
        groups_d: dict[tuple[ClassKey, int], model.Group] = {}
        incs_d: dict[tuple[ClassKey, int, tuple[int, ...], int], model.Incumbent] = {}
        for h in free:
            key = keys[h.id]
            src = net.sources[h.id]
            g = groups_d.setdefault((key, src), model.Group(key, src, [], 0))
            g.households.append(h.id)
            g.people += h.size
            arcs = notified_paths.get(h.id)
            if arcs is not None:
                ik = (key, src, tuple(arcs), h.size)
                inc = incs_d.setdefault(
                    ik,
                    model.Incumbent(key, src, list(arcs), [], 0, reward_per_person(net, h.size)),
                )
                inc.households.append(h.id)
                inc.people += h.size
        used = np.array([r.capacity for r in net.resources], dtype=float) - fixed_start["left"]
        master = model.Master(
            net,
            list(groups_d.values()),
            list(incs_d.values()),
            used,
            fixed_start["trip_people"].astype(float),
            threads=opts.threads,
        )
        seconds["lp_build"] = _time.perf_counter() - t
        # The arc formulation (measured at 100,000 people: 12 s under weights, where
        # column generation took 80 s; 35 s under strict priority, where it did not
        # finish in 120 s); column generation when asked for.
        arcs_lp = opts.lp in ("auto", "arcs")
        fixed_value = _evaluate(
            net, {k: integer.Placed(k, v, {}) for k, v in fixed_paths.items()}, set()
        )

        def round_lp(res: model.LPResult) -> tuple[dict[str, integer.Placed], float]:
            t = _time.perf_counter()
            cap = _restore(net, fixed_start)
            out = fixed_placed()
            owed = _round(net, master, res, cap, keys, out)
            # Those the LP sent but its itineraries had no whole room for, then the
            # promises still possible, then anyone: the LP chose the first over the second.
            integer.greedy(net, cap, owed, keys, out)
            _keep_notified(net, cap, free, notified_paths, out)
            integer.greedy(net, cap, free, keys, out)
            value = _evaluate(net, out, _kept(out, notified_paths, set(fixed_paths)))
            seconds["round_repair"] = seconds.get("round_repair", 0.0) + _time.perf_counter() - t
            return out, value

        held: tuple[model.LPResult, dict[str, integer.Placed], float, float] | None = None
        if arcs_lp:
            opts.stage("lp")
            greedy_thread = None
            failed: list[BaseException] = []

            def greedy_beside() -> None:
                try:
                    run_greedy()
                except BaseException as exc:  # raised again in this thread below
                    failed.append(exc)

            # Built before the greedy starts: both are Python, and the LP's solve, which
            # is not, should start first.
            full = model.ArcsLP(master, mode=s.policy.mode, time_limit=opts.time_limit)
            try_held = opts.held and s.prices and master.incumbents and s.policy.mode == "weights"
            if try_held:
                # The full LP runs beside the held attempt and is stopped when the held
                # plan is kept: a crossing closed for days never keeps it, and waited
                # 1.6 s for it at 100,000 people before the full LP's 9 s.
                lp_failed: list[BaseException] = []

                def run_full() -> None:
                    try:
                        full.run()
                    except BaseException as exc:  # raised again in this thread below
                        lp_failed.append(exc)

                runner = threading.Thread(target=run_full, daemon=True)
                runner.start()
            if opts.method == "auto":  # the greedy runs while HiGHS solves
                greedy_thread = threading.Thread(target=greedy_beside, daemon=True)
                greedy_thread.start()
            if try_held:
                try:
                    held = _try_held(s, net, master, opts, fixed_value, round_lp, seconds)
                finally:
                    if held is not None:
                        full.cancel()
                    runner.join()
                if lp_failed and held is None:
                    raise lp_failed[0]
            else:
                full.run()
            lp_res = held[0] if held is not None else full.result()
            if greedy_thread is not None:
                greedy_thread.join()
                if failed:
                    raise failed[0]
        else:
            if opts.method == "auto":
                opts.stage("greedy")
                run_greedy()
            opts.stage("lp")
            initial = []
            if greedy_placed is not None:
                for hid, p in greedy_placed.items():
                    if hid not in fixed_paths:
                        initial.append((master.group_of[(keys[hid], net.sources[hid])], p.arcs))
            lp_res = master.solve(mode=s.policy.mode, time_limit=opts.time_limit, initial=initial)
        seconds["lp"] = lp_res.seconds
        lp_status = lp_res.status
        stages = lp_res.stages
        if held is not None:
            _, lp_placed, lp_value, bound = held
            bound_from = "prices"
        elif lp_res.status == "Optimal":
            # Strict priority has no single bound of every plan: its stages carry one per
            # level (a plan kept from the greedy is not held to the levels before).
            bound = lp_res.bound + fixed_value if s.policy.mode != "strict" else None
            opts.stage("rounding")
            lp_placed, lp_value = round_lp(lp_res)
        else:
            warnings.append(warning("lp_failed", status=lp_res.status))

    if greedy_placed is None and (opts.method == "greedy" or lp_placed is None):
        opts.stage("greedy")
        run_greedy()
    if lp_placed is not None and (greedy_value is None or (lp_value or 0) >= greedy_value):
        placed, method, value = lp_placed, "lp-round-repair", float(lp_value or 0)
    else:
        assert greedy_placed is not None, "the greedy runs whenever the LP does not"
        placed, method, value = greedy_placed, "greedy", float(greedy_value or 0)
    opts.stage("result")
    hotels_for_fixed(placed)
    baseline = None
    if greedy_value is not None and method != "greedy":
        baseline = {"method": "greedy", "objective": greedy_value, "seconds": seconds.get("greedy")}
        if bound:
            baseline["gap"] = max(0.0, (bound - greedy_value) / bound)
        baseline["summary"] = summary_of(s, net, greedy_placed or {})

    stability = _stability(net, notified_paths, placed)
    seconds["total"] = _time.perf_counter() - t0
    result = Result(
        scenario=s,
        net=net,
        placed=placed,
        fixed=set(fixed_paths),
        method=method,
        objective=value,
        bound=bound,
        lp_status=lp_status,
        seconds=seconds,
        baseline=baseline,
        stability=stability,
        warnings=warnings,
        stages=stages,
        lp=lp_res,
        master=master,
        bound_from=bound_from,
        firm=firm,
    )
    result.promised = any(
        arcs is not None and hid not in fixed_paths for hid, arcs in notified_paths.items()
    )
    explain(result, opts)
    return result


def explain(result: Result, opts: Options) -> None:
    """What the plan is shown with, asked for by `opts` and solved after it: the price of
    stability (`price`: a re-plan that owes promises, solved again owing none) and the
    per-day limits (`limits`). Separate from `solve` so that a page can keep the plan
    first and add these when they are ready."""
    s = result.scenario
    if opts.price and result.promised and s.policy.stability_reward > 0:
        opts.stage("price")
        t = _time.perf_counter()
        try:
            result.stability["without_promises"] = without_promises(result, opts)
        except Exception as exc:  # the plan stands without its comparison
            result.warnings.append(warning("price_unknown", error=str(exc)[:500]))
        result.seconds["price"] = _time.perf_counter() - t
    if opts.limits:
        opts.stage("limits")
        t = _time.perf_counter()
        # The capacities the shadow prices name are priced in people by each day too.
        watch = [_key(result.net.resources[r]) for r in _top_prices(result)]
        watch += [("pool", pool, day) for (pool, day), _v, _t in _top_pools(result)]
        result.people_gains = {}
        result.limits = limits(
            s,
            time_limit=opts.time_limit,
            threads=opts.threads,
            watch=watch,
            gains=result.people_gains,
        )
        result.seconds["limits"] = _time.perf_counter() - t


def without_promises(result: Result, opts: Options) -> dict[str, Any]:
    """The price of stability: the same scenario solved again with no notified itinerary
    rewarded (those within the firm hours, and locked ones, still kept as they are), by
    the same method. Its evacuation value less this plan's is what keeping the other
    promises cost (negative when the rounding happened to do better here); its summary
    says who would have been brought out instead, by priority group."""
    s = result.scenario
    households = {}
    for hid, h in s.households.items():
        if hid in result.firm:  # kept as told within the firm hours: kept there too
            households[hid] = replace(h, locked=h.notified, notified=None)
        else:
            households[hid] = replace(h, notified=None)
    free = replace(s, households=households, prices=())
    other = solve(
        free,
        Options(
            method=opts.method,
            lp=opts.lp,
            threads=opts.threads,
            time_limit=opts.time_limit,
            held=False,
        ),
    )
    here = _evaluate(result.net, result.placed, set())
    return {
        "evacuation_objective": other.objective,
        "bound": other.bound,
        "method": other.method,
        "price": other.objective - here,
        "share": (other.objective - here) / other.objective if other.objective > 0 else None,
        "summary": summary_of(free, other.net, other.placed),
    }


def _try_held(
    s: Scenario,
    net: Network,
    master: model.Master,
    opts: Options,
    fixed_value: float,
    round_lp: Callable[[model.LPResult], tuple[dict[str, integer.Placed], float]],
    seconds: dict[str, float],
) -> tuple[model.LPResult, dict[str, integer.Placed], float, float] | None:
    """The held re-plan: every notified itinerary still possible kept whole, the LP for
    the others (measured at 100,000 people: 1.5 s, where the full LP takes 20), rounded;
    its bound from the previous plan's prices (`Master.priced_bound`, valid whatever the
    prices). Kept when within `held_gap` of that bound: (LP, placed, value, bound); None
    when the full LP must decide (a large disruption: a crossing closed for days)."""
    t = _time.perf_counter()
    res = model.solve_arcs(master, mode="weights", time_limit=opts.time_limit, hold=True)
    found = None
    # Holding them all may not fit (a leg now has fewer seats): then the full LP. The held
    # LP's optimum bounds its rounded plan: when even it is too far from the bound, the
    # rounding is not worth doing.
    if res.status == "Optimal":
        y, mu = prices_for(net, s.prices)
        bound = master.priced_bound(y, mu) + fixed_value
        floor = (1.0 - opts.held_gap) * bound
        if res.bound + fixed_value >= floor:
            placed, value = round_lp(res)
            if value >= floor:
                # The held LP's own dual prices are degenerate (a seat held by a notified
                # household is priced by whoever would want it next): the plan's shadow
                # prices, and the prices it passes on, are those that proved it.
                res.resource_duals, res.trip_duals = y, mu
                found = (res, placed, value, bound)
    seconds["held"] = _time.perf_counter() - t
    return found


def prices_for(net: Network, prices: tuple[Price, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The prices named in a scenario, per capacity and pool trip of the network (0 for
    those it does not name)."""
    s = net.scenario
    by_key: dict[tuple[str, str, Any], float] = {}
    for x in prices:
        when = s.minutes(x.at) if x.at is not None else x.day
        by_key[(x.kind, x.ref, when)] = x.price
    y = np.array([by_key.get((r.kind, r.ref, r.day), 0.0) for r in net.resources])
    mu = np.array([by_key.get(("pool_trip", t.pool, t.departure), 0.0) for t in net.trips])
    return y, mu


def prices_of(result: Result) -> list[dict[str, Any]]:
    """The plan's dual prices as a scenario's `prices` (the non-zero ones): the LP's, or
    the prices its bound came from (`_try_held`)."""
    s = result.scenario
    lp = result.lp
    if lp is None or lp.status != "Optimal" or s.policy.mode != "weights":
        return []
    out: list[dict[str, Any]] = []
    for r, v in zip(result.net.resources, lp.resource_duals, strict=False):
        if v > 1e-9:
            x = Price(kind=r.kind, ref=r.ref, price=round(float(v), 9), day=r.day)
            out.append(scenario.dump_price(x))
    for t, v in zip(result.net.trips, lp.trip_duals, strict=False):
        if v > 1e-9:
            x = Price("pool_trip", t.pool, round(float(v), 9), at=s.moment(t.departure))
            out.append(scenario.dump_price(x))
    return out


def _snapshot(cap: integer.Capacity) -> dict[str, Any]:
    return {
        "left": cap.left.copy(),
        "beds": {r: dict(b) for r, b in cap.beds.items()},
        "rooms": {r: {h: dict(x) for h, x in hs.items()} for r, hs in cap.rooms.items()},
        "trip_people": cap.trip_people.copy(),
        "trip_buses": cap.trip_buses.copy(),
        "day_buses": cap.day_buses.copy(),
    }


def _restore(net: Network, snap: dict[str, Any]) -> integer.Capacity:
    cap = integer.Capacity(net)
    cap.left = snap["left"].copy()
    cap.beds = {r: dict(b) for r, b in snap["beds"].items()}
    cap.rooms = {r: {h: dict(x) for h, x in hs.items()} for r, hs in snap["rooms"].items()}
    cap.trip_people = snap["trip_people"].copy()
    cap.trip_buses = snap["trip_buses"].copy()
    cap.day_buses = snap["day_buses"].copy()
    return cap


def _keep_notified(
    net: Network,
    cap: integer.Capacity,
    free: list[Household],
    notified: dict[str, list[int] | None],
    placed: dict[str, integer.Placed],
) -> set[str]:
    kept = set()
    for h in sorted(free, key=integer.order_key):
        if h.id in placed:  # placed by the rounding already: its seats are taken
            continue
        arcs = notified.get(h.id)
        if arcs is not None and cap.fits(arcs, h.size, h.room_need):
            placed[h.id] = integer.Placed(h.id, arcs, cap.take(arcs, h.size, h.room_need))
            kept.add(h.id)
    return kept


def _round(
    net: Network,
    master: model.Master,
    lp: model.LPResult,
    cap: integer.Capacity,
    keys: dict[str, ClassKey],
    placed: dict[str, integer.Placed],
) -> list[Household]:
    """Named households from the LP, group by group, highest priority first: as many
    people as the LP sends from the group (rounded), notified households first (on their
    own itinerary where the LP keeps it), then the largest; each on the best itinerary
    the LP gives the group with room for it whole — the LP may have split it. Returns the
    households the LP sent that none of its itineraries had room for whole (owed a seat
    elsewhere before anyone the LP did not send)."""
    s = net.scenario
    owed: list[Household] = []
    x = lp.x[master.n_bus :]
    columns: dict[int, list[list[Any]]] = defaultdict(list)  # [value, arcs, left, incumbent]
    for k, col in enumerate(master.columns):
        if x[k] > 1e-6:
            columns[col.group].append([col.value, col.arcs, float(x[k]), col.incumbent])
    own: dict[str, int] = {}
    for j, inc in enumerate(master.incumbents):
        for hid in inc.households:
            own[hid] = j
    order = sorted(range(len(master.groups)), key=lambda i: -master.groups[i].key.priority)
    cols_of = {gi: sorted(columns.get(gi, []), key=lambda c: -c[0]) for gi in order}
    total = {gi: sum(c[2] for c in cols_of[gi]) for gi in order}

    def put(h: Household, c: list[Any], gi: int) -> bool:
        if not cap.fits(c[1], h.size, h.room_need):
            return False
        placed[h.id] = integer.Placed(h.id, c[1], cap.take(c[1], h.size, h.room_need))
        c[2] -= h.size
        total[gi] -= h.size
        return True

    # Notified itineraries the LP keeps, first: they were promised. One the LP keeps in
    # part (most of a family: the reward is per household) is kept whole at its group's
    # turn below, where its itinerary still has room: the seat then comes from a group of
    # lower priority, rounded after it.
    partly: dict[int, list[tuple[Household, list[Any]]]] = defaultdict(list)
    for gi in order:
        for c in cols_of[gi]:
            if c[3] < 0:
                continue
            members = sorted(
                master.incumbents[c[3]].households, key=lambda i: (-s.households[i].size, i)
            )
            for hid in members:
                h = s.households[hid]
                if hid in placed:
                    continue
                if h.size <= c[2] + 0.5:
                    put(h, c, gi)
                elif 2 * c[2] >= h.size:
                    partly[gi].append((h, c))
    # Then each group's people as the LP sends them (rounded), largest households first,
    # on the best itinerary with room for the whole household — the LP may split one.
    for gi in order:
        for h, c in partly.get(gi, []):
            if h.id not in placed:
                put(h, c, gi)
        cols = cols_of[gi]
        waiting = sorted(
            (s.households[hid] for hid in master.groups[gi].households if hid not in placed),
            key=lambda h: (-h.size, h.id),
        )
        for h in waiting:
            if total[gi] < h.size - 0.5:
                continue
            whole = [c for c in cols if c[2] >= h.size - 0.5]
            part = sorted((c for c in cols if 1e-6 < c[2] < h.size - 0.5), key=lambda c: -c[2])
            for c in whole + part:
                if put(h, c, gi):
                    break
            else:
                owed.append(h)
    return owed


def _stability(
    net: Network, notified: dict[str, list[int] | None], placed: dict[str, integer.Placed]
) -> dict[str, Any]:
    """Notified households: how many the world displaced (their itinerary is no longer
    possible), how many the plan changed (any of them), how many kept theirs."""
    displaced = sum(1 for arcs in notified.values() if arcs is None)
    changed = 0
    kept_people = 0
    for hid, arcs in notified.items():
        p = placed.get(hid)
        if arcs is None or p is None or integer.moves(net, p.arcs) != integer.moves(net, arcs):
            changed += 1
        else:
            kept_people += net.scenario.households[hid].size
    return {
        "notified": len(notified),
        "displaced": displaced,
        "changed": changed,
        "kept": len(notified) - changed,
        "kept_people": kept_people,
        "ratio": (changed / displaced) if displaced else None,
        "displaced_households": sorted(hid for hid, arcs in notified.items() if arcs is None),
        "reward_per_person": net.scenario.policy.stability_reward,
        "told_mean_size": round(net.told_mean, 3),
    }


# --- the plan as data ----------------------------------------------------------------------


def itinerary(net: Network, h: Household, p: integer.Placed) -> dict[str, Any]:
    """Steps with times; waits that need beds become hotel steps."""
    s = net.scenario
    steps: list[dict[str, Any]] = []
    safe_at = home_at = None
    if not net.sides[net.node_side[net.tail[p.arcs[0]]]].affected:
        safe_at = None  # already safe at the start: only getting home is planned
    stay: dict[str, Any] | None = None
    for a in p.arcs:
        kind = int(net.kind[a])
        tail_side = net.sides[net.node_side[net.tail[a]]]
        if kind == WAIT:
            nights = net.nights.get(a)
            if nights:
                hotels = p.hotels.get(a) or [""] * len(nights)
                for night, hotel in zip(nights, hotels, strict=True):
                    if stay and stay["hotel"] == hotel and stay["place"] == tail_side.place:
                        stay["nights"].append(night.isoformat())
                    else:
                        stay = {
                            "type": "hotel",
                            "hotel": hotel,
                            "place": tail_side.place,
                            "nights": [night.isoformat()],
                        }
                        steps.append(stay)
            continue
        if kind == END:
            continue
        stay = None
        head_side = None if net.head[a] == net.sink else net.sides[net.node_side[net.head[a]]]
        if tail_side.affected and (head_side is None or not head_side.affected) and safe_at is None:
            safe_at = s.moment(int(net.t_from[a])).isoformat()
        if kind == LEG:
            leg = s.legs[net.leg_ids[int(net.ref[a])]]
            steps.append(
                {
                    "type": "leg",
                    "leg": leg.id,
                    "kind": leg.kind,
                    "from": leg.origin,
                    "to": leg.destination,
                    "departure": leg.departure.isoformat(),
                    "arrival": leg.arrival.isoformat(),
                }
            )
        elif kind == POOL:
            trip = net.trips[int(net.ref[a])]
            pool = s.pools[trip.pool]
            steps.append(
                {
                    "type": "pool",
                    "pool": pool.id,
                    "from": pool.origin,
                    "to": pool.destination,
                    "departure": s.moment(trip.departure).isoformat(),
                    "arrival": s.moment(trip.arrival).isoformat(),
                }
            )
        elif kind == PASS:
            cid = net.crossing_ids[int(net.ref[a])]
            steps.append(
                {
                    "type": "crossing",
                    "place": cid,
                    "at": s.moment(int(net.t_from[a])).isoformat(),
                    "entry_country": s.crossings[cid].entry_country,
                }
            )
        if net.head[a] == net.sink:
            home_at = s.moment(int(net.t_to[a])).isoformat()
    return {
        "household": h.id,
        "size": h.size,
        "priority": h.priority,
        "from": h.location,
        "safe_at": safe_at,
        "home_at": home_at,
        "steps": steps,
    }


def _reasons(result: Result) -> dict[str, dict[str, str]]:
    net = result.net
    s = result.scenario
    out: dict[str, dict[str, str]] = {}
    cache: dict[tuple[ClassKey, int], np.ndarray] = {}
    loss = integer.time_loss(net)

    def reach(key: ClassKey, size: int) -> np.ndarray:
        if (key, size) not in cache:
            ok = network.allowed(net, key) & np.isfinite(loss)
            from scipy.sparse import csr_matrix
            from scipy.sparse.csgraph import breadth_first_order

            n = net.sink + 1
            g = csr_matrix((np.ones(int(ok.sum())), (net.head[ok], net.tail[ok])), shape=(n, n))
            seen = np.zeros(n, dtype=bool)
            seen[breadth_first_order(g, net.sink, directed=True, return_predecessors=False)] = True
            cache[(key, size)] = seen
        return cache[(key, size)]

    for h in s.households.values():
        if h.id in result.placed:
            continue
        code = net.problems.get(h.id)
        params = {"place": s.places[h.location].name}
        if code is None:
            key = network.class_of(net, h)
            src = net.sources[h.id]
            if reach(key, 1)[src]:
                code = "no_capacity"
            elif key.escort and reach(ClassKey(key.priority, False, key.permits), 1)[src]:
                code = "needs_escort"
            else:
                every = network.every_permit(net)
                if reach(ClassKey(key.priority, False, every), 1)[src]:
                    # An approval for some days only is pending for the others.
                    states = [
                        (cid, h.permits.get(cid, "pending"))
                        for cid, c in s.crossings.items()
                        if c.permit_required
                        and (h.permits.get(cid) != "approved" or cid in h.permit_days)
                    ]
                    refused = [cid for cid, st in states if st == "refused"]
                    code = (
                        "permit_refused"
                        if refused and len(refused) == len(states)
                        else ("permit_pending")
                    )
                    pick = next((cid for cid, st in states if st != "refused"), None) or (
                        states[0][0] if states else ""
                    )
                    params["crossing"] = s.places[pick].name if pick else ""
                else:
                    code = "no_route"
        out[h.id] = {"code": code, "text": REASONS[code].format(**params), **params}
    return out


ResourceKey = tuple[str, str, Any]  # (kind, ref, day) of a network's capacity


def limits(
    s: Scenario,
    *,
    time_limit: float = 60.0,
    threads: int = 2,
    watch: Sequence[ResourceKey] = (),
    gains: dict[ResourceKey, list[tuple[str, float]]] | None = None,
) -> list[dict[str, Any]]:
    """The most people who could possibly be safe by the end of each day (the scenario's
    clock), whatever their priority: one LP per day over the horizon cut at that day's end,
    every person worth 1 once out of the affected countries, no costs, no locks and no
    promises kept; then each day's value is lowered to the least of the days after it
    (safe by a day is safe by every later day). A bound for any plan's curve (households
    may split in the LP).

    `gains`, when given, gets for each capacity of `watch` its dual price in each day's
    LP: how many more people at most could be safe by that day per unit more of it (the
    LP is concave in each capacity: price × units bounds what that many more would do)."""
    zone = s.zone()
    first = s.start.astimezone(zone).date()
    last = s.end.astimezone(zone).date()
    policy = replace(
        s.policy,
        mode="weights",
        time_weight=0.0,
        home_weight=0.0,
        night_cost=0.0,
        money_cost=0.0,
        stability_reward=0.0,
    )
    households = {
        k: replace(h, priority=0, locked=None, notified=None) for k, h in s.households.items()
    }
    out: list[dict[str, Any]] = []
    day = first
    while day <= last:
        end = min(s.end, datetime.combine(day + timedelta(days=1), time(0), zone))
        if datetime.combine(day, time(0), zone) < s.end:
            cut = replace(s, end=end, policy=policy, households=households)
            net = network.build(cut)
            groups: dict[tuple[ClassKey, int], model.Group] = {}
            for h in cut.households.values():
                if h.id in net.problems:
                    continue
                key = network.class_of(net, h)
                g = groups.setdefault(
                    (key, net.sources[h.id]), model.Group(key, net.sources[h.id], [], 0)
                )
                g.households.append(h.id)
                g.people += h.size
            master = model.Master(
                net,
                list(groups.values()),
                [],
                np.zeros(len(net.resources)),
                np.zeros(len(net.trips)),
                threads=threads,
            )
            # The arc formulation (measured at 100,000 people: 4.7 s for the seven days,
            # where column generation ran out of time).
            lp = model.solve_arcs(master, time_limit=time_limit, decompose=False)
            if lp.status == "Optimal":  # else no bound for the day: the curve skips it
                out.append({"day": day.isoformat(), "most_safe": round(float(lp.bound), 1)})
                if gains is not None and watch:
                    index = {_key(r): i for i, r in enumerate(net.resources)}
                    buses = _bus_values(net, lp.trip_duals)
                    for watched in watch:
                        if watched[0] == "pool":  # people per bus more on the pool's day
                            price = buses.get((watched[1], watched[2]), (0.0, -1))[0]
                        else:
                            i = index.get(watched)
                            ok = i is not None and i < len(lp.resource_duals)
                            price = float(lp.resource_duals[i]) if ok else 0.0
                        gains.setdefault(watched, []).append((day.isoformat(), price))
        day += timedelta(days=1)
    # A cut horizon spares the nights after it, so a day's LP can exceed a later day's;
    # whoever is safe by a day is safe by every later day too: keep the least from then on.
    for i in range(len(out) - 2, -1, -1):
        out[i]["most_safe"] = min(out[i]["most_safe"], out[i + 1]["most_safe"])
    return out


def summary_of(s: Scenario, net: Network, placed: dict[str, integer.Placed]) -> dict[str, Any]:
    """People safe and home, hotel nights, and the priority-weighted mean hours to safety
    (from the later of the start and the household's availability)."""
    people = sum(h.size for h in s.households.values())
    safe = home = nights = 0
    wsum = wtime = 0.0
    by_prio: dict[int, dict[str, float]] = defaultdict(
        lambda: {"people": 0, "safe": 0, "hours": 0.0}
    )
    # Per arc, once: nights it needs, whether it makes people safe (from the affected
    # side to elsewhere, not the horizon's end) and whether it brings them home.
    affected = np.array([sd.affected for sd in net.sides] + [False], dtype=bool)
    node_aff = np.append(affected[net.node_side], False)  # the sink is not affected
    makes_safe = node_aff[net.tail] & ~node_aff[net.head] & (net.kind != END)
    arrives_home = (net.head == net.sink) & (net.kind != END)
    n_nights = np.zeros(net.n_arcs, dtype=np.int64)
    for a, ns in net.nights.items():
        if net.kind[a] == WAIT:
            n_nights[a] = len(ns)
    for h in s.households.values():
        row = by_prio[h.priority]
        row["people"] += h.size
        p = placed.get(h.id)
        if p is None:
            continue
        arcs = np.asarray(p.arcs, dtype=np.int64)
        nights += h.size * int(n_nights[arcs].sum())
        home += h.size * int(arrives_home[arcs].sum())
        first = np.flatnonzero(makes_safe[arcs])
        if len(first):
            t_safe = int(net.t_from[arcs[first[0]]])
            safe += h.size
            avail = max(0, s.minutes(h.available_from)) if h.available_from else 0
            hours = max(0, t_safe - avail) / 60
            w = model.weight_of(h.priority) * h.size
            wsum += w
            wtime += w * hours
            row["safe"] += h.size
            row["hours"] += hours * h.size
    return {
        "households": len(s.households),
        "people": people,
        "assigned_households": len(placed),
        "people_safe": safe,
        "people_home": home,
        "hotel_nights": nights,
        "weighted_mean_hours_to_safety": (wtime / wsum) if wsum else None,
        "by_priority": [
            {
                "priority": prio,
                "people": int(r["people"]),
                "safe": int(r["safe"]),
                "mean_hours_to_safety": (r["hours"] / r["safe"]) if r["safe"] else None,
            }
            for prio, r in sorted(by_prio.items(), reverse=True)
        ],
    }


def pool_trips(result: Result) -> list[dict[str, Any]]:
    net = result.net
    s = result.scenario
    people: dict[int, int] = defaultdict(int)
    for hid, p in result.placed.items():
        for a in p.arcs:
            if net.kind[a] == POOL:
                people[int(net.ref[a])] += s.households[hid].size
    out = []
    for t, n in sorted(people.items(), key=lambda e: net.trips[e[0]].departure):
        trip = net.trips[t]
        pool = s.pools[trip.pool]
        out.append(
            {
                "pool": trip.pool,
                "from": pool.origin,
                "to": pool.destination,
                "departure": s.moment(trip.departure).isoformat(),
                "arrival": s.moment(trip.arrival).isoformat(),
                "buses": -(-n // trip.seats),
                "people": n,
            }
        )
    return out


def _key(res: network.Resource) -> ResourceKey:
    return (res.kind, res.ref, res.day)


def _top_prices(result: Result, limit: int = 12) -> list[int]:
    """The capacities whose next unit is worth most in the plan's LP (dual price > 0)."""
    if result.lp is None or result.lp.status != "Optimal" or not len(result.lp.resource_duals):
        return []
    duals = result.lp.resource_duals
    return [r for r in np.argsort(-duals)[:limit].tolist() if float(duals[r]) > 1e-6]


def _bus_values(net: Network, trip_duals: np.ndarray) -> dict[tuple[str, date], tuple[float, int]]:
    """Per bus pool and day (its origin's clock): what one more of its buses would be
    worth at the best of that day's departures — the bus's seats × that trip's dual price
    (its row: people ≤ seats × buses) — and that trip. A pool's buses a day are a shared
    capacity: at the LP's optimum a trip that runs a bus prices the day's next bus so."""
    out: dict[tuple[str, date], tuple[float, int]] = {}
    for t, trip in enumerate(net.trips):
        if t >= len(trip_duals):
            break
        value = trip.seats * float(trip_duals[t])
        key = (trip.pool, trip.day)
        if value > out.get(key, (0.0, -1))[0]:
            out[key] = (value, t)
    return out


def _top_pools(result: Result, limit: int = 12) -> list[tuple[tuple[str, date], float, int]]:
    """The bus pools' days whose next bus is worth most in the plan's LP (> 0): ((pool,
    day), value of one more bus, its best trip)."""
    if result.lp is None or result.lp.status != "Optimal" or not len(result.lp.trip_duals):
        return []
    values = _bus_values(result.net, result.lp.trip_duals)
    ranked = sorted(values.items(), key=lambda e: (-e[1][0], e[0][1], e[0][0]))
    return [(key, v, t) for key, (v, t) in ranked[:limit] if v > 1e-6]


# How much more of a capacity the words price in people: a crossing's places a day, beds.
PEOPLE_UNITS = {"crossing": 100, "night": 50}


def shadow_prices(result: Result, limit: int = 12) -> list[dict[str, Any]]:
    """The capacities whose next unit is worth most, from the LP's dual prices, in words.
    The objective's unit is one person without priority brought to safety at once; the
    LP's value is concave in each capacity, so price × units is an upper bound of what
    that much more would bring. Once the per-day limits are computed, each is priced in
    people too (`people`): at most how many more could be safe by the day where that much
    more of it (a leg's seats again, 100 places a day at a crossing, 50 beds) counts most,
    from the dual prices of that day's LP of people safe."""
    if result.lp is None or result.lp.status != "Optimal":
        return []
    net = result.net
    s = result.scenario
    duals = result.lp.resource_duals
    out = []
    for r in _top_prices(result, limit):
        price = float(duals[r])
        res = net.resources[r]
        item: dict[str, Any] = {"kind": res.kind, "ref": res.ref, "per_unit": round(price, 4)}
        by_day = result.people_gains.get(_key(res)) if result.people_gains else None
        if by_day:
            units = s.legs[res.ref].seats if res.kind == "leg" else PEOPLE_UNITS[res.kind]
            if gained := _people_more(by_day, units, at_most=units):
                item["people"] = gained
        if res.kind == "leg":
            leg = s.legs[res.ref]
            when = leg.departure.astimezone(s.zone(leg.origin)).strftime("%Y-%m-%d %H:%M")
            gain = price * leg.seats
            item["text"] = (
                f"one more seat on {leg.kind} {leg.id} {leg.origin}→{leg.destination} "
                f"({when}) is worth {price:.2f} of value (priority-weighted); as many seats "
                f"again ({leg.seats}) at most {gain:.0f} of value, at most {leg.seats} people"
            )
        elif res.kind == "crossing":
            assert res.day is not None
            item["day"] = res.day.isoformat()
            item["text"] = (
                f"one more person a day through {res.ref} on {res.day} is worth {price:.2f}"
            )
        else:
            assert res.day is not None
            item["day"] = res.day.isoformat()
            item["text"] = (
                f"one more hotel bed at {res.ref} the night of {res.day} is worth {price:.2f}"
            )
        people = item.get("people")
        if people:
            more = "as many seats again" if res.kind == "leg" else f"{people['units']} more"
            item["text"] += (
                f"; {more} would bring at most {people['most']} more people to safety by the "
                f"end of {people['by_day']}"
            )
        out.append(item)
    out.extend(_pool_prices(result, limit))
    return out


def _people_more(
    by_day: list[tuple[str, float]], units: int, *, at_most: int
) -> dict[str, Any] | None:
    """In people, what `units` more of a capacity would bring to safety: by the day where
    one more unit counts most (the earliest of equals), at most `at_most`; None when it
    would bring nobody."""
    day, per_unit = max(by_day, key=lambda x: (round(x[1], 6), -_ordinal(x[0])))
    if per_unit <= 1e-6:
        return None
    return {
        "by_day": day,
        "per_unit": round(per_unit, 4),
        "units": units,
        "most": int(min(at_most, per_unit * units) + 1e-6),
    }


def _pool_prices(result: Result, limit: int) -> list[dict[str, Any]]:
    """The bus pools whose next bus is worth most, in words (`shadow_prices`, kind
    `pool`): per pool and day, one more bus at the best departure of that day; in people
    too once the per-day limits are known (`people`: one bus more, at most its seats)."""
    net = result.net
    s = result.scenario
    out = []
    for (pool_id, day), value, t in _top_pools(result, limit):
        trip = net.trips[t]
        pool = s.pools[pool_id]
        departure = s.moment(trip.departure)
        item: dict[str, Any] = {
            "kind": "pool",
            "ref": pool_id,
            "day": day.isoformat(),
            "per_unit": round(value, 4),
            "from": pool.origin,
            "to": pool.destination,
            "seats": trip.seats,
            "departure": departure.isoformat(),
        }
        by_day = result.people_gains.get(("pool", pool_id, day)) if result.people_gains else None
        if by_day and (gained := _people_more(by_day, 1, at_most=trip.seats)):
            item["people"] = gained
        when = departure.astimezone(s.zone(pool.origin)).strftime("%H:%M")
        item["text"] = (
            f"one more bus of pool {pool_id} {pool.origin}→{pool.destination} on {day} "
            f"({trip.seats} seats, leaving {when}) is worth {value:.2f} of value "
            f"(priority-weighted), at most {trip.seats} people"
        )
        people = item.get("people")
        if people:
            item["text"] += (
                f"; it would bring at most {people['most']} more people to safety by the end "
                f"of {people['by_day']}"
            )
        out.append(item)
    return out


def _ordinal(day: str) -> int:
    return date.fromisoformat(day).toordinal()


def _mark_firm(item: dict[str, Any], firm_until: datetime) -> None:
    """Each step `firm` (it starts within the firm hours: what is told is kept) or not
    (provisional: it may still change); hotel nights are as firm as the arrival before."""
    firm = True
    for step in item["steps"]:
        moment = step.get("departure") or step.get("at")
        if moment is not None:
            firm = datetime.fromisoformat(moment) < firm_until
        step["firm"] = firm


def to_json(result: Result) -> dict[str, Any]:
    s = result.scenario
    hs = s.households
    firm_until = s.start + timedelta(hours=s.policy.firm_hours)
    itineraries = []
    for hid in sorted(result.placed, key=lambda k: integer.order_key(hs[k])):
        item = itinerary(result.net, hs[hid], result.placed[hid])
        item["fixed"] = hid in result.fixed
        _mark_firm(item, firm_until)
        itineraries.append(item)
    reasons = _reasons(result)
    unassigned = [
        {"household": hid, "size": hs[hid].size, "priority": hs[hid].priority, "reason": r}
        for hid, r in sorted(reasons.items(), key=lambda e: integer.order_key(hs[e[0]]))
    ]
    out: dict[str, Any] = {
        "format": FORMAT,
        "scenario": {
            "name": s.name,
            "digest": s.digest(),
            "start": s.start.isoformat(),
            "end": s.end.isoformat(),
        },
        "method": result.method,
        "lp_status": result.lp_status,
        "policy": {"mode": s.policy.mode},
        "objective": result.objective,
        "evacuation_objective": _evaluate(result.net, result.placed, set()),
        "bound": result.bound,
        "gap": result.gap,
        "stages": _stages(result),
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
        "summary": summary_of(s, result.net, result.placed),
        "baseline": result.baseline,
        "stability": result.stability,
        "warnings": result.warnings,
        "itineraries": itineraries,
        "unassigned": unassigned,
        "pool_trips": pool_trips(result),
        "shadow_prices": shadow_prices(result),
        "bound_from": result.bound_from,
        "prices": prices_of(result),
        "limits": result.limits,
    }
    return out


def _stages(result: Result) -> list[dict[str, Any]]:
    """Strict priority's levels, each with the LP's value and bound for it, the value the
    plan kept gives that level (`plan`: its households' evacuation value) and the gap
    between the two."""
    hs = result.scenario.households
    out = []
    for stage in result.stages:
        level = int(stage["priority"])
        value = sum(
            household_value(result.net, hs[k], p.arcs)
            for k, p in result.placed.items()
            if hs[k].priority == level
        )
        bound = float(stage["bound"])
        gap = max(0.0, (bound - value) / bound) if bound > 0 else None
        out.append({**stage, "plan": value, "gap": gap})
    return out


def steps_of(itinerary: dict[str, Any]) -> list[dict[str, Any]]:
    """A plan's itinerary as the steps a scenario takes for `notified` or `locked`."""
    out: list[dict[str, Any]] = []
    for step in itinerary["steps"]:
        if step["type"] == "leg":
            out.append({"type": "leg", "leg": step["leg"]})
        elif step["type"] == "pool":
            out.append({"type": "pool", "pool": step["pool"], "departure": step["departure"]})
        elif step["type"] == "crossing":
            out.append({"type": "crossing", "place": step["place"], "at": step["at"]})
    return out
