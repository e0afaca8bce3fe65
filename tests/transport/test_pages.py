"""The logistics officer's pages: create and change legs, book households, move bookings,
release no-shows, cancel, import a list of legs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Person
from aman.transport import services
from aman.transport.models import Booking, BookingStatus, Leg, LegImport, LegStatus
from tests.conftest import World
from tests.transport.conftest import make_leg, register_household

pytestmark = pytest.mark.django_db


def _when(days: int = 1, hours: int = 0) -> str:
    return timezone.localtime(timezone.now() + timedelta(days=days, hours=hours)).strftime(
        "%Y-%m-%dT%H:%M"
    )


def test_create_a_leg_on_the_page_and_see_its_errors(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    page = client.get("/transport/legs/new/")
    assert page.status_code == 200 and 'list="places"' in page.content.decode()
    bad = client.post(
        "/transport/legs/new/",
        {
            "mode": "bus",
            "origin": "IKA",
            "destination": "NOWHERE",
            "departure_planned": _when(),
            "capacity": "0",
        },
    )
    text = bad.content.decode()
    assert bad.status_code == 200
    assert "No place “NOWHERE”" in text and "Between 1 and 2000 seats." in text
    ok = client.post(
        "/transport/legs/new/",
        {
            "mode": "charter",
            "origin": "IKA",
            "destination": "ala",
            "departure_planned": _when(),
            "arrival_planned": _when(hours=4),
            "capacity": "180",
            "carrier": "SCAT",
            "number": "DV 901",
            "fare": "120000",
            "currency": "kzt",
        },
    )
    leg = Leg.objects.get()
    assert ok.status_code == 302 and ok["Location"] == f"/transport/legs/{leg.pk}/"
    assert (leg.destination.iata, leg.capacity, leg.currency) == ("ALA", 180, "KZT")
    edit = client.post(f"/transport/legs/{leg.pk}/edit/", {**_form(leg), "capacity": "150"})
    assert edit.status_code == 302
    leg.refresh_from_db()
    assert leg.capacity == 150
    assert AuditEntry.objects.filter(verb="leg_update", changes__capacity=[180, 150]).exists()


def _form(leg: Leg) -> dict[str, str]:
    from aman.transport.forms import LegForm

    return {k: str(v) for k, v in LegForm.initial_for(leg).items()}


def test_book_by_reference_code_and_move_bookings_along(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    leg = make_leg(world, capacity=4)
    household = register_household(world, 3)
    first = Person.objects.filter(household=household).order_by("id").first()
    # One member without a reason: refused, nobody booked.
    refused = client.post(
        f"/transport/legs/{leg.pk}/book/", {"people": first.reference_code_display}, follow=True
    )
    assert "A household travels together" in refused.content.decode()
    assert not Booking.objects.exists()
    booked = client.post(
        f"/transport/legs/{leg.pk}/book/", {"people": first.reference_code.lower()}, follow=True
    )
    # Without a reason the whole household is asked for; the page names the missing.
    assert "A household travels together" in booked.content.decode()
    codes = " ".join(
        Person.objects.filter(household=household).values_list("reference_code", flat=True)
    )
    done = client.post(f"/transport/legs/{leg.pk}/book/", {"people": codes}, follow=True)
    assert "3 people booked." in done.content.decode()
    page = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    assert first.reference_code_display in page and 'id="seats-free">1<' in page
    booking = Booking.objects.get(person=first)
    client.post(f"/transport/bookings/{booking.pk}/action/", {"status": "confirmed"})
    client.post(f"/transport/bookings/{booking.pk}/action/", {"status": "checked_in", "seat": "3c"})
    booking.refresh_from_db()
    assert (booking.status, booking.seat) == (BookingStatus.CHECKED_IN, "3C")
    no_reason = client.post(
        f"/transport/bookings/{booking.pk}/action/", {"status": "offloaded"}, follow=True
    )
    assert "Say why the person was offloaded." in no_reason.content.decode()
    # Not before the leg boards; then the others of a household at the gate are waited for,
    # named, and recorded as no-shows one by one: their seats are free at once.
    early = client.post(f"/transport/legs/{leg.pk}/no-shows/", follow=True).content.decode()
    assert "No-shows are released while the leg is boarding" in early
    for status in ("confirmed", "boarding"):
        services.leg_set_status(actor=world.users[Role.LOGISTICS], leg=leg, status=status)
    waited = client.post(f"/transport/legs/{leg.pk}/no-shows/", follow=True).content.decode()
    others = Booking.objects.filter(leg=leg).exclude(pk=booking.pk).order_by("pk")
    assert "someone of their household is at the gate" in waited
    assert all(b.person.reference_code_display in waited for b in others)
    for other in others:
        client.post(f"/transport/bookings/{other.pk}/action/", {"status": "no_show"})
    leg.refresh_from_db()
    assert leg.seats_free == 3
    assert Booking.objects.filter(status=BookingStatus.NO_SHOW).count() == 2


def test_the_next_household_in_priority_takes_a_freed_seat(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    leg = make_leg(world, capacity=2)
    waiting = register_household(world, 2)
    page = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    assert f'name="household" value="{waiting.pk}"' in page
    client.post(f"/transport/legs/{leg.pk}/book/", {"household": str(waiting.pk)})
    assert Booking.objects.filter(household=waiting).count() == 2
    full = client.post(
        f"/transport/legs/{leg.pk}/book/",
        {"household": str(register_household(world, 1).pk)},
        follow=True,
    )
    assert "Not enough seats: 0 free on this leg, 1 asked for." in full.content.decode()


def test_cancel_lists_the_households_to_replan(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    leg = make_leg(world)
    household = register_household(world, 2)
    client.post(f"/transport/legs/{leg.pk}/book/", {"household": str(household.pk)})
    no_reason = client.post(
        f"/transport/legs/{leg.pk}/status/", {"status": "cancelled"}, follow=True
    )
    assert "Say why the leg is cancelled." in no_reason.content.decode()
    done = client.post(
        f"/transport/legs/{leg.pk}/status/",
        {"status": "cancelled", "note": "runway closed"},
        follow=True,
    )
    text = done.content.decode()
    assert "2 seats released" in text and f"Household {household.pk}:" in text
    leg.refresh_from_db()
    assert leg.status == LegStatus.CANCELLED and leg.seats_taken == 0


def test_duty_officer_sees_legs_but_cannot_change_them(world: World) -> None:
    leg = make_leg(world)
    client = world.client(Role.DUTY_OFFICER)
    page = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    assert "Book people" not in page
    assert (
        client.post(f"/transport/legs/{leg.pk}/status/", {"status": "confirmed"}).status_code == 403
    )
    assert client.get("/transport/legs/new/").status_code == 403


CSV = (
    "mode;from;to;departure;arrival;seats;carrier;number;fare;currency;reference\n"
    "bus;IKA;IR-AZ-ASTARA;27.11.2026 08:00;27.11.2026 16:00;50;Tehran Bus;B-17;;;TB-17\n"
    "charter;GYD;ALA;2026-11-28 10:00;2026-11-28 14:00;180;Air Astana;KC 7002;95000;KZT;KC7002\n"
    "train;IKA;MOON;2026-11-28 10:00;;20;;;;;X-1\n"
)


def test_import_legs_keeps_rejected_rows_and_is_idempotent(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = world.client(Role.LOGISTICS)
    upload = SimpleUploadedFile("schedule.csv", CSV.encode(), content_type="text/csv")
    response = client.post("/transport/legs/import/", {"file": upload}, follow=True)
    text = response.content.decode()
    assert "2 legs created, 0 already there, 1 rejected." in text
    assert "No place “MOON”" in text
    batch = LegImport.objects.get()
    assert batch.rejected_rows[0]["row"] == 4
    rejected = client.get(f"/transport/legs/import/{batch.pk}/?format=csv").content.decode()
    assert "MOON" in rejected and "destination: No place" in rejected
    bus = Leg.objects.get(source_ref="TB-17")
    assert bus.destination.code == "IR-AZ-ASTARA" and bus.source == "import"
    again = SimpleUploadedFile("schedule.csv", CSV.encode(), content_type="text/csv")
    client.post("/transport/legs/import/", {"file": again})
    assert Leg.objects.count() == 2
    assert LegImport.objects.order_by("-id").first().repeated == 2
    missing = SimpleUploadedFile("x.csv", b"from,to\nIKA,ALA\n", content_type="text/csv")
    bad = client.post("/transport/legs/import/", {"file": missing})
    assert "missing: departure, seats" in bad.content.decode()


def test_import_legs_from_the_command_line(world: World, tmp_path) -> None:
    from django.core.management import CommandError, call_command

    path = tmp_path / "legs.csv"
    path.write_text(CSV, encoding="utf-8")
    out = tmp_path / "rejected.csv"
    with pytest.raises(CommandError, match="1 row rejected"):
        call_command(
            "legs", "import", str(path), "--crisis", world.crisis.code, "--rejected", str(out)
        )
    assert "MOON" in out.read_text() and Leg.objects.count() == 2
    good = tmp_path / "good.csv"
    good.write_text("\n".join(CSV.splitlines()[:3]) + "\n", encoding="utf-8")
    from io import StringIO

    buf = StringIO()
    call_command("legs", "import", str(good), "--crisis", str(world.crisis.pk), stdout=buf)
    assert "2 rows: 0 legs created, 2 already there, 0 rejected." in buf.getvalue()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("legs", "import", str(tmp_path / "none.csv"), "--crisis", world.crisis.code)


def test_the_person_page_shows_their_legs_to_transport_roles(world: World) -> None:
    leg = make_leg(world, number="KC 7777")
    household = register_household(world, 1)
    person = Person.objects.get(household=household)
    world.client(Role.LOGISTICS).post(
        f"/transport/legs/{leg.pk}/book/", {"household": household.pk}
    )
    shown = world.client(Role.LOGISTICS).get(f"/people/{person.pk}/").content.decode()
    assert f'href="/transport/legs/{leg.pk}/"' in shown and "KC 7777" in shown
    hidden = world.client(Role.OPERATOR).get(f"/people/{person.pk}/").content.decode()
    assert 'id="bookings"' not in hidden and f'href="/transport/legs/{leg.pk}/"' not in hidden


def test_odd_form_values_get_messages_not_errors(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    leg = make_leg(world)
    for data in ({"person": "abc"}, {"person": "²"}, {"household": "²"}):
        response = client.post(f"/transport/legs/{leg.pk}/book/", data, follow=True)
        assert response.status_code == 200 and "Unknown" in response.content.decode(), data
    seats = client.post(
        f"/transport/legs/{leg.pk}/allocations/", {"country": "UZ", "seats": "²"}, follow=True
    )
    assert "Choose a partner state and a number of seats" in seats.content.decode()
    assert client.get("/transport/?day=abc").status_code == 200
    nan = client.post(
        "/transport/legs/new/",
        {
            "mode": "bus",
            "origin": "IKA",
            "destination": "ALA",
            "departure_planned": _when(),
            "capacity": "10",
            "cost": "NaN",
            "currency": "USD",
        },
    )
    assert nan.status_code == 200 and "Out of range." in nan.content.decode()
    place = client.post(
        "/transport/legs/new/",
        {
            "mode": "bus",
            "origin": "²",
            "destination": "ALA",
            "departure_planned": _when(),
            "capacity": "10",
        },
    )
    assert place.status_code == 200 and "No place" in place.content.decode()


def test_times_are_on_the_clock_of_the_place_they_happen_at(world: World) -> None:
    """10:00 typed for a departure from Tehran is 10:00 in Tehran (06:30 UTC), on the page,
    on the pass and in the carrier's PAXLST; the arrival in Almaty is Almaty's 15:00."""
    from datetime import UTC, datetime

    client = world.client(Role.LOGISTICS)
    client.post(
        "/transport/legs/new/",
        {
            "mode": "charter",
            "origin": "IKA",
            "destination": "ALA",
            "departure_planned": "2026-12-01T10:00",
            "arrival_planned": "2026-12-01T15:00",
            "capacity": "10",
            "number": "KC 7100",
        },
    )
    leg = Leg.objects.get(number="KC 7100")
    assert leg.departure_planned == datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
    assert leg.arrival_planned == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    page = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    assert "2026-12-01 10:00" in page and "2026-12-01 15:00" in page
    assert (
        client.get(f"/transport/legs/{leg.pk}/edit/")
        .content.decode()
        .count('value="2026-12-01T10:00"')
        == 1
    )
    household = register_household(world, 1)
    client.post(f"/transport/legs/{leg.pk}/book/", {"household": household.pk})
    paxlst = client.get(f"/transport/legs/{leg.pk}/manifest.paxlst").content.decode()
    assert "DTM+189:2612011000" in paxlst
    astara = Leg.objects.model._meta.get_field("destination").related_model.objects.get(
        code="IR-AZ-ASTARA"
    )
    assert astara.timezone == "Asia/Tehran"  # crossings take the clock of their surroundings
