"""The rules of a stay's life through the API: a household's rooms move together, nights
already slept stay, no-shows and cancellations at their time, guests' journey in the
registry, contracts that cannot be changed under a household's feet, amounts as typed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from aman.core.roles import Role
from aman.registry.models import Household, Person
from aman.shelter.models import Stay, StayNight, StayStatus
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household, today
from tests.shelter.test_api import errors, night, post

pytestmark = pytest.mark.django_db


def house(api: Any, household: Household, hotel: Any, first: int, last: int) -> list[int]:
    made = post(
        api,
        "/api/stays",
        {
            "household": household.pk,
            "hotel": hotel.pk,
            "first_night": night(first),
            "last_night": night(last),
        },
    )
    assert made.status_code == 201, made.json()
    return [s["id"] for s in made.json()]


def status(api: Any, stay_id: int, **body: Any) -> Any:
    return post(api, f"/api/stays/{stay_id}/status", body)


def test_a_households_rooms_move_together_unless_split(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    make_block(hotel, world, room_type="double", beds=2, rooms=4, first_night=today())
    family = register_household(world, 4)
    first, second = house(api, family, hotel, 0, 2)

    # Shortening one room shortens the other: nobody is left on other nights.
    shorter = post(api, f"/api/stays/{first}/nights", {"last_night": night(1)})
    assert shorter.status_code == 200, shorter.json()
    assert set(Stay.objects.filter(household=family).values_list("last_night", flat=True)) == {
        today() + timedelta(days=1)
    }
    assert StayNight.objects.filter(stay__household=family).count() == 4

    # One room alone, with a reason.
    alone = post(
        api, f"/api/stays/{second}/nights", {"last_night": night(2), "split_reason": "visa"}
    )
    assert alone.status_code == 200, alone.json()
    assert Stay.objects.get(pk=first).last_night == today() + timedelta(days=1)
    assert Stay.objects.get(pk=second).split_reason == "visa"

    # Cancelling one room cancels the household's booking.
    cancelled = status(api, first, status="cancelled", note="moved to Baku")
    assert cancelled.status_code == 200, cancelled.json()
    assert set(Stay.objects.filter(household=family).values_list("status", flat=True)) == {
        StayStatus.CANCELLED
    }
    assert not StayNight.objects.filter(stay__household=family).exists()


def test_no_show_and_cancel_at_their_time_and_slept_nights_stay(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    make_block(
        hotel,
        world,
        rooms=3,
        first_night=today() - timedelta(days=5),
        last_night=today() + timedelta(days=5),
    )
    [later] = house(api, register_household(world, 2), hotel, 2, 3)
    early = status(api, later, status="no_show")
    assert early.status_code == 409 and "cancel" in early.json()["message"]
    [past] = house(api, register_household(world, 2), hotel, -2, 1)
    late = status(api, past, status="cancelled", note="changed plans")
    assert late.status_code == 409 and "no-show" in late.json()["message"]
    assert Stay.objects.get(pk=past).status == StayStatus.PLANNED

    # Checked in three nights ago: the slept nights cannot be shortened away.
    [stay] = house(api, register_household(world, 3), hotel, -3, 2)
    Stay.objects.filter(pk=stay).update(status=StayStatus.CHECKED_IN)
    shrink = post(api, f"/api/stays/{stay}/nights", {"last_night": night(-3)})
    assert shrink.status_code == 409 and list(errors(shrink)) == ["last_night"]
    assert StayNight.objects.filter(stay_id=stay).count() == 6
    ok = post(api, f"/api/stays/{stay}/nights", {"last_night": night(-1)})
    assert ok.status_code == 200 and StayNight.objects.filter(stay_id=stay).count() == 3


def test_check_in_and_out_move_the_guests_in_the_registry(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=1)
    family = register_household(world, 3)
    [stay] = house(api, family, hotel, 0, 2)
    assert status(api, stay, status="checked_in", room_number="301").status_code == 200
    statuses = set(Person.objects.filter(household=family).values_list("status", flat=True))
    assert statuses == {"accommodated"}
    assert status(api, stay, status="checked_out").status_code == 200
    statuses = set(Person.objects.filter(household=family).values_list("status", flat=True))
    assert statuses == {"verified"}  # waiting again: no seat yet


def test_contracts_and_amounts_are_kept_as_agreed(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    block = make_block(hotel, world, rooms=2)
    house(api, register_household(world, 4), hotel, 0, 1)
    shrink = world.api(Role.LOGISTICS).patch(
        f"/api/blocks/{block.pk}", data={"beds": 2}, content_type="application/json"
    )
    assert shrink.status_code == 409 and list(errors(shrink)) == ["beds"]
    block.refresh_from_db()
    assert block.beds == 4

    fraction = post(
        api,
        f"/api/hotels/{hotel.pk}/blocks",
        {
            "room_type": "double",
            "rooms": 1,
            "first_night": night(0),
            "last_night": night(1),
            "rate": "80.005",
            "currency": "USD",
            "payer": "state",
        },
    )
    assert fraction.status_code == 400 and list(errors(fraction)) == ["rate"]
    tiny = post(
        api, "/api/exchange-rates", {"currency": "USD", "rate": "0.0000001", "valid_from": night(0)}
    )
    assert tiny.status_code == 400 and list(errors(tiny)) == ["rate"]

    # A tour operator pays: which one must be known.
    nobody = post(
        api,
        "/api/stays",
        {
            "household": register_household(world, 1).pk,
            "hotel": hotel.pk,
            "first_night": night(0),
            "last_night": night(0),
            "payer": "tour_operator",
        },
    )
    assert nobody.status_code == 400 and list(errors(nobody)) == ["payer"]


def test_a_plan_published_again_after_changes_creates_nothing(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=3)
    families = [register_household(world, 2), register_household(world, 3)]
    plan = {
        "plan_ref": "PLAN-7",
        "items": [
            {"household": h.pk, "hotel": hotel.pk, "first_night": night(0), "last_night": night(1)}
            for h in families
        ],
    }
    first = post(api, "/api/stays/from-plan", plan)
    assert first.status_code == 201 and len(first.json()) == 2
    extended = post(api, f"/api/stays/{first.json()[0]['id']}/nights", {"last_night": night(3)})
    assert extended.status_code == 200, extended.json()
    again = post(api, "/api/stays/from-plan", plan)
    assert again.status_code == 201 and again.json() == []
    assert Stay.objects.count() == 2


def test_the_daily_list_does_not_run_formulas_and_old_vouchers_expire(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=2, first_night=today() - timedelta(days=5))
    [stay] = house(api, register_household(world, 2), hotel, 0, 0)
    # Whatever is typed (here the hotel's room number) is not run by a spreadsheet.
    assert status(api, stay, status="checked_in", room_number="=1+2").status_code == 200
    csv = world.client(Role.LOGISTICS).get(f"/shelter/hotels/{hotel.pk}/day.csv").content.decode()
    assert ",'=1+2," in csv and ",=1+2," not in csv

    from aman.shelter.vouchers import voucher_code

    [old] = house(api, register_household(world, 1), hotel, -4, -3)
    page = world.client("anonymous").get(f"/voucher/{voucher_code(Stay.objects.get(pk=old))}/")
    assert page.status_code == 200 and "Expired" in page.content.decode()


def test_suggestions_put_a_household_near_its_next_departure(world: World) -> None:
    from aman.transport.services import leg_book
    from tests.transport.conftest import make_leg, place

    api = world.api(Role.LOGISTICS)
    baku = place("airport", iata="GYD")
    by_airport = make_hotel(world, latitude=baku.latitude, longitude=baku.longitude)
    far = make_hotel(world, latitude=41.0, longitude=47.0)  # about 260 km away
    for hotel in (far, by_airport):
        make_block(hotel, world, rooms=2)
    leaving, staying = register_household(world, 2), register_household(world, 2)
    leg = make_leg(world, origin=baku)
    leg_book(actor=world.users[Role.LOGISTICS], leg=leg, households=[leaving])
    got = post(
        api,
        "/api/stays/suggest",
        {
            "households": [leaving.pk, staying.pk],
            "first_night": night(0),
            "last_night": night(0),
            "hotels": [far.pk, by_airport.pk],
        },
    )
    assert got.status_code == 200, got.json()
    hotel_of = {s["household"]: s["hotel"]["id"] for s in got.json()}
    assert hotel_of[leaving.pk] == by_airport.pk
    # Asked to be near Baku's airport, both go there.
    near = post(
        api,
        "/api/stays/suggest",
        {
            "households": [staying.pk],
            "first_night": night(0),
            "last_night": night(0),
            "near": baku.pk,
        },
    )
    assert near.status_code == 200 and near.json()[0]["hotel"]["id"] == by_airport.pk
