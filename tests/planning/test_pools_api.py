"""Bus pools through the REST API: list, read, add (idempotent), change, delete — each rule
refused with a 400 naming its field, another crisis's pool not there, audited writes, and
the next plan's inputs taking the pool as it is now."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from aman.core.models import AuditEntry
from aman.geo.models import Place
from aman.planning import inputs
from aman.planning.models import BusPool

pytestmark = pytest.mark.django_db


def send(client, method: str, path: str, body: Any = None, **headers):
    if method == "get":
        return client.get(path, **headers)
    return getattr(client, method)(
        path, data=json.dumps(body or {}), content_type="application/json", **headers
    )


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same pool (times aside: a create's answer has them to the microsecond)."""
    times = ("created_at", "updated_at")
    return {k: v for k, v in a.items() if k not in times} == {
        k: v for k, v in b.items() if k not in times
    }


def body(**changes: Any) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "origin": str(Place.objects.get(kind="city", name="Tehran").pk),
        "destination": "IR-AZ-ASTARA",
        "buses_per_day": 3,
        "seats": 45,
        "travel_minutes": 600,
        "departures": ["14:00", "06:00"],
        "first_day": today.isoformat(),
        "last_day": (today + timedelta(days=3)).isoformat(),
        "escort": True,
        "carrier": "Tabriz Bus",
        "cost_per_seat": "12000.50",
        **changes,
    }


def test_add_read_list_change_and_delete(world) -> None:
    api = world.api("logistics")
    created = send(api, "post", "/api/pools", body())
    assert created.status_code == 201, created.content
    pool = created.json()
    assert pool["origin"]["name"] == "Tehran" and pool["destination"]["code"] == "IR-AZ-ASTARA"
    assert pool["departures"] == ["06:00", "14:00"] and pool["travel_minutes"] == 600
    assert pool["escort"] is True and pool["cost_per_seat"] == "12000.50"
    assert pool["crisis_id"] == world.crisis.pk

    assert same(api.get(f"/api/pools/{pool['id']}").json(), pool)
    listed = api.get(f"/api/pools?crisis={world.crisis.pk}").json()
    assert listed["count"] == 1 and same(listed["items"][0], pool)

    # Any field; a place by its airport code (Baku, beyond the Astara crossing).
    changed = send(
        api,
        "patch",
        f"/api/pools/{pool['id']}",
        {"destination": "GYD", "seats": 30, "departures": ["07:30"], "carrier": ""},
    )
    assert changed.status_code == 200, changed.content
    out = changed.json()
    assert out["destination"]["id"] == Place.objects.get(iata="GYD").pk and out["seats"] == 30
    assert out["departures"] == ["07:30"] and out["carrier"] == ""
    assert out["buses_per_day"] == 3 and out["origin"] == pool["origin"]  # as they were
    entry = AuditEntry.objects.get(verb="pool_update")
    assert entry.changes["seats"] == [45, 30] and entry.changes["departures"] == [
        "06:00,14:00",
        "07:30",
    ]
    assert entry.actor == world.users["logistics"] and entry.crisis == world.crisis

    deleted = send(api, "delete", f"/api/pools/{pool['id']}")
    assert deleted.status_code == 204
    assert not BusPool.objects.exists()
    assert AuditEntry.objects.filter(verb="pool_delete", object_id=str(pool["id"])).exists()
    assert api.get(f"/api/pools/{pool['id']}").status_code == 404


def test_a_place_by_its_number(world) -> None:
    tehran = Place.objects.get(kind="city", name="Tehran")
    response = send(world.api("logistics"), "post", "/api/pools", body(origin=tehran.pk))
    assert response.status_code == 201, response.content
    assert response.json()["origin"]["id"] == tehran.pk


