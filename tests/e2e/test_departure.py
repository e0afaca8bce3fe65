"""A whole departure in the browser: the logistics officer creates a leg and books
households, prints their boarding passes; the duty officer checks people in by pass and by
passport, boards them, loses the network mid-boarding and gets it back; the logistics
officer checks one more person in on the leg's page under a cost-recovery policy (the name
signed with and the seat), releases the no-shows, gives the freed seats to the next household,
and produces every manifest format."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from aman.registry.models import Person
from aman.transport.models import Booking, BookingStatus, GateScan, Leg, LegStatus
from tests.conftest import World
from tests.e2e.test_gate import pass_of, scanner_types, zone_lines
from tests.transport.conftest import register_household
from tests.transport.pdftext import pdf_pages

pytestmark = pytest.mark.browser


def test_a_full_departure(
    world: World, new_page: Callable[[], Page], sign_in: Callable[..., None]
) -> None:
    families = [register_household(world, n) for n in (3, 2, 1)]
    late = register_household(world, 2)  # registered last: waits for a freed seat
    office = new_page()
    sign_in(office, "logistics")

    # 1. The leg.
    office.goto("/transport/")
    office.get_by_role("link", name="New leg").click()
    office.select_option("#id_mode", "charter")
    office.fill("#id_origin", "IKA")
    office.fill("#id_destination", "ALA")
    departs = timezone.localtime(timezone.now() + timedelta(hours=6))
    office.fill("#id_departure_planned", departs.strftime("%Y-%m-%dT%H:%M"))
    office.fill("#id_arrival_planned", (departs + timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M"))
    office.fill("#id_capacity", "6")
    office.fill("#id_carrier", "Air Astana")
    office.fill("#id_number", "KC 7005")
    office.fill("#id_fare", "95000")
    office.fill("#id_currency", "KZT")
    office.get_by_role("button", name="Save").click()
    expect(office.locator(".alert-success")).to_contain_text("Leg created.")
    leg = Leg.objects.get(number="KC 7005")
    assert (leg.origin.iata, leg.destination.iata, leg.capacity) == ("IKA", "ALA", 6)

    # 2. Households booked by the reference codes of all their members.
    for family in families:
        codes = " ".join(
            Person.objects.filter(household=family).values_list("reference_code", flat=True)
        )
        office.fill("#id_people", codes)
        office.get_by_role("button", name="Book", exact=True).first.click()
        expect(office.locator(".alert-success")).to_have_text(
            f"{len(codes.split())} {'person' if len(codes.split()) == 1 else 'people'} booked."
        )
    expect(office.locator("#seats-free")).to_have_text("0")
    office.fill("#id_people", Person.objects.filter(household=late).first().reference_code)
    office.fill("#id_split_reason", "only one seat needed")
    office.get_by_role("button", name="Book", exact=True).first.click()
    expect(office.locator(".alert-danger")).to_contain_text("Not enough seats: 0 free")
    for status in ("confirmed", "boarding"):
        office.select_option("#leg-status-form select", status)
        office.get_by_role("button", name="Change status").click()
        expect(office.locator("#leg-status")).to_have_text(str(LegStatus(status).label))

    # 3. Boarding passes: one per booking, and all of them for printing.
    bookings = list(Booking.objects.filter(leg=leg).order_by("household_id", "id"))
    first_pass = office.locator(f"#booking-{bookings[0].pk}").get_by_role("link", name="Pass")
    expect(first_pass).to_be_visible()
    pdf = office.request.get(first_pass.get_attribute("href") or "")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    png = office.request.get(f"/transport/bookings/{bookings[0].pk}/pass.png")
    assert png.ok and png.body().startswith(b"\x89PNG")
    # Six passes print at once (more would print in the background: test_pass_prints.py).
    office.get_by_role("button", name="Print all boarding passes (PDF)").click()
    expect(office).to_have_url(re.compile(rf"/transport/legs/{leg.pk}/passes/\d+\.pdf$"))
    everyone = office.request.get(office.url)
    assert everyone.ok and pdf_pages(everyone.body()) == 6
    office.goto(f"/transport/legs/{leg.pk}/")

    # 4. The gate: check in by pass and by passport, board; the network drops and returns.
    gate = new_page()
    sign_in(gate, "duty_officer")
    gate.goto(f"/transport/legs/{leg.pk}/")
    gate.get_by_role("link", name="Gate: check-in and boarding").click()
    expect(gate.locator("#gate-manifest-info")).to_contain_text("6 bookings")
    verdict = gate.locator("#gate-verdict")
    a, b, c, d = bookings[0], bookings[1], bookings[2], bookings[3]
    scanner_types(gate, pass_of(a))
    expect(verdict).to_have_text("Checked in.")
    scanner_types(gate, *zone_lines(b))
    expect(verdict).to_have_text("Checked in.")
    gate.locator("label[for=mode-board]").click()
    scanner_types(gate, pass_of(a))
    expect(verdict).to_have_text("Boarded.")
    gate.context.set_offline(True)
    expect(gate.locator("#gate-online")).to_contain_text("Offline")
    scanner_types(gate, *zone_lines(b))
    expect(verdict).to_have_text("Boarded.")
    scanner_types(gate, pass_of(c))
    expect(verdict).to_have_text("Boarded.")
    expect(gate.locator("#gate-queue")).to_have_attribute("data-count", "2")
    gate.context.set_offline(False)
    expect(gate.locator("#gate-queue")).to_have_attribute("data-count", "0")
    for booking in (a, b, c):
        booking.refresh_from_db()
        assert booking.status == BookingStatus.BOARDED
    assert GateScan.objects.filter(leg=leg).count() == 5

    # 5. The crisis now asks for cost recovery: on the leg's page the logistics officer checks
    # one more person in with the name they signed the undertaking with and their seat.
    from aman.core.roles import Role
    from aman.transport.models import Undertaking
    from aman.transport.services import transport_policy_set

    transport_policy_set(
        actor=world.users[Role.CRISIS_MANAGER], crisis=world.crisis, cost_recovery=True
    )
    office.reload()
    row = office.locator(f"#booking-{d.pk}")
    expect(row.locator("input[name=undertaking_signed_by]")).to_have_attribute(
        "aria-label", "Undertaking to repay 95000.00 KZT: the name the person signed with"
    )
    row.locator("input[name=seat]").fill("14c")
    row.get_by_role("button", name="Check in").click()  # the signature is required first
    expect(office.locator(".alert-success")).to_have_count(0)
    row = office.locator(f"#booking-{d.pk}")
    row.locator("input[name=undertaking_signed_by]").fill("Ахметова Д.")
    row.get_by_role("button", name="Check in").click()
    expect(office.locator(".alert-success")).to_contain_text("Checked in.")
    row = office.locator(f"#booking-{d.pk}")
    expect(row).to_contain_text("14C")
    undertaking = row.get_by_role("link", name="Undertaking")
    pdf = office.request.get(undertaking.get_attribute("href") or "")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    assert Undertaking.objects.get(booking=d).signed_name == "Ахметова Д."

    # 6. The others did not come: no-shows; the freed seats go to the next household. The
    # one whose household is at the gate (d checked in) is waited for, then recorded by hand.
    office.once("dialog", lambda dialog: dialog.accept())
    office.get_by_role("button", name="Release no-shows").click()
    expect(office.locator(".alert-success")).to_contain_text("1 no-show released")
    e = bookings[4]
    expect(office.locator(".alert-warning")).to_contain_text(e.person.reference_code_display)
    expect(office.locator("#seats-free")).to_have_text("1")
    office.once("dialog", lambda dialog: dialog.accept())
    office.locator(f"#booking-{e.pk}").get_by_role("button", name="No-show").click()
    expect(office.locator("#seats-free")).to_have_text("2")
    d.refresh_from_db()
    assert (d.status, d.seat) == (BookingStatus.CHECKED_IN, "14C")
    e.refresh_from_db()
    assert e.status == BookingStatus.NO_SHOW
    waiting = office.locator("#waiting")
    expect(waiting).to_contain_text(
        Person.objects.filter(household=late).first().reference_code_display
    )
    waiting.locator(f"input[name=household][value='{late.pk}']").locator("..").get_by_role(
        "button", name="Book"
    ).click()
    expect(office.locator(".alert-success")).to_contain_text("2 people booked.")
    expect(office.locator("#seats-free")).to_have_text("0")

    # 7. Every manifest format, from the leg's page.
    passengers = Booking.objects.filter(
        leg=leg, status__in=("offered", "checked_in", "boarded")
    ).count()
    assert passengers == 6
    for label, magic in (("PDF", b"%PDF"), ("CSV", None), ("XLSX", b"PK"), ("PAXLST", b"UNA")):
        link = office.locator("#documents").get_by_role("link", name=label, exact=True)
        response = office.request.get(link.get_attribute("href") or "")
        assert response.ok, label
        body = response.body()
        if magic:
            assert body.startswith(magic), label
        else:
            text = body.decode("utf-8-sig")
            assert (
                a.person.surname_latin in text and len(text.strip().splitlines()) == 1 + passengers
            )
            assert ",14C,checked_in," in text  # the seat given on the leg's page

    # 8. Departure asks first, with how many become no-shows: dismissed, nothing happens.
    messages: list[str] = []

    def answer(accept: bool) -> Callable[[Any], None]:
        def handle(dialog: Any) -> None:
            messages.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        return handle

    office.select_option("#leg-status-form select", "departed")
    office.once("dialog", answer(False))
    office.get_by_role("button", name="Change status").click()
    expect(office.locator("#leg-status")).to_have_text(str(LegStatus.BOARDING.label))
    office.select_option("#leg-status-form select", "departed")
    office.once("dialog", answer(True))
    office.get_by_role("button", name="Change status").click()
    expect(office.locator("#leg-status")).to_have_text(str(LegStatus.DEPARTED.label))
    assert (
        messages
        == ["Mark the leg departed? 3 people holding seats have not boarded and become no-shows."]
        * 2
    )
    assert Booking.objects.filter(leg=leg, status=BookingStatus.NO_SHOW).count() == 2 + 3
