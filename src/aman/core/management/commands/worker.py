import os
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aman.core.commands import AmanCommand


class Command(AmanCommand):
    help = gettext_lazy("Run a Celery worker for background work (needs CELERY_BROKER_URL).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--concurrency", type=int, default=int(os.environ.get("WORKER_CONCURRENCY", "2"))
        )
        parser.add_argument("--queues", default="celery", help=_("comma-separated queue names"))
        parser.add_argument("--loglevel", default="info")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CELERY_BROKER_URL:
            raise CommandError(
                _(
                    "No broker: set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0). "
                    "Without one, background work runs inside the web process."
                )
            )
        argv = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "aman",
            "worker",
            "--concurrency",
            str(options["concurrency"]),
            "--queues",
            options["queues"],
            "--loglevel",
            options["loglevel"],
            "--beat",
            "--schedule",
            str(settings.DATA_DIR / "celerybeat-schedule"),
        ]
        os.execvp(argv[0], argv)  # noqa: S606 - replaces this process with the worker
