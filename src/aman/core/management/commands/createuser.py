import secrets
from typing import Any

from django.core.management.base import CommandError, CommandParser

from aman.core.commands import AmanCommand
from aman.core.models import Mission
from aman.core.roles import Role
from aman.core.services import user_create


class Command(AmanCommand):
    help = "Create a staff account with a role (and a mission for consuls)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--mission", help="mission id or exact name (required for consuls)")
        parser.add_argument("--password", help="default: a random password, printed once")
        parser.add_argument("--email", default="")
        parser.add_argument("--superuser", action="store_true", help="may also use /admin/")

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
                raise CommandError(f"No mission {key!r}. List them with: aman shell, or the UI.")
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
        self.stdout.write(f"Created {user.username} ({user.get_role_display()}).")
        if not options["password"]:
            self.stdout.write(f"Password: {password}")
