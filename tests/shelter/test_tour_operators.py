"""Tour operators' tourists stay at their operator's cost: a list imported in the registry
(`aman import`) links its people to the operator, and housing them charges that operator —
in a block the state contracted as in one the guarantee fund pays; other people in the same
block stay on the block's payer."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from aman.core.roles import Role
from aman.registry.models import Person
from aman.shelter.models import Payer, Stay
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household, today

pytestmark = pytest.mark.django_db

TOUR_LIST = """ФИО;Дата рождения;Пол;Паспорт;Код тура
Ахметов Ерлан Серікұлы;12.03.1961;М;N11112222;KT-1001
Ахметова Сәуле;01.05.1965;Ж;N11113333;KT-1001
"""


def post(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json")


def test_a_tour_operators_tourists_are_charged_to_it(world: World, tmp_path: Path) -> None:
    path = tmp_path / "kompas.csv"
    path.write_text(TOUR_LIST, encoding="utf-8")
    out = StringIO()
    call_command(
        "import",
        str(path),
        "--crisis",
        world.crisis.code,
        "--source",
        "Kompas lists",
        "--country",
        "IR",
        stdout=out,
    )
    assert "2 accepted" in out.getvalue()
    api = world.api(Role.LOGISTICS)
    made = post(
        api, "/api/tour-operators", {"name": "Kompas Tour", "import_source": "Kompas lists"}
    )
    assert made.status_code == 201, made.json()
    operator_id = made.json()["id"]

    hotel = make_hotel(world)
    state_block = make_block(hotel, world, payer="state", rooms=2)
    tourists = Person.objects.get(given_names="Ерлан").household
    assert tourists is not None
    others = register_household(world, 2)
    body = {"first_night": today().isoformat(), "last_night": today().isoformat()}
    for household in (tourists, others):
        housed = post(api, "/api/stays", {**body, "household": household.pk, "hotel": hotel.pk})
        assert housed.status_code == 201, housed.json()
    tourist_stay = Stay.objects.get(household=tourists)
    other_stay = Stay.objects.get(household=others)
    assert tourist_stay.block == other_stay.block == state_block
    assert (tourist_stay.payer, tourist_stay.tour_operator_id) == (Payer.TOUR_OPERATOR, operator_id)
    assert (other_stay.payer, other_stay.tour_operator_id) == (Payer.STATE, None)

    # In a block the guarantee fund pays, the fund pays, charged to the tourists' operator.
    fund_hotel = make_hotel(world)
    make_block(fund_hotel, world, payer="guarantee_fund")
    moved = post(
        api, f"/api/stays/{tourist_stay.pk}/status", {"status": "cancelled", "note": "moved"}
    )
    assert moved.status_code == 200, moved.json()
    housed = post(api, "/api/stays", {**body, "household": tourists.pk, "hotel": fund_hotel.pk})
    assert housed.status_code == 201, housed.json()
    stay = Stay.objects.get(household=tourists, status="planned")
    assert (stay.payer, stay.tour_operator_id) == (Payer.GUARANTEE_FUND, operator_id)

    # The ledger charges the operator.
    page = world.client(Role.LOGISTICS).get("/shelter/ledger/")
    assert page.status_code == 200
    assert "Kompas Tour" in page.content.decode()
