"""The hotline operator's registration form."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from aman.core.roles import Role
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World


def hotline_data(client: Client, members: list[dict[str, str]], **extra: str) -> dict[str, Any]:
    page = client.get("/people/new/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token
    data: dict[str, Any] = {
        "form_token": token.group(1),
        "country": "IR",
        "city": "Shiraz",
        "address": "",
        "phone": "8 777 123 45 67",
        "intent": "leave",
        "language": "ru",
        "consent": "on",
        "m-TOTAL_FORMS": str(len(members)),
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "1",
        "m-MAX_NUM_FORMS": "20",
        "save": "1",
    }
    for i, member in enumerate(members):
        data.update({f"m-{i}-eligibility": "citizen"})
        data.update({f"m-{i}-{k}": v for k, v in member.items()})
    data.update(extra)
    return data


def test_an_operator_registers_a_caller_and_gets_the_codes(world: World) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client,
        [
            {
                "surname": "Қасымов",
                "given_names": "Бауыржан",
                "birth_date": "1970-10-10",
                "sex": "M",
                "iin": "",
            },
            {
                "surname": "Қасымова",
                "given_names": "Мадина",
                "birth_date": "2012-01-05",
                "sex": "F",
                "unaccompanied_minor": "",
            },
        ],
    )
    response = client.post("/people/new/", data, follow=True)
    html = response.content.decode()
    baurzhan = Person.objects.get(given_names="Бауыржан")
    assert baurzhan.reference_code_display in html and "Registered. Reference codes" in html
    assert (baurzhan.channel, baurzhan.language, baurzhan.surname_latin) == (
        "hotline",
        "ru",
        "KASYMOV",
    )
    assert baurzhan.phones.get().number == "+77771234567"
    record = baurzhan.intake_records.get()
    assert record.actor == world.users[Role.OPERATOR] and record.people.count() == 2
    # The same form sent twice (a double Enter) registers once.
    client.post("/people/new/", data)
    assert Person.objects.filter(given_names="Бауыржан").count() == 1


def test_a_bad_iin_is_shown_on_its_field_and_the_attempt_kept(world: World) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client,
        [
            {
                "surname": "Ким",
                "given_names": "Ольга",
                "birth_date": "1990-01-01",
                "iin": "900101400001",
            }
        ],
    )
    html = client.post("/people/new/", data).content.decode()
    assert 'id="id_m-0-iin"' in html and 'class="invalid-feedback' in html
    assert not Person.objects.filter(given_names="Ольга").exists()
    kept = IntakeRecord.objects.get(channel="hotline", outcome="rejected")
    assert "members.0.iin" in kept.rejection_reasons


def test_adding_a_person_keeps_what_was_typed(world: World) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(client, [{"surname": "Ким", "given_names": "Ольга"}])
    data.pop("save")
    data["add_member"] = "1"
    html = client.post("/people/new/", data).content.decode()
    assert 'name="m-1-surname"' in html and 'value="Ким"' in html
    assert 'class="invalid-feedback' not in html


def test_a_closed_crisis_refuses_with_a_message_and_keeps_what_was_typed(world: World) -> None:
    from aman.core.services import crisis_close

    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client,
        [{"surname": "Қасымов", "given_names": "Бауыржан", "birth_date": "1970-10-10"}],
    )
    crisis_close(actor=world.users[Role.CRISIS_MANAGER], crisis=world.crisis)
    response = client.post("/people/new/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "The crisis is not open for registrations." in html
    assert "Бауыржан" in html
    assert not Person.objects.filter(given_names="Бауыржан").exists()
    # What was sent is kept, refused with the reason.
    kept = IntakeRecord.objects.get(channel="hotline", outcome="rejected")
    assert kept.rejection_reasons == {"crisis": "The crisis is not open for registrations."}
    assert kept.payload["members"][0]["given_names"] == "Бауыржан"


def test_adding_a_person_at_the_limit_keeps_what_was_typed(world: World) -> None:
    client = world.client(Role.OPERATOR)
    people = [{"surname": f"Фамилия{i}", "given_names": f"Имя{i}"} for i in range(20)]
    data = hotline_data(client, people)
    data.pop("save")
    data["add_member"] = "1"
    html = client.post("/people/new/", data).content.decode()
    assert 'value="Фамилия19"' in html, "the twentieth person is kept"
    assert 'name="m-20-surname"' not in html, "no twenty-first block past the limit"
    data["m-TOTAL_FORMS"] = "2"
    html = client.post("/people/new/", {**data}).content.decode()
    assert 'value="Фамилия1"' in html and 'name="m-2-surname"' in html, "one more block"


def test_each_field_error_is_tied_to_its_field_for_screen_readers(world: World) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(client, [{"surname": "Қасымов", "given_names": ""}])
    html = client.post("/people/new/", data).content.decode()
    described = re.findall(r'aria-describedby="([^"]+)"', html)
    assert described, "a field with an error says where its message is"
    for target in described:
        assert f'id="{target}"' in html, f"{target} points to no message"


def test_a_person_without_a_birth_date_is_told_their_code_needs_one(world: World) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client,
        [
            {"surname": "Қасымов", "given_names": "Бауыржан", "birth_date": "1970-10-10"},
            {"surname": "Қасымова", "given_names": "Мадина"},
        ],
    )
    html = client.post("/people/new/", data, follow=True).content.decode()
    assert "Registered. Reference codes" in html
    notice = re.search(r'<div class="alert alert-warning"[^>]*>([^<]*)</div>', html)
    assert notice, html
    assert "Мадина Қасымова" in notice.group(1) and "Бауыржан" not in notice.group(1)
    assert "does not open the status page" in notice.group(1)
    madina = Person.objects.get(given_names="Мадина")
    assert madina.birth_date is None, "not required: registered without one"
    page = client.get(f"/people/{madina.pk}/").content.decode()
    assert "does not open the status page" in page.split('id="birth-date"')[1].split("</dd>")[0]
    baurzhan = Person.objects.get(given_names="Бауыржан")
    page = client.get(f"/people/{baurzhan.pk}/").content.decode()
    assert "does not open the status page" not in page
    # And indeed: her code with any birth date opens nothing.
    lookup = Client().post(
        "/status/", {"reference_code": madina.reference_code, "birth_date": "1970-10-10"}
    )
    assert "No registration matches" in lookup.content.decode()


def test_a_refused_form_saved_twice_is_kept_once_and_a_corrected_one_is_kept_too(
    world: World,
) -> None:
    """A form the page refuses (no given names) is kept under its form token, as the public
    form's: the same form saved again (a double Enter) is the record kept the first time;
    the operator's next attempt, changed, is kept as a record of its own."""
    client = world.client(Role.OPERATOR)
    data = hotline_data(client, [{"surname": "Қасымов", "given_names": ""}], consent="")
    first = client.post("/people/new/", data)
    second = client.post("/people/new/", data)
    assert first.status_code == second.status_code == 200
    assert "This field is required" in second.content.decode()
    [kept] = IntakeRecord.objects.filter(channel="hotline", outcome="rejected")
    assert {"members.0.given_names", "form.consent"} <= set(kept.rejection_reasons)
    assert kept.payload["m-0-surname"] == "Қасымов" and kept.actor == world.users[Role.OPERATOR]
    changed = {**data, "m-0-given_names": "Бауыржан"}
    client.post("/people/new/", changed)
    assert IntakeRecord.objects.filter(channel="hotline", outcome="rejected").count() == 2
    # Another operator's form (another token) with the same content is kept on its own.
    other = world.client(Role.CRISIS_MANAGER)
    client_data = hotline_data(other, [{"surname": "Қасымов", "given_names": ""}], consent="")
    other.post("/people/new/", client_data)
    assert IntakeRecord.objects.filter(channel="hotline", outcome="rejected").count() == 3


