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
import random
import resource
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from search import kept_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="aman_bench_search")
    parser.add_argument("--keep-pairs", action="store_true")
    parser.add_argument("--plant", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    state = kept_database(args.database)
    from django.db import connection, transaction

    from aman.core.models import Crisis
    from aman.dedup.batch import linkage_run_execute, linkage_run_start
    from aman.dedup.models import CandidatePair
    from aman.registry.models import Household, IntakeRecord, Person

    crisis = Crisis.objects.get(pk=state["crisis"])
    people = Person.objects.filter(crisis=crisis).count()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before: {os.getloadavg()[0]:.2f}; migrated in "
        f"{state['migrated_in']:.1f} s; {people:,} people"
    )
    CandidatePair.objects.filter(crisis=crisis, found_by="batch").delete()
    planted, seconds_planting = plant(crisis, args.plant, args.seed)
    print(f"planted {len(planted):,} re-registrations in {seconds_planting:.1f} s")
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
    found = set(CandidatePair.objects.filter(run=run).values_list("person_a", "person_b"))
    print(f"pairs proposed or updated by the run: {len(found):,}; clusters {run.clusters:,}")
    truth: dict[str, set[tuple[int, int]]] = {}
    for kind, a, b in planted:
        truth.setdefault(kind, set()).add((min(a, b), max(a, b)))
    for kind, pairs in truth.items():
        print(f"  recall, {kind:<52} {len(pairs & found):6,} / {len(pairs):6,}")
    every = set().union(*truth.values())
    false = found - every
    print(f"  other pairs (false: every planted person is someone else): {len(false):,}")
    evidence = Counter(
        ", ".join(e) or "(similar names, no code)"
        for a, b, e in CandidatePair.objects.filter(run=run).values_list(
            "person_a", "person_b", "evidence"
        )
        if (a, b) in false
    )
    for text, n in evidence.most_common():
        print(f"  {n:8,}  {text}")
    if not args.keep_pairs:
        CandidatePair.objects.filter(crisis=crisis).delete()
        new_ids = [b for _kind, _a, b in planted]
        households = set(
            Person.objects.filter(pk__in=new_ids).values_list("household_id", flat=True)
        )
        records = set(
            IntakeRecord.people.through.objects.filter(person_id__in=new_ids).values_list(
                "intakerecord_id", flat=True
            )
        )
        with transaction.atomic(), connection.cursor() as cursor:
            # The planted people's journeys are append-only (the database refuses to delete
            # them); this throwaway database's superuser switches the triggers off for this
            # transaction only.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("DELETE FROM registry_statusevent WHERE person_id = ANY(%s)", [new_ids])
            Person.all_objects.filter(pk__in=new_ids).delete()
            Household.objects.filter(pk__in=households - {None}).delete()
            IntakeRecord.objects.filter(pk__in=records).delete()
        print(f"removed the planted people; {Person.objects.count():,} people again")


RUSSIAN = str.maketrans({"ұ": "у", "ү": "у", "қ": "к", "ғ": "г", "ә": "а", "ө": "о", "ң": "н",
                         "һ": "х", "і": "и", "Ұ": "У", "Ү": "У", "Қ": "К", "Ғ": "Г", "Ә": "А",
                         "Ө": "О", "Ң": "Н", "Һ": "Х", "І": "И"})  # fmt: skip
KINDS = (
    "Russianised Cyrillic, same birth date",
    "passport Latin, same passport, birth date slip",
    "Russianised Cyrillic, birth date slip, no identifier",
)


def slip(born: date, rng: random.Random) -> date:
    """The birth date with day and month swapped, or one digit of it changed."""
    if born.day <= 12 and born.day != born.month:
        return born.replace(month=born.day, day=born.month)
    for _ in range(20):
        text = list(born.isoformat())
        i = rng.choice([2, 3, 8, 9])
        text[i] = str((int(text[i]) + rng.randrange(1, 9)) % 10)
        try:
            other = date.fromisoformat("".join(text))
        except ValueError:
            continue
        if other != born:
            return other
    return born + timedelta(days=1)


def plant(crisis: Any, n: int, seed: int) -> tuple[list[tuple[str, int, int]], float]:
    """Register `n` random people of the crisis again (see the module's docstring); returns
    (kind, original id, new id) for each and the seconds it took."""
    from aman.registry.models import Document, Person
    from aman.registry.services import Submission, registrations_submit

    rng = random.Random(seed)
    top = Person.objects.filter(crisis=crisis).order_by("-pk").values_list("pk", flat=True)[0]
    ids = sorted(rng.sample(range(1, top + 1), n))
    people = list(
        Person.objects.filter(pk__in=ids).values_list(
            "pk", "surname", "given_names", "surname_latin", "given_names_latin", "birth_date"
        )
    )
    passports = {d.person_id: d.number for d in Document.objects.filter(person_id__in=ids)}
    members, kinds = [], []
    for pk, surname, given, surname_latin, given_latin, born in people:
        kind = rng.choice(KINDS) if pk in passports else rng.choice(KINDS[::2])
        if born is None:
            continue
        if kind == KINDS[1]:
            m: dict[str, Any] = {
                "surname": surname_latin,
                "given_names": given_latin,
                "birth_date": slip(born, rng).isoformat(),
                "documents": [{"kind": "passport", "number": passports[pk]}],
            }
        else:
            m = {
                "surname": surname.translate(RUSSIAN),
                "given_names": given.translate(RUSSIAN),
                "birth_date": (born if kind == KINDS[0] else slip(born, rng)).isoformat(),
            }
        members.append(m)
        kinds.append((kind, pk))
    t0 = time.perf_counter()
    out = []
    for start in range(0, len(members), 200):
        outcomes = registrations_submit(
            crisis=crisis,
            submissions=[
                Submission(
                    channel="import",
                    payload={"members": [m], "location": {"country": "IR"}, "consent": True},
                )
                for m in members[start : start + 200]
            ],
        )
        for (kind, pk), outcome in zip(kinds[start : start + 200], outcomes, strict=True):
            if outcome.accepted and outcome.people:
                out.append((kind, pk, outcome.people[0].pk))
    return out, time.perf_counter() - t0


if __name__ == "__main__":
    main()
