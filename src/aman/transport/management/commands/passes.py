from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from aman.core.commands import AmanCommand
from aman.transport import boarding_passes
from aman.transport.models import Leg


class Command(AmanCommand):
    help = (
        "All the boarding passes of a leg in one PDF (a pass per page, each in its "
        "passenger's language), made here and now and written to a file. Audited as an export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leg", required=True, type=int, help="the leg's id")
        parser.add_argument("--out", required=True, type=Path, help="file to write")
        parser.add_argument(
            "--quiet", action="store_true", help="no progress on stderr, only the result"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        leg = (
            Leg.objects.select_related(
                "crisis", "origin", "destination", "origin__country", "destination__country"
            )
            .filter(pk=options["leg"])
            .first()
        )
        if leg is None:
            raise CommandError(f"No leg {options['leg']}.")
        out: Path = options["out"]
        if out.is_dir():
            raise CommandError(f"{out} is a directory: give a file name.")
        try:
            handle = out.open("wb")  # before printing: no audited export that goes nowhere
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror or exc}.") from exc

        def progress(done: int, total: int) -> None:
            if not options["quiet"]:
                self.stderr.write(f"\r{done} of {total} pages", ending="")
                self.stderr.flush()

        try:
            with handle:
                file = boarding_passes.leg_passes_export(actor=None, leg=leg, progress=progress)
                handle.write(file.content)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        finally:
            if not options["quiet"]:
                self.stderr.write("")
        self.stdout.write(f"{file.count} boarding passes of leg {leg.pk} ({leg}) written to {out}.")
