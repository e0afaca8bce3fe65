from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aman.core.commands import AmanCommand
from aman.transport import boarding_passes
from aman.transport.management.commands._leg_files import leg_of, written


class Command(AmanCommand):
    help = gettext_lazy(
        "All the boarding passes of a leg in one PDF (a pass per page, each in its "
        "passenger's language), made here and now and written to a file. Audited as an export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leg", required=True, type=int, help=_("the leg's id"))
        parser.add_argument("--out", required=True, type=Path, help=_("file to write"))
        parser.add_argument(
            "--quiet", action="store_true", help=_("no progress on stderr, only the result")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        leg = leg_of(options["leg"])
        out: Path = options["out"]

        def progress(done: int, total: int) -> None:
            if not options["quiet"]:
                self.stderr.write(
                    "\r" + _("%(done)s of %(total)s pages done…") % {"done": done, "total": total},
                    ending="",
                )
                self.stderr.flush()

        try:
            with written(out) as handle:
                file = boarding_passes.leg_passes_export(actor=None, leg=leg, progress=progress)
                handle.write(file.content)
        finally:
            if not options["quiet"]:
                self.stderr.write("")
        self.stdout.write(
            ngettext(
                "%(count)d boarding pass of leg %(id)s (%(leg)s) written to %(path)s.",
                "%(count)d boarding passes of leg %(id)s (%(leg)s) written to %(path)s.",
                file.count,
            )
            % {"count": file.count, "id": leg.pk, "leg": leg, "path": out}
        )
