"""Benchmark: a leg's manifest in every format, and its boarding passes, at 300 and 3,000
passengers, against PostgreSQL.

    .venv/bin/python bench/manifest.py [--sizes 300,3000] [--repeat 5]

Creates a fresh database (`--database`, default `aman_bench_manifest` on 127.0.0.1:5432,
user postgres), migrates, loads countries and the airports of Iran and Kazakhstan, opens a
crisis, registers households (Kazakh and Russian names from bench/names.py, 90 % of adults
with a passport) through the real intake service and books them on one charter leg per size
(a third checked in with a seat). Then times `manifest_export` (the same function the page,
the API and `aman manifest` call: read, render, audit) for CSV, XLSX, PDF and PAXLST, and the
leg's boarding passes as one PDF (up to `--passes-max` passengers) twice: made at once as
`aman passes` does (`leg_passes_export`), and as the background print the pages and the API
start (`pass_print_start` run in-process, as the worker runs it: laid out ten passes at a
time, the pages done saved after each part, the PDF kept encrypted with the print); median
and max of `--repeat` runs, the SQL statements per export, the output size, and the passes'
time per page (wall clock and this process's CPU). Drops the database at the end (unless
`--keep`).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
SECRET = "bench-manifest-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"machine: {platform.machine()} {model}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300,3000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--passes-repeat", type=int, default=3)
    parser.add_argument(
        "--passes-max", type=int, default=300, help="time the passes PDF up to this many"
    )
    parser.add_argument("--database", default="aman_bench_manifest")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    os.environ.update(
        {
            "DATABASE_URL": f"postgres://postgres@{args.pg_host}:{args.pg_port}/{args.database}",
            "SECRET_KEY": os.environ.get("SECRET_KEY", SECRET),
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "aman.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    import psycopg

    admin = f"host={args.pg_host} port={args.pg_port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    print(machine())
    try:
        call_command("migrate", verbosity=0)
        print(
            f"PostgreSQL {connection.cursor().connection.info.server_version}, "
            f"database {args.database}"
        )
        run(sizes, args)
    finally:
        connections.close_all()
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            print(f"dropped {args.database}")


def run(sizes: list[int], args: argparse.Namespace) -> None:
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from intake import Households

    from aman.core.services import crisis_create, crisis_open
    from aman.geo.loaders import load_airports, load_countries
    from aman.geo.models import Country, Place
    from aman.registry.services import registration_submit
    from aman.transport import boarding_passes, manifests, pass_prints, services
    from aman.transport.models import Leg

    load_countries()
    load_airports(only_countries={"IR", "KZ"})
    kz, ir = Country.objects.get(code="KZ"), Country.objects.get(code="IR")
    crisis = crisis_open(
        actor=None,
        crisis=crisis_create(
            actor=None, name="Bench manifest", home_country=kz, affected_countries=[ir]
        ),
    )
    ika, ala = Place.objects.get(kind="airport", iata="IKA"), Place.objects.get(iata="ALA")
    gen = Households(phase=11, seed=args.seed)
    print(
        "| passengers | format | median s | max s | SQL statements | size |\n"
        "|---|---|---|---|---|---|"
    )
    for size in sizes:
        t0 = time.perf_counter()
        leg = services.leg_create(
            actor=None,
            crisis=crisis,
            data={
                "mode": "charter",
                "origin": ika,
                "destination": ala,
                "departure_planned": timezone.now() + timedelta(days=2),
                "capacity": min(size, 2000),
                "carrier": "Air Astana",
                "number": f"KC {7000 + size % 1000}",
            },
        )
        if size > 2000:
            # The service takes at most 2,000 seats (a train); the bench wants one list.
            Leg.objects.filter(pk=leg.pk).update(capacity=size)
        households, people = [], 0
        while True:
            payload = gen.household()
            payload["members"] = payload["members"][: max(1, min(4, size - people))]
            payload["location"] = {"country": "IR", "city": "Tehran"}
            record = registration_submit(crisis=crisis, channel="hotline", payload=payload)
            if record.household is None:
                continue
            households.append(record.household)
            people += len(payload["members"])
            if people >= size:
                break
        booked = []
        for i in range(0, len(households), 200):
            booked += services.leg_book(actor=None, leg=leg, households=households[i : i + 200])
        for n, booking in enumerate(booked[: len(booked) // 3]):
            services.booking_check_in(
                actor=None, booking=booking, seat=f"{n // 6 + 1}{'ABCDEF'[n % 6]}"
            )
        print(
            f"<!-- {len(booked)} passengers in {len(households)} households registered and "
            f"booked in {time.perf_counter() - t0:.0f} s -->"
        )
        leg = Leg.objects.select_related(
            "crisis", "origin", "destination", "origin__country", "destination__country"
        ).get(pk=leg.pk)
        jobs = [(fmt, args.repeat) for fmt in manifests.FORMATS]
        if len(booked) <= args.passes_max:
            jobs += [("passes", args.passes_repeat), ("print", args.passes_repeat)]
        for fmt, repeat in jobs:
            times, cpu, statements, size_bytes = [], [], 0, 0
            for _ in range(repeat):
                with CaptureQueriesContext(connection) as ctx:
                    t, c = time.perf_counter(), time.process_time()
                    if fmt == "passes":
                        file = boarding_passes.leg_passes_export(actor=None, leg=leg)
                    elif fmt == "print":
                        job, _created = pass_prints.pass_print_start(
                            actor=None, leg=leg, inline=True
                        )
                        assert job.status == "done", job.error
                        file = pass_prints.pass_print_file(actor=None, job=job)
                    else:
                        file = manifests.manifest_export(actor=None, leg=leg, fmt=fmt)
                    times.append(time.perf_counter() - t)
                    cpu.append(time.process_time() - c)
                statements = len(ctx.captured_queries)
                size_bytes = len(file.content)
                assert file.count == len(booked), (file.count, len(booked))
            label = {
                "passes": "boarding passes (PDF, a page each; `aman passes`)",
                "print": "boarding passes, background print (start → file)",
            }.get(fmt, fmt)
            per_page = (
                f" ({statistics.median(times) * 1000 / len(booked):.0f} ms a page, "
                f"{statistics.median(cpu) * 1000 / len(booked):.0f} ms CPU)"
                if fmt in ("passes", "print")
                else ""
            )
            print(
                f"| {len(booked):,} | {label}{per_page} | {statistics.median(times):.3f} | "
                f"{max(times):.3f} | {statements} | {size_bytes / 1024:,.0f} KiB |",
                flush=True,
            )


if __name__ == "__main__":
    main()
