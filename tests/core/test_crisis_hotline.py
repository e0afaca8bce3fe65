"""A crisis's hotline number, set where crises are made and changed — the crisis pages, the
API, the command line — normalised to E.164 as the registry reads phones, refused with a
clear error when it is not a number, and audited like the crisis's other fields."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aman.core.models import AuditEntry, Crisis
from aman.core.roles import Role
from tests.api.test_errors_and_idempotency import assert_error_shape
from tests.conftest import World
from tests.factories import country


def _send(client: Any, method: str, path: str, body: dict[str, Any]) -> Any:
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def test_the_api_sets_reads_and_clears_the_hotline(world: World) -> None:
    api = world.api(Role.CRISIS_MANAGER)
    created = _send(
        api,
        "post",
        "/api/crises",
        {
            "name": "Yemen 2026",
            "affected_countries": ["IR"],
            # Without a country code: a number of the home country (KZ).
            "hotline_phone": "8 7172 72 00 00",
            "hotline_note": " 24/7 ",
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["hotline_phone"], body["hotline_note"]) == ("+77172720000", "24/7")
    crisis_id = body["id"]
    got = api.get(f"/api/crises/{crisis_id}").json()
    assert (got["hotline_phone"], got["hotline_note"]) == ("+77172720000", "24/7")
    [entry] = AuditEntry.objects.filter(verb="crisis_create", object_id=str(crisis_id))
    assert entry.changes["hotline_phone"] == [None, "+77172720000"]

    patched = _send(
        api, "patch", f"/api/crises/{crisis_id}", {"hotline_phone": "+994 12 345 67 89"}
    )
    assert patched.status_code == 200 and patched.json()["hotline_phone"] == "+994123456789"
    entry = AuditEntry.objects.filter(verb="crisis_update", object_id=str(crisis_id)).get()
    assert entry.changes == {"hotline_phone": ["+77172720000", "+994123456789"]}

    cleared = _send(api, "patch", f"/api/crises/{crisis_id}", {"hotline_phone": ""})
    assert cleared.status_code == 200 and cleared.json()["hotline_phone"] == ""
    assert Crisis.objects.get(pk=crisis_id).hotline_note == "24/7", "the note is its own field"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("12345", "Not a valid phone number"),
        ("+7 000 000 00 00", "Not a valid phone number"),
        ("+7 7172 72 00 00 ext. 5", "without an extension"),
    ],
)
def test_the_api_refuses_a_number_that_is_not_one(world: World, number: str, message: str) -> None:
    api = world.api(Role.CRISIS_MANAGER)
    path = f"/api/crises/{world.crisis.pk}"
    body = assert_error_shape(_send(api, "patch", path, {"hotline_phone": number}), 400)
    assert message in body["message"]
    assert list(body["extra"]) == ["hotline_phone"] and message in body["extra"]["hotline_phone"][0]
    created = _send(
        api,
        "post",
        "/api/crises",
        {"name": "X", "affected_countries": ["IR"], "hotline_phone": number},
    )
    assert_error_shape(created, 400)
    assert not Crisis.objects.filter(name="X").exists()
    world.crisis.refresh_from_db()
    assert world.crisis.hotline_phone == ""
    assert not AuditEntry.objects.filter(verb="crisis_update").exists()


def test_the_api_describes_the_hotline_in_its_schema(world: World) -> None:
    schemas = (
        world.api(Role.CRISIS_MANAGER).get("/api/openapi.json").json()["components"]["schemas"]
    )
    for name in ("CrisisOut", "CrisisIn", "CrisisPatch"):
        assert {"hotline_phone", "hotline_note"} <= set(schemas[name]["properties"]), name
    assert "E.164" in schemas["CrisisOut"]["properties"]["hotline_phone"]["description"]


def test_the_crisis_pages_set_and_show_the_hotline(world: World) -> None:
    client = world.client(Role.CRISIS_MANAGER)
    form = {
        "name": world.crisis.name,
        "code": world.crisis.code,
        "home_country": country("KZ").pk,
        "affected_countries": [country("IR").pk, country("IQ").pk],
        "retention_days": 180,
        "hotline_phone": "+7 (7172) 72-00-00",
        "hotline_note": "24/7, Kazakh and Russian",
    }
    refused = client.post(f"/crises/{world.crisis.pk}/edit/", {**form, "hotline_phone": "12345"})
    assert refused.status_code == 200 and "Not a valid phone number" in refused.content.decode()
    world.crisis.refresh_from_db()
    assert world.crisis.hotline_phone == ""
    saved = client.post(f"/crises/{world.crisis.pk}/edit/", form)
    assert saved.status_code == 302
    world.crisis.refresh_from_db()
    assert world.crisis.hotline_phone == "+77172720000"
    detail = client.get(f"/crises/{world.crisis.pk}/").content.decode()
    assert '<a href="tel:+77172720000">+7 7172 72 00 00</a> (24/7, Kazakh and Russian)' in detail
    # The edit form shows the number written for reading; saving it again changes nothing.
    edit = client.get(f"/crises/{world.crisis.pk}/edit/").content.decode()
    assert 'value="+7 7172 72 00 00"' in edit
    client.post(f"/crises/{world.crisis.pk}/edit/", {**form, "hotline_phone": "+7 7172 72 00 00"})
    [entry] = AuditEntry.objects.filter(verb="crisis_update")
    assert entry.changes["hotline_phone"] == ["", "+77172720000"]


def test_the_command_line_creates_a_crisis_with_its_hotline(world: World) -> None:
    out = StringIO()
    call_command(
        "crisis",
        "create",
        "--name",
        "Sudan 2026",
        "--affected",
        "SD",
        "--code",
        "sudan",
        "--hotline",
        "+7 7172 72 00 00",
        "--hotline-note",
        "24/7",
        stdout=out,
    )
    crisis = Crisis.objects.get(code="sudan")
    assert (crisis.hotline_phone, crisis.hotline_note) == ("+77172720000", "24/7")
    with pytest.raises(CommandError, match="Not a valid phone number"):
        call_command(
            "crisis", "create", "--name", "X", "--affected", "SD", "--hotline", "12", stdout=out
        )
