"""Every bad input to shelter is refused with the field named — on the pages (the form's
field), in the API (`{"message", "extra": {"errors": {field: [...]}}}` with a 4xx) — and
nothing is cut short, rewritten or saved half."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import translation

from aman.core.roles import Role
from aman.geo.models import Place
from aman.shelter.models import ExchangeRate, Hotel, RoomBlock, Stay, StayEvent, TourOperator
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household, today

pytestmark = pytest.mark.django_db

LOGISTICS = Role.LOGISTICS


def post(client: Any, url: str, body: Any, **extra: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", **extra)


def patch(client: Any, url: str, body: Any) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def refused(response: Any, status: int = 400) -> dict[str, list[str]]:
    """The fields a refusal names, with their problems."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["message"]
    return body["extra"]["errors"]


def night(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


# Tour operators ------------------------------------------------------------------------------


def test_a_bad_tour_operator_is_refused_field_by_field_and_nothing_is_saved(world: World) -> None:
    api = world.api(LOGISTICS)
    response = post(
        api,
        "/api/tour-operators",
        {"name": "N" * 250, "phone": "7" * 60, "email": "not an email", "contact": "C" * 201},
    )
    errors = refused(response)
    assert errors == {
        "name": ["At most 200 characters."],
        "contact": ["At most 200 characters."],
        "phone": ["At most 40 characters."],
        "email": ["Not an email address."],
    }
    assert "name" in response.json()["message"]
    assert not TourOperator.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "abc"),
        ("phone", "+7 727 000"),
        ("email", "a@"),
        ("email", "kompas@"),
        ("email", "x" * 250 + "@a.kz"),
        ("import_source", "L" * 101),
    ],
)
def test_each_bad_field_of_a_tour_operator_is_named(world: World, field: str, value: str) -> None:
    response = post(world.api(LOGISTICS), "/api/tour-operators", {"name": "Kompas", field: value})
    assert list(refused(response)) == [field]
    assert not TourOperator.objects.exists()


def test_a_tour_operator_keeps_its_phone_and_email_as_typed(world: World) -> None:
    made = post(
        world.api(LOGISTICS),
        "/api/tour-operators",
        # A number without a country code is read as a number of home (Kazakhstan).
        {"name": "Kompas", "phone": "8 727 258 00 00", "email": " info@kompas.kz "},
    )
    assert made.status_code == 201, made.content
    operator = TourOperator.objects.get()
    assert (operator.phone, operator.email) == ("8 727 258 00 00", "info@kompas.kz")


def test_the_tour_operator_form_shows_the_services_refusal_on_the_field(world: World) -> None:
    page = world.client(LOGISTICS).post(
        "/shelter/operators/", {"name": "Kompas", "email": "not an email", "phone": "abc"}
    )
    assert page.status_code == 200
    form = page.context["form"]
    assert form.errors["email"] == ["Not an email address."]
    assert form.errors["phone"][0].startswith("Not a valid phone number")
    assert not TourOperator.objects.exists()


# Hotels -------------------------------------------------------------------------------------


def hotel_body(**over: Any) -> dict[str, Any]:
    return {"name": "Hotel Shah Palace", "country": "AZ", "latitude": 40.36, **over}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "a@"),
        ("phone", "abc"),
        ("phone", "7" * 41),
        ("name", "N" * 201),
        ("address", "A" * 301),
        ("contact", "C" * 201),
        ("notes", "x" * 2001),
    ],
)
def test_each_bad_field_of_a_hotel_is_named_and_nothing_is_created(
    world: World, field: str, value: str
) -> None:
    response = post(world.api(LOGISTICS), "/api/hotels", hotel_body(**{field: value}))
    assert list(refused(response)) == [field]
    assert not Hotel.objects.exists()
    assert not Place.objects.filter(kind=Place.Kind.HOTEL).exists()


def test_a_hotels_phone_is_read_in_its_country(world: World) -> None:
    api = world.api(LOGISTICS)
    made = post(api, "/api/hotels", hotel_body(phone="012 497 04 04"))
    assert made.status_code == 201, made.content
    assert made.json()["phone"] == "012 497 04 04"
    hotel = Hotel.objects.get()
    # The same digits are no Turkish number: the country changes how it is read.
    moved = patch(api, f"/api/hotels/{hotel.pk}", {"country": "TR", "phone": "012 497 04 04"})
    assert list(refused(moved)) == ["phone"]
    bad = patch(api, f"/api/hotels/{hotel.pk}", {"email": "a@", "contact": "C" * 250})
    assert set(refused(bad)) == {"email", "contact"}
    hotel.refresh_from_db()
    hotel.place.refresh_from_db()
    assert (hotel.place.country.code, hotel.phone, hotel.email, hotel.contact) == (
        "AZ",
        "012 497 04 04",
        "",
        "",
    )


