"""Benchmark: answering a scan at the gate, on PostgreSQL, for a leg of 300 and of 3,000
booked passengers.

    .venv/bin/python bench/scan.py [--sizes 300,3000] [--repeat 200]

Creates a fresh database (`--database`, default `aman_bench_scan` on 127.0.0.1:5432, user
postgres), migrates, loads countries and the airports of Iran and Kazakhstan, opens a
crisis; registers households (bench/intake.py's generator: Kazakh and Russian names,
passports, phones) and books them on one charter flight per size (a leg's capacity is at
most 2,000 through the services: the 3,000-seat leg gets its capacity by a direct UPDATE).
Then times, per size:

- `gate_answer` for a boarding-pass code (QR), a passport zone (MRZ, TD3 with valid check
  digits) and a typed reference code, on `--repeat` random passengers each;
- the `gate_scan` endpoint in-process (Django test Client, signed-in duty officer): a
  check-in of a passenger not yet checked in, a boarding, and an already-boarded scan;
- `gate_manifest` (what a device downloads) and its size, and `gate_sync` of 200 offline
  scans;

p50/p95/max in milliseconds and the SQL statements per call. Target: p95 under 50 ms.
Drops the database at the end (unless `--keep`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
SECRET = "bench-scan-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

sys.path.insert(0, str(BENCH))
from intake import Households  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def timed(fn: Callable[[], Any]) -> tuple[float, int, Any, float]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()  # (a full log would miscount)
    with CaptureQueriesContext(connection) as queries:
        t0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        elapsed = (time.perf_counter() - t0) * 1000
        cpu = (time.process_time() - c0) * 1000
    return elapsed, len(queries), result, cpu


def report(label: str, runs: list[tuple[float, int, Any, float]]) -> dict[str, Any]:
    ms = [r[0] for r in runs]
    cpu = [r[3] for r in runs]
    qs = [r[1] for r in runs]
    row = {
        "what": label,
        "n": len(runs),
        "p50": pct(ms, 0.50),
        "p95": pct(ms, 0.95),
        "max": max(ms),
        "queries": f"{min(qs)}–{max(qs)}" if min(qs) != max(qs) else str(qs[0]),
        "cpu": pct(cpu, 0.50),
    }
    print(
        f"  {label:<38} n={row['n']:>4}  p50 {row['p50']:6.1f}  p95 {row['p95']:6.1f}  "
        f"max {row['max']:6.1f} ms  queries {row['queries']:<5}  "
        f"Python CPU p50 {row['cpu']:5.1f} ms"
    )
    return row


def populate(crisis: Any, size: int, seed: int, logistics: Any) -> Any:
    """A charter flight with `size` booked passengers (whole households, the last one cut)."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from aman.geo.models import Place
    from aman.registry.models import Household
    from aman.registry.services import Submission, registrations_submit
    from aman.transport.models import Leg
    from aman.transport.services import leg_book, leg_create

    gen = Households(phase=size % 97, seed=seed + size)
    payloads, people = [], 0
    while people < size:
        h = gen.household()
        h["members"] = h["members"][: size - people]
        people += len(h["members"])
        payloads.append(h)
    t0 = time.perf_counter()
    outcomes = []
    for i in range(0, len(payloads), 200):
        outcomes += registrations_submit(
            crisis=crisis,
            submissions=[Submission(payload=p, channel="hotline") for p in payloads[i : i + 200]],
        )
    households = Household.objects.filter(
        pk__in=[o.record.household_id for o in outcomes if o.record.household_id]
    )
    print(f"  registered {people:,} people in {len(payloads):,} households "
          f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
    leg = leg_create(
        actor=logistics,
        crisis=crisis,
        data={
            "mode": "charter",
            "origin": Place.objects.get(kind="airport", iata="IKA"),
            "destination": Place.objects.get(kind="airport", iata="ALA"),
            "departure_planned": timezone.now() + timedelta(days=1),
            "capacity": min(size, 2000),
            "number": f"KC {size}",
            "fare": "95000",
            "currency": "KZT",
        },
    )
    Leg.objects.filter(pk=leg.pk).update(capacity=size)
    t0 = time.perf_counter()
    households = list(households)
    for i in range(0, len(households), 100):
        leg_book(actor=logistics, leg=leg, households=households[i : i + 100])
    leg.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after a load this size
    print(f"  booked {leg.seats_taken:,} on {leg} in {time.perf_counter() - t0:.1f} s")
    return leg


def zone(booking: Any) -> str | None:
    from aman.registry.identity import mrz
    from aman.registry.models import Document

    document = Document.objects.filter(person_id=booking.person_id).first()
    person = booking.person
    if document is None or not person.birth_date:
        return None
    lines = mrz.build_td3(
        surname=person.surname_latin,
        given_names=person.given_names_latin,
        document_number=document.number,
        birth_date=person.birth_date,
        sex=person.sex or "X",
        expiry_date=document.expiry_date or "311231",
    )
    return "\n".join(lines)


def bench_leg(leg: Any, officer: Any, repeat: int, rng: random.Random) -> list[dict[str, Any]]:
    from django.test import Client

    from aman.transport import gate, passes
    from aman.transport.models import Booking

    bookings = list(Booking.objects.filter(leg=leg).select_related("person"))
    sample = rng.sample(bookings, min(repeat, len(bookings)))
    rows = []
    # Warm up (imports, translations, connection).
    gate.gate_answer(leg, sample[0].person.reference_code)

    def code(b: Any) -> str:
        return passes.pass_code(booking_id=b.pk, leg_id=leg.pk, person_id=b.person_id)

    runs = [timed(lambda b=b: gate.gate_answer(leg, code(b))) for b in sample]
    assert all(r[2]["booking"]["id"] for r in runs)
    rows.append(report("gate_answer: boarding pass (QR)", runs))
    zones = [(b, z) for b in sample if (z := zone(b))]
    runs = [timed(lambda z=z: gate.gate_answer(leg, z)) for _b, z in zones]
    found = sum(1 for (b, _z), r in zip(zones, runs, strict=True) if r[2]["booking"]
                and r[2]["booking"]["id"] == b.pk)  # fmt: skip
    rows.append(report(f"gate_answer: passport zone (MRZ) {found}/{len(zones)}", runs))
    runs = [timed(lambda b=b: gate.gate_answer(leg, b.person.reference_code)) for b in sample]
    rows.append(report("gate_answer: reference code typed", runs))

    client = Client()
    client.force_login(officer)
    url = f"/transport/legs/{leg.pk}/gate/scan"

    def post(body: dict[str, Any]) -> Any:
        response = client.post(url, json.dumps(body), content_type="application/json")
        assert response.status_code == 200, response.content[:300]
        return response.json()

    half = len(sample) // 2
    runs = [timed(lambda b=b: post({"id": f"ci-{b.pk}", "text": code(b), "action": "check_in"}))
            for b in sample[:half]]  # fmt: skip
    assert all(r[2]["result"]["result"] == "applied" for r in runs)
    rows.append(report("gate_scan endpoint: check-in (QR)", runs))
    runs = [timed(lambda b=b: post({"id": f"bd-{b.pk}", "text": code(b), "action": "board"}))
            for b in sample]  # fmt: skip
    assert all(r[2]["result"]["result"] == "applied" for r in runs)
    rows.append(report("gate_scan endpoint: board (QR)", runs))
    runs = [timed(lambda b=b: post({"id": f"ag-{b.pk}", "text": b.person.reference_code,
                                    "action": "board"})) for b in sample]  # fmt: skip
    assert all(r[2]["result"]["result"] == "already" for r in runs)
    rows.append(report("gate_scan endpoint: already boarded", runs))

    runs = [timed(lambda: gate.gate_manifest(leg)) for _ in range(5)]
    size = len(json.dumps(runs[0][2]))
    rows.append(report(f"gate_manifest ({size / 1e6:.2f} MB JSON)", runs))
    rest = [b for b in bookings if b not in sample][:200]
    batch = [{"id": f"sy-{b.pk}", "booking": b.pk, "kind": "mrz", "action": "board",
              "offline": True} for b in rest]  # fmt: skip
    elapsed, queries, results, _cpu = timed(
        lambda: gate.gate_sync(actor=officer, leg=leg, scans=batch)
    )
    assert all(r["result"] == "applied" for r in results)
    per = elapsed / max(1, len(batch))
    print(f"  gate_sync of {len(batch)} offline boardings: {elapsed:.0f} ms, "
          f"{per:.1f} ms and {queries / max(1, len(batch)):.1f} queries per scan")  # fmt: skip
    rows.append({"what": f"gate_sync, {len(batch)} scans", "per_scan_ms": per})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300,3000")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--database", default="aman_bench_scan")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    os.environ.update(
        DATABASE_URL=f"postgres://postgres@{args.pg_host}:{args.pg_port}/{args.database}",
        SECRET_KEY=SECRET,
        DEBUG="0",
        DJANGO_SETTINGS_MODULE="aman.settings",
        LOG_LEVEL="WARNING",
    )
    import psycopg

    admin = f"host={args.pg_host} port={args.pg_port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from aman.core.models import User
    from aman.core.roles import Role
    from aman.core.services import crisis_create, crisis_open
    from aman.geo.loaders import load_airports, load_countries
    from aman.geo.models import Country

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    try:
        call_command("migrate", verbosity=0)
        load_countries()
        load_airports(only_countries={"IR", "KZ"})
        kz, ir = Country.objects.get(code="KZ"), Country.objects.get(code="IR")
        crisis = crisis_open(
            actor=None,
            crisis=crisis_create(
                actor=None, name="Bench gate", home_country=kz, affected_countries=[ir]
            ),
        )
        logistics = User.objects.create_user("bench-logistics", role=Role.LOGISTICS)
        officer = User.objects.create_user(
            "bench-officer", role=Role.DUTY_OFFICER, current_crisis=crisis
        )
        rng = random.Random(args.seed)
        for size in [int(s) for s in args.sizes.split(",")]:
            print(f"leg of {size:,} passengers:")
            leg = populate(crisis, size, args.seed, logistics)
            bench_leg(leg, officer, args.repeat, rng)
    finally:
        connections.close_all()
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            print(f"dropped {args.database}")


if __name__ == "__main__":
    main()
