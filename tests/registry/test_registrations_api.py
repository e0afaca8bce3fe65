"""Registrations, people and the priority policy through the REST API."""

from __future__ import annotations

import copy
import itertools
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Household, IntakeRecord, Person
from tests.conftest import World
from tests.registry.conftest import SPECIMEN_TD3


def post(client: Client, path: str, body: Any, **headers: str) -> Any:
    return client.post(
        path, data=json.dumps(body), content_type="application/json", headers=headers
    )


def register(world: World, body: Any, persona: str = Role.OPERATOR, **headers: str) -> Any:
    return post(world.api(persona), f"/api/registrations?crisis={world.crisis.pk}", body, **headers)


def test_a_household_registers_in_one_request(world: World, family: dict[str, Any]) -> None:
    response = register(world, family)
    assert response.status_code == 201, response.content
    body = response.json()
    people = body["people"]
    assert [p["surname_latin"] for p in people] == ["ZHUMABEK", "ZHUMABEKOVA", "ZHUMABEK"]
    assert [p["given_names_latin"] for p in people] == ["NURLAN", "AIGUL", "ALIKHAN"]
    assert len({p["reference_code"] for p in people}) == 3
    assert all(p["status"] == "registered" and p["country"] == "IR" for p in people)
    grandfather, mother, child = people
    age = Person.objects.get(pk=grandfather["id"]).age_on(timezone.localdate())
    assert grandfather["priority_explained"] == f"priority 6: medical need, {age} years old"
    assert mother["priority_explained"] == "priority 5: pregnant, woman"
    assert child["priority"] == 2
    household = Household.objects.get(pk=body["household"])
    assert household.contact_id == mother["id"]
    assert household.priority == max(p["priority"] for p in people)
    record = IntakeRecord.objects.get(pk=body["intake_record"])
    assert record.outcome == "accepted" and record.channel == "api"
    assert record.payload["members"][0]["documents"][0]["number"] == "N12345678"
    nurlan = Person.objects.get(pk=grandfather["id"])
    assert nurlan.phones.get().number == "+77011234567"


