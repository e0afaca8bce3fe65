from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aman.core.commands import AmanCommand
from aman.transport import manifests
from aman.transport.management.commands._leg_files import leg_of, written


class Command(AmanCommand):
    help = gettext_lazy(
        "A leg's passenger manifest (everyone holding a seat) as PDF, CSV, XLSX or "
        "UN/EDIFACT PAXLST, written to a file. Audited as an export."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--leg", required=True, type=int, help=_("the leg's id"))
        parser.add_argument(
            "--format", required=True, choices=sorted(manifests.FORMATS), dest="fmt"
        )
        parser.add_argument("--out", required=True, type=Path, help=_("file to write"))
        parser.add_argument(
            "--recipient",
            default="",
            help=_(
                "PAXLST only: the receiving border service's identifier (default: the alpha-3 "
                "code of the state the leg enters)"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        leg = leg_of(options["leg"])
        out: Path = options["out"]
        with written(out) as handle:
            file = manifests.manifest_export(
                actor=None, leg=leg, fmt=options["fmt"], recipient=options["recipient"]
            )
            handle.write(file.content)
        self.stdout.write(
            ngettext(
                "%(count)d passenger of leg %(id)s (%(leg)s) written to %(path)s.",
                "%(count)d passengers of leg %(id)s (%(leg)s) written to %(path)s.",
                file.count,
            )
            % {"count": file.count, "id": leg.pk, "leg": leg, "path": out}
        )
