"""The checks every registration channel shares: messenger handles, the reasons kept per field,
the country a person may be recorded in, e-mail addresses and nationality codes — through the
API, the public form, the hotline form, the person's edit page and imports."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from aman.core.models import Crisis
from aman.core.roles import Role
from aman.registry.identity.iin import make_iin
from aman.registry.models import ImportBatch, IntakeRecord, Person
from tests.conftest import World
from tests.factories import MissionFactory, country
from tests.public.test_public_pages import MOTHER
from tests.registry.test_hotline import hotline_data
from tests.registry.test_person_edit_page import form_data as edit_form


def post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(
        path, data=json.dumps(body), content_type="application/json", headers=headers
    )


def patch(client: Client, path: str, body: Any) -> Any:
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def register(world: World, body: Any, crisis: Crisis | None = None) -> Any:
    crisis = crisis or world.crisis
    return post(world.api(Role.OPERATOR), f"/api/registrations?crisis={crisis.pk}", body)


def errors(response: Any) -> dict[str, str]:
    return {e["field"]: e["message"] for e in response.json()["extra"]["errors"]}


def one(surname: str = "Ким", **member: Any) -> dict[str, Any]:
    return {
        "members": [{"surname": surname, "given_names": "Ольга", **member}],
        "location": {"country": "IR", "city": "Tehran"},
        "consent": True,
    }


# --- messenger handles ---------------------------------------------------------------------


def test_a_phone_number_handle_is_kept_whole_and_the_edit_page_saves(world: World) -> None:
    body = one(messengers={"WhatsApp": "+7 701 123 45 67", "telegram": " @olga_k "})
    response = register(world, body)
    assert response.status_code == 201, response.content
    pk = response.json()["people"][0]["id"]
    api = world.api(Role.OPERATOR)
    detail = api.get(f"/api/people/{pk}").json()
    assert detail["messengers"] == {"whatsapp": "+77011234567", "telegram": "@olga_k"}
    # The correction reads handles the same way.
    response = patch(api, f"/api/people/{pk}", {"messengers": {"signal": "8 (701) 765-43-21"}})
    assert response.status_code == 200, response.content
    assert response.json()["messengers"] == {"signal": "87017654321"}
    # Any other handle with a space is refused, on both.
    refused = register(world, one(messengers={"telegram": "olga k"}))
    assert refused.status_code == 400
    assert "one word" in errors(refused)["members.0.messengers"]
    refused = patch(api, f"/api/people/{pk}", {"messengers": {"telegram": "olga k"}})
    assert refused.status_code == 400 and "one word" in errors(refused)["messengers"]


def test_handles_stored_with_spaces_before_are_read_whole(world: World) -> None:
    pk = register(world, one(birth_date="1990-01-01")).json()["people"][0]["id"]
    # Written before handles were checked at registration.
    Person.objects.filter(pk=pk).update(messengers="whatsapp:+7 701 123 45 67 telegram:@olga")
    api = world.api(Role.OPERATOR)
    assert api.get(f"/api/people/{pk}").json()["messengers"] == {
        "whatsapp": "+7 701 123 45 67",
        "telegram": "@olga",
    }
    client = world.client(Role.OPERATOR)
    form = edit_form(client, f"/people/{pk}/edit/")
    assert form["messengers"] == "whatsapp +7 701 123 45 67\ntelegram @olga"
    # The edit form takes a change of something else (it refused every change before).
    response = client.post(f"/people/{pk}/edit/", {**form, "needs_note": "insulin"})
    assert response.status_code == 302, response.content.decode()[:3000]
    person = Person.objects.get(pk=pk)
    assert person.needs_note == "insulin"
    assert person.messengers == "whatsapp:+7 701 123 45 67 telegram:@olga", "not sent: unchanged"


# --- reasons per field ---------------------------------------------------------------------


def test_every_reason_of_a_field_is_kept(world: World) -> None:
    iin = make_iin(date(1990, 1, 1), "F", 7)
    response = register(world, one(birth_date="1991-02-02", sex="M", iin=iin))
    assert response.status_code == 400
    messages = [e["message"] for e in response.json()["extra"]["errors"]]
    assert len(messages) == 2
    record = IntakeRecord.objects.get(pk=response.json()["extra"]["intake_record"])
    assert record.rejection_reasons == {"members.0.iin": "; ".join(messages)}
    listed = world.api(Role.OPERATOR).get(
        "/api/registrations", {"crisis": world.crisis.pk, "outcome": "rejected"}
    )
    assert listed.json()["items"][0]["errors"] == [
        {"field": "members.0.iin", "message": "; ".join(messages)}
    ]


def test_an_import_row_keeps_every_reason_of_a_field(world: World, tmp_path: Any) -> None:
    from django.core.management import call_command

    iin = make_iin(date(1990, 1, 1), "F", 7)
    path = tmp_path / "list.csv"
    path.write_text(f"Surname;Name;DOB;Sex;IIN\nKim;Olga;1991-02-02;M;{iin}\n", encoding="utf-8")
    out = tmp_path / "rejected.csv"
    call_command(
        "import", str(path), "--crisis", world.crisis.code, "--source", "Embassy list",
        "--country", "IR", "--rejected-out", str(out), stdout=io.StringIO(),
    )  # fmt: skip
    [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert "birth date" in row["reasons"] and "different sex" in row["reasons"], row


# --- the country a person is in ------------------------------------------------------------


def test_a_country_outside_the_crisis_is_refused_on_every_channel(world: World) -> None:
    refused = register(world, {**one(), "location": {"country": "FR"}})
    assert refused.status_code == 400, refused.content
    assert "FR is outside this crisis" in errors(refused)["location.country"]
    assert (
        IntakeRecord.objects.get(pk=refused.json()["extra"]["intake_record"]).country.code == "FR"
    )
    # The other crisis's country (Iraq is only this crisis's).
    refused = register(world, {**one(), "location": {"country": "IQ"}}, world.other_crisis)
    assert refused.status_code == 400 and "IQ" in errors(refused)["location.country"]
    # A correction to a country outside the crisis.
    pk = register(world, one()).json()["people"][0]["id"]
    api = world.api(Role.OPERATOR)
    refused = patch(api, f"/api/people/{pk}", {"country": "FR"})
    assert refused.status_code == 400 and "FR is outside" in errors(refused)["country"]
    assert Person.objects.get(pk=pk).country.code == "IR"


def test_a_country_a_mission_of_the_crisis_covers_is_allowed_but_not_home(world: World) -> None:
    baku = MissionFactory(
        name="Embassy in Baku", country=country("AZ"), area=[country("AZ"), country("KZ")]
    )
    world.crisis.missions.add(baku)
    # Crossed into Azerbaijan, waiting for a flight: the Baku embassy's consuls see them.
    accepted = register(world, {**one(), "location": {"country": "AZ", "city": "Baku"}})
    assert accepted.status_code == 201, accepted.content
    pk = accepted.json()["people"][0]["id"]
    back = patch(world.api(Role.OPERATOR), f"/api/people/{pk}", {"country": "IR", "city_id": None})
    assert back.status_code == 200, back.content
    home = register(world, {**one(), "location": {"country": "KZ"}})
    assert home.status_code == 400 and "KZ" in errors(home)["location.country"]
    # Crossed over land into Armenia (a crossing of Iran leads there; no mission covers it).
    over = register(world, {**one(), "location": {"country": "AM"}})
    assert over.status_code == 201, over.content
    # The edit page offers the same countries.
    page = world.client(Role.OPERATOR).get(f"/people/{pk}/edit/").content.decode()
    offered = re.findall(
        r'<option value="([A-Z]{2})"', page.split('name="country"')[1].split("</select>")[0]
    )
    # Affected (IR, IQ), covered by a mission (AE, AZ), where the crossings lead (Iran's
    # land borders: AF, AM, TR, …); never the home country, nor anywhere else.
    assert {"AE", "AZ", "IQ", "IR", "AF", "AM", "TR"} <= set(offered), offered
    assert "KZ" not in offered and "FR" not in offered


@pytest.fixture
def public(world: World) -> None:
    cache.clear()
    Crisis.objects.filter(pk__in=[world.crisis.pk, world.other_crisis.pk]).update(
        public_registration=True
    )


def public_form(client: Client, crisis: Crisis, **extra: str) -> dict[str, Any]:
    """The public form's fields with two crises offered (the crisis is then a choice)."""
    page = client.get("/register/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token and f'value="{crisis.pk}"' in page
    return {
        "crisis": str(crisis.pk),
        "form_token": token.group(1),
        "country": "IR",
        "city": "Tehran",
        "phone": "+7 701 555 66 77",
        "intent": "leave",
        "consent": "on",
        "m-TOTAL_FORMS": "1",
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "1",
        "m-MAX_NUM_FORMS": "10",
        **{f"m-0-{k}": v for k, v in MOTHER.items()},
        **extra,
    }


def test_the_public_form_refuses_a_country_of_another_crisis(world: World, public: None) -> None:
    client = Client()
    data = public_form(client, world.other_crisis, country="IR")
    html = client.post("/register/", data).content.decode()
    assert not Person.objects.filter(given_names=MOTHER["given_names"]).exists()
    field = re.search(r'name="country".*?</div>', html, re.S)
    assert field and "IR is outside this crisis" in field.group(0)
    kept = IntakeRecord.objects.get(channel="public_web", outcome="rejected")
    assert "location.country" in kept.rejection_reasons


# --- e-mail addresses ----------------------------------------------------------------------


def test_a_refused_email_is_said_in_words_on_its_field(world: World, public: None) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="kk")
    data = public_form(client, world.crisis, email="anna@example.invalid")
    html = client.post("/register/", data).content.decode()
    assert not Person.objects.filter(given_names=MOTHER["given_names"]).exists()
    assert "members.0.email" not in html and "special-use" not in html
    field = re.search(r'name="email".*?</div>', html, re.S)
    assert field and 'class="error"' in field.group(0), html
    # The phone is shown on its field too (the caller's, asked once).
    staff = world.client(Role.OPERATOR)
    data = hotline_data(
        staff, [{"surname": "Ким", "given_names": "Ольга"}], email="o@example.invalid"
    )
    html = staff.post("/people/new/", data).content.decode()
    assert 'id="id_email_errors"' in html and "members.0.email" not in html
    assert "special-use" not in html
    pk = register(world, one()).json()["people"][0]["id"]
    refused = patch(world.api(Role.OPERATOR), f"/api/people/{pk}", {"email": "o@example.invalid"})
    assert errors(refused)["email"] == "Not a valid email address: check the part after the @ sign."


