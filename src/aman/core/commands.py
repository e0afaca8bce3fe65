"""Base for Aman's management commands: the audit log records them as coming from the CLI,
an ApplicationError becomes a clear message with exit status 1, and a command speaks the
language of settings.LANGUAGE_CODE (AMAN_LANGUAGE) — its messages, its errors and its --help.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from aman.core.context import origin
from aman.core.errors import ApplicationError
from aman.core.roles import StrOrPromise


def cli_language() -> translation.override:
    """The command line's language: AMAN_LANGUAGE, whatever a caller left active."""
    return translation.override(settings.LANGUAGE_CODE)


class AmanCommand(BaseCommand):
    # gettext_lazy in the commands: their help is read when a parser is made, in the CLI's
    # language, not when the module is imported.
    help: StrOrPromise = ""  # type: ignore[assignment]

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # add_arguments() runs in here, so its gettext() help texts are in the CLI's language.
        with cli_language():
            parser = super().create_parser(prog_name, subcommand, **kwargs)
            # argparse formats the description with a regular expression: a str, not a lazy one.
            parser.description = str(self.help) if self.help else None
        return parser

    def execute(self, *args: Any, **options: Any) -> Any:
        with cli_language(), origin(via="cli"):
            try:
                return super().execute(*args, **options)
            except ApplicationError as exc:
                details = "; ".join(
                    f"{field}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                    for field, v in exc.extra.items()
                )
                raise CommandError(f"{exc.message}" + (f" ({details})" if details else "")) from exc

    @staticmethod
    def crisis(key: str) -> Any:
        """The crisis a command names by id or by code."""
        from aman.core.models import Crisis

        found = (
            Crisis.objects.filter(pk=int(key)) if key.isdigit() else Crisis.objects.filter(code=key)
        ).first()
        if found is None:
            raise CommandError(_("No crisis %(crisis)s.") % {"crisis": repr(key)})
        return found
