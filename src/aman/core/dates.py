"""The one window of plausible dates: two years either side of today. Anything further that
an officer or a client types — a year 0001 or 9999, a wrong century — is a typo, refused with
the field named, never stored, and never left to overflow the calendar arithmetic of a page
(the day after 9999-12-31 does not exist). Shelter's nights and days (`shelter/dates.py`) and
a leg's times and day filters (`transport/times.py`) both ask here; each says why in its own
words."""

from __future__ import annotations

from datetime import date, timedelta

from django.utils import timezone

# Two years either side of today (a leap day included).
WINDOW = timedelta(days=731)
YEARS = 2


def window(today: date | None = None) -> tuple[date, date]:
    """The first and the last day accepted."""
    today = today or timezone.localdate()
    return today - WINDOW, today + WINDOW
