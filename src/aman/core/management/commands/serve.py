import os
import sys
from typing import Any

from django.core.management.base import CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core.commands import AmanCommand

# The access log names the path, never the query string or the Referer: a search may be a
# passport or a phone number (`/api/people?q=…`, the people list's form), and neither may
# be written in plain text anywhere. Remote address, time, method, path, status, bytes,
# seconds.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(L)s'


class Command(AmanCommand):
    help = gettext_lazy(
        "Serve the web application (gunicorn; --dev for Django's auto-reloading server)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("AMAN_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("AMAN_PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument("--dev", action="store_true", help=_("runserver with auto-reload"))

    def handle(self, *args: Any, **options: Any) -> None:
        address = f"{options['host']}:{options['port']}"
        self.stdout.write(_("Aman on %(url)s  (Ctrl+C stops it)") % {"url": f"http://{address}/"})
        self.stdout.flush()
        if options["dev"]:
            argv = [sys.executable, "-m", "django", "runserver", address]
        else:
            argv = [
                sys.executable,
                "-m",
                "gunicorn",
                "aman.wsgi:application",
                "--bind",
                address,
                "--workers",
                str(options["workers"]),
                "--access-logfile",
                "-",
                "--access-logformat",
                ACCESS_LOG_FORMAT,
                "--timeout",
                "120",
            ]
        os.execvp(argv[0], argv)  # noqa: S606 - replaces this process with the server
