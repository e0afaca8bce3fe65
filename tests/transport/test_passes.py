"""Boarding passes through the page and the REST API: the QR code (PNG), the printable pass
in the passenger's language, a leg's passes at once, the signed code, audit and access."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.utils import translation

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Document, Person
from aman.transport import boarding_passes, passes, services
from aman.transport.models import BookingStatus
from aman.transport.services import leg_create
from tests.conftest import World
from tests.transport.conftest import make_leg, place, register_household
from tests.transport.pdftext import pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(world: World, logistics: Any) -> dict[str, Any]:
    household = register_household(world, 3)
    single = register_household(world, 1)
    leg = make_leg(world)
    bookings = services.leg_book(actor=logistics, leg=leg, households=[household, single])
    mine = next(b for b in bookings if b.household_id == household.pk)
    Document.objects.filter(person=mine.person).update(
        surname_latin="AHMETOV", given_names_latin="NURLAN"
    )
    services.booking_check_in(actor=logistics, booking=mine, seat="12A")
    return {"leg": leg, "mine": mine, "bookings": bookings, "household": household}


def _code(text: str) -> str:
    found = re.search(r"AMAN1:\d+:\d+:[A-Z2-7]{16}", text)
    assert found, "no pass code"
    return found.group(0)


def test_the_qr_code_as_png(world: World, booked: dict) -> None:
    from PIL import Image

    mine = booked["mine"]
    response = world.client(Role.LOGISTICS).get(f"/transport/bookings/{mine.pk}/pass.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(response.content))
    assert image.width == image.height >= 200  # scale 8: a phone's screen scans it
    assert response["Cache-Control"] == "no-store"


def test_the_printable_pass_carries_a_code_that_verifies(world: World, booked: dict) -> None:
    mine, leg = booked["mine"], booked["leg"]
    response = world.client(Role.LOGISTICS).get(f"/transport/bookings/{mine.pk}/pass.pdf")
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")
    assert pdf_pages(response.content) == 1
    text = pdf_text(response.content)
    assert "AHMETOV NURLAN" in text
    assert "12A" in text and "IKA" in text and "ALA" in text
    person = Person.objects.get(pk=mine.person_id)
    assert person.reference_code_display in text
    code, signature = passes.parse_pass(_code(text))
    assert (code.booking_id, code.leg_id) == (mine.pk, leg.pk)
    assert passes.verify(code, signature, person.pk)
    # Not for anyone else, not for another leg.
    assert not passes.verify(code, signature, person.pk + 1)
    assert not passes.verify(
        passes.PassCode(code.booking_id, code.leg_id + 1), signature, person.pk
    )


def test_the_pass_names_the_household_on_the_leg(booked: dict) -> None:
    mine = booked["mine"]
    bp = boarding_passes.booking_pass(mine)
    assert len(bp.members) == 2
    assert all(m.household == booked["household"].pk for m in bp.members)
    html = boarding_passes.render_passes_html([bp])
    for member in bp.members:
        assert member.reference_code in html
    assert bp.code in html


def test_the_pass_is_in_the_passengers_language(world: World, booked: dict) -> None:
    mine = booked["mine"]
    Person.objects.filter(pk=mine.person_id).update(language="ru")
    mine.person.refresh_from_db()
    bp = boarding_passes.booking_pass(mine)
    assert bp.language == "ru"
    with translation.override("en"):
        html = boarding_passes.render_passes_html([bp])
        assert translation.get_language() == "en"  # the reader's language is left as it was
    assert 'lang="ru"' in html
    leg = booked["leg"]
    if leg.origin.name_ru:
        assert leg.origin.name_ru in html


def test_a_legs_passes_print_at_once(world: World, booked: dict) -> None:
    leg = booked["leg"]
    Person.objects.filter(pk=booked["mine"].person_id).update(language="en")
    client = world.client(Role.CRISIS_MANAGER)
    # Four passes print at once (AMAN_PASSES_INLINE_MAX): the answer is the file itself.
    asked = client.post(f"/transport/legs/{leg.pk}/passes/")
    assert asked.status_code == 302 and asked["Location"].endswith(".pdf")
    response = client.get(asked["Location"])
    assert response.status_code == 200
    assert pdf_pages(response.content) == 4  # one per passenger
    text = pdf_text(response.content)
    codes = set(re.findall(r"AMAN1:\d+:\d+:[A-Z2-7]{16}", text))
    assert len(codes) == 4
    for text_code in codes:
        code, signature = passes.parse_pass(text_code)
        booking = next(b for b in booked["bookings"] if b.pk == code.booking_id)
        assert passes.verify(code, signature, booking.person_id)
    entry = AuditEntry.objects.get(verb="boarding_pass", object_id=str(leg.pk))
    assert entry.changes == {"format": "pdf", "count": 4, "print": leg.pass_prints.get().pk}


def test_a_released_booking_has_no_pass(world: World, booked: dict, logistics: Any) -> None:
    other = next(b for b in booked["bookings"] if b.household_id != booked["household"].pk)
    services.booking_close(actor=logistics, booking=other, status=BookingStatus.RELEASED)
    response = world.client(Role.LOGISTICS).get(f"/transport/bookings/{other.pk}/pass.pdf")
    assert response.status_code == 409
    api = world.api(Role.LOGISTICS).get(f"/api/bookings/{other.pk}/pass?format=png")
    assert api.status_code == 409 and "no longer holds a seat" in api.json()["message"]
    assert not AuditEntry.objects.filter(verb="boarding_pass").exists()


def test_passes_through_the_api_are_audited(world: World, booked: dict) -> None:
    mine = booked["mine"]
    api = world.api(Role.CRISIS_MANAGER)
    png = api.get(f"/api/bookings/{mine.pk}/pass?format=png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    pdf = api.get(f"/api/bookings/{mine.pk}/pass")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert api.get(f"/api/bookings/{mine.pk}/pass?format=gif").status_code == 422
    entries = AuditEntry.objects.filter(verb="boarding_pass", object_id=str(mine.pk))
    assert sorted(e.changes["format"] for e in entries) == ["pdf", "png"]
    assert {e.action for e in entries} == {AuditEntry.Action.EXPORT}
    assert {e.object_type for e in entries} == {"transport.booking"}


def test_access(world: World, booked: dict, logistics: Any) -> None:
    mine = booked["mine"]
    for role in (Role.DUTY_OFFICER, Role.CONSUL, Role.OPERATOR, Role.OBSERVER):
        client = world.client(role)
        assert client.get(f"/transport/bookings/{mine.pk}/pass.png").status_code == 403, role
        assert client.get(f"/transport/legs/{booked['leg'].pk}/passes/").status_code == 403
        assert client.post(f"/transport/legs/{booked['leg'].pk}/passes/").status_code == 403
        assert world.api(role).get(f"/api/bookings/{mine.pk}/pass").status_code == 403, role
    client = world.client(Role.LOGISTICS)
    assert client.get(f"/transport/bookings/{mine.pk}/pass.gif").status_code == 404
    assert client.get("/transport/bookings/999999/pass.png").status_code == 404
    # A booking of another crisis: not found from this one.
    elsewhere = leg_create(
        actor=logistics,
        crisis=world.other_crisis,
        data={
            "mode": "charter",
            "origin": place("airport", iata="DXB"),
            "destination": place("airport", iata="ALA"),
            "departure_planned": booked["leg"].departure_planned,
            "capacity": 5,
        },
    )
    assert client.get(f"/transport/legs/{elsewhere.pk}/passes/").status_code == 404
    assert client.post(f"/transport/legs/{elsewhere.pk}/passes/").status_code == 404
    assert world.api(Role.LOGISTICS).get("/api/bookings/999999/pass").status_code == 404
    assert not AuditEntry.objects.filter(verb="boarding_pass").exists()
