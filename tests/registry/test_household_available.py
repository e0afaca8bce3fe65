"""A household's earliest availability ("available from"): set and cleared on the person's
edit page and through `PATCH /api/households/{id}`, shown, audited like the household's
other changes, and refused with the field named when it is not a plausible date."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Household
from tests.conftest import World
from tests.transport.conftest import register_household

# A day next week (dates further than two years from today are refused).
DAY = (timezone.localdate() + timedelta(days=6)).isoformat()


def _patch(world: World, household: int, body: dict[str, Any]) -> Any:
    return world.api(Role.OPERATOR).patch(
        f"/api/households/{household}", data=json.dumps(body), content_type="application/json"
    )


def _entries(household: Household) -> list[dict[str, Any]]:
    return [
        e.changes
        for e in AuditEntry.objects.filter(
            verb="household_update", object_id=str(household.pk)
        ).order_by("pk")
    ]


def test_the_edit_page_sets_shows_and_clears_it(world: World) -> None:
    family = register_household(world, 2)
    person = family.members.order_by("pk").first()
    assert person is not None
    client = world.client(Role.OPERATOR)
    page = client.get(f"/people/{person.pk}/edit/").content.decode()
    assert 'id="household-available"' in page and 'name="available_from"' in page

    # Typed on the crisis centre's clock.
    response = client.post(
        f"/people/{person.pk}/household/",
        {"action": "available", "available_from": f"{DAY}T08:30"},
        follow=True,
    )
    assert "Household changed." in response.content.decode()
    family.refresh_from_db()
    zone = ZoneInfo(settings.TIME_ZONE)
    assert family.available_from == datetime.fromisoformat(f"{DAY}T08:30").replace(tzinfo=zone)
    assert _entries(family)[-1] == {
        "available_from": [None, family.available_from.astimezone(UTC).isoformat()]
    }
    # The edit page shows it again as typed; the person's page says it.
    page = client.get(f"/people/{person.pk}/edit/").content.decode()
    assert f'value="{DAY}T08:30"' in page
    detail = client.get(f"/people/{person.pk}/").content.decode()
    assert f"Available from: {DAY} 08:30" in detail

    # Not a plausible date: refused, nothing changed, nothing audited.
    response = client.post(
        f"/people/{person.pk}/household/",
        {"action": "available", "available_from": "1026-12-03T08:30"},
        follow=True,
    )
    assert "Not a plausible date" in response.content.decode()
    family.refresh_from_db()
    assert family.available_from == datetime.fromisoformat(f"{DAY}T08:30").replace(tzinfo=zone)
    assert len(_entries(family)) == 1

    # Empty: at once.
    client.post(f"/people/{person.pk}/household/", {"action": "available", "available_from": ""})
    family.refresh_from_db()
    assert family.available_from is None
    assert _entries(family)[-1]["available_from"][1] is None
    assert 'id="household-available"' not in client.get(f"/people/{person.pk}/").content.decode()


def test_the_api_sets_it_keeps_it_when_left_out_and_clears_it_with_null(world: World) -> None:
    family = register_household(world, 2)
    response = _patch(world, family.pk, {"available_from": f"{DAY}T08:30:00+03:30"})
    assert response.status_code == 200, response.content
    assert response.json()["available_from"] == f"{DAY}T05:00:00Z"
    family.refresh_from_db()
    assert family.available_from == datetime.fromisoformat(f"{DAY}T05:00:00+00:00")
    got = world.api(Role.OPERATOR).get(f"/api/households/{family.pk}").json()
    assert got["available_from"] == f"{DAY}T05:00:00Z"
    assert _entries(family)[-1] == {"available_from": [None, f"{DAY}T05:00:00+00:00"]}

    # Another change leaves it as it is.
    contact = family.members.order_by("-pk").first()
    assert contact is not None
    response = _patch(world, family.pk, {"contact_id": contact.pk})
    assert response.status_code == 200 and response.json()["available_from"] is not None
    family.refresh_from_db()
    assert family.available_from is not None

    # A date nobody means: 400, the field named.
    response = _patch(world, family.pk, {"available_from": "9999-01-01T00:00:00Z"})
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert body["extra"]["errors"][0]["field"] == "available_from"
    assert "Not a plausible date" in body["message"]

    # null: at once.
    response = _patch(world, family.pk, {"available_from": None})
    assert response.status_code == 200 and response.json()["available_from"] is None
    family.refresh_from_db()
    assert family.available_from is None
