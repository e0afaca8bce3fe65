import secrets
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core.commands import AmanCommand
from aman.core.models import Mission
from aman.core.roles import Role
from aman.core.services import user_create


class Command(AmanCommand):
    help = gettext_lazy("Create a staff account with a role (and a mission for consuls).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--mission", help=_("mission id or exact name (required for consuls)"))
        parser.add_argument("--password", help=_("default: a random password, printed once"))
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true", help=_("may also use /admin/"))

    def handle(self, *args: Any, **options: Any) -> None:
        mission = None
        if options["mission"]:
            key = options["mission"]
            mission = (
                Mission.objects.filter(pk=int(key)).first()
                if key.isdigit()
                else Mission.objects.filter(name=key).first()
            )
            if mission is None:
                raise CommandError(
                    _("No mission %(mission)s. List them with: aman shell, or the UI.")
                    % {"mission": repr(key)}
                )
        password = options["password"] or secrets.token_urlsafe(12)
        user = user_create(
            actor=None,
            username=options["username"],
            role=options["role"],
            password=password,
            mission=mission,
            email=options["email"],
            is_superuser=options["superuser"],
        )
        self.stdout.write(
            _("Created %(username)s (%(role)s).")
            % {"username": user.username, "role": user.get_role_display()}
        )
        if not options["password"]:
            self.stdout.write(_("Password: %(password)s") % {"password": password})
