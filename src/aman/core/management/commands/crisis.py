from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from aman.core import services
from aman.core.commands import AmanCommand
from aman.core.models import Crisis
from aman.geo.models import Country


def _countries(codes: str) -> list[Country]:
    wanted = [c.strip().upper() for c in codes.split(",") if c.strip()]
    found = {c.code: c for c in Country.objects.filter(code__in=wanted)}
    missing = [c for c in wanted if c not in found]
    if missing:
        raise CommandError(
            f"Unknown country code(s): {', '.join(missing)} "
            "(ISO 3166 alpha-2; load them with aman loadgeo)"
        )
    return [found[c] for c in wanted]


class Command(AmanCommand):
    help = "List, create, open and close crises."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="list crises")
        create = sub.add_parser("create", help="create a crisis (draft)")
        create.add_argument("--name", required=True)
        create.add_argument("--affected", required=True, help="ISO codes, comma-separated: IR,IQ")
        create.add_argument(
            "--home", default=settings.AMAN_HOME_COUNTRY, help="home country ISO code"
        )
        create.add_argument("--code", default="")
        create.add_argument("--retention-days", type=int, default=180)
        create.add_argument("--open", action="store_true", help="open it at once")
        for name in ("open", "close"):
            p = sub.add_parser(name, help=f"{name} a crisis")
            p.add_argument("crisis", help="crisis id or code")

    def _crisis(self, key: str) -> Crisis:
        crisis = (
            Crisis.objects.filter(pk=int(key)).first()
            if key.isdigit()
            else Crisis.objects.filter(code=key).first()
        )
        if crisis is None:
            raise CommandError(f"No crisis {key!r}.")
        return crisis

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for c in Crisis.objects.order_by("pk"):
                self.stdout.write(f"{c.pk}\t{c.code}\t{c.status}\t{c.name}")
            return
        if action == "create":
            home = _countries(options["home"])
            crisis = services.crisis_create(
                actor=None,
                name=options["name"],
                code=options["code"],
                home_country=home[0],
                affected_countries=_countries(options["affected"]),
                retention_days=options["retention_days"],
            )
            if options["open"]:
                crisis = services.crisis_open(actor=None, crisis=crisis)
            self.stdout.write(f"Created crisis {crisis.pk} ({crisis.code}), {crisis.status}.")
            return
        crisis = self._crisis(options["crisis"])
        if action == "open":
            services.crisis_open(actor=None, crisis=crisis)
        else:
            services.crisis_close(actor=None, crisis=crisis)
        self.stdout.write(
            f"Crisis {crisis.pk} ({crisis.code}) is now {'open' if action == 'open' else 'closed'}."
        )