def _field_error(html: str, field: str) -> str:
    """The message shown under a field (empty: none)."""
    found = re.search(
        rf'<div class="invalid-feedback d-block" id="id_{field}_errors">([^<]*)', html
    )
    return found.group(1) if found else ""


def test_each_person_comes_with_the_home_citizenship_next_to_their_eligibility(
    world: World,
) -> None:
    client = world.client(Role.OPERATOR)
    html = client.get("/people/new/").content.decode()
    assert re.search(
        r'<input type="text" name="m-0-nationality" value="Kazakhstan" list="countries"', html
    )
    assert html.count('<datalist id="countries">') == 1
    assert '<option value="Iran' in html and '<option value="Uzbekistan">' in html
    # In the tab order right after the eligibility, before the needs boxes.
    names = re.findall(r'name="(m-0-[a-z_]+)"', html)
    assert names.index("m-0-nationality") == names.index("m-0-eligibility") + 1
    assert names.index("m-0-nationality") + 1 == names.index("m-0-pregnant")
    # "+ Add a person" keeps a citizenship typed; the person added comes with the home one.
    data = hotline_data(
        client,
        [
            {
                "surname": "Rahimi",
                "given_names": "Ali",
                "eligibility": "family_member",
                "nationality": "Iran",
            }
        ],
    )
    data.pop("save")
    data["add_member"] = "1"
    html = client.post("/people/new/", data).content.decode()
    assert re.search(r'name="m-0-nationality" value="Iran"', html)
    assert re.search(r'name="m-1-nationality" value="Kazakhstan"', html)


