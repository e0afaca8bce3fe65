from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from aman.core.commands import AmanCommand
from aman.transport import imports
from aman.transport.models import Leg


class Command(AmanCommand):
    help = gettext_lazy("Transport legs: import a list (CSV or XLSX), or list a crisis's legs.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser(
            "import",
            help=_(
                "one leg per row (columns: mode, from, to, departure, arrival, seats, carrier, "
                "number, contact, cost, currency, fare, notes, reference); rows already imported "
                "(same reference) are skipped"
            ),
        )
        load.add_argument("file", type=Path)
        load.add_argument("--crisis", required=True, help=_("crisis id or code"))
        load.add_argument(
            "--rejected",
            type=Path,
            help=_("write the rejected rows with their reasons here (CSV)"),
        )
        listing = sub.add_parser("list", help=_("the crisis's legs, by departure"))
        listing.add_argument("--crisis", required=True, help=_("crisis id or code"))

    def handle(self, *args: Any, **options: Any) -> None:
        crisis = self.crisis(options["crisis"])
        if options["action"] == "list":
            for leg in Leg.objects.filter(crisis=crisis).select_related("origin", "destination"):
                self.stdout.write(
                    f"{leg.pk}\t{leg}\t{leg.get_status_display()}\t{leg.seats_taken}/{leg.capacity}"
                )
            return
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
            ) from exc
        batch = imports.legs_import(actor=None, crisis=crisis, name=path.name, content=content)
        self.stdout.write(
            # Translators: the plural form follows the number of rows; phrase the other numbers
            # so that they read right with any number.
            ngettext(
                "%(total)d row: %(accepted)d legs created, %(repeated)d already there, "
                "%(rejected)d rejected.",
                "%(total)d rows: %(accepted)d legs created, %(repeated)d already there, "
                "%(rejected)d rejected.",
                batch.total,
            )
            % {
                "total": batch.total,
                "accepted": batch.accepted,
                "repeated": batch.repeated,
                "rejected": batch.rejected,
            }
        )
        if batch.rejected:
            target: Path | None = options["rejected"]
            if target is not None:
                target.write_text(imports.rejected_csv(batch), encoding="utf-8")
                self.stdout.write(
                    _("Rejected rows with their reasons: %(path)s") % {"path": target}
                )
            else:
                self.stdout.write(imports.rejected_csv(batch))
            raise CommandError(
                ngettext(
                    "%(count)d row rejected (import %(import)s).",
                    "%(count)d rows rejected (import %(import)s).",
                    batch.rejected,
                )
                % {"count": batch.rejected, "import": batch.pk}
            )
