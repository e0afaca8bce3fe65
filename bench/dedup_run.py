"""Benchmark: a whole-crisis linkage run through Aman, at a million people in PostgreSQL.

    .venv/bin/python bench/search.py --keep        # once: fills aman_bench_search
    .venv/bin/python bench/dedup_run.py

`bench/dedup_batch.py` times the engine alone on generated records; this times what an
officer starts with *Find duplicates among everyone registered* or `aman dedup run`:
`aman.dedup.batch.linkage_run_execute` over the database that bench/search.py leaves with
`--keep` (1,000,000 distinct people with Zipf-weighted Kazakh and Russian names, passports,
phones, IINs; migrated to the current code first): reading every person with their
document and phone hashes, the engine, writing the pairs found to the review queue. Every
person there is a different person, so every pair proposed is a false one: the count is the
reviewers' load that name concentration alone causes. Reports the time of each phase, the
peak RSS of this process, and the pairs by evidence. The pairs written are deleted at the
end (`--keep-pairs` keeps them).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from search import kept_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="aman_bench_search")
    parser.add_argument("--keep-pairs", action="store_true")
    args = parser.parse_args()
    state = kept_database(args.database)
    from aman.core.models import Crisis
    from aman.dedup.batch import linkage_run_execute, linkage_run_start
    from aman.dedup.models import CandidatePair
    from aman.registry.models import Person

    crisis = Crisis.objects.get(pk=state["crisis"])
    people = Person.objects.filter(crisis=crisis).count()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before: {os.getloadavg()[0]:.2f}; migrated in "
        f"{state['migrated_in']:.1f} s; {people:,} people"
    )
    CandidatePair.objects.filter(crisis=crisis, found_by="batch").delete()
    run = linkage_run_start(actor=None, crisis=crisis, dispatch=False)
    t0 = time.perf_counter()
    run = linkage_run_execute(run.pk)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if run.status != "done":
        raise SystemExit(f"run failed: {run.error}")
    seconds = {**run.stats.get("seconds", {}), **run.stats.get("django_seconds", {})}
    print(f"\nlinkage run over {run.records:,} people: {wall:.1f} s wall, peak RSS {peak:,.0f} MiB")
    for phase in ("load", "prepare", "train", "predict", "cluster", "save"):
        if phase in seconds:
            print(f"  {phase:<8} {seconds[phase]:7.1f} s")
    print(
        f"pairs proposed: {run.pairs_found:,} ({run.pairs_found / run.records * 1000:.2f} per "
        f"1,000 people, all false: every person is distinct), clusters {run.clusters:,}"
    )
    evidence = Counter(
        ", ".join(e) or "(similar names, no code)"
        for e in CandidatePair.objects.filter(run=run).values_list("evidence", flat=True)
    )
    for text, n in evidence.most_common():
        print(f"  {n:8,}  {text}")
    if not args.keep_pairs:
        CandidatePair.objects.filter(run=run).delete()


if __name__ == "__main__":
    main()
