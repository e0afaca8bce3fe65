"""Benchmark: shelter (hotels, rooms, stays, the cost ledger, vouchers) against PostgreSQL.

    .venv/bin/python bench/shelter.py [--hotels 50] [--households 5000] [--fill 60000]

Creates a fresh database (`--database`, default `aman_bench_shelter` on 127.0.0.1:5432,
user postgres), migrates, loads countries and the airports of Kazakhstan, Iran and the four
host countries (hotels take their clock from the nearest airport), opens a crisis with a
strict priority policy (priorities 0–5), a crisis manager, three tour operators, and
`--hotels` hotels around Baku, Dubai, Istanbul and Tashkent (one in five with a partner tour
operator, paid by it or by the guarantee fund), each with a single, a double and a family
room block for `--nights` nights (contract currencies AZN, AED, TRY, UZS and USD, with their
exchange rates to KZT). Registers `--households` households of 1–7 people (adults, elderly,
children and infants by birth date; pregnant, medical needs, unaccompanied minors) through
`aman.registry.services.registrations_submit`, 200 to a call, as imports do.

Then measures, each with the SQL statements it costs (CaptureQueriesContext):

1. `selectors.suggest_rooms` (the assignment page's "Suggest") for `--suggest` waiting
   households (from `selectors.waiting_households`) over all hotels for a 3-night run, and the
   plain-data core `rooms.suggest` alone for the same input (database against algorithm);
2. `services.household_house` one household at a time for `--confirm` households with
   `hotel=` (the confirm path), then `--confirm` more with explicit `rooms=` (as the
   assignment page confirms a suggestion): p50/p95/max and statements per call;
3. a fill to `--fill` room-nights (households housed for the blocks' whole run: rooms chosen
   by the plain-data core 200 households at a time, each household confirmed through
   `household_house(rooms=)`; more households are registered when the first ones are all
   housed) — its wall time is itself a result (100,000 room-nights take ~14 minutes of the
   ~19 on 2 cores, hence the default of 60,000); then the cost ledger
   (`ledger.ledger_build` for the whole crisis and `ledger.ledger_export`, XLSX),
   `selectors.occupancy` for every hotel and night, `selectors.daily_list` for the busiest
   hotel;
4. the public voucher check `GET /voucher/<code>/` through django.test.Client in-process
   (`--voucher-requests` requests, p50/p95) and the voucher PDF of the stay with the most
   guests (median of `--pdf-repeat`).

Prints a results table and the machine line. Drops the database at the end (unless `--keep`).
"""

from __future__ import annotations

import argparse
import copy
import io
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from importlib import import_module
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
SECRET = "bench-shelter-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

