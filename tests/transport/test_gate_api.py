"""The gate through the token API: the device's passenger list, one scan online and a queue of
scans recorded offline — the same functions, access rules and audit as the gate page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Document
from aman.transport import gate, services
from aman.transport.models import BookingEvent, BookingStatus, GateScan, Leg
from tests.conftest import World
from tests.transport.conftest import make_leg
from tests.transport.test_gate import book, pass_of, zone

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def api_scan(client: Client, leg: Leg, **body: Any) -> dict[str, Any]:
    response = post(client, f"/api/legs/{leg.pk}/scan", body)
    assert response.status_code == 200, response.content
    return response.json()


def api_sync(client: Client, leg: Leg, scans: list[dict[str, Any]]) -> dict[str, Any]:
    response = post(client, f"/api/legs/{leg.pk}/scans", {"scans": scans})
    assert response.status_code == 200, response.content
    return response.json()


def test_the_gate_manifest_through_the_api_is_the_pages(world: World) -> None:
    leg = make_leg(world)
    bookings = book(world, leg, 2)
    response = world.api(Role.DUTY_OFFICER).get(f"/api/legs/{leg.pk}/gate-manifest")
    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    page = world.client(Role.DUTY_OFFICER).get(f"/transport/legs/{leg.pk}/gate/manifest.json")
    expected = page.json()
    for key in ("version", "leg", "salt"):
        assert data[key] == expected[key], key
    assert data["bookings"] == expected["bookings"]
    assert {b["id"] for b in data["bookings"]} == {b.pk for b in bookings}
    for b in bookings:  # fingerprints only, as on the page
        assert Document.objects.get(person_id=b.person_id).number not in response.content.decode()
    entries = AuditEntry.objects.filter(verb="gate_manifest", object_id=str(leg.pk))
    assert entries.count() == 2
    assert {(e.action, e.via) for e in entries} == {
        (AuditEntry.Action.EXPORT, "api"),
        (AuditEntry.Action.EXPORT, "web"),
    }


def test_a_scan_checks_in_and_boards_through_the_api(world: World) -> None:
    leg = make_leg(world)
    first, second = book(world, leg, 2)
    api = world.api(Role.DUTY_OFFICER)
    done = api_scan(api, leg, id="api-1", text=pass_of(first), action="check_in", seat="4A")
    assert done["result"] == {
        "id": "api-1",
        "result": "applied",
        "message": "Checked in.",
        "booking": first.pk,
        "status": "checked_in",
        "repeated": False,
    }
    assert done["answer"]["verdict"] == "ok" and done["answer"]["booking"]["seat"] == "4A"
    assert [m["id"] for m in done["answer"]["household"]] == [second.pk]
    boarded = api_scan(api, leg, id="api-2", text=zone(first), action="board")
    assert (boarded["result"]["result"], boarded["result"]["status"]) == ("applied", "boarded")
    first.refresh_from_db()
    assert (first.status, first.seat) == (BookingStatus.BOARDED, "4A")
    rows = GateScan.objects.filter(leg=leg).order_by("id")
    assert [(r.kind, r.action, r.result, r.offline) for r in rows] == [
        ("qr", "check_in", "applied", False),
        ("mrz", "board", "applied", False),
    ]
    assert rows[0].officer == world.users[Role.DUTY_OFFICER]
    # Audited as the page: the answer's read, and the check-in and boarding themselves.
    reads = AuditEntry.objects.filter(verb="gate_scan", object_id=str(first.pk))
    assert [(e.object_type, e.changes["result"], e.via) for e in reads.order_by("id")] == [
        ("transport.booking", "applied", "api"),
        ("transport.booking", "applied", "api"),
    ]
    assert AuditEntry.objects.filter(verb="booking_board", object_id=str(first.pk)).exists()
    # A typed reference code only looks the person up.
    looked = api_scan(api, leg, id="api-3", text=second.person.reference_code)
    assert looked["result"]["result"] == "applied" and looked["result"]["status"] == "offered"


def test_a_queue_sent_twice_counts_once(world: World) -> None:
    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    api = world.api(Role.DUTY_OFFICER)
    queue = [{"id": "dev-9-1", "booking": booking.pk, "kind": "qr", "action": "board"}]
    first = api_sync(api, leg, queue)
    second = api_sync(api, leg, queue)  # the answer to the first was lost
    assert first["results"][0]["result"] == second["results"][0]["result"] == "applied"
    assert (first["results"][0]["repeated"], second["results"][0]["repeated"]) == (False, True)
    assert first["leg"]["id"] == leg.pk
    assert GateScan.objects.filter(client_id="dev-9-1").count() == 1
    assert BookingEvent.objects.filter(booking=booking, status=BookingStatus.BOARDED).count() == 1
    # Recorded offline by default, noted so in the booking's history.
    assert GateScan.objects.get(client_id="dev-9-1").offline is True
    event = BookingEvent.objects.get(booking=booking, status=BookingStatus.BOARDED)
    assert "offline" in event.note
    # The page's sync and the API's share the ids: the page's resend counts once too.
    page = world.client(Role.DUTY_OFFICER).post(
        f"/transport/legs/{leg.pk}/gate/sync",
        json.dumps({"scans": [{**queue[0], "offline": True}]}),
        content_type="application/json",
    )
    assert page.json()["results"][0]["repeated"] is True
    assert GateScan.objects.filter(client_id="dev-9-1").count() == 1


def test_a_scan_that_cannot_stand_is_a_conflict(world: World) -> None:
    leg = make_leg(world)
    gone, stays = book(world, leg, 2)
    services.booking_close(
        actor=world.users[Role.LOGISTICS], booking=gone, status="released", note="stays"
    )
    api = world.api(Role.DUTY_OFFICER)
    out = api_sync(
        api,
        leg,
        [
            {"id": "c-1", "booking": gone.pk, "action": "board"},
            {"id": "c-2", "booking": stays.pk, "action": "board"},
        ],
    )
    assert [r["result"] for r in out["results"]] == ["conflict", "applied"]
    assert "released on the server meanwhile" in out["results"][0]["message"]
    gone.refresh_from_db()
    assert gone.status == BookingStatus.RELEASED
    listed = api.get(f"/api/legs/{leg.pk}/scan-conflicts").json()
    assert [c["scan"] for c in listed["items"]] == ["c-1"]
    # Online, the same is a refusal in the answer, not an HTTP error.
    online = api_scan(api, leg, id="c-3", text=pass_of(gone), action="board")
    assert online["result"]["result"] == "refused"
    assert online["answer"]["verdict"] == "closed" and online["answer"]["level"] == "stop"


def test_a_pass_or_scan_id_of_another_leg(world: World) -> None:
    leg, other = make_leg(world), make_leg(world, number="KC 7002")
    (elsewhere,) = book(world, other, 1)
    api = world.api(Role.DUTY_OFFICER)
    wrong = api_scan(api, leg, id="w-1", text=pass_of(elsewhere), action="board")
    assert wrong["result"]["result"] == "unknown" and wrong["result"]["booking"] is None
    assert wrong["answer"]["verdict"] == "other_leg" and str(other) in wrong["answer"]["message"]
    elsewhere.refresh_from_db()
    assert elsewhere.status == BookingStatus.OFFERED
    # A device's scan id used on another leg tells nothing about that leg.
    assert (
        api_sync(api, other, [{"id": "w-2", "booking": elsewhere.pk, "action": "check_in"}])[
            "results"
        ][0]["result"]
        == "applied"
    )
    again = api_sync(api, leg, [{"id": "w-2", "booking": elsewhere.pk, "action": "board"}])
    assert again["results"][0] == {
        "id": "w-2",
        "result": "unknown",
        "message": "This scan was recorded for another leg.",
        "booking": None,
        "status": None,
        "repeated": False,
    }
    missing = post(api, "/api/legs/999999/scan", {"id": "w-3", "text": pass_of(elsewhere)})
    assert missing.status_code == 404 and set(missing.json()) == {"message", "extra"}


def test_only_the_gates_roles_scan_through_the_api(world: World) -> None:
    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    body = {"id": "r-1", "text": pass_of(booking), "action": "check_in"}
    for role in (Role.OPERATOR, Role.CONSUL, Role.PARTNER_LIAISON):
        api = world.api(role)
        for response in (
            post(api, f"/api/legs/{leg.pk}/scan", body),
            post(api, f"/api/legs/{leg.pk}/scans", {"scans": [body]}),
            api.get(f"/api/legs/{leg.pk}/gate-manifest"),
        ):
            assert response.status_code == 403, (role, response.content)
            assert set(response.json()) == {"message", "extra"}
    assert post(Client(), f"/api/legs/{leg.pk}/scan", body).status_code == 401
    assert not GateScan.objects.exists()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.OFFERED
    assert not AuditEntry.objects.filter(verb__in=["gate_scan", "gate_manifest"]).exists()
    for role in (Role.LOGISTICS, Role.CRISIS_MANAGER):
        out = api_scan(world.api(role), leg, id=f"ok-{role}", text=pass_of(booking))
        assert out["result"]["result"] == "applied"


def test_bad_scans_get_clear_errors(world: World) -> None:
    leg = make_leg(world)
    api = world.api(Role.DUTY_OFFICER)
    path = f"/api/legs/{leg.pk}"
    for body, field in (
        ({"text": "X"}, "id"),
        ({"id": "", "text": "X"}, "id"),
        ({"id": "b-1", "action": "jump"}, "action"),
        ({"id": "b-1", "at": "yesterday"}, "at"),
    ):
        response = post(api, f"{path}/scan", body)
        assert response.status_code == 422, body
        data = response.json()
        assert set(data) == {"message", "extra"} and field in data["message"], data
    bad = post(api, f"{path}/scans", {"scans": [{"id": "b-2", "action": "jump"}]})
    assert bad.status_code == 422 and "scans.0.action" in bad.json()["message"]
    many = post(
        api,
        f"{path}/scans",
        {"scans": [{"id": str(i)} for i in range(gate.SYNC_BATCH + 1)]},
    )
    assert many.status_code == 400 and "At most 500" in many.json()["message"]
    broken = api.post(f"{path}/scan", "{not json", content_type="application/json")
    assert broken.status_code in (400, 422) and set(broken.json()) == {"message", "extra"}
    assert not GateScan.objects.exists()
