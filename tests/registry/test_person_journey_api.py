"""A person's journey and intake history through the API, as the person page shows them:
`GET /api/people/{id}` carries `status_events` and `intake_records`, and
`GET /api/registrations?person=` lists the submissions about one person, scoped and audited
as the list is."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World


def send(client: Client, method: str, path: str, body: Any) -> Any:
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def _register(world: World, family: dict[str, Any]) -> tuple[Person, IntakeRecord]:
    response = send(
        world.api(Role.OPERATOR), "post", f"/api/registrations?crisis={world.crisis.pk}", family
    )
    assert response.status_code == 201, response.content
    record = IntakeRecord.objects.get(pk=response.json()["intake_record"])
    return record.people.get(given_names="Нұрлан"), record


def test_the_person_detail_carries_the_journey_and_the_intake_history(
    world: World, family: dict[str, Any]
) -> None:
    nurlan, registration = _register(world, family)
    api = world.api(Role.OPERATOR)
    step = send(
        api,
        "post",
        f"/api/people/{nurlan.pk}/status",
        {"status": "verified", "note": "passport seen"},
    )
    assert step.status_code == 200, step.content
    assert (
        send(api, "patch", f"/api/people/{nurlan.pk}", {"needs_note": "insulin, cold"}).status_code
        == 200
    )
    update = IntakeRecord.objects.filter(kind="update").get()

    response = world.api(Role.CRISIS_MANAGER).get(f"/api/people/{nurlan.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    events = body["status_events"]
    assert [e["status"] for e in events] == ["verified", "registered"], "newest first"
    assert (events[0]["by"], events[0]["note"]) == (Role.OPERATOR, "passport seen")
    assert events[0]["at"] >= events[1]["at"]
    assert set(events[0]) == {"status", "at", "by", "note"}
    records = body["intake_records"]
    assert [r["id"] for r in records] == [update.pk, registration.pk]
    assert records[1] | {"received_at": None} == {
        "id": registration.pk,
        "channel": "api",
        "kind": "registration",
        "received_at": None,
        "outcome": "accepted",
        "source": f"api:{Role.OPERATOR}",
        "source_ref": "",
    }
    assert "payload" not in records[0] and "insulin" not in json.dumps(records)
    entry = AuditEntry.objects.filter(verb="person_detail").latest("id")
    assert (entry.actor, entry.object_id) == (world.users[Role.CRISIS_MANAGER], str(nurlan.pk))


def test_the_intake_list_filters_by_person_scoped_and_audited(
    world: World, family: dict[str, Any]
) -> None:
    nurlan, registration = _register(world, family)
    send(world.api(Role.OPERATOR), "patch", f"/api/people/{nurlan.pk}", {"needs_note": "x"})
    update = IntakeRecord.objects.filter(kind="update").get()

    def listed(persona: str, person: int) -> list[int]:
        response = world.api(persona).get(
            "/api/registrations", {"crisis": world.crisis.pk, "person": person}
        )
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["items"]]

    assert listed(Role.OPERATOR, nurlan.pk) == [update.pk, registration.pk]
    aigul = registration.people.get(given_names="Айгүл")
    assert listed(Role.OPERATOR, aigul.pk) == [registration.pk], "not Nurlan's correction"
    entry = AuditEntry.objects.filter(verb="intake_list").latest("id")
    assert entry.changes == {"records": [registration.pk], "filters": {"person": str(aigul.pk)}}
    # The Tehran consul: Nurlan is in Iran (theirs); the world's man in Iraq is not.
    assert listed(Role.CONSUL, nurlan.pk) == [update.pk, registration.pk]
    iraq = world.people["IQ"]
    assert IntakeRecord.objects.filter(people=iraq).exists()
    assert listed(Role.CONSUL, iraq) == []
    assert len(listed(Role.CRISIS_MANAGER, iraq)) == 1
    assert (
        world.api(Role.OBSERVER).get("/api/registrations", {"person": nurlan.pk}).status_code == 403
    )
