"""Reference geography: loaders are idempotent, the crossings file is validated, crossing
status keeps its history."""

from __future__ import annotations

from datetime import time, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from aman.core.errors import ApplicationError
from aman.core.roles import Role
from aman.geo import loaders, services
from aman.geo.models import Country, Place
from tests.conftest import World


def test_countries_carry_kazakh_and_russian_names(geo: None) -> None:
    kz = Country.objects.get(code="KZ")
    assert (kz.code3, kz.name, kz.name_ru, kz.name_kk) == (
        "KAZ",
        "Kazakhstan",
        "Казахстан",
        "Қазақстан",
    )
    assert Country.objects.count() == 249


def test_crossings_match_the_shared_file(geo: None) -> None:
    astara = Place.objects.get(kind="crossing", code="IR-AZ-ASTARA")
    assert (astara.country.code, astara.entry_country.code) == ("IR", "AZ")
    assert (astara.hours, astara.daily_capacity, astara.transit_permit) == ("24h", 300, "yes")
    jolfa = Place.objects.get(code="IR-AZ-JOLFA")
    assert (jolfa.opens_at, jolfa.closes_at, jolfa.hours) == (time(8), time(20), "08:00-20:00")
    assert Place.objects.filter(kind="crossing").count() == 12


def test_loading_twice_changes_nothing_and_keeps_staff_edits(world: World) -> None:
    manager = world.users[Role.CRISIS_MANAGER]
    astara = Place.objects.get(code="IR-AZ-ASTARA")
    services.crossing_update(actor=manager, place=astara, daily_capacity=120)
    services.place_status_set(
        actor=manager, place=astara, status="closed", reason="shelling nearby"
    )
    call_command("loadgeo", "--no-cities", stdout=StringIO())
    counts = (Country.objects.count(), Place.objects.count())
    out = StringIO()
    call_command("loadgeo", "--no-cities", stdout=out)
    assert (
        "airports: 0 new" in out.getvalue() and "crossings: 0 new, 12 refreshed" in out.getvalue()
    )
    assert (Country.objects.count(), Place.objects.count()) == counts
    astara.refresh_from_db()
    assert (astara.daily_capacity, astara.status) == (120, "closed")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("24h", (None, None)),
        ("08:00-20:00", (time(8), time(20))),
        ("22:00-06:00", (time(22), time(6))),
    ],
)
def test_hours_parse(value: str, expected: tuple[time | None, time | None]) -> None:
    assert loaders.parse_hours(value) == expected


@pytest.mark.parametrize("value", ["8-20", "25:00-26:00", "08:00-08:00", "", "always"])
def test_bad_hours_are_refused(value: str) -> None:
    with pytest.raises(loaders.ReferenceDataError):
        loaders.parse_hours(value)


def test_a_bad_crossings_file_names_every_bad_line(geo: None, tmp_path: Path) -> None:
    path = tmp_path / "crossings.csv"
    path.write_text(
        "id,exit_name,entry_name,exit_country,entry_country,latitude,longitude,hours,daily_capacity,transit_permit\n"
        "X-1,A,B,IR,QQ,38,48,24h,100,yes\n"
        "X-2,A,B,IR,AZ,38,48,9 to 5,100,yes\n"
        "X-3,A,B,IR,AZ,north,48,24h,100,maybe\n"
    )
    with pytest.raises(CommandError) as err:
        call_command("loadgeo", "--no-cities", "--crossings", str(path), stdout=StringIO())
    message = str(err.value)
    assert (
        "line 2: unknown country 'QQ'" in message
        and "line 3: hours" in message
        and "line 4" in message
    )
    assert not Place.objects.filter(code__startswith="X-").exists()
    path.write_text("id,name\nX,Y\n")
    with pytest.raises(CommandError, match="missing columns"):
        call_command("loadgeo", "--no-cities", "--crossings", str(path), stdout=StringIO())


def test_status_history_orders_by_effective_time(world: World) -> None:
    logistics = world.users[Role.LOGISTICS]
    norduz = Place.objects.get(code="IR-AM-NORDUZ")
    now = timezone.now()
    services.place_status_set(
        actor=logistics,
        place=norduz,
        status="closed",
        reason="airstrike",
        effective_at=now - timedelta(hours=5),
    )
    services.place_status_set(
        actor=logistics,
        place=norduz,
        status="restricted",
        reason="women and children only",
        effective_at=now - timedelta(hours=1),
    )
    # Recorded late, but happened earlier: the current status stays the latest by time.
    services.place_status_set(
        actor=logistics, place=norduz, status="open", effective_at=now - timedelta(hours=3)
    )
    norduz.refresh_from_db()
    assert norduz.status == "restricted"
    assert [e.status for e in norduz.status_events.all()] == ["restricted", "open", "closed"]
    # Announced for tomorrow: refused, because nothing would make it current tomorrow.
    with pytest.raises(ApplicationError, match="when it happens"):
        services.place_status_set(
            actor=logistics,
            place=norduz,
            status="closed",
            reason="announced closure",
            effective_at=now + timedelta(days=1),
        )
    norduz.refresh_from_db()
    assert norduz.status == "restricted" and norduz.status_events.count() == 3


def test_only_crossings_and_airports_have_a_status(world: World) -> None:
    city = Place.objects.filter(kind="city").first()
    assert city is not None
    with pytest.raises(ApplicationError, match="Only border crossings and airports"):
        services.place_status_set(actor=None, place=city, status="closed", reason="x")
