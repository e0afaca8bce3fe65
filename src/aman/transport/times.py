"""When a leg may happen: the one plausibility window for every time of a leg (planned and
actual, typed on a page, sent to the API or imported) and for the day filters of the lists of
legs. A date outside it is a typing error (0001-01-01, 9999-12-31), and would overflow the
conversions between the clocks of the places and the database's.

An actual departure or arrival is also not in the future (beyond a small tolerance for the
clocks of the devices): it is recorded when it happened.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from aman.core import dates

# A leg departs and arrives within this many years of today (before or after): the window
# shared with shelter (`aman.core.dates`).
PLAUSIBLE_YEARS = dates.YEARS
# An actual time may be this much ahead of the server's clock (a device's clock, a rounding
# to the minute).
FUTURE_TOLERANCE = timedelta(minutes=10)


def plausible_window(today: date | None = None) -> tuple[date, date]:
    """The first and the last day a leg may depart or arrive on."""
    return dates.window(today)


def implausible(day: date | datetime) -> str | None:
    """Why a day (or the calendar day of a date and time, on its own clock) is refused, or
    None when it is within the window. Compared as calendar days: nothing is converted, so
    that any year typed gets an answer, not an overflow."""
    if isinstance(day, datetime):
        day = day.replace(tzinfo=None).date()
    first, last = plausible_window()
    if first <= day <= last:
        return None
    return _(
        "Not a plausible date: a leg departs and arrives between %(first)s and %(last)s "
        "(within %(years)d years of today)."
    ) % {"first": first.isoformat(), "last": last.isoformat(), "years": PLAUSIBLE_YEARS}


def in_the_future(moment: datetime, now: datetime | None = None) -> str | None:
    """Why an actual time is refused as being in the future, or None."""
    now = now or timezone.now()
    if moment <= now + FUTURE_TOLERANCE:
        return None
    return _("In the future: an actual time is recorded when it happened.")
