"""Benchmark: registrations per second through the REST API and the public form, against
PostgreSQL, with gunicorn, on this machine.

    .venv/bin/python bench/intake.py [--concurrency 4,16] [--duration 15] \
        [--configs sync:2,sync:4,gthread:2x4]

What it does:

1. Drops and creates a PostgreSQL database (`--database`, default `aman_bench_intake` on
   127.0.0.1:5432, user postgres), migrates, loads countries and border crossings, creates
   an open crisis with public registration, an operator and an API token (through the
   services).
2. Counts the queries of one registration in-process (API with 1 and 4 members, public
   form POST) and times them without HTTP, as evidence for where the time goes
   (`--profile` adds a cProfile of API registrations).
3. For each gunicorn configuration (`sync:W` = W sync workers, `gthread:WxT` = W workers of
   T threads): starts gunicorn with DEBUG off, CACHE_URL on Redis db 3 (shared rate-limit
   counters) and AMAN_PUBLIC_REGISTRATIONS_PER_HOUR very high, then drives it from a
   separate process (a small asyncio HTTP/1.1 client, no third-party packages; its own CPU
   is reported) with `--concurrency` clients for `--duration` seconds after `--warmup`:
   `GET /healthz` (baseline), API registrations of 1-4 member households with unique
   names, passports, IINs, phones and Idempotency-Keys, and public-form registrations
   (GET /register/ for the CSRF cookie and form token, then the POST; a new client each
   time, as a citizen would be).
4. Reports throughput, people/s, p50/p95/p99/max latency, errors, and CPU in cores of
   gunicorn (master and workers), of the PostgreSQL backends of the benchmark database,
   of the load generator and of the whole machine; and CPU-milliseconds per registration,
   which, unlike throughput, does not depend much on what else runs on the machine.
5. Stops gunicorn and drops the database (unless `--keep`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import random
import re
import resource
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
SECRET = "bench-intake-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
CLK = os.sysconf("SC_CLK_TCK")

# --------------------------------------------------------------------------------------
# Households: realistic, unique identifiers
# --------------------------------------------------------------------------------------

sys.path.insert(0, str(BENCH))
from names import random_person, surname_for  # noqa: E402

MOBILE = ["700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"]
HOTELS = ["Hotel Azadi", "Espinas Palace", "Parsian Evin", "Homa", "Laleh", "Enghelab"]


class Households:
    """Households of 1-4 members (35/30/20/15 %): adults with a passport (N + 8 digits,
    unique per phase), half of them with an IIN, the contact with a phone (unique per
    phase), children without documents."""

    def __init__(self, phase: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.phase = phase
        self.counter = itertools.count()

    def _adult(self, surname: str | None, sex: str | None) -> dict[str, Any]:
        s, given, patronymic, sx = random_person(self.rng)
        while sex and sx != sex:
            s, given, patronymic, sx = random_person(self.rng)
        surname = surname_for(surname, sx) if surname else s
        return self._member(surname, given, patronymic, sx, adult=True)

    def _member(
        self, surname: str, given: str, patronymic: str, sex: str, *, adult: bool
    ) -> dict[str, Any]:
        from aman.registry.identity import make_iin

        rng = self.rng
        n = next(self.counter)
        if adult:
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(55 * 365))
        else:
            born = date(2008, 1, 1) + timedelta(days=rng.randrange(16 * 365))
        member: dict[str, Any] = {
            "surname": surname,
            "given_names": given,
            "birth_date": born.isoformat(),
            "sex": sex,
        }
        if patronymic and adult:
            member["patronymic"] = patronymic
        if adult and rng.random() < 0.9:
            doc: dict[str, Any] = {
                "kind": "passport",
                "number": f"N{self.phase:02d}{n:06d}",
                "issuing_state": "KAZ",
                "expiry_date": (date(2027, 1, 1) + timedelta(days=rng.randrange(3000))).isoformat(),
            }
            if rng.random() < 0.3:
                from aman.registry.identity import to_passport_latin

                doc["surname_latin"] = to_passport_latin(surname)
                doc["given_names_latin"] = to_passport_latin(given)
            member["documents"] = [doc]
        if rng.random() < 0.5:
            for serial in range(n % 9000, n % 9000 + 20):
                try:
                    member["iin"] = make_iin(born, sex, serial)
                    break
                except ValueError:
                    continue
        if adult and rng.random() < 0.05:
            member["medical_need"] = True
            member["needs_note"] = "insulin"
        return member

    def phone(self, n: int) -> str:
        prefix = MOBILE[self.phase % len(MOBILE)]
        digits = f"{n:07d}"
        return f"+7 {prefix} {digits[:3]} {digits[3:5]} {digits[5:]}"

    def household(self) -> dict[str, Any]:
        rng = self.rng
        size = rng.choices([1, 2, 3, 4], weights=[35, 30, 20, 15])[0]
        first = self._adult(None, None)
        members = [first]
        family = first["surname"] if first["sex"] == "M" else None
        if size >= 2:
            partner_sex = "F" if first["sex"] == "M" else "M"
            base = family or _masculine(first["surname"])
            members.append(self._adult(base, partner_sex))
        for _ in range(size - 2):
            _s, given, _p, sex = random_person(rng)
            base = family or _masculine(first["surname"])
            members.append(self._member(surname_for(base, sex), given, "", sex, adult=False))
        members[0]["phones"] = [self.phone(next(self.counter))]
        if size >= 2 and rng.random() < 0.3:
            members[1]["phones"] = [self.phone(next(self.counter))]
        if members[-1]["sex"] == "F" and size == 2 and rng.random() < 0.1:
            members[-1]["pregnant"] = True
        return {
            "members": members,
            "contact_index": 0,
            "location": {
                "country": "IR",
                "city": "Tehran",
                "address": f"{rng.choice(HOTELS)}, room {rng.randrange(100, 900)}",
            },
            "intent": rng.choices(["leave", "undecided", "stay"], weights=[85, 10, 5])[0],
            "language": rng.choice(["kk", "ru"]),
            "consent": True,
        }


def _masculine(surname: str) -> str:
    for fem, masc in (("қызы", "ұлы"), ("ская", "ский"), ("ова", "ов"), ("ева", "ев"),
                      ("ёва", "ёв"), ("ина", "ин")):  # fmt: skip
        if surname.endswith(fem):
            return surname[: -len(fem)] + masc
    return surname


def form_fields(household: dict[str, Any]) -> dict[str, str]:
    """The public form's fields for a household (its first member is the contact)."""
    first = household["members"][0]
    fields = {
        "country": household["location"]["country"],
        "city": household["location"]["city"],
        "address": household["location"]["address"],
        "phone": first["phones"][0],
        "email": "",
        "intent": household["intent"],
        "consent": "on",
        "website": "",
        "m-TOTAL_FORMS": str(len(household["members"])),
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "1",
        "m-MAX_NUM_FORMS": "10",
        "submit": "1",
    }
    for i, m in enumerate(household["members"]):
        fields[f"m-{i}-surname"] = m["surname"]
        fields[f"m-{i}-given_names"] = m["given_names"]
        fields[f"m-{i}-birth_date"] = m["birth_date"]
        fields[f"m-{i}-sex"] = m["sex"]
        fields[f"m-{i}-passport"] = m["documents"][0]["number"] if m.get("documents") else ""
        if m.get("medical_need"):
            fields[f"m-{i}-medical_need"] = "on"
            fields[f"m-{i}-needs_note"] = m.get("needs_note", "")
        if m.get("pregnant"):
            fields[f"m-{i}-pregnant"] = "on"
    return fields


