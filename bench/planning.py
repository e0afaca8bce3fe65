"""The evacuation planner on seeded synthetic scenarios (no database).

For each size: the planner (the arc LP, rounding, priority-greedy repair; the plain
priority-sorted greedy run beside it in the same process) — solve time, gap to the LP
bound, people safe, priority-weighted mean hours to safety, for both; then two
disruptions re-planned from the plan as notified (nothing firm), each given the plan's
dual prices as the pages give them (a held plan is kept when they prove it close): the
most used flight cancelled, and the busiest crossing closed from day 2 — re-plan time,
gap to the disrupted LP bound, where its own bound came from, notified households
displaced by the disruption and changed by the re-plan (the target ratio is 1.15 at
most), and the same crossing closed on day 2 only. Every plan is held to `check`.

`--frontier 0.05,0.1,0.2,0.5,1` re-plans each crossing closure again at each of these
stability rewards and proves, from each re-plan's LP bound, how few notified households
any plan within 0.2 % of the disrupted LP bound must change: for every plan P and reward
r, value(P) + r·u·kept(P) is at most the LP's optimum at r (u: the mean size of the
households told), so value(P) ≥ 0.998·bound caps kept(P); the largest of these floors
over the rewards is printed beside the re-plans the planner made at each reward.

    .venv/bin/python bench/planning.py [--people 10000,100000] [--seed 1] [--write DIR]
        [--stability R] [--frontier R1,R2,...] [--rooms] [--mode weights|strict]

`--mode strict` plans under strict (lexicographic) priority — the scenario's
`policy.mode`, as a crisis's priority policy sets it on the database path — instead of
weights (the default): one LP per priority level. There is no single LP bound then: the
gap column gives the largest of the levels' gaps (`stages`), marked "levels".

`--rooms` gives the hotels their free rooms by size (a household then takes whole rooms:
docs/planning.md, Rooms) and some families an infant who shares a bed.

`--write DIR` also writes each scenario (`DIR/scenario-N.json`) for `aman plan solve`.
"""

from __future__ import annotations

import argparse
import copy
import json
import resource
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from aman.planning.optimizer import check, generate, plan, scenario

sys.path.insert(0, str(Path(__file__).parent))
from common import machine


def _solve(data: dict[str, Any]) -> tuple[dict[str, Any], float]:
    s = scenario.load(data)
    t = time.perf_counter()
    result = plan.solve(s)
    seconds = time.perf_counter() - t
    out = plan.to_json(result)
    problems = check.check(s, out)
    if problems:
        raise SystemExit(f"the plan breaks {len(problems)} rules, e.g. {problems[0]}")
    return out, seconds


def _gap(out: dict[str, Any]) -> str:
    """The gap to the LP bound; under strict priority (no single bound) the largest of
    the levels' gaps."""
    if out["gap"] is not None:
        return f"{out['gap'] * 100:.3f} %"
    levels = [st["gap"] for st in out.get("stages") or [] if st.get("gap") is not None]
    return f"levels ≤ {max(levels) * 100:.3f} %" if levels else "–"


def _row(label: str, out: dict[str, Any], seconds: float) -> str:
    sm = out["summary"]
    gap = _gap(out)
    hours = sm["weighted_mean_hours_to_safety"]
    b = out.get("baseline") or {}
    bs = b.get("summary") or {}
    bgap = f"{b['gap'] * 100:.3f} %" if b.get("gap") is not None else "–"
    bhours = bs.get("weighted_mean_hours_to_safety")
    sec = out["seconds"]
    parts = ", ".join(f"{k} {v:.1f}" for k, v in sec.items() if k != "total")
    return (
        f"| {label} | {seconds:.1f} s ({parts}) | {gap} | {sm['people_safe']} | "
        f"{hours:.1f} h | {out['method']} | greedy: {bgap}, {bs.get('people_safe', '–')} safe, "
        f"{bhours:.1f} h, {b.get('seconds') or 0:.1f} s |"
        if hours is not None and bhours is not None
        else f"| {label} | {seconds:.1f} s | {gap} | {sm['people_safe']} | – | "
        f"{out['method']} | – |"
    )


def _notified(
    data: dict[str, Any], out: dict[str, Any], reward: float | None = None
) -> dict[str, Any]:
    told = {i["household"]: plan.steps_of(i) for i in out["itineraries"]}
    data = copy.deepcopy(data)
    data["policy"]["firm_hours"] = 0
    data["prices"] = out["prices"]  # as the pages and `export-scenario` pass them on
    if reward is not None:
        data["policy"]["stability_reward"] = reward
    for h in data["households"]:
        if h["id"] in told:
            h["notified"] = told[h["id"]]
    return data


def _disrupted(data: dict[str, Any]) -> dict[str, Any]:
    """A fresh plan of the disrupted world (nobody notified): its LP bound, or under
    strict priority its levels' bounds (`stages`)."""
    fresh_data = copy.deepcopy(data)
    for h in fresh_data["households"]:
        h.pop("notified", None)
    fresh, _ = _solve(fresh_data)
    return fresh


def _replan_row(
    label: str, out: dict[str, Any], seconds: float, bound: float | None, levels: Any = ()
) -> str:
    st = out["stability"]
    ratio = f"{st['ratio']:.2f}" if st["ratio"] is not None else "–"
    gap = "–"
    if bound:
        gap = f"{(bound - out['evacuation_objective']) / bound * 100:.3f} %"
    elif levels:
        # Strict priority: each level's evacuation value against the disrupted world's
        # bound for that level; the largest of these.
        mine = {x["priority"]: x["plan"] for x in out.get("stages") or []}
        worst = max(
            ((x["bound"] - mine.get(x["priority"], 0.0)) / x["bound"])
            for x in levels
            if x["bound"] > 0
        )
        gap = f"levels ≤ {max(0.0, worst) * 100:.3f} %"
    # Under strict priority a level's own bound counts the promises' rewards, its value
    # does not: no gap to its own bounds is shown.
    own = _gap(out) if out["gap"] is not None else "–"
    return (
        f"| {label} | {seconds:.1f} s | {gap} | {own} | {out['bound_from']} | {st['notified']} | "
        f"{st['displaced']} | {st['changed']} | {ratio} |"
    )


