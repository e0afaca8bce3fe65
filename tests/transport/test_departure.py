"""A departure and what comes after it, through the pages and the API: check-in and boarding
with the seat and the signed undertaking on the leg's page, the freed seats offered to the
right people, the actual departure and arrival recorded and corrected, a completed leg's
bookings kept as they were, dates that make no sense refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.geo.models import Country
from aman.registry.models import Person
from aman.registry.statuses import Status
from aman.transport import services
from aman.transport.models import (
    Booking,
    BookingStatus,
    Leg,
    LegStatus,
    SeatAllocation,
    Undertaking,
)
from tests.conftest import World
from tests.transport.conftest import make_leg, register_household

pytestmark = pytest.mark.django_db


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def patch(client: Any, url: str, body: Any) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def _cost_recovery(world: World, **kwargs: Any) -> None:
    services.transport_policy_set(
        actor=world.users[Role.CRISIS_MANAGER], crisis=world.crisis, cost_recovery=True, **kwargs
    )


def _book(world: World, leg: Leg, size: int = 1, **extra: Any) -> list[Booking]:
    household = register_household(world, size, **extra)
    return services.leg_book(actor=world.users[Role.LOGISTICS], leg=leg, households=[household])


def _local(moment: Any, zone: Any) -> str:
    return timezone.localtime(moment, zone).strftime("%Y-%m-%dT%H:%M")


def _departed(world: World, leg: Leg, **kwargs: Any) -> Leg:
    actor = world.users[Role.LOGISTICS]
    for status in ("confirmed", "boarding", "departed"):
        services.leg_set_status(actor=actor, leg=leg, status=status, **kwargs)
    leg.refresh_from_db()
    return leg


# 1. Check in and board on the leg's page: the seat and the signed undertaking ----------------


def test_check_in_on_the_leg_page_takes_the_signature_and_the_seat(world: World) -> None:
    _cost_recovery(world)
    leg = make_leg(world)
    first, second = _book(world, leg, 2)
    client = world.client(Role.LOGISTICS)
    page = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    row = page[page.index(f'id="booking-{first.pk}"') :]
    row = row[: row.index("</tr>")]
    # One form for the steps: the seat, the signature the policy asks for, Check in, Board.
    assert 'name="seat"' in row and 'name="undertaking_signed_by" required' in row
    assert 'name="status" value="checked_in"' in row and 'name="status" value="boarded"' in row
    assert "Undertaking to repay 95000.00 KZT" in row
    # The form to print and sign before check-in.
    assert f'href="/transport/bookings/{first.pk}/undertaking.pdf"' in row

    url = f"/transport/bookings/{first.pk}/action/"
    unsigned = client.post(url, {"status": "checked_in", "seat": "12a"}, follow=True)
    assert "record the name the person signed with" in unsigned.content.decode()
    done = client.post(
        url,
        {"status": "checked_in", "seat": "12a", "undertaking_signed_by": "Н. Ахметов"},
        follow=True,
    )
    assert "Checked in." in done.content.decode()
    first.refresh_from_db()
    assert (first.status, first.seat) == (BookingStatus.CHECKED_IN, "12A")
    assert Undertaking.objects.get(booking=first).signed_name == "Н. Ахметов"
    page = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    row = page[page.index(f'id="booking-{first.pk}"') :]
    row = row[: row.index("</tr>")]
    # Signed: no signature asked again, the seat shown and kept in the form, the PDF linked.
    assert "undertaking_signed_by" not in row and 'value="12A"' in row
    assert f'href="/transport/bookings/{first.pk}/undertaking.pdf"' in row
    # Boarding straight away (checked in on the way) takes the signature and a seat too.
    taken = client.post(
        f"/transport/bookings/{second.pk}/action/",
        {"status": "boarded", "seat": "12A", "undertaking_signed_by": "A. Akhmetova"},
        follow=True,
    )
    assert "Seat 12A is taken." in taken.content.decode()
    assert not Undertaking.objects.filter(booking=second).exists()
    client.post(
        f"/transport/bookings/{second.pk}/action/",
        {"status": "boarded", "seat": "12b", "undertaking_signed_by": "A. Akhmetova"},
    )
    second.refresh_from_db()
    assert (second.status, second.seat) == (BookingStatus.BOARDED, "12B")
    manifest = client.get(f"/transport/legs/{leg.pk}/manifest.csv").content.decode("utf-8-sig")
    assert ",12A,checked_in," in manifest and ",12B,boarded," in manifest


def test_without_cost_recovery_the_page_asks_no_signature(world: World) -> None:
    leg = make_leg(world)
    (booking,) = _book(world, leg)
    page = world.client(Role.LOGISTICS).get(f"/transport/legs/{leg.pk}/").content.decode()
    assert 'name="seat"' in page and "undertaking_signed_by" not in page
    assert "undertaking.pdf" not in page
    world.client(Role.LOGISTICS).post(
        f"/transport/bookings/{booking.pk}/action/", {"status": "boarded", "seat": "1a"}
    )
    booking.refresh_from_db()
    assert (booking.status, booking.seat) == (BookingStatus.BOARDED, "1A")


def test_the_gate_gives_a_seat_at_check_in_online_and_offline(world: World) -> None:
    from tests.transport.test_gate import officer, pass_of, scan, sync

    leg = make_leg(world)
    a, b = _book(world, leg, 2)
    client = officer(world)
    done = scan(client, leg, id="s1", text=pass_of(a), action="check_in", seat="7c")
    assert done["result"]["result"] == "applied" and done["answer"]["booking"]["seat"] == "7C"
    queued = {"id": "s2", "booking": b.pk, "kind": "qr", "action": "board", "offline": True}
    (clash,) = sync(client, leg, [{**queued, "seat": "7C"}])
    assert clash["result"] == "conflict" and "Seat 7C is taken." in clash["message"]
    (ok,) = sync(client, leg, [{**queued, "id": "s3", "seat": "7D"}])
    assert ok["result"] == "applied"
    b.refresh_from_db()
    assert (b.status, b.seat) == (BookingStatus.BOARDED, "7D")
    page = client.get(f"/transport/legs/{leg.pk}/gate/").content.decode()
    assert 'id="gate-seat"' in page and "/transport/bookings/{id}/undertaking.pdf" in page
    assert "Print the undertaking (PDF)" in page


# 2. Released no-shows: the seats go to the next people waiting where the leg departs -------


def test_the_no_shows_just_released_are_not_offered_their_seats_again(world: World) -> None:
    leg = make_leg(world, capacity=2)
    late = _book(world, leg, 2)  # will not come
    waiting = register_household(world, 1)
    Person.objects.filter(pk__in=[b.person_id for b in late]).update(priority=90)
    client = world.client(Role.LOGISTICS)
    before = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    assert 'id="release-no-shows"' not in before, "offered only while the leg is boarding"
    for status in ("confirmed", "boarding"):
        services.leg_set_status(actor=world.users[Role.LOGISTICS], leg=leg, status=status)
    assert 'id="release-no-shows"' in client.get(f"/transport/legs/{leg.pk}/").content.decode()
    page = client.post(f"/transport/legs/{leg.pk}/no-shows/", follow=True).content.decode()
    assert "2 no-shows released" in page
    waiting_list = page[page.index('id="waiting"') :]
    assert f'name="household" value="{waiting.pk}"' in waiting_list
    assert f'name="household" value="{late[0].household_id}"' not in waiting_list
    for booking in late:
        booking.person.refresh_from_db()
        assert booking.person.status == Status.VERIFIED  # waiting again, for another leg


def test_at_a_transit_hub_the_freed_seats_go_to_those_who_arrived_there(world: World) -> None:
    """A bus brings a household out of Iran to Baku: safe there, it waits for the flight
    home. The flight's no-shows free seats: the API names that household as the next."""
    logistics = world.users[Role.LOGISTICS]
    bus = make_leg(world, mode="bus", destination="GYD", number="BUS 1", capacity=5)
    arrived = _book(world, bus, 2)
    for booking in arrived:
        services.booking_board(actor=logistics, booking=booking)
    _departed(world, bus)
    services.leg_set_status(actor=logistics, leg=bus, status="arrived")
    for booking in arrived:
        booking.person.refresh_from_db()
        assert booking.person.status == Status.CROSSED_BORDER
    still_in_iran = register_household(world, 1)
    flight = make_leg(world, origin="GYD", destination="ALA", capacity=2)
    missed = _book(world, flight, 2)
    # Registered in Azerbaijan: waiting where the flight departs, but no-shows on it.
    Person.objects.filter(pk__in=[b.person_id for b in missed]).update(
        country=Country.objects.get(code="AZ")
    )

    api = world.api(Role.LOGISTICS)
    for status in ("confirmed", "boarding"):
        services.leg_set_status(actor=logistics, leg=flight, status=status)
    released = post(api, f"/api/legs/{flight.pk}/release-no-shows", {})
    assert released.status_code == 200, released.content
    body = released.json()
    assert sorted(body["no_shows"]) == sorted(b.person.reference_code for b in missed)
    assert body["seats_free"] == 2
    offered = {h["household_id"]: h for h in body["next_households"]}
    household = arrived[0].household_id
    assert household in offered
    assert sorted(offered[household]["people"]) == sorted(b.person.reference_code for b in arrived)
    assert missed[0].household_id not in offered and still_in_iran.pk not in offered
    assert AuditEntry.objects.filter(verb="waiting_households").exists()
    page = world.client(Role.LOGISTICS).get(f"/transport/legs/{flight.pk}/").content.decode()
    assert f'name="household" value="{household}"' in page[page.index('id="waiting"') :]


