"""The leg's page at scale and its safeguards: bookings a page at a time with households kept
whole, a search, the counts of the whole leg; confirmations before what cannot be undone; the
gate's sync conflicts listed on the page and in the API."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Document, Person
from aman.transport import services, views
from aman.transport.models import Booking, BookingStatus, Leg, LegStatus
from tests.conftest import World
from tests.transport.conftest import make_leg, register_household

pytestmark = pytest.mark.django_db


def book(world: World, leg: Leg, size: int) -> list[Booking]:
    household = register_household(world, size)
    return services.leg_book(actor=world.users[Role.LOGISTICS], leg=leg, households=[household])


def page(client: Any, leg: Leg, query: str = "") -> str:
    response = client.get(f"/transport/legs/{leg.pk}/{query}")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def rows(text: str) -> list[int]:
    table = re.search(r'<table[^>]*id="bookings".*?</table>', text, re.S)
    assert table is not None
    return [int(n) for n in re.findall(r'<tr id="booking-(\d+)"', table.group(0))]


def test_bookings_come_a_page_at_a_time_households_whole(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "BOOKINGS_PER_PAGE", 5)
    client = world.client(Role.LOGISTICS)
    leg = make_leg(world, capacity=20)
    h1, h2, h3 = book(world, leg, 3), book(world, leg, 3), book(world, leg, 2)

    first, second = page(client, leg), page(client, leg, "?page=2")
    # A household of three does not fit beside another: 3 on the first page, 3 + 2 on the
    # second; nobody is shown twice or left out.
    assert sorted(rows(first)) == sorted(b.pk for b in h1)
    assert sorted(rows(second)) == sorted(b.pk for b in [*h2, *h3])
    assert 'href="?page=2"' in first and "Page 1 of 2" in first
    # The counts at the top are the whole leg's, on every page.
    for text in (first, second):
        seats = re.search(r'<div[^>]*id="seats".*?</div>', text, re.S)
        assert seats is not None and "Offered: 8" in seats.group(0)
        assert '<strong id="seats-free">12</strong>' in text

    # An action taken on the second page comes back to it, at the booking.
    target = h3[0]
    done = client.post(
        f"/transport/bookings/{target.pk}/action/", {"status": "confirmed", "page": "2"}
    )
    assert done.status_code == 302
    assert done["Location"] == f"/transport/legs/{leg.pk}/?page=2#booking-{target.pk}"
    target.refresh_from_db()
    assert target.status == BookingStatus.CONFIRMED


def test_search_finds_a_passenger_with_the_household(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    leg = make_leg(world, capacity=20)
    h1, h2 = book(world, leg, 3), book(world, leg, 2)
    wanted = Person.objects.get(pk=h2[1].person_id)

    by_code = page(client, leg, f"?q={wanted.reference_code_display}")
    assert sorted(rows(by_code)) == sorted(b.pk for b in h2)
    document = Document.objects.get(person=wanted)
    by_document = page(client, leg, f"?q={document.number}")
    assert sorted(rows(by_document)) == sorted(b.pk for b in h2)
    nobody = page(client, leg, "?q=ZZZZ-ZZZZ")
    assert rows(nobody) == [] and "Nobody on this leg matches the search." in nobody
    # The counts stay the whole leg's; the search is audited as a search, not by its text.
    assert "Offered: 5" in by_code
    entry = AuditEntry.objects.filter(verb="leg_detail").latest("id")
    assert entry.changes["search"] is True
    assert document.number not in json.dumps(
        list(AuditEntry.objects.filter(verb="leg_detail").values_list("changes", flat=True))
    )
    # A released person is found with "everyone".
    services.booking_close(
        actor=world.users[Role.LOGISTICS], booking=h1[0], status="released", note="stays"
    )
    code = Person.objects.get(pk=h1[0].person_id).reference_code
    assert h1[0].pk not in rows(page(client, leg, f"?q={code}"))
    assert h1[0].pk in rows(page(client, leg, f"?show=all&q={code}"))


def test_what_cannot_be_undone_asks_first_with_the_counts(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    leg = make_leg(world, capacity=20)
    people = book(world, leg, 3)
    text = page(client, leg)
    form = re.search(r'<form[^>]*id="leg-status-form"[^>]*>', text)
    assert form is not None
    assert 'onsubmit="var m = this.dataset[this.elements.status.value]' in form.group(0)
    assert "3 people still hold seats: every seat is released" in form.group(0)
    assert "data-departed" not in form.group(0)  # not a step from here
    ref = Person.objects.get(pk=people[0].person_id).reference_code_display
    release = re.search(
        rf'<form[^>]*action="/transport/bookings/{people[0].pk}/action/"[^>]*booking-released[^>]*>',
        text,
    )
    assert release is not None
    assert f"Release the seat of {ref}?" in release.group(0)
    assert 'onsubmit="return confirm(this.dataset.confirm)"' in release.group(0)

    logistics = world.users[Role.LOGISTICS]
    services.leg_set_status(actor=logistics, leg=leg, status=LegStatus.CONFIRMED)
    services.leg_set_status(actor=logistics, leg=Leg.objects.get(pk=leg.pk), status="boarding")
    services.booking_board(actor=logistics, booking=Booking.objects.get(pk=people[0].pk))
    services.booking_check_in(actor=logistics, booking=Booking.objects.get(pk=people[1].pk))
    boarding = page(client, leg)
    form = re.search(r'<form[^>]*id="leg-status-form"[^>]*>', boarding)
    assert form is not None
    assert "2 people holding seats have not boarded and become no-shows" in form.group(0)
    offload = re.search(
        rf'<form[^>]*action="/transport/bookings/{people[0].pk}/action/"[^>]*booking-offloaded[^>]*>',
        boarding,
    )
    assert offload is not None and f"Take {ref} off the leg?" in offload.group(0)


def _conflict(world: World) -> tuple[Leg, Booking]:
    """A device boarded someone offline whose seat was released meanwhile."""
    leg = make_leg(world)
    a, _b = book(world, leg, 2)
    services.booking_close(
        actor=world.users[Role.LOGISTICS], booking=a, status="released", note="stays"
    )
    response = world.client(Role.DUTY_OFFICER).post(
        f"/transport/legs/{leg.pk}/gate/sync",
        json.dumps(
            {
                "scans": [
                    {
                        "id": "D-7K3Q9A:0b8f6a1e-1c1d-4c7e-9d1a-2f0e3b4c5d6e",
                        "booking": a.pk,
                        "action": "board",
                        "offline": True,
                        "at": "2026-03-02T09:41:00Z",
                    }
                ]
            }
        ),
        content_type="application/json",
    )
    assert response.json()["results"][0]["result"] == "conflict"
    return leg, a


def test_the_gates_conflicts_are_listed_on_the_leg_page(world: World) -> None:
    leg, booking = _conflict(world)
    clean = make_leg(world)
    assert 'id="scan-conflicts"' not in page(world.client(Role.LOGISTICS), clean)

    text = page(world.client(Role.LOGISTICS), leg)
    panel = re.search(r'<section[^>]*id="scan-conflicts".*?</section>', text, re.S)
    assert panel is not None
    body = panel.group(0)
    person = Person.objects.get(pk=booking.person_id)
    assert "D-7K3Q9A" in body and world.users[Role.DUTY_OFFICER].username in body
    assert person.reference_code_display in body
    assert "released on the server meanwhile" in body
    assert f"?show=all&q={person.reference_code}" in body
    entry = AuditEntry.objects.filter(verb="leg_detail", object_id=str(leg.pk)).latest("id")
    assert entry.changes["scan_conflicts_shown"] == 1


def test_the_gates_conflicts_in_the_api(world: World) -> None:
    leg, booking = _conflict(world)
    api = world.api(Role.DUTY_OFFICER)
    response = api.get(f"/api/legs/{leg.pk}/scan-conflicts")
    assert response.status_code == 200, response.content
    (item,) = response.json()["items"]
    person = Person.objects.get(pk=booking.person_id)
    assert item["device"] == "D-7K3Q9A" and item["booking_id"] == booking.pk
    assert item["reference_code"] == person.reference_code
    assert item["officer"] == world.users[Role.DUTY_OFFICER].username
    assert item["action"] == "board" and "released on the server meanwhile" in item["message"]
    assert item["scanned_at"].startswith("2026-03-02T09:41")
    entry = AuditEntry.objects.filter(verb="scan_conflicts").get()
    assert entry.object_id == str(leg.pk) and entry.action == AuditEntry.Action.READ
    # Least privilege: those who do not work the gate see nothing.
    assert world.api(Role.CONSUL).get(f"/api/legs/{leg.pk}/scan-conflicts").status_code == 403
