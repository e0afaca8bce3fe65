"""The API's one error shape, validation errors, and Idempotency-Key on creates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from aman.core.models import AuditEntry, Crisis, Mission
from aman.core.roles import Role
from tests.conftest import World


def post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(
        path, data=json.dumps(body), content_type="application/json", headers=headers
    )


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert (
        set(body) == {"message", "extra"} and isinstance(body["message"], str) and body["message"]
    )
    assert isinstance(body["extra"], dict)
    return body


@pytest.fixture
def api(world: World) -> Client:
    return world.api(Role.CRISIS_MANAGER)


def test_every_kind_of_4xx_has_the_error_shape(world: World, api: Client) -> None:
    assert_error_shape(Client().get("/api/crises"), 401)
    assert_error_shape(Client(HTTP_AUTHORIZATION="Bearer aman_forged").get("/api/me"), 401)
    assert_error_shape(world.api(Role.OBSERVER).get("/api/audit"), 403)
    assert_error_shape(api.get("/api/crises/999999"), 404)
    assert_error_shape(api.get("/api/no/such/thing"), 404)
    assert_error_shape(api.delete("/api/crises"), 405)
    assert_error_shape(
        api.post("/api/crises", data="{not json", content_type="application/json"), 400
    )
    assert_error_shape(post(api, f"/api/crises/{world.crisis.pk}/open", {}), 409)
    assert_error_shape(api.get("/api/crises?status=burning"), 422)


def test_validation_errors_name_the_field(api: Client) -> None:
    body = assert_error_shape(post(api, "/api/crises", {"name": "", "affected_countries": []}), 422)
    fields = {e["field"] for e in body["extra"]["errors"]}
    assert {"name", "affected_countries"} <= fields
    body = assert_error_shape(
        post(api, "/api/crises", {"name": "X", "affected_countries": ["XX", "IR"]}), 400
    )
    assert body["extra"] == {"affected_countries": ["XX"]}
    assert "XX" in body["message"]
    body = assert_error_shape(
        post(api, "/api/crises", {"name": "X", "affected_countries": ["IR"], "retention_days": 0}),
        422,
    )
    assert body["extra"]["errors"][0]["field"] == "retention_days"
    assert not Crisis.objects.filter(name="X").exists()


def test_a_duplicate_code_is_a_clear_error(world: World, api: Client) -> None:
    body = assert_error_shape(
        post(
            api,
            "/api/crises",
            {"name": "Dup", "code": world.crisis.code, "affected_countries": ["IR"]},
        ),
        400,
    )
    assert "code" in body["extra"]


def test_create_read_update_open_close(api: Client) -> None:
    created = post(api, "/api/crises", {"name": "Lebanon 2026", "affected_countries": ["lb", "SY"]})
    assert created.status_code == 201
    crisis = created.json()
    assert crisis["status"] == "draft" and crisis["home_country"] == "KZ"
    assert crisis["affected_countries"] == ["LB", "SY"] and crisis["code"].startswith(
        "lebanon-2026"
    )
    pk = crisis["id"]
    patched = api.patch(
        f"/api/crises/{pk}",
        data=json.dumps({"retention_days": 60, "affected_countries": ["LB"]}),
        content_type="application/json",
    )
    assert patched.status_code == 200 and patched.json()["retention_days"] == 60
    assert patched.json()["affected_countries"] == ["LB"]
    assert post(api, f"/api/crises/{pk}/open", {}).json()["status"] == "open"
    closed = post(api, f"/api/crises/{pk}/close", {}).json()
    assert closed["status"] == "closed" and closed["closed_at"]
    assert api.get(f"/api/crises/{pk}").json()["status"] == "closed"
    assert list(
        AuditEntry.objects.filter(object_type="core.crisis", object_id=str(pk))
        .order_by("id")
        .values_list("verb", "via")
    ) == [
        ("crisis_create", "api"),
        ("crisis_update", "api"),
        ("crisis_open", "api"),
        ("crisis_close", "api"),
    ]


def test_a_retried_create_returns_the_first_result_and_creates_nothing(api: Client) -> None:
    body = {"name": "Retry 2026", "affected_countries": ["IR"]}
    first = post(api, "/api/crises", body, **{"Idempotency-Key": "k-1"})
    again = post(api, "/api/crises", body, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Crisis.objects.filter(name="Retry 2026").count() == 1
    other = post(api, "/api/crises", body, **{"Idempotency-Key": "k-2"})
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_a_key_reused_for_another_request_is_refused(api: Client) -> None:
    post(api, "/api/missions", {"name": "Baku", "country": "AZ"}, **{"Idempotency-Key": "m-1"})
    body = assert_error_shape(
        post(
            api, "/api/missions", {"name": "Ankara", "country": "TR"}, **{"Idempotency-Key": "m-1"}
        ),
        400,
    )
    assert "different request" in body["message"]
    assert not Mission.objects.filter(name="Ankara").exists()


def test_a_failed_create_is_not_remembered(api: Client) -> None:
    bad = post(
        api, "/api/missions", {"name": "Baku", "country": "QQ"}, **{"Idempotency-Key": "m-2"}
    )
    assert bad.status_code == 400
    good = post(
        api, "/api/missions", {"name": "Baku", "country": "AZ"}, **{"Idempotency-Key": "m-2"}
    )
    assert good.status_code == 201 and good.json()["area"] == ["AZ"]


def test_keys_belong_to_their_user(world: World) -> None:
    body = {"name": "Shared key", "affected_countries": ["IR"]}
    a = post(world.api(Role.CRISIS_MANAGER), "/api/crises", body, **{"Idempotency-Key": "same"})
    b = post(world.api("superuser"), "/api/crises", body, **{"Idempotency-Key": "same"})
    assert a.json()["id"] != b.json()["id"]


def test_consuls_see_only_their_missions_crises(world: World) -> None:
    consul = world.api(Role.CONSUL)
    listed = consul.get("/api/crises").json()
    assert [c["id"] for c in listed["items"]] == [world.crisis.pk] and listed["count"] == 1
    missions = consul.get("/api/missions").json()
    assert [m["id"] for m in missions["items"]] == [world.tehran.pk]


def test_lists_are_paginated(world: World) -> None:
    page = world.api(Role.OBSERVER).get("/api/geo/countries?limit=10&offset=10").json()
    assert page["count"] >= 249 and len(page["items"]) == 10


def test_places_search_in_either_script_and_by_code(world: World) -> None:
    api = world.api(Role.OPERATOR)
    by_cyrillic = api.get("/api/geo/places", {"q": "Тегеран", "kind": "city"}).json()
    assert "Tehran" in [p["name"] for p in by_cyrillic["items"]]
    by_iata = api.get("/api/geo/places", {"q": "gyd"}).json()["items"]
    assert by_iata[0]["icao"] == "UBBB" and by_iata[0]["kind"] == "airport"
    crossings = api.get("/api/geo/places", {"kind": "crossing", "country": "AZ"}).json()
    assert crossings["count"] == 3
    assert {p["entry_country"] for p in crossings["items"]} == {"AZ"}


def test_crossing_status_and_figures_through_the_api(world: World) -> None:
    from aman.geo.models import Place

    api = world.api(Role.LOGISTICS)
    pk = Place.objects.get(code="IR-AM-NORDUZ").pk
    bad = post(api, f"/api/geo/places/{pk}/status", {"status": "closed"})
    assert_error_shape(bad, 400)
    assert "reason" in bad.json()["extra"]
    assert_error_shape(
        post(api, f"/api/geo/places/{pk}/status", {"status": "shut", "reason": "x"}), 400
    )
    ok = post(
        api, f"/api/geo/places/{pk}/status", {"status": "closed", "reason": "Armenian side closed"}
    )
    assert ok.status_code == 200
    assert ok.json()["status"] == "closed"
    assert ok.json()["status_history"][0]["reason"] == "Armenian side closed"
    patched = api.patch(
        f"/api/geo/crossings/{pk}",
        data=json.dumps({"hours": "08:00-20:00"}),
        content_type="application/json",
    )
    assert patched.json()["hours"] == "08:00-20:00"
    bad_hours = api.patch(
        f"/api/geo/crossings/{pk}",
        data=json.dumps({"hours": "8 to 8"}),
        content_type="application/json",
    )
    assert_error_shape(bad_hours, 400)


def test_the_openapi_document_describes_every_router(client: Client) -> None:
    doc = client.get("/api/openapi.json").json()
    assert doc["info"]["title"] == "Aman API"
    assert {"/api/crises", "/api/missions", "/api/geo/places", "/api/audit", "/api/me"} <= set(
        doc["paths"]
    )


def test_a_body_over_the_limit_is_413_naming_the_limit(world: World, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
    big = {
        "members": [{"surname": "Ким", "given_names": "Ольга", "needs_note": "x" * 2_200_000}],
        "location": {"country": "IR"},
        "consent": True,
    }
    api = world.api(Role.OPERATOR)
    body = assert_error_shape(post(api, f"/api/registrations?crisis={world.crisis.pk}", big), 413)
    assert "2.0\xa0MB" in body["message"] and body["extra"] == {"limit_bytes": 2 * 1024 * 1024}
    person = world.people["IR"]
    response = api.patch(
        f"/api/people/{person}", data=json.dumps(big), content_type="application/json"
    )
    assert_error_shape(response, 413)


def test_a_missing_crisis_is_said_in_the_clients_language(world: World) -> None:
    from aman.core.models import User

    User.objects.filter(pk=world.users[Role.OPERATOR].pk).update(current_crisis=None)
    api = world.api(Role.OPERATOR)
    body = assert_error_shape(api.get("/api/people", headers={"Accept-Language": "ru"}), 400)
    assert body["extra"]["crisis"] == ["Обязательное поле."], body
