"""Benchmark: the duplicate check at intake at a million people.

    .venv/bin/python bench/search.py --keep        # once: fills aman_bench_search
    .venv/bin/python bench/dedup_check.py [--repeat 200]

Uses the database that bench/search.py leaves with `--keep` (1,000,000 people with name
keys, passports, phones, IINs), migrates it to the current code (the birth-date index and
the duplicates table), then times `aman.dedup.selectors.registration_duplicates` — what the
hotline form runs before saving — for registrations of one member that are:

- a person already registered, typed again in another spelling (Russian Cyrillic for a
  Kazakh name, or passport Latin), with the same birth date (found by name + birth date);
- the same in Russian spelling with the birth date one typing slip away (one digit, two
  adjacent digits or day and month swapped: found by names + a near birth date, unless
  more than three people are that close);
- the same with the passport number too (found by the document, and by name);
- someone new (a random name and birth date: the usual case, nothing found).

Reports p50/p95/max in ms, the number of queries, how many of the known people were
found, and how many other people were proposed per registration (strangers). Then the
same for a list of 200 registrations in one call of
`aman.dedup.matching.find` (as an import chunk and the queue check them), per registration.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from search import kept_database, pct  # noqa: E402

RUSSIAN = str.maketrans({"ұ": "у", "ү": "у", "қ": "к", "ғ": "г", "ә": "а", "ө": "о", "ң": "н",
                         "һ": "х", "і": "и", "Ұ": "У", "Ү": "У", "Қ": "К", "Ғ": "Г", "Ә": "А",
                         "Ө": "О", "Ң": "Н", "Һ": "Х", "І": "И"})  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="aman_bench_search")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    state = kept_database(args.database)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aman.core.models import Crisis, User
    from aman.dedup.matching import Probe, find, near_birth_dates, probe_keys
    from aman.dedup.selectors import registration_duplicates
    from aman.registry.models import Person

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before: {os.getloadavg()[0]:.2f}; migrated in "
        f"{state['migrated_in']:.1f} s; {Person.objects.count():,} people"
    )
    crisis = Crisis.objects.select_related("home_country").get(pk=state["crisis"])
    user = User.objects.get(username="bench-operator")
    rng = random.Random(args.seed)
    sample = state["samples"]["people"]
    rng.shuffle(sample)
    ids = [p["id"] for p in sample]
    births = dict(Person.objects.filter(pk__in=ids).values_list("pk", "birth_date"))

    def member(p: dict[str, object], how: str) -> dict[str, object]:
        born = births[p["id"]]
        if how == "latin":
            m = {"surname": p["surname_latin"], "given_names": p["given_latin"]}
        else:
            m = {
                "surname": str(p["surname"]).translate(RUSSIAN),
                "given_names": str(p["given"]).translate(RUSSIAN),
            }
        m["birth_date"] = born.isoformat() if born else None
        if how == "passport" and p.get("passport"):
            m["documents"] = [{"kind": "passport", "number": p["passport"]}]
        return m

    def new_member() -> dict[str, object]:
        born = date(1940, 1, 1) + timedelta(days=rng.randrange(80 * 365))
        return {
            "surname": rng.choice(["Ахметов", "Смирнов", "Омарова", "Ким"]) + "ски",
            "given_names": rng.choice(["Нұрлан", "Анна", "Ерлан"]),
            "birth_date": born.isoformat(),
        }

    def slipped(p: dict[str, object]) -> dict[str, object]:
        m = member(p, "ru")
        born = births[p["id"]]
        if born:
            m["birth_date"] = rng.choice(sorted(near_birth_dates(born))).isoformat()
        return m

    cases = {
        "known, Russian spelling + birth date": lambda i: (member(sample[i], "ru"), sample[i]),
        "known, Russian spelling, date one slip off": lambda i: (slipped(sample[i]), sample[i]),
        "known, passport Latin + birth date": lambda i: (member(sample[i], "latin"), sample[i]),
        "known, + passport number": lambda i: (member(sample[i], "passport"), sample[i]),
        "someone new": lambda i: (new_member(), None),
    }
    print(f"\n{'registration of one member':44} {'n':>4} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'max ms':>7} {'queries':>7} {'found':>9} {'others':>7}")  # fmt: skip
    for label, make in cases.items():
        samples, found, queries, others = [], 0, 0, 0
        for i in range(args.repeat):
            m, known = make(i)
            if m.get("birth_date") is None:
                continue
            payload = {"members": [m], "location": {"country": "IR"}, "consent": True}
            with CaptureQueriesContext(connection) as ctx:
                t = time.perf_counter()
                result = registration_duplicates(user=user, crisis=crisis, payload=payload)
                samples.append((time.perf_counter() - t) * 1000)
            queries = max(queries, len(ctx.captured_queries))
            mine = known["id"] if known is not None else None
            if any(r["person"]["id"] == mine for r in result):
                found += 1
            others += sum(1 for r in result if r["person"]["id"] != mine)
        n = len(samples)
        found_text = f"{found}/{n}" if label.startswith("known") else "—"
        print(
            f"{label:44} {n:4d} {statistics.median(samples):7.1f} {pct(samples, 0.95):7.1f} "
            f"{max(samples):7.1f} {queries:7d} {found_text:>9} {others / n:7.2f}"
        )
    # A list of 200 registrations at once (imports, the queue): per registration.
    probes = []
    for i in range(200):
        m, _known = cases["known, Russian spelling + birth date"](i) if i % 2 else (new_member(), 0)
        born = m.get("birth_date")
        probes.append(
            Probe(
                surname_keys=probe_keys(str(m["surname"])),
                given_keys=probe_keys(str(m["given_names"])),
                birth_date=date.fromisoformat(str(born)) if born else None,
            )
        )
    times = []
    for _ in range(5):
        t = time.perf_counter()
        matches = find(crisis.pk, probes)
        times.append((time.perf_counter() - t) * 1000)
    print(
        f"\nlist of 200 (half known): {statistics.median(times):.0f} ms per list, "
        f"{statistics.median(times) / 200:.2f} ms per registration; {len(matches)} matches"
    )


if __name__ == "__main__":
    main()