def test_identifiers_are_encrypted_at_rest(world: World, family: dict[str, Any]) -> None:
    register(world, family)
    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM registry_document")
        stored = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT number FROM registry_phone")
        stored += [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT payload FROM registry_intakerecord")
        stored += [row[0] for row in cursor.fetchall()]
    assert stored and not any(
        "N12345678" in s or "7011234567" in s or "701 123" in s for s in stored
    )
    audit = str(list(AuditEntry.objects.values_list("changes", flat=True)))
    assert "N12345678" not in audit and "7011234567" not in audit


def test_a_retried_registration_creates_nothing_new(world: World, family: dict[str, Any]) -> None:
    people, records = Person.objects.count(), IntakeRecord.objects.count()
    first = register(world, family, **{"Idempotency-Key": "form-77"})
    again = register(world, family, **{"Idempotency-Key": "form-77"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert (Person.objects.count(), IntakeRecord.objects.count()) == (people + 3, records + 1)


@pytest.mark.parametrize("headers", [{}, {"Prefer": "respond-async"}], ids=["now", "queued"])
def test_two_clients_with_the_same_key_each_get_their_own_registration(
    world: World, family: dict[str, Any], headers: dict[str, str], settings: Any
) -> None:
    """The key is the client's own: a consul who happens to send an operator's key is
    registered, and sees nobody of the operator's household."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    first = register(world, family, **headers, **{"Idempotency-Key": "1"})
    other = copy.deepcopy(family)
    for member in other["members"]:
        member["surname"] = "Сейітов"
        member["documents"] = []
    second = register(world, other, Role.CONSUL, **headers, **{"Idempotency-Key": "1"})
    assert first.status_code in (201, 202) and second.status_code in (201, 202), second.content
    one, two = first.json(), second.json()
    assert one["intake_record"] != two["intake_record"]
    theirs = {p["id"] for p in one["people"]}
    assert not theirs & {p["id"] for p in two["people"]}
    assert IntakeRecord.objects.filter(channel="api").count() == 2


@pytest.mark.parametrize("headers", [{}, {"Prefer": "respond-async"}], ids=["now", "queued"])
def test_the_same_key_with_another_payload_is_refused(
    world: World, family: dict[str, Any], headers: dict[str, str]
) -> None:
    first = register(world, family, **headers, **{"Idempotency-Key": "k-9"})
    assert first.status_code in (201, 202)
    people, records = Person.objects.count(), IntakeRecord.objects.count()
    family["members"][0]["surname"] = "Байтасов"
    again = register(world, family, **headers, **{"Idempotency-Key": "k-9"})
    assert again.status_code == 400, again.content
    assert again.json()["extra"] == {"idempotency_key": ["k-9"]}
    assert "different request" in again.json()["message"]
    assert (Person.objects.count(), IntakeRecord.objects.count()) == (people, records)
    too_long = register(world, family, **{"Idempotency-Key": "x" * 201})
    assert too_long.status_code == 400 and "200" in too_long.json()["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(consent=False), "consent"),
        (lambda b: b.update(members=[]), "members"),
        (lambda b: b["members"][0].update(birth_date="2090-01-01"), "members.0.birth_date"),
        (lambda b: b["members"][0].update(iin="54030230001"), "members.0.iin"),
        (lambda b: b["location"].update(country="QQ"), "location.country"),
        (lambda b: b["members"][1].update(email="not-an-address"), "members.1.email"),
        (lambda b: b.update(contact_index=7), "contact_index"),
        (lambda b: b.update(unexpected=1), "unexpected"),
        (lambda b: b["members"][2].update(surname_latin="Жұмабек"), "members.2.surname_latin"),
        (
            lambda b: b["members"][1]["documents"][0].update(given_names_latin="Айгүл"),
            "members.1.documents.0.given_names_latin",
        ),
    ],
)
def test_a_rejected_registration_is_kept_with_its_reasons(
    world: World, family: dict[str, Any], change: Any, field: str
) -> None:
    change(family)
    before = Person.objects.count()
    response = register(world, family)
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"message", "extra"}
    assert field in [e["field"] for e in body["extra"]["errors"]]
    record = IntakeRecord.objects.get(pk=body["extra"]["intake_record"])
    assert record.outcome == "rejected" and field in record.rejection_reasons
    assert record.payload == json.loads(json.dumps(family))
    assert Person.objects.count() == before


def test_search_finds_people_in_any_script_and_by_identifiers(
    world: World, family: dict[str, Any]
) -> None:
    people = register(world, family).json()["people"]
    api = world.api(Role.OPERATOR)

    def found(q: str) -> list[int]:
        return [
            p["id"]
            for p in api.get("/api/people", {"crisis": world.crisis.pk, "q": q}).json()["items"]
        ]

    nurlan, aigul, alikhan = (p["id"] for p in people)
    assert found("NURLAN") == [nurlan]
    assert found("Нұрлан") == [nurlan]
    assert found("Nurlan Zhumabek") == [nurlan]
    assert set(found("Жумабек")) >= {nurlan, alikhan}
    assert found("N12345678") == [nurlan]
    assert found("N09876543") == [aigul]
    assert found("+7 701 123 4567") == [nurlan]
    assert found(people[2]["reference_code"].lower()) == [alikhan]
    assert found("Bolat") == []
    # Every word must match the same person; words in any order, any script.
    assert found("Zhumabekova Nurlan") == []
    assert found("Айгүл Жұмабекова") == [aigul]
    assert found("alikhan zhumabek") == [alikhan]
    assert found("8 701 123 4567") == [nurlan], "a national number, read in the home country"
    assert found(people[0]["reference_code"][:4] + "-" + people[0]["reference_code"][4:]) == [
        nurlan
    ]
    assert found("Н") == [], "one letter is too little to search for"


def test_two_words_find_every_person_whose_names_begin_with_them(
    world: World, family: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two words meet in the name pairs; the people found are those whose names begin with
    every word, as when the words' keys are intersected (the way taken when a word is
    begun by too many names)."""
    from aman.registry import selectors

    people = register(world, family).json()["people"]
    nurlan, aigul, alikhan = (p["id"] for p in people)
    api = world.api(Role.OPERATOR)

    def found(q: str) -> list[int]:
        response = api.get("/api/people", {"crisis": world.crisis.pk, "q": q})
        return sorted(p["id"] for p in response.json()["items"])

    cases = {
        # `Жұмабек` begins `Жұмабекова`: the surname with the feminine ending is found.
        "Жұмабек Айгүл": [aigul],
        "AIGUL ZHUMABEK": [aigul],
        "Жұмабек": [nurlan, aigul, alikhan],
        "Жұма Нұр": [nurlan],
        "Жумабек Алихан": [alikhan],
        # A word that begins another adds nothing: one name may match both.
        "Жұмабек Жұмабекова": [aigul],
        "Нұрлан Нұрлан": [nurlan],
        "Нұрлан Айгүл": [],
        "Нұрлан Жұмабек Әлихан": [],
        "Жұмабек Әлихан Жұмабек": [alikhan],
    }
    through_pairs = {q: found(q) for q in cases}
    assert through_pairs == cases
    monkeypatch.setattr(selectors, "PAIR_COMPLETIONS", 0)
    assert {q: found(q) for q in cases} == cases, "the same people by intersecting keys"


def test_renamed_people_are_found_by_their_new_names(world: World, family: dict[str, Any]) -> None:
    people = register(world, family).json()["people"]
    api = world.api(Role.OPERATOR)
    patched = api.patch(
        f"/api/people/{people[2]['id']}",
        data=json.dumps({"given_names": "Арман Серікұлы"}),
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content

    def found(q: str) -> list[int]:
        response = api.get("/api/people", {"crisis": world.crisis.pk, "q": q})
        return [p["id"] for p in response.json()["items"]]

    assert found("Жұмабек Арман") == [people[2]["id"]]
    assert found("Arman Serikuly") == [people[2]["id"]]
    assert found("Жұмабек Серік") == [people[2]["id"]]
    assert found("Нұрлан Арман") == []


def test_a_long_list_counts_up_to_a_cap(
    world: World, family: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search that matches very many people does not count them all: the page says so."""
    from aman.core import paging

    register(world, family)
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    api = world.api(Role.OPERATOR)
    body = api.get("/api/people", {"crisis": world.crisis.pk, "q": "Zhumabek"}).json()
    assert (body["count"], body["count_exact"], len(body["items"])) == (2, False, 3)
    body = api.get("/api/people", {"crisis": world.crisis.pk, "q": "Aigul"}).json()
    assert (body["count"], body["count_exact"]) == (1, True)
    page = world.client(Role.OPERATOR).get("/people/", {"q": "Zhumabek"})
    assert "More than 2 people: refine the search or the filters." in page.content.decode()


def test_consuls_see_only_people_in_their_missions_countries(
    world: World, family: dict[str, Any]
) -> None:
    in_iran = register(world, family).json()["people"][0]["id"]
    family["location"]["country"] = "IQ"
    in_iraq = register(world, family).json()["people"][0]["id"]
    consul = world.api(Role.CONSUL)
    listed = consul.get("/api/people", {"crisis": world.crisis.pk}).json()
    assert listed["count"] == Person.objects.filter(country__code="IR").count() == 4
    assert in_iraq not in [p["id"] for p in listed["items"]]
    assert consul.get(f"/api/people/{in_iran}").status_code == 200
    assert consul.get(f"/api/people/{in_iraq}").status_code == 404
    assert (
        world.api(Role.OBSERVER).get("/api/people", {"crisis": world.crisis.pk}).status_code == 403
    )


def test_reading_a_person_is_audited(world: World, family: dict[str, Any]) -> None:
    pk = register(world, family).json()["people"][0]["id"]
    detail = world.api(Role.OPERATOR).get(f"/api/people/{pk}").json()
    assert detail["documents"][0]["number"] == "N12345678"
    # Each phone with its flag (before: the bare numbers, ["+77011234567"]).
    assert detail["phones"] == [
        {"id": detail["phones"][0]["id"], "number": "+77011234567", "valid": True}
    ]
    entry = AuditEntry.objects.get(verb="person_detail")
    assert (entry.action, entry.object_id, entry.actor.username) == ("read", str(pk), "operator")


def test_senseless_status_transitions_are_refused(world: World, family: dict[str, Any]) -> None:
    pk = register(world, family).json()["people"][0]["id"]
    api = world.api(Role.DUTY_OFFICER)
    refused = post(api, f"/api/people/{pk}/status", {"status": "arrived_home"})
    assert refused.status_code == 200  # registered → arrived home on their own is possible
    refused = post(api, f"/api/people/{pk}/status", {"status": "boarded"})
    assert refused.status_code == 409
    assert refused.json()["extra"]["allowed"] == []
    person = Person.objects.get(pk=pk)
    assert [e.status for e in person.status_events.all()] == ["arrived_home", "registered"]
    other = register(world, family).json()["people"][1]["id"]
    assert (
        post(api, f"/api/people/{other}/status", {"status": "verified"}).json()["status"]
        == "verified"
    )
    assert post(api, f"/api/people/{other}/status", {"status": "flying"}).status_code == 400


def test_changing_the_policy_recomputes_everyone(
    world: World, family: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    people = register(world, family).json()["people"]
    api = world.api(Role.CRISIS_MANAGER)
    path = f"/api/crises/{world.crisis.pk}/priority-policy"
    assert api.get(path).json()["mode"] == "weights"
    strict = {
        "mode": "strict",
        "rules": [
            {"group": "child", "weight": 9, "max_age": 10},
            {"group": "pregnant", "weight": 3},
        ],
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(path, data=json.dumps(strict), content_type="application/json")
    assert response.status_code == 200, response.content
    # Answered as taken; everyone is recomputed in the background (here at the commit).
    assert response.json()["recompute"]["running"] is True
    done = api.get(path).json()["recompute"]
    assert done["running"] is False and done["finished_at"]
    everyone = Person.objects.filter(crisis=world.crisis).count()
    assert (done["people_done"], done["people_total"]) == (everyone, everyone)
    priorities = {p.pk: p.priority for p in Person.objects.all()}
    assert [priorities[p["id"]] for p in people] == [0, 3, 9]
    assert Household.objects.get(members=people[0]["id"]).priority == 9
    bad = api.put(
        path,
        data=json.dumps({"mode": "weights", "rules": [{"group": "tall", "weight": 1}]}),
        content_type="application/json",
    )
    assert bad.status_code == 400 and "tall" in bad.json()["message"]
    denied = world.api(Role.OPERATOR).put(
        path, data=json.dumps(strict), content_type="application/json"
    )
    assert denied.status_code == 403


def test_mrz_endpoint_parses_the_icao_specimen_and_names_a_failing_check(world: World) -> None:
    api = world.api(Role.DUTY_OFFICER)
    ok = post(api, "/api/identity/mrz", {"lines": SPECIMEN_TD3})
    assert ok.status_code == 200, ok.content
    assert ok.json()["surname"] == "ERIKSSON" and ok.json()["document_number"] == "L898902C3"
    broken = [SPECIMEN_TD3[0], SPECIMEN_TD3[1].replace("7408122", "7408132")]
    bad = post(api, "/api/identity/mrz", {"lines": broken})
    assert bad.status_code == 400 and bad.json()["extra"]["field"] == "birth_date"


def patch(client: Client, path: str, body: Any) -> Any:
    return client.patch(path, data=json.dumps(body), content_type="application/json")


def test_an_officer_corrects_a_record(world: World, family: dict[str, Any]) -> None:
    people = register(world, family).json()["people"]
    api = world.api(Role.CONSUL)
    nurlan = people[0]["id"]
    response = patch(
        api,
        f"/api/people/{nurlan}",
        {
            "given_names_latin": "nurlan-bek",
            "medical_need": False,
            "needs_note": "",
            "intent": "undecided",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["given_names_latin"] == "NURLAN-BEK" and body["intent"] == "undecided"
    age = Person.objects.get(pk=nurlan).age_on(timezone.localdate())
    assert body["priority_explained"] == f"priority 2: {age} years old"
    entry = AuditEntry.objects.filter(verb="person_update").latest("id")
    # The correction is kept as an intake record, which the entry names.
    record = IntakeRecord.objects.get(kind="update")
    assert entry.changes == {
        "fields": [None, ["given_names_latin", "intent", "medical_need", "needs_note"]],
        "intake_record": [None, record.pk],
    }
    found = api.get("/api/people", {"crisis": world.crisis.pk, "q": "nurlanbek"}).json()["items"]
    assert [p["id"] for p in found] == [nurlan]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sex": "Q"}, "sex"),
        ({"surname": ""}, "surname"),
        ({"iin": "123"}, "iin"),
        ({"unknown": 1}, "unknown"),
        ({"email": None}, "email"),
        ({"birth_date": "1850-01-01"}, "birth_date"),
    ],
)
def test_a_bad_correction_is_refused(
    world: World, family: dict[str, Any], body: dict[str, Any], field: str
) -> None:
    pk = register(world, family).json()["people"][0]["id"]
    response = patch(world.api(Role.OPERATOR), f"/api/people/{pk}", body)
    assert response.status_code == 400, response.content
    extra = response.json()["extra"]
    assert field in str(extra)
    assert Person.objects.get(pk=pk).surname == "Жұмабек"


def test_households_list_with_their_visible_members(world: World, family: dict[str, Any]) -> None:
    household = register(world, family).json()["household"]
    api = world.api(Role.OPERATOR)
    listed = api.get("/api/households", {"crisis": world.crisis.pk}).json()
    assert listed["items"][0]["id"] == household and len(listed["items"][0]["members"]) == 3
    one = api.get(f"/api/households/{household}").json()
    assert one["contact_id"] == one["members"][1]["id"]
    family["location"]["country"] = "IQ"
    elsewhere = register(world, family).json()["household"]
    assert world.api(Role.CONSUL).get(f"/api/households/{elsewhere}").status_code == 404
    assert world.api(Role.OBSERVER).get(f"/api/households/{household}").status_code == 403


def test_the_households_list_counts_up_to_a_cap(
    world: World, family: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large crisis's households are not all counted for one page: the count stops."""
    from aman.core import paging

    register(world, family)
    api = world.api(Role.OPERATOR)
    everyone = api.get("/api/households", {"crisis": world.crisis.pk}).json()
    assert everyone["count_exact"] is True and everyone["count"] == len(everyone["items"]) > 2
    monkeypatch.setattr(paging, "COUNT_CAP", 2)
    body = api.get("/api/households", {"crisis": world.crisis.pk, "limit": 1}).json()
    assert (body["count"], body["count_exact"], len(body["items"])) == (2, False, 1)


def test_a_colliding_reference_code_is_drawn_again(
    world: World, family: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Codes are random; when one is already taken the whole household is written again
    with new codes, and the retry leaves no half-written household behind."""
    from aman.registry import services

    taken = Person.objects.get(pk=world.people["IR"]).reference_code
    drawn = itertools.chain([taken], (f"FRESH{n:03d}" for n in itertools.count(2)))
    monkeypatch.setattr(services, "new_reference_code", lambda: next(drawn))
    households = Household.objects.count()
    response = register(world, family)
    assert response.status_code == 201, response.content
    codes = [p["reference_code"] for p in response.json()["people"]]
    assert codes == ["FRESH004", "FRESH005", "FRESH006"], "the first three were written again"
    assert Household.objects.count() == households + 1


def test_a_list_of_households_is_written_together(world: World, family: dict[str, Any]) -> None:
    """The batched writer behind imports: repeats within one list and rejected entries are
    answered one by one, in order; the others are written at once."""
    from aman.registry.services import Submission, registrations_submit

    operator = world.users[Role.OPERATOR]
    bad = json.loads(json.dumps(family))
    bad["members"][0]["birth_date"] = "2090-01-01"
    second = json.loads(json.dumps(family))
    second["members"], second["contact_index"] = second["members"][:1], 0
    outcomes = registrations_submit(
        crisis=world.crisis,
        submissions=[
            Submission(payload=family, channel="import", actor=operator, idempotency_key="a"),
            Submission(payload=bad, channel="import", actor=operator, idempotency_key="b"),
            Submission(payload=family, channel="import", actor=operator, idempotency_key="a"),
            Submission(payload=second, channel="import", actor=operator, idempotency_key="c"),
        ],
    )
    assert [(o.accepted, o.repeated, len(o.people)) for o in outcomes] == [
        (True, False, 3),
        (False, False, 0),
        (True, True, 0),
        (True, False, 1),
    ]
    assert outcomes[2].record == outcomes[0].record
    assert "members.0.birth_date" in outcomes[1].record.rejection_reasons
    assert [len(o.record.people.all()) for o in (outcomes[0], outcomes[3])] == [3, 1]
    assert outcomes[0].people[1].household.contact_id == outcomes[0].people[1].pk
    assert AuditEntry.objects.filter(verb="registration_submit", actor=operator).count() == 2


ASYNC = {"Prefer": "respond-async"}


def test_in_a_surge_a_registration_is_queued_and_answered_at_once(
    world: World, family: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    people = Person.objects.count()
    with django_capture_on_commit_callbacks() as callbacks:
        response = register(world, family, **ASYNC, **{"Idempotency-Key": "surge-1"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["people"], body["household"]) == ("pending", [], None)
    codes = body["reference_codes"]
    assert len(codes) == 3 and len(set(codes)) == 3
    assert Person.objects.count() == people, "registered by the background run, not here"
    record = IntakeRecord.objects.get(pk=body["intake_record"])
    assert record.outcome == "pending" and record.payload == json.loads(json.dumps(family))
    for callback in callbacks:  # the run the request asked for (inline in tests)
        callback()
    api = world.api(Role.OPERATOR)
    done = api.get(f"/api/registrations/{body['intake_record']}").json()
    assert done["status"] == "accepted" and done["errors"] == []
    assert [p["reference_code"] for p in done["people"]] == codes, "the codes given at once"
    assert [p["given_names_latin"] for p in done["people"]] == ["NURLAN", "AIGUL", "ALIKHAN"]
    assert Household.objects.get(pk=done["household"]).contact_id == done["people"][1]["id"]
    assert AuditEntry.objects.filter(verb="registration_submit", object_id=str(record.pk)).exists()
    again = register(world, family, **ASYNC, **{"Idempotency-Key": "surge-1"})
    assert again.status_code == 202 and again.json() == done
    assert Person.objects.count() == people + 3


def test_a_queued_registration_found_wrong_is_rejected_with_its_reasons(
    world: World, family: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    # No such country (a citizen's home one besides, which the accept checks): found by the run.
    family["members"][0]["nationalities"] = ["KZ", "QQ"]
    with django_capture_on_commit_callbacks(execute=True):
        response = register(world, family, **ASYNC, **{"Idempotency-Key": "surge-2"})
    assert response.status_code == 202
    record_id = response.json()["intake_record"]
    state = world.api(Role.OPERATOR).get(f"/api/registrations/{record_id}").json()
    assert state["status"] == "rejected" and state["people"] == []
    assert "members.0.nationalities" in [e["field"] for e in state["errors"]]
    assert AuditEntry.objects.filter(verb="intake_reject", object_id=str(record_id)).exists()
    # A retry of the same payload with the same key answers with the rejected record and
    # keeps nothing new, queued or not.
    records = IntakeRecord.objects.count()
    for headers in (ASYNC, {}):
        with django_capture_on_commit_callbacks(execute=True):
            retry = register(world, family, **headers, **{"Idempotency-Key": "surge-2"})
        if headers:
            assert retry.status_code == 202, retry.content
            assert retry.json()["intake_record"] == record_id
            assert retry.json()["status"] == "rejected"
        else:
            assert retry.status_code == 400, retry.content
            assert retry.json()["extra"]["intake_record"] == record_id
    assert IntakeRecord.objects.count() == records
    # A corrected registration with the same key is taken: the rejected record lets go.
    family["members"][0]["nationalities"] = ["KZ"]
    with django_capture_on_commit_callbacks(execute=True):
        fixed = register(world, family, **ASYNC, **{"Idempotency-Key": "surge-2"})
    assert fixed.status_code == 202 and fixed.json()["intake_record"] != record_id
    state = world.api(Role.OPERATOR).get(f"/api/registrations/{fixed.json()['intake_record']}")
    assert state.json()["status"] == "accepted"
    assert IntakeRecord.objects.get(pk=record_id).outcome == "rejected", "kept, with its reasons"
    assert IntakeRecord.objects.count() == records + 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b["members"][0].update(iin="54030230001"), "members.0.iin"),
        (lambda b: b["members"][1].update(email="dana@company.local"), "members.1.email"),
        (lambda b: b.update(contact_index=7), "contact_index"),
    ],
    ids=["iin", "email", "contact"],
)
def test_a_queued_registration_is_checked_at_once_for_what_needs_no_look_up(
    world: World, family: dict[str, Any], change: Any, field: str
) -> None:
    change(family)
    key = {"Idempotency-Key": f"at-once-{field}"}
    first = register(world, family, **ASYNC, **key)
    assert first.status_code == 400, first.content
    assert field in [e["field"] for e in first.json()["extra"]["errors"]]
    record = IntakeRecord.objects.get(pk=first.json()["extra"]["intake_record"])
    assert record.outcome == "rejected" and record.reference_codes == []
    again = register(world, family, **ASYNC, **key)
    assert again.status_code == 400
    assert again.json()["extra"]["intake_record"] == record.pk, "a retry keeps nothing new"


@pytest.mark.parametrize("headers", [{}, ASYNC], ids=["now", "queued"])
def test_a_registration_for_a_closed_crisis_is_kept_refused(
    world: World, family: dict[str, Any], headers: dict[str, str]
) -> None:
    from aman.core.services import crisis_close

    crisis_close(actor=world.users[Role.CRISIS_MANAGER], crisis=world.crisis)
    response = register(world, family, **headers)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["extra"]["errors"] == [
        {"field": "crisis", "message": "The crisis is not open for registrations."}
    ]
    record = IntakeRecord.objects.get(pk=body["extra"]["intake_record"])
    assert record.outcome == "rejected" and record.payload == json.loads(json.dumps(family))
    assert not Person.objects.filter(surname=family["members"][0]["surname"]).exists()


def test_a_queued_registration_retried_without_the_queue_is_answered_as_queued(
    world: World, family: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    key = {"Idempotency-Key": "surge-retry"}
    with django_capture_on_commit_callbacks():  # the run has not come yet
        queued = register(world, family, **ASYNC, **key)
    assert queued.status_code == 202
    retry = register(world, family, **key)
    assert retry.status_code == 202, retry.content
    assert retry.json()["intake_record"] == queued.json()["intake_record"]
    assert retry.json()["status"] == "pending"


def test_a_queued_registration_that_is_not_even_shaped_right_is_refused_at_once(
    world: World, family: dict[str, Any]
) -> None:
    family["members"] = []
    response = register(world, family, **ASYNC)
    assert response.status_code == 400
    body = response.json()
    assert "members" in [e["field"] for e in body["extra"]["errors"]]
    record = IntakeRecord.objects.get(pk=body["extra"]["intake_record"])
    assert record.outcome == "rejected"
    assert world.api(Role.OPERATOR).get("/api/registrations/999999").status_code == 404


def test_queued_registrations_are_registered_together(
    world: World, family: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from aman.registry.services import registrations_process_pending

    with django_capture_on_commit_callbacks():  # no run yet: three wait in the queue
        ids = [
            register(world, family, **ASYNC, **{"Idempotency-Key": f"q-{n}"}).json()
            for n in range(3)
        ]
    assert IntakeRecord.objects.filter(outcome="pending").count() == 3
    assert registrations_process_pending() == 3
    assert registrations_process_pending() == 0
    assert IntakeRecord.objects.filter(outcome="pending").count() == 0
    for queued in ids:
        record = IntakeRecord.objects.get(pk=queued["intake_record"])
        assert sorted(record.people.values_list("reference_code", flat=True)) == sorted(
            queued["reference_codes"]
        )


def test_the_migration_fills_the_name_pairs_of_people_already_registered(
    world: World, family: dict[str, Any]
) -> None:
    import importlib
    from types import SimpleNamespace

    from django.apps import apps

    from aman.registry.identity import name_key_pairs
    from aman.registry.models import NameKey, NamePair

    register(world, family)
    expected = {
        pk: name_key_pairs(NameKey.objects.filter(person_id=pk).values_list("key", flat=True))
        for pk in Person.objects.values_list("pk", flat=True)
    }
    NamePair.objects.all().delete()
    migration = importlib.import_module("aman.registry.migrations.0009_name_pairs")
    # The step uses only the schema editor's connection (SQLite refuses an editor here).
    migration.fill_pairs(apps, SimpleNamespace(connection=connection))
    assert {
        pk: sorted(NamePair.objects.filter(person_id=pk).values_list("key", flat=True))
        for pk in expected
    } == expected
    api = world.api(Role.OPERATOR)
    body = api.get("/api/people", {"crisis": world.crisis.pk, "q": "Айгүл Жұмабек"}).json()
    assert [p["surname"] for p in body["items"]] == ["Жұмабекова"]


def test_a_page_of_people_is_at_most_500_and_every_page_read_is_audited(
    world: World, family: dict[str, Any]
) -> None:
    register(world, family)
    api = world.api(Role.OPERATOR)
    base = f"/api/people?crisis={world.crisis.pk}"
    too_many = api.get(f"{base}&limit=1000000")
    assert too_many.status_code in (400, 422), too_many.content
    assert set(too_many.json()) == {"message", "extra"}
    page = api.get(f"{base}&limit=500&min_priority=1")
    assert page.status_code == 200 and len(page.json()["items"]) == 3
    households = api.get(f"/api/households?crisis={world.crisis.pk}&limit=501")
    assert households.status_code in (400, 422)
    assert api.get(f"/api/households?crisis={world.crisis.pk}").status_code == 200
    listed = AuditEntry.objects.filter(verb="people_list").get()
    assert listed.changes == {"filters": ["min_priority"]}
    found = api.get(f"{base}&q=N12345678")
    assert found.status_code == 200 and len(found.json()["items"]) == 1
    search = AuditEntry.objects.filter(verb="people_search").get()
    assert "N12345678" not in json.dumps(search.changes)
    assert AuditEntry.objects.filter(verb="household_list").count() == 1


def test_reading_one_household_or_one_registration_is_audited(
    world: World, family: dict[str, Any]
) -> None:
    created = register(world, family).json()
    api = world.api(Role.OPERATOR)
    household = api.get(f"/api/households/{created['household']}")
    assert household.status_code == 200, household.content
    entry = AuditEntry.objects.get(verb="household_detail")
    assert (entry.object_id, entry.actor.role) == (str(created["household"]), Role.OPERATOR)
    state = api.get(f"/api/registrations/{created['intake_record']}")
    assert state.status_code == 200 and state.json()["status"] == "accepted", state.content
    read = AuditEntry.objects.get(verb="registration_detail")
    assert read.object_id == str(created["intake_record"]) and read.crisis_id == world.crisis.pk


def test_a_retried_rejected_registration_answers_the_same_and_keeps_one_record(
    world: World, family: dict[str, Any]
) -> None:
    bad = copy.deepcopy(family)
    bad["members"][0]["email"] = "dana@"
    key = {"Idempotency-Key": "bad-1"}
    answers = [register(world, bad, **key) for _ in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 400]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    record = IntakeRecord.objects.get(pk=answers[0].json()["extra"]["intake_record"])
    assert record.outcome == "rejected" and record.payload == json.loads(json.dumps(bad))
    assert IntakeRecord.objects.filter(outcome="rejected").count() == 1
    # The key is the client's own: another client's same refused request is its own record.
    other = register(world, bad, Role.CONSUL, **key)
    assert other.status_code == 400
    assert other.json()["extra"]["intake_record"] != record.pk
    assert IntakeRecord.objects.filter(outcome="rejected").count() == 2
    # The corrected registration, sent with the same key, is taken.
    fixed = register(world, family, **key)
    assert fixed.status_code == 201, fixed.content
    again = register(world, family, **key)
    assert again.status_code == 200
    assert again.json()["intake_record"] == fixed.json()["intake_record"]


def test_a_retried_status_step_returns_the_first_answer(
    world: World, family: dict[str, Any]
) -> None:
    pk = register(world, family).json()["people"][0]["id"]
    api = world.api(Role.DUTY_OFFICER)
    key = {"Idempotency-Key": "step-1"}
    first = post(api, f"/api/people/{pk}/status", {"status": "verified"}, **key)
    again = post(api, f"/api/people/{pk}/status", {"status": "verified"}, **key)
    assert first.status_code == again.status_code == 200, again.content
    assert first.json() == again.json() and first.json()["status"] == "verified"
    person = Person.objects.get(pk=pk)
    assert [e.status for e in person.status_events.all()] == ["verified", "registered"]
    # The same key for another step is the client's mistake; without a key the same step
    # twice is refused as before.
    other = post(api, f"/api/people/{pk}/status", {"status": "staying"}, **key)
    assert other.status_code == 400
    assert post(api, f"/api/people/{pk}/status", {"status": "verified"}).status_code == 409


def _russian(monkeypatch: Any, words: dict[str, str]) -> None:
    """Russian words for msgids the lead's catalogues may not hold yet: put into the Russian
    catalogue for this test only, so that the test checks that the answer is worded with
    gettext in the request's language (not what the catalogue holds)."""
    from django.utils.translation import trans_real

    catalogue = trans_real.translation("ru")._catalog._catalogs[0]  # type: ignore[attr-defined]
    for msgid, msgstr in words.items():
        monkeypatch.setitem(catalogue, msgid, msgstr)


def test_mrz_errors_are_said_in_the_language_asked_for(world: World, monkeypatch: Any) -> None:
    broken = [SPECIMEN_TD3[0], SPECIMEN_TD3[1].replace("7408122", "7408132")]
    api = world.api(Role.DUTY_OFFICER)

    def answer(lang: str, lines: list[str]) -> Any:
        response = api.post(
            "/api/identity/mrz",
            data=json.dumps({"lines": lines}),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=lang,
        )
        assert response.status_code == 400, response.content
        return response.json()

    en = answer("en", broken)
    assert en["message"] == (
        "Birth date: the check digit is 2, but “740813” gives 3; a character is wrong."
    )
    assert en["extra"] == {
        "field": "birth_date",
        "code": "check_mismatch",
        "params": {"found": "2", "expected": "3", "data": "740813"},
    }
    _russian(
        monkeypatch,
        {
            "MRZ field\x04birth date": "дата рождения",
            "%(field)s: the check digit is %(found)s, but %(data)s gives %(expected)s; a "
            "character is wrong.": "%(field)s: контрольная цифра — %(found)s, а из %(data)s "
            "получается %(expected)s; один знак неверен.",
            "Line %(line)d, position %(position)d: %(char)s is a Cyrillic letter. Is the "
            "scanner typing with a Russian or Kazakh keyboard layout? Switch it to English.": (
                "Строка %(line)d, позиция %(position)d: %(char)s — буква кириллицы. Сканер "
                "печатает в русской или казахской раскладке? Переключите её на английскую."
            ),
        },
    )
    ru = answer("ru", broken)
    assert ru["message"] == (
        "Дата рождения: контрольная цифра — 2, а из “740813” получается 3; один знак неверен."
    )
    assert ru["extra"] == en["extra"], "the codes stay the same in every language"
    cyrillic = answer("ru", ["З" + SPECIMEN_TD3[0][1:], SPECIMEN_TD3[1]])
    assert cyrillic["message"].startswith("Строка 1, позиция 1: “З” — буква кириллицы.")
    assert cyrillic["extra"]["code"] == "character_cyrillic"
    # A letter read for a digit: the likely cause is said too (English here).
    ocr = answer("en", [SPECIMEN_TD3[0], SPECIMEN_TD3[1][:5] + "O" + SPECIMEN_TD3[1][6:]])
    assert ocr["extra"]["params"]["fix"] == {"char": "O", "position": 6, "digit": "0"}
    assert "It would agree if “O” at position 6 were “0”" in ocr["message"]
