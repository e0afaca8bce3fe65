"""Transit permits and cost recovery through their real interfaces: the logistics officer's
pages and the REST API, down to the boarding they block and the undertaking they print."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from aman.core.errors import ApplicationError, Conflict
from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Household, Person
from aman.transport import services
from aman.transport.models import (
    Booking,
    Leg,
    PermitEntry,
    PermitList,
    TransportPolicy,
)
from tests.conftest import World
from tests.transport.conftest import make_leg, place, register_household

pytestmark = pytest.mark.django_db

ASTARA = "IR-AZ-ASTARA"


def _tomorrow() -> date:
    """Tomorrow on the crossing's clock (the lists' days are the crossing's days)."""
    astara = place("crossing", code=ASTARA)
    return timezone.localtime(timezone.now() + timedelta(days=1), astara.zone).date()


def _bus(world: World, crossing: str = ASTARA, *, days: int = 1, capacity: int = 40) -> Leg:
    """A bus from Tehran's airport to a crossing, arriving `days` from now."""
    return make_leg(
        world,
        mode="bus",
        origin=place("airport", iata="IKA"),
        destination=place("crossing", code=crossing),
        departure_planned=timezone.now() + timedelta(days=days),
        arrival_planned=None,
        capacity=capacity,
        number="BUS 1",
        fare="",
    )


def _booked(world: World, leg: Leg, size: int = 3) -> tuple[Household, list[Booking]]:
    household = register_household(world, size)
    bookings = services.leg_book(actor=world.users[Role.LOGISTICS], leg=leg, households=[household])
    return household, bookings


def _build(client: Client, crossing: str = ASTARA, day: date | None = None) -> Any:
    return client.post(
        "/transport/permits/",
        {"crossing": place("crossing", code=crossing).pk, "day": (day or _tomorrow()).isoformat()},
    )


def _api(client: Client, method: str, path: str, data: Any = None, **headers: str) -> Any:
    return getattr(client, method)(
        path, data=json.dumps(data or {}), content_type="application/json", **headers
    )


# The pages -----------------------------------------------------------------------------------


def test_the_overview_counts_people_booked_to_a_crossing_and_builds_the_list(
    world: World,
) -> None:
    leg = _bus(world)
    _booked(world, leg, 3)
    client = world.client(Role.LOGISTICS)

    page = client.get("/transport/permits/")
    assert page.status_code == 200
    (row,) = [r for r in page.context["overview"].rows if r.crossing.code == ASTARA]
    assert (row.day, row.legs, row.booked, row.listed, row.not_listed) == (_tomorrow(), 1, 3, 0, 3)
    # Crossings that want permits but that no leg reaches are named, not counted.
    assert "IR-AZ-JOLFA" in {p.code for p in page.context["overview"].idle}

    response = _build(client)
    permit_list = PermitList.objects.get(crisis=world.crisis)
    assert response.status_code == 302
    assert response["Location"] == f"/transport/permits/{permit_list.pk}/"
    assert permit_list.entries.count() == 3
    assert permit_list.status == PermitList.Status.DRAFT
    assert AuditEntry.objects.filter(verb="permit_list_build").exists()

    (row,) = [
        r
        for r in client.get("/transport/permits/").context["overview"].rows
        if r.crossing.code == ASTARA
    ]
    assert (row.listed, row.pending, row.not_listed) == (3, 3, 0)


