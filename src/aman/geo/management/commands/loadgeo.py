from pathlib import Path
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core.commands import AmanCommand
from aman.geo.services import reference_data_load


class Command(AmanCommand):
    help = gettext_lazy(
        "Load or refresh reference geography: countries, airports, cities, border crossings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-cities", action="store_true", help=_("skip the GeoNames cities"))
        parser.add_argument(
            "--city-min-population",
            type=int,
            default=None,
            help=_("smallest city to load (default AMAN_CITY_MIN_POPULATION, 15000)"),
        )
        parser.add_argument(
            "--crossings", type=Path, help=_("border crossings CSV (default: shipped file)")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        results = reference_data_load(
            actor=None,
            cities=not options["no_cities"],
            city_min_population=options["city_min_population"],
            crossings_path=options["crossings"],
        )
        lines = {
            "countries": _("countries: %(new)d new, %(refreshed)d refreshed"),
            "airports": _("airports: %(new)d new, %(refreshed)d refreshed"),
            "cities": _("cities: %(new)d new, %(refreshed)d refreshed"),
            "crossings": _("crossings: %(new)d new, %(refreshed)d refreshed"),
        }
        for what, loaded in results.items():
            self.stdout.write(lines[what] % {"new": loaded.created, "refreshed": loaded.updated})
