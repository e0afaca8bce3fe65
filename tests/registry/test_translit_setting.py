"""The ministry's own passport-Latin letters (`AMAN_TRANSLIT_EXTRA`) reach the registry's
proposals, and a wrong table is refused with a clear reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from aman.core.roles import Role
from aman.registry.identity.translit import parse_letter_table
from tests.conftest import World

SRC = Path(__file__).resolve().parents[2] / "src"


def _register(world: World, given_names: str) -> dict[str, Any]:
    api: Client = world.api(Role.OPERATOR)
    response = api.post(
        f"/api/registrations?crisis={world.crisis.pk}",
        data=json.dumps(
            {
                "members": [{"surname": "Йолдасова", "given_names": given_names}],
                "location": {"country": "IR"},
                "consent": True,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    person: dict[str, Any] = response.json()["people"][0]
    return person


def test_the_registry_follows_the_ministrys_table(world: World, settings: Any) -> None:
    assert _register(world, "Майя")["given_names_latin"] == "MAIIA", "ICAO Doc 9303"
    settings.AMAN_TRANSLIT_EXTRA = {"Й": "Y", "й": "y", "я": "ya"}
    person = _register(world, "Майя")
    assert (person["surname_latin"], person["given_names_latin"]) == ("YOLDASOVA", "MAYYA")
    # The Kazakh letters stay as Kazakh passports write them.
    assert _register(world, "Нұрлан")["given_names_latin"] == "NURLAN"


def test_the_table_is_read_from_the_environment() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "DJANGO_SETTINGS_MODULE": "aman.settings",
        "AMAN_TRANSLIT_EXTRA": '{"Й": "Y", "й": "y"}',
    }
    code = "from django.conf import settings; print(settings.AMAN_TRANSLIT_EXTRA['й'])"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "y"
    env["AMAN_TRANSLIT_EXTRA"] = '{"йо": "YO"}'
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "single characters" in bad.stderr


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[1]", "JSON object"),
        ("{", "not JSON"),
        ('{"й": 5}', "Latin letters"),
        ('{"й": "й"}', "Latin letters"),
        ('{"ий": "y"}', "single characters"),
    ],
)
def test_a_wrong_table_is_refused_with_its_reason(raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_letter_table(raw)


def test_no_table_is_the_standard() -> None:
    assert parse_letter_table("") == {} and parse_letter_table("  ") == {}
    assert parse_letter_table('{"Ё": "Yo"}') == {"Ё": "Yo"}