def test_submit_answer_and_a_refused_person_cannot_board(world: World) -> None:
    leg = _bus(world)
    _household, bookings = _booked(world, leg, 3)
    client = world.client(Role.LOGISTICS)
    _build(client)
    permit_list = PermitList.objects.get(crisis=world.crisis)
    url = f"/transport/permits/{permit_list.pk}/"

    assert client.post(url, {"action": "submit", "reference": "AZ-2026-17"}).status_code == 302
    permit_list.refresh_from_db()
    assert (permit_list.status, permit_list.reference) == ("submitted", "AZ-2026-17")
    assert permit_list.submitted_by == world.users[Role.LOGISTICS]

    refused, *approved = bookings
    entries = {e.person_id: e for e in permit_list.entries.all()}
    answers = {f"decision_{entries[b.person_id].pk}": "approved" for b in approved}
    answers[f"decision_{entries[refused.person_id].pk}"] = "refused"
    response = client.post(url, {"action": "answers", "note": "note 12/3", **answers})
    assert response.status_code == 302
    permit_list.refresh_from_db()
    assert permit_list.status == PermitList.Status.ANSWERED
    entry = PermitEntry.objects.get(pk=entries[refused.person_id].pk)
    assert (entry.decision, entry.note) == ("refused", "note 12/3") and entry.decided_at

    page = client.get(url)
    assert page.status_code == 200
    (blocked,) = page.context["blocked"]
    assert blocked.person.pk == refused.person_id and blocked.bookings == [refused]
    html = page.content.decode()
    assert 'id="refused-warning"' in html and "cannot board" in html

    with pytest.raises(Conflict, match="refused: do not board"):
        services.booking_board(actor=world.users[Role.LOGISTICS], booking=refused)
    services.booking_board(actor=world.users[Role.LOGISTICS], booking=approved[0])
    assert Booking.objects.get(pk=refused.pk).status == "offered"

    # An answer taken back: the list waits for the state again.
    client.post(url, {"action": "answers", f"decision_{entry.pk}": "pending"})
    permit_list.refresh_from_db()
    assert permit_list.status == PermitList.Status.SUBMITTED


def test_one_answer_for_many_and_people_added_after_submission(world: World) -> None:
    leg = _bus(world)
    _booked(world, leg, 2)
    client = world.client(Role.LOGISTICS)
    _build(client)
    permit_list = PermitList.objects.get(crisis=world.crisis)
    url = f"/transport/permits/{permit_list.pk}/"
    client.post(url, {"action": "submit", "reference": "AZ-1"})
    first = permit_list.entries.first()
    client.post(
        url,
        {"action": "answers", "scope": "selected", "bulk_decision": "refused", "entry": first.pk},
    )
    client.post(url, {"action": "answers", "scope": "pending", "bulk_decision": "approved"})
    assert dict(permit_list.entries.values_list("pk", "decision")) == {
        e.pk: ("refused" if e.pk == first.pk else "approved") for e in permit_list.entries.all()
    }
    permit_list.refresh_from_db()
    assert permit_list.status == PermitList.Status.ANSWERED

    # Two more people booked: the page says so, a refresh adds them, the list must go again.
    _booked(world, leg, 2)
    page = client.get(url)
    assert page.context["not_listed"] == 2
    client.post(url, {"action": "refresh"})
    permit_list.refresh_from_db()
    assert permit_list.entries.count() == 4
    assert permit_list.status == PermitList.Status.DRAFT  # sent again once submitted again
    assert permit_list.entries.filter(decision="refused").count() == 1  # answers are kept
    client.post(url, {"action": "answers", "scope": "all", "bulk_decision": "approved"})
    assert set(permit_list.entries.values_list("decision", flat=True)) == {"approved"}