# 3. The actual departure and arrival ----------------------------------------------------------


def test_the_status_form_records_the_actual_times(world: World) -> None:
    leg = make_leg(world)
    for status in ("confirmed", "boarding"):
        services.leg_set_status(actor=world.users[Role.LOGISTICS], leg=leg, status=status)
    client = world.client(Role.LOGISTICS)
    url = f"/transport/legs/{leg.pk}/status/"
    page = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    assert 'name="actual"' in page and "Actual departure" in page
    origin, destination = leg.origin.zone, leg.destination.zone
    later = _local(timezone.now() + timedelta(hours=2), origin)
    future = client.post(url, {"status": "departed", "actual": later}, follow=True)
    assert "In the future" in future.content.decode()
    leg.refresh_from_db()
    assert leg.status == LegStatus.BOARDING and leg.departure_actual is None
    took_off = (timezone.now() - timedelta(hours=3)).replace(second=0, microsecond=0)
    client.post(url, {"status": "departed", "actual": _local(took_off, origin)})
    leg.refresh_from_db()
    assert leg.status == LegStatus.DEPARTED and leg.departure_actual == took_off
    early = _local(took_off - timedelta(hours=1), destination)
    refused = client.post(url, {"status": "arrived", "actual": early}, follow=True)
    assert "Arrival before departure." in refused.content.decode()
    client.post(url, {"status": "arrived", "actual": ""})  # empty: now
    leg.refresh_from_db()
    assert leg.status == LegStatus.ARRIVED
    assert abs(leg.arrival_actual - timezone.now()) < timedelta(minutes=1)