def test_a_refused_phone_of_the_caller_is_shown_on_the_phone_field(world: World) -> None:
    staff = world.client(Role.OPERATOR)
    data = hotline_data(staff, [{"surname": "Ким", "given_names": "Ольга"}], phone="+7 701\x01")
    html = staff.post("/people/new/", data).content.decode()
    assert 'id="id_phone_errors"' in html and "members.0.phones" not in html


# --- nationalities -------------------------------------------------------------------------


def test_unknown_nationality_codes_are_refused_at_registration(world: World) -> None:
    refused = register(world, one(nationalities=["XX", "QQ", "kz"]))
    assert refused.status_code == 400, refused.content
    assert errors(refused)["members.0.nationalities"] == "Unknown country XX, QQ."
    accepted = register(world, one(nationalities=["kz", "RU"]))
    assert accepted.status_code == 201
    assert Person.objects.get(pk=accepted.json()["people"][0]["id"]).nationalities == ["KZ", "RU"]


# --- the rejected rows' file ---------------------------------------------------------------


def test_rejected_rows_carry_no_formula_and_read_back_as_they_were(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    good = make_iin(date(1987, 8, 8), "F", 2)
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    text = (
        "Surname;Name;DOB;Sex;IIN;Phone;Hotel;=Notes\n"
        f"@Nurlanova;Madina;1987-08-08;F;{wrong};+7 701 555 0142;=1+2;-1\n"
    )
    client = world.client(Role.OPERATOR)
    iran = world.crisis.affected_countries.get(code="IR").pk
    fields = {"source": "Embassy list", "kind": "embassy", "country": iran}
    client.post("/people/imports/", {**fields, "file": SimpleUploadedFile("l.csv", text.encode())})
    batch = ImportBatch.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/people/imports/{batch.pk}/", {**batch.mapping, "start": "1"})
    download = client.get(f"/people/imports/{batch.pk}/rejected.csv").content.decode()
    [header, *rows] = list(csv.reader(io.StringIO(download)))
    cells = [*header, *(c for r in rows for c in r)]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))], cells
    assert "'=Notes" in header and "'+7 701 555 0142" in rows[0] and "'=1+2" in rows[0]
    assert "'@Nurlanova" in rows[0] and "'-1" in rows[0]

    # Corrected and sent again: the cells read as they were, without the apostrophe.
    rows[0][header.index("IIN")] = good
    corrected = io.StringIO()
    csv.writer(corrected).writerows([header, *rows])
    upload = SimpleUploadedFile("fixed.csv", corrected.getvalue().encode())
    client.post("/people/imports/", {**fields, "file": upload})
    again = ImportBatch.objects.exclude(pk=batch.pk).get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/people/imports/{again.pk}/", {**again.mapping, "start": "1"})
    madina = Person.objects.get(given_names="Madina")
    assert madina.surname == "@Nurlanova" and madina.phones.get().number == "+77015550142"
    assert madina.address.endswith("=1+2")
