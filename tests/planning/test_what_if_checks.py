"""A what-if's changes that would change nothing are refused, each on its field (a closure
over before the plan starts or after it ends, a flight outside the plan's days, a flight
out of the home country, a flight that lands before it departs); a what-if's title is
said in the reader's language, whoever made it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from aman.geo.models import Place
from aman.planning import services
from aman.planning.models import Plan
from tests.planning.test_pages_what_if import _row
from tests.planning.world import DAYS, at, situation

pytestmark = pytest.mark.django_db


def post(client, path: str, body: dict, **headers: Any) -> Any:
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def _flight(**more: Any) -> dict[str, Any]:
    return {
        "type": "add_flight",
        "from": "EVN",
        "to": "ALA",
        "departure": at(30).isoformat(),
        "arrival": at(34).isoformat(),
        "seats": 100,
        **more,
    }


def _closure(crossing: Place, **more: Any) -> dict[str, Any]:
    return {"type": "close_crossing", "crossing": crossing.pk, **more}


NORDUZ = "IR-AM-NORDUZ"
LONG_AGO = {"from": "2020-01-01T00:00", "to": "2020-01-02T00:00"}


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        (
            lambda n: _closure(n, **LONG_AGO),
            "to",
            "the closure ends before the plan starts: it changes nothing",
        ),
        (
            lambda n: _closure(
                n, **{"from": (timezone.now() + timedelta(days=DAYS + 1)).isoformat()}
            ),
            "from",
            "the closure starts after the plan's end: it changes nothing",
        ),
        (
            lambda n: _flight(departure=at(300).isoformat(), arrival=at(303).isoformat()),
            "departure",
            "the flight departs outside the plan's days",
        ),
        (
            lambda n: _flight(**{"from": "ALA", "to": "EVN"}),
            "from",
            "the flight leaves from the home country",
        ),
        (
            lambda n: _flight(arrival=at(29).isoformat()),
            "arrival",
            "the flight arrives before it departs",
        ),
        (lambda n: _flight(to="EVN"), "to", "the flight lands where it departs"),
    ],
)
def test_a_change_that_does_nothing_is_refused_on_its_field(
    world, change: Any, field: str, says: str
) -> None:
    situation(world.crisis, households=2, bus_seats=10)
    norduz = Place.objects.get(code=NORDUZ)
    response = post(
        world.api("logistics"),
        "/api/plans",
        {"kind": "what_if", "days": DAYS, "changes": [change(norduz)]},
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert says in body["message"] and body["message"].startswith("Change 1: ")
    assert list(body["extra"]["errors"]) == [field]
    assert body["extra"]["change"] == 0
    assert not Plan.objects.exists()


def test_a_change_within_the_plans_days_still_runs(world, django_capture_on_commit_callbacks):
    situation(world.crisis, households=2, bus_seats=10)
    norduz = Place.objects.get(code=NORDUZ)
    # A closure that began before the plan's start and lasts into it counts.
    since = (timezone.now() - timedelta(days=1)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            world.api("logistics"),
            "/api/plans",
            {
                "kind": "what_if",
                "days": DAYS,
                "changes": [_closure(norduz, **{"from": since}), _flight()],
            },
        )
    assert response.status_code == 202, response.content


def test_the_page_shows_each_refusal_on_its_field(world) -> None:
    situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    almaty = ZoneInfo("Asia/Almaty")
    page = client.post(
        "/planning/what-if/",
        {
            "days": DAYS,
            "rows": "1",
            "flight_from": "ALA",
            "flight_to": "EVN",
            "flight_departure": at(30).astimezone(almaty).strftime("%Y-%m-%dT%H:%M"),
            "flight_hours": "4",
        },
    ).content.decode()
    row = _row(page, 1)
    assert "the flight leaves from the home country" in row
    assert 'id="id_flight_from_errors"' in row
    page = client.post(
        "/planning/what-if/",
        {
            "days": DAYS,
            "rows": "1",
            "flight_from": "EVN",
            "flight_to": "ALA",
            "flight_departure": at(300).strftime("%Y-%m-%dT%H:%M"),
            "flight_hours": "4",
        },
    ).content.decode()
    row = _row(page, 1)
    assert "the flight departs outside the plan&#x27;s days" in row
    assert 'id="id_flight_departure_errors"' in row
    assert not Plan.objects.exists()


def test_a_what_ifs_title_is_said_in_the_readers_language(
    world, django_capture_on_commit_callbacks
) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    api = world.api("logistics")
    # Made by an officer reading Russian...
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            api,
            "/api/plans",
            {
                "kind": "what_if",
                "days": DAYS,
                "changes": [{"type": "cancel_leg", "leg": s.legs["flight"].pk}, _flight()],
            },
            HTTP_ACCEPT_LANGUAGE="ru",
        )
    assert response.status_code == 202, response.content
    plan = Plan.objects.get(pk=response.json()["id"])
    # ...read in English, in the API and on the pages.
    english = api.get(f"/api/plans/{plan.pk}", HTTP_ACCEPT_LANGUAGE="en").json()["title"]
    flight = s.legs["flight"]
    assert english.startswith(f"leg {flight} cancelled; a flight of 100 seats EVN → ALA at ")
    listed = api.get("/api/plans", HTTP_ACCEPT_LANGUAGE="en").json()["items"][0]
    assert listed["title"] == english
    client = world.client("logistics")
    client.cookies["django_language"] = "en"
    assert english in client.get(f"/planning/{plan.pk}/").content.decode()
    assert english in client.get("/planning/").content.decode()
    # A plan without its changes (kept only in words) keeps its title as it was.
    Plan.objects.filter(pk=plan.pk).update(changes=[], title="как было")
    assert api.get(f"/api/plans/{plan.pk}").json()["title"] == "как было"
    assert services.plan_title(Plan.objects.get(pk=plan.pk)) == "как было"
