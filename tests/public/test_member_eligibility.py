"""The public form records each person's eligibility and citizenship and an unaccompanied
child; the status page takes the unaccompanied-minor need and messenger handles. Through
Django's test client, without JavaScript."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client

from aman.core.models import AuditEntry, Crisis
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World
from tests.public.test_public_pages import MOTHER, SON, form_data


@pytest.fixture(autouse=True)
def _public(world: World) -> None:
    cache.clear()
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)


# An Iranian husband, family member of a citizen; a niece alone with the family's friends.
HUSBAND = {
    "surname": "Rahimi",
    "given_names": "Ali",
    "birth_date": "1984-05-05",
    "sex": "M",
    "eligibility": "family_member",
    "nationality": "Iran",
}
NIECE = {
    "surname": "Сейітова",
    "given_names": "Аружан",
    "birth_date": "2014-03-03",
    "sex": "F",
    "unaccompanied_minor": "on",
}


def test_the_blank_form_asks_eligibility_and_citizenship_once_listing_the_countries(
    world: World,
) -> None:
    page = Client(HTTP_ACCEPT_LANGUAGE="en").get("/register/").content.decode()
    assert '<select name="m-0-eligibility"' in page
    assert '<option value="citizen" selected>Citizen</option>' in page
    assert re.search(r'<input type="text" name="m-0-nationality" value="Kazakhstan"', page)
    assert 'list="countries"' in page and "Citizenship" in page
    assert 'name="m-0-unaccompanied_minor"' in page
    assert page.count('<datalist id="countries">') == 1
    assert '<option value="Azerbaijan">' in page and '<option value="Russian Federation">' in page
    ru = Client(HTTP_ACCEPT_LANGUAGE="ru").get("/register/").content.decode()
    assert 'value="Казахстан"' in ru, "the home country in the page's language"
    assert len(ru.encode()) < 30_000


def test_a_foreign_husband_and_an_unaccompanied_child_are_registered_as_they_are(
    world: World,
) -> None:
    client = Client()
    mother = {**MOTHER, "eligibility": "citizen", "nationality": "Kazakhstan"}
    response = client.post("/register/", form_data(client, [mother, HUSBAND, NIECE, SON]))
    assert response.status_code == 302, response.content.decode()
    people = {p.given_names: p for p in Person.objects.filter(channel="public_web")}
    assert (people["Ali"].eligibility, people["Ali"].nationalities) == ("family_member", ["IR"])
    assert (people["Дана"].eligibility, people["Дана"].nationalities) == ("citizen", ["KZ"])
    # Sent without the new fields (a page loaded before them): a citizen, of the home country.
    assert (people["Ерлан"].eligibility, people["Ерлан"].nationalities) == ("citizen", ["KZ"])
    niece = people["Аружан"]
    assert niece.unaccompanied_minor and not people["Ерлан"].unaccompanied_minor
    assert "unaccompanied_minor" in [r["group"] for r in niece.priority_reasons]
    assert niece.priority > people["Ерлан"].priority


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ({"nationality": "Atlantis"}, "Unknown country “Atlantis”: choose one from the list"),
        ({"nationality": "RU"}, "A citizen&#x27;s citizenship is Kazakhstan."),
        (
            {"eligibility": "partner_national", "nationality": "kazakhstan"},
            "Choose this person&#x27;s citizenship: not Kazakhstan",
        ),
        ({"eligibility": "alien"}, "Select a valid choice."),
    ],
)
def test_a_citizenship_that_does_not_fit_is_refused_and_kept(
    world: World, member: dict[str, str], message: str
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.post("/register/", form_data(client, [{**MOTHER, **member}])).content.decode()
    assert message in page
    assert not Person.objects.filter(channel="public_web").exists()
    kept = IntakeRecord.objects.get(channel="public_web", outcome="rejected")
    field = (
        "eligibility" if "eligibility" in member and "nationality" not in member else "nationality"
    )
    assert f"members.0.{field}" in kept.rejection_reasons
    assert all(kept.payload[f"m-0-{k}"] == v for k, v in member.items())


def test_a_partner_national_typed_by_code_or_name_in_any_language(world: World) -> None:
    client = Client()
    uzbek = {**SON, "eligibility": "partner_national", "nationality": "узбекистан"}
    kyrgyz = {**MOTHER, "eligibility": "partner_national", "nationality": "KGZ"}
    assert client.post("/register/", form_data(client, [kyrgyz, uzbek])).status_code == 302
    assert sorted(
        Person.objects.filter(channel="public_web").values_list("nationalities", flat=True)
    ) == [
        ["KG"],
        ["UZ"],
    ]


def test_an_added_person_left_empty_is_not_a_person(world: World) -> None:
    """The new person comes with eligibility and citizenship filled in: sent untouched,
    they type no one (no error asks for their name)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    data = form_data(client, [MOTHER])
    data.pop("submit")
    data["add_member"] = "1"
    page = client.post("/register/", data).content.decode()
    assert re.search(r'name="m-1-nationality" value="Kazakhstan"', page)
    data.pop("add_member")
    data.update(
        {
            "submit": "1",
            "m-TOTAL_FORMS": "2",
            "m-1-eligibility": "citizen",
            "m-1-nationality": "Kazakhstan",
        }
    )
    assert client.post("/register/", data).status_code == 302
    assert Person.objects.filter(channel="public_web").count() == 1