def test_the_page_masks_document_numbers_and_the_exports_carry_them_audited(
    world: World,
) -> None:
    leg = _bus(world)
    household, _ = _booked(world, leg, 2)
    client = world.client(Role.LOGISTICS)
    _build(client)
    permit_list = PermitList.objects.get(crisis=world.crisis)
    people = list(Person.objects.filter(household=household).order_by("id"))
    numbers = [p.documents.get().number for p in people]

    page = client.get(f"/transport/permits/{permit_list.pk}/").content.decode()
    for person, number in zip(people, numbers, strict=True):
        assert number not in page
        assert f"…{number[-3:]}" in page
        assert person.surname_latin in page
    assert AuditEntry.objects.filter(verb="permit_detail", action="read").exists()

    response = client.get(f"/transport/permits/{permit_list.pk}/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"permits-{ASTARA}-{_tomorrow():%Y-%m-%d}.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[1].startswith("Surname") and "Document number" in header
    by_number = {r[header.index("Document number")]: r for r in body}
    assert set(by_number) == set(numbers)
    for person, number in zip(people, numbers, strict=True):
        row = by_number[number]
        assert row[1:4] == [
            person.surname_latin,
            person.given_names_latin,
            person.birth_date.isoformat(),
        ]
        assert row[header.index("Nationality")] == "KAZ"
        assert row[header.index("Document expiry")] == "2031-05-01"
    audit = AuditEntry.objects.get(verb="permit_export")
    assert audit.action == AuditEntry.Action.EXPORT and audit.object_id == str(permit_list.pk)
    assert audit.changes == {"format": "csv", "people": 2}

    response = client.get(f"/transport/permits/{permit_list.pk}/export.xlsx")
    assert response.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert {r[7] for r in values[1:]} == set(numbers)
    assert AuditEntry.objects.filter(verb="permit_export").count() == 2
    assert client.get(f"/transport/permits/{permit_list.pk}/export.pdf").status_code == 404


def test_answers_that_do_not_fit_are_refused_with_a_message(world: World) -> None:
    leg = _bus(world)
    _booked(world, leg, 1)
    other_leg = _bus(world, days=2)
    _booked(world, other_leg, 1)
    client = world.client(Role.LOGISTICS)
    _build(client)
    _build(client, day=_tomorrow() + timedelta(days=1))
    mine, other = PermitList.objects.order_by("day")
    entry, foreign = mine.entries.get(), other.entries.get()
    url = f"/transport/permits/{mine.pk}/"

    response = client.post(url, {"action": "answers", f"decision_{entry.pk}": "maybe"}, follow=True)
    assert "Unknown decision." in response.content.decode()
    response = client.post(
        url, {"action": "answers", f"decision_{foreign.pk}": "refused"}, follow=True
    )
    assert "Not on this list." in response.content.decode()
    response = client.post(
        url, {"action": "answers", "scope": "selected", "bulk_decision": "approved"}, follow=True
    )
    assert "Tick the people" in response.content.decode()
    assert set(PermitEntry.objects.values_list("decision", flat=True)) == {"pending"}


def test_building_needs_a_crossing_and_accepts_one_without_known_permits(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    airport = place("airport", iata="IKA")
    response = client.post("/transport/permits/", {"crossing": airport.pk, "day": "2026-03-12"})
    assert response.status_code == 400
    assert response.context["form"].errors["crossing"] == ["Choose a border crossing."]
    response = client.post("/transport/permits/", {"crossing": "", "day": "12/03/2026"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"crossing", "day"}
    assert not PermitList.objects.exists()
    with pytest.raises(ApplicationError, match="border crossings"):
        services.permit_list_build(
            actor=None, crisis=world.crisis, crossing=airport, day=_tomorrow()
        )

    # Norduz's entry state (Armenia) is not known to want permits: a list may be kept all
    # the same (states change their rules in a crisis), with a warning.
    _booked(world, _bus(world, "IR-AM-NORDUZ"), 1)
    response = _build(client, "IR-AM-NORDUZ")
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "does not say this crossing wants permits" in page.content.decode()
    # A crossing with a list shows in the overview although it does not want permits.
    rows = client.get("/transport/permits/").context["overview"].rows
    assert any(r.crossing.code == "IR-AM-NORDUZ" and r.listed == 1 for r in rows)


def test_an_empty_list_cannot_be_submitted(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    _build(client)
    permit_list = PermitList.objects.get()
    response = client.post(
        f"/transport/permits/{permit_list.pk}/", {"action": "submit"}, follow=True
    )
    assert "The list is empty" in response.content.decode()
    permit_list.refresh_from_db()
    assert permit_list.status == PermitList.Status.DRAFT


# Access --------------------------------------------------------------------------------------


def test_roles_without_transport_or_personal_data_get_403(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    _build(client)
    permit_list = PermitList.objects.get()
    for persona in (Role.OPERATOR, Role.CONSUL, Role.DUTY_OFFICER, Role.OBSERVER):
        other = world.client(persona)
        assert other.get("/transport/permits/").status_code == 403
        assert other.get(f"/transport/permits/{permit_list.pk}/").status_code == 403
        assert other.get(f"/transport/permits/{permit_list.pk}/export.csv").status_code == 403
    assert world.client(Role.CRISIS_MANAGER).get("/transport/permits/").status_code == 200


def test_a_list_of_another_crisis_is_not_found(world: World) -> None:
    foreign = services.permit_list_build(
        actor=None,
        crisis=world.other_crisis,
        crossing=place("crossing", code=ASTARA),
        day=_tomorrow(),
    )
    client = world.client(Role.LOGISTICS)
    assert client.get(f"/transport/permits/{foreign.pk}/").status_code == 404
    assert client.get(f"/transport/permits/{foreign.pk}/export.csv").status_code == 404
    assert client.post(f"/transport/permits/{foreign.pk}/", {"action": "submit"}).status_code == 404
    assert not AuditEntry.objects.filter(verb="permit_export").exists()


# The API -------------------------------------------------------------------------------------


def test_the_api_builds_submits_and_answers_by_reference_code(world: World) -> None:
    leg = _bus(world)
    _household, bookings = _booked(world, leg, 3)
    api = world.api(Role.LOGISTICS)
    body = {"crossing": ASTARA, "day": _tomorrow().isoformat()}
    url = f"/api/permits?crisis={world.crisis.pk}"

    created = _api(api, "post", url, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert created.status_code == 201, created.content
    again = _api(api, "post", url, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (again.status_code, again.json()) == (201, created.json())
    data = created.json()
    assert (data["people"], data["pending"], data["crossing"]["code"]) == (3, 3, ASTARA)
    entry = data["entries"][0]
    number = Person.objects.get(pk=entry["person_id"]).documents.get().number
    assert entry["document"]["number_masked"] == f"…{number[-3:]}"
    assert number not in created.content.decode()
    # Built again without a key: the list exists (200) and nobody is added twice.
    assert _api(api, "post", url, body).status_code == 200
    assert PermitList.objects.get().entries.count() == 3

    pk = data["id"]
    listed = api.get(f"/api/permits?crisis={world.crisis.pk}&crossing={ASTARA}").json()
    assert [i["id"] for i in listed["items"]] == [pk]
    assert api.get(f"/api/permits/{pk}").json()["entries"][0]["reference_code"]

    submitted = _api(api, "post", f"/api/permits/{pk}/submit", {"reference": "AZ-77"})
    assert (submitted.status_code, submitted.json()["status"]) == (200, "submitted")

    refused = bookings[0]
    code = refused.person.reference_code
    answers = [{"person": f"{code[:4]}-{code[4:]}".lower(), "decision": "refused"}]
    answers += [
        {"entry": e["id"], "decision": "approved"}
        for e in data["entries"]
        if e["person_id"] != refused.person_id
    ]
    response = _api(api, "post", f"/api/permits/{pk}/answers", {"answers": answers})
    assert response.status_code == 200, response.content
    out = response.json()
    assert out["changed"] == 3
    assert (out["permit_list"]["status"], out["permit_list"]["refused"]) == ("answered", 1)
    (mine,) = [e for e in out["permit_list"]["entries"] if e["person_id"] == refused.person_id]
    assert mine["bookings"] == [{"id": refused.pk, "leg_id": leg.pk, "status": "offered"}]
    with pytest.raises(Conflict):
        services.booking_check_in(actor=None, booking=refused)


def test_the_api_refuses_what_does_not_fit(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    url = f"/api/permits?crisis={world.crisis.pk}"
    day = _tomorrow().isoformat()

    not_crossing = _api(api, "post", url, {"crossing": "OIIE", "day": day})
    assert not_crossing.status_code == 400
    assert not_crossing.json()["extra"] == {"errors": {"crossing": ["Not a border crossing."]}}
    unknown = _api(api, "post", url, {"crossing": "NOWHERE", "day": day})
    assert unknown.status_code == 400 and "No crossing" in unknown.json()["message"]
    bad_day = _api(api, "post", url, {"crossing": ASTARA, "day": "tomorrow"})
    assert bad_day.status_code == 422 and bad_day.json()["message"].startswith("Invalid input")

    _booked(world, _bus(world), 1)
    _booked(world, _bus(world, days=2), 1)
    first = _api(api, "post", url, {"crossing": ASTARA, "day": day}).json()
    second = _api(
        api,
        "post",
        url,
        {"crossing": ASTARA, "day": (_tomorrow() + timedelta(days=1)).isoformat()},
    ).json()
    answers = f"/api/permits/{first['id']}/answers"
    foreign_entry = second["entries"][0]["id"]
    response = _api(
        api, "post", answers, {"answers": [{"entry": foreign_entry, "decision": "refused"}]}
    )
    assert response.status_code == 400
    assert response.json() == {
        "message": "Not on this list.",
        "extra": {"entries": [foreign_entry]},
    }
    response = _api(
        api, "post", answers, {"answers": [{"person": "ZZZZ-ZZZZ", "decision": "refused"}]}
    )
    assert response.status_code == 400 and response.json()["extra"] == {"people": ["ZZZZ-ZZZZ"]}
    entry = first["entries"][0]["id"]
    response = _api(api, "post", answers, {"answers": [{"entry": entry, "decision": "maybe"}]})
    assert response.status_code == 422 and "decision" in response.json()["message"]
    both = {"entry": entry, "person": first["entries"][0]["reference_code"], "decision": "refused"}
    assert _api(api, "post", answers, {"answers": [both]}).status_code == 400
    assert _api(api, "post", answers, {"answers": []}).status_code == 422
    assert set(PermitEntry.objects.values_list("decision", flat=True)) == {"pending"}

    empty = _api(api, "post", url, {"crossing": "IR-AZ-JOLFA", "day": day}).json()
    response = _api(api, "post", f"/api/permits/{empty['id']}/submit", {})
    assert response.status_code == 409 and "empty" in response.json()["message"]
    assert world.api(Role.OPERATOR).get(url).status_code == 403
    assert api.get("/api/permits/999999").status_code == 404


# Cost recovery -------------------------------------------------------------------------------


def test_the_policy_form_is_for_crisis_managers_and_validates(world: World) -> None:
    logistics = world.client(Role.LOGISTICS)
    page = logistics.get("/transport/policy/")
    assert page.status_code == 200 and not page.context["can_change"]
    assert page.context["form"].fields["cost_recovery"].disabled
    assert logistics.post("/transport/policy/", {"cost_recovery": "on"}).status_code == 403
    assert world.client(Role.OPERATOR).get("/transport/policy/").status_code == 403

    manager = world.client(Role.CRISIS_MANAGER)
    form = {"cost_recovery": "on", "amount_rule": "fixed", "currency": "KZT", "flights_only": "on"}
    response = manager.post("/transport/policy/", form)
    assert response.status_code == 400
    assert response.context["form"].errors["fixed_amount"] == [
        "Required when the amount is a fixed amount."
    ]
    response = manager.post(
        "/transport/policy/", {**form, "fixed_amount": "50000", "currency": "k1"}
    )
    assert response.status_code == 400 and "currency" in response.context["form"].errors
    assert not TransportPolicy.objects.exists()

    response = manager.post("/transport/policy/", {**form, "fixed_amount": "50000.50"})
    assert response.status_code == 302
    policy = TransportPolicy.objects.get(crisis=world.crisis)
    assert (policy.cost_recovery, policy.amount_rule, str(policy.fixed_amount)) == (
        True,
        "fixed",
        "50000.50",
    )
    assert AuditEntry.objects.filter(verb="transport_policy_set").exists()
    assert (
        manager.get("/transport/policy/").context["form"].initial["fixed_amount"]
        == policy.fixed_amount
    )


def test_the_policy_api(world: World) -> None:
    url = f"/api/crises/{world.crisis.pk}/transport-policy"
    assert world.api(Role.LOGISTICS).get(url).json() == {
        "cost_recovery": False,
        "amount_rule": "fare",
        "fixed_amount": None,
        "currency": "KZT",
        "flights_only": True,
    }
    manager = world.api(Role.CRISIS_MANAGER)
    response = _api(manager, "put", url, {"cost_recovery": True, "amount_rule": "fixed"})
    assert response.status_code == 400
    assert response.json()["extra"]["errors"] == {"fixed_amount": ["Required."]}
    response = _api(manager, "put", url, {"cost_recovery": True, "currency": "USD"})
    assert response.status_code == 200 and response.json()["currency"] == "USD"
    assert _api(world.api(Role.LOGISTICS), "put", url, {"cost_recovery": False}).status_code == 403


def test_the_undertaking_prints_as_a_form_then_as_signed(world: World, logistics: Any) -> None:
    services.transport_policy_set(actor=logistics, crisis=world.crisis, cost_recovery=True)
    leg = make_leg(world)
    household = register_household(world, 1, language="ru")
    (booking,) = services.leg_book(actor=logistics, leg=leg, households=[household])
    client = world.client(Role.LOGISTICS)
    url = f"/transport/bookings/{booking.pk}/undertaking.pdf"

    blank = client.get(url)
    assert blank.status_code == 200 and blank["Content-Type"] == "application/pdf"
    assert blank.content.startswith(b"%PDF-")
    assert "-form.pdf" in blank["Content-Disposition"]

    services.booking_check_in(actor=logistics, booking=booking, undertaking_signed_by="Н. Ахметов")
    signed = world.client(Role.DUTY_OFFICER).get(url)
    assert signed.status_code == 200 and signed.content.startswith(b"%PDF-")
    assert "-signed.pdf" in signed["Content-Disposition"]
    entries = AuditEntry.objects.filter(verb="undertaking_print").order_by("id")
    assert [e.changes["signed"] for e in entries] == [False, True]

    assert world.client(Role.OPERATOR).get(url).status_code == 403
    # No undertaking asked for this seat and none recorded: nothing to print.
    bus = _bus(world)
    (other,) = services.leg_book(
        actor=logistics, leg=bus, households=[register_household(world, 1)]
    )
    assert client.get(f"/transport/bookings/{other.pk}/undertaking.pdf").status_code == 409


def test_the_undertaking_is_in_the_persons_language(
    world: World, logistics: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aman.transport import undertakings

    services.transport_policy_set(actor=logistics, crisis=world.crisis, cost_recovery=True)
    (booking,) = services.leg_book(
        actor=logistics, leg=make_leg(world), households=[register_household(world, 1)]
    )
    seen: dict[str, Any] = {}
    real = undertakings.render_to_string

    def spy(template: str, context: dict[str, Any]) -> str:
        from django.utils.translation import get_language

        seen["language"] = get_language()
        seen["amount"] = (context["amount"], context["currency"])
        return real(template, context)

    Person.objects.filter(pk=booking.person_id).update(language="kk")
    monkeypatch.setattr(undertakings, "render_to_string", spy)
    response = world.client(Role.LOGISTICS).get(f"/transport/bookings/{booking.pk}/undertaking.pdf")
    assert response.status_code == 200
    assert seen["language"] == "kk"
    assert str(seen["amount"][0]) == "95000.00" and seen["amount"][1] == "KZT"