def test_a_departed_or_arrived_leg_corrects_only_its_actual_times(world: World) -> None:
    leg = _departed(world, make_leg(world))
    client = world.client(Role.LOGISTICS)
    detail = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    assert "Correct the actual times" in detail
    form = client.get(f"/transport/legs/{leg.pk}/edit/").content.decode()
    assert 'name="departure_actual"' in form and 'name="capacity"' not in form
    assert 'name="arrival_actual"' not in form  # not arrived yet
    departed = (timezone.now() - timedelta(hours=2)).replace(second=0, microsecond=0)
    saved = client.post(
        f"/transport/legs/{leg.pk}/edit/",
        {"departure_actual": _local(departed, leg.origin.zone)},
    )
    assert saved.status_code == 302
    leg.refresh_from_db()
    assert leg.departure_actual == departed
    assert AuditEntry.objects.filter(
        verb="leg_update", changes__has_key="departure_actual"
    ).exists()
    services.leg_set_status(actor=world.users[Role.LOGISTICS], leg=leg, status="arrived")
    before = _local(departed - timedelta(minutes=5), leg.destination.zone)
    wrong = client.post(
        f"/transport/legs/{leg.pk}/edit/",
        {"departure_actual": _local(departed, leg.origin.zone), "arrival_actual": before},
    )
    assert wrong.status_code == 200 and "Arrival before departure." in wrong.content.decode()

    api = world.api(Role.LOGISTICS)
    url = f"/api/legs/{leg.pk}"
    capacity = patch(api, url, {"capacity": 50})
    assert capacity.status_code == 409
    assert "only its actual departure and arrival" in capacity.json()["message"]
    assert capacity.json()["extra"]["errors"] == {"capacity": ["Cannot be changed any more."]}
    future = patch(api, url, {"arrival_actual": (timezone.now() + timedelta(hours=1)).isoformat()})
    assert future.status_code == 400
    assert future.json()["extra"]["errors"]["arrival_actual"]
    landed = (timezone.now() - timedelta(minutes=30)).replace(microsecond=0)
    ok = patch(api, url, {"arrival_actual": landed.isoformat()})
    assert ok.status_code == 200, ok.content
    leg.refresh_from_db()
    assert leg.arrival_actual == landed