def test_a_family_member_and_a_partner_national_are_registered_with_their_citizenship(
    world: World,
) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client,
        [
            {
                "surname": "Қасымова",
                "given_names": "Мадина",
                "birth_date": "1985-04-04",
                "nationality": "Kazakhstan",  # as the form comes
            },
            {
                "surname": "Rahimi",
                "given_names": "Ali",
                "birth_date": "1983-03-03",
                "eligibility": "family_member",
                "nationality": "Iran",
            },
            {
                "surname": "Каримов",
                "given_names": "Бобур",
                "eligibility": "partner_national",
                "nationality": "uzb",  # a code, in small letters
            },
            {"surname": "Қасымов", "given_names": "Ерлан", "nationality": ""},  # cleared
        ],
    )
    response = client.post("/people/new/", data, follow=True)
    assert "Registered. Reference codes" in response.content.decode()
    people = {
        p.given_names: p
        for p in Person.objects.filter(surname__in=["Rahimi", "Каримов", "Қасымова", "Қасымов"])
    }
    assert (people["Ali"].eligibility, people["Ali"].nationalities) == ("family_member", ["IR"])
    assert (people["Бобур"].eligibility, people["Бобур"].nationalities) == (
        "partner_national",
        ["UZ"],
    )
    assert people["Мадина"].nationalities == ["KZ"]
    assert people["Ерлан"].nationalities == ["KZ"], "none given: a citizen's is the home one"
    record = people["Ali"].intake_records.get()
    assert record.payload["members"][1]["nationalities"] == ["IR"]
    assert "nationalities" not in record.payload["members"][3]


@pytest.mark.parametrize(
    ("member", "message"),
    [
        ({"nationality": "Russia"}, "A citizen&#x27;s citizenship is Kazakhstan."),
        ({"nationality": "ir"}, "A citizen&#x27;s citizenship is Kazakhstan."),
        (
            {"eligibility": "family_member", "nationality": "Kazakhstan"},
            "Choose this person&#x27;s citizenship: not Kazakhstan",
        ),
        ({"nationality": "Atlantis"}, "Unknown country “Atlantis”: choose one from the list"),
    ],
)
def test_a_citizenship_that_does_not_fit_is_refused_on_its_field_and_kept(
    world: World, member: dict[str, str], message: str
) -> None:
    client = world.client(Role.OPERATOR)
    caller = {"surname": "Қасымов", "given_names": "Бауыржан", "birth_date": "1970-10-10"}
    data = hotline_data(
        client, [caller, {"surname": "Қасымова", "given_names": "Мадина", **member}]
    )
    html = client.post("/people/new/", data).content.decode()
    assert message in _field_error(html, "m-1-nationality"), html
    assert 'aria-describedby="id_m-1-nationality_errors"' in html
    assert not _field_error(html, "m-0-nationality"), "the caller's is fine"
    assert re.search(rf'name="m-1-nationality" value="{member["nationality"]}"', html)
    assert not Person.objects.filter(given_names__in=["Бауыржан", "Мадина"]).exists()
    kept = IntakeRecord.objects.get(channel="hotline", outcome="rejected")
    assert set(kept.rejection_reasons) == {"members.1.nationality"}
    assert kept.payload["m-1-nationality"] == member["nationality"]
