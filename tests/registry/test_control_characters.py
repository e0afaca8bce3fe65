"""Control characters — NUL above all, which PostgreSQL refuses in text and JSONB while
SQLite takes it — are refused with the field named on every channel, and the refused
submission is still kept (run on PostgreSQL too: DATABASE_URL=postgres://…)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from aman.core.models import Crisis
from aman.core.roles import Role
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World
from tests.public.test_public_pages import MOTHER, form_data
from tests.registry.test_hotline import hotline_data


def post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(
        path, data=json.dumps(body), content_type="application/json", headers=headers
    )


def patch(client: Client, path: str, body: Any) -> Any:
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def register(world: World, body: Any, **headers: str) -> Any:
    return post(
        world.api(Role.OPERATOR), f"/api/registrations?crisis={world.crisis.pk}", body, **headers
    )


def errors(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["extra"]["errors"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda f: f["members"][0].update(surname="A\u0000B"), "members.0.surname"),
        (lambda f: f["location"].update(address="Hotel\u0000 Azadi"), "location.address"),
        (lambda f: f["members"][1].update(given_names="Ai\u0007gul"), "members.1.given_names"),
        (lambda f: f["members"][0].update(phones=["+7 701\u0000"]), "members.0.phones"),
        (lambda f: f["members"][0].update(messengers={"tele\u0000": "@x"}), "members.0.messengers"),
        (lambda f: f.update(source_ref="B-1\u0000"), "source_ref"),
        # A note may hold line breaks and tabs, never a NUL.
        (
            lambda f: f["members"][0].update(needs_note="insulin\n\tdaily\u0000"),
            "members.0.needs_note",
        ),
    ],
)
def test_a_registration_with_a_control_character_is_refused_and_kept(
    world: World, family: dict[str, Any], change: Any, field: str
) -> None:
    change(family)
    people = Person.objects.count()
    response = register(world, family)
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"message", "extra"}
    message = errors(response)[field]
    assert "control character" in message and "U+00" in message, message
    record = IntakeRecord.objects.get(pk=response.json()["extra"]["intake_record"])
    assert record.outcome == "rejected" and field in record.rejection_reasons
    # Kept exactly as received (the payload is encrypted: the NUL is kept too).
    assert record.payload == json.loads(json.dumps(family))
    assert Person.objects.count() == people


def test_a_note_keeps_its_line_breaks_and_tabs(world: World, family: dict[str, Any]) -> None:
    family["members"][0]["needs_note"] = "insulin\r\n\tin the fridge"
    response = register(world, family)
    assert response.status_code == 201, response.content
    person = Person.objects.get(pk=response.json()["people"][0]["id"])
    assert person.needs_note == "insulin\r\n\tin the fridge"


def test_a_correction_with_a_nul_is_refused_and_kept(world: World, family: dict[str, Any]) -> None:
    pk = register(world, family).json()["people"][0]["id"]
    api = world.api(Role.OPERATOR)
    response = patch(api, f"/api/people/{pk}", {"needs_note": "needs\u0000 insulin"})
    assert response.status_code == 400, response.content
    assert "U+0000" in errors(response)["needs_note"]
    kept = IntakeRecord.objects.get(pk=response.json()["extra"]["intake_record"])
    assert (kept.kind, kept.outcome) == ("update", "rejected")
    assert kept.payload == {"needs_note": "needs\u0000 insulin"}
    assert Person.objects.get(pk=pk).needs_note == "insulin"
    # A NUL in a field's name too: refused as an unknown field, its name kept storable.
    response = patch(api, f"/api/people/{pk}", {"sur\u0000name": "X"})
    assert response.status_code == 400, response.content
    kept = IntakeRecord.objects.get(pk=response.json()["extra"]["intake_record"])
    assert list(kept.rejection_reasons) == ["sur\ufffdname"]
    assert patch(api, f"/api/people/{pk}", {"needs_note": "two\nlines"}).status_code == 200
    assert Person.objects.get(pk=pk).needs_note == "two\nlines"


def test_other_registry_inputs_refuse_a_nul(world: World, family: dict[str, Any]) -> None:
    api = world.api(Role.OPERATOR)
    pk = register(world, family).json()["people"][0]["id"]
    step = post(api, f"/api/people/{pk}/status", {"status": "verified", "note": "ok\u0000"})
    assert step.status_code == 422, step.content
    assert Person.objects.get(pk=pk).status == "registered"
    search = api.get("/api/people", {"crisis": world.crisis.pk, "q": "Ж\u0000"})
    assert search.status_code == 422, search.content
    keyed = register(world, family, **{"Idempotency-Key": "k\u0000"})
    assert keyed.status_code == 400, keyed.content
    assert "Idempotency-Key" in keyed.json()["message"]


@pytest.fixture
def public(world: World) -> None:
    cache.clear()
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)


def test_the_public_form_with_a_nul_shows_the_error_and_keeps_the_form(
    world: World, public: None
) -> None:
    client = Client()
    data = form_data(client, [MOTHER], country="I\x00R")
    response = client.post("/register/", data)
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()
    kept = IntakeRecord.objects.get(channel="public_web", outcome="rejected")
    assert kept.payload["country"] == "I\x00R", "kept as sent"
    reasons = json.dumps(kept.rejection_reasons)
    assert "form.country" in kept.rejection_reasons and "\\u0000" not in reasons
    assert not Person.objects.filter(given_names=MOTHER["given_names"]).exists()


def test_the_public_form_with_a_control_character_names_its_field(
    world: World, public: None
) -> None:
    client = Client()
    data = form_data(client, [{**MOTHER, "surname": "Сейі\x00това"}], city="Teh\x01ran")
    html = client.post("/register/", data).content.decode()
    assert not Person.objects.filter(given_names=MOTHER["given_names"]).exists()
    assert IntakeRecord.objects.filter(channel="public_web", outcome="rejected").count() == 1
    # The NUL is the form's own error; once it is gone, the service names the other.
    data["m-0-surname"] = MOTHER["surname"]
    html = client.post("/register/", data).content.decode()
    city = re.search(r'name="city".*?</div>', html, re.S)
    assert city and "U+0001" in city.group(0), html
    assert not Person.objects.filter(given_names=MOTHER["given_names"]).exists()


def test_the_status_page_and_the_hotline_keep_a_refused_nul(world: World, public: None) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(client, [{"surname": "Ким\x00", "given_names": "Ольга"}])
    assert client.post("/people/new/", data).status_code == 200
    assert IntakeRecord.objects.get(channel="hotline", outcome="rejected")
    record = post(
        world.api(Role.OPERATOR),
        f"/api/registrations?crisis={world.crisis.pk}",
        {
            "members": [{"surname": "Ким", "given_names": "Ольга", "birth_date": "1990-01-01"}],
            "location": {"country": "IR"},
            "consent": True,
        },
    ).json()
    person = Person.objects.get(pk=record["people"][0]["id"])
    public = Client()
    public.post("/status/", {"reference_code": person.reference_code, "birth_date": "1990-01-01"})
    page = public.post("/status/me/", {"needs_note": "insulin\x00", "city": "Tab\x02riz"})
    assert page.status_code == 200
    kept = IntakeRecord.objects.filter(kind="update", outcome="rejected").latest("id")
    assert kept.payload["needs_note"] == "insulin\x00"
    page = public.post("/status/me/", {"city": "Tab\x02riz"})
    assert "U+0002" in page.content.decode()
    person.refresh_from_db()
    assert "Tab" not in person.address
