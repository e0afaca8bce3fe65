import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aman.core.commands import AmanCommand
from aman.core.models import Crisis
from aman.dedup import batch
from aman.dedup.models import DEFAULT_THRESHOLDS, PHASES, THRESHOLDS, LinkageRun


class Command(AmanCommand):
    help = gettext_lazy("Duplicates: run batch linkage over a crisis, or export its clusters.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser(
            "run",
            help=_(
                "find possible duplicates among everyone registered in a crisis (waits, "
                "printing progress; the pairs go to the review queue)"
            ),
        )
        run.add_argument("--crisis", required=True, help=_("crisis id or code"))
        for name, text in (
            ("pair_threshold", _("propose a pair for review from this match probability")),
            ("cluster_threshold", _("join two records in a cluster from this match probability")),
            (
                "name_only_threshold",
                _(
                    "the match probability a cluster link needs without the same IIN or "
                    "document number"
                ),
            ),
        ):
            run.add_argument(
                "--" + name.replace("_", "-"),
                dest=name,
                type=_probability,
                metavar="P",
                help=text
                + " "
                + _("(for this run only; default: the crisis's policy, %(default)s when unset)")
                % {"default": DEFAULT_THRESHOLDS[name]},
            )
        export = sub.add_parser(
            "export",
            help=_("one CSV row per intake record: its source reference, its person, its cluster"),
        )
        export.add_argument("--crisis", required=True, help=_("crisis id or code"))
        export.add_argument(
            "--format", choices=["csv"], default="csv", help=_("output format (only csv)")
        )
        export.add_argument("--out", type=Path, help=_("file to write (default: standard output)"))

    def handle(self, *args: Any, **options: Any) -> None:
        key = options["crisis"]
        crisis = self.crisis(key)
        if options["action"] == "run":
            self._run(crisis, {name: options.get(name) for name in THRESHOLDS})
        else:
            self._export(crisis, options["out"])

    def _run(self, crisis: Crisis, thresholds: dict[str, float | None]) -> None:
        run = batch.linkage_run_start(
            actor=None, crisis=crisis, dispatch=False, thresholds=thresholds
        )
        self.stderr.write(
            _("Linkage run %(run)s over %(crisis)s…") % {"run": run.pk, "crisis": crisis.name}
        )
        self.stderr.write(
            _("Thresholds: pair %(pair)s, cluster %(cluster)s, name-only %(name_only)s.")
            % {
                "pair": run.thresholds["pair_threshold"],
                "cluster": run.thresholds["cluster_threshold"],
                "name_only": run.thresholds["name_only_threshold"],
            }
        )

        def echo(phase: str, fraction: float) -> None:
            label = PHASES.get(phase, phase)
            self.stderr.write(f"  {round(fraction * 100):3d} % {label}")

        try:
            with _stop_signal_interrupts():
                run = batch.linkage_run_execute(run.pk, echo=echo)
        except KeyboardInterrupt:
            # Marked failed as it stopped (or here, when it was stopped before it began).
            batch.linkage_run_abandon(run.pk, "KeyboardInterrupt before the run began")
            raise CommandError(
                _(
                    "Linkage run %(run)s was stopped; it is marked as failed and may be "
                    "started again."
                )
                % {"run": run.pk}
            ) from None
        if run.status == LinkageRun.Status.FAILED:
            raise CommandError(
                _("Linkage run %(run)s failed: %(error)s")
                % {"run": run.pk, "error": run.failure_text}
                + (f" ({run.error_detail})" if run.error_detail else "")
            )
        seconds = (
            (run.finished_at - run.started_at).total_seconds()
            if run.finished_at and run.started_at
            else 0.0
        )
        self.stdout.write(
            # Translators: the plural form follows the number of people; phrase the other
            # numbers so that they read right with any number (e.g. "clusters: 5").
            ngettext(
                "%(people)d person, %(pairs)d possible duplicate pairs (%(new)d new to review), "
                "%(clusters)d clusters, %(merged)d merged automatically, in %(seconds).1f s.",
                "%(people)d people, %(pairs)d possible duplicate pairs (%(new)d new to review), "
                "%(clusters)d clusters, %(merged)d merged automatically, in %(seconds).1f s.",
                run.records,
            )
            % {
                "people": run.records,
                "pairs": run.pairs_found,
                "new": run.pairs_new,
                "clusters": run.clusters,
                "merged": run.auto_merged,
                "seconds": seconds,
            }
        )

    def _export(self, crisis: Crisis, out: Path | None) -> None:
        if out is None:
            rows = batch.clusters_export(actor=None, crisis=crisis, out=sys.stdout)
            self.stderr.write(
                ngettext("%(count)d intake record.", "%(count)d intake records.", rows)
                % {"count": rows}
            )
            return
        try:
            with out.open("w", newline="", encoding="utf-8") as handle:
                rows = batch.clusters_export(actor=None, crisis=crisis, out=handle)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(path)s: %(reason)s.")
                % {"path": out, "reason": exc.strerror or exc.__class__.__name__}
            ) from None
        self.stdout.write(
            ngettext(
                "%(count)d intake record written to %(path)s.",
                "%(count)d intake records written to %(path)s.",
                rows,
            )
            % {"count": rows, "path": out}
        )


def _probability(text: str) -> float:
    """A threshold as typed (a decimal point or comma); its range is checked with the
    others (`batch.linkage_thresholds_check`)."""
    try:
        return float(text.replace(",", ".").strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not a number: %(value)r (a probability such as 0.95)") % {"value": text}
        ) from None


@contextmanager
def _stop_signal_interrupts() -> Iterator[None]:
    """A stop signal (SIGTERM: a service manager, `kill`) stops the run as Ctrl-C does, so
    that it is marked failed rather than left running (only in the main thread, where
    Python handles signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
