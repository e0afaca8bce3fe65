"""A night costs the price agreed when it was booked: changing a room block's rate or
currency — through the API or the block's form — prices the nights booked from then on and
never reprices a night already booked, stayed or not (the cost ledger is accounting's)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.shelter import ledger as ledgers
from aman.shelter.forms import BlockForm
from aman.shelter.models import RoomBlock, Stay, StayNight
from aman.shelter.services import household_house
from tests.conftest import World
from tests.shelter.conftest import hotel_today, make_block, make_hotel, register_household

pytestmark = pytest.mark.django_db

D = Decimal
LOGISTICS = Role.LOGISTICS


def patch(client: Any, url: str, body: Any) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def post(client: Any, url: str, body: Any) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json")


def _booked(world: World) -> tuple[RoomBlock, Stay, date]:
    """A block at 80.00 USD and a family in it from three nights ago to tomorrow: three nights
    stayed, two to come."""
    hotel = make_hotel(world)
    today = hotel_today(hotel)
    block = make_block(
        hotel, world, first_night=today - timedelta(days=5), last_night=today + timedelta(days=5)
    )
    (stay,) = household_house(
        actor=world.users[LOGISTICS],
        crisis=world.crisis,
        household=register_household(world, 3),
        hotel=hotel,
        first_night=today - timedelta(days=3),
        last_night=today + timedelta(days=1),
    )
    return block, stay, today


def _by_price(lines: list[dict[str, Any]]) -> dict[tuple[str, str, Decimal], int]:
    """Room-nights of the API's ledger lines by (night, currency, rate)."""
    out: dict[tuple[str, str, Decimal], int] = {}
    for line in lines:
        key = (line["night"], line["currency"], D(line["rate"]))
        out[key] = out.get(key, 0) + line["room_nights"]
    return out


def test_a_new_rate_through_the_api_never_reprices_a_booked_night(world: World) -> None:
    block, stay, today = _booked(world)
    api = world.api(LOGISTICS)
    before = api.get("/api/ledger").json()
    assert [(m["currency"], D(m["amount"])) for m in before["total"]["currencies"]] == [
        ("USD", D("400.00"))
    ]

    response = patch(api, f"/api/blocks/{block.pk}", {"rate": "200.00", "currency": "eur"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (D(body["rate"]), body["currency"]) == (D("200.00"), "EUR")

    after = api.get("/api/ledger").json()
    # The three nights stayed and the two booked ahead: 80.00 USD each, as agreed.
    stayed = [x for x in after["lines"] if x["stayed"]]
    assert sum(x["room_nights"] for x in stayed) == 3
    assert {(x["currency"], D(x["rate"])) for x in after["lines"]} == {("USD", D("80.00"))}
    assert after["total"] == before["total"]
    assert after["lines"] == before["lines"]
    assert body["booked_at_another_price"] == 5
    entry = AuditEntry.objects.filter(verb="block_update").latest("id")
    assert entry.changes["rate"] == ["80.00", "200.00"]
    assert entry.changes["nights_keeping_their_price"] == 5

    # A night added to the stay now is booked now: at the new price.
    extended = post(
        api, f"/api/stays/{stay.pk}/nights", {"last_night": (today + timedelta(days=2)).isoformat()}
    )
    assert extended.status_code == 200, extended.content
    # So is a new household's stay.
    (other,) = household_house(
        actor=None,
        crisis=world.crisis,
        household=register_household(world, 2),
        hotel=block.hotel,
        first_night=today - timedelta(days=1),
        last_night=today - timedelta(days=1),
    )
    lines = _by_price(api.get("/api/ledger").json()["lines"])
    yesterday = (today - timedelta(days=1)).isoformat()
    assert lines[(yesterday, "USD", D("80.00"))] == 1  # the family, booked before the change
    assert lines[(yesterday, "EUR", D("200.00"))] == 1  # the new household, booked after
    assert lines[((today + timedelta(days=2)).isoformat(), "EUR", D("200.00"))] == 1
    totals = api.get("/api/ledger").json()["total"]["currencies"]
    assert [(m["currency"], m["room_nights"], D(m["amount"])) for m in totals] == [
        ("EUR", 2, D("400.00")),
        ("USD", 5, D("400.00")),
    ]
    prices = set(StayNight.objects.filter(stay=other).values_list("rate", "currency"))
    assert prices == {(D("200.00"), "EUR")}


def test_a_new_rate_on_the_blocks_form_never_reprices_a_booked_night(world: World) -> None:
    block, _stay, today = _booked(world)
    client = world.client(LOGISTICS)
    page = client.get(f"/shelter/blocks/{block.pk}/edit/")
    assert page.status_code == 200
    data = {k: ("" if v is None else v) for k, v in BlockForm.initial_for(block).items()}
    data.update(rate="200.00", currency="EUR")
    response = client.post(f"/shelter/blocks/{block.pk}/edit/", data, follow=True)
    assert response.status_code == 200
    block.refresh_from_db()
    assert (block.rate, block.currency) == (D("200.00"), "EUR")

    book = client.get("/shelter/ledger/").context["ledger"]
    stayed = [x for x in book.lines if x.stayed]
    assert sum(x.room_nights for x in stayed) == 3
    assert {(x.currency, x.rate) for x in book.lines} == {("USD", D("80.00"))}
    assert [(m.currency, m.amount) for m in book.grand.currencies] == [("USD", D("400.00"))]
    # The night before yesterday, a night stayed, costs what it cost.
    night = today - timedelta(days=2)
    (line,) = [x for x in book.lines if x.night == night]
    assert (line.currency, line.rate, line.amount) == ("USD", D("80.00"), D("80.00"))
    # The officer is told, on the form and after saving; the hotel page says it too.
    assert "keep the price they were booked at" in page.content.decode()
    text = response.content.decode()
    assert "5 room-nights booked already keep the price they were booked at" in text
    assert "5 room-nights booked at an earlier price keep it" in text


def test_the_ledger_prices_each_night_at_its_own_price(world: World) -> None:
    """Two nights of one block and one night, booked at two prices: one line per price."""
    block, _stay, today = _booked(world)
    patch(world.api(LOGISTICS), f"/api/blocks/{block.pk}", {"rate": "90.50"})
    household_house(
        actor=None,
        crisis=world.crisis,
        household=register_household(world, 1),
        hotel=block.hotel,
        first_night=today,
        last_night=today,
    )
    book = ledgers.ledger_build(crisis=world.crisis)
    tonight = sorted((x.rate, x.room_nights, x.amount) for x in book.lines if x.night == today)
    assert tonight == [(D("80.00"), 1, D("80.00")), (D("90.50"), 1, D("90.50"))]
    assert book.grand.by_currency["USD"].amount == D("80.00") * 5 + D("90.50")
