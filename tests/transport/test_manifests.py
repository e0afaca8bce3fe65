"""Manifests of a leg through the page, the REST API and `aman manifest`: CSV and XLSX
columns with the passport's names, PAXLST that parses, PDF, audit, access, query count."""

from __future__ import annotations

import csv
import io
import re
import warnings
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Document, Person
from aman.transport import manifests, services
from aman.transport.models import Booking, BookingStatus, Leg
from aman.transport.services import leg_create
from tests.conftest import World
from tests.transport.conftest import make_leg, place, register_household
from tests.transport.pdftext import pdf_objects, pdf_pages, pdf_text

pytestmark = pytest.mark.django_db


def _parse_edifact(text: str) -> Any:
    from pydifact.segmentcollection import Interchange

    with warnings.catch_warnings():
        # pydifact ships no segment directory for syntax version 4: it says so, and parses.
        warnings.simplefilter("ignore")
        return Interchange.from_str(text)


@pytest.fixture
def booked(world: World, logistics: Any) -> dict[str, Any]:
    """A leg with two households (3 + 2 people) booked, one person released, one with a
    passport whose printed Latin is not the ICAO transliteration of the Cyrillic name."""
    h1 = register_household(world, 3)
    h2 = register_household(world, 2)
    leg = make_leg(world, capacity=10)
    bookings = services.leg_book(actor=logistics, leg=leg, households=[h1, h2])
    # The man (Ахметов Нұрлан), whichever order the household was booked in.
    first = next(b for b in bookings if b.household_id == h1.pk and b.person.sex == "M")
    Document.objects.filter(person=first.person).update(
        surname_latin="AHMETOV", given_names_latin="NURLAN"
    )
    services.booking_confirm(actor=logistics, booking=first)
    services.booking_check_in(actor=logistics, booking=first, seat="3C")
    gone = next(b for b in bookings if b.household_id == h2.pk)
    services.booking_close(
        actor=logistics, booking=gone, status=BookingStatus.RELEASED, note="stays"
    )
    return {"leg": leg, "first": first, "gone": gone, "h1": h1, "h2": h2}