def _signed_in(person: Person) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post(
        "/status/",
        {"reference_code": person.reference_code, "birth_date": person.birth_date.isoformat()},
    )
    assert response["Location"] == "/status/me/"
    return client


def test_the_status_page_takes_an_unaccompanied_child_and_messenger_handles(
    world: World,
) -> None:
    client = Client()
    client.post("/register/", form_data(client, [NIECE | {"unaccompanied_minor": ""}]))
    niece = Person.objects.get(given_names="Аружан")
    assert not niece.unaccompanied_minor and niece.messengers == ""
    before = niece.priority
    me = _signed_in(niece)
    page = me.get("/status/me/").content.decode()
    assert 'name="unaccompanied_minor"' in page and 'name="telegram"' in page
    response = me.post(
        "/status/me/",
        {"unaccompanied_minor": "on", "telegram": "@aruzhan_s", "whatsapp": "+7 701 222 33 44"},
    )
    assert "Saved." in response.content.decode()
    niece.refresh_from_db()
    assert niece.unaccompanied_minor and niece.priority > before
    assert niece.messenger_handles == {"telegram": "@aruzhan_s", "whatsapp": "+77012223344"}
    entry = AuditEntry.objects.filter(verb="person_update_self").latest("id")
    assert {"messengers", "priority", "unaccompanied_minor"} <= set(entry.changes["fields"][1])
    assert "aruzhan" not in str(entry.changes), "the audit names fields, not handles"
    # A new Telegram handle replaces the old; WhatsApp, not sent, stays; the page never
    # shows the handles.
    page = me.post(
        "/status/me/", {"unaccompanied_minor": "on", "telegram": "@aru"}
    ).content.decode()
    niece.refresh_from_db()
    assert niece.messenger_handles == {"telegram": "@aru", "whatsapp": "+77012223344"}
    assert "@aru" not in page and "77012223344" not in page
    assert IntakeRecord.objects.filter(kind="update", outcome="accepted").count() == 2


def test_a_messenger_handle_with_spaces_is_refused_and_kept(world: World) -> None:
    client = Client()
    client.post("/register/", form_data(client, [SON]))
    son = Person.objects.get(given_names="Ерлан")
    page = _signed_in(son).post("/status/me/", {"telegram": "my name"}).content.decode()
    assert "One word, without spaces" in page
    son.refresh_from_db()
    assert son.messengers == ""
    kept = IntakeRecord.objects.get(kind="update", outcome="rejected")
    assert "telegram" in kept.rejection_reasons and kept.payload["telegram"] == "my name"
