"""Benchmark: quality of batch linkage (aman.dedup.linkage) against known truth.

    .venv/bin/python bench/dedup_quality.py [--synthetic 20000] [--seed 7]

Data sets:

- FEBRL4 (recordlinkage.datasets, offline): linkage of two sets of 5,000 records, 5,000
  true pairs (``link_only``);
- FEBRL3: deduplication of 5,000 records of 2,000 people, 6,538 true pairs;
- the seeded synthetic Kazakh registry (aman.dedup.linkage.synthetic, mimesis's Kazakh
  names; each person registered one to five times in Kazakh Cyrillic with typos, Russianised
  Cyrillic, passport Latin and informal Latin), ``--synthetic`` registrations.

For each: Splink (the engine's model, its default thresholds; FEBRL through
aman.dedup.linkage.febrl with FEBRL's own comparisons and the same core) and the plain
string-similarity baseline: pairs of records with the same birth date whose raw full names
("surname given names", lower case, as typed) have a rapidfuzz ``ratio`` at or above a
threshold, tuned here (the best of 40..95 by F1 is reported, i.e. the baseline is given
its best case).

Measures (aman.dedup.linkage.evaluate): pairwise precision, recall and F1 over record
pairs; cluster precision, recall and F1 = the same over the pairs the clusters imply
(every two records in one cluster: the transitive closure of the links). For the baseline
the clusters are the connected components of its pairs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from aman.dedup.linkage import link  # noqa: E402
from aman.dedup.linkage.core import cluster  # noqa: E402
from aman.dedup.linkage.evaluate import (  # noqa: E402
    Scores,
    baseline_pairs,
    cluster_pairs,
    entity_pairs,
    score_pairs,
)
from aman.dedup.linkage.febrl import link_febrl, load_febrl3, load_febrl4  # noqa: E402
from aman.dedup.linkage.synthetic import generate  # noqa: E402

THRESHOLDS = (40, 50, 60, 65, 70, 75, 80, 85, 90, 95)


def machine() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "",
    )
    return (
        f"machine: {platform.machine()} {model}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


def row(name: str, what: str, scores: Scores) -> None:
    print(
        f"  {name:9s} {what:9s} P {scores.precision:.4f}  R {scores.recall:.4f}  "
        f"F1 {scores.f1:.4f}  (TP {scores.true_positives:,} / predicted "
        f"{scores.predicted:,} / true {scores.actual:,})"
    )


def baseline(
    records: pd.DataFrame, truth: set[tuple[int, int]], *, names: tuple[str, str], dob: str
) -> None:
    best = None
    for threshold in THRESHOLDS:
        found = baseline_pairs(records, threshold, name_columns=names, dob_column=dob)
        scores = score_pairs([(a, b) for a, b, _ in found], truth)
        if best is None or scores.f1 > best[1].f1:
            best = (threshold, scores, found)
    assert best is not None
    threshold, scores, found = best
    row("baseline", "pairwise", scores)
    clusters = cluster([a for a, _, _ in found], [b for _, b, _ in found], [s for *_, s in found])
    row("baseline", "cluster", score_pairs(cluster_pairs(clusters), truth))
    print(f"  (baseline: rapidfuzz ratio >= {threshold} on the raw full name + same birth date)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synthetic", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(machine())

    a, b = load_febrl4()
    both = pd.concat([a, b], ignore_index=True)
    truth = entity_pairs(both["unique_id"], both["true_id"])
    t0 = time.perf_counter()
    result = link_febrl((a, b))
    print(f"\nFEBRL4 (link two sets of 5,000; {len(truth):,} true pairs) in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    row("splink", "pairwise", score_pairs([(x, y) for x, y, _ in result.pairs], truth))
    row("splink", "cluster", score_pairs(cluster_pairs(result.clusters), truth))
    # The baseline links across the two sets only.
    cross = {(x, y) for x, y in truth}
    found = [
        (x, y, s)
        for x, y, s in baseline_pairs(
            both, 0, name_columns=("surname", "given_name"), dob_column="date_of_birth"
        )
        if (x < 100_000) != (y < 100_000)
    ]
    best = max(
        ((score_pairs([(x, y) for x, y, s in found if s >= t], cross), t) for t in THRESHOLDS),
        key=lambda st: st[0].f1,
    )
    row("baseline", "pairwise", best[0])
    kept = [(x, y, s) for x, y, s in found if s >= best[1]]
    clusters = cluster([x for x, _, _ in kept], [y for _, y, _ in kept], [s for *_, s in kept])
    row("baseline", "cluster", score_pairs(cluster_pairs(clusters), cross))
    print(f"  (baseline: rapidfuzz ratio >= {best[1]} on the raw full name + same birth date)")

    records = load_febrl3()
    truth = entity_pairs(records["unique_id"], records["true_id"])
    t0 = time.perf_counter()
    result = link_febrl(records)
    print(f"\nFEBRL3 (dedupe 5,000; {len(truth):,} true pairs) in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    row("splink", "pairwise", score_pairs([(x, y) for x, y, _ in result.pairs], truth))
    row("splink", "cluster", score_pairs(cluster_pairs(result.clusters), truth))
    baseline(records, truth, names=("surname", "given_name"), dob="date_of_birth")

    records = generate(args.synthetic, seed=args.seed)
    truth = entity_pairs(records["unique_id"], records["true_id"])
    t0 = time.perf_counter()
    linked = link(records)
    print(
        f"\nSynthetic Kazakh registry ({args.synthetic:,} registrations of "
        f"{records['true_id'].nunique():,} people, seed {args.seed}; {len(truth):,} true "
        f"pairs) in {time.perf_counter() - t0:.1f} s; thresholds {linked.thresholds}"
    )
    row("splink", "pairwise", score_pairs([(p.a, p.b) for p in linked.pairs], truth))
    row("splink", "cluster", score_pairs(cluster_pairs(linked.clusters), truth))
    baseline(records, truth, names=("surname", "given_names"), dob="birth_date")
    by_channel = records.groupby("channel").size().to_dict()
    print(f"  channels: {by_channel}")


if __name__ == "__main__":
    main()
