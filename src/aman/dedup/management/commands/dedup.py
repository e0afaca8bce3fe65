import sys
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from aman.core.commands import AmanCommand
from aman.core.models import Crisis
from aman.dedup import batch
from aman.dedup.models import PHASES, LinkageRun


class Command(AmanCommand):
    help = "Duplicates: run batch linkage over a crisis, or export its clusters."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser(
            "run",
            help="find possible duplicates among everyone registered in a crisis (waits, "
            "printing progress; the pairs go to the review queue)",
        )
        run.add_argument("--crisis", required=True, help="crisis id or code")
        export = sub.add_parser(
            "export",
            help="one CSV row per intake record: its source reference, its person, its cluster",
        )
        export.add_argument("--crisis", required=True, help="crisis id or code")
        export.add_argument("--format", choices=["csv"], default="csv")
        export.add_argument("--out", type=Path, help="file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["crisis"]
        crisis = self.crisis(key)
        if options["action"] == "run":
            self._run(crisis)
        else:
            self._export(crisis, options["out"])

    def _run(self, crisis: Crisis) -> None:
        run = batch.linkage_run_start(actor=None, crisis=crisis, dispatch=False)
        self.stderr.write(f"Linkage run {run.pk} over {crisis.name}…")

        def echo(phase: str, fraction: float) -> None:
            label = PHASES.get(phase, phase)
            self.stderr.write(f"  {round(fraction * 100):3d} % {label}")

        run = batch.linkage_run_execute(run.pk, echo=echo)
        if run.status == LinkageRun.Status.FAILED:
            raise CommandError(f"Linkage run {run.pk} failed: {run.error}")
        seconds = (
            (run.finished_at - run.started_at).total_seconds()
            if run.finished_at and run.started_at
            else 0.0
        )
        self.stdout.write(
            f"{run.records} people, {run.pairs_found} possible duplicate pairs "
            f"({run.pairs_new} new to review), {run.clusters} clusters, "
            f"{run.auto_merged} merged automatically, in {seconds:.1f} s."
        )

    def _export(self, crisis: Crisis, out: Path | None) -> None:
        if out is None:
            rows = batch.clusters_export(actor=None, crisis=crisis, out=sys.stdout)
            self.stderr.write(f"{rows} intake records.")
            return
        with out.open("w", newline="", encoding="utf-8") as handle:
            rows = batch.clusters_export(actor=None, crisis=crisis, out=handle)
        self.stdout.write(f"{rows} intake records written to {out}.")
