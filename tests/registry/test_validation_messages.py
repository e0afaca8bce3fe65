"""What is wrong with a value is said in the language of the person who typed it: the
schemas' structural checks (Pydantic's) and their own checks, on the public form and in
the API."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from aman.core.models import Crisis
from aman.core.roles import Role
from aman.registry.models import IntakeRecord
from tests.conftest import World
from tests.public.test_public_pages import MOTHER, form_data


@pytest.fixture(autouse=True)
def _public(world: World) -> None:
    cache.clear()
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)


def test_a_short_passport_number_is_refused_in_russian_on_the_public_form(world: World) -> None:
    client = Client(headers={"accept-language": "ru"})
    client.cookies["django_language"] = "ru"
    page = client.post("/register/", form_data(client, [{**MOTHER, "passport": "AB"}]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "String should have" not in html
    assert "Не короче 3 символов." in html
    kept = IntakeRecord.objects.get(outcome="rejected")
    assert any("3" in str(v) for v in kept.rejection_reasons.values())


@pytest.mark.parametrize(
    ("change", "field", "russian"),
    [
        ({"surname": ""}, "members.0.surname", "Не короче 1 символа."),
        ({"birth_date": "1954-13-45"}, "members.0.birth_date", "Это не дата"),
        ({"surname_latin": "Жұмабек"}, "members.0.surname_latin", "только латинские буквы"),
        ({"eligibility": "alien"}, "members.0.eligibility", "Одно из:"),
    ],
)
def test_the_api_says_what_is_wrong_in_the_callers_language(
    world: World, family: dict[str, Any], change: dict[str, Any], field: str, russian: str
) -> None:
    body = copy.deepcopy(family)
    body["members"][0].update(change)
    response = world.api(Role.OPERATOR).post(
        f"/api/registrations?crisis={world.crisis.pk}",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Accept-Language": "ru"},
    )
    assert response.status_code in (400, 422), response.content
    errors = {e["field"]: e["message"] for e in response.json()["extra"]["errors"]}
    assert field in errors, errors
    assert russian in errors[field], errors
    assert "should" not in errors[field] and "Input" not in errors[field]
