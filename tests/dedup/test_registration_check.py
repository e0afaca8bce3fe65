"""The check before saving, for API clients: `POST /api/registrations/check` answers with
the possible duplicates the hotline form shows, validates as the registration would, and
writes nothing but the audit entry of its read."""

from __future__ import annotations

import copy
import json
from typing import Any

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.dedup.models import CandidatePair
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World
from tests.dedup.test_intake_check import register
from tests.dedup.test_merge import GRANDFATHER_AGAIN


def check(world: World, body: Any, persona: str = Role.OPERATOR, crisis: Any = None) -> Any:
    return world.api(persona).post(
        f"/api/registrations/check?crisis={crisis or world.crisis.pk}",
        data=json.dumps(body),
        content_type="application/json",
    )


def written() -> tuple[int, int, int]:
    return (
        IntakeRecord.objects.count(),
        Person.all_objects.count(),
        CandidatePair.objects.count(),
    )


def test_the_check_answers_with_the_possible_duplicates_and_saves_nothing(
    world: World, family: dict[str, Any]
) -> None:
    first = register(world, family).json()["people"]
    grandfather = Person.objects.get(pk=first[0]["id"])
    again = copy.deepcopy(GRANDFATHER_AGAIN)
    # A second member nobody registered: no possible duplicate of theirs.
    again["members"].append({"surname": "Омарова", "given_names": "Дана"})
    before = written()
    writes = AuditEntry.objects.exclude(action="read").exclude(verb="api_token_create").count()
    response = check(world, again)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "possible_duplicates": [
            {
                "member": 0,
                "duplicate_of": grandfather.pk,
                "reference_code": grandfather.reference_code,
                "score": 95,
                "evidence": ["document", "name_birth_date"],
                "evidence_text": "the same document number, the same names and birth date",
            }
        ]
    }
    assert "Жұмабек" not in response.content.decode(), "no names: the reference code"
    assert written() == before, "nothing registered, no pair kept"
    # (The test's client gets a token of its own.)
    assert (
        AuditEntry.objects.exclude(action="read").exclude(verb="api_token_create").count() == writes
    )
    entry = AuditEntry.objects.filter(verb="registration_check").get()
    assert (entry.action, entry.via, entry.actor) == ("read", "api", world.users[Role.OPERATOR])
    assert entry.crisis == world.crisis
    assert entry.changes == {"members": 2, "people": [grandfather.pk]}

    # Registered afterwards, the same pair is kept for review, as the check said.
    saved = register(world, again)
    assert saved.status_code == 201
    [kept] = saved.json()["possible_duplicates"]
    assert (kept["duplicate_of"], kept["reference_code"], kept["evidence"]) == (
        grandfather.pk,
        grandfather.reference_code,
        ["document", "name_birth_date"],
    )


def test_a_check_that_finds_nobody_is_still_an_audited_read(world: World) -> None:
    response = check(
        world,
        {
            "members": [{"surname": "Омарова", "given_names": "Дана"}],
            "location": {"country": "IR"},
            "consent": True,
        },
    )
    assert response.status_code == 200 and response.json() == {"possible_duplicates": []}
    entry = AuditEntry.objects.get(verb="registration_check")
    assert entry.changes == {"members": 1, "people": []}


def test_a_consul_is_told_only_of_people_in_their_missions_countries(
    world: World, family: dict[str, Any]
) -> None:
    """The world's Сейітов Марат is registered in Iran and in Iraq; the consul works Iran
    only (see tests/conftest.py)."""
    marat = Person.objects.get(pk=world.people["IR"])
    body = {
        "members": [
            {
                "surname": marat.surname,
                "given_names": marat.given_names,
                "birth_date": marat.birth_date.isoformat(),
            }
        ],
        "location": {"country": "IR"},
        "consent": True,
    }
    everyone = {d["duplicate_of"] for d in check(world, body).json()["possible_duplicates"]}
    assert everyone == {world.people["IR"], world.people["IQ"]}
    consul = check(world, body, persona=Role.CONSUL)
    assert consul.status_code == 200, consul.content
    assert [d["duplicate_of"] for d in consul.json()["possible_duplicates"]] == [world.people["IR"]]


def test_a_registration_that_would_be_refused_is_refused_with_the_reasons_and_kept_nowhere(
    world: World, family: dict[str, Any]
) -> None:
    before = written()
    bad = copy.deepcopy(family)
    bad["members"][0]["iin"] = "540302300123"  # a wrong check digit
    bad["location"]["country"] = "XX"
    response = check(world, bad)
    assert response.status_code == 400
    body = response.json()
    assert body["message"].startswith("The registration would not be accepted: members.0.iin: ")
    fields = [e["field"] for e in body["extra"]["errors"]]
    assert fields == ["members.0.iin", "location.country"]
    assert body["extra"]["errors"][1]["message"] == "Unknown country XX."
    # The same reasons as the registration itself gives.
    refused = register(world, bad)
    assert refused.status_code == 400
    assert refused.json()["extra"]["errors"] == body["extra"]["errors"]

    shapeless = check(world, {"members": [], "location": {"country": "IR"}})
    assert shapeless.status_code == 400
    assert {e["field"] for e in shapeless.json()["extra"]["errors"]} >= {"members"}
    assert "intake_record" not in shapeless.json()["extra"], "nothing kept"
    assert written()[1:] == before[1:], "the check kept no person and no pair"
    assert IntakeRecord.objects.count() == before[0] + 1, "only the registration kept its own"
    assert not AuditEntry.objects.filter(verb="registration_check").exists()


def test_the_check_is_refused_in_a_closed_crisis_as_the_registration_is(
    world: World, family: dict[str, Any]
) -> None:
    from aman.core.services import crisis_close

    crisis_close(actor=world.users[Role.CRISIS_MANAGER], crisis=world.crisis)
    response = check(world, family)
    assert response.status_code == 400
    assert response.json()["message"] == "The crisis is not open for registrations."
    refused = register(world, family)  # kept, refused with the same reason
    assert refused.status_code == 400
    assert refused.json()["extra"]["errors"] == [
        {"field": "crisis", "message": response.json()["message"]}
    ]
