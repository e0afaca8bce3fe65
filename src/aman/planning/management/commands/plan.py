import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from aman.core.commands import AmanCommand
from aman.planning.optimizer import check, plan, scenario


def _read_json(path: Path, what: str) -> Any:
    """The JSON in a file; `what` is "scenario" or "plan", for the message."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        cannot_read = (
            _("Cannot read the scenario %(path)s: %(error)s.")
            if what == "scenario"
            else _("Cannot read the plan %(path)s: %(error)s.")
        )
        raise CommandError(cannot_read % {"path": path, "error": exc.strerror or exc}) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        not_json = (
            _("The scenario %(path)s is not JSON: %(error)s at line %(line)d.")
            if what == "scenario"
            else _("The plan %(path)s is not JSON: %(error)s at line %(line)d.")
        )
        raise CommandError(not_json % {"path": path, "error": exc.msg, "line": exc.lineno}) from exc


def _scenario(path: Path) -> scenario.Scenario:
    try:
        return scenario.load(_read_json(path, "scenario"))
    except scenario.ScenarioError as exc:
        from aman.planning.messages import scenario_error_text

        raise CommandError(
            _("The scenario %(path)s is not valid: %(error)s.")
            % {"path": path, "error": scenario_error_text(exc)}
        ) from exc


class Command(AmanCommand):
    help = gettext_lazy(
        "The evacuation planner: export a crisis's situation as a scenario file, solve a "
        "scenario file headless (plan.json), or check a plan against its scenario."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        solve = sub.add_parser("solve", help=_("solve a scenario file and write DIR/plan.json"))
        solve.add_argument("--scenario", required=True, type=Path, help=_("scenario JSON file"))
        solve.add_argument("--out", required=True, type=Path, help=_("directory for plan.json"))
        solve.add_argument(
            "--method",
            choices=["auto", "lp", "greedy"],
            default="auto",
            help=_("auto: the LP with rounding and repair, and the greedy beside it (default)"),
        )
        solve.add_argument("--time-limit", type=float, default=120.0, help=_("seconds for the LP"))
        solve.add_argument(
            "--limits",
            action="store_true",
            help=_("also the per-day curve of the most people who could be safe (one LP a day)"),
        )
        solve.add_argument(
            "--price",
            action="store_true",
            help=_(
                "a re-plan: also solve it owing nobody anything, for what keeping promises costs"
            ),
        )
        export = sub.add_parser(
            "export-scenario", help=_("write a crisis's current situation as a scenario file")
        )
        export.add_argument("--crisis", required=True, help=_("the crisis's id or code"))
        export.add_argument("--out", required=True, type=Path, help=_("scenario JSON file"))
        export.add_argument("--days", type=int, default=7, help=_("days ahead (1-14, default 7)"))
        export.add_argument(
            "--start", help=_("the plan's start, ISO 8601 with offset (default: now)")
        )
        check_p = sub.add_parser("check", help=_("check a plan against its scenario"))
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
            raise CommandError(
                _("%(path)s is a file: give a directory for plan.json.") % {"path": out}
            )
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CommandError(
                _("Cannot make the directory %(path)s: %(error)s.")
                % {"path": out, "error": exc.strerror or exc}
            ) from exc
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
            raise CommandError(
                _("Cannot write %(path)s: %(error)s.")
                % {"path": target, "error": exc.strerror or exc}
            ) from exc
        summary = data["summary"]
        gap = (
            f"{data['gap'] * 100:.3f}%"
            if data["gap"] is not None
            else pgettext("the gap to the LP bound", "unknown")
        )
        self.stdout.write(
            # Translators: the plural form follows the number of people; phrase the other
            # numbers so that they read right with any number. %(method)s is auto, lp or greedy.
            ngettext(
                "%(safe)d of %(people)d person safe, %(home)d home; %(unassigned)d households "
                "without an itinerary. Method %(method)s, gap to the LP bound %(gap)s, "
                "%(seconds).1f s. Written to %(path)s.",
                "%(safe)d of %(people)d people safe, %(home)d home; %(unassigned)d households "
                "without an itinerary. Method %(method)s, gap to the LP bound %(gap)s, "
                "%(seconds).1f s. Written to %(path)s.",
                summary["people"],
            )
            % {
                "safe": summary["people_safe"],
                "people": summary["people"],
                "home": summary["people_home"],
                "unassigned": len(data["unassigned"]),
                "method": data["method"],
                "gap": gap,
                "seconds": data["seconds"]["total"],
                "path": target,
            }
        )
        other = data["stability"].get("without_promises")
        if other is not None and other["share"] is not None:
            safe = other["summary"]["people_safe"]
            self.stdout.write(
                ngettext(
                    "Keeping the promises costs %(share).2f%% of the evacuation's value: owing "
                    "nobody anything, %(safe)d person safe.",
                    "Keeping the promises costs %(share).2f%% of the evacuation's value: owing "
                    "nobody anything, %(safe)d people safe.",
                    safe,
                )
                % {"share": max(0.0, other["share"]) * 100, "safe": safe}
            )
        from aman.planning.inputs import plan_warning_text

        for warning in data["warnings"]:
            self.stderr.write(_("warning: %(warning)s") % {"warning": plan_warning_text(warning)})

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
            raise CommandError(
                _("No crisis %(crisis)s: give its id or code (aman crisis list).")
                % {"crisis": repr(ref)}
            )
        if not 1 <= options["days"] <= MAX_DAYS:
            raise CommandError(_("--days must be from 1 to %(max)d.") % {"max": MAX_DAYS})
        start = None
        if options["start"]:
            try:
                start = datetime.fromisoformat(options["start"])
            except ValueError:
                raise CommandError(
                    _("--start is not a date-time: %(value)s.") % {"value": repr(options["start"])}
                ) from None
            if start.tzinfo is None:
                raise CommandError(_("--start needs a UTC offset, e.g. 2026-03-02T06:00+03:30."))
        export = inputs.export(
            crisis, start=start, days=options["days"], published=published_plan(crisis)
        )
        target: Path = options["out"]
        try:
            target.write_text(json.dumps(export.data, indent=1, ensure_ascii=False))
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s.")
                % {"path": target, "error": exc.strerror or exc}
            ) from exc
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
            # Translators: the plural form follows the number of households; phrase the other
            # numbers so that they read right with any number.
            ngettext(
                "%(households)d household, %(legs)d legs, %(pools)d bus pools, %(crossings)d "
                "crossings, %(hotels)d hotels; written to %(path)s.",
                "%(households)d households, %(legs)d legs, %(pools)d bus pools, %(crossings)d "
                "crossings, %(hotels)d hotels; written to %(path)s.",
                len(d["households"]),
            )
            % {
                "households": len(d["households"]),
                "legs": len(d["legs"]),
                "pools": len(d["bus_pools"]),
                "crossings": len(d["crossings"]),
                "hotels": len(d["hotels"]),
                "path": target,
            }
        )
        for warning in export.warnings:
            self.stderr.write(_("warning: %(warning)s") % {"warning": inputs.warning_text(warning)})

    def _check(self, options: dict[str, Any]) -> None:
        s = _scenario(options["scenario"])
        data = _read_json(options["plan"], "plan")
        from aman.planning.messages import problem_text

        problems = check.violations(s, data)
        if problems:
            for problem in problems:
                self.stdout.write(problem_text(problem))
            raise CommandError(
                ngettext(
                    "%(count)d violation of the scenario in %(path)s.",
                    "%(count)d violations of the scenario in %(path)s.",
                    len(problems),
                )
                % {"count": len(problems), "path": options["plan"]}
            )
        n = len(data.get("itineraries") or [])
        self.stdout.write(
            ngettext(
                "The plan is valid: %(count)d itinerary holds every rule of the scenario.",
                "The plan is valid: %(count)d itineraries hold every rule of the scenario.",
                n,
            )
            % {"count": n}
        )