def test_a_retried_add_makes_one_pool(world) -> None:
    api = world.api("logistics")
    first = send(api, "post", "/api/pools", body(), HTTP_IDEMPOTENCY_KEY="pool-1")
    again = send(api, "post", "/api/pools", body(), HTTP_IDEMPOTENCY_KEY="pool-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and BusPool.objects.count() == 1
    other = send(api, "post", "/api/pools", body(seats=20), HTTP_IDEMPOTENCY_KEY="pool-1")
    assert other.status_code == 400 and "different request" in other.json()["message"]
    assert BusPool.objects.count() == 1
    assert AuditEntry.objects.filter(verb="pool_create").count() == 1


FAR = (timezone.localdate() + timedelta(days=800)).isoformat()


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"origin": "Nowhere"}, "origin", "No place “Nowhere”"),
        ({"origin": ""}, "origin", "Required."),
        # Almaty's airport: not of the crisis's countries nor beyond its crossings.
        ({"destination": "ALA"}, "destination", "is not a place of this crisis for buses"),
        ({"destination": "IKA"}, None, None),  # Tehran's airport: fine
        ({"destination": "Tehran"}, "destination", "No place"),
        ({"destination": "__origin__"}, "destination", "must differ from the origin"),
        ({"buses_per_day": 0}, "buses_per_day", "From 1 to 500."),
        ({"buses_per_day": 501}, "buses_per_day", "From 1 to 500."),
        ({"seats": 0}, "seats", "From 1 to 100."),
        ({"seats": 101}, "seats", "From 1 to 100."),
        ({"buses_per_day": 50, "seats": 41}, "buses_per_day", "At most 2,000 seats a day"),
        ({"travel_minutes": 29}, "travel_minutes", "From 30 minutes to 72 hours"),
        ({"travel_minutes": 4321}, "travel_minutes", "From 30 minutes to 72 hours"),
        ({"departures": []}, "departures", "At least one departure time."),
        ({"departures": ["06:00", "25:00"]}, "departures", "“25:00” is not a time like 06:00."),
        ({"departures": ["6"]}, "departures", "“6” is not a time like 06:00."),
        ({"departures": ["06:00:00"]}, "departures", "is not a time like 06:00"),
        (
            {"departures": [f"{h:02d}:{m}" for h in range(24) for m in ("00", "30")]},
            "departures",
            "At most 24 departure times a day.",
        ),
        ({"first_day": FAR}, "first_day", "A date within two years of today"),
        ({"last_day": FAR}, "last_day", "A date within two years of today"),
        ({"last_day": "__yesterday__"}, "last_day", "Not before the first day."),
        ({"carrier": "x" * 201}, "carrier", "At most 200 characters."),
        ({"cost_per_seat": "-1"}, "cost_per_seat", "Out of range."),
        ({"cost_per_seat": "100000000"}, "cost_per_seat", "At most 99,999,999.99."),
    ],
)
def test_each_rule_is_a_400_naming_its_field(world, changes, field, says) -> None:
    data = body(**changes)
    if data["destination"] == "__origin__":
        data["destination"] = data["origin"]
    if data["last_day"] == "__yesterday__":
        data["last_day"] = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = send(world.api("logistics"), "post", "/api/pools", data)
    if field is None:
        assert response.status_code == 201, response.content
        return
    assert response.status_code == 400, response.content
    out = response.json()
    assert list(out["extra"]["errors"]) == [field], out
    assert says in out["extra"]["errors"][field][0]
    assert out["message"].startswith(f"The bus pool was not saved: {field}: ")
    assert not BusPool.objects.exists()


def test_every_bad_field_at_once(world) -> None:
    response = send(
        world.api("logistics"),
        "post",
        "/api/pools",
        body(origin="Nowhere", seats=0, departures=["x"], travel_minutes=1),
    )
    assert response.status_code == 400
    assert set(response.json()["extra"]["errors"]) == {
        "origin",
        "seats",
        "departures",
        "travel_minutes",
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"buses_per_day": "many"}, "buses_per_day"), ({"first_day": "soon"}, "first_day")],
)
def test_a_value_of_the_wrong_type_is_the_schema_s_422(world, changes, field) -> None:
    response = send(world.api("logistics"), "post", "/api/pools", body(**changes))
    assert response.status_code == 422
    assert response.json()["extra"]["errors"][0]["field"] == field


