"""A hotel's daily list — who arrives, who is in, who leaves that morning — with the guests'
names as in their passports, read (audited `hotel_daily_list`) or exported as CSV (audited
`hotel_daily_list_export`). The page and the API both come here."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from aman.core.audit import audit_read
from aman.core.models import Crisis, User
from aman.registry.models import Person
from aman.shelter import selectors
from aman.shelter.models import Hotel, Stay
from aman.transport.manifests import cell_text


def hotel_today(hotel: Hotel) -> date:
    """Today on the hotel's clock."""
    return hotel.today()


def passport_name(person: Person) -> str:
    """A guest's name as in the passport (Latin), falling back to the native script."""
    latin = f"{person.surname_latin} {person.given_names_latin}".strip()
    return latin or f"{person.surname} {person.given_names}".strip()


def name_guests(stays: list[Stay]) -> None:
    for stay in stays:
        stay.guest_rows = [  # type: ignore[attr-defined]
            (passport_name(g), g.reference_code_display) for g in stay.guests.all()
        ]


def daily_list_named(*, user: User, crisis: Crisis, hotel: Hotel, day: date) -> selectors.DailyList:
    """The daily list with each stay's `guest_rows`: (passport name, reference code)."""
    daily = selectors.daily_list(user=user, crisis=crisis, hotel=hotel, day=day)
    for part in (daily.arrivals, daily.in_house, daily.departures):
        name_guests(part)
    return daily


def stays_count(daily: selectors.DailyList) -> int:
    return len(daily.arrivals) + len(daily.in_house) + len(daily.departures)


def daily_list_read(*, user: User, crisis: Crisis, hotel: Hotel, day: date) -> selectors.DailyList:
    """The daily list to show (names: audited as a read)."""
    daily = daily_list_named(user=user, crisis=crisis, hotel=hotel, day=day)
    audit_read(
        actor=user,
        verb="hotel_daily_list",
        obj=daily.hotel,
        crisis=crisis,
        details={"day": daily.day.isoformat(), "stays": stays_count(daily)},
    )
    return daily


@dataclass(frozen=True)
class DailyListFile:
    content: bytes
    filename: str
    content_type: str = "text/csv; charset=utf-8"


def daily_list_export(*, user: User, crisis: Crisis, hotel: Hotel, day: date) -> DailyListFile:
    """The daily list as CSV (UTF-8 with a byte-order mark, so that Excel reads it), one row
    per stay (audited as an export)."""
    daily = daily_list_named(user=user, crisis=crisis, hotel=hotel, day=day)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            _("List"),
            _("Hotel room number"),
            _("Room type"),
            _("Guests"),
            _("Reference codes"),
            _("Adults"),
            _("Children"),
            _("First night"),
            _("Check-out day"),
            _("Nights"),
            _("Meals"),
            _("Who pays"),
            _("Tour operator"),
            _("Status"),
        ]
    )
    parts = [
        (_("Arrival"), daily.arrivals),
        (_("In the hotel"), daily.in_house),
        (_("Departure"), daily.departures),
    ]
    for label, stays in parts:
        for stay in stays:
            rows = stay.guest_rows  # type: ignore[attr-defined]
            writer.writerow(
                [
                    cell_text(v)
                    for v in (
                        label,
                        stay.room_number,
                        stay.block.get_room_type_display(),
                        "; ".join(name for name, _code in rows),
                        " ".join(code for _name, code in rows),
                        stay.adults,
                        stay.children,
                        stay.first_night.isoformat(),
                        stay.check_out_day.isoformat(),
                        stay.nights,
                        stay.block.get_meals_display(),
                        stay.get_payer_display(),
                        stay.tour_operator.name if stay.tour_operator else "",
                        stay.get_status_display(),
                    )
                ]
            )
    audit_read(
        actor=user,
        verb="hotel_daily_list_export",
        obj=daily.hotel,
        crisis=crisis,
        export=True,
        details={"day": daily.day.isoformat(), "stays": stays_count(daily), "format": "csv"},
    )
    name = re.sub(r"[^A-Za-z0-9]+", "-", daily.hotel.place.name).strip("-")[:40] or "hotel"
    return DailyListFile(
        content=("\ufeff" + out.getvalue()).encode("utf-8"),
        filename=f"{name}-{daily.day.isoformat()}.csv",
    )
