import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from aman.core.commands import AmanCommand
from aman.planning.optimizer import check, plan, scenario


def _read_json(path: Path, what: str) -> Any:
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read the {what} {path}: {exc.strerror or exc}.") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"The {what} {path} is not JSON: {exc.msg} at line {exc.lineno}."
        ) from exc


def _scenario(path: Path) -> scenario.Scenario:
    try:
        return scenario.load(_read_json(path, "scenario"))
    except scenario.ScenarioError as exc:
        raise CommandError(f"The scenario {path} is not valid: {exc}.") from exc


class Command(AmanCommand):
    help = (
        "The evacuation planner: export a crisis's situation as a scenario file, solve a "
        "scenario file headless (plan.json), or check a plan against its scenario."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        solve = sub.add_parser("solve", help="solve a scenario file and write DIR/plan.json")
        solve.add_argument("--scenario", required=True, type=Path, help="scenario JSON file")
        solve.add_argument("--out", required=True, type=Path, help="directory for plan.json")
        solve.add_argument(
            "--method",
            choices=["auto", "lp", "greedy"],
            default="auto",
            help="auto: the LP with rounding and repair, and the greedy beside it (default)",
        )
        solve.add_argument("--time-limit", type=float, default=120.0, help="seconds for the LP")
        solve.add_argument(
            "--limits",
            action="store_true",
            help="also the per-day curve of the most people who could be safe (one LP a day)",
        )
        solve.add_argument(
            "--price",
            action="store_true",
            help="a re-plan: also solve it owing nobody anything, for what keeping promises costs",
        )
        export = sub.add_parser(
            "export-scenario", help="write a crisis's current situation as a scenario file"
        )
        export.add_argument("--crisis", required=True, help="the crisis's id or code")
        export.add_argument("--out", required=True, type=Path, help="scenario JSON file")
        export.add_argument("--days", type=int, default=7, help="days ahead (1-14, default 7)")
        export.add_argument("--start", help="the plan's start, ISO 8601 with offset (default: now)")
        check_p = sub.add_parser("check", help="check a plan against its scenario")
        check_p.add_argument("--scenario", required=True, type=Path)
        check_p.add_argument("--plan", required=True, type=Path, help="plan.json")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "solve":
            self._solve(options)
        elif options["action"] == "export-scenario":
            self._export(options)
        else:
            self._check(options)

    def _solve(self, options: dict[str, Any]) -> None:
        s = _scenario(options["scenario"])
        out: Path = options["out"]
        if out.exists() and not out.is_dir():
            raise CommandError(f"{out} is a file: give a directory for plan.json.")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"Cannot make the directory {out}: {exc.strerror or exc}.") from exc
        result = plan.solve(
            s,
            plan.Options(
                method=options["method"],
                time_limit=options["time_limit"],
                limits=options["limits"],
                price=options["price"],
            ),
        )
        data = plan.to_json(result)
        target = out / "plan.json"
        try:
            target.write_text(json.dumps(data, indent=1, ensure_ascii=False))
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
        summary = data["summary"]
        gap = f"{data['gap'] * 100:.3f}%" if data["gap"] is not None else "unknown"
        self.stdout.write(
            f"{summary['people_safe']} of {summary['people']} people safe, "
            f"{summary['people_home']} home; {len(data['unassigned'])} households without "
            f"an itinerary. Method {data['method']}, gap to the LP bound {gap}, "
            f"{data['seconds']['total']:.1f} s. Written to {target}."
        )
        other = data["stability"].get("without_promises")
        if other is not None and other["share"] is not None:
            self.stdout.write(
                f"Keeping the promises costs {max(0.0, other['share']) * 100:.2f}% of the "
                f"evacuation's value: owing nobody anything, {other['summary']['people_safe']} "
                f"people safe."
            )
        for warning in data["warnings"]:
            self.stderr.write(f"warning: {warning}")

    def _export(self, options: dict[str, Any]) -> None:
        from datetime import datetime

        from aman.core.audit import audit_read
        from aman.core.models import Crisis
        from aman.planning import inputs
        from aman.planning.services import MAX_DAYS, published_plan

        ref = str(options["crisis"]).strip()
        crisis = Crisis.objects.filter(
            **({"pk": int(ref)} if ref.isdigit() else {"code": ref})
        ).first()
        if crisis is None:
            raise CommandError(f"No crisis {ref!r}: give its id or code (aman crisis list).")
        if not 1 <= options["days"] <= MAX_DAYS:
            raise CommandError(f"--days must be from 1 to {MAX_DAYS}.")
        start = None
        if options["start"]:
            try:
                start = datetime.fromisoformat(options["start"])
            except ValueError:
                raise CommandError(f"--start is not a date-time: {options['start']!r}.") from None
            if start.tzinfo is None:
                raise CommandError("--start needs a UTC offset, e.g. 2026-03-02T06:00+03:30.")
        export = inputs.export(
            crisis, start=start, days=options["days"], published=published_plan(crisis)
        )
        target: Path = options["out"]
        try:
            target.write_text(json.dumps(export.data, indent=1, ensure_ascii=False))
        except OSError as exc:
            raise CommandError(f"Cannot write {target}: {exc.strerror or exc}.") from exc
        d = export.data
        # Households with their reference codes left the database: recorded as an export.
        audit_read(
            actor=None,
            verb="plan_export_scenario",
            crisis=crisis,
            export=True,
            details={"households": len(d["households"]), "file": str(target)},
        )
        self.stdout.write(
            f"{len(d['households'])} households, {len(d['legs'])} legs, "
            f"{len(d['bus_pools'])} bus pools, {len(d['crossings'])} crossings, "
            f"{len(d['hotels'])} hotels; written to {target}."
        )
        for warning in export.warnings:
            self.stderr.write(f"warning: {inputs.warning_text(warning)}")

    def _check(self, options: dict[str, Any]) -> None:
        s = _scenario(options["scenario"])
        data = _read_json(options["plan"], "plan")
        problems = check.check(s, data)
        if problems:
            for problem in problems:
                self.stdout.write(problem)
            raise CommandError(
                f"{len(problems)} violation(s) of the scenario in {options['plan']}."
            )
        n = len(data.get("itineraries") or [])
        self.stdout.write(f"The plan is valid: {n} itineraries hold every rule of the scenario.")