def test_a_change_is_checked_with_what_it_leaves(world) -> None:
    api = world.api("logistics")
    pool = send(api, "post", "/api/pools", body()).json()
    path = f"/api/pools/{pool['id']}"
    before = timezone.localdate() - timedelta(days=1)
    for change, field, says in [
        ({"last_day": before.isoformat()}, "last_day", "Not before the first day."),
        ({"destination": pool["origin"]["id"]}, "destination", "must differ from the origin"),
        ({"seats": 100, "buses_per_day": 21}, "buses_per_day", "At most 2,000 seats a day"),
        ({"buses_per_day": 45}, "buses_per_day", "At most 2,000 seats a day"),  # × 45 seats
        ({"seats": None}, "seats", "From 1 to 100."),
        ({"escort": None}, "escort", "Yes or no."),
        ({"departures": ["noon"]}, "departures", "“noon” is not a time"),
    ]:
        response = send(api, "patch", path, change)
        assert response.status_code == 400, (change, response.content)
        assert list(response.json()["extra"]["errors"]) == [field], change
        assert says in response.json()["extra"]["errors"][field][0]
    nothing = send(api, "patch", path, {})
    assert nothing.status_code == 400 and nothing.json()["message"] == "Nothing to change."
    assert same(api.get(path).json(), pool)
    assert not AuditEntry.objects.filter(verb="pool_update").exists()
    # The same values again: nothing changes, nothing is audited.
    again = send(api, "patch", path, {"seats": 45})
    assert again.status_code == 200 and not AuditEntry.objects.filter(verb="pool_update").exists()


def test_another_crisis_s_pool_is_not_there(world) -> None:
    api = world.api("crisis_manager")
    dubai = Place.objects.get(kind="city", name="Dubai")
    theirs = BusPool.objects.create(
        crisis=world.other_crisis,
        origin=dubai,
        destination=Place.objects.get(iata="DXB"),
        buses_per_day=1,
        seats=10,
        travel_minutes=60,
        departures="08:00",
        first_day=timezone.localdate(),
        last_day=timezone.localdate(),
    )
    for method, data in (("get", None), ("patch", {"seats": 20}), ("delete", None)):
        response = send(api, method, f"/api/pools/{theirs.pk}", data)
        assert response.status_code == 404, method
        assert response.json() == {"message": "Not found.", "extra": {}}
    assert api.get("/api/pools").json()["count"] == 0
    theirs.refresh_from_db()
    assert theirs.seats == 10
    # Named with its crisis, it is that crisis's pool — whose places are that crisis's.
    path = f"/api/pools/{theirs.pk}?crisis={world.other_crisis.pk}"
    assert api.get(path).json()["id"] == theirs.pk
    refused = send(api, "patch", path, {"destination": "IR-AZ-ASTARA"})
    assert refused.status_code == 400 and "destination" in refused.json()["extra"]["errors"]


def test_roles_without_the_planner_s_capability_are_refused(world) -> None:
    for persona in ("operator", "consul", "duty_officer", "partner_liaison"):
        api = world.api(persona)
        assert send(api, "post", "/api/pools", body()).status_code == 403, persona
        assert api.get("/api/pools").status_code == 403, persona
    assert not BusPool.objects.exists()


def test_the_next_plan_takes_the_pool_as_changed_through_the_api(world) -> None:
    api = world.api("logistics")
    pool = send(api, "post", "/api/pools", body()).json()
    send(
        api,
        "patch",
        f"/api/pools/{pool['id']}",
        {"buses_per_day": 5, "departures": ["08:15", "20:00"], "travel_minutes": 450},
    )
    exported = inputs.export(world.crisis, days=7).data
    (out,) = exported["bus_pools"]
    assert out["id"] == f"pool{pool['id']}"
    assert out["buses_per_day"] == 5 and out["seats"] == 45
    assert out["departures"] == ["08:15", "20:00"] and out["travel_minutes"] == 450
    assert out["escort"] is True and out["cost_per_seat"] == 12000.5
    assert "buses_by_day" not in out
    send(api, "delete", f"/api/pools/{pool['id']}")
    assert inputs.export(world.crisis, days=7).data["bus_pools"] == []
