from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

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
            ngettext(
                "Unknown country code: %(codes)s (ISO 3166 alpha-2; load them with aman loadgeo)",
                "Unknown country codes: %(codes)s (ISO 3166 alpha-2; load them with aman loadgeo)",
                len(missing),
            )
            % {"codes": ", ".join(missing)}
        )
    return [found[c] for c in wanted]


class Command(AmanCommand):
    help = gettext_lazy("List, create, open and close crises.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help=_("list crises"))
        create = sub.add_parser("create", help=_("create a crisis (draft)"))
        create.add_argument("--name", required=True)
        create.add_argument(
            "--affected", required=True, help=_("ISO codes, comma-separated: IR,IQ")
        )
        create.add_argument(
            "--home", default=settings.AMAN_HOME_COUNTRY, help=_("home country ISO code")
        )
        create.add_argument("--code", default="")
        create.add_argument("--retention-days", type=int, default=180)
        create.add_argument(
            "--hotline", default="", help=_("the Ministry's hotline number for the public pages")
        )
        create.add_argument("--hotline-note", default="", help=_("e.g. 24/7"))
        create.add_argument("--open", action="store_true", help=_("open it at once"))
        for name, text in (("open", _("open a crisis")), ("close", _("close a crisis"))):
            p = sub.add_parser(name, help=text)
            p.add_argument("crisis", help=_("crisis id or code"))

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
                hotline_phone=options["hotline"],
                hotline_note=options["hotline_note"],
            )
            if options["open"]:
                crisis = services.crisis_open(actor=None, crisis=crisis)
            created = (
                _("Created crisis %(id)s (%(code)s), open.")
                if crisis.status == Crisis.Status.OPEN
                else _("Created crisis %(id)s (%(code)s), draft.")
            )
            self.stdout.write(created % {"id": crisis.pk, "code": crisis.code})
            return
        crisis = self.crisis(options["crisis"])
        if action == "open":
            services.crisis_open(actor=None, crisis=crisis)
            done = _("Crisis %(id)s (%(code)s) is now open.")
        else:
            services.crisis_close(actor=None, crisis=crisis)
            done = _("Crisis %(id)s (%(code)s) is now closed.")
        self.stdout.write(done % {"id": crisis.pk, "code": crisis.code})
