"""Tour operators are changed on their page (*Change* on the list) and with
`PATCH /api/tour-operators/{id}`: the same checks as a new one, its lists relinked or
unlinked, every change audited; a refused change saves nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import ImportSource
from aman.shelter.models import TourOperator
from tests.conftest import World

pytestmark = pytest.mark.django_db

LOGISTICS = Role.LOGISTICS


def patch(client: Any, url: str, body: Any) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def refused(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 400, response.content
    assert response.json()["message"]
    return response.json()["extra"]["errors"]


# Changing a tour operator --------------------------------------------------------------------


def _operator(world: World, **data: Any) -> TourOperator:
    from aman.shelter.services import tour_operator_create

    return tour_operator_create(actor=world.users[LOGISTICS], data={"name": "Kompas", **data})


def test_a_tour_operator_is_changed_on_its_page_and_audited(world: World) -> None:
    old = ImportSource.objects.create(name="Kompas 2025", kind=ImportSource.Kind.TOUR_OPERATOR)
    new = ImportSource.objects.create(name="Kompas 2026", kind=ImportSource.Kind.TOUR_OPERATOR)
    taken = ImportSource.objects.create(name="Other lists", kind=ImportSource.Kind.TOUR_OPERATOR)
    _operator(world, name="Other", import_source="Other lists")
    operator = _operator(world, phone="+7 727 258 00 00", import_source="Kompas 2025")
    client = world.client(LOGISTICS)
    url = f"/shelter/operators/{operator.pk}/edit/"

    listing = client.get("/shelter/operators/").content.decode()
    assert url in listing
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.initial["phone"] == "+7 727 258 00 00"
    offered = [value for value, _label in form.fields["import_source"].choices]
    # Its own lists and the free ones, never another operator's.
    assert {old.name, new.name} <= set(offered) and taken.name not in offered

    fields = {
        "name": "Kompas Tour",
        "contact": "Aigerim",
        "phone": "+7 727 258 00 01",
        "email": "desk@kompas.kz",
        "import_source": "Kompas 2026",
    }
    saved = client.post(url, fields)
    assert saved.status_code == 302, saved.context and saved.context["form"].errors
    operator.refresh_from_db()
    assert (operator.name, operator.phone, operator.email, operator.import_source) == (
        "Kompas Tour",
        "+7 727 258 00 01",
        "desk@kompas.kz",
        new,
    )
    entry = AuditEntry.objects.get(verb="tour_operator_update", object_id=str(operator.pk))
    assert entry.actor == world.users[LOGISTICS]
    assert entry.changes["name"] == ["Kompas", "Kompas Tour"]
    assert entry.changes["import_source"] == [old.pk, new.pk]

    # Unlinked from its lists: another operator may take them.
    assert client.post(url, {**fields, "import_source": ""}).status_code == 302
    operator.refresh_from_db()
    assert operator.import_source is None


def test_a_bad_change_on_the_page_is_shown_on_the_field_and_not_saved(world: World) -> None:
    _operator(world, name="Other")
    operator = _operator(world, email="desk@kompas.kz")
    client = world.client(LOGISTICS)
    url = f"/shelter/operators/{operator.pk}/edit/"
    for field, value in [("email", "a@"), ("phone", "abc"), ("name", "other")]:
        page = client.post(url, {"name": "Kompas", "email": "desk@kompas.kz", field: value})
        assert page.status_code == 200
        assert list(page.context["form"].errors) == [field]
    operator.refresh_from_db()
    assert (operator.name, operator.email, operator.phone) == ("Kompas", "desk@kompas.kz", "")
    assert not AuditEntry.objects.filter(verb="tour_operator_update").exists()
    assert client.get("/shelter/operators/999999/edit/").status_code == 404


def test_a_tour_operator_is_changed_over_the_api(world: World) -> None:
    ImportSource.objects.create(name="Kompas lists", kind=ImportSource.Kind.TOUR_OPERATOR)
    ImportSource.objects.create(name="Other lists", kind=ImportSource.Kind.TOUR_OPERATOR)
    _operator(world, name="Other", import_source="Other lists")
    operator = _operator(world, contact="Aigerim")
    api = world.api(LOGISTICS)
    url = f"/api/tour-operators/{operator.pk}"

    changed = patch(api, url, {"name": "KOMPAS", "import_source": "Kompas lists"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["name"] == "KOMPAS"
    assert changed.json()["import_source"] == "Kompas lists"
    assert changed.json()["contact"] == "Aigerim"  # not sent, not changed
    assert AuditEntry.objects.filter(verb="tour_operator_update", object_id=str(operator.pk))

    for body, field in [
        ({"email": "not an email"}, "email"),
        ({"phone": "7" * 60}, "phone"),
        ({"name": "N" * 250}, "name"),
        ({"name": None}, "name"),
        ({"name": "other"}, "name"),
        ({"import_source": "Other lists"}, "import_source"),
        ({"import_source": "no such lists"}, "import_source"),
    ]:
        assert list(refused(patch(api, url, body))) == [field], body
    operator.refresh_from_db()
    assert (operator.name, operator.email, operator.phone) == ("KOMPAS", "", "")
    assert operator.import_source is not None and operator.import_source.name == "Kompas lists"

    cleared = patch(api, url, {"import_source": None})
    assert cleared.status_code == 200 and cleared.json()["import_source"] is None
    assert patch(api, url, {}).status_code == 400
    assert patch(api, "/api/tour-operators/999999", {"name": "X"}).status_code == 404
