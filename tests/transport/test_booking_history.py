"""A booking's history — each status with when and by whom — on the leg's page, on the
person's page and in the API's bookings."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.transport import services
from aman.transport.models import Booking, BookingEvent
from tests.conftest import World
from tests.transport.conftest import make_leg, register_household

pytestmark = pytest.mark.django_db


def _history(html: str, booking: Booking) -> list[str]:
    """The lines of a booking's history as the page shows them."""
    found = re.search(
        rf'<details class="booking-history" id="booking-history-{booking.pk}">(.*?)</details>',
        html,
        re.S,
    )
    assert found is not None, f"no history of booking {booking.pk}"
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
        for item in re.findall(r"<li>(.*?)</li>", found.group(1), re.S)
    ]


@pytest.fixture
def journey(world: World) -> dict[str, Any]:
    """A booking offered by the logistics officer, confirmed by the system (a plan, the
    command line), checked in by the duty officer; and its household member's, released by
    the crisis manager."""
    logistics = world.users[Role.LOGISTICS]
    leg = make_leg(world)
    first, second = services.leg_book(
        actor=logistics, leg=leg, households=[register_household(world, 2)]
    )
    services.booking_confirm(actor=None, booking=first)
    services.booking_check_in(actor=world.users[Role.DUTY_OFFICER], booking=first, seat="7B")
    services.booking_close(
        actor=world.users[Role.CRISIS_MANAGER],
        booking=second,
        status="released",
        note="stays with her mother",
    )
    return {"leg": leg, "first": first, "second": second}


def test_the_leg_page_shows_each_bookings_history(world: World, journey: dict) -> None:
    leg, first, second = journey["leg"], journey["first"], journey["second"]
    html = world.client(Role.LOGISTICS).get(f"/transport/legs/{leg.pk}/?show=all").content.decode()
    lines = _history(html, first)
    assert [line.split(" · ")[1:] for line in lines] == [
        ["Offered", "logistics"],
        ["Confirmed", "system"],
        ["Checked in", "duty_officer"],
    ]
    at = BookingEvent.objects.filter(booking=first).order_by("at", "id").first()
    assert at is not None
    assert lines[0].startswith(timezone.localtime(at.at).strftime("%Y-%m-%d %H:%M"))
    assert [line.split(" · ")[1:] for line in _history(html, second)] == [
        ["Offered", "logistics"],
        ["Released", "crisis_manager", "stays with her mother"],
    ]
    entry = AuditEntry.objects.filter(verb="leg_detail", object_id=str(leg.pk)).latest("id")
    assert entry.changes["bookings_shown"] == 2


def test_the_leg_page_reads_the_histories_in_one_query(world: World) -> None:
    logistics = world.users[Role.LOGISTICS]
    counts = []
    for size in (1, 4):
        leg = make_leg(world, capacity=10)
        for _ in range(size):
            services.leg_book(actor=logistics, leg=leg, households=[register_household(world, 1)])
        client = world.client(Role.LOGISTICS)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/transport/legs/{leg.pk}/").status_code == 200
        counts.append(sum('"transport_bookingevent"' in q["sql"] for q in ctx.captured_queries))
    assert counts[0] == counts[1], counts


def test_the_person_page_shows_the_history_of_their_bookings(world: World, journey: dict) -> None:
    second = journey["second"]
    html = world.client(Role.LOGISTICS).get(f"/people/{second.person_id}/").content.decode()
    assert [line.split(" · ")[1:] for line in _history(html, second)] == [
        ["Offered", "logistics"],
        ["Released", "crisis_manager", "stays with her mother"],
    ]
    assert AuditEntry.objects.filter(verb="person_detail", object_id=str(second.person_id))
    # Those who do not work with transport see no bookings there.
    operator = world.client(Role.OPERATOR).get(f"/people/{second.person_id}/").content.decode()
    assert "booking-history" not in operator


def test_the_api_gives_each_bookings_history(world: World, journey: dict) -> None:
    leg, first = journey["leg"], journey["first"]
    api = world.api(Role.LOGISTICS)
    response = api.get(f"/api/legs/{leg.pk}/bookings")
    assert response.status_code == 200
    items = {b["id"]: b for b in response.json()["items"]}
    events = items[first.pk]["events"]
    assert [(e["status"], e["previous"], e["by"]) for e in events] == [
        ("offered", "", "logistics"),
        ("confirmed", "offered", None),
        ("checked_in", "confirmed", "duty_officer"),
    ]
    assert all(e["at"] for e in events) and events[0]["at"] <= events[-1]["at"]
    assert items[journey["second"].pk]["events"][-1]["note"] == "stays with her mother"
    assert AuditEntry.objects.filter(verb="booking_list", object_id=str(leg.pk)).exists()
    # A status change answers with the history up to it.
    board = api.post(
        f"/api/bookings/{first.pk}/status",
        json.dumps({"status": "boarded"}),
        content_type="application/json",
    )
    assert board.status_code == 200, board.content
    assert [(e["status"], e["by"]) for e in board.json()["events"]][-1] == ("boarded", "logistics")
    # A new booking answers with its first step.
    household = register_household(world, 1)
    booked = api.post(
        f"/api/legs/{leg.pk}/bookings",
        json.dumps({"households": [household.pk]}),
        content_type="application/json",
    )
    assert booked.status_code == 201, booked.content
    assert [(e["status"], e["by"]) for e in booked.json()[0]["events"]] == [
        ("offered", "logistics")
    ]


def test_the_api_reads_the_histories_in_one_query(world: World) -> None:
    logistics = world.users[Role.LOGISTICS]
    api = world.api(Role.LOGISTICS)
    counts = []
    for size in (1, 5):
        leg = make_leg(world, capacity=10)
        for _ in range(size):
            services.leg_book(actor=logistics, leg=leg, households=[register_household(world, 1)])
        api.get(f"/api/legs/{leg.pk}/bookings")  # the token's first use is noted once
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(f"/api/legs/{leg.pk}/bookings")
        assert len(response.json()["items"]) == size
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
