"""Benchmark: the planner on the database — export, solve, publish — against PostgreSQL.

    .venv/bin/python bench/planning_publish.py [--households 500,2000] [--days 5]

For each size, a fresh database (`--database`, default `aman_bench_planning` on
127.0.0.1:5432, user postgres): countries, the airports of Kazakhstan, Iran and Armenia,
Iran's cities, the border crossings; a crisis (Iran) with the default priority policy;
`n` households of 1–7 people registered in Tehran with the city typed (as the public form
does), through `registrations_submit`, 200 to a call; the corridor Tehran → Norduz
(Armenia, no transit permits) → Yerevan → Almaty: buses to the border for ~80 % of the
people over the days, buses on to Yerevan's airport, hotel rooms by the airport for a night,
180-seat charters home. Then measures, each with its SQL statements:

1. `inputs.export` (the database as a scenario);
2. the solve (`services.plan_solve`, the LP and the greedy, with the per-day limits);
3. `services.plan_publish`: the bookings and stays of the plan, all in one transaction;
4. a re-plan after the busiest charter is cancelled, and its publishing (what moves, what
   is released).

Prints a results table and the machine line. Drops the database at the end (unless `--keep`).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
SECRET = "bench-planning-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"


SLOWEST: list[str] = []


def timed(fn: Any, *, slowest: bool = False) -> tuple[float, int, Any]:
    """Time `fn` and count its SQL statements (the log keeps the last 9,000); with
    `slowest`, note the statements that took most time in all, by their shape."""
    import re
    from collections import Counter

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as ctx:
        t = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - t
    if slowest:
        total: Counter[str] = Counter()
        count: Counter[str] = Counter()
        for q in ctx.captured_queries:
            shape = re.sub(r"\b\d+\b|'[^']*'", "?", q["sql"])[:160]
            total[shape] += float(q["time"])
            count[shape] += 1
        for shape, spent in total.most_common(8):
            SLOWEST.append(f"{spent:7.2f} s  {count[shape]:6d} ×  {shape}")
    return seconds, len(ctx.captured_queries), result


def build(n: int, days: int, seed: int) -> dict[str, Any]:
    from django.conf import settings
    from django.utils import timezone

    from aman.core.services import crisis_create, crisis_open
    from aman.geo.loaders import load_airports, load_cities, load_countries, load_crossings
    from aman.geo.models import Country, Place
    from aman.registry.services import Submission, registrations_submit
    from aman.shelter.services import block_create, hotel_create
    from aman.transport.services import leg_create
    from shelter import Households

    load_countries()
    load_airports(only_countries={"KZ", "IR", "AM"})
    load_cities(min_population=500000, only_countries={"IR"})
    load_crossings(settings.AMAN_REFERENCE_DATA_DIR / "border_crossings.csv")
    kz, ir = Country.objects.get(code="KZ"), Country.objects.get(code="IR")
    crisis = crisis_open(
        actor=None,
        crisis=crisis_create(
            actor=None, name="Bench planning", home_country=kz, affected_countries=[ir]
        ),
    )
    today = timezone.localdate()
    maker = Households(seed, today)
    t = time.perf_counter()
    people = 0
    for start in range(0, n, 200):
        batch = [maker.household() for _ in range(min(200, n - start))]
        people += sum(len(h["members"]) for h in batch)
        registrations_submit(
            crisis=crisis,
            submissions=[Submission(channel="import", payload=h) for h in batch],
        )
    registered = time.perf_counter() - t
    tehran = Place.objects.get(kind="city", name="Tehran")
    # The crossing lets through as many as the buses bring (its reference figure, 400 a
    # day, would cap every size at 2,000 people in five days).
    Place.objects.filter(code="IR-AM-NORDUZ").update(daily_capacity=people)
    morning = timezone.localtime().replace(hour=6, minute=0, second=0, microsecond=0)
    morning += timedelta(days=1)
    seats = int(people * 0.8)
    buses = math.ceil(seats / 50)
    legs = []
    for i in range(buses):
        day = morning + timedelta(days=i % days, hours=2 * (i // days % 6))
        legs.append(
            leg_create(
                actor=None,
                crisis=crisis,
                data={
                    "mode": "bus",
                    "origin": str(tehran.pk),
                    "destination": "IR-AM-NORDUZ",
                    "departure_planned": day,
                    "arrival_planned": day + timedelta(hours=12),
                    "capacity": 50,
                },
            )
        )
        legs.append(
            leg_create(
                actor=None,
                crisis=crisis,
                data={
                    "mode": "bus",
                    "origin": "IR-AM-NORDUZ",
                    "destination": "EVN",
                    "departure_planned": day + timedelta(hours=14),
                    "arrival_planned": day + timedelta(hours=21),
                    "capacity": 50,
                },
            )
        )
    flights = []
    for d in range(days + 1):
        for k in range(math.ceil(seats / 180 / days) + 1):
            dep = morning + timedelta(days=d + 1, hours=4 + 3 * k)
            flights.append(
                leg_create(
                    actor=None,
                    crisis=crisis,
                    data={
                        "mode": "charter",
                        "origin": "EVN",
                        "destination": "ALA",
                        "departure_planned": dep,
                        "arrival_planned": dep + timedelta(hours=4),
                        "capacity": 180,
                    },
                )
            )
    evn = Place.objects.get(kind="airport", iata="EVN")
    hotel = hotel_create(
        actor=None,
        crisis=crisis,
        data={
            "name": "Bench Hotel Yerevan",
            "country": "AM",
            "latitude": (evn.latitude or 40.15) + 0.02,
            "longitude": evn.longitude or 44.4,
        },
    )
    for room_type, beds in (("double", 2), ("family", 4)):
        block_create(
            actor=None,
            hotel=hotel,
            data={
                "room_type": room_type,
                "beds": beds,
                "rooms": math.ceil(seats / days / beds) + 20,
                "first_night": (today).isoformat(),
                "last_night": (today + timedelta(days=days + 3)).isoformat(),
                "rate": "40",
                "currency": "USD",
                "payer": "state",
            },
        )
    return {
        "crisis": crisis,
        "people": people,
        "registered": registered,
        "legs": len(legs) + len(flights),
        "flights": flights,
    }


def run_size(n: int, args: argparse.Namespace) -> list[str]:
    from django.conf import settings
    from django.db import transaction

    from aman.planning import inputs, services
    from aman.planning.models import Plan
    from aman.transport.models import Booking
    from aman.transport.services import leg_set_status

    settings.AMAN_IMPORTS_RUN = "inline"
    world = build(n, args.days, args.seed)
    crisis = world["crisis"]
    rows = [
        f"| setup: {n} households, {world['people']} people registered | "
        f"{world['registered']:.1f} s | | {world['legs']} legs |"
    ]
    seconds, statements, export = timed(lambda: inputs.export(crisis, days=args.days))
    rows.append(
        f"| export (the database as a scenario) | {seconds:.2f} s | {statements} | "
        f"{len(export.data['households'])} households, {len(export.data['legs'])} legs |"
    )

    def start() -> Plan:
        with transaction.atomic():
            plan = services.plan_start(actor=None, crisis=crisis, days=args.days)
        plan.refresh_from_db()
        return plan

    seconds, statements, plan = timed(start)
    r = plan.result
    rows.append(
        f"| run: export + solve (LP and greedy, per-day limits) | {seconds:.2f} s | "
        f"{statements} | {r['summary']['people_safe']} of {r['summary']['people']} people safe, "
        f"gap {r['gap'] * 100 if r['gap'] is not None else float('nan'):.3f} %, solve "
        f"{r['seconds']['total']:.2f} s (limits {r['seconds'].get('limits', 0):.2f} s) |"
    )
    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    seconds, statements, _ = timed(
        lambda: services.plan_publish(actor=None, plan=plan), slowest=args.profile
    )
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    bookings = Booking.objects.filter(crisis=crisis).count()
    households = len(r["itineraries"])
    rows.append(
        f"| publish | {seconds:.2f} s | {statements} | {households} households, {bookings} "
        f"bookings: {seconds / max(1, households) * 1000:.0f} ms and "
        f"{statements / max(1, households):.0f} statements per household |"
    )
    busiest = max(world["flights"], key=lambda leg: leg.bookings.count())
    leg_set_status(actor=None, leg=busiest, status="cancelled", note="bench")
    seconds, statements, second = timed(start)
    stab = second.result["stability"]
    rows.append(
        f"| re-plan after a cancelled charter | {seconds:.2f} s | {statements} | "
        f"displaced {stab['displaced']}, changed {stab['changed']}, kept {stab['kept']} |"
    )
    seconds, statements, _ = timed(lambda: services.plan_publish(actor=None, plan=second))
    rows.append(f"| publish the re-plan | {seconds:.2f} s | {statements} | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--households", default="500,2000")
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--database", default="aman_bench_planning")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile of the publishing")
    args = parser.parse_args()
    os.environ.update(
        {
            "DATABASE_URL": f"postgres://postgres@{args.pg_host}:{args.pg_port}/{args.database}",
            "SECRET_KEY": os.environ.get("SECRET_KEY", SECRET),
            "DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "aman.settings",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django
    import psycopg

    admin = f"host={args.pg_host} port={args.pg_port} user=postgres dbname=postgres"
    django.setup()
    from common import machine
    from django.core.management import call_command
    from django.db import connections

    print(machine())
    rows: list[str] = []
    for n in (int(x) for x in args.households.split(",")):
        connections.close_all()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.database}"')
        try:
            call_command("migrate", verbosity=0)
            rows += run_size(n, args)
        finally:
            connections.close_all()
            if not args.keep:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
    print("\n| measurement | time | SQL statements | notes |\n|---|---|---|---|")
    for row in rows:
        print(row)
    if SLOWEST:
        print("\nslowest statements of the publishing (of the last 9,000 logged):")
        print("\n".join(SLOWEST))


if __name__ == "__main__":
    main()
