"""The gate through its real interfaces: the manifest a device keeps, answers to a boarding
pass, a passport or ID-card zone and a typed reference code, scans applied once each
(online and synchronised from a device that was offline), conflicts, transit permits and
undertakings."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.identity import mrz
from aman.registry.models import Document, Person
from aman.transport import gate, passes, services
from aman.transport.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    GateScan,
    Leg,
    PermitDecision,
    Undertaking,
)
from tests.conftest import World
from tests.transport.conftest import make_leg, place, register_household

pytestmark = pytest.mark.django_db


def book(world: World, leg: Leg, size: int = 3, **extra: Any) -> list[Booking]:
    household = register_household(world, size, **extra)
    return services.leg_book(actor=world.users[Role.LOGISTICS], leg=leg, households=[household])


def pass_of(booking: Booking) -> str:
    return passes.pass_code(
        booking_id=booking.pk, leg_id=booking.leg_id, person_id=booking.person_id
    )


def zone(booking: Booking, *, td1: bool = False, expiry: date | None = None) -> str:
    """The passport (or ID card) zone of the booked person's document, as a scanner types it:
    the lines with Enter between them."""
    person = Person.objects.get(pk=booking.person_id)
    document = Document.objects.get(person=person)
    build = mrz.build_td1 if td1 else mrz.build_td3
    lines = build(
        surname=person.surname_latin,
        given_names=person.given_names_latin,
        document_number=document.number,
        birth_date=person.birth_date,
        sex=person.sex or "X",
        expiry_date=expiry or document.expiry_date,
    )
    # The check digits are the standard's (ICAO 9303 part 3).
    assert lines[1][-1] == mrz.check_digit(
        (lines[0][5:30] + lines[1][0:7] + lines[1][8:15] + lines[1][18:29])
        if td1
        else (lines[1][0:10] + lines[1][13:20] + lines[1][21:43])
    )
    return "\r\n".join(lines)


def officer(world: World) -> Client:
    return world.client(Role.DUTY_OFFICER)


def scan(client: Client, leg: Leg, **body: Any) -> dict[str, Any]:
    body.setdefault("id", f"t-{hashlib.sha256(repr(sorted(body.items())).encode()).hexdigest()}")
    response = client.post(
        f"/transport/legs/{leg.pk}/gate/scan", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def sync(client: Client, leg: Leg, scans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = client.post(
        f"/transport/legs/{leg.pk}/gate/sync",
        json.dumps({"scans": scans}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["results"]


# The manifest ---------------------------------------------------------------------------------


def test_the_manifest_holds_what_the_gate_needs_and_no_numbers(world: World) -> None:
    leg = make_leg(world)
    bookings = book(world, leg, 3, phones=["+77011234567"])
    response = officer(world).get(f"/transport/legs/{leg.pk}/gate/manifest.json")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    body = response.content.decode()
    data = response.json()
    assert data["leg"]["id"] == leg.pk and len(data["bookings"]) == 3
    first = next(b for b in data["bookings"] if b["id"] == bookings[0].pk)
    person = bookings[0].person
    assert first["ref"] == person.reference_code_display
    assert (first["surname"], first["given_names"]) == (
        person.surname_latin,
        person.given_names_latin,
    )
    assert first["status"] == "offered" and first["household"] == person.household_id
    assert sorted(first["members"]) == sorted(b.pk for b in bookings[1:])
    assert first["document"] == {"state": "ok", "kind": "passport", "expiry": "2031-05-01"}
    assert first["permit"] is None and first["undertaking"] is None and first["cases"] == []
    assert "priority_text" in first and "vulnerable" in first
    # The device recognises a pass and a passport by fingerprints only.
    assert first["pass"] == hashlib.sha256(pass_of(bookings[0]).encode()).hexdigest()
    number = Document.objects.get(person=person).number
    assert first["docs"] == [hashlib.sha256(f"{data['salt']}:{number}".encode()).hexdigest()]
    # No document number, phone or signed pass code in clear on the device.
    for b in bookings:
        assert Document.objects.get(person_id=b.person_id).number not in body
        assert pass_of(b) not in body
    assert "7011234567" not in body and "phone" not in body
    # The download is an audited export.
    entry = AuditEntry.objects.get(verb="gate_manifest")
    assert entry.action == AuditEntry.Action.EXPORT and entry.object_id == str(leg.pk)


def test_the_salt_is_per_leg_and_stable(world: World) -> None:
    one, two = make_leg(world), make_leg(world, number="KC 7002")
    assert gate.leg_salt(one) == gate.leg_salt(one) != gate.leg_salt(two)


def test_only_gate_officers_of_the_crisis_reach_the_gate(world: World) -> None:
    leg = make_leg(world)
    url = f"/transport/legs/{leg.pk}/gate/"
    for persona in (Role.DUTY_OFFICER, Role.LOGISTICS, Role.CRISIS_MANAGER):
        assert world.client(persona).get(url).status_code == 200
    for persona in (Role.OPERATOR, Role.CONSUL, Role.OBSERVER, Role.PARTNER_LIAISON):
        assert world.client(persona).get(url).status_code == 403
        assert world.client(persona).get(url + "manifest.json").status_code == 403
    elsewhere = services.leg_create(
        actor=None,
        crisis=world.other_crisis,
        data={
            "mode": "bus",
            "origin": place("airport", iata="IKA"),
            "destination": place("airport", iata="ALA"),
            "departure_planned": timezone.now() + timedelta(days=1),
            "capacity": 5,
        },
    )
    assert officer(world).get(f"/transport/legs/{elsewhere.pk}/gate/").status_code == 404
    # Without a current crisis, no leg is the officer's (and the scan endpoint says the same).
    duty = world.users[Role.DUTY_OFFICER]
    duty.current_crisis = None
    duty.save(update_fields=["current_crisis"])
    assert officer(world).get(url).status_code == 404
    scan_url = f"/transport/legs/{leg.pk}/gate/scan"
    body = {"id": "x", "text": "ABCDEFGH", "action": "lookup"}
    assert officer(world).post(scan_url, body, content_type="application/json").status_code == 404


def test_the_page_carries_its_words_and_the_script(world: World) -> None:
    leg = make_leg(world)
    response = officer(world).get(f"/transport/legs/{leg.pk}/gate/")
    html = response.content.decode()
    assert 'id="gate-config"' in html and "aman/gate.js" in html
    config = json.loads(html.split('id="gate-config" type="application/json">')[1].split("<")[0])
    assert config["urls"]["sync"] == f"/transport/legs/{leg.pk}/gate/sync"
    assert config["strings"]["verdicts"]["boarded"]["message"] == "Already boarded."
    with open("src/aman/static/aman/gate.js", encoding="utf-8") as f:
        script = f.read()
    # The script has no words of its own: every text comes from the page.
    for english in ("Boarded", "Already", "Offline", "Conflict", "Check-in"):
        assert f'"{english}' not in script and f"'{english}" not in script


# Answers --------------------------------------------------------------------------------------


def test_a_boarding_pass_is_answered_with_the_household(world: World) -> None:
    leg = make_leg(world)
    bookings = book(world, leg, 3)
    answer = gate.gate_answer(leg, pass_of(bookings[0]))
    assert answer["kind"] == "qr" and answer["verdict"] == "ok" and answer["level"] == "ok"
    assert answer["booking"]["id"] == bookings[0].pk
    assert {m["id"] for m in answer["household"]} == {b.pk for b in bookings[1:]}
    assert all(m["status"] == "offered" for m in answer["household"])
    # Lower case (a scanner with caps lock) is the same code.
    assert gate.gate_answer(leg, pass_of(bookings[1]).lower())["booking"]["id"] == bookings[1].pk


def test_a_pass_for_another_leg_says_which(world: World) -> None:
    leg, other = make_leg(world), make_leg(world, number="KC 7002")
    (elsewhere,) = book(world, other, 1)
    answer = gate.gate_answer(leg, pass_of(elsewhere))
    assert answer["verdict"] == "other_leg" and answer["level"] == "stop"
    assert answer["message"] == f"This pass is for another leg: {other}"
    assert answer["booking"] is None


def test_a_forged_pass_is_not_valid(world: World) -> None:
    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    code = pass_of(booking)
    forged = code[:-4] + ("AAAA" if not code.endswith("AAAA") else "BBBB")
    for text in (forged, f"AMAN1:{booking.pk}:{leg.pk}", "AMAN1:x:y:z"):
        answer = gate.gate_answer(leg, text)
        assert (answer["verdict"], answer["message"]) == ("invalid_pass", "Not a valid pass.")
    # A genuine code with another booking's number is forged too.
    assert gate.gate_answer(leg, code.replace(f":{booking.pk}:", ":999999:"))["verdict"] == (
        "invalid_pass"
    )


@pytest.mark.parametrize("td1", [False, True], ids=["passport TD3", "ID card TD1"])
def test_a_passport_zone_finds_the_booking(world: World, td1: bool) -> None:
    leg = make_leg(world)
    bookings = book(world, leg, 2)
    answer = gate.gate_answer(leg, zone(bookings[1], td1=td1))
    assert answer["kind"] == "mrz" and answer["verdict"] == "ok"
    assert answer["booking"]["id"] == bookings[1].pk
    # The same zone typed as one run of characters (a scanner sending no line breaks).
    flat = zone(bookings[1], td1=td1).replace("\r\n", "")
    assert gate.gate_answer(leg, flat)["booking"]["id"] == bookings[1].pk


def test_a_renewed_passport_is_matched_by_names_and_birth_date_never_by_guess(
    world: World,
) -> None:
    leg = make_leg(world)
    # Twins: the same surname and birth date, each with a passport on record.
    twins = book(world, leg, 1, birth_date="2010-04-04")
    twins += book(world, leg, 1, birth_date="2010-04-04")
    a, b = (Person.objects.get(pk=t.person_id) for t in twins)
    Person.objects.filter(pk=b.pk).update(
        surname=a.surname, surname_latin=a.surname_latin, given_names_latin="ERLAN"
    )
    b.refresh_from_db()
    assert a.given_names_latin == "NURLAN"
    renewed = mrz.build_td3(
        surname=b.surname_latin,
        given_names=b.given_names_latin,
        document_number="N99990000",  # not on record
        birth_date=b.birth_date,
        sex=b.sex or "X",
        expiry_date=date(2035, 1, 1),
    )
    answer = gate.gate_answer(leg, "\r\n".join(renewed))
    assert answer["booking"]["id"] == twins[1].pk, "the twin whose given names it carries"
    assert any("not on record" in w for w in answer["warnings"])
    # Given names a zone cuts short match too: two people match, none is picked.
    Person.objects.filter(pk=a.pk).update(given_names_latin="ERLAN ALI")
    answer = gate.gate_answer(leg, "\r\n".join(renewed))
    assert answer["verdict"] == "ambiguous" and answer["booking"] is None
    assert "several people" in answer["message"]


def test_an_unreadable_zone_names_the_field_not_the_number(world: World) -> None:
    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    lines = zone(booking).split("\r\n")
    number = Document.objects.get(person_id=booking.person_id).number
    broken = lines[1][:2] + ("7" if lines[1][2] != "7" else "8") + lines[1][3:]
    answer = gate.gate_answer(leg, f"{lines[0]}\n{broken}")
    assert answer["verdict"] == "unreadable"
    assert "document number" in answer["message"] and number not in answer["message"]


def test_a_passport_of_someone_not_on_the_leg(world: World) -> None:
    leg, other = make_leg(world), make_leg(world, number="KC 7002")
    (elsewhere,) = book(world, other, 1)
    assert gate.gate_answer(leg, zone(elsewhere))["verdict"] == "not_on_leg"


def test_a_typed_reference_code(world: World) -> None:
    leg = make_leg(world)
    bookings = book(world, leg, 2)
    code = bookings[0].person.reference_code
    for typed in (code, code.lower(), f" {code[:4]}-{code[4:]} "):
        answer = gate.gate_answer(leg, typed)
        assert answer["kind"] == "manual" and answer["booking"]["id"] == bookings[0].pk
    assert gate.gate_answer(leg, "ZZZZ-ZZZZ")["verdict"] == "unknown"
    assert gate.gate_answer(leg, "hello")["verdict"] == "unknown"
    nobody = Person.objects.get(pk=world.people["IR"])
    assert gate.gate_answer(leg, nobody.reference_code)["verdict"] == "not_on_leg"


def test_an_expired_document_is_said(world: World) -> None:
    leg = make_leg(world)
    bookings = book(world, leg, 2)
    Document.objects.filter(person_id=bookings[0].person_id).update(expiry_date=date(2020, 1, 1))
    answer = gate.gate_answer(leg, pass_of(bookings[0]))
    assert answer["verdict"] == "document_expired" and answer["level"] == "warn"
    assert answer["booking"]["document"] == {
        "state": "expired",
        "kind": "passport",
        "expiry": "2020-01-01",
    }
    assert any("expired on 2020-01-01" in w for w in answer["warnings"])
    # The passport in hand is what counts when it is scanned.
    expired_zone = zone(bookings[1], expiry=date(2021, 3, 3))
    answer = gate.gate_answer(leg, expired_zone)
    assert answer["verdict"] == "document_expired"
    assert any("2021-03-03" in w for w in answer["warnings"])
    Document.objects.filter(person_id=bookings[1].person_id).delete()
    assert gate.gate_answer(leg, pass_of(bookings[1]))["verdict"] == "document_missing"


def test_an_answer_takes_a_handful_of_queries_whatever_the_leg(
    world: World, django_assert_max_num_queries: Any
) -> None:
    leg = make_leg(world, capacity=40)
    bookings = [b for _ in range(8) for b in book(world, leg, 4)]
    target = bookings[-1]
    for text in (pass_of(target), zone(target), target.person.reference_code):
        # The booking, its household, the documents, the crisis's transport policy.
        with django_assert_max_num_queries(4):
            assert gate.gate_answer(leg, text)["booking"]["id"] == target.pk
    with django_assert_max_num_queries(3):
        assert len(gate.gate_manifest(leg)["bookings"]) == 32


# Scans applied --------------------------------------------------------------------------------


def test_check_in_then_board_online(world: World) -> None:
    leg = make_leg(world)
    bookings = book(world, leg, 2)
    client = officer(world)
    first = scan(client, leg, id="a1", text=pass_of(bookings[0]), action="check_in")
    assert first["result"]["result"] == "applied" and first["result"]["status"] == "checked_in"
    assert first["answer"]["booking"]["status"] == "checked_in"
    assert first["answer"]["message"] == "Booked on this leg."
    again = scan(client, leg, id="a2", text=pass_of(bookings[0]), action="check_in")
    assert again["result"]["result"] == "already"
    assert again["result"]["message"].startswith("Already checked in at ")
    board = scan(client, leg, id="a3", text=zone(bookings[0]), action="board")
    assert board["result"] == {
        "id": "a3",
        "result": "applied",
        "message": "Boarded.",
        "booking": bookings[0].pk,
        "status": "boarded",
    }
    assert board["answer"]["household"][0]["status"] == "offered"
    bookings[0].refresh_from_db()
    assert bookings[0].status == BookingStatus.BOARDED
    assert bookings[0].person.status == "boarded"
    rows = GateScan.objects.filter(leg=leg).order_by("id")
    assert [(r.kind, r.action, r.result, r.offline) for r in rows] == [
        ("qr", "check_in", "applied", False),
        ("qr", "check_in", "already", False),
        ("mrz", "board", "applied", False),
    ]
    assert rows[0].officer == world.users[Role.DUTY_OFFICER]
    boarded = AuditEntry.objects.get(verb="booking_board", object_id=str(bookings[0].pk))
    assert boarded.changes == {"status": ["checked_in", "boarded"]}
    # The person's journey and its audit entry, written with the boarding's.
    person = bookings[0].person
    journey = AuditEntry.objects.filter(verb="person_set_status", object_id=str(person.pk)).latest(
        "id"
    )
    assert (journey.object_type, journey.changes) == (
        "registry.person",
        {"status": ["assigned", "boarded"]},
    )
    assert journey.actor == boarded.actor == world.users[Role.DUTY_OFFICER]
    assert journey.crisis == boarded.crisis == world.crisis
    step = person.status_events.get(status="boarded")
    assert (step.previous, step.note, step.actor) == ("assigned", str(leg), journey.actor)
    assert AuditEntry.objects.filter(verb="gate_scan").count() == 3


def test_the_same_scan_sent_twice_counts_once(world: World) -> None:
    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    client = officer(world)
    queued = {
        "id": "5b0c2f8e-0000-4000-8000-000000000001",
        "booking": booking.pk,
        "kind": "mrz",
        "action": "board",
        "at": (timezone.now() - timedelta(minutes=5)).isoformat(),
        "offline": True,
    }
    first = sync(client, leg, [queued])
    second = sync(client, leg, [queued])  # the answer to the first was lost: sent again
    assert first[0]["result"] == second[0]["result"] == "applied"
    assert second[0].get("repeated") is True and first[0].get("repeated") is None
    assert GateScan.objects.filter(client_id=queued["id"]).count() == 1
    assert BookingEvent.objects.filter(booking=booking, status=BookingStatus.BOARDED).count() == 1
    row = GateScan.objects.get()
    assert (
        row.offline and row.kind == "mrz" and row.scanned_at < timezone.now() - timedelta(minutes=4)
    )
    # The booking's history says the scan was recorded offline; the booking, when it was.
    event = BookingEvent.objects.get(booking=booking, status=BookingStatus.BOARDED)
    assert "offline" in event.note
    booking.refresh_from_db()
    assert booking.boarded_at == row.scanned_at and booking.checked_in_at == row.scanned_at
    # The online endpoint with a resent id answers the first result too.
    online = scan(client, leg, id=queued["id"], text=pass_of(booking), action="check_in")
    assert online["result"]["result"] == "applied" and online["result"]["repeated"] is True
    assert GateScan.objects.count() == 1


def test_two_devices_boarding_the_same_person(world: World) -> None:
    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    one, two = officer(world), world.client(Role.LOGISTICS)
    r1 = sync(one, leg, [{"id": "dev1-1", "booking": booking.pk, "action": "board",
                          "offline": True}])  # fmt: skip
    r2 = sync(two, leg, [{"id": "dev2-1", "text": pass_of(booking), "action": "board",
                          "offline": True}])  # fmt: skip
    assert (r1[0]["result"], r2[0]["result"]) == ("applied", "already")
    assert r2[0]["message"].startswith("Already boarded")
    assert BookingEvent.objects.filter(booking=booking, status=BookingStatus.BOARDED).count() == 1
    assert GateScan.objects.filter(leg=leg).count() == 2


def test_a_booking_released_while_the_device_was_offline_is_a_conflict(world: World) -> None:
    leg = make_leg(world)
    a, b = book(world, leg, 2)
    services.booking_close(
        actor=world.users[Role.LOGISTICS], booking=a, status="released", note="stays"
    )
    results = sync(
        officer(world),
        leg,
        [
            {"id": "q1", "booking": a.pk, "action": "board", "offline": True},
            {"id": "q2", "booking": b.pk, "action": "board", "offline": True},
            {"id": "q3", "booking": 999999, "action": "board", "offline": True},
            {"id": "q4", "action": "jump"},
            "not a scan",
        ],
    )
    assert [r["result"] for r in results] == [
        "conflict",
        "applied",
        "unknown",
        "unknown",
        "unknown",
    ]
    assert "released on the server meanwhile" in results[0]["message"]
    a.refresh_from_db()
    assert a.status == BookingStatus.RELEASED
    # Online, the same is a plain refusal: the officer sees it at once.
    (c,) = book(world, leg, 1)
    services.booking_close(
        actor=world.users[Role.LOGISTICS], booking=c, status="released", note="stays"
    )
    online = scan(officer(world), leg, id="o1", text=pass_of(c), action="board")
    assert online["result"]["result"] == "refused"
    assert online["answer"]["verdict"] == "closed" and online["answer"]["level"] == "stop"


def test_a_boarding_synced_after_departure_corrects_the_no_show(world: World) -> None:
    from aman.registry.statuses import Status

    leg = make_leg(world)
    a, b, c = book(world, leg, 3)
    logistics = world.users[Role.LOGISTICS]
    services.leg_set_status(actor=logistics, leg=leg, status="confirmed")
    services.leg_set_status(actor=logistics, leg=leg, status="boarding")
    scanned = timezone.now() - timedelta(minutes=40)
    # The device boarded all three offline; the officer recorded the departure before the
    # device was back: all three became no-shows.
    services.leg_set_status(
        actor=logistics, leg=leg, status="departed", at=timezone.now() - timedelta(minutes=30)
    )
    assert {x.status for x in Booking.objects.filter(leg=leg)} == {BookingStatus.NO_SHOW}
    late = (timezone.now()).isoformat()  # dated after the departure: not taken
    results = sync(
        officer(world),
        leg,
        [
            {"id": "d1", "booking": a.pk, "action": "board", "offline": True,
             "at": scanned.isoformat()},
            {"id": "d2", "booking": b.pk, "action": "board", "offline": True, "at": late},
            {"id": "d3", "booking": c.pk, "action": "check_in", "offline": True,
             "at": scanned.isoformat()},
        ],
    )  # fmt: skip
    assert [r["result"] for r in results] == ["applied", "conflict", "conflict"]
    assert "no-show is corrected" in results[0]["message"]
    assert "after the departure" in results[1]["message"]
    a.refresh_from_db()
    assert a.status == BookingStatus.BOARDED
    assert abs((a.boarded_at - scanned).total_seconds()) < 1, "boarded when scanned"
    assert Person.objects.get(pk=a.person_id).status == Status.BOARDED
    event = BookingEvent.objects.filter(booking=a).latest("at")
    assert (event.previous, event.status) == ("no_show", "boarded")
    assert "synchronised after departure" in event.note
    assert AuditEntry.objects.filter(verb="booking_board_before_departure").count() == 1
    # The manifest has the person now; the others stay no-shows.
    assert {x.status for x in Booking.objects.filter(leg=leg).exclude(pk=a.pk)} == {"no_show"}
    # A no-show released by an officer before departure is not corrected: its seat may
    # have gone to someone else.
    other = make_leg(world, number="KC 7002")
    (d,) = book(world, other, 1)
    services.booking_close(actor=logistics, booking=d, status="no_show")
    for step in ("confirmed", "boarding", "departed"):
        services.leg_set_status(actor=logistics, leg=other, status=step)
    (result,) = sync(officer(world), other, [
        {"id": "d4", "booking": d.pk, "action": "board", "offline": True,
         "at": (timezone.now() - timedelta(minutes=30)).isoformat()},
    ])  # fmt: skip
    assert result["result"] == "conflict"
    assert Booking.objects.get(pk=d.pk).status == BookingStatus.NO_SHOW


def test_a_refused_transit_permit_keeps_the_person_off_the_bus(world: World) -> None:
    logistics = world.users[Role.LOGISTICS]
    astara = place("crossing", code="IR-AZ-ASTARA")
    departure = timezone.now() + timedelta(days=1)
    bus = make_leg(world, mode="bus", destination=astara, departure_planned=departure,
                   arrival_planned=None, capacity=40)  # fmt: skip
    a, b = book(world, bus, 2)
    permits = services.permit_list_build(
        actor=logistics, crisis=world.crisis, crossing=astara,
        day=timezone.localtime(departure, astara.zone).date(),
    )  # fmt: skip
    services.permit_answer(
        actor=logistics,
        permit_list=permits,
        answers={permits.entries.get(person=a.person).pk: PermitDecision.REFUSED},
    )
    manifest = gate.gate_manifest(bus)
    assert {e["id"]: e["permit"] for e in manifest["bookings"]} == {
        a.pk: "refused",
        b.pk: "pending",
    }
    answer = gate.gate_answer(bus, pass_of(a))
    assert answer["verdict"] == "permit_refused" and answer["level"] == "stop"
    client = officer(world)
    online = scan(client, bus, id="p1", text=pass_of(a), action="board")
    assert online["result"]["result"] == "refused"
    assert "transit permit" in online["result"]["message"]
    offline = sync(client, bus, [{"id": "p2", "booking": a.pk, "action": "board",
                                  "offline": True}])  # fmt: skip
    assert offline[0]["result"] == "conflict"
    a.refresh_from_db()
    assert a.status == BookingStatus.OFFERED
    assert scan(client, bus, id="p3", text=pass_of(b), action="board")["result"]["result"] == (
        "applied"
    )


def test_check_in_records_the_signed_undertaking(world: World) -> None:
    services.transport_policy_set(
        actor=world.users[Role.CRISIS_MANAGER], crisis=world.crisis, cost_recovery=True
    )
    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    entry = gate.gate_manifest(leg)["bookings"][0]
    assert entry["undertaking"] == {"amount": "95000.00", "currency": "KZT", "signed": False}
    client = officer(world)
    refused = scan(client, leg, id="u1", text=pass_of(booking), action="check_in")
    assert refused["result"]["result"] == "refused"
    assert "undertaking to repay 95000.00 KZT" in refused["result"]["message"]
    assert any("undertaking" in w for w in refused["answer"]["warnings"])
    done = scan(client, leg, id="u2", text=pass_of(booking), action="check_in",
                undertaking_signed_by="N. Akhmetov")  # fmt: skip
    assert done["result"]["result"] == "applied"
    assert done["answer"]["booking"]["undertaking"]["signed"] is True
    undertaking = Undertaking.objects.get(booking=booking)
    assert (undertaking.signed_name, undertaking.amount) == ("N. Akhmetov", 95000)


def test_scans_need_the_csrf_token(world: World) -> None:
    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.DUTY_OFFICER])
    page = client.get(f"/transport/legs/{leg.pk}/gate/")
    token = client.cookies["csrftoken"].value
    assert page.status_code == 200
    url = f"/transport/legs/{leg.pk}/gate/scan"
    body = json.dumps({"id": "c1", "text": pass_of(booking), "action": "check_in"})
    assert client.post(url, body, content_type="application/json").status_code == 403
    ok = client.post(url, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 200 and ok.json()["result"]["result"] == "applied"


def test_bad_requests_get_clear_errors(world: World) -> None:
    leg = make_leg(world)
    client = officer(world)
    url = f"/transport/legs/{leg.pk}/gate/sync"
    bad = client.post(url, "{not json", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["message"] == "The request is not valid JSON."
    many = client.post(
        url,
        json.dumps({"scans": [{"id": str(i)} for i in range(gate.SYNC_BATCH + 1)]}),
        content_type="application/json",
    )
    assert many.status_code == 400 and "At most 500" in many.json()["message"]
    assert client.get(url).status_code == 405


def test_odd_scans_are_answered_and_never_block_a_queue(world: World) -> None:
    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    client = officer(world)
    for text in (
        "AMAN1:²:1:AAAAAAAAAAAAAAAA",
        f"AMAN1:{booking.pk}:{leg.pk}:é",
        "AMAN1:" + "9" * 25 + ":1:X",
    ):
        answer = scan(client, leg, text=text, action="board")
        assert answer["result"]["result"] == "unknown", text
    results = sync(
        client,
        leg,
        [
            {"id": "odd-1", "booking": "9" * 30, "action": "board", "offline": True},
            {"id": "odd-2", "booking": booking.pk, "action": "board", "offline": True},
        ],
    )
    assert [r["result"] for r in results] == ["unknown", "applied"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.BOARDED


def test_a_scan_id_of_another_leg_reveals_nothing(world: World) -> None:
    first, second = make_leg(world), make_leg(world, number="KC 2")
    (booking,) = book(world, first, 1)
    client = officer(world)
    scan = {"id": "same-id", "booking": booking.pk, "action": "board", "offline": True}
    assert sync(client, first, [scan])[0]["result"] == "applied"
    other = sync(client, second, [{**scan, "booking": 0}])[0]
    assert other == {
        "id": "same-id",
        "result": "unknown",
        "message": "This scan was recorded for another leg.",
        "booking": None,
        "status": None,
    }


def test_the_field_of_an_unreadable_zone_is_named_in_the_officers_language(
    world: World, monkeypatch: Any
) -> None:
    from django.utils import translation
    from django.utils.translation import trans_real

    leg = make_leg(world)
    (booking,) = book(world, leg, 1)
    lines = zone(booking).split("\r\n")
    broken = lines[1][:2] + ("7" if lines[1][2] != "7" else "8") + lines[1][3:]
    catalogue = trans_real.translation("ru")._catalog._catalogs[0]  # type: ignore[attr-defined]
    monkeypatch.setitem(catalogue, "MRZ field\x04document number", "номер документа")
    with translation.override("ru"):
        answer = gate.gate_answer(leg, f"{lines[0]}\n{broken}")
    assert answer["verdict"] == "unreadable"
    assert "номер документа" in answer["message"] and "document number" not in answer["message"]
