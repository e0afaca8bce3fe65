"""Dates out of the shelter's window (two years either side of today: a year 0001 or 9999, a
wrong century) are refused with the field named — a form error on the pages, 400 for the
daily list's CSV and a room block's or stay's nights, 422 for the API's query dates — and
never end in a server error (the day after 9999-12-31 does not exist). And "today" on the
occupancy page is the hotels' own, as on the hotel's page, its daily list and in the API."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from aman.core.roles import Role
from aman.shelter import dates
from aman.shelter.models import RoomBlock, Stay
from aman.shelter.services import household_house
from tests.conftest import World
from tests.shelter.conftest import hotel_today, make_block, make_hotel, register_household

pytestmark = pytest.mark.django_db

LOGISTICS = Role.LOGISTICS
FAR = ("9999-12-31", "0001-01-01", "9999-12-30")


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def patch(client: Any, url: str, body: Any) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def named(response: Any) -> set[str]:
    """The fields an API refusal names, in either of its two error shapes."""
    body = response.json()
    assert set(body) == {"message", "extra"}, body
    found = body["extra"]["errors"]
    return {e["field"] for e in found} if isinstance(found, list) else set(found)


def test_the_window_is_two_years_either_side_of_today() -> None:
    today = timezone.localdate()
    first, last = dates.window()
    assert first == today - timedelta(days=731) and last == today + timedelta(days=731)
    assert dates.day_problem(first) is None and dates.day_problem(last) is None
    assert dates.day_problem(first - timedelta(days=1))
    assert dates.day_problem(last + timedelta(days=1))
    assert dates.parse_day("") == (None, None)
    assert dates.parse_day(today.isoformat()) == (today, None)
    assert dates.parse_day("9999-12-31")[0] is None
    assert dates.parse_day("31.12.2026") == (None, "Not a date (YYYY-MM-DD).")


@pytest.mark.parametrize("far", FAR)
def test_the_occupancy_page_says_a_far_date_and_shows_tonight(world: World, far: str) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world)
    page = world.client(LOGISTICS).get("/shelter/occupancy/", {"from": far})
    assert page.status_code == 200
    text = page.content.decode()
    problem = re.search(r'id="occupancy-problems">(.*?)</div>', text, re.S)
    assert problem and "within two years of today" in problem.group(1)
    assert page.context["first"] == hotel_today(hotel)
    assert 'id="o-from"' in text and "is-invalid" in text


@pytest.mark.parametrize("far", FAR)
def test_the_daily_list_says_a_far_day_and_its_csv_refuses_it(world: World, far: str) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world)
    client = world.client(LOGISTICS)
    page = client.get(f"/shelter/hotels/{hotel.pk}/day/", {"day": far})
    assert page.status_code == 200
    assert page.context["day"] == hotel_today(hotel)
    problem = re.search(r'id="day-problem">(.*?)</div>', page.content.decode(), re.S)
    assert problem and "within two years of today" in problem.group(1)
    csv = client.get(f"/shelter/hotels/{hotel.pk}/day.csv", {"day": far})
    assert csv.status_code == 400
    assert "within two years of today" in csv.content.decode()
    assert client.get(f"/shelter/hotels/{hotel.pk}/day.csv", {"day": "someday"}).status_code == 400


@pytest.mark.parametrize("far", FAR)
def test_the_api_refuses_a_far_date_in_its_queries(world: World, far: str) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world)
    api = world.api(LOGISTICS)
    occupancy = api.get(f"/api/hotels/{hotel.pk}/occupancy", {"from": far})
    assert occupancy.status_code == 422 and named(occupancy) == {"from"}
    assert "within two years of today" in occupancy.json()["message"] + str(
        occupancy.json()["extra"]
    )
    for url in (f"/api/hotels/{hotel.pk}/day", f"/api/hotels/{hotel.pk}/day.csv"):
        day = api.get(url, {"day": far})
        assert day.status_code == 422 and named(day) == {"day"}
    household = register_household(world, 1)
    suggest = post(
        api,
        "/api/stays/suggest",
        {"households": [household.pk], "first_night": far, "last_night": far},
    )
    assert suggest.status_code == 422 and named(suggest) >= {"first_night"}
    # Within the window: answered.
    near = (hotel_today(hotel) + timedelta(days=700)).isoformat()
    assert api.get(f"/api/hotels/{hotel.pk}/occupancy", {"from": near}).status_code == 200
    assert api.get(f"/api/hotels/{hotel.pk}/day", {"day": near}).status_code == 200


def test_a_block_with_far_nights_is_refused_on_the_form_and_in_the_api(world: World) -> None:
    hotel = make_hotel(world)
    client = world.client(LOGISTICS)
    form = {
        "room_type": "double",
        "rooms": "2",
        "first_night": "9999-12-25",
        "last_night": "9999-12-31",
        "rate": "80",
        "currency": "USD",
        "meals": "none",
        "payer": "state",
    }
    page = client.post(f"/shelter/hotels/{hotel.pk}/blocks/new/", form)
    assert page.status_code == 200
    errors = page.context["form"].errors
    assert "within two years of today" in errors["first_night"][0]
    assert "within two years of today" in errors["last_night"][0]
    api = world.api(LOGISTICS)
    body = {**form, "rooms": 2, "first_night": "0001-01-01", "last_night": "0001-01-07"}
    made = post(api, f"/api/hotels/{hotel.pk}/blocks", body)
    assert made.status_code == 400 and named(made) == {"first_night", "last_night"}
    assert not RoomBlock.objects.exists()
    block = make_block(hotel, world)
    stretched = patch(api, f"/api/blocks/{block.pk}", {"last_night": "9999-12-31"})
    assert stretched.status_code == 400 and named(stretched) == {"last_night"}
    page = client.post(f"/shelter/blocks/{block.pk}/edit/", {**form, "first_night": "2026-1-1"})
    assert page.status_code == 200 and page.context["form"].errors
    block.refresh_from_db()
    assert block.last_night == hotel_today(hotel) + timedelta(days=6)


def test_a_stay_with_far_nights_is_refused(world: World) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world)
    api = world.api(LOGISTICS)
    household = register_household(world, 2)
    housed = post(
        api,
        "/api/stays",
        {
            "household": household.pk,
            "hotel": hotel.pk,
            "first_night": "9999-12-30",
            "last_night": "9999-12-31",
        },
    )
    assert housed.status_code == 400 and named(housed) == {"first_night", "last_night"}
    assert not Stay.objects.exists()
    today = hotel_today(hotel)
    (stay,) = household_house(
        actor=None,
        crisis=world.crisis,
        household=household,
        hotel=hotel,
        first_night=today,
        last_night=today,
    )
    longer = post(api, f"/api/stays/{stay.pk}/nights", {"last_night": "9999-12-31"})
    assert longer.status_code == 400 and named(longer) == {"last_night"}
    page = world.client(LOGISTICS).get(
        "/shelter/assign/",
        {"suggest": "1", "first_night": "9999-12-30", "last_night": "9999-12-31"},
    )
    assert page.status_code == 200
    assert any("within two years of today" in e for e in page.context["errors"])


# Today at the hotel ------------------------------------------------------------------------------


def _elsewhere(day: date) -> str:
    """A server time zone where today is not `day` (one of the two always differs)."""
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        with timezone.override(zone):
            if timezone.localdate() != day:
                return zone
    raise AssertionError("no time zone differs")  # pragma: no cover


def test_the_occupancy_page_starts_tonight_at_the_hotel(world: World, settings: Any) -> None:
    hotel = make_hotel(world)  # in Baku
    make_block(hotel, world, first_night=hotel_today(hotel) - timedelta(days=1))
    settings.TIME_ZONE = _elsewhere(hotel_today(hotel))
    assert timezone.localdate() != hotel_today(hotel)
    page = world.client(LOGISTICS).get("/shelter/occupancy/")
    assert page.status_code == 200
    assert page.context["first"] == page.context["today"] == hotel_today(hotel)
    text = page.content.decode()
    assert f'data-tonight="{hotel_today(hotel).isoformat()}"' in text
    tonight = re.search(rf'<td class="([^"]*)" data-night="{hotel_today(hotel).isoformat()}"', text)
    assert tonight and "border-primary" in tonight.group(1)
    # The hotel's own page, its daily list and the API agree.
    assert world.client(LOGISTICS).get(f"/shelter/hotels/{hotel.pk}/day/").context["day"] == (
        hotel_today(hotel)
    )
    api = world.api(LOGISTICS).get(f"/api/hotels/{hotel.pk}/occupancy").json()
    assert api["nights"][0]["night"] == hotel_today(hotel).isoformat()


def test_with_hotels_in_two_time_zones_the_page_starts_at_the_earliest_tonight(
    world: World,
) -> None:
    baku = make_hotel(world)
    far = make_hotel(world, name="Hotel Far Away")
    zone = _elsewhere(hotel_today(baku))
    far.place.timezone = zone
    far.place.save()
    far.refresh_from_db()
    assert hotel_today(far) != hotel_today(baku)
    page = world.client(LOGISTICS).get("/shelter/occupancy/")
    assert page.context["first"] == min(hotel_today(baku), hotel_today(far))
    text = page.content.decode()
    for hotel in (baku, far):
        row = re.search(
            rf'<tr id="occ-hotel-{hotel.pk}"><th scope="row" data-tonight="([^"]+)"', text
        )
        assert row and row.group(1) == hotel_today(hotel).isoformat()