# city, country, latitude, longitude, contract currency, rate per night (single, double,
# family) in that currency, KZT per unit of that currency.
CITIES = [
    ("Baku", "AZ", 40.4093, 49.8671, "AZN", (95, 140, 210), "305.0"),
    ("Dubai", "AE", 25.2048, 55.2708, "AED", (320, 450, 690), "141.2"),
    ("Istanbul", "TR", 41.0082, 28.9784, "TRY", (2900, 3900, 6100), "15.1"),
    ("Tashkent", "UZ", 41.2995, 69.2401, "UZS", (650000, 850000, 1300000), "0.0405"),
]
USD_KZT = "512.0"
USD_RATES = {"single": 80, "double": 110, "family": 170}  # one hotel in seven contracts in USD
HOTEL_NAMES = [
    "Grand", "Park", "Plaza", "Central", "Palace", "Garden", "Riverside", "Boulevard",
    "Crown", "Continental", "Silk Road", "Caravan", "Old Town", "Harbour", "Panorama",
]  # fmt: skip
# Rooms per block: enough to take ~100,000 room-nights of families as they come (about as
# many family rooms as single and double together).
ROOMS = {"single": 40, "double": 45, "family": 100}


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


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def span(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms" if seconds < 10 else f"{seconds:,.1f} s"


class Households:
    """Households of 1–7 people (20/24/20/17/10/6/3 %): one or two adults (a grandparent in
    some large ones), children born in the last 18 years (about one in nine under two, an
    infant who needs no bed of their own); 5 % of women of 20–40 pregnant, 4 % of adults
    with a medical need, some elderly with reduced mobility, 2 % of people alone an
    unaccompanied minor. Adults have a passport (unique numbers), the contact a phone."""

    def __init__(self, seed: int, today: date) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.n = 0

    def _born(self, low: int, high: int) -> date:
        """A birth date of someone aged low..high years today."""
        days = self.rng.randrange(low * 365, (high + 1) * 365 - 1)
        return self.today - timedelta(days=days)

    def _person(self, family: str, sex: str, born: date, *, adult: bool) -> dict[str, Any]:
        from names import FEMALE, FEMALE_WEIGHTS, MALE, MALE_WEIGHTS, surname_for

        rng = self.rng
        self.n += 1
        names, weights = (FEMALE, FEMALE_WEIGHTS) if sex == "F" else (MALE, MALE_WEIGHTS)
        member: dict[str, Any] = {
            "surname": surname_for(family, sex),
            "given_names": rng.choices(names, cum_weights=weights)[0],
            "birth_date": born.isoformat(),
            "sex": sex,
        }
        age = (self.today - born).days // 365
        if adult:
            member["documents"] = [
                {
                    "kind": "passport",
                    "number": f"N{self.n:08d}",
                    "issuing_state": "KAZ",
                    "expiry_date": (self.today + timedelta(days=400 + self.n % 3000)).isoformat(),
                }
            ]
            if rng.random() < 0.04:
                member["medical_need"] = True
                member["needs_note"] = "insulin"
            if sex == "F" and 20 <= age <= 40 and rng.random() < 0.05:
                member["pregnant"] = True
            if age >= 65 and rng.random() < 0.3:
                member["reduced_mobility"] = True
        return member

    def household(self) -> dict[str, Any]:
        from names import SURNAME_WEIGHTS, SURNAMES

        rng = self.rng
        size = rng.choices(range(1, 8), weights=[20, 24, 20, 17, 10, 6, 3])[0]
        family = rng.choices(SURNAMES, cum_weights=SURNAME_WEIGHTS)[0]
        first_sex = rng.choice("FM")
        members: list[dict[str, Any]] = []
        if size == 1 and rng.random() < 0.02:
            minor = self._person(family, first_sex, self._born(14, 17), adult=False)
            minor["unaccompanied_minor"] = True
            members.append(minor)
        else:
            members.append(self._person(family, first_sex, self._born(22, 70), adult=True))
        if size >= 2 and (size == 2 or rng.random() < 0.85):
            other = "F" if first_sex == "M" else "M"
            members.append(self._person(family, other, self._born(22, 68), adult=True))
        if size >= 5 and rng.random() < 0.5:
            members.append(self._person(family, rng.choice("FM"), self._born(60, 85), adult=True))
        while len(members) < size:
            members.append(self._person(family, rng.choice("FM"), self._born(0, 17), adult=False))
        members[0]["phones"] = [f"+7 70{self.n % 10} {self.n // 10:07d}"]
        return {
            "members": members,
            "contact_index": 0,
            "location": {"country": "IR", "city": "Tehran"},
            "intent": "leave",
            "language": rng.choice(["kk", "ru"]),
            "consent": True,
        }


class Table:
    def __init__(self) -> None:
        self.rows: list[str] = []

    def add(
        self,
        what: str,
        n: int | str,
        times: list[float],
        statements: str | int,
        notes: str = "",
    ) -> None:
        if len(times) > 1:
            p95 = span(pct(times, 0.95))
            cells = [span(statistics.median(times)), p95, span(max(times))]
        else:
            cells = [span(times[0]), "", ""]
        row = f"| {what} | {n} | {' | '.join(cells)} | {statements} | {notes} |"
        self.rows.append(row)
        print(f"  {row}", flush=True)

    def print(self) -> None:
        print(
            "\n| measurement | n | median | p95 | max | SQL statements | notes |\n"
            "|---|---|---|---|---|---|---|"
        )
        for row in self.rows:
            print(row)


def timed(fn: Callable[[], Any], repeat: int) -> tuple[list[float], int, Any]:
    """Run `fn` `repeat` times: the times, the statements of the last run and its result."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, statements, result = [], 0, None
    for _ in range(repeat):
        # The log keeps 9,000 statements; a full one would make the capture count wrong.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as ctx:
            t = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t)
        statements = len(ctx.captured_queries)
    return times, statements, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hotels", type=int, default=50)
    parser.add_argument("--nights", type=int, default=14, help="nights of every room block")
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--suggest", default="200,1000", help="sizes of the suggested lists")
    parser.add_argument("--suggest-repeat", type=int, default=3)
    parser.add_argument("--confirm", type=int, default=500, help="households per confirm path")
    parser.add_argument(
        "--fill",
        type=int,
        default=60_000,
        help="room-nights to reach (100000: the whole run takes ~19 min on 2 cores, not ~12)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of the ledger and views")
    parser.add_argument("--voucher-requests", type=int, default=200)
    parser.add_argument("--pdf-repeat", type=int, default=5)
    parser.add_argument("--database", default="aman_bench_shelter")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--keep", action="store_true")
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
    import psycopg

    admin = f"host={args.pg_host} port={args.pg_port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    import_module(settings.ROOT_URLCONF)  # fail now, not after the fill, on a broken view
    print(machine())
    started = time.perf_counter()
    try:
        call_command("migrate", verbosity=0)
        print(
            f"PostgreSQL {connection.cursor().connection.info.server_version}, "
            f"database {args.database}"
        )
        run(args)
    finally:
        connections.close_all()
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            print(f"dropped {args.database}")
        print(f"whole run: {time.perf_counter() - started:.0f} s")


def setup(args: argparse.Namespace) -> dict[str, Any]:
    from django.utils import timezone

    from aman.core.models import User
    from aman.core.roles import Role
    from aman.core.services import crisis_create, crisis_open
    from aman.geo.loaders import load_airports, load_countries
    from aman.geo.models import Country
    from aman.registry.services import priority_policy_set
    from aman.registry.triage import DEFAULT_RULES
    from aman.shelter import services

    t0 = time.perf_counter()
    load_countries()
    load_airports(only_countries={"KZ", "IR", *(c[1] for c in CITIES)})
    kz, ir = Country.objects.get(code="KZ"), Country.objects.get(code="IR")
    crisis = crisis_open(
        actor=None,
        crisis=crisis_create(
            actor=None, name="Bench shelter", home_country=kz, affected_countries=[ir]
        ),
    )
    # Strict: a person's priority is their highest group's weight (0–5).
    priority_policy_set(actor=None, crisis=crisis, mode="strict", rules=DEFAULT_RULES)
    user = User.objects.create_user(
        "bench-shelter", role=Role.CRISIS_MANAGER, current_crisis=crisis
    )
    operators = [
        services.tour_operator_create(actor=user, data={"name": name})
        for name in ("Kompas Tour", "Sayahat Travel", "Silk Way Holidays")
    ]
    today = timezone.localdate()
    first = today - timedelta(days=2)  # two nights already stayed when the ledger is read
    last = first + timedelta(days=args.nights - 1)
    rng = random.Random(args.seed)
    hotels = []
    for i in range(args.hotels):
        city, country, lat, lon, currency, rates, _kzt = CITIES[i % len(CITIES)]
        operator = operators[i % len(operators)] if i % 5 == 4 else None
        hotel = services.hotel_create(
            actor=user,
            crisis=crisis,
            data={
                "name": f"{HOTEL_NAMES[i // len(CITIES) % len(HOTEL_NAMES)]} {city} {i + 1}",
                "country": country,
                "address": f"{rng.randrange(1, 200)} Avenue, {city}",
                "latitude": round(lat + rng.uniform(-0.08, 0.08), 5),
                "longitude": round(lon + rng.uniform(-0.08, 0.08), 5),
                "contact": "Front desk",
                "phone": f"+994 12 4{i % 100:02d} 00 00",  # a valid number (services check it)
                "tour_operator": operator,
            },
        )
        use_usd = i % 7 == 3
        payer = "state" if operator is None else ("tour_operator" if i % 2 else "guarantee_fund")
        for (kind, rooms), rate in zip(ROOMS.items(), rates, strict=True):
            services.block_create(
                actor=user,
                hotel=hotel,
                data={
                    "room_type": kind,
                    "rooms": rooms,
                    "first_night": first,
                    "last_night": last,
                    "rate": str(USD_RATES[kind] if use_usd else rate),
                    "currency": "USD" if use_usd else currency,
                    "meals": "breakfast",
                    "payer": payer,
                    "tour_operator": operator,
                    "contract_ref": f"{country}-2026-{i + 1:03d}",
                },
            )
        hotels.append(hotel)
    for _city, _country, _lat, _lon, currency, _rates, kzt in CITIES:
        services.exchange_rate_set(
            actor=user,
            crisis=crisis,
            data={"currency": currency, "rate": kzt, "valid_from": first - timedelta(days=30)},
        )
    services.exchange_rate_set(
        actor=user,
        crisis=crisis,
        data={"currency": "USD", "rate": USD_KZT, "valid_from": first - timedelta(days=30)},
    )
    rooms = args.hotels * sum(ROOMS.values())
    print(
        f"{args.hotels} hotels, {args.hotels * len(ROOMS)} room blocks, {rooms:,} rooms for "
        f"{args.nights} nights ({first} to {last}): {rooms * args.nights:,} room-nights "
        f"contracted; set up in {time.perf_counter() - t0:.1f} s"
    )
    return {
        "crisis": crisis,
        "user": user,
        "hotels": hotels,
        "first": first,
        "last": last,
        "gen": Households(args.seed, today),
    }


def register(world: dict[str, Any], count: int) -> list[int]:
    """Register `count` households through the intake service, 200 to a call."""
    from aman.registry.services import Submission, registrations_submit

    ids: list[int] = []
    gen = world["gen"]
    while len(ids) < count:
        payloads = [gen.household() for _ in range(min(200, count - len(ids)))]
        outcomes = registrations_submit(
            crisis=world["crisis"],
            submissions=[Submission(payload=p, channel="hotline") for p in payloads],
        )
        bad = [o.problems for o in outcomes if o.problems]
        assert not bad, bad[:3]
        ids += [o.record.household_id for o in outcomes]
    return ids


def run(args: argparse.Namespace) -> None:
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from aman.registry.models import Household, Person
    from aman.shelter import ledger, selectors, services, vouchers
    from aman.shelter import rooms as packing
    from aman.shelter.models import Hotel, RoomBlock, Stay, StayNight

    world = setup(args)
    crisis, user, first, last = world["crisis"], world["user"], world["first"], world["last"]
    t0 = time.perf_counter()
    registered = register(world, args.households)
    people = Person.objects.filter(crisis=crisis).count()
    priorities = dict(
        Household.objects.filter(crisis=crisis)
        .values_list("priority")
        .annotate(n=Count("id"))
        .values_list("priority", "n")
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"{len(registered):,} households, {people:,} people registered through "
        f"registrations_submit in {time.perf_counter() - t0:.1f} s; households by priority: "
        + ", ".join(f"{p}: {n}" for p, n in sorted(priorities.items()))
    )
    table = Table()
    hotels = list(selectors.hotels_for_user(user=user, crisis=crisis))
    run_first = first + timedelta(days=3)
    run_last = run_first + timedelta(days=2)  # a 3-night run

    # 1. Suggestions --------------------------------------------------------------------
    print("1. suggestions for a 3-night run over every hotel", flush=True)
    suggestions: list[Any] = []
    for size in [int(s) for s in args.suggest.split(",")]:
        times, statements, waiting = timed(
            lambda size=size: selectors.waiting_households(user=user, crisis=crisis, limit=size),
            args.suggest_repeat,
        )
        table.add("waiting_households", size, times, statements, f"{len(waiting)} households")

        def page(waiting: list[Household] = waiting) -> Any:
            return selectors.suggest_rooms(
                user=user,
                crisis=crisis,
                households=waiting,
                first=run_first,
                last=run_last,
                hotels=hotels,
            )

        times, statements, suggestions = timed(page, args.suggest_repeat)
        placed = sum(1 for s in suggestions if s.hotel is not None)
        table.add(
            "suggest_rooms (selector: reads + algorithm)",
            size,
            times,
            statements,
            f"{placed} placed, {len(suggestions) - placed} without a hotel, "
            f"{sum(len(s.rooms) for s in suggestions):,} rooms",
        )
        # The same input as plain data: the core alone.
        supply = services.hotel_supplies(hotels, run_first, run_last)
        needs = []
        for household in waiting:
            members = services.housed_members(household)
            needs.append(
                packing.HouseholdNeed(
                    key=household.pk,
                    guests=[services.guest_of(p, run_first) for p in members],
                    priority=max([household.priority, *(p.priority for p in members)]),
                    next_point=None,
                )
            )
        core_times = []
        for _ in range(args.suggest_repeat):
            fresh = copy.deepcopy(supply)
            t = time.perf_counter()
            core = packing.suggest(needs, fresh)
            core_times.append(time.perf_counter() - t)
        assert [c.hotel_id for c in core] == [
            s.hotel.pk if s.hotel else None for s in suggestions
        ], "the core and the selector disagree"
        pack_calls = len(needs) * len(hotels)
        table.add(
            "rooms.suggest (plain-data core alone)",
            size,
            core_times,
            0,
            f"{pack_calls:,} pack() calls, "
            f"{statistics.median(core_times) / pack_calls * 1e6:.0f} µs each",
        )

    # 2. Confirming, one household at a time --------------------------------------------
    print("2. household_house, one household at a time", flush=True)
    ready = [s for s in suggestions if s.hotel is not None]
    if len(ready) < 2 * args.confirm:
        waiting = selectors.waiting_households(user=user, crisis=crisis, limit=2 * args.confirm)
        ready = [
            s
            for s in selectors.suggest_rooms(
                user=user, crisis=crisis, households=waiting, first=run_first, last=run_last
            )
            if s.hotel is not None
        ]
    conflicts = 0
    for label, batch in (
        ("household_house(hotel=)", ready[: args.confirm]),
        ("household_house(rooms=)", ready[args.confirm : 2 * args.confirm]),
    ):
        times, counts, stays = [], [], 0
        for s in batch:
            kwargs: dict[str, Any] = {"hotel": s.hotel} if "hotel=" in label else {"rooms": s.rooms}
            try:
                t, n, made = timed(
                    lambda s=s, kwargs=kwargs: services.household_house(
                        actor=user,
                        crisis=crisis,
                        first_night=run_first,
                        last_night=run_last,
                        household=s.household,
                        **kwargs,
                    ),
                    1,
                )
            except services.ApplicationError as exc:
                conflicts += 1
                print(f"    refused: {exc}")
                continue
            times += t
            counts.append(n)
            stays += len(made)
        table.add(
            label,
            len(times),
            times,
            f"{statistics.median(counts):.0f} (max {max(counts)})",
            f"{stays} stays; {stays / len(times):.2f} rooms per household",
        )

    # 3. Fill --------------------------------------------------------------------------
    print(f"3. fill to {args.fill:,} room-nights", flush=True)
    housed = set(
        Stay.objects.filter(crisis=crisis, household__isnull=False).values_list(
            "household_id", flat=True
        )
    )
    queue = [h for h in registered if h not in housed]
    room_nights = StayNight.objects.filter(block__crisis=crisis).count()
    fill_times: list[float] = []
    fill_counts: list[int] = []
    t_register = t_choose = 0.0
    extra = 0
    t_fill = time.perf_counter()
    # Rooms chosen by the plain-data core on a supply kept in memory (it shrinks as rooms
    # are given; suggest_rooms, measured above, would read it again for every 200), members
    # read in one query per 200 households; each household confirmed through the service.
    supply = services.hotel_supplies(hotels, first, last)
    blocks = {b.pk: b for b in RoomBlock.objects.filter(crisis=crisis)}
    while room_nights < args.fill:
        if not queue:
            t = time.perf_counter()
            queue = register(world, 200)
            extra += len(queue)
            t_register += time.perf_counter() - t
        chunk, queue = queue[:200], queue[200:]
        t = time.perf_counter()
        households = {h.pk: h for h in Household.objects.filter(pk__in=chunk)}
        members: dict[int, list[Person]] = {}
        for person in (
            Person.objects.filter(household_id__in=chunk)
            .exclude(status__in=services.NOT_HOUSED)
            .order_by("-priority", "birth_date", "id")
        ):
            members.setdefault(person.household_id, []).append(person)
        needs = [
            packing.HouseholdNeed(
                key=pk,
                guests=[services.guest_of(p, first) for p in people],
                priority=households[pk].priority,
            )
            for pk, people in members.items()
        ]
        batch = packing.suggest(needs, supply)
        t_choose += time.perf_counter() - t
        placed = 0
        for s in batch:
            if s.hotel_id is None or room_nights >= args.fill:
                continue
            people = {p.pk: p for p in members[s.key]}
            rooms = [(blocks[r.block_id], [people[g] for g in r.guests]) for r in s.rooms]
            try:
                t_one, n, made = timed(
                    lambda s=s, rooms=rooms, households=households: services.household_house(
                        actor=user,
                        crisis=crisis,
                        first_night=first,
                        last_night=last,
                        household=households[s.key],
                        rooms=rooms,
                    ),
                    1,
                )
            except services.ApplicationError as exc:
                conflicts += 1
                print(f"    refused: {exc}")
                continue
            fill_times += t_one
            fill_counts.append(n)
            room_nights += len(made) * args.nights
            placed += 1
        if placed == 0 and room_nights < args.fill:
            print(f"    hotels full at {room_nights:,} room-nights")
            break
        if len(fill_times) % 1000 < placed:
            print(
                f"    {room_nights:,} room-nights, {len(fill_times):,} households, "
                f"{time.perf_counter() - t_fill:.0f} s",
                flush=True,
            )
    t_fill = time.perf_counter() - t_fill
    room_nights = StayNight.objects.filter(block__crisis=crisis).count()
    stays_total = Stay.objects.filter(crisis=crisis).count()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would after a load this size
    print(
        f"    filled: {room_nights:,} room-nights in {stays_total:,} stays; "
        f"{len(fill_times):,} households housed in {t_fill:.0f} s (household_house "
        f"{sum(fill_times):.0f} s, choosing rooms {t_choose:.0f} s, "
        f"registering {extra:,} more households {t_register:.0f} s)"
    )
    if fill_times:  # nothing to fill when `--fill` is below what the steps above housed
        table.add(
            f"fill: household_house(rooms=) for {args.nights} nights",
            f"{len(fill_times):,}",
            fill_times,
            f"{statistics.median(fill_counts):.0f}",
            f"whole fill {t_fill:.0f} s to {room_nights:,} room-nights "
            f"({extra:,} more households registered)",
        )

    times, statements, book = timed(lambda: ledger.ledger_build(crisis=crisis), args.repeat)
    table.add(
        "ledger.ledger_build (whole crisis)",
        f"{book.grand.room_nights:,} room-nights",
        times,
        statements,
        f"{len(book.lines):,} lines, total {book.grand.home:,.0f} {book.home_currency}, "
        f"{'complete' if book.grand.complete else 'rates missing'}",
    )
    times, statements, file = timed(
        lambda: ledger.ledger_export(actor=user, crisis=crisis, filters=ledger.LedgerFilters()),
        args.repeat,
    )
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(file.content))["Lines"]
    assert sheet.max_row == len(book.lines) + 1, (sheet.max_row, len(book.lines))
    last_row = sheet[sheet.max_row]
    assert (last_row[0].number_format, last_row[11].number_format) == (
        ledger.DAY,
        ledger.MONEY,
    ), "number formats on the wrong rows"
    table.add(
        "ledger.ledger_export (XLSX)",
        f"{book.grand.room_nights:,} room-nights",
        times,
        statements,
        f"{len(file.content) / 1024:,.0f} KiB",
    )
    times, statements, grid = timed(
        lambda: selectors.occupancy(hotels, first, args.nights), args.repeat
    )
    cells = sum(len(o.nights) for o in grid)
    table.add(
        "selectors.occupancy",
        f"{len(hotels)} hotels × {args.nights} nights",
        times,
        statements,
        f"{cells} cells",
    )
    busiest_id = (
        Stay.objects.filter(crisis=crisis)
        .values("block__hotel")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("block__hotel", flat=True)[0]
    )
    busiest = Hotel.objects.select_related("place").get(pk=busiest_id)
    day = run_first  # arrivals of the 3-night run, the long stays in the house
    times, statements, daily = timed(
        lambda: selectors.daily_list(user=user, crisis=crisis, hotel=busiest, day=day),
        args.repeat,
    )
    guests = sum(len(s.guests.all()) for s in (*daily.arrivals, *daily.in_house, *daily.departures))
    table.add(
        "selectors.daily_list (busiest hotel)",
        1,
        times,
        statements,
        f"{len(daily.arrivals)} arrivals, {len(daily.in_house)} in house, "
        f"{len(daily.departures)} departures, {guests} guests",
    )

    # 4. Vouchers ----------------------------------------------------------------------
    print("4. vouchers", flush=True)
    rng = random.Random(args.seed)
    stay_ids = list(Stay.objects.filter(crisis=crisis).values_list("pk", flat=True))
    sample = Stay.objects.filter(
        pk__in=rng.sample(stay_ids, min(args.voucher_requests, len(stay_ids)))
    )
    codes = [vouchers.voucher_code(s) for s in sample]
    client = Client()
    client.get(f"/voucher/{codes[0]}/")  # the template loaded once
    times, counts = [], []
    for code in codes:
        t, n, response = timed(lambda code=code: client.get(f"/voucher/{code}/"), 1)
        assert response.status_code == 200, response.status_code
        times += t
        counts.append(n)
    table.add(
        "GET /voucher/<code>/ (public check, in-process)",
        len(times),
        times,
        f"{statistics.median(counts):.0f}",
        f"{len(response.content) / 1024:.1f} KiB page",
    )
    largest = (
        Stay.objects.filter(crisis=crisis)
        .annotate(g=Count("guests"))
        .order_by("-g", "pk")
        .values_list("pk", "g")[0]
    )
    stay = selectors.stay_for_user(user=user, crisis=crisis, pk=largest[0])
    times, statements, pdf = timed(
        lambda: vouchers.voucher_export(
            actor=user,
            stay=stay,
            fmt="pdf",
            url_for=lambda code: f"https://aman.example/voucher/{code}/",
        ),
        args.pdf_repeat,
    )
    table.add(
        "voucher PDF (voucher_export)",
        args.pdf_repeat,
        times,
        statements,
        f"{largest[1]} guests, {len(pdf.content) / 1024:.0f} KiB",
    )
    table.print()
    print(machine().replace("load average before", "load average after"))


if __name__ == "__main__":
    main()
