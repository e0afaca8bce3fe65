from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from aman.core.commands import AmanCommand
from aman.transport import manifests
from aman.transport.models import Leg


class Command(AmanCommand):
    help = (
        "A leg's passenger manifest (everyone holding a seat) as PDF, CSV, XLSX or "
        "UN/EDIFACT PAXLST, written to a file. Audited as an export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leg", required=True, type=int, help="the leg's id")
        parser.add_argument(
            "--format", required=True, choices=sorted(manifests.FORMATS), dest="fmt"
        )
        parser.add_argument("--out", required=True, type=Path, help="file to write")

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
            handle = out.open("wb")  # before exporting: no audited export that goes nowhere
        except OSError as exc:
            raise CommandError(f"Cannot write {out}: {exc.strerror or exc}.") from exc
        try:
            with handle:
                file = manifests.manifest_export(actor=None, leg=leg, fmt=options["fmt"])
                handle.write(file.content)
        except BaseException:
            out.unlink(missing_ok=True)
            raise
        self.stdout.write(f"{file.count} passengers of leg {leg.pk} ({leg}) written to {out}.")