def _csv_rows(content: bytes) -> list[dict[str, str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    text = content.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_has_every_passenger_with_the_passport_names(world: World, booked: dict) -> None:
    leg, first = booked["leg"], booked["first"]
    response = world.client(Role.LOGISTICS).get(f"/transport/legs/{leg.pk}/manifest.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0].split(",") == manifests.COLUMNS
    rows = _csv_rows(response.content)
    # The released booking holds no seat: 4 passengers of 5 booked.
    assert len(rows) == 4
    assert booked["gone"].person.reference_code_display not in text
    assert [r["surname"] for r in rows] == sorted(r["surname"] for r in rows)
    person = Person.objects.get(pk=first.person_id)
    mine = next(r for r in rows if r["reference_code"] == person.reference_code_display)
    # The document's printed Latin wins over the transliteration of Ахметов (AKHMETOV).
    assert person.surname_latin == "AKHMETOV"
    assert (mine["surname"], mine["given_names"]) == ("AHMETOV", "NURLAN")
    doc = person.documents.get()
    assert mine == {
        "surname": "AHMETOV",
        "given_names": "NURLAN",
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat(),
        "nationality": "KAZ",
        "document_type": "P",
        "document_number": doc.number,
        "issuing_state": "KAZ",
        "document_expiry": "2031-05-01",
        "seat": "3C",
        "status": "checked_in",
        "reference_code": person.reference_code_display,
        "household": str(booked["h1"].pk),
    }
    others = [r for r in rows if r is not mine]
    # Without Latin on the document, the person's passport Latin (never empty, never Cyrillic).
    assert all(r["surname"].startswith("AKHMETOV") for r in others)
    assert all(r["status"] == "offered" for r in others)


def test_a_formula_in_a_cell_is_neutralised(world: World, booked: dict) -> None:
    Booking.objects.filter(pk=booked["first"].pk).update(seat="=1+2")
    file = manifests.manifest_export(actor=None, leg=booked["leg"], fmt="csv")
    assert "'=1+2" in file.content.decode("utf-8-sig")


def test_xlsx_through_the_api(world: World, booked: dict) -> None:
    from openpyxl import load_workbook

    leg = booked["leg"]
    response = world.api(Role.CRISIS_MANAGER).get(f"/api/legs/{leg.pk}/manifest?format=xlsx")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Manifest"]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == manifests.COLUMNS
    assert len(rows) == 5
    data = [dict(zip(manifests.COLUMNS, r, strict=True)) for r in rows[1:]]
    mine = next(r for r in data if r["surname"] == "AHMETOV")
    assert mine["document_expiry"].date() == date(2031, 5, 1)  # a real date cell
    assert mine["nationality"] == "KAZ" and mine["seat"] == "3C"
    assert mine["household"] == booked["h1"].pk
    facts = dict(book["Leg"].iter_rows(values_only=True))
    assert facts["number"] == "KC 7001" and facts["passengers"] == "4"


def test_paxlst_parses_back_with_every_passenger(world: World, booked: dict) -> None:
    leg = booked["leg"]
    # An apostrophe is EDIFACT's segment terminator: it must travel escaped.
    Document.objects.filter(person=booked["first"].person).update(surname_latin="O'NEIL")
    response = world.api(Role.LOGISTICS).get(f"/api/legs/{leg.pk}/manifest?format=paxlst")
    assert response.status_code == 200, response.content
    text = response.content.decode("ascii")
    assert text.startswith("UNA:+.? '")
    assert "O?'NEIL" in text
    interchange = _parse_edifact(text)
    assert interchange.segments[0].tag == "UNH"
    messages = list(interchange.get_messages())
    assert len(messages) == 1
    message = messages[0]
    assert message.type == "PAXLST" and message.identifier[:3] == ["PAXLST", "D", "05B"]
    tags = [s.tag for s in message.segments]
    assert tags[:3] == ["BGM", "NAD", "TDT"]
    assert message.get_segment("BGM").elements == ["745"]
    assert message.get_segment("NAD").elements[0] == "MS"
    assert message.get_segment("TDT").elements[:2] == ["20", "KC7001"]
    assert message.get_segment("LOC", lambda s: s.elements[0] == "125").elements[1] == "IKA"
    assert message.get_segment("LOC", lambda s: s.elements[0] == "87").elements[1] == "ALA"
    assert message.get_segment("DTM", lambda s: s.elements[0][0] == "189") is not None
    assert message.get_segment("DTM", lambda s: s.elements[0][0] == "232") is not None
    passengers = list(message.get_segments("NAD", lambda s: s.elements[0] == "FL"))
    assert len(passengers) == 4
    names = {p.elements[3][0] for p in passengers}
    assert "O'NEIL" in names
    assert message.get_segment("CNT").elements == [["42", "4"]]
    for tag, count in (("ATT", 4), ("NAT", 4), ("DOC", 4)):
        assert tags.count(tag) == count
    assert tags.count("LOC") == 2 + 4 * 3  # the leg's two, and 178, 179, 91 per passenger
    doc = next(message.get_segments("DOC"))
    assert doc.elements[0] == ["P", "110", "111"]
    assert message.get_segment("DTM", lambda s: s.elements[0][0] == "36").elements == [
        ["36", "310501"]
    ]
    # UNT counts every segment of the message, UNH and UNT included.
    raw = [s for s in interchange.segments]
    unh, unt = (
        next(i for i, s in enumerate(raw) if s.tag == "UNH"),
        next(i for i, s in enumerate(raw) if s.tag == "UNT"),
    )
    assert raw[unt].elements == [str(unt - unh + 1), "1"]
    assert int(raw[unt].elements[0]) == len(message.segments) + 2
    assert raw[-1].tag == "UNT"
    assert text.rstrip().endswith(f"UNZ+1+{interchange.control_reference}'")


@pytest.fixture
def bus_to_astara(world: World, logistics: Any) -> Leg:
    """A bus from Tehran's airport to the Astara crossing (Iran's side: the place's country is
    Iran; the state entered there is Azerbaijan), with a household of two booked."""
    astara = place("crossing", code="IR-AZ-ASTARA")
    assert (astara.country.code, astara.entry_country and astara.entry_country.code) == (
        "IR",
        "AZ",
    )
    leg = make_leg(
        world, mode="bus", destination=astara, number="", carrier="Tabriz Bus", fare=None
    )
    services.leg_book(actor=logistics, leg=leg, households=[register_household(world, 2)])
    return leg


def _paxlst(content: bytes) -> tuple[Any, Any]:
    interchange = _parse_edifact(content.decode("ascii"))
    (message,) = list(interchange.get_messages())
    return interchange, message


def test_paxlst_of_a_bus_to_a_crossing_goes_to_the_state_entered(
    world: World, bus_to_astara: Leg, booked: dict
) -> None:
    api = world.api(Role.LOGISTICS)
    response = api.get(f"/api/legs/{bus_to_astara.pk}/manifest?format=paxlst")
    assert response.status_code == 200, response.content
    interchange, message = _paxlst(response.content)
    assert interchange.recipient == ["AZE", "ZZ"]  # not IRN, the state the bus leaves
    arrival = message.get_segment("LOC", lambda s: s.elements[0] == "87")
    assert arrival.elements == ["87", "IR-AZ-ASTARA", "AZE"]
    assert len(list(message.get_segments("NAD", lambda s: s.elements[0] == "FL"))) == 2
    # Where the passengers disembark: the crossing, as before.
    assert {
        s.elements[1] for s in message.get_segments("LOC", lambda s: s.elements[0] == "179")
    } == {"IR-AZ-ASTARA"}
    entry = AuditEntry.objects.filter(verb="manifest_export").latest("id")
    assert entry.changes == {"format": "paxlst", "recipient": "AZE", "count": 2}
    # A flight: the destination's country, and the arrival airport alone.
    flight = api.get(f"/api/legs/{booked['leg'].pk}/manifest?format=paxlst")
    interchange, message = _paxlst(flight.content)
    assert interchange.recipient == ["KAZ", "ZZ"]
    assert message.get_segment("LOC", lambda s: s.elements[0] == "87").elements == ["87", "ALA"]


def test_the_paxlst_recipient_is_chosen_and_checked_through_the_api(
    world: World, bus_to_astara: Leg
) -> None:
    api = world.api(Role.LOGISTICS)
    path = f"/api/legs/{bus_to_astara.pk}/manifest"
    response = api.get(f"{path}?format=paxlst&recipient=uzb")
    assert response.status_code == 200, response.content
    assert _paxlst(response.content)[0].recipient == ["UZB", "ZZ"]
    assert (
        AuditEntry.objects.filter(verb="manifest_export").latest("id").changes["recipient"] == "UZB"
    )
    exports = AuditEntry.objects.filter(verb="manifest_export").count()
    for query in (
        "format=paxlst&recipient=AZE%20BORDER",
        "format=paxlst&recipient=-AZE",
        "format=paxlst&recipient=" + "A" * 36,
        "format=paxlst&recipient=%C3%84ZE",
        "format=csv&recipient=AZE",
    ):
        refused = api.get(f"{path}?{query}")
        assert refused.status_code == 400, query
        body = refused.json()
        assert set(body) == {"message", "extra"} and "recipient" in body["extra"], query
        assert "recipient" in body["message"].lower(), query
    assert AuditEntry.objects.filter(verb="manifest_export").count() == exports


def test_the_paxlst_recipient_on_the_leg_page(world: World, bus_to_astara: Leg) -> None:
    client = world.client(Role.LOGISTICS)
    page = client.get(f"/transport/legs/{bus_to_astara.pk}/").content.decode()
    form = re.search(r'<form[^>]*id="paxlst-form".*?</form>', page, re.S)
    assert form is not None
    assert 'name="recipient" value="AZE"' in form.group(0)
    assert '<option value="AZE">' in form.group(0) and '<option value="IRN">' in form.group(0)
    assert f'action="/transport/legs/{bus_to_astara.pk}/manifest.paxlst"' in form.group(0)
    chosen = client.get(f"/transport/legs/{bus_to_astara.pk}/manifest.paxlst?recipient=tkm")
    assert chosen.status_code == 200
    assert _paxlst(chosen.content)[0].recipient == ["TKM", "ZZ"]
    plain = client.get(f"/transport/legs/{bus_to_astara.pk}/manifest.paxlst")
    assert _paxlst(plain.content)[0].recipient == ["AZE", "ZZ"]
    refused = client.get(
        f"/transport/legs/{bus_to_astara.pk}/manifest.paxlst?recipient=no+such", follow=True
    )
    assert refused.redirect_chain[-1][0] == f"/transport/legs/{bus_to_astara.pk}/"
    assert "The PAXLST recipient must be" in refused.content.decode()


def test_the_command_takes_a_recipient(bus_to_astara: Leg, tmp_path: Path) -> None:
    target = tmp_path / "bus.edi"
    call_command(
        "manifest",
        "--leg",
        str(bus_to_astara.pk),
        "--format",
        "paxlst",
        "--recipient",
        "UZB",
        "--out",
        str(target),
        stdout=io.StringIO(),
    )
    assert _paxlst(target.read_bytes())[0].recipient == ["UZB", "ZZ"]
    bad = tmp_path / "bad.edi"
    with pytest.raises(CommandError, match="The PAXLST recipient must be"):
        call_command(
            "manifest",
            "--leg",
            str(bus_to_astara.pk),
            "--format",
            "paxlst",
            "--recipient",
            "UZ B",
            "--out",
            str(bad),
        )
    assert not bad.exists()
    with pytest.raises(CommandError, match="for a PAXLST manifest only"):
        call_command(
            "manifest",
            "--leg",
            str(bus_to_astara.pk),
            "--format",
            "csv",
            "--recipient",
            "UZB",
            "--out",
            str(bad),
        )


def test_paxlst_keeps_every_given_name(world: World, booked: dict) -> None:
    """NAD holds the surname and four given names: a third and a fourth are kept, a fifth
    shares the fourth component."""
    person = booked["first"].person
    Document.objects.filter(person=person).update(
        surname_latin="AHMETOV", given_names_latin="NURLAN ALI KHAN"
    )
    other = next(
        b.person
        for b in Booking.objects.filter(leg=booked["leg"], household=booked["h1"])
        if b.person_id != person.pk
    )
    Document.objects.filter(person=other).update(
        surname_latin="ZHANSUGUROVA", given_names_latin="ANNA MARIA LUISA SOFIA ELENA"
    )
    response = world.api(Role.LOGISTICS).get(f"/api/legs/{booked['leg'].pk}/manifest?format=paxlst")
    text = response.content.decode("ascii")
    assert "NAD+FL+++AHMETOV:NURLAN:ALI:KHAN'" in text
    _interchange, message = _paxlst(response.content)
    names = {
        tuple(s.elements[3]) for s in message.get_segments("NAD", lambda s: s.elements[0] == "FL")
    }
    assert ("AHMETOV", "NURLAN", "ALI", "KHAN") in names
    assert ("ZHANSUGUROVA", "ANNA", "MARIA", "LUISA", "SOFIA ELENA") in names
    assert manifests._given_names("") == []
    assert manifests._given_names("  Dana  ") == ["DANA"]


def test_paxlst_keeps_to_character_level_a() -> None:
    assert manifests.unoa("Ахметов Nurlan-Ä") == "AKHMETOV NURLAN-A"
    assert manifests.unoa("o'neil  +x") == "O'NEIL +X"
    assert manifests.unoa("中村") != ""


def test_pdf_manifest(world: World, booked: dict) -> None:
    leg = booked["leg"]
    response = world.client(Role.CRISIS_MANAGER).get(f"/transport/legs/{leg.pk}/manifest.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert b"DejaVu" in pdf_objects(response.content)  # Cyrillic and Kazakh letters
    assert pdf_pages(response.content) == 1
    text = pdf_text(response.content)
    assert "AHMETOV" in text and "NURLAN" in text
    assert "KC 7001" in text and "Air Astana" in text
    assert "Passenger manifest" in text
    html = manifests.render_html(manifests.manifest_build(leg))
    assert "IKA" in html and "ALA" in html


def test_the_pdf_speaks_the_users_language(world: World, booked: dict) -> None:
    from django.utils import translation

    with translation.override("ru"):
        html = manifests.render_html(manifests.manifest_build(booked["leg"]))
    assert '<html lang="ru">' in html
    assert re.search(r"font-size: \d+\.\d+pt", html), "a CSS number, not a localised one"
    # The leg's places in the reader's language where the reference data has the name.
    leg = booked["leg"]
    for where in (leg.origin, leg.destination):
        if where.name_ru:
            assert where.name_ru in html


def test_every_export_is_audited(world: World, booked: dict) -> None:
    leg = booked["leg"]
    client = world.client(Role.LOGISTICS)
    for fmt in ("csv", "xlsx", "pdf", "paxlst"):
        assert client.get(f"/transport/legs/{leg.pk}/manifest.{fmt}").status_code == 200
    entries = AuditEntry.objects.filter(verb="manifest_export", object_id=str(leg.pk))
    assert sorted(e.changes["format"] for e in entries) == ["csv", "paxlst", "pdf", "xlsx"]
    assert {e.changes["count"] for e in entries} == {4}
    assert {e.action for e in entries} == {AuditEntry.Action.EXPORT}
    assert {e.actor_id for e in entries} == {world.users[Role.LOGISTICS].pk}


def test_access(world: World, booked: dict, logistics: Any) -> None:
    leg = booked["leg"]
    path = f"/transport/legs/{leg.pk}/manifest.csv"
    for role in (Role.DUTY_OFFICER, Role.CONSUL, Role.OPERATOR, Role.OBSERVER):
        assert world.client(role).get(path).status_code == 403, role
    assert world.client("anonymous").get(path).status_code == 302
    assert (
        world.client(Role.LOGISTICS).get(f"/transport/legs/{leg.pk}/manifest.doc").status_code
        == 404
    )
    assert (
        world.client(Role.LOGISTICS).get("/transport/legs/999999/manifest.csv").status_code == 404
    )
    elsewhere = leg_create(
        actor=logistics,
        crisis=world.other_crisis,
        data={
            "mode": "charter",
            "origin": place("airport", iata="DXB"),
            "destination": place("airport", iata="ALA"),
            "departure_planned": leg.departure_planned,
            "capacity": 5,
        },
    )
    assert (
        world.client(Role.LOGISTICS).get(f"/transport/legs/{elsewhere.pk}/manifest.csv").status_code
        == 404
    )
    api = world.api(Role.LOGISTICS)
    assert api.get(f"/api/legs/{elsewhere.pk}/manifest").status_code == 404
    assert api.get(f"/api/legs/{leg.pk}/manifest?format=doc").status_code == 422
    denied = world.api(Role.DUTY_OFFICER).get(f"/api/legs/{leg.pk}/manifest")
    assert denied.status_code == 403 and set(denied.json()) == {"message", "extra"}
    assert not AuditEntry.objects.filter(verb="manifest_export").exists()


def test_queries_do_not_grow_with_the_passengers(world: World, logistics: Any) -> None:
    small, big = make_leg(world), make_leg(world, capacity=30)
    services.leg_book(actor=logistics, leg=small, households=[register_household(world, 2)])
    services.leg_book(
        actor=logistics, leg=big, households=[register_household(world, 4) for _ in range(5)]
    )
    counts = []
    for leg in (small, big):
        leg = Leg.objects.select_related("crisis", "origin", "destination").get(pk=leg.pk)
        with CaptureQueriesContext(connection) as ctx:
            file = manifests.manifest_export(actor=logistics, leg=leg, fmt="paxlst")
        counts.append(len(ctx.captured_queries))
        assert file.count in (2, 20)
    assert counts[0] == counts[1], counts


# --- the command line ---------------------------------------------------------------------


def test_the_command_writes_the_manifest(booked: dict, tmp_path: Path) -> None:
    leg = booked["leg"]
    out = io.StringIO()
    target = tmp_path / "m.edi"
    call_command(
        "manifest", "--leg", str(leg.pk), "--format", "paxlst", "--out", str(target), stdout=out
    )
    assert f"4 passengers of leg {leg.pk}" in out.getvalue() and str(target) in out.getvalue()
    interchange = _parse_edifact(target.read_text("ascii"))
    assert len(list(interchange.get_messages())) == 1
    csv_target = tmp_path / "m.csv"
    call_command(
        "manifest",
        "--leg",
        str(leg.pk),
        "--format",
        "csv",
        "--out",
        str(csv_target),
        stdout=io.StringIO(),
    )
    assert len(_csv_rows(csv_target.read_bytes())) == 4
    entry = AuditEntry.objects.filter(verb="manifest_export").latest("id")
    assert (entry.actor_id, entry.actor_name, entry.via) == (None, "system", "cli")
    assert entry.changes == {"format": "csv", "count": 4}


def test_the_command_refuses_clearly(booked: dict, tmp_path: Path) -> None:
    leg = booked["leg"]
    with pytest.raises(CommandError, match="No leg 999999"):
        call_command("manifest", "--leg", "999999", "--format", "csv", "--out", str(tmp_path / "x"))
    with pytest.raises(CommandError, match="invalid choice"):
        call_command(
            "manifest", "--leg", str(leg.pk), "--format", "doc", "--out", str(tmp_path / "x")
        )
    with pytest.raises(CommandError, match="Cannot write"):
        call_command(
            "manifest",
            "--leg",
            str(leg.pk),
            "--format",
            "csv",
            "--out",
            str(tmp_path / "no" / "x.csv"),
        )
    with pytest.raises(CommandError, match="is a directory"):
        call_command("manifest", "--leg", str(leg.pk), "--format", "csv", "--out", str(tmp_path))
    assert not AuditEntry.objects.filter(verb="manifest_export").exists()


def test_the_cli_exits_non_zero(booked: dict, tmp_path: Path, capsys: Any) -> None:
    from aman.transport.management.commands.manifest import Command

    argv = ["aman", "manifest", "--leg", "999999", "--format", "csv", "--out", str(tmp_path / "x")]
    with pytest.raises(SystemExit) as exit_:
        Command().run_from_argv(argv)
    assert exit_.value.code == 1
    assert "No leg 999999" in capsys.readouterr().err
