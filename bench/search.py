"""Benchmark: searching the registry at a million people.

    .venv/bin/python bench/search.py [--people 1000000] [--repeat 20] [--reuse] [--keep]

Fills a fresh PostgreSQL database (`--database`, default `aman_bench_search` on
127.0.0.1:5432, user postgres) with `--people` people in households of 1-4, with their
name keys and name pairs (aman.registry.identity.name_keys and name_key_pairs, as
`_write_name_keys` writes them), passports
and phones (encrypted, with keyed hashes from aman.registry.services.document_hash and
phone_hash) and IINs, through COPY (the secondary indexes are dropped during the load and
built after it, foreign-key triggers are off for the load session), then ANALYZE. Names
come from bench/names.py (Kazakh and Russian, Zipf-weighted, so that keys are concentrated
as in real lists).

Then times `people_search` for: a reference code, a passport number, a phone as an
operator types it, a full name in Cyrillic, the same name in passport Latin, a single
common given name (the worst case: tens of thousands of matches), and a rare surname
prefix — through the selector (`people_search(...)[:50]` evaluated, and `people_filtered`,
the API's ordering) and through the REST API in-process (`GET /api/people?q=...&limit=50`,
which adds the page's count query). Reports p50/p95/max per query type, rows returned,
whether the sought person is among them, and EXPLAIN ANALYZE of the slowest SQL.

`--reuse` keeps an existing database with the right number of people (to iterate on the
queries) and migrates it to the current code (timed); `--keep` does not drop the database
at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
SECRET = "bench-search-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

from names import random_person, surname_for  # noqa: E402

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
MOBILE = ["700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"]


def tsv(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _masculine(surname: str) -> str:
    for fem, masc in (("қызы", "ұлы"), ("ская", "ский"), ("ова", "ов"), ("ева", "ев"),
                      ("ёва", "ёв"), ("ина", "ин")):  # fmt: skip
        if surname.endswith(fem):
            return surname[: -len(fem)] + masc
    return surname


def drop_secondary_indexes(cursor: Any, tables: list[str]) -> list[str]:
    """Drop the indexes that back no constraint; return their definitions."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
          AND NOT EXISTS (
            SELECT 1 FROM pg_constraint c
            JOIN pg_class ic ON ic.oid = c.conindid WHERE ic.relname = i.indexname)
        """,
        [tables],
    )
    definitions = []
    for name, definition in cursor.fetchall():
        cursor.execute(f'DROP INDEX "{name}"')
        definitions.append(definition)
    return definitions


def generate(args: argparse.Namespace, crisis: Any, country_id: int) -> dict[str, Any]:
    """COPY the people and what hangs off them; returns samples to search for."""
    from django.db import connection

    from aman.core.crypto import encrypt
    from aman.registry import triage
    from aman.registry.identity import make_iin, name_key_pairs, name_keys, to_passport_latin
    from aman.registry.models import Document, Household, NameKey, NamePair, Person, Phone
    from aman.registry.services import document_hash, iin_hash, phone_hash

    rng = random.Random(args.seed)
    today = date(2026, 11, 25)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    latin_cache: dict[str, str] = {}

    def latin(text: str) -> str:
        value = latin_cache.get(text)
        if value is None:
            value = latin_cache[text] = to_passport_latin(text)
        return value

    person_cols = [f.column for f in Person._meta.concrete_fields]
    expected = {
        "id", "crisis_id", "reference_code", "household_id", "surname", "given_names",
        "patronymic", "surname_latin", "given_names_latin", "latin_from_document",
        "birth_date", "sex", "nationalities", "iin", "iin_hash", "email", "messengers",
        "language", "pregnant", "medical_need", "reduced_mobility", "disability",
        "unaccompanied_minor", "needs_note", "consent_at", "country_id", "city_id",
        "address", "latitude", "longitude", "location_updated_at", "intent", "eligibility",
        "status", "priority", "priority_reasons", "channel", "created_at", "updated_at",
        "merged_into_id",
    }  # fmt: skip
    if set(person_cols) != expected:
        raise SystemExit(
            f"registry_person changed; update bench/search.py: {set(person_cols) ^ expected}"
        )
    hh_cols = ["id", "crisis_id", "contact_id", "priority", "created_at"]
    key_cols = ["id", "person_id", "crisis_id", "key"]
    doc_cols = [
        "id", "person_id", "kind", "number", "number_hash", "issuing_state", "expiry_date",
        "surname_latin", "given_names_latin", "created_at",
    ]  # fmt: skip
    phone_cols = ["id", "person_id", "number", "number_hash", "valid"]
    for model, cols in (
        (Household, hh_cols),
        (NameKey, key_cols),
        (NamePair, key_cols),
        (Document, doc_cols),
        (Phone, phone_cols),
    ):
        actual = {f.column for f in model._meta.concrete_fields}
        if actual != set(cols):
            raise SystemExit(f"{model._meta.db_table} changed: {actual ^ set(cols)}")

    tables = {
        "registry_household": hh_cols,
        "registry_person": person_cols,
        "registry_namekey": key_cols,
        "registry_namepair": key_cols,
        "registry_document": doc_cols,
        "registry_phone": phone_cols,
    }
    connection.ensure_connection()
    raw = connection.connection  # Django's psycopg connection (autocommit)
    import psycopg

    dsn = raw.info.dsn
    conns = {t: psycopg.connect(dsn) for t in tables}
    with raw.cursor() as cur:
        indexes = drop_secondary_indexes(cur, list(tables))
    samples: dict[str, list[Any]] = {"people": []}
    key_counts: Counter[str] = Counter()
    surnames: Counter[str] = Counter()
    codes: set[str] = set()
    counts = Counter()
    timings: dict[str, float] = {}
    gen_start = time.perf_counter()
    sample_every = max(1, args.people // 400)
    with ExitStack() as stack:
        copies = {}
        buffers: dict[str, list[str]] = {t: [] for t in tables}
        for table, cols in tables.items():
            c = conns[table]
            c.execute("SET session_replication_role = replica")
            cur = stack.enter_context(c.cursor())
            copies[table] = stack.enter_context(
                cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN")
            )

        def flush(force: bool = False) -> None:
            for table, rows in buffers.items():
                if rows and (force or len(rows) >= 5000):
                    copies[table].write("".join(rows))
                    rows.clear()

        pid = doc_id = phone_id = key_id = pair_id = 0
        hh_id = 0
        while pid < args.people:
            hh_id += 1
            size = rng.choices([1, 2, 3, 4], weights=[35, 30, 20, 15])[0]
            size = min(size, args.people - pid)
            family = None
            members = []
            created = now - timedelta(seconds=rng.randrange(3 * 86400))
            for m in range(size):
                surname, given, patronymic, sex = random_person(rng)
                adult = m < 2
                if family is None:
                    family = _masculine(surname)
                else:
                    surname = surname_for(family, sex)
                if adult:
                    born = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
                else:
                    born = date(2008, 1, 1) + timedelta(days=rng.randrange(16 * 365))
                    patronymic = ""
                pid += 1
                code = "".join(rng.choice(CODE_ALPHABET) for _ in range(8))
                while code in codes:
                    code = "".join(rng.choice(CODE_ALPHABET) for _ in range(8))
                codes.add(code)
                s_lat, g_lat = latin(surname), latin(given)
                iin = ""
                if rng.random() < 0.5:
                    for serial in range(pid % 9000, pid % 9000 + 20):
                        try:
                            iin = make_iin(born, sex, serial)
                            break
                        except ValueError:
                            continue
                medical = rng.random() < 0.04
                pregnant = sex == "F" and adult and rng.random() < 0.03
                priority, reasons = triage.assess(
                    triage.Facts(born, sex, pregnant, medical, False, False, False),
                    triage.DEFAULT_RULES,
                    "weights",
                    today,
                )
                row = {
                    "id": pid, "crisis_id": crisis.pk, "reference_code": code,
                    "household_id": hh_id, "surname": surname, "given_names": given,
                    "patronymic": patronymic, "surname_latin": s_lat, "given_names_latin": g_lat,
                    "latin_from_document": False, "birth_date": born.isoformat(), "sex": sex,
                    "nationalities": '["KZ"]', "iin": encrypt(iin) if iin else "",
                    "iin_hash": iin_hash(iin) if iin else "", "email": "", "messengers": "",
                    "language": rng.choice(["kk", "ru"]), "pregnant": pregnant,
                    "medical_need": medical, "reduced_mobility": False, "disability": False,
                    "unaccompanied_minor": False, "needs_note": "", "consent_at": created,
                    "country_id": country_id, "city_id": None, "address": "Tehran",
                    "latitude": None, "longitude": None, "location_updated_at": created,
                    "intent": "leave", "eligibility": "citizen", "status": "registered",
                    "priority": priority, "priority_reasons": json.dumps(reasons),
                    "channel": rng.choice(["public_web", "api", "hotline", "import"]),
                    "created_at": created, "updated_at": created, "merged_into_id": None,
                }  # fmt: skip
                buffers["registry_person"].append(
                    "\t".join(tsv(row[c]) for c in person_cols) + "\n"
                )
                keys = sorted(set(name_keys(" ".join([surname, given, patronymic, s_lat, g_lat]))))
                for k in keys:
                    if k:
                        key_id += 1
                        key_counts[k] += 1
                        buffers["registry_namekey"].append(
                            f"{key_id}\t{pid}\t{crisis.pk}\t{k[:60]}\n"
                        )
                for pair in name_key_pairs(k[:60] for k in keys):
                    pair_id += 1
                    buffers["registry_namepair"].append(f"{pair_id}\t{pid}\t{crisis.pk}\t{pair}\n")
                surnames[surname] += 1
                passport = ""
                if adult or rng.random() < 0.3:
                    doc_id += 1
                    passport = f"N{pid + 10_000_000:08d}"
                    buffers["registry_document"].append(
                        "\t".join(
                            tsv(v)
                            for v in (
                                doc_id,
                                pid,
                                "passport",
                                encrypt(passport),
                                document_hash(passport),
                                "KAZ",
                                (today + timedelta(days=rng.randrange(3000))).isoformat(),
                                s_lat,
                                g_lat,
                                created,
                            )
                        )
                        + "\n"
                    )
                phone = ""
                if m == 0 or (adult and rng.random() < 0.3):
                    phone_id += 1
                    n = phone_id
                    phone = f"+7{MOBILE[n % len(MOBILE)]}{n // len(MOBILE):07d}"
                    buffers["registry_phone"].append(
                        f"{phone_id}\t{pid}\t{encrypt(phone)}\t{phone_hash(phone)}\tt\n"
                    )
                members.append((pid, priority))
                if pid % sample_every == 0:
                    samples["people"].append(
                        {
                            "id": pid,
                            "code": code,
                            "surname": surname,
                            "given": given,
                            "surname_latin": s_lat,
                            "given_latin": g_lat,
                            "passport": passport,
                            "phone": phone,
                        }
                    )
            buffers["registry_household"].append(
                f"{hh_id}\t{crisis.pk}\t{members[0][0]}\t{max(p for _, p in members)}\t{created}\n"
            )
            if pid % 5000 < size:
                flush()
            if pid % 100_000 < size:
                print(f"  … {pid:,} people, {time.perf_counter() - gen_start:.0f} s", flush=True)
        flush(force=True)
        counts.update(
            people=pid,
            households=hh_id,
            name_keys=key_id,
            name_pairs=pair_id,
            documents=doc_id,
            phones=phone_id,
        )
    for c in conns.values():
        c.commit()
        c.close()
    timings["generate + COPY"] = time.perf_counter() - gen_start
    t0 = time.perf_counter()
    with raw.cursor() as cur:
        for definition in indexes:
            cur.execute(definition)
        for table in tables:
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
    timings[f"build {len(indexes)} secondary indexes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with connection.cursor() as cur:  # Django's connection is in autocommit mode
        cur.execute("VACUUM ANALYZE")
    timings["VACUUM ANALYZE"] = time.perf_counter() - t0
    return {
        "samples": samples,
        "counts": counts,
        "timings": timings,
        "key_counts": key_counts,
        "surnames": surnames,
    }


def django_env(database: str, host: str = "127.0.0.1", port: str = "5432") -> None:
    """Point Django at a benchmark database on the local PostgreSQL."""
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@{host}:{port}/{database}",
        SECRET_KEY=SECRET,
        DEBUG="0",
        DJANGO_SETTINGS_MODULE="aman.settings",
        LOG_LEVEL="WARNING",
    )


def kept_database(database: str) -> dict[str, Any]:
    """For benchmarks that reuse what `search.py --keep` left: set Django up on it, migrate
    it to the current code, and return its state (the crisis, counts, samples) with the
    seconds the migration took."""
    state_file = Path(f"/tmp/{database}.samples.json")
    if not state_file.exists():
        raise SystemExit(f"run bench/search.py --keep first ({state_file} is missing)")
    django_env(database)
    import django

    django.setup()
    from django.core.management import call_command

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    return {**json.loads(state_file.read_text()), "migrated_in": time.perf_counter() - t0}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--budget", type=float, default=20.0, help="max seconds per timing")
    parser.add_argument("--database", default="aman_bench_search")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--reuse", action="store_true", help="reuse a filled database")
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    args = parser.parse_args()

    django_env(args.database, args.pg_host, args.pg_port)
    import psycopg

    admin_dsn = f"host={args.pg_host} port={args.pg_port} user=postgres dbname=postgres"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [args.database]
        ).fetchone()
        if not (args.reuse and exists):
            conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{args.database}"')
            exists = None

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from aman.core.models import Crisis, User
    from aman.core.services import api_token_create, crisis_create, crisis_open, user_create
    from aman.geo.loaders import load_countries
    from aman.geo.models import Country
    from aman.registry import selectors
    from aman.registry.identity import name_matching_key
    from aman.registry.models import NameKey, Person

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, PostgreSQL "
        f"{connection.cursor().connection.info.server_version}, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    state_file = Path(f"/tmp/{args.database}.samples.json")
    try:
        if exists and state_file.exists():
            state = json.loads(state_file.read_text())
            if state["counts"]["people"] != args.people:
                raise SystemExit(f"{args.database} has {state['counts']['people']} people")
            crisis = Crisis.objects.get(pk=state["crisis"])
            operator = User.objects.get(username="bench-operator")
            print(f"reusing {args.database}: {state['counts']}")
            t0 = time.perf_counter()
            call_command("migrate", verbosity=0)
            print(f"migrated to the current code in {time.perf_counter() - t0:.1f} s")
        else:
            t0 = time.perf_counter()
            call_command("migrate", verbosity=0)
            load_countries()
            kz, ir, iq = (Country.objects.get(code=c) for c in ("KZ", "IR", "IQ"))
            crisis = crisis_create(
                actor=None, name="Bench search 2026", home_country=kz, affected_countries=[ir, iq]
            )
            crisis = crisis_open(actor=None, crisis=crisis)
            operator = user_create(
                actor=None, username="bench-operator", role="operator",
                password="Bench-pass-9183-x!",
            )  # fmt: skip
            print(f"migrate + countries: {time.perf_counter() - t0:.1f} s")
            print(f"generating {args.people:,} people …", flush=True)
            result = generate(args, crisis, ir.pk)
            state = {
                "crisis": crisis.pk,
                "counts": dict(result["counts"]),
                "timings": result["timings"],
                "samples": result["samples"],
                "top_keys": result["key_counts"].most_common(10),
                "rare_surnames": [s for s, _ in result["surnames"].most_common()[-5:]],
            }
            state_file.write_text(json.dumps(state, ensure_ascii=False))
        print(f"rows: {state['counts']}")
        for what, seconds in state["timings"].items():
            print(f"  {what}: {seconds:.1f} s")
        print(f"most common name keys: {state['top_keys'][:6]}")
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database())), "
                "pg_size_pretty(pg_total_relation_size('registry_namekey')), "
                "pg_size_pretty(pg_total_relation_size('registry_namepair'))"
            )
            size, keys_size, pairs_size = cur.fetchone()
        print(
            f"database size {size} (with indexes: registry_namekey {keys_size}, "
            f"registry_namepair {pairs_size})"
        )

        people = state["samples"]["people"]
        rng = random.Random(7)
        rng.shuffle(people)
        with_passport = [p for p in people if p["passport"]]
        with_phone = [p for p in people if p["phone"]]
        common_given = "Нұрлан"
        rare_surname = state["rare_surnames"][0]
        rare_prefix = rare_surname[:4]

        def phone_typed(e164: str) -> str:
            d = e164[2:]  # +7XXXXXXXXXX → 8 XXX XXX XX XX, as an operator types it
            return f"8 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}"

        queries: dict[str, list[tuple[str, int | None]]] = {
            "reference code": [(p["code"], p["id"]) for p in people],
            "passport number": [(p["passport"], p["id"]) for p in with_passport],
            "phone (8 7xx …)": [(phone_typed(p["phone"]), p["id"]) for p in with_phone],
            "full name, Cyrillic": [(f"{p['surname']} {p['given']}", p["id"]) for p in people],
            "full name, passport Latin": [
                (f"{p['surname_latin']} {p['given_latin']}", p["id"]) for p in people
            ],
            f"common given name ({common_given})": [(common_given, None)],
            f"rare surname prefix ({rare_prefix}, of {rare_surname})": [(rare_prefix, None)],
        }
        true_counts = {}
        for label, values in queries.items():
            q = values[0][0]
            if label.startswith(("common", "rare", "full")):
                keys = [name_matching_key(w) for w in q.split()]
                ids = None
                for key in keys:
                    matched = set(
                        NameKey.objects.filter(crisis=crisis, key__startswith=key).values_list(
                            "person_id", flat=True
                        )
                    )
                    ids = matched if ids is None else ids & matched
                true_counts[label] = len(ids or ())

        user = operator
        _t, secret = api_token_create(actor=user, name="bench-search")
        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
        base = selectors.people_for_user(user=user, crisis=crisis)

        paths = {
            "selector people_search[:50]": lambda q: len(
                list(selectors.people_search(base, crisis=crisis, query=q)[0][:50])
            ),
            "selector people_filtered[:50]": lambda q: len(
                list(selectors.people_filtered(user=user, crisis=crisis, filters={"q": q})[:50])
            ),
            "API GET /api/people (+count≤1,000)": lambda q: client.get(
                "/api/people", {"crisis": crisis.pk, "q": q, "limit": 50}
            ),
        }
        results = []
        print(
            f"\n{'query':44} {'path':32} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
            f" {'rows':>5} {'count':>6} {'true':>6} {'found':>5}"
        )
        print(
            "(rows, count: of the first query of the kind; true: people whose name keys match"
            " every word; found: the sought person on the first page)"
        )
        for label, values in queries.items():
            for path, fn in paths.items():
                fn(values[0][0])  # warm
                samples, found, rows, count = [], 0, None, None
                started = time.perf_counter()
                for i in range(args.repeat):
                    q, pid = values[i % len(values)]
                    t0 = time.perf_counter()
                    out = fn(q)
                    samples.append((time.perf_counter() - t0) * 1000)
                    if path.startswith("API"):
                        body = out.json()
                        assert out.status_code == 200, body
                        ids = [p["id"] for p in body["items"]]
                        if i == 0:
                            rows, count = len(ids), body["count"]
                    else:
                        ids = None
                        if i == 0:
                            rows = out
                    if pid is not None and ids is not None and pid in ids:
                        found += 1
                    if time.perf_counter() - started > args.budget and i >= 2:
                        break
                n = len(samples)
                found_text = f"{found}/{n}" if path.startswith("API") and values[0][1] else ""
                results.append(
                    {
                        "label": label,
                        "path": path,
                        "p50": statistics.median(samples),
                        "max": max(samples),
                    }
                )
                rows_text = "" if rows is None else rows
                count_text = "" if count is None else count
                print(
                    f"{label[:44]:44} {path:32} {n:3d} {statistics.median(samples):8.1f} "
                    f"{pct(samples, 0.95):8.1f} {max(samples):8.1f} {rows_text:>5} "
                    f"{count_text:>6} {true_counts.get(label, ''):>6} {found_text:>5}"
                )
        # The slowest query type through the API: its SQL, each statement's time, and the
        # plan of the slowest statement.
        api_rows = [r for r in results if r["path"].startswith("API")]
        slowest = max(api_rows, key=lambda r: r["p50"], default=None)
        if slowest is None:
            slowest = {"label": next(iter(queries))}
        q = queries[slowest["label"]][0][0]
        with CaptureQueriesContext(connection) as ctx:
            client.get("/api/people", {"crisis": crisis.pk, "q": q, "limit": 50})
        print(f"\nslowest through the API: {slowest['label']} (q={q!r}); its SQL:")
        statements = sorted(ctx.captured_queries, key=lambda s: -float(s["time"]))
        for s in ctx.captured_queries:
            sql = s["sql"]
            short = sql if len(sql) < 300 else sql[:220] + f" … ({len(sql):,} characters)"
            print(f"  {float(s['time']) * 1000:8.1f} ms  {short}")
        worst = statements[0]["sql"]
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + worst)
            plan = [row[0] for row in cur.fetchall()]
        print("\nEXPLAIN (ANALYZE, BUFFERS) of the slowest statement:")
        for line in plan:
            print("  " + (line if len(line) < 400 else line[:380] + " …"))
        # The name-key lookup that feeds the name search, alone.
        key = name_matching_key(common_given)
        with connection.cursor() as cur:
            cur.execute(
                "EXPLAIN (ANALYZE, BUFFERS) SELECT person_id FROM registry_namekey "
                "WHERE crisis_id = %s AND key >= %s AND key < %s",
                [crisis.pk, key, key[:-1] + chr(ord(key[-1]) + 1)],
            )
            plan = [row[0] for row in cur.fetchall()]
        print(f"\nEXPLAIN of the name-key range for {key!r}:")
        for line in plan:
            print("  " + line)
        print(f"\npeople in the database: {Person.objects.count():,}")
    finally:
        connections.close_all()
        if not args.keep:
            with psycopg.connect(admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            state_file.unlink(missing_ok=True)
            print(f"dropped {args.database}")


if __name__ == "__main__":
    main()
