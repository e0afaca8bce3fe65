"""An officer corrects every field of a person through `PATCH /api/people/{id}`, and changes
households through `PATCH /api/households/{id}`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.geo.models import Place
from aman.registry.models import Document, Household, IntakeRecord, NamePair, Person, Phone
from aman.registry.services import registration_submit
from tests.conftest import World


def patch(client: Client, path: str, body: Any) -> Any:
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def register(world: World, family: dict[str, Any]) -> list[Person]:
    record = registration_submit(crisis=world.crisis, channel="api", payload=family)
    return list(record.people.order_by("id"))


def found(api: Client, world: World, q: str) -> list[int]:
    response = api.get("/api/people", {"crisis": world.crisis.pk, "q": q})
    assert response.status_code == 200, response.content
    return [p["id"] for p in response.json()["items"]]


def test_documents_are_corrected_added_and_removed(world: World, family: dict[str, Any]) -> None:
    nurlan, aigul, _child = register(world, family)
    api = world.api(Role.OPERATOR)
    detail = api.get(f"/api/people/{nurlan.pk}").json()
    [passport] = detail["documents"]
    response = patch(
        api,
        f"/api/people/{nurlan.pk}",
        {
            "documents": [
                {**passport, "number": "n 1234 5679"},
                {
                    "kind": "id_card",
                    "number": "045612378",
                    "issuing_state": "kz",
                    "expiry_date": "2031-05-01",
                },
            ]
        },
    )
    assert response.status_code == 200, response.content
    documents = response.json()["documents"]
    assert documents[0]["id"] == passport["id"], "corrected in place"
    assert [d["number"] for d in documents] == ["N12345679", "045612378"]
    assert documents[1]["issuing_state"] == "KZ" and documents[1]["expiry_date"] == "2031-05-01"
    assert found(api, world, "N12345679") == [nurlan.pk]
    assert found(api, world, "N12345678") == []
    assert found(api, world, "045612378") == [nurlan.pk]
    entry = AuditEntry.objects.filter(verb="person_update").latest("id")
    assert entry.changes["fields"] == [None, ["documents"]]
    assert entry.changes["rows"] == [None, {"documents_added": 1, "documents_corrected": 1}]
    assert "N12345679" not in json.dumps(entry.changes)
    # Removing: the list without it.
    response = patch(api, f"/api/people/{nurlan.pk}", {"documents": [documents[1]]})
    assert [d["number"] for d in response.json()["documents"]] == ["045612378"]
    assert found(api, world, "N12345679") == []
    # Another person's document cannot be named.
    other = Document.objects.get(person=aigul)
    refused = patch(
        api,
        f"/api/people/{nurlan.pk}",
        {"documents": [{"id": other.pk, "number": "N00000001"}]},
    )
    assert refused.status_code == 400
    assert refused.json()["extra"]["errors"][0]["field"] == "documents.0.id"
    assert Document.objects.get(pk=other.pk).person_id == aigul.pk


def test_the_passport_latin_name_follows_the_document_or_the_native_name(
    world: World, family: dict[str, Any]
) -> None:
    nurlan, aigul, _child = register(world, family)
    api = world.api(Role.CONSUL)
    # Not from a document: transliterated again when the native surname changes.
    body = patch(api, f"/api/people/{nurlan.pk}", {"surname": "Жұмабаев"}).json()
    assert (body["surname_latin"], body["latin_from_document"]) == ("ZHUMABAEV", False)
    assert found(api, world, "Zhumabaev Nurlan") == [nurlan.pk]
    assert found(api, world, "Жұмабек Нұрлан") == []
    assert NamePair.objects.filter(person=nurlan, key__startswith="zhumabaev").exists() or (
        NamePair.objects.filter(person=nurlan).exists()
    )
    # From a document: kept as printed.
    body = patch(api, f"/api/people/{aigul.pk}", {"surname": "Серікова"}).json()
    assert (body["surname_latin"], body["latin_from_document"]) == ("ZHUMABEKOVA", True)
    assert found(api, world, "Серікова Айгүл") == [aigul.pk]
    # A Latin name typed as printed is kept; sent empty, it is transliterated again.
    body = patch(api, f"/api/people/{nurlan.pk}", {"surname_latin": "jumabayev"}).json()
    assert (body["surname_latin"], body["latin_from_document"]) == ("JUMABAYEV", True)
    body = patch(api, f"/api/people/{nurlan.pk}", {"surname": "Жұмабек"}).json()
    assert body["surname_latin"] == "JUMABAYEV"
    body = patch(api, f"/api/people/{nurlan.pk}", {"surname_latin": ""}).json()
    assert (body["surname_latin"], body["latin_from_document"]) == ("ZHUMABEK", False)
    # A document with a printed name gives the person theirs.
    passport = api.get(f"/api/people/{nurlan.pk}").json()["documents"][0]
    body = patch(
        api,
        f"/api/people/{nurlan.pk}",
        {"documents": [{**passport, "surname_latin": "JOUMABEK", "given_names_latin": "NOURLAN"}]},
    ).json()
    assert (body["surname_latin"], body["given_names_latin"]) == ("JOUMABEK", "NOURLAN")
    assert body["documents"][0]["surname_latin"] == "JOUMABEK"
    assert found(api, world, "Joumabek") == [nurlan.pk]


def test_phones_are_corrected_with_their_validity(world: World, family: dict[str, Any]) -> None:
    nurlan, *_rest = register(world, family)
    api = world.api(Role.OPERATOR)
    [phone] = api.get(f"/api/people/{nurlan.pk}").json()["phones"]
    response = patch(
        api,
        f"/api/people/{nurlan.pk}",
        {"phones": [{"id": phone["id"], "number": "8 702 555 01 42"}, "12345"]},
    )
    assert response.status_code == 200, response.content
    phones = response.json()["phones"]
    assert phones[0] == {"id": phone["id"], "number": "+77025550142", "valid": True}
    assert (phones[1]["number"], phones[1]["valid"]) == ("12345", False)
    assert found(api, world, "+7 702 555 0142") == [nurlan.pk]
    assert found(api, world, "+77011234567") == []
    entry = AuditEntry.objects.filter(verb="person_update").latest("id")
    assert "7025550142" not in json.dumps(entry.changes)
    # The same number twice is one phone; [] removes them all.
    response = patch(api, f"/api/people/{nurlan.pk}", {"phones": ["+77025550142", "87025550142"]})
    assert [p["number"] for p in response.json()["phones"]] == ["+77025550142"]
    assert patch(api, f"/api/people/{nurlan.pk}", {"phones": []}).json()["phones"] == []
    assert not Phone.objects.filter(person=nurlan).exists()


def test_contacts_location_and_the_rest_are_corrected(world: World, family: dict[str, Any]) -> None:
    nurlan, *_rest = register(world, family)
    tehran = Place.objects.filter(kind="city", country__code="IR").first()
    assert tehran is not None
    api = world.api(Role.OPERATOR)
    body = {
        "messengers": {"Telegram": "@nurlan_z", "whatsapp": "+77011234567"},
        "email": "nurlan@example.kz",
        "city_id": tehran.pk,
        "address": "Hotel Espinas",
        "latitude": 35.7,
        "longitude": 51.4,
        "nationalities": ["kz", "RU"],
        "language": "ru",
        "intent": "stay",
        "eligibility": "family_member",
        "sex": "M",
        "birth_date": "1954-03-03",
        "unaccompanied_minor": False,
        "disability": True,
        "needs_note": "wheelchair",
        "patronymic": "Серікұлы",
    }
    response = patch(api, f"/api/people/{nurlan.pk}", body)
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["messengers"] == {"telegram": "@nurlan_z", "whatsapp": "+77011234567"}
    assert (out["city_id"], out["latitude"], out["longitude"]) == (tehran.pk, 35.7, 51.4)
    assert out["nationalities"] == ["KZ", "RU"] and out["disability"] is True
    assert out["consent_at"] and out["location_updated_at"]
    assert out["birth_date"] == "1954-03-03" and out["needs_note"] == "wheelchair"
    assert "disability" in out["priority_explained"]
    # Cleared: the coordinates and the city.
    out = patch(
        api, f"/api/people/{nurlan.pk}", {"latitude": None, "longitude": None, "city_id": None}
    ).json()
    assert (out["latitude"], out["longitude"], out["city_id"]) == (None, None, None)
    # Moved to another country of the crisis.
    out = patch(api, f"/api/people/{nurlan.pk}", {"country": "iq"}).json()
    assert out["country"] == "IQ"


def test_a_correction_is_kept_as_an_intake_record(world: World, family: dict[str, Any]) -> None:
    nurlan, *_rest = register(world, family)
    api = world.api(Role.OPERATOR)
    patch(api, f"/api/people/{nurlan.pk}", {"needs_note": "dialysis"})
    record = IntakeRecord.objects.get(kind="update", outcome="accepted")
    assert record.payload == {"needs_note": "dialysis"}
    assert (record.channel, record.source_ref) == ("api", nurlan.reference_code)
    assert list(record.people.all()) == [nurlan]
    # Nothing changed: nothing kept, nothing audited.
    patch(api, f"/api/people/{nurlan.pk}", {"needs_note": "dialysis"})
    assert IntakeRecord.objects.filter(kind="update").count() == 1
    assert AuditEntry.objects.filter(verb="person_update").count() == 1
    # A refusal is kept with its reasons.
    patch(api, f"/api/people/{nurlan.pk}", {"iin": "123", "email": "nope"})
    rejected = IntakeRecord.objects.get(kind="update", outcome="rejected")
    assert rejected.payload == {"iin": "123", "email": "nope"}
    assert sorted(rejected.rejection_reasons) == ["email", "iin"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"birth_date": "1850-01-01"}, "birth_date"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"iin": "540302300001"}, "iin"),  # checksum
        ({"iin": "900715400000"}, "iin"),
        ({"email": "not-an-address"}, "email"),
        ({"nationalities": ["XX"]}, "nationalities"),
        ({"nationalities": ["KAZ"]}, "nationalities"),
        ({"surname_latin": "ЖҰМАБЕК"}, "surname_latin"),
        ({"given_names_latin": "Nurlan2"}, "given_names_latin"),
        ({"documents": [{"number": "N1"}]}, "documents.0.number"),
        (
            {"documents": [{"number": "N7654321", "issuing_state": "QQQ"}]},
            "documents.0.issuing_state",
        ),
        (
            {"documents": [{"number": "N7654321", "surname_latin": "Ж"}]},
            "documents.0.surname_latin",
        ),
        ({"documents": [{"number": "N7654321"}, {"number": "n 765 4321"}]}, "documents.1.number"),
        ({"documents": [{"number": "N7654321", "id": 999999}]}, "documents.0.id"),
        ({"documents": [{"number": "N7654321", "expiry_date": "soon"}]}, "documents.0.expiry_date"),
        ({"documents": [{"number": "N7654321", "colour": "blue"}]}, "documents.0.colour"),
        ({"phones": [{"id": 999999, "number": "+77011234567"}]}, "phones.0.id"),
        ({"phones": ["1"]}, "phones.0"),
        ({"messengers": {"telegram": "two words"}}, "messengers"),
        ({"messengers": {"tele gram": "@x"}}, "messengers"),
        ({"city_id": 999999999}, "city_id"),
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"latitude": 40.0}, "longitude"),
        ({"country": "QQ"}, "country"),
        ({"language": "de"}, "language"),
        ({"surname": None}, "surname"),
        ({"documents": None}, "documents"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_every_bad_correction_is_refused_with_its_field(
    world: World, family: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    nurlan, *_rest = register(world, family)
    response = patch(world.api(Role.OPERATOR), f"/api/people/{nurlan.pk}", body)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["message"]
    fields = [e["field"] for e in answer["extra"]["errors"]]
    assert any(f == field or f.startswith(field + ".") for f in fields), fields
    assert (
        IntakeRecord.objects.get(outcome="rejected", kind="update").pk
        == (answer["extra"]["intake_record"])
    )
    after = Person.objects.get(pk=nurlan.pk)
    assert (after.surname, after.birth_date.isoformat() if after.birth_date else None) == (
        "Жұмабек",
        "1954-03-02",
    )
    assert after.documents.get().number == "N12345678"


def test_a_city_must_be_in_the_persons_country(world: World, family: dict[str, Any]) -> None:
    nurlan, *_rest = register(world, family)
    baghdad = Place.objects.filter(kind="city", country__code="IQ").first()
    assert baghdad is not None
    api = world.api(Role.OPERATOR)
    refused = patch(api, f"/api/people/{nurlan.pk}", {"city_id": baghdad.pk})
    assert refused.status_code == 400 and "city_id" in str(refused.json()["extra"])
    moved = patch(api, f"/api/people/{nurlan.pk}", {"country": "IQ", "city_id": baghdad.pk})
    assert moved.status_code == 200 and moved.json()["city_id"] == baghdad.pk


def test_who_may_correct(world: World, family: dict[str, Any]) -> None:
    nurlan, *_rest = register(world, family)
    path = f"/api/people/{nurlan.pk}"
    for role in (Role.OBSERVER, Role.LOGISTICS, Role.PARTNER_LIAISON):
        assert patch(world.api(role), path, {"needs_note": "x"}).status_code == 403
    in_iraq = world.people["IQ"]
    consul = world.api(Role.CONSUL)
    assert patch(consul, f"/api/people/{in_iraq}", {"needs_note": "x"}).status_code == 404
    # A consul cannot move a person out of the mission's area.
    refused = patch(consul, path, {"country": "IQ"})
    assert refused.status_code == 400 and refused.json()["extra"]["errors"][0]["field"] == (
        "country"
    )
    assert Person.objects.get(pk=nurlan.pk).needs_note == "insulin"


def test_the_openapi_document_describes_the_new_fields(world: World) -> None:
    schema = world.api(Role.OPERATOR).get("/api/openapi.json").json()
    body = schema["paths"]["/api/people/{person_id}"]["patch"]["requestBody"]
    properties = body["content"]["application/json"]["schema"]["properties"]
    assert {"documents", "phones", "messengers", "city_id", "latitude", "country"} <= set(
        properties
    )
    assert "patch" in schema["paths"]["/api/households/{household_id}"]


def test_households_change_contact_and_members(world: World, family: dict[str, Any]) -> None:
    nurlan, aigul, child = register(world, family)
    family["members"] = family["members"][:1]
    family["members"][0]["surname"] = "Омаров"
    family["members"][0]["documents"] = []
    family["contact_index"] = 0
    [omarov] = register(world, family)
    api = world.api(Role.OPERATOR)
    household = aigul.household_id
    path = f"/api/households/{household}"
    assert patch(api, path, {"contact_id": nurlan.pk}).json()["contact_id"] == nurlan.pk
    # The contact must be a member.
    refused = patch(api, path, {"contact_id": omarov.pk})
    assert refused.status_code == 400 and refused.json()["extra"]["errors"][0]["field"] == (
        "contact_id"
    )
    # Omarov joins; the child leaves into a household of their own.
    body = patch(
        api,
        path,
        {"add_members": [omarov.pk], "remove_members": [child.pk], "contact_id": omarov.pk},
    ).json()
    assert sorted(m["id"] for m in body["members"]) == sorted([nurlan.pk, aigul.pk, omarov.pk])
    assert body["contact_id"] == omarov.pk
    child.refresh_from_db()
    assert child.household_id not in (household, None)
    assert Household.objects.get(pk=child.household_id).contact_id == child.pk

    def top(pk: int) -> int:
        return max(p.priority for p in Person.objects.filter(household_id=pk))

    assert Household.objects.get(pk=household).priority == top(household)
    assert Household.objects.get(pk=child.household_id).priority == 2  # a child
    # Omarov's old household is empty now, without a contact.
    old = Household.objects.get(pk=Person.objects.get(pk=omarov.pk).household_id)
    assert old.pk == household
    assert AuditEntry.objects.filter(verb="household_update").count() >= 4
    # A household cannot lose everyone.
    lone = patch(api, f"/api/households/{child.household_id}", {"remove_members": [child.pk]})
    assert lone.status_code == 400


def test_households_are_changed_only_within_sight(world: World, family: dict[str, Any]) -> None:
    _nurlan, aigul, _child = register(world, family)
    path = f"/api/households/{aigul.household_id}"
    assert patch(world.api(Role.LOGISTICS), path, {"contact_id": aigul.pk}).status_code == 403
    # A consul cannot name a person outside the mission's area.
    refused = patch(world.api(Role.CONSUL), path, {"add_members": [world.people["IQ"]]})
    assert refused.status_code == 404
    assert refused.json()["extra"]["field"] == "add_members.0"
    # A person of another crisis cannot join.
    other = registration_submit(
        crisis=world.other_crisis,
        channel="api",
        payload={
            "members": [{"surname": "Ли", "given_names": "Анна"}],
            "location": {"country": "AE"},
            "consent": True,
        },
    ).people.get()
    refused = patch(world.api(Role.CRISIS_MANAGER), path, {"add_members": [other.pk]})
    assert refused.status_code == 404
    assert Person.objects.get(pk=other.pk).household_id != aigul.household_id


def test_a_correction_of_something_else_leaves_the_latin_names(
    world: World, family: dict[str, Any]
) -> None:
    """A record's Latin names from before (an import's, say) are transliterated again only
    when the native name they follow changes."""
    nurlan, *_rest = register(world, family)
    Person.objects.filter(pk=nurlan.pk).update(surname_latin="DJUMABEK")
    api = world.api(Role.OPERATOR)
    body = patch(api, f"/api/people/{nurlan.pk}", {"needs_note": "x", "given_names": "Нұрбек"})
    assert (body := body.json())["surname_latin"] == "DJUMABEK"
    assert body["given_names_latin"] == "NURBEK"
