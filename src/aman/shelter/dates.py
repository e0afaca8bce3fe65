"""The one rule for the dates shelter takes from an officer or a client: a night or a day
within two years of today, before or after (`WINDOW`). Anything further is a typo (a year
0001 or 9999, a wrong century) that would only overflow the calendar arithmetic of the pages
(the day after 9999-12-31 does not exist); it is refused with the field named — a form
error on the pages, 400 or 422 in the API — never a server error.

The pages' query parameters (`parse_day`), the API's schemas (`aman.api.routers.shelter`)
and the services' room-block and stay nights (`aman.shelter.services`) all ask here."""

from __future__ import annotations

from datetime import date

from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from aman.core.dates import WINDOW, window

__all__ = ["WINDOW", "day_problem", "parse_day", "window"]


def day_problem(day: date) -> str | None:
    """Why `day` is refused, or None when it lies within the window."""
    first, last = window()
    if first <= day <= last:
        return None
    return _("A date within two years of today: from %(first)s to %(last)s.") % {
        "first": first.isoformat(),
        "last": last.isoformat(),
    }


def parse_day(text: str | None) -> tuple[date | None, str | None]:
    """A day typed in a query string: (the day, None), (None, why it is refused), or
    (None, None) when nothing was typed."""
    text = (text or "").strip()
    if not text:
        return None, None
    try:
        day = parse_date(text)
    except ValueError:
        day = None
    if day is None:
        return None, _("Not a date (YYYY-MM-DD).")
    problem = day_problem(day)
    return (None, problem) if problem else (day, None)