def test_the_api_takes_the_actual_time_with_the_status(world: World) -> None:
    leg = make_leg(world)
    api = world.api(Role.LOGISTICS)
    url = f"/api/legs/{leg.pk}/status"
    post(api, url, {"status": "confirmed"})
    wrong = post(api, url, {"status": "boarding", "actual": timezone.now().isoformat()})
    assert wrong.status_code == 400 and wrong.json()["extra"]["errors"]["actual"]
    post(api, url, {"status": "boarding"})
    # Without an offset: the clock of the origin (Tehran).
    gone = (timezone.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    done = post(api, url, {"status": "departed", "actual": _local(gone, leg.origin.zone)})
    assert done.status_code == 200, done.content
    leg.refresh_from_db()
    assert leg.departure_actual == gone
    planned = patch(api, f"/api/legs/{make_leg(world).pk}", {"departure_actual": gone.isoformat()})
    assert planned.status_code == 400
    assert planned.json()["extra"]["errors"]["departure_actual"] == [
        "Recorded when the leg departs."
    ]


# 4. The undertaking as a file of the API -----------------------------------------------------


def test_the_api_prints_the_undertaking_audited(world: World) -> None:
    _cost_recovery(world)
    leg = make_leg(world)
    (booking,) = _book(world, leg)
    api = world.api(Role.DUTY_OFFICER)
    url = f"/api/bookings/{booking.pk}/undertaking"
    form = api.get(url)
    assert form.status_code == 200 and form.content.startswith(b"%PDF-")
    assert form["Content-Type"] == "application/pdf" and "-form.pdf" in form["Content-Disposition"]
    services.booking_check_in(
        actor=world.users[Role.DUTY_OFFICER], booking=booking, undertaking_signed_by="N. A."
    )
    signed = api.get(url)
    assert signed.status_code == 200 and "-signed.pdf" in signed["Content-Disposition"]
    entries = AuditEntry.objects.filter(verb="undertaking_print").order_by("id")
    assert [(e.changes["signed"], e.action) for e in entries] == [
        (False, "export"),
        (True, "export"),
    ]
    bus = make_leg(world, mode="bus", number="B 1")
    (other,) = _book(world, bus)
    nothing = api.get(f"/api/bookings/{other.pk}/undertaking")
    assert nothing.status_code == 409 and "asks no undertaking" in nothing.json()["message"]
    assert world.api(Role.OPERATOR).get(url).status_code == 403
    assert api.get("/api/bookings/999999/undertaking").status_code == 404


# 5. No undertaking for 0.00 when the leg has no fare ----------------------------------------


def test_an_undertaking_needs_the_legs_fare(world: World) -> None:
    _cost_recovery(world)
    leg = make_leg(world, fare="")
    (booking,) = _book(world, leg)
    api = world.api(Role.LOGISTICS)
    refused = post(
        api,
        f"/api/bookings/{booking.pk}/status",
        {"status": "checked_in", "undertaking_signed_by": "N. Akhmetov"},
    )
    assert refused.status_code == 409
    assert "the leg has no economy fare" in refused.json()["message"].lower()
    assert "set it on the leg" in refused.json()["message"]
    assert not Undertaking.objects.exists()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.OFFERED
    pdf = world.client(Role.LOGISTICS).get(f"/transport/bookings/{booking.pk}/undertaking.pdf")
    assert pdf.status_code == 409 and "no economy fare" in pdf.content.decode()
    services.leg_update(actor=world.users[Role.LOGISTICS], leg=leg, data={"fare": "80000"})
    done = post(
        api,
        f"/api/bookings/{booking.pk}/status",
        {"status": "checked_in", "undertaking_signed_by": "N. Akhmetov"},
    )
    assert done.status_code == 200
    assert Undertaking.objects.get().amount == 80000
    # A fixed amount needs no fare.
    _cost_recovery(world, amount_rule="fixed", fixed_amount="50000")
    (fixed,) = _book(world, make_leg(world, fare="", number="KC 2"))
    services.booking_check_in(actor=None, booking=fixed, undertaking_signed_by="X")
    assert Undertaking.objects.get(booking=fixed).amount == 50000


# 6. A completed leg's bookings stay as they were ---------------------------------------------


@pytest.mark.parametrize("arrive", [False, True])
def test_nobody_is_offloaded_from_a_leg_that_has_left(world: World, arrive: bool) -> None:
    leg = make_leg(world)
    bookings = _book(world, leg, 2)
    for booking in bookings:
        services.booking_board(actor=None, booking=booking)
    leg = _departed(world, leg)
    if arrive:
        services.leg_set_status(actor=None, leg=leg, status="arrived")
    api = world.api(Role.LOGISTICS)
    out = post(
        api,
        f"/api/bookings/{bookings[0].pk}/status",
        {"status": "offloaded", "note": "after the fact"},
    )
    assert out.status_code == 409
    status = "arrived" if arrive else "departed"
    assert out.json()["message"] == f"The leg is {status}: its bookings cannot change any more."
    page = world.client(Role.LOGISTICS).post(
        f"/transport/bookings/{bookings[1].pk}/action/",
        {"status": "offloaded", "note": "x"},
        follow=True,
    )
    assert "its bookings cannot change any more" in page.content.decode()
    leg.refresh_from_db()
    assert leg.seats_taken == 2
    assert Booking.objects.filter(leg=leg, status=BookingStatus.BOARDED).count() == 2


# 7. Dates that make no sense ----------------------------------------------------------------


@pytest.mark.parametrize(
    "departure", ["0001-01-01T00:00", "9999-12-31T23:00:00-05:00", "2000-01-01T10:00"]
)
def test_the_api_refuses_implausible_dates(world: World, departure: str) -> None:
    api = world.api(Role.LOGISTICS)
    body = {
        "mode": "bus",
        "origin": "IKA",
        "destination": "ALA",
        "departure_planned": departure,
        "capacity": 10,
    }
    out = post(api, "/api/legs", body)
    assert out.status_code == 400, out.content
    assert "Not a plausible date" in out.json()["extra"]["errors"]["departure_planned"][0]
    assert not Leg.objects.exists()


def test_the_pages_refuse_implausible_dates(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    for departure in ("0001-01-01T00:00", "9999-12-31T23:00"):
        out = client.post(
            "/transport/legs/new/",
            {
                "mode": "bus",
                "origin": "IKA",
                "destination": "ALA",
                "departure_planned": departure,
                "capacity": "10",
            },
        )
        assert out.status_code == 200 and "Not a plausible date" in out.content.decode()
    assert not Leg.objects.exists()
    listing = client.get("/transport/?day=9999-12-31")
    assert listing.status_code == 400 and "Not a plausible date" in listing.content.decode()
    assert client.get("/transport/?day=0001-01-01").status_code == 400
    assert client.get(f"/transport/?day={timezone.localdate().isoformat()}").status_code == 200
    api = world.api(Role.LOGISTICS)
    out = api.get("/api/legs", {"day": "9999-12-31", "crisis": world.crisis.pk})
    assert out.status_code == 400 and out.json()["extra"]["errors"]["day"]


# 8. The partner seats' note ----------------------------------------------------------------


def test_the_partner_seats_form_keeps_a_note(world: World) -> None:
    leg = make_leg(world)
    client = world.client(Role.LOGISTICS)
    page = client.get(f"/transport/legs/{leg.pk}/").content.decode()
    form = page[page.index('id="allocation-form"') :]
    assert 'name="note"' in form[: form.index("</form>")]
    client.post(
        f"/transport/legs/{leg.pk}/allocations/",
        {"country": "UZ", "seats": "2", "note": "MFA Uzbekistan, note 17"},
    )
    assert SeatAllocation.objects.get(leg=leg).note == "MFA Uzbekistan, note 17"
    assert "MFA Uzbekistan, note 17" in client.get(f"/transport/legs/{leg.pk}/").content.decode()
