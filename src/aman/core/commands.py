"""Base for Aman's management commands: the audit log records them as coming from the CLI,
and an ApplicationError becomes a clear message with exit status 1."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aman.core.context import origin
from aman.core.errors import ApplicationError


class AmanCommand(BaseCommand):
    def execute(self, *args: Any, **options: Any) -> Any:
        with origin(via="cli"):
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
            raise CommandError(f"No crisis {key!r}.")
        return found
