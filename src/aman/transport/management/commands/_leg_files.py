"""What `aman manifest` and `aman passes` share: the leg named on the command line, and the
file written — opened before the export, so that no audited export goes nowhere, and
removed again when the export fails."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from aman.transport.models import Leg


def leg_of(leg_id: int) -> Leg:
    leg = (
        Leg.objects.select_related(
            "crisis", "origin", "destination", "origin__country", "destination__country"
        )
        .filter(pk=leg_id)
        .first()
    )
    if leg is None:
        raise CommandError(_("No leg %(leg)s.") % {"leg": leg_id})
    return leg


@contextmanager
def written(out: Path) -> Iterator[BinaryIO]:
    if out.is_dir():
        raise CommandError(_("%(path)s is a directory: give a file name.") % {"path": out})
    try:
        handle = out.open("wb")
    except OSError as exc:
        raise CommandError(
            _("Cannot write %(path)s: %(error)s.") % {"path": out, "error": exc.strerror or exc}
        ) from exc
    try:
        with handle:
            yield handle
    except BaseException:
        out.unlink(missing_ok=True)
        raise
