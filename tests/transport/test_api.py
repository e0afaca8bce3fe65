"""The transport API: legs, bookings, statuses, errors in the {"message", "extra"} shape."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aman.core.roles import Role
from aman.registry.models import Person
from aman.transport.models import Booking, Leg
from tests.conftest import World
from tests.transport.conftest import make_leg, register_household

pytestmark = pytest.mark.django_db


def post(client: Any, url: str, body: Any, **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def leg_body(**over: Any) -> dict[str, Any]:
    start = timezone.now() + timedelta(days=2)
    return {
        "mode": "charter",
        "origin": "GYD",
        "destination": "ALA",
        "departure_planned": start.isoformat(),
        "arrival_planned": (start + timedelta(hours=4)).isoformat(),
        "capacity": 3,
        "carrier": "Air Astana",
        "number": "KC 7010",
        "fare": "95000",
        "currency": "KZT",
        **over,
    }


def test_create_a_leg_once_per_idempotency_key(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    body = leg_body(source_ref="broker-1")
    first = post(api, "/api/legs", body, **{"Idempotency-Key": "k1"})
    again = post(api, "/api/legs", body, **{"Idempotency-Key": "k1"})
    assert first.status_code == 201 == again.status_code
    assert first.json()["id"] == again.json()["id"] and Leg.objects.count() == 1
    out = first.json()
    assert (out["origin"]["code"], out["destination"]["country"], out["seats_free"]) == (
        "UBBB",
        "KZ",
        3,
    )
    clash = post(api, "/api/legs", leg_body(source_ref="broker-1"))
    assert clash.status_code == 409 and clash.json()["extra"] == {"source_ref": ["broker-1"]}


def test_bad_legs_are_refused_with_every_reason(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    bad = post(api, "/api/legs", leg_body(origin="XXX", destination="XXX", currency="tenge"))
    assert bad.status_code == 400
    errors = bad.json()["extra"]["errors"]
    assert {"origin", "destination", "currency"} <= set(errors)
    assert post(api, "/api/legs", leg_body(capacity=0)).status_code == 422
    early = leg_body(arrival_planned=timezone.now().isoformat())
    assert post(api, "/api/legs", early).json()["extra"]["errors"]["arrival_planned"]


def test_book_board_and_overbook_through_the_api(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    leg = make_leg(world, capacity=3)
    household = register_household(world, 2)
    codes = list(
        Person.objects.filter(household=household).values_list("reference_code", flat=True)
    )
    one = post(api, f"/api/legs/{leg.pk}/bookings", {"people": codes[:1]})
    assert one.status_code == 409 and one.json()["extra"]["missing"] == codes[1:]
    split = post(api, f"/api/legs/{leg.pk}/bookings", {"people": codes[:1], "split_reason": "visa"})
    assert split.status_code == 201 and len(split.json()) == 1
    booking_id = split.json()[0]["id"]
    rest = post(
        api,
        f"/api/legs/{leg.pk}/bookings",
        {"people": codes[1:], "split_reason": "later"},
        **{"Idempotency-Key": "b1"},
    )
    assert rest.status_code == 201
    big = register_household(world, 2)
    full = post(api, f"/api/legs/{leg.pk}/bookings", {"households": [big.pk]})
    assert full.status_code == 409
    assert full.json()["extra"] == {"free": 1, "wanted": 2}
    assert post(api, f"/api/legs/{leg.pk}/bookings", {"people": ["ZZZZZZZZ"]}).json()["extra"] == {
        "people": ["ZZZZZZZZ"]
    }
    board = post(api, f"/api/bookings/{booking_id}/status", {"status": "boarded"})
    assert board.status_code == 200 and board.json()["status"] == "boarded"
    twice = post(api, f"/api/bookings/{booking_id}/status", {"status": "boarded"})
    assert twice.status_code == 409
    listed = api.get(f"/api/legs/{leg.pk}/bookings?status=boarded").json()
    assert [b["id"] for b in listed["items"]] == [booking_id]
    planned = post(api, f"/api/legs/{leg.pk}/release-no-shows", {})
    assert planned.status_code == 409 and "boarding" in planned.json()["message"]
    for status in ("confirmed", "boarding"):
        assert post(api, f"/api/legs/{leg.pk}/status", {"status": status}).status_code == 200
    released = post(api, f"/api/legs/{leg.pk}/release-no-shows", {}).json()
    # The household's first member is on board: the rest is waited for, not released.
    assert (released["no_shows"], released["waited_for"]) == ([], codes[1:])
    assert released["seats_free"] == 1  # the one seat never booked (of 3)
    # The next in priority waiting for seats: not this household.
    offered = {code for h in released["next_households"] for code in h["people"]}
    assert not offered & set(codes)


def test_leg_status_allocations_and_changes(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    leg = make_leg(world, capacity=10)
    (household,) = [register_household(world, 2)]
    post(api, f"/api/legs/{leg.pk}/bookings", {"households": [household.pk]})
    put = api.put(
        f"/api/legs/{leg.pk}/allocations/uz",
        data=json.dumps({"seats": 5}),
        content_type="application/json",
    )
    assert put.status_code == 200 and put.json()["seats_free"] == 3
    assert put.json()["allocations"] == [{"country": "UZ", "seats": 5, "note": ""}]
    too_few = api.patch(
        f"/api/legs/{leg.pk}", data=json.dumps({"capacity": 6}), content_type="application/json"
    )
    assert too_few.status_code == 409
    no_reason = post(api, f"/api/legs/{leg.pk}/status", {"status": "cancelled"})
    assert no_reason.status_code == 400 and no_reason.json()["extra"]["errors"]["note"]
    wrong = post(api, f"/api/legs/{leg.pk}/status", {"status": "arrived"})
    assert wrong.status_code == 409 and wrong.json()["extra"]["allowed"] == [
        "cancelled",
        "confirmed",
    ]
    cancel = post(api, f"/api/legs/{leg.pk}/status", {"status": "cancelled", "note": "no fuel"})
    assert cancel.status_code == 200
    assert cancel.json()["affected_households"] == [household.pk]
    assert cancel.json()["bookings_released"] == 2
    assert Booking.objects.filter(leg=leg, status="released").count() == 2


def test_legs_are_listed_by_day(world: World) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    api = world.api(Role.DUTY_OFFICER)
    leg = make_leg(world)
    day = timezone.localtime(leg.departure_planned, leg.origin.zone).date().isoformat()
    assert [x["id"] for x in api.get(f"/api/legs?day={day}").json()["items"]] == [leg.pk]
    # 23:30 in Tehran is the next day in Almaty (the server's clock): listed under Tehran's.
    tehran = ZoneInfo("Asia/Tehran")
    late_day = (timezone.localtime(timezone.now(), tehran) + timedelta(days=2)).date()
    late = make_leg(
        world,
        number="KC 7031",
        departure_planned=datetime.combine(late_day, datetime.min.time(), tehran)
        + timedelta(hours=23, minutes=30),
        arrival_planned=None,
    )
    assert late.origin.timezone == "Asia/Tehran"
    assert timezone.localtime(late.departure_planned).date() != late_day
    listed = api.get(f"/api/legs?day={late_day.isoformat()}").json()["items"]
    assert [x["id"] for x in listed] == [late.pk]
    later = (timezone.localdate() + timedelta(days=30)).isoformat()
    assert api.get(f"/api/legs?day={later}").json()["items"] == []
    # A day no leg can be on (two years around today, transport/times.py): 400, not a guess.
    far = api.get("/api/legs?day=2001-01-01")
    assert far.status_code == 400 and far.json()["extra"]["errors"]["day"]
    assert post(api, f"/api/legs/{leg.pk}/status", {"status": "confirmed"}).status_code == 403
