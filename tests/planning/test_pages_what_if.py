"""The what-if page: as many changes as the API takes, a row at a time without JavaScript,
each row checked on its own and the whole what-if sent to the service the API uses."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import pytest

from aman.geo.models import Place
from aman.planning import services
from aman.planning.models import Plan, PlanStatus
from tests.planning.world import DAYS, at, situation

pytestmark = pytest.mark.django_db


def _row(page: str, n: int) -> str:
    """The HTML of the page's row `n` of changes (counted from 1)."""
    found = re.search(rf'<fieldset[^>]*id="change-{n}".*?</fieldset>', page, re.S)
    assert found, f"no row {n}"
    return found.group(0)


def test_another_change_is_added_without_javascript(world) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    page = client.get("/planning/what-if/").content.decode()
    assert 'id="change-1"' in page and 'id="change-2"' not in page
    assert 'name="add_change"' in page and 'name="rows" value="1"' in page
    flight = s.legs["flight"].pk
    response = client.post(
        "/planning/what-if/",
        {"days": DAYS, "rows": "1", "cancel_leg": flight, "flight_from": "EVN", "add_change": "1"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and not Plan.objects.exists()
    # What was typed is kept, unvalidated (the flight is not complete yet: no error), and
    # one empty row follows, its first field focused for the keyboard.
    assert re.search(rf'<option value="{flight}" selected>', _row(page, 1))
    assert 'value="EVN"' in _row(page, 1) and "A flight needs" not in page
    second = _row(page, 2)
    assert 'name="c1-cancel_leg"' in second and "selected>" not in second.replace(
        '<option value="" selected>', ""
    )
    assert "autofocus" in second and 'name="rows" value="2"' in page


def test_a_what_if_of_several_rows_is_one_what_if(
    world, django_capture_on_commit_callbacks
) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    departure = at(30).astimezone(ZoneInfo("Asia/Almaty")).strftime("%Y-%m-%dT%H:%M")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/planning/what-if/",
            {
                "days": DAYS,
                "rows": "3",
                "cancel_leg": s.legs["flight"].pk,
                # An empty row in between is left out.
                "c2-flight_from": "EVN",
                "c2-flight_to": "ALA",
                "c2-flight_departure": departure,
                "c2-flight_hours": "4",
                "c2-flight_seats": "100",
            },
        )
    assert response.status_code == 302
    what_if = Plan.objects.get()
    assert what_if.kind == Plan.Kind.WHAT_IF and what_if.status == PlanStatus.DRAFT
    assert [c["type"] for c in what_if.changes] == ["cancel_leg", "add_flight"]
    legs = {x["id"]: x for x in what_if.scenario["legs"]}
    assert f"leg{s.legs['flight'].pk}" not in legs and legs["whatif2"]["seats"] == 100
    page = client.get(f"/planning/{what_if.pk}/").content.decode()
    assert "cancelled" in page and "a flight of 100 seats EVN → ALA" in page


def test_each_row_shows_its_own_errors(world, django_capture_on_commit_callbacks) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    # The form's own check: the second row's flight is incomplete.
    page = client.post(
        "/planning/what-if/",
        {"days": DAYS, "rows": "2", "cancel_leg": s.legs["flight"].pk, "c1-flight_from": "EVN"},
    ).content.decode()
    assert "A flight needs where from" in _row(page, 2)
    assert "A flight needs where from" not in _row(page, 1)
    assert 'value="EVN"' in _row(page, 2)
    # The service's refusal of one change lands on the row it came from: a crossing no leg
    # reaches is refused, on its field.
    other = (
        Place.objects.filter(kind="crossing", country__code="IR")
        .exclude(code="IR-AM-NORDUZ")
        .order_by("name")
        .first()
    )
    assert other is not None
    page = client.post(
        "/planning/what-if/",
        {
            "days": DAYS,
            "rows": "2",
            "cancel_leg": s.legs["flight"].pk,
            "c1-close_crossing": other.pk,
        },
    ).content.decode()
    second = _row(page, 2)
    assert "no leg reaches that crossing" in second and "Not planned." in second
    assert 'id="id_c1-close_crossing_errors"' in second
    assert "no leg reaches" not in _row(page, 1)
    assert not Plan.objects.exists()


def test_the_page_takes_as_many_changes_as_the_api(world) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    limit = services.MAX_CHANGES
    # At the limit no row is added, and the button is gone.
    data = {"days": DAYS, "rows": str(limit), "add_change": "1"}
    page = client.post("/planning/what-if/", data).content.decode()
    assert f'id="change-{limit}"' in page and f'id="change-{limit + 1}"' not in page
    assert 'name="add_change"' not in page
    # More changes than a what-if takes are refused, saying the limit.
    data = {"days": DAYS, "rows": str(limit)}
    for i in range(limit // 2 + 1):
        prefix = f"c{i}-" if i else ""
        data[f"{prefix}cancel_leg"] = s.legs["flight"].pk
        data[f"{prefix}flight_from"] = "EVN"
        data[f"{prefix}flight_to"] = "ALA"
        data[f"{prefix}flight_departure"] = "2030-01-01T10:00"
        data[f"{prefix}flight_hours"] = "4"
    page = client.post("/planning/what-if/", data).content.decode()
    assert f"A what-if takes at most {limit} changes." in page
    assert not Plan.objects.exists()