def test_the_hotel_form_shows_bad_phone_and_email_on_their_fields(world: World) -> None:
    page = world.client(LOGISTICS).post(
        "/shelter/hotels/new/",
        {"name": "Hotel Absheron", "country": "AZ", "phone": "abc", "email": "a@"},
    )
    assert page.status_code == 200
    assert set(page.context["form"].errors) == {"phone", "email"}
    assert not Hotel.objects.exists()


# Room blocks, stays, exchange rates ----------------------------------------------------------


def test_long_block_texts_are_refused_not_cut(world: World) -> None:
    hotel = make_hotel(world)
    api = world.api(LOGISTICS)
    body = {
        "rooms": 2,
        "first_night": night(0),
        "last_night": night(3),
        "rate": "60",
        "currency": "AZN",
        "payer": "state",
    }
    url = f"/api/hotels/{hotel.pk}/blocks"
    assert list(refused(post(api, url, {**body, "contract_ref": "R" * 101}))) == ["contract_ref"]
    assert list(refused(post(api, url, {**body, "notes": "n" * 2001}))) == ["notes"]
    assert not RoomBlock.objects.exists()
    block = make_block(hotel, world)
    assert list(refused(patch(api, f"/api/blocks/{block.pk}", {"contract_ref": "R" * 101}))) == [
        "contract_ref"
    ]
    block.refresh_from_db()
    assert block.contract_ref == "AZ-2026-001"


def test_long_stay_texts_are_refused_not_cut(world: World) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world)
    household = register_household(world, 2)
    api = world.api(LOGISTICS)
    body = {"household": household.pk, "hotel": hotel.pk, "first_night": night(0)}
    housed = post(api, "/api/stays", {**body, "last_night": night(1), "split_reason": "r" * 301})
    assert list(refused(housed)) == ["split_reason"]
    assert not Stay.objects.exists()

    housed = post(api, "/api/stays", {**body, "last_night": night(1)})
    assert housed.status_code == 201, housed.content
    stay = Stay.objects.get(pk=housed.json()[0]["id"])
    events = StayEvent.objects.filter(stay=stay).count()
    status_url = f"/api/stays/{stay.pk}/status"
    long_room = post(api, status_url, {"status": "checked_in", "room_number": "9" * 21})
    assert list(refused(long_room)) == ["room_number"]
    long_note = post(api, status_url, {"status": "cancelled", "note": "n" * 501})
    assert list(refused(long_note)) == ["note"]
    nights = post(api, f"/api/stays/{stay.pk}/nights", {"last_night": night(2), "note": "n" * 501})
    assert list(refused(nights)) == ["note"]
    stay.refresh_from_db()
    assert (stay.status, stay.room_number, stay.last_night.isoformat()) == (
        "planned",
        "",
        night(1),
    )
    assert StayEvent.objects.filter(stay=stay).count() == events

    # On the stay's page, the refusal names the field too.
    page = world.client(LOGISTICS).post(
        f"/shelter/stays/{stay.pk}/status/",
        {"status": "checked_in", "room_number": "9" * 21},
        follow=True,
    )
    assert "room_number" in page.content.decode()
    stay.refresh_from_db()
    assert stay.status == "planned"


def test_a_long_exchange_rate_source_is_refused(world: World) -> None:
    response = post(
        world.api(Role.CRISIS_MANAGER),
        "/api/exchange-rates",
        {"currency": "USD", "rate": "510", "valid_from": "2026-03-01", "source": "s" * 201},
    )
    assert list(refused(response)) == ["source"]
    assert not ExchangeRate.objects.exists()


# Nights out of order -------------------------------------------------------------------------


def test_suggesting_for_nights_out_of_order_names_last_night_in_the_users_language(
    world: World,
) -> None:
    household = register_household(world, 2)
    api = world.api(LOGISTICS)
    body = {"households": [household.pk], "first_night": night(2), "last_night": night(0)}
    for language in ("en", "ru", "kk"):
        response = post(api, "/api/stays/suggest", body, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 422, response.content
        with translation.override(language):
            problem = translation.gettext("Before the first night.")
            message = translation.gettext("Invalid input: %(field)s: %(message)s") % {
                "field": "last_night",
                "message": problem,
            }
        assert response.json()["message"] == message
        assert [(e["field"], e["message"]) for e in response.json()["extra"]["errors"]] == [
            ("last_night", problem)
        ]
    too_long = post(
        api,
        "/api/stays/suggest",
        {**body, "first_night": night(0), "last_night": night(60)},
    )
    assert [e["field"] for e in too_long.json()["extra"]["errors"]] == ["last_night"]


def test_a_plan_item_with_nights_out_of_order_is_named(world: World) -> None:
    hotel = make_hotel(world)
    household = register_household(world, 2)
    item = {"household": household.pk, "hotel": hotel.pk}
    response = post(
        world.api(LOGISTICS),
        "/api/stays/from-plan",
        {
            "plan_ref": "p",
            "items": [
                {**item, "first_night": night(0), "last_night": night(1)},
                {**item, "first_night": night(3), "last_night": night(2)},
            ],
        },
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["extra"]["errors"]] == ["items.1.last_night"]
    assert not Stay.objects.exists()
