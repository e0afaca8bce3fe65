"""Benchmark: batch linkage of a whole crisis (aman.dedup.linkage.link) at scale.

    .venv/bin/python bench/dedup_batch.py [--records 100000,1000000] [--seed 7]

For each size, generates the seeded synthetic Kazakh registry
(aman.dedup.linkage.synthetic.generate: mimesis names, each person registered one to five
times in Kazakh Cyrillic, Russianised Cyrillic, passport Latin and informal Latin) and runs
the batch linkage with the default Settings (2 DuckDB threads). Each size runs in a fresh
child process, so that its peak memory (ru_maxrss of the child: generation included) is its
own. Reports wall time per phase (prepare: matching keys and columns; train: u by random
sampling, the prior, m by EM; predict: blocking and scoring; cluster: evidence, thresholds,
constrained connected components), the total, pairs and clusters found, and pairwise and
cluster precision/recall/F1 against the generator's truth (cluster = every pair the
clusters imply).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = next(
            int(line.split()[1]) / 1024**2
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except OSError:
        memory = 0.0
    return (
        f"machine: {platform.machine()} {model}, {os.cpu_count()} cores, {memory:.0f} GiB, "
        f"Python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f"; load average before: {os.getloadavg()[0]:.2f}"
    )


def run_one(records: int, seed: int) -> dict[str, object]:
    """One size, in this process (the child)."""
    import duckdb
    import splink

    from aman.dedup.linkage import link
    from aman.dedup.linkage.evaluate import cluster_pairs, entity_pairs, score_pairs
    from aman.dedup.linkage.synthetic import generate

    t0 = time.perf_counter()
    df = generate(records, seed=seed)
    generated = time.perf_counter() - t0
    rss_generated = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    phases: list[tuple[str, float, float]] = []
    t0 = time.perf_counter()
    result = link(df, progress=lambda p, f: phases.append((p, f, time.perf_counter() - t0)))
    total = time.perf_counter() - t0
    truth = entity_pairs(df["unique_id"], df["true_id"])
    pairwise = score_pairs([(p.a, p.b) for p in result.pairs], truth)
    clusters = score_pairs(cluster_pairs(result.clusters), truth)
    evidence: dict[str, int] = {}
    for p in result.pairs:
        key = "+".join(p.evidence) or "(similar names only)"
        evidence[key] = evidence.get(key, 0) + 1
    return {
        "records": records,
        "people": int(df["true_id"].nunique()),
        "true_pairs": len(truth),
        "generate_s": generated,
        "seconds": result.stats["seconds"],
        "total_s": total,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_after_generate_mib": rss_generated,
        "stats": {k: v for k, v in result.stats.items() if k != "seconds"},
        "pairwise": pairwise.__dict__,
        "cluster": clusters.__dict__,
        "evidence": dict(sorted(evidence.items(), key=lambda kv: -kv[1])[:8]),
        "prior": result.model["probability_two_random_records_match"],
        "versions": f"splink {splink.__version__}, duckdb {duckdb.__version__}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", default="100000,1000000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.seed)))
        return
    print(machine())
    for records in [int(r) for r in args.records.split(",")]:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(records), "--seed", str(args.seed)],
            check=True,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        s = r["seconds"]
        print(
            f"\n{r['records']:,} registrations ({r['people']:,} people, "
            f"{r['true_pairs']:,} true pairs; generated in {r['generate_s']:.1f} s; "
            f"{r['versions']})"
        )
        print(
            f"  link: {r['total_s']:.1f} s = prepare {s['prepare']:.1f} + train "
            f"{s['train']:.1f} + predict {s['predict']:.1f} + cluster {s['cluster']:.1f}; "
            f"peak RSS {r['peak_rss_mib']:,.0f} MiB "
            f"({r['rss_after_generate_mib']:,.0f} MiB after generating the input)"
        )
        st = r["stats"]
        print(
            f"  scored {st['scored_pairs']:,} pairs above the threshold; {st['pairs']:,} "
            f"proposed; {st['clusters']:,} clusters of {st['clustered_records']:,} records; "
            f"dropped: {st.get('household_pairs_dropped', 0)} same household, "
            f"{st.get('different_iin_pairs_dropped', 0)} different IINs; prior {r['prior']:.3g}"
        )
        for name in ("pairwise", "cluster"):
            q = r[name]
            print(
                f"  {name:8s} P {q['precision']:.4f}  R {q['recall']:.4f}  F1 {q['f1']:.4f}  "
                f"(TP {q['true_positives']:,} / predicted {q['predicted']:,} / "
                f"true {q['actual']:,})"
            )
        print("  evidence of the proposed pairs: " + json.dumps(r["evidence"], ensure_ascii=False))


if __name__ == "__main__":
    main()