def _replan(label: str, data: dict[str, Any]) -> tuple[str, float | None]:
    """The re-plan, and a fresh plan of the same disrupted world (nobody notified) for its
    LP bound: the re-plan's evacuation value (its objective less the stability rewards)
    against that bound is the price of stability plus the rounding."""
    out, seconds = _solve(data)
    fresh = _disrupted(data)
    bound = fresh["bound"]
    return _replan_row(label, out, seconds, bound, fresh.get("stages")), bound


def _frontier(
    label: str, data: dict[str, Any], bound: float, rewards: list[float], within: float = 0.002
) -> list[str]:
    """The re-plan at each stability reward, and the fewest notified households any plan
    within `within` of the disrupted bound must change, proven by each re-plan's own LP
    bound (see the module's docstring)."""
    rows = []
    floor = None
    for r in rewards:
        d = copy.deepcopy(data)
        d["policy"]["stability_reward"] = r
        out, seconds = _solve(d)
        st = out["stability"]
        rows.append(_replan_row(f"{label}, reward {r:g}", out, seconds, bound))
        if r > 0 and out["bound"] is not None and st["displaced"]:
            most_kept = (out["bound"] - (1 - within) * bound) / (r * st["told_mean_size"])
            least = (st["notified"] - most_kept) / st["displaced"]
            floor = least if floor is None else max(floor, least)
    if floor is not None:
        rows.append(
            f"| {label}: any plan within {within * 100:g} % of the disrupted bound changes at "
            f"least | | | | | | | | **{floor:.2f}** |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", default="10000,100000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--write", type=Path)
    parser.add_argument(
        "--stability", type=float, help="the re-plans' stability reward (default: the policy's)"
    )
    parser.add_argument(
        "--frontier",
        default="",
        help="stability rewards at which to re-plan each crossing closure again, e.g. "
        "0.05,0.1,0.2,0.5,1: the floor of changed / displaced within 0.2 %% of the bound",
    )
    parser.add_argument("--rooms", action="store_true", help="hotels with their free rooms by size")
    parser.add_argument(
        "--mode",
        choices=["weights", "strict"],
        default="weights",
        help="the priority policy: weights (default) or strict (lexicographic) priority",
    )
    args = parser.parse_args()
    rewards = [float(x) for x in args.frontier.split(",") if x.strip()]
    frontier: list[str] = []
    print(machine())
    sizes = [int(x) for x in args.people.split(",")]
    rows = []
    replans = []
    for n in sizes:
        data = generate.generate(n, seed=args.seed, rooms=args.rooms, mode=args.mode)
        s = scenario.load(data)
        if args.write:
            args.write.mkdir(parents=True, exist_ok=True)
            (args.write / f"scenario-{n}.json").write_text(json.dumps(data))
        households = len(s.households)
        print(
            f"{n} people: {households} households, {len(s.legs)} legs "
            f"({sum(1 for x in s.legs.values() if x.kind == 'flight')} flights), "
            f"{len(s.pools)} bus pools, {len(s.hotels)} hotels; priority: {s.policy.mode}",
            flush=True,
        )
        out, seconds = _solve(data)
        rows.append(_row(f"{n:,} people", out, seconds))
        print(rows[-1], flush=True)
        notified = _notified(data, out, args.stability)
        used = Counter(
            st["leg"]
            for i in out["itineraries"]
            for st in i["steps"]
            if st["type"] == "leg" and st["kind"] == "flight"
        )
        flight = used.most_common(1)[0][0]
        cancelled = copy.deepcopy(notified)
        cancelled["legs"] = [x for x in cancelled["legs"] if x["id"] != flight]
        row, _ = _replan(f"{n:,}: flight {flight} cancelled", cancelled)
        replans.append(row)
        print(replans[-1], flush=True)
        crossings = Counter(
            st["place"] for i in out["itineraries"] for st in i["steps"] if st["type"] == "crossing"
        )
        busiest = crossings.most_common(1)[0][0]
        for until, what in ((data["end"], "from day 2"), (None, "on day 2")):
            closed = copy.deepcopy(notified)
            for c in closed["crossings"]:
                if c["place"] == busiest:
                    end = until or (s.start + timedelta(days=2)).isoformat()
                    c["closed"] = [{"from": (s.start + timedelta(days=1)).isoformat(), "to": end}]
            label = f"{n:,}: crossing {busiest} closed {what}"
            row, bound = _replan(label, closed)
            replans.append(row)
            print(replans[-1], flush=True)
            if rewards and bound:
                frontier += _frontier(label, closed, bound, rewards)
                print("\n".join(frontier[-len(rewards) - 1 :]), flush=True)
    print()
    print(
        "| size | solve (phases) | gap to LP bound | people safe | weighted mean to safety "
        "| kept | priority-sorted greedy, same process |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(
        "| re-plan | time | evacuation value to the disrupted LP bound | gap to its own bound "
        "| bound from | notified | displaced | changed | changed / displaced |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(replans))
    if frontier:
        print()
        print(
            "| re-plan at a stability reward | time | evacuation value to the disrupted LP "
            "bound | gap to its own bound | bound from | notified | displaced | changed "
            "| changed / displaced |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        print("\n".join(frontier))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
