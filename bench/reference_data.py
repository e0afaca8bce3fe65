"""Benchmark: loading reference geography, and searching it by code and by name.

    .venv/bin/python bench/reference_data.py [--repeat 200]

Runs against the database in DATABASE_URL (default: the embedded SQLite in var/), loading
the full reference data first. Reports the load time (first load and idempotent refresh)
and p50/p95 of place searches: by IATA code (indexed) as the baseline, by Latin and by
Cyrillic name (substring scan of the folded names), through the selector and through the
REST API in-process.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aman.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from aman.core.models import User  # noqa: E402
from aman.core.services import api_token_create  # noqa: E402
from aman.geo import selectors  # noqa: E402
from aman.geo.models import Place  # noqa: E402


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)

    start = time.perf_counter()
    call_command("loadgeo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    first = time.perf_counter() - start
    start = time.perf_counter()
    call_command("loadgeo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    refresh = time.perf_counter() - start

    print(
        f"machine: {platform.machine()} {os.cpu_count()} cpus, Python {sys.version.split()[0]}, "
        f"database {connection.vendor}"
    )
    print(f"places: {Place.objects.count()}")
    print(
        f"loadgeo: {first:.1f} s (first run in this database, or refresh), refresh {refresh:.1f} s"
    )

    queries = {
        "IATA code 'GYD' (baseline)": "GYD",
        "Latin name 'tehran'": "tehran",
        "Cyrillic name 'Тегеран'": "Тегеран",
        "Latin prefix 'ba'": "ba",
    }
    baseline = None
    for label, q in queries.items():
        p50, p95 = timed(lambda q=q: list(selectors.places_search(q=q)[:50]), args.repeat)
        baseline = baseline or p50
        print(f"selector {label:32} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ×{p50 / baseline:5.1f}")

    user = User.objects.filter(is_active=True).first() or User.objects.create_user(
        "bench", role="observer"
    )
    _token, secret = api_token_create(actor=user, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    for label, q in queries.items():
        p50, p95 = timed(
            lambda q=q: client.get("/api/geo/places", {"q": q, "limit": 50}), args.repeat
        )
        print(f"API      {label:32} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms")


if __name__ == "__main__":
    main()
