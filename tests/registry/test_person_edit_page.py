"""The edit page of a person (`/people/<id>/edit/`) and the household forms on it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Household, IntakeRecord, Person
from aman.registry.services import registration_submit
from tests.conftest import World


def register(world: World, family: dict[str, Any]) -> list[Person]:
    record = registration_submit(crisis=world.crisis, channel="hotline", payload=family)
    return list(record.people.order_by("id"))


def form_data(client: Client, path: str) -> dict[str, Any]:
    """What the page's form sends when saved unchanged (a browser's submission)."""
    from html.parser import HTMLParser

    data: dict[str, Any] = {}
    chosen: set[str] = set()

    class Inputs(HTMLParser):
        form = False
        select: str | None = None
        textarea: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "form":
                self.form = a.get("id") == "person-edit-form"
            if not self.form:
                return
            name = a.get("name")
            if tag == "input" and name and a.get("type") not in ("submit",):
                if a.get("type") == "checkbox":
                    if "checked" in a:
                        data[name] = "on"
                else:
                    data[name] = a.get("value") or ""
            elif tag == "select" and name:
                self.select = name
                chosen.discard(name)
            elif tag == "option" and self.select:
                # A select without a chosen option sends its first.
                if "selected" in a or self.select not in data:
                    data[self.select] = a.get("value") or ""
                if "selected" in a:
                    chosen.add(self.select)
            elif tag == "textarea" and name:
                self.textarea = name
                data[name] = ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "select":
                self.select = None
            elif tag == "textarea":
                self.textarea = None
            elif tag == "form":
                self.form = False

        def handle_data(self, text: str) -> None:
            if self.textarea:
                data[self.textarea] += text.lstrip("\n")

    response = client.get(path)
    assert response.status_code == 200
    Inputs().feed(response.content.decode())
    return data


def test_an_officer_corrects_passport_phone_and_names_on_the_page(
    world: World, family: dict[str, Any]
) -> None:
    nurlan, *_rest = register(world, family)
    client = world.client(Role.OPERATOR)
    page = client.get(f"/people/{nurlan.pk}/").content.decode()
    assert f'href="/people/{nurlan.pk}/edit/"' in page
    path = f"/people/{nurlan.pk}/edit/"
    data = form_data(client, path)
    assert data["surname"] == "Жұмабек" and data["doc-0-number"] == "N12345678"
    assert data["ph-0-number"] == "+77011234567"
    data.update(
        {
            "surname": "Жұмабаев",
            "doc-0-number": "N12345679",
            "doc-0-surname_latin": "Zhumabayev",
            "doc-0-given_names_latin": "Nurlan",
            "doc-1-number": "045612378",
            "doc-1-kind": "id_card",
            "doc-1-issuing_state": "KZ",
            "ph-0-number": "+7 702 555 01 42",
            "ph-1-number": "123",
            "messengers": "telegram @nurlan_z",
            "latitude": "35.7",
            "longitude": "51.4",
            "disability": "on",
        }
    )
    response = client.post(path, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == f"/people/{nurlan.pk}/"
    person = Person.objects.get(pk=nurlan.pk)
    assert (person.surname, person.surname_latin, person.latin_from_document) == (
        "Жұмабаев",
        "ZHUMABAYEV",
        True,
    )
    assert sorted(d.number for d in person.documents.all()) == ["045612378", "N12345679"]
    assert sorted((p.number, p.valid) for p in person.phones.all()) == [
        ("+77025550142", True),
        ("123", False),
    ]
    page = client.get(f"/people/{nurlan.pk}/").content.decode()
    for shown in (
        "N12345679",
        "ZHUMABAYEV NURLAN",
        "+77025550142",
        "not a valid number",
        "telegram @nurlan_z",
        "35.70000, 51.40000",
        "Disability",
        "Changes saved.",
        "Officer&#x27;s correction",
    ):
        assert shown in page, shown
    record = IntakeRecord.objects.get(kind="update", channel="officer")
    assert set(record.payload) == {
        "surname",
        "documents",
        "phones",
        "messengers",
        "latitude",
        "longitude",
        "disability",
    }
    found = client.get("/people/", {"q": "N12345679"}).content.decode()
    assert "Жұмабаев" in found
    assert "Жұмабаев" in client.get("/people/", {"q": "Жұмабаев Нұрлан"}).content.decode()


def test_an_unchanged_save_changes_nothing(world: World, family: dict[str, Any]) -> None:
    nurlan, *_rest = register(world, family)
    client = world.client(Role.CONSUL)
    path = f"/people/{nurlan.pk}/edit/"
    response = client.post(path, form_data(client, path), follow=True)
    assert "Nothing was changed." in response.content.decode()
    assert not IntakeRecord.objects.filter(kind="update").exists()
    assert not AuditEntry.objects.filter(verb="person_update").exists()


def test_a_changed_surname_is_transliterated_again(world: World, family: dict[str, Any]) -> None:
    nurlan, *_rest = register(world, family)
    client = world.client(Role.OPERATOR)
    path = f"/people/{nurlan.pk}/edit/"
    data = form_data(client, path)
    data["surname"] = "Сейітов"
    assert client.post(path, data).status_code == 302
    person = Person.objects.get(pk=nurlan.pk)
    assert (person.surname_latin, person.latin_from_document) == ("SEIITOV", False)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"iin": "123"}, "iin", "IIN"),
        ({"birth_date": "1850-01-01"}, "birth_date", "between"),
        ({"surname_latin": "ЖҰМАБЕК"}, "surname_latin", "Latin letters"),
        ({"doc-0-issuing_state": "QQQ"}, "doc-0-issuing_state", "Unknown issuing state"),
        ({"doc-0-number": ""}, "doc-0-number", "Enter the number, or tick Remove."),
        ({"doc-1-number": "n 1234 5678"}, "doc-1-number", "twice"),
        ({"ph-0-number": "1"}, "ph-0-number", "at least 3"),
        ({"nationalities": "XX"}, "nationalities", "Unknown country"),
        ({"latitude": "95", "longitude": "1"}, "latitude", "90"),
        ({"latitude": "40"}, "longitude", "both coordinates"),
        ({"email": "nope"}, "email", "email"),
        ({"messengers": "telegram"}, "messengers", "handle"),
        ({"surname": ""}, "surname", "required"),
    ],
)
def test_mistakes_are_shown_on_their_fields(
    world: World, family: dict[str, Any], changes: dict[str, str], field: str, message: str
) -> None:
    nurlan, *_rest = register(world, family)
    client = world.client(Role.OPERATOR)
    path = f"/people/{nurlan.pk}/edit/"
    data = {**form_data(client, path), **changes}
    response = client.post(path, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_errors"' in html, html[html.find("invalid-feedback") - 500 :][:2000]
    errors = html[html.index(f'id="id_{field}_errors"') :][:300]
    assert message.lower() in errors.lower(), errors
    assert 'value="' in html and "Жұмабек" in html  # what was typed stays
    person = Person.objects.get(pk=nurlan.pk)
    assert person.documents.get().number == "N12345678" and person.iin == ""
    # The refused correction is kept with its reasons.
    assert IntakeRecord.objects.filter(kind="update", outcome="rejected").count() == 1


def test_rows_are_added_and_removed_without_javascript(
    world: World, family: dict[str, Any]
) -> None:
    nurlan, *_rest = register(world, family)
    client = world.client(Role.OPERATOR)
    path = f"/people/{nurlan.pk}/edit/"
    data = form_data(client, path)
    assert data["doc-TOTAL_FORMS"] == "2"  # the passport and an empty row
    data["doc-1-number"] = "045612378"
    data["needs_note"] = "typed before adding"
    page = client.post(path, {**data, "add_document": "1"}).content.decode()
    assert 'name="doc-2-number"' in page and 'value="045612378"' in page
    assert "typed before adding" in page
    assert not IntakeRecord.objects.filter(kind="update").exists()
    data = form_data(client, path)
    data["doc-0-DELETE"] = "on"
    data["ph-0-DELETE"] = "on"
    assert client.post(path, data).status_code == 302
    person = Person.objects.get(pk=nurlan.pk)
    assert not person.documents.exists() and not person.phones.exists()


def test_who_may_open_the_edit_page(world: World, family: dict[str, Any]) -> None:
    nurlan, *_rest = register(world, family)
    path = f"/people/{nurlan.pk}/edit/"
    for role in (Role.OBSERVER, Role.LOGISTICS, Role.PARTNER_LIAISON):
        assert world.client(role).get(path).status_code == 403
        assert world.client(role).post(path, {"surname": "X"}).status_code == 403
    assert world.client("anonymous").get(path).status_code == 302  # to the sign-in
    in_iraq = world.people["IQ"]
    consul = world.client(Role.CONSUL)
    assert consul.get(f"/people/{in_iraq}/edit/").status_code == 404
    assert consul.post(f"/people/{in_iraq}/edit/", {"surname": "X"}).status_code == 404
    assert consul.post(f"/people/{in_iraq}/household/", {"action": "alone"}).status_code == 404
    assert consul.get(path).status_code == 200
    logistics_page = world.client(Role.LOGISTICS).get(f"/people/{nurlan.pk}/").content.decode()
    assert f"/people/{nurlan.pk}/edit/" not in logistics_page
    assert Person.objects.get(pk=in_iraq).surname == "Сейітов"


def test_the_household_contact_and_members_change_on_the_page(
    world: World, family: dict[str, Any]
) -> None:
    nurlan, aigul, child = register(world, family)
    client = world.client(Role.OPERATOR)
    household = aigul.household_id
    page = client.get(f"/people/{child.pk}/edit/").content.decode()
    assert 'name="contact"' in page and "Move into a household of their own" in page
    response = client.post(
        f"/people/{child.pk}/household/", {"action": "contact", "contact": nurlan.pk}, follow=True
    )
    assert "Household changed." in response.content.decode()
    assert Household.objects.get(pk=household).contact_id == nurlan.pk
    # Alone, then back by the reference code of a member.
    client.post(f"/people/{child.pk}/household/", {"action": "alone"})
    child.refresh_from_db()
    assert child.household_id != household
    response = client.post(
        f"/people/{child.pk}/household/",
        {"action": "move", "reference_code": aigul.reference_code_display.lower()},
        follow=True,
    )
    assert "Household changed." in response.content.decode()
    child.refresh_from_db()
    assert child.household_id == household
    # A code nobody has; a person outside the consul's sight.
    response = client.post(
        f"/people/{child.pk}/household/",
        {"action": "move", "reference_code": "ZZZZ-ZZZZ"},
        follow=True,
    )
    assert "No person with this reference code." in response.content.decode()
    in_iraq = Person.objects.get(pk=world.people["IQ"])
    response = world.client(Role.CONSUL).post(
        f"/people/{child.pk}/household/",
        {"action": "move", "reference_code": in_iraq.reference_code},
        follow=True,
    )
    assert "No person with this reference code." in response.content.decode()
    assert Person.objects.get(pk=child.pk).household_id == household