# --------------------------------------------------------------------------------------
# The load generator (a separate process: `--drive MODE`)
# --------------------------------------------------------------------------------------


class Conn:
    """One HTTP/1.1 connection, kept alive while the server allows it."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        reused = self.writer is not None
        try:
            return await self._request(raw)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            if not reused:
                raise
            return await self._request(raw)  # the server closed an idle kept-alive one

    async def _request(self, raw: bytes) -> tuple[int, dict[str, list[str]], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            if line:
                k, _, v = line.partition(":")
                headers.setdefault(k.strip().lower(), []).append(v.strip())
        length = headers.get("content-length")
        if length:
            body = await self.reader.readexactly(int(length[0]))
        elif headers.get("transfer-encoding", [""])[0].lower() == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readline()).strip() or b"0", 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            body = b"".join(parts)
        elif status in (204, 304):
            body = b""
        else:
            body = await self.reader.read()
            await self.close()
            return status, headers, body
        if headers.get("connection", [""])[0].lower() == "close":
            await self.close()
        return status, headers, body


def _request_bytes(
    method: str, path: str, host: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


async def drive(args: argparse.Namespace) -> None:
    host = f"{args.host}:{args.port}"
    gen = Households(args.phase, seed=args.phase * 7919 + 17)
    samples: dict[str, list[float]] = {"main": [], "get": []}
    errors: dict[str, int] = {}
    done = {"requests": 0, "people": 0}
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + args.warmup
    measure_to = measure_from + args.duration
    cpu: dict[str, float] = {}

    def error(kind: str) -> None:
        if loop.time() >= measure_from:
            errors[kind] = errors.get(kind, 0) + 1

    def record(kind: str, t0: float, t1: float) -> bool:
        if t0 >= measure_from and t1 <= measure_to:
            samples[kind].append((t1 - t0) * 1000)
            return True
        return False

    async def get(conn: Conn, path: str) -> None:
        raw = _request_bytes("GET", path, host, {})
        t0 = loop.time()
        status, _h, _b = await conn.request(raw)
        if status != 200:
            error(f"HTTP {status}")
        elif record("main", t0, loop.time()):
            done["requests"] += 1

    async def healthz(conn: Conn) -> None:
        await get(conn, "/healthz")

    async def floor(conn: Conn) -> None:
        await get(conn, "/bench/floor")

    async def page(conn: Conn) -> None:
        await conn.close()  # a new visitor: no cookies, a new connection
        await get(conn, "/register/")

    async def api(conn: Conn) -> None:
        household = gen.household()
        body = json.dumps(household, ensure_ascii=False).encode()
        key = f"bench-{args.phase}-{next(gen.counter)}-{random.random()}"
        raw = _request_bytes(
            "POST",
            f"/api/registrations?crisis={args.crisis}",
            host,
            {
                "Authorization": f"Bearer {args.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                **({"Prefer": "respond-async"} if args.queue else {}),
            },
            body,
        )
        t0 = loop.time()
        status, _h, resp = await conn.request(raw)
        if status != (202 if args.queue else 201):
            error(f"HTTP {status}: {resp[:120]!r}")
        elif record("main", t0, loop.time()):
            done["requests"] += 1
            done["people"] += len(household["members"])

    async def form(conn: Conn) -> None:
        await conn.close()  # every citizen comes on a new connection, without cookies
        t0 = loop.time()
        status, headers, page = await conn.request(_request_bytes("GET", "/register/", host, {}))
        t1 = loop.time()
        if status != 200:
            error(f"GET HTTP {status}")
            return
        record("get", t0, t1)
        cookies = [c.split(";")[0] for c in headers.get("set-cookie", [])]
        hidden = dict(HIDDEN.findall(page.decode()))
        household = gen.household()
        fields = {**hidden, **form_fields(household)}
        body = urllib.parse.urlencode(fields).encode()
        raw = _request_bytes(
            "POST",
            "/register/",
            host,
            {"Cookie": "; ".join(cookies), "Content-Type": "application/x-www-form-urlencoded"},
            body,
        )
        t2 = loop.time()
        status, headers, resp = await conn.request(raw)
        t3 = loop.time()
        if status != 302:
            text = resp.decode(errors="replace")
            found = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', text, re.S)
            error(f"POST HTTP {status} {found[:1]}")
        elif record("main", t2, t3) and t0 >= measure_from:
            done["requests"] += 1
            done["people"] += len(household["members"])

    step = {"healthz": healthz, "floor": floor, "page": page, "api": api, "form": form}[args.drive]

    async def client() -> None:
        conn = Conn(args.host, args.port)
        while loop.time() < measure_to:
            try:
                await asyncio.wait_for(step(conn), timeout=60)
            except Exception as exc:  # every failure is counted, the client goes on
                error(type(exc).__name__)
                await conn.close()
        await conn.close()

    async def markers() -> None:
        await asyncio.sleep(max(0.0, measure_from - loop.time()))
        cpu["start"] = _self_cpu()
        print("START", flush=True)
        await asyncio.sleep(max(0.0, measure_to - loop.time()))
        cpu["end"] = _self_cpu()
        print("END", flush=True)

    await asyncio.gather(markers(), *(client() for _ in range(args.concurrency)))
    print(
        "RESULT "
        + json.dumps(
            {
                "samples": samples,
                "errors": errors,
                "done": done,
                "duration": args.duration,
                "driver_cpu": cpu["end"] - cpu["start"],
            }
        ),
        flush=True,
    )


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


# --------------------------------------------------------------------------------------
# The orchestrator
# --------------------------------------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0


def _children(ppid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                        pids.append(int(entry))
            except (FileNotFoundError, ProcessLookupError):
                continue
    return pids


def _tree(pid: int) -> list[int]:
    found = []
    for child in _children(pid):
        found += [child, *_tree(child)]
    return found


def _pg_backends(database: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            except (FileNotFoundError, ProcessLookupError):
                continue
            if cmd.startswith("postgres: ") and f" {database} " in cmd:
                pids.append(int(entry))
    return pids


def _machine() -> tuple[float, float]:
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) / CLK, idle / CLK


class CpuMeter:
    def __init__(self, gunicorn_pid: int, database: str, worker: int | None = None) -> None:
        self.master, self.database, self.worker = gunicorn_pid, database, worker

    def snapshot(self) -> dict[str, Any]:
        g = {p: _proc_cpu(p) for p in [self.master, *_children(self.master)]}
        pg = {p: _proc_cpu(p) for p in _pg_backends(self.database)}
        w = {p: _proc_cpu(p) for p in ([self.worker, *_tree(self.worker)] if self.worker else [])}
        total, idle = _machine()
        return {"t": time.monotonic(), "g": g, "pg": pg, "w": w, "total": total, "idle": idle}

    @staticmethod
    def delta(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
        wall = b["t"] - a["t"]
        g = sum(v - a["g"].get(p, 0.0) for p, v in b["g"].items())
        # A backend that started during the window counts from zero (it is new).
        pg = sum(v - a["pg"].get(p, 0.0) for p, v in b["pg"].items())
        w = sum(v - a["w"].get(p, 0.0) for p, v in b["w"].items())
        busy = (b["total"] - a["total"]) - (b["idle"] - a["idle"])
        return {
            "wall": wall,
            "gunicorn": g,
            "postgres": pg,
            "worker": w,
            "machine_cores": busy / wall / 1,
        }


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * len(values)) - 1))]


def run_phase(
    args: argparse.Namespace, mode: str, phase: int, port: int, crisis: int, token: str,
    meter: CpuMeter,
) -> dict[str, Any]:  # fmt: skip
    cmd = [
        PY, str(Path(__file__).resolve()), "--drive", mode, "--port", str(port),
        "--concurrency", str(args.concurrency), "--duration", str(args.duration),
        "--warmup", str(args.warmup), "--phase", str(phase), "--crisis", str(crisis),
        "--token", token, *(["--queue"] if meter.worker else []),
    ]  # fmt: skip
    # Statistics as autovacuum keeps them in a running system (its 60-second nap is longer
    # than a phase): without them the planner takes the growing tables for empty ones and
    # reads them whole in the duplicate check's look-ups.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    started = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    assert proc.stdout is not None
    before = after = None
    result: dict[str, Any] = {}
    for line in proc.stdout:
        if line.startswith("START"):
            before = meter.snapshot()
        elif line.startswith("END"):
            after = meter.snapshot()
        elif line.startswith("RESULT "):
            result = json.loads(line[7:])
    proc.wait()
    if not result or before is None or after is None:
        raise SystemExit(f"the load generator failed ({mode}), exit {proc.returncode}")
    result["started"] = started
    result["cpu"] = CpuMeter.delta(before, after)
    if meter.worker:
        # Queued registrations: how long the worker takes to register what was taken.
        from django.db import connection

        from aman.registry.models import IntakeRecord

        t0 = time.monotonic()
        pending = IntakeRecord.objects.filter(outcome="pending")
        result["backlog"] = pending.count()
        while pending.exists() and time.monotonic() - t0 < 600:
            time.sleep(0.2)
        result["drain_s"] = time.monotonic() - t0
        drained = meter.snapshot()
        result["cpu_drain"] = CpuMeter.delta(after, drained)
        result["rejected"] = IntakeRecord.objects.filter(
            outcome="rejected", received_at__gte=time_started(result)
        ).count()
        connection.close()
    return result


def time_started(result: dict[str, Any]) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(result.get("started", 0), tz=UTC)


def summarize(mode: str, r: dict[str, Any]) -> dict[str, Any]:
    d = r["duration"]
    s = r["samples"]["main"]
    cpu = r["cpu"]
    n = r["done"]["requests"]
    server = cpu["gunicorn"] + cpu["postgres"]
    out = {
        "mode": mode,
        "per_s": n / d,
        "people_per_s": r["done"]["people"] / d,
        "p50": pct(s, 0.50),
        "p95": pct(s, 0.95),
        "p99": pct(s, 0.99),
        "max": max(s) if s else float("nan"),
        "errors": sum(r["errors"].values()),
        "error_kinds": r["errors"],
        "gunicorn_cores": cpu["gunicorn"] / cpu["wall"],
        "postgres_cores": cpu["postgres"] / cpu["wall"],
        "driver_cores": r["driver_cpu"] / cpu["wall"],
        "machine_cores": cpu["machine_cores"],
        "server_cpu_ms_per_op": 1000 * server / n if n else float("nan"),
        "gunicorn_cpu_ms_per_op": 1000 * cpu["gunicorn"] / n if n else float("nan"),
        "postgres_cpu_ms_per_op": 1000 * cpu["postgres"] / n if n else float("nan"),
    }
    if "drain_s" in r:
        total_wall = r["duration"] + r["drain_s"]
        c = r["cpu_drain"]
        out.update(
            backlog=r["backlog"],
            drain_s=r["drain_s"],
            worker_cores=cpu["worker"] / cpu["wall"],
            end_to_end_per_s=n / total_wall,
            worker_cpu_ms_per_op=1000 * (cpu["worker"] + c["worker"]) / n if n else 0.0,
            all_cpu_ms_per_op=1000
            * (server + cpu["worker"] + c["worker"] + c["postgres"] + c["gunicorn"])
            / n
            if n
            else 0.0,
        )
    if r["samples"]["get"]:
        g = r["samples"]["get"]
        out.update(get_p50=pct(g, 0.5), get_p95=pct(g, 0.95), get_p99=pct(g, 0.99))
    return out


def print_summary(config: str, rows: list[dict[str, Any]]) -> None:
    base = next((r for r in rows if r["mode"] == "healthz"), None)
    print(f"\n== gunicorn {config}, concurrency {ARGS.concurrency}, {ARGS.duration} s each ==")
    head = (
        f"{'':22} {'ops/s':>7} {'people/s':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}"
        f" {'err':>4} {'gunicorn':>8} {'postgres':>8} {'driver':>6} {'machine':>7}"
        f" {'srv CPU ms/op':>13}"
    )
    print(head)
    queued = " (queued)" if "queue" in config else ""
    labels = {
        "healthz": "GET /healthz",
        "floor": "GET /bench/floor",
        "page": "GET /register/ alone",
        "api": f"API registration{queued}",
        "form": f"form POST{queued} (pair/s)",
    }
    for r in rows:
        print(
            f"{labels[r['mode']]:22} {r['per_s']:7.1f} {r['people_per_s']:8.1f}"
            f" {r['p50']:7.1f} {r['p95']:7.1f} {r['p99']:7.1f} {r['max']:7.1f}"
            f" {r['errors']:4d} {r['gunicorn_cores']:8.2f} {r['postgres_cores']:8.2f}"
            f" {r['driver_cores']:6.2f} {r['machine_cores']:7.2f}"
            f" {r['server_cpu_ms_per_op']:6.1f} ({r['gunicorn_cpu_ms_per_op']:.1f}+"
            f"{r['postgres_cpu_ms_per_op']:.1f})"
        )
        if "get_p50" in r:
            print(
                f"{'  form GET':22} {'':7} {'':8} {r['get_p50']:7.1f} {r['get_p95']:7.1f}"
                f" {r['get_p99']:7.1f}"
            )
        if "drain_s" in r:
            print(
                f"{'  queued':22} worker {r['worker_cores']:.2f} cores while taking; "
                f"backlog {r['backlog']} at the end, registered {r['drain_s']:.1f} s later; "
                f"end to end {r['end_to_end_per_s']:.1f}/s; worker CPU "
                f"{r['worker_cpu_ms_per_op']:.1f} ms/op; all CPU {r['all_cpu_ms_per_op']:.1f} ms/op"
            )
        if r["error_kinds"]:
            for kind, count in sorted(r["error_kinds"].items(), key=lambda kv: -kv[1])[:5]:
                print(f"{'':24}{count} × {kind[:150]}")
    if base:
        for r in rows:
            if r["mode"] not in ("healthz", "floor", "page") and r["per_s"]:
                print(
                    f"{labels[r['mode']]}: {base['per_s'] / r['per_s']:.1f}× fewer per second "
                    f"than /healthz; {r['server_cpu_ms_per_op'] / base['server_cpu_ms_per_op']:.1f}"
                    f"× its server CPU per request"
                )
    floor = next((r for r in rows if r["mode"] == "floor"), None)
    if floor:
        for r in rows:
            if r["mode"] != "floor" and r["per_s"]:
                print(
                    f"{labels[r['mode']]}: {r['per_s'] / floor['per_s']:.2f}× the rate of the "
                    f"floor (Django answering `ok`); "
                    f"{r['server_cpu_ms_per_op'] / floor['server_cpu_ms_per_op']:.1f}× its "
                    f"server CPU per request"
                )


ARGS: argparse.Namespace


def setup(args: argparse.Namespace) -> dict[str, Any]:
    import psycopg

    with psycopg.connect(
        f"host={args.pg_host} port={args.pg_port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from aman.core.models import Crisis
    from aman.core.services import api_token_create, crisis_create, crisis_open, user_create
    from aman.geo.loaders import load_countries, load_crossings
    from aman.geo.models import Country

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_countries()
    load_crossings(Path(settings.AMAN_REFERENCE_DATA_DIR) / "border_crossings.csv")
    setup_s = time.perf_counter() - t0
    kz, ir, iq = (Country.objects.get(code=c) for c in ("KZ", "IR", "IQ"))
    crisis = crisis_create(
        actor=None,
        name="Bench 2026",
        home_country=kz,
        affected_countries=[ir, iq],
        public_registration=True,
    )
    crisis = crisis_open(actor=None, crisis=crisis)
    assert crisis.status == Crisis.Status.OPEN
    operator = user_create(
        actor=None, username="bench-operator", role="operator", password="Bench-pass-9183-x!"
    )
    _token, secret = api_token_create(actor=operator, name="bench")
    from django.db import connection

    print(
        f"database {args.database}: PostgreSQL {connection.cursor().connection.info.server_version}"
        f", migrated + countries + crossings in {setup_s:.1f} s; crisis {crisis.pk}"
    )
    return {"crisis": crisis, "token": secret, "operator": operator}


def inprocess(args: argparse.Namespace, world: dict[str, Any]) -> None:
    """Queries and single-process time of one registration, without HTTP."""
    from collections import Counter

    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from aman.registry.models import Channel
    from aman.registry.services import registration_submit

    crisis = world["crisis"]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {world['token']}")
    gen = Households(90, seed=90)

    def household(size: int) -> dict[str, Any]:
        while True:
            h = gen.household()
            if len(h["members"]) == size:
                return h

    def api_post(h: dict[str, Any]) -> Any:
        r = client.post(
            f"/api/registrations?crisis={crisis.pk}",
            data=json.dumps(h),
            content_type="application/json",
            headers={"Idempotency-Key": f"inproc-{next(gen.counter)}"},
        )
        assert r.status_code == 201, r.content[:300]
        return r

    citizen = Client()  # one client (a new one loads every middleware again), no cookies kept

    def form_post(h: dict[str, Any], capture: list[Any] | None = None) -> Any:
        c = citizen
        c.cookies.clear()
        page = c.get("/register/").content.decode()
        hidden = {k: v for k, v in HIDDEN.findall(page) if k != "csrfmiddlewaretoken"}
        # Urlencoded, as browsers and the load generator send it (the test client's
        # default, multipart, costs Django a fifth of the pair to parse).
        body = urllib.parse.urlencode({**hidden, **form_fields(h)})
        form_type = "application/x-www-form-urlencoded"
        if capture is None:
            r = c.post("/register/", body, content_type=form_type)
        else:  # the POST's queries only (each request resets Django's query log)
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                r = c.post("/register/", body, content_type=form_type)
            capture.append(ctx)
        assert r.status_code == 302, r.content[:300]
        return r

    def api_queued(h: dict[str, Any]) -> Any:
        r = client.post(
            f"/api/registrations?crisis={crisis.pk}",
            data=json.dumps(h),
            content_type="application/json",
            headers={"Idempotency-Key": f"inproc-{next(gen.counter)}", "Prefer": "respond-async"},
        )
        assert r.status_code == 202, r.content[:300]
        return r

    # The queue's run is not started here (the acceptance alone is measured); the
    # gunicorn rows with "+queue" measure the worker too.
    from aman.registry import tasks

    tasks.intake_process.dispatch = lambda: None  # type: ignore[method-assign]

    print("\nqueries of one registration, in-process (no HTTP, one process):")
    for label, fn, size in (
        ("API, 1 member", api_post, 1),
        ("API, 2 members", api_post, 2),
        ("API, 4 members", api_post, 4),
        ("API queued, 2 members", api_queued, 2),
        ("form POST, 1 member", form_post, 1),
        ("form POST, 4 members", form_post, 4),
    ):
        h = household(size)
        if fn is form_post:
            captured: list[Any] = []
            form_post(h, captured)
            ctx = captured[0]
        else:
            reset_queries()
            with CaptureQueriesContext(connection) as ctx:
                fn(h)
        sql = [q["sql"] for q in ctx.captured_queries]
        kinds: Counter[str] = Counter()
        for q in sql:
            verb = q.split()[0].upper()
            table = re.search(r'(?:FROM|INTO|UPDATE)\s+"(\w+)"', q)
            kinds[f"{verb} {table.group(1) if table else ''}".strip()] += 1
        times, cpu = [], []
        for _ in range(args.inprocess_repeat):
            h = household(size)
            t0, c0 = time.perf_counter(), time.process_time()
            fn(h)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        print(
            f"  {label:22} {len(sql):3d} queries, {statistics.median(times):6.1f} ms median, "
            f"{statistics.median(cpu):6.1f} ms CPU of this process"
            + (" (time: GET + POST; queries: the POST)" if fn is form_post else "")
        )
        print(
            "     "
            + ", ".join(f"{k} ×{v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]))
        )
    # The service alone (no view, no JSON, no auth): one household, and a list of 200 in
    # one call (as an import chunk writes them), per household.
    from aman.core.models import Crisis
    from aman.registry.services import Submission, registrations_submit

    crisis = Crisis.objects.select_related("home_country").get(pk=crisis.pk)
    for size in (1, 2, 4):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            registration_submit(crisis=crisis, channel=Channel.HOTLINE, payload=household(size))
        n_queries = len(ctx.captured_queries)
        times, cpu = [], []
        for _ in range(args.inprocess_repeat):
            h = household(size)
            t0, c0 = time.perf_counter(), time.process_time()
            registration_submit(crisis=crisis, channel=Channel.HOTLINE, payload=h)
            times.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
        print(
            f"  service only, registration_submit, {size} member(s): {n_queries} "
            f"queries, {statistics.median(times):.1f} ms median, "
            f"{statistics.median(cpu):.1f} ms CPU"
        )
    for _round in range(3):
        households = [gen.household() for _ in range(200)]
        people = sum(len(h["members"]) for h in households)
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            t0, c0 = time.perf_counter(), time.process_time()
            registrations_submit(
                crisis=crisis,
                submissions=[Submission(payload=h, channel=Channel.IMPORT) for h in households],
            )
            wall, cpu_s = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"  service only, registrations_submit of 200 households ({people} people): "
            f"{len(ctx.captured_queries)} queries, {wall * 1000 / 200:.2f} ms per household, "
            f"{cpu_s * 1000 / 200:.2f} ms CPU per household"
        )
    anon = Client()
    times, cpu = [], []
    for _ in range(args.inprocess_repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        anon.get("/healthz")
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    print(
        f"  GET /healthz: {statistics.median(times):.2f} ms median, "
        f"{statistics.median(cpu):.2f} ms CPU"
    )
    times, cpu = [], []
    citizen.cookies.clear()
    reset_queries()  # a request resets the log under CaptureQueriesContext's feet otherwise
    with CaptureQueriesContext(connection) as ctx:
        citizen.get("/register/")
    get_queries = len(ctx.captured_queries)  # now: the property reads the log lazily
    for _ in range(args.inprocess_repeat):
        c = citizen
        c.cookies.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        c.get("/register/")
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    print(
        f"  form GET /register/ alone: {get_queries} queries, "
        f"{statistics.median(times):.1f} ms median, {statistics.median(cpu):.1f} ms CPU"
    )
    # What one round trip costs here: the floor under a registration's ~30 queries.
    from aman.geo.models import Country

    with connection.cursor() as cursor:
        for label, fn in (
            ("raw cursor SELECT 1", lambda: cursor.execute("SELECT 1")),
            ("ORM Country.objects.filter(code=...).first()",
             lambda: Country.objects.filter(code="KZ").first()),
        ):  # fmt: skip
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(500):
                fn()
            wall = (time.perf_counter() - t0) * 2
            cpu_ms = (time.process_time() - c0) * 2
            print(f"  one query, {label}: {wall:.3f} ms, {cpu_ms:.3f} ms CPU of this process")
    reset_queries()
    if args.profile_form:
        import cProfile
        import io
        import pstats

        from django.test import override_settings

        with override_settings(AMAN_INTAKE_QUEUE=True):
            for _ in range(20):  # warm
                form_post(gen.household())
            c0 = time.process_time()
            for _ in range(200):
                form_post(gen.household())
            print(
                f"\nqueued form pair (GET + POST) in-process: "
                f"{(time.process_time() - c0) * 5:.2f} ms CPU (no profiler)"
            )
            prof = cProfile.Profile(time.process_time)
            c0 = time.process_time()
            prof.enable()
            for _ in range(200):
                form_post(gen.household())
            prof.disable()
            cpu_ms = (time.process_time() - c0) * 5
            print(f"\nqueued form pair (GET + POST) in-process: {cpu_ms:.2f} ms CPU (cProfile on)")
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(60)
        print("\ncProfile, 200 queued form pairs in-process (cumulative):")
        print("\n".join(out.getvalue().splitlines()[:90]))
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(40)
        print("\ncProfile, 200 queued form pairs in-process (own time):")
        print("\n".join(out.getvalue().splitlines()[:60]))
    if args.profile:
        import cProfile
        import io
        import pstats

        prof = cProfile.Profile(time.process_time)
        prof.enable()
        for _ in range(100):
            (api_queued if args.profile_queued else api_post)(gen.household())
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(40)
        print("\ncProfile, 100 API registrations in-process (cumulative):")
        print("\n".join(out.getvalue().splitlines()[:80]))
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(
            r"aman/|phonenumbers|fernet|pydantic|email_validator|ninja/operation|ninja/schema", 45
        )
        print("\ncProfile, the application's own functions and libraries (cumulative):")
        print("\n".join(out.getvalue().splitlines()[6:70]))


def start_gunicorn(config: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    kind, _, spec = config.partition(":")
    if kind == "sync":
        opts = ["-k", "sync", "-w", spec]
    elif kind == "gthread":
        workers, _, threads = spec.partition("x")
        opts = ["-k", "gthread", "-w", workers, "--threads", threads]
    else:
        raise SystemExit(f"unknown gunicorn configuration {config!r} (sync:W or gthread:WxT)")
    command = [
        str(Path(PY).with_name("gunicorn")), "aman.wsgi:application",
        "-b", f"127.0.0.1:{port}", *opts, "--backlog", "2048", "--timeout", "60",
        "--log-level", "warning",
    ]  # fmt: skip
    proc = subprocess.Popen(command, env=env, cwd=str(ROOT), stdout=subprocess.DEVNULL)
    for _ in range(300):
        time.sleep(0.1)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("gunicorn exited") from None
    else:
        raise SystemExit("gunicorn did not answer /healthz")
    # Load every worker (imports, connections) before measuring.
    for _ in range(50):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
        urllib.request.urlopen(f"http://127.0.0.1:{port}/register/", timeout=5).read()
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main() -> None:
    global ARGS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--concurrency", default="4,16", help="clients; a comma-separated list runs each"
    )
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--configs", default="sync:4,gthread:2x8")
    parser.add_argument(
        "--modes",
        default="healthz,api,form",
        help="healthz, floor (Django and every middleware answering `ok`), page (GET "
        "/register/ alone, a new visitor each time), api, form",
    )
    parser.add_argument("--database", default="aman_bench_intake")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", default="5432")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--inprocess-repeat", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="cProfile API registrations")
    parser.add_argument(
        "--profile-queued", action="store_true", help="with --profile: the queued API path"
    )
    parser.add_argument(
        "--profile-form",
        action="store_true",
        help="cProfile queued public-form pairs (GET + POST) in-process",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database at the end")
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=0,
        help="with +queue: run the worker at this niceness (the front door first in a surge)",
    )
    # The load generator's own options (internal).
    parser.add_argument("--drive", choices=["healthz", "floor", "page", "api", "form"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--phase", type=int, default=0)
    parser.add_argument("--crisis", type=int, default=0)
    parser.add_argument("--token", default="")
    parser.add_argument("--queue", action="store_true")
    args = ARGS = parser.parse_args()
    args.concurrency_list = args.concurrency
    if args.drive:
        args.concurrency = int(args.concurrency)
        asyncio.run(drive(args))
        return

    database_url = f"postgres://postgres@{args.pg_host}:{args.pg_port}/{args.database}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "CACHE_URL": "redis://127.0.0.1:6379/3",
        "AMAN_PUBLIC_REGISTRATIONS_PER_HOUR": "100000000",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "aman.settings",
    }
    os.environ.update(env)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"load average before: {os.getloadavg()[0]:.2f}"
    )
    world = setup(args)
    gunicorn = None
    try:
        inprocess(args, world)
        from django.db import connections

        connections.close_all()
        phase = 0
        all_rows = {}
        for config in [c.strip() for c in args.configs.split(",") if c.strip()]:
            config, _plus, queue = config.partition("+")
            run_env = dict(env)
            if queue:
                # Surge mode: the API with `Prefer: respond-async`, the public form with
                # AMAN_INTAKE_QUEUE; a real worker registers the queue meanwhile.
                run_env.update(
                    CELERY_BROKER_URL="redis://127.0.0.1:6379/4",
                    AMAN_INTAKE_QUEUE="1",
                    AMAN_IMPORTS_RUN="worker",
                    AMAN_DATA_DIR="/tmp/aman-bench-intake",
                )
                worker = subprocess.Popen(
                    [*(["nice", "-n", str(args.worker_nice)] if args.worker_nice else []),
                     str(Path(PY).with_name("aman")), "worker", "--concurrency", "1",
                     "--loglevel", "warning"],
                    env=run_env, cwd=str(ROOT), stdout=subprocess.DEVNULL,
                )  # fmt: skip
                time.sleep(5)
            # Aman's settings and URLs and `GET /bench/floor` after them (the `floor` mode).
            server_env = {
                **run_env,
                "DJANGO_SETTINGS_MODULE": "floor_settings",
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(BENCH), run_env.get("PYTHONPATH", "")) if p
                ),
            }
            gunicorn = start_gunicorn(config, args.port, server_env)
            meter = CpuMeter(gunicorn.pid, args.database, worker.pid if queue else None)
            config = f"{config} + queue and worker" if queue else config
            for concurrency in [int(c) for c in str(args.concurrency_list).split(",") if c]:
                args.concurrency = concurrency
                rows = []
                for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
                    phase += 1
                    r = run_phase(
                        args, mode, phase, args.port, world["crisis"].pk, world["token"], meter
                    )
                    rows.append(summarize(mode, r))
                print_summary(config, rows)
                all_rows[(config, concurrency)] = rows
            stop(gunicorn)
            gunicorn = None
            if queue:
                stop(worker)
        from aman.registry.models import Household, Person

        print(
            f"\nregistry at the end: {Household.objects.count()} households, "
            f"{Person.objects.count()} people"
        )
        connections.close_all()
    finally:
        if gunicorn is not None:
            stop(gunicorn)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            import psycopg

            with psycopg.connect(
                f"host={args.pg_host} port={args.pg_port} user=postgres dbname=postgres",
                autocommit=True,
            ) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
            print(f"dropped {args.database}")


if __name__ == "__main__":
    main()
