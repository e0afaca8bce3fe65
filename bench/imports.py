"""Benchmark: importing a large list (a tour operator's CSV) through `aman import`, against
PostgreSQL.

    .venv/bin/python bench/imports.py [--rows 100000]

Creates a fresh database (`--database`, default `aman_bench_import` on 127.0.0.1:5432,
user postgres), migrates, loads countries, opens a crisis; writes a CSV of `--rows` rows
(households of 1-4 sharing a tour code, Kazakh and Russian names from bench/names.py,
passports, phones, IINs; 2 % of rows with a birth date that does not exist, which the
import must reject); then runs `aman import` as a separate process, as an operator would,
and reports its wall time, rows per second, its CPU and the whole machine's. Then the same list
sent again with 1 % more rows: only the new ones are registered (the rest is recognised
as already imported). Drops the database at the end (unless `--keep`).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SECRET = "bench-import-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

sys.path.insert(0, str(BENCH))
from intake import CpuMeter, Households  # noqa: E402

HEADER = ["Код тура", "ФИО", "Дата рождения", "Пол", "Паспорт", "Телефон", "Отель", "Город"]


def write_list(path: Path, rows: int, seed: int) -> int:
    """A tour operator's list; returns the number of rows written."""
    gen = Households(phase=7, seed=seed)
    rng = random.Random(seed)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, delimiter=";")
        out.writerow(HEADER)
        tour = 0
        while written < rows:
            tour += 1
            household = gen.household()
            for member in household["members"]:
                if written >= rows:
                    break
                born = member["birth_date"]
                y, m, d = born.split("-")
                birth = f"{d}.{m}.{y}" if rng.random() > 0.02 else f"31.02.{y}"
                name = " ".join(
                    p for p in (member["surname"], member["given_names"], member.get("patronymic"))
                    if p
                )  # fmt: skip
                out.writerow(
                    [
                        f"KT-{tour:06d}",
                        name,
                        birth,
                        {"M": "М", "F": "Ж"}[member["sex"]],
                        member["documents"][0]["number"] if member.get("documents") else "",
                        (member.get("phones") or [""])[0],
                        household["location"]["address"].split(",")[0],
                        "Tehran",
                    ]
                )
                written += 1
    return written


def run_import(path: Path, crisis: int, env: dict[str, str], meter: CpuMeter) -> dict[str, float]:
    before = meter.snapshot()
    child_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("aman")), "import", str(path), "--crisis",
         str(crisis), "--source", "Bench Tour", "--country", "IR", "--kind", "tour_operator"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    after = meter.snapshot()
    if proc.returncode != 0:
        raise SystemExit(f"aman import failed:\n{proc.stdout}\n{proc.stderr}")
    cpu = CpuMeter.delta(before, after)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (child.ru_utime + child.ru_stime) - (child_before.ru_utime + child_before.ru_stime)
    print("  " + proc.stdout.strip().replace("\n", "\n  "))
    # (PostgreSQL's backend ends with the command, so the machine's busy time stands in.)
    return {"wall": wall, "machine": cpu["machine_cores"] * cpu["wall"], "import_cpu": used}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database", default="aman_bench_import")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@{args.pg_host}:{args.pg_port}/{args.database}",
        "SECRET_KEY": SECRET,
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "aman.settings",
        "LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    import psycopg

    admin = f"host={args.pg_host} port={args.pg_port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from aman.core.services import crisis_create, crisis_open
    from aman.geo.loaders import load_countries
    from aman.geo.models import Country
    from aman.registry.models import ImportBatch, IntakeRecord, Person

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    try:
        call_command("migrate", verbosity=0)
        load_countries()
        kz, ir = Country.objects.get(code="KZ"), Country.objects.get(code="IR")
        crisis = crisis_open(
            actor=None,
            crisis=crisis_create(
                actor=None, name="Bench import", home_country=kz, affected_countries=[ir]
            ),
        )
        connections.close_all()
        meter = CpuMeter(os.getpid(), args.database)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench-tour-list.csv"
            t0 = time.perf_counter()
            rows = write_list(path, args.rows, args.seed)
            print(
                f"list: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, written in "
                f"{time.perf_counter() - t0:.1f} s"
            )
            print("first import:")
            first = run_import(path, crisis.pk, env, meter)
            people = Person.objects.count()
            print(
                f"  {first['wall']:.1f} s wall, {rows / first['wall']:,.0f} rows/s; "
                f"{people:,} people registered; CPU: aman import {first['import_cpu']:.1f} s, "
                f"whole machine {first['machine']:.1f} s"
            )
            more = int(rows * 1.01)
            again = Path(tmp) / "bench-tour-list-2.csv"
            write_list(again, more, args.seed)
            print(f"the same list again with {more - rows:,} more rows:")
            second = run_import(again, crisis.pk, env, meter)
            print(
                f"  {second['wall']:.1f} s wall, {more / second['wall']:,.0f} rows/s; "
                f"{Person.objects.count() - people:,} new people; CPU: aman import "
                f"{second['import_cpu']:.1f} s, whole machine {second['machine']:.1f} s"
            )
            batches = list(ImportBatch.objects.order_by("id").values_list("status", flat=True))
            print(
                f"imports: {batches}; intake records {IntakeRecord.objects.count():,} "
                f"(rejected {IntakeRecord.objects.filter(outcome='rejected').count():,})"
            )
    finally:
        connections.close_all()
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            print(f"dropped {args.database}")


if __name__ == "__main__":
    main()
