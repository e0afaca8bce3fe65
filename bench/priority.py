"""The priority policy changed at a million people: everyone's priority recomputed.

    .venv/bin/python bench/priority.py   # after bench/search.py --keep (uses aman_bench_search)

Changes the crisis's policy three times as the page and the API do (`priority_policy_set`:
the policy and its audit entry, answered at once) and runs the background recompute that
follows (`priority_recompute_run`: every person's priority and their households', in
batches of 5,000 per transaction), reporting the time of each and how many people changed:
the elderly from 65 instead of 60; strict order instead of weights; back to the default.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import machine
from search import kept_database


def main() -> None:
    print(machine())
    state = kept_database("aman_bench_search")
    from aman.core.models import AuditEntry, Crisis
    from aman.registry.models import Person
    from aman.registry.services import priority_policy_set, priority_recompute_run
    from aman.registry.triage import DEFAULT_RULES

    crisis = Crisis.objects.get(pk=state["crisis"])
    people = Person.objects.filter(crisis=crisis).count()
    print(f"{people:,} people in crisis {crisis.pk} (migrated in {state['migrated_in']:.1f} s)")
    older = [dict(r, min_age=65) if r["group"] == "elderly" else r for r in DEFAULT_RULES]
    rows = []
    for label, mode, rules in (
        ("weights, the elderly from 65", "weights", older),
        ("strict order", "strict", DEFAULT_RULES),
        ("back to the default", "weights", DEFAULT_RULES),
    ):
        t0 = time.perf_counter()
        policy = priority_policy_set(actor=None, crisis=crisis, mode=mode, rules=rules)
        answered = time.perf_counter() - t0
        t0 = time.perf_counter()
        priority_recompute_run(crisis_id=crisis.pk, run=policy.recompute_run)
        seconds = time.perf_counter() - t0
        entry = AuditEntry.objects.filter(verb="priority_recompute").latest("pk")
        changed = entry.changes["people_changed"][1]
        rows.append(f"| {label} | {answered * 1000:.0f} ms | {seconds:.1f} s | {changed:,} |")
        print(rows[-1], flush=True)
    print("\n| policy change | answered | recomputed in the background | people changed |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
