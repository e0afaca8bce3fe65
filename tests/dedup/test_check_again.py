"""The duplicate check when a record already registered changes: an officer's correction
(page and API) and a phone added from the status page; and the possible duplicates the API
answers a registration with."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from aman.core.models import AuditEntry, Crisis
from aman.core.roles import Role
from aman.dedup.models import CandidatePair
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World
from tests.dedup.test_intake_check import register
from tests.registry.test_hotline import hotline_data
from tests.registry.test_person_edit_page import form_data

STRANGER: dict[str, Any] = {
    # Registered by a relative with neither the passport nor the birth date: the check has
    # nothing to go on, until an officer adds what the grandfather's passport says.
    "members": [{"surname": "Жумабек", "given_names": "Нурлан"}],
    "location": {"country": "IR"},
    "consent": True,
}


def test_an_officer_adds_a_passport_and_the_record_is_checked_again(
    world: World, family: dict[str, Any]
) -> None:
    first = register(world, family).json()
    nurlan = first["people"][0]
    assert first["possible_duplicates"] == []
    second = register(world, STRANGER)
    assert second.status_code == 201 and second.json()["possible_duplicates"] == []
    again = second.json()["people"][0]
    assert CandidatePair.objects.count() == 0
    api = world.api(Role.OPERATOR)
    response = api.patch(
        f"/api/people/{again['id']}",
        data=json.dumps({"documents": [{"kind": "passport", "number": "N12345678"}]}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    (found,) = response.json()["possible_duplicates"]
    pair = CandidatePair.objects.get()
    assert found == {
        "pair": pair.pk,
        "person": again["id"],
        "duplicate_of": nurlan["id"],
        "reference_code": nurlan["reference_code"],
        "score": 95,
        "evidence": ["document"],
        "evidence_text": "the same document number",
    }
    correction = IntakeRecord.objects.get(kind="update")
    assert pair.intake_record_id == correction.pk and pair.status == "open"
    checks = AuditEntry.objects.filter(verb="candidates_record", actor=world.users[Role.OPERATOR])
    assert checks.count() == 1
    # A correction of something else checks nothing again and proposes nothing new.
    response = api.patch(
        f"/api/people/{again['id']}",
        data=json.dumps({"needs_note": "diabetic"}),
        content_type="application/json",
    )
    assert [d["pair"] for d in response.json()["possible_duplicates"]] == [pair.pk]
    assert checks.count() == 1


def test_the_edit_page_says_when_a_correction_makes_a_possible_duplicate(
    world: World, family: dict[str, Any]
) -> None:
    nurlan = register(world, family).json()["people"][0]
    again = register(world, STRANGER).json()["people"][0]
    client = world.client(Role.OPERATOR)
    path = f"/people/{again['id']}/edit/"
    data = form_data(client, path)
    response = client.post(path, {**data, "birth_date": "1954-03-02"}, follow=True)
    html = response.content.decode()
    assert "Changes saved." in html
    assert "may be the same person as another record" in html
    code = nurlan["reference_code"]
    assert 'id="possible-duplicates"' in html and f"{code[:4]}-{code[4:]}" in html
    pair = CandidatePair.objects.get()
    assert pair.evidence == ["name_birth_date"]


def test_a_phone_added_from_the_status_page_is_checked(world: World) -> None:
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)
    from django.core.cache import cache

    cache.clear()
    sister = {
        "members": [
            {
                "surname": "Сейітова",
                "given_names": "Дана",
                "birth_date": "1988-02-29",
                "phones": ["+7 701 555 66 77"],
            }
        ],
        "location": {"country": "IR"},
        "consent": True,
    }
    known = register(world, sister).json()["people"][0]
    again = {
        "members": [{"surname": "Seitova", "given_names": "Dana", "birth_date": "1988-03-01"}],
        "location": {"country": "IR"},
        "consent": True,
    }
    dana = register(world, again).json()["people"][0]
    assert CandidatePair.objects.count() == 0, "another birth date, no identifier"
    client = Client()
    code = Person.objects.get(pk=dana["id"]).reference_code
    assert (
        client.post("/status/", {"reference_code": code, "birth_date": "1988-03-01"})["Location"]
        == "/status/me/"
    )
    client.post("/status/me/", {"phone": "8 701 555 66 77"})
    pair = CandidatePair.objects.get()
    assert {pair.person_a_id, pair.person_b_id} == {known["id"], dana["id"]}
    assert pair.evidence == ["phone"]
    assert pair.intake_record_id == IntakeRecord.objects.get(kind="update").pk
    # The public page says nothing of it: no page ever lists other people.
    assert "Сейітова" not in client.get("/status/me/").content.decode()


def test_the_api_answers_a_registration_with_its_possible_duplicates(
    world: World, family: dict[str, Any]
) -> None:
    nurlan = register(world, family).json()["people"][0]
    again = {**STRANGER, "members": [{**STRANGER["members"][0], "birth_date": "1954-03-02"}]}
    body = register(world, again).json()
    (found,) = body["possible_duplicates"]
    assert (found["person"], found["duplicate_of"]) == (body["people"][0]["id"], nurlan["id"])
    assert found["evidence"] == ["name_birth_date"]
    # A consul in Tehran registering a Марат Сейітов is not told of the one in Iraq (whom
    # they may not see), though the pair is kept for those who may.
    marat = {
        "members": [{"surname": "Сейітов", "given_names": "Марат", "birth_date": "1980-05-05"}],
        "location": {"country": "IR"},
        "consent": True,
    }
    by_consul = register(world, marat, Role.CONSUL)
    assert by_consul.status_code == 201, by_consul.content
    assert [d["duplicate_of"] for d in by_consul.json()["possible_duplicates"]] == [
        world.people["IR"]
    ]
    kept = CandidatePair.objects.filter(intake_record=by_consul.json()["intake_record"])
    assert kept.count() == 2


def test_the_hotline_shows_possible_duplicates_and_the_reading_is_audited(
    world: World, family: dict[str, Any]
) -> None:
    register(world, family)
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client, [{"surname": "Жумабек", "given_names": "Нурлан", "passport": "N12345678"}]
    )
    html = client.post("/people/new/", data).content.decode()
    assert "Possibly already registered" in html
    entry = AuditEntry.objects.get(verb="registration_duplicates")
    nurlan = Person.objects.get(given_names="Нұрлан")
    assert entry.action == "read" and entry.changes == {"people": [None, [nurlan.pk]]}


def test_an_import_says_how_many_possible_duplicates_it_brought(
    world: World, family: dict[str, Any], tmp_path: Any
) -> None:
    from io import StringIO

    from django.core.management import call_command

    from aman.registry.models import ImportBatch

    register(world, family)
    path = tmp_path / "list.csv"
    path.write_text(
        "ФИО;Дата рождения;Паспорт\n"
        "Жумабекова Айгуль;15.07.1990;N09876543\n"
        "Омаров Данияр;02.02.1955;N55557777\n",
        encoding="utf-8",
    )
    out = StringIO()
    call_command(
        "import", str(path), "--crisis", world.crisis.code, "--source", "Embassy",
        "--country", "IR", stdout=out,
    )  # fmt: skip
    assert "2 accepted, 0 rejected" in out.getvalue()
    assert "1 possible duplicate kept for review" in out.getvalue()
    batch = ImportBatch.objects.get()
    page = world.client(Role.OPERATOR).get(f"/people/imports/{batch.pk}/").content.decode()
    assert 'id="import-duplicates"' in page and "1 possible duplicate kept for review." in page


def test_the_review_shows_identifiers_side_by_side_by_their_last_characters(
    world: World, family: dict[str, Any]
) -> None:
    import re

    register(world, family)
    # The grandfather's names and birth date with another passport and the family's phone.
    again = {
        "members": [
            {
                "surname": "Жумабек",
                "given_names": "Нурлан",
                "birth_date": "1954-03-02",
                "documents": [
                    {"kind": "passport", "number": "N 7777 4321", "issuing_state": "KAZ"}
                ],
                "phones": ["+7 701 123 45 67"],
                "email": "nurlan@example.kz",
            }
        ],
        "location": {"country": "IR"},
        "consent": True,
    }
    register(world, again)
    pair = CandidatePair.objects.get()
    page = world.client(Role.OPERATOR).get("/people/duplicates/").content.decode()
    section = page[page.index(f'id="pair-{pair.pk}"') :]
    rows = {
        re.sub(r"<[^>]+>", "", m.group(1)).strip(): (m.group(0), m.group(2))
        for m in re.finditer(r"<tr[^>]*><th[^>]*>([^<]+)</th>(.*?)</tr>", section)
    }
    documents_row, cells = rows["documents"]
    assert "Passport …5678 KAZ until 2030-01-01" in cells and "Passport …4321 KAZ" in cells
    assert 'class="table-warning"' in documents_row, "two passports that differ are marked"
    phones_row, cells = rows["phones"]
    assert cells.count("…4567") == 2 and 'class="table-warning"' not in phones_row
    assert "with 2 others: Айгүл, Әлихан" in rows["household"][1]
    assert "alone" in rows["household"][1]
    assert "nurlan@example.kz" in rows["email"][1]
    assert "N12345678" not in page and "N77774321" not in page, "numbers are not shown whole"
