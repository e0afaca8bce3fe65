"""The shelter's documents through the API — the cost ledger (JSON, XLSX), a stay's voucher
(PDF, PNG), a hotel's daily list (JSON, CSV) — give what the pages give for the same data,
are audited as the pages audit them, and refuse bad input naming the field."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Person
from aman.shelter.models import Hotel, Stay, StayStatus
from aman.shelter.services import household_house, stay_set_status
from tests.conftest import World
from tests.shelter.conftest import add_aed, hotel_today, make_block, make_hotel, register_household
from tests.transport.pdftext import pdf_text

pytestmark = pytest.mark.django_db

D = Decimal


def fields(response: Any) -> set[str]:
    """The fields a refusal names, in either of the API's two error shapes."""
    body = response.json()
    assert set(body) == {"message", "extra"}, body
    found = body["extra"]["errors"]
    return {e["field"] for e in found} if isinstance(found, list) else set(found)


# The cost ledger ------------------------------------------------------------------------------


def _same_total(api: dict[str, Any], page: Any) -> None:
    """A total of the API equals the page's: room-nights, home amounts, each currency."""
    assert api["label"] == page.label
    assert (api["room_nights"], api["stayed_nights"], api["committed_nights"]) == (
        page.room_nights,
        page.stayed_nights,
        page.committed_nights,
    )
    assert D(api["home"]) == page.home
    assert D(api["stayed_home"]) == page.stayed_home
    assert D(api["committed_home"]) == page.committed_home
    assert api["complete"] == page.complete
    assert [
        (m["currency"], m["room_nights"], D(m["amount"]), D(m["home"])) for m in api["currencies"]
    ] == [(m.currency, m.room_nights, m.amount, m.home) for m in page.currencies]


def _same_ledger(api: dict[str, Any], page: Any) -> None:
    _same_total(api["total"], page.grand)
    for key, name, totals in (
        ("by_hotel", "hotel_id", page.by_hotel),
        ("by_tour_operator", "tour_operator_id", page.by_operator),
        ("by_payer", "payer", page.by_payer),
        ("by_night", "night", page.by_day),
    ):
        assert len(api[key]) == len(totals), key
        for row, total in zip(api[key], totals, strict=True):
            expected = total.key.isoformat() if isinstance(total.key, date) else total.key
            assert row[name] == expected, key
            _same_total(row, total)


def test_the_ledger_gives_the_pages_totals(world: World, costs: dict) -> None:
    add_aed(world, costs)
    api = world.api(Role.LOGISTICS)
    client = world.client(Role.LOGISTICS)
    response = api.get("/api/ledger")
    assert response.status_code == 200, response.content
    body = response.json()
    _same_ledger(body, client.get("/shelter/ledger/").context["ledger"])
    assert body["crisis_id"] == world.crisis.pk and body["home_currency"] == "KZT"
    assert D(body["total"]["home"]) == D("279524.10") and body["total"]["room_nights"] == 7
    assert body["missing_rates"] == []
    ta = costs["ta"]
    nights = {row["night"]: row for row in body["by_night"]}
    assert D(nights[(ta - timedelta(days=1)).isoformat()]["home"]) == D("75280.00")
    operator = next(r for r in body["by_tour_operator"] if r["tour_operator_id"])
    assert operator["label"] == "Kazakh Tours" and D(operator["home"]) == D("89804.10")
    assert sum(line["room_nights"] for line in body["lines"]) == 7
    usd = [x for x in body["lines"] if x["currency"] == "USD" and x["night"] == ta.isoformat()]
    assert [D(x["exchange_rate"]) for x in usd] == [D("480")]

    # The page's filters, with the page's answers.
    for query in (
        {"hotel": costs["b"].pk},
        {"payer": "state", "from": (ta - timedelta(days=1)).isoformat()},
        {"tour_operator": costs["operator"].pk},
        {"from": ta.isoformat(), "to": ta.isoformat()},
    ):
        body = api.get("/api/ledger", query).json()
        _same_ledger(body, client.get("/shelter/ledger/", query).context["ledger"])
    body = api.get("/api/ledger", {"payer": "state", "from": (ta - timedelta(1)).isoformat()})
    assert body.json()["total"]["room_nights"] == 4
    assert body.json()["filters"]["from"] == (ta - timedelta(1)).isoformat()
    # Aggregates only: reading the ledger is not an export.
    assert not AuditEntry.objects.filter(verb="ledger_export").exists()


def test_the_ledger_says_which_rates_are_missing(world: World, costs: dict) -> None:
    body = world.api(Role.CRISIS_MANAGER).get("/api/ledger").json()
    tb = costs["tb"]
    assert body["missing_rates"] == [
        {
            "currency": "AED",
            "first": tb.isoformat(),
            "last": (tb + timedelta(days=1)).isoformat(),
            "room_nights": 2,
        }
    ]
    assert body["total"]["complete"] is False and body["total"]["missing_nights"] == 2
    assert D(body["total"]["home"]) == D("189720.00")  # what could be converted
    aed = [x for x in body["lines"] if x["currency"] == "AED"]
    assert aed and all(x["exchange_rate"] is None and x["amount_home"] is None for x in aed)


def test_the_ledger_xlsx_has_the_totals_per_night(world: World, costs: dict) -> None:
    from openpyxl import load_workbook

    add_aed(world, costs)
    response = world.api(Role.LOGISTICS).get("/api/ledger.xlsx", {"hotel": costs["a"].pk})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert "attachment" in response["Content-Disposition"]
    assert f"ledger-{world.crisis.code}-" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Lines", "Totals", "Rates"]
    lines = list(book["Lines"].iter_rows(min_row=2, values_only=True))
    assert {r[1] for r in lines} == {"Hotel Absheron"}  # the filter applies
    totals = list(book["Totals"].iter_rows(min_row=2, values_only=True))
    nights = [r for r in totals if r[0] == "Night"]
    page = world.client(Role.LOGISTICS).get("/shelter/ledger/", {"hotel": costs["a"].pk})
    by_day = page.context["ledger"].by_day
    # One row per currency and one in the home currency for each night, as the page shows.
    assert len(nights) == 2 * len(by_day) == 8
    for total in by_day:
        rows = [r for r in nights if r[1].date() == total.key]
        assert all(isinstance(r[1], datetime) for r in rows)
        usd = next(r for r in rows if r[2] == "USD")
        assert usd[3] == total.by_currency["USD"].room_nights
        assert D(str(usd[4])) == total.by_currency["USD"].amount
        assert D(str(usd[5])) == total.by_currency["USD"].home
        home = next(r for r in rows if r[2] == "KZT")
        assert home[3] == total.room_nights and D(str(home[5])) == total.home
        assert home[6] == "total in KZT"
    ta = costs["ta"]
    yesterday = next(r for r in nights if r[1].date() == ta - timedelta(1) and r[2] == "KZT")
    assert yesterday[3] == 2 and D(str(yesterday[5])) == D("75280.00")
    # The nights come before the grand total, which is unchanged.
    assert totals[-1][0] == "All" and D(str(totals[-1][5])) == D("189720.00")
    entry = AuditEntry.objects.get(verb="ledger_export")
    assert entry.action == AuditEntry.Action.EXPORT
    assert entry.actor == world.users[Role.LOGISTICS] and entry.crisis == world.crisis
    assert entry.changes["filters"] == {"hotel": str(costs["a"].pk)}
    assert entry.changes["room_nights"] == 5


def test_the_ledger_refuses_bad_filters_naming_them(world: World, costs: dict) -> None:
    api = world.api(Role.LOGISTICS)
    other_hotel = make_hotel(world)
    Hotel.objects.filter(pk=other_hotel.pk).update(crisis=world.other_crisis)
    ta = costs["ta"].isoformat()
    for url in ("/api/ledger", "/api/ledger.xlsx"):
        for query, status, field in (
            ({"from": "yesterday"}, 422, "from"),
            ({"to": "2026-02-30"}, 422, "to"),
            ({"from": ta, "to": "2020-01-01"}, 422, "to"),
            ({"hotel": "abc"}, 422, "hotel"),
            ({"hotel": 999999}, 400, "hotel"),
            ({"hotel": other_hotel.pk}, 400, "hotel"),  # a hotel of another crisis
            ({"payer": "nobody"}, 422, "payer"),
            ({"tour_operator": 999999}, 400, "tour_operator"),
            ({"crisis": 999999}, 404, "crisis"),
        ):
            response = api.get(url, query)
            assert response.status_code == status, (url, query, response.content)
            assert field in fields(response), (url, query, response.json())
    assert not AuditEntry.objects.filter(verb="ledger_export").exists()
    # Another crisis the user may see, by its id: its own (empty) ledger.
    body = api.get("/api/ledger", {"crisis": world.other_crisis.pk}).json()
    assert body["crisis_id"] == world.other_crisis.pk and body["total"]["room_nights"] == 0


def test_who_may_read_the_ledger(world: World, costs: dict) -> None:
    for persona in (Role.CONSUL, Role.OPERATOR, Role.DUTY_OFFICER):
        for url in ("/api/ledger", "/api/ledger.xlsx"):
            response = world.api(persona).get(url)
            assert response.status_code == 403 and set(response.json()) == {"message", "extra"}
    assert not AuditEntry.objects.filter(verb="ledger_export").exists()


# Vouchers -------------------------------------------------------------------------------------


@pytest.fixture
def housed(world: World, logistics: Any) -> dict[str, Any]:
    hotel = make_hotel(world, name="Hotel Caspian Voucher")
    make_block(hotel, world, contract_ref="AZ-2026-077")
    household = register_household(world, 3)
    Person.objects.filter(household=household).update(language="en")
    today = hotel_today(hotel)
    (stay,) = household_house(
        actor=logistics,
        crisis=world.crisis,
        household=household,
        hotel=hotel,
        first_night=today,
        last_night=today + timedelta(days=2),
    )
    return {"hotel": hotel, "household": household, "stay": stay}


def test_the_voucher_pdf_is_the_pages_in_the_persons_language(world: World, housed: dict) -> None:
    stay: Stay = housed["stay"]
    api = world.api(Role.LOGISTICS)
    response = api.get(f"/api/stays/{stay.pk}/voucher")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    assert f'filename="voucher-V-{stay.pk:06d}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-")
    text = pdf_text(response.content)
    assert "Ministry of Foreign Affairs" in text and "Hotel Caspian Voucher" in text
    assert f"V-{stay.pk:06d}" in text and "AZ-2026-077" in text
    for person in stay.guests.all():
        assert person.reference_code_display in text
    entry = AuditEntry.objects.get(verb="stay_voucher", object_id=str(stay.pk))
    assert entry.action == AuditEntry.Action.EXPORT
    assert entry.actor == world.users[Role.LOGISTICS]
    assert entry.changes == {"format": "pdf", "guests": 3}

    # The contact person reads Russian: so does the voucher, whatever the caller's language.
    household = housed["household"]
    household.refresh_from_db()
    contact = household.contact or stay.guests.order_by("id").first()
    Person.objects.filter(pk=contact.pk).update(language="ru")
    text = pdf_text(api.get(f"/api/stays/{stay.pk}/voucher", HTTP_ACCEPT_LANGUAGE="en").content)
    assert "Министерство иностранных дел" in text
    assert "Ministry of Foreign Affairs" not in text

    png = api.get(f"/api/stays/{stay.pk}/voucher", {"format": "png"})
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert AuditEntry.objects.filter(verb="stay_voucher").count() == 3


def test_the_voucher_refusals(world: World, housed: dict, logistics: Any) -> None:
    stay = housed["stay"]
    api = world.api(Role.LOGISTICS)
    wrong = api.get(f"/api/stays/{stay.pk}/voucher", {"format": "txt"})
    assert wrong.status_code == 422 and fields(wrong) == {"format"}
    missing = api.get("/api/stays/999999/voucher")
    assert missing.status_code == 404 and set(missing.json()) == {"message", "extra"}
    assert world.api(Role.CONSUL).get(f"/api/stays/{stay.pk}/voucher").status_code == 403
    stay_set_status(actor=logistics, stay=stay, status=StayStatus.CANCELLED, note="moved")
    refused = api.get(f"/api/stays/{stay.pk}/voucher")
    assert refused.status_code == 409
    assert "holds no room" in refused.json()["message"]
    assert refused.json()["extra"] == {"status": "cancelled"}
    assert not AuditEntry.objects.filter(verb="stay_voucher").exists()


# The hotel's daily list -----------------------------------------------------------------------


def _house(world: World, hotel: Hotel, size: int, first: int, last: int) -> Stay:
    today = hotel_today(hotel)
    (stay,) = household_house(
        actor=world.users[Role.LOGISTICS],
        crisis=world.crisis,
        household=register_household(world, size),
        hotel=hotel,
        first_night=today + timedelta(days=first),
        last_night=today + timedelta(days=last),
    )
    return stay


def _passport(person: Person) -> str:
    return f"{person.surname_latin} {person.given_names_latin}".strip()


def test_the_daily_list_and_its_csv_are_the_pages(world: World) -> None:
    hotel = make_hotel(world)
    today = hotel_today(hotel)
    make_block(hotel, world, rooms=4, beds=4, first_night=today - timedelta(days=3))
    arriving = _house(world, hotel, 2, 0, 2)
    staying = _house(world, hotel, 2, -2, 1)
    leaving = _house(world, hotel, 2, -3, -1)
    gone = _house(world, hotel, 2, -3, -2)
    api = world.api(Role.LOGISTICS)
    response = api.get(f"/api/hotels/{hotel.pk}/day")  # today at the hotel
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["hotel_id"] == hotel.pk and body["day"] == today.isoformat()
    for key, stay in (("arrivals", arriving), ("in_house", staying), ("departures", leaving)):
        (row,) = body[key]
        assert row["id"] == stay.pk
        assert {(g["name"], g["reference_code"]) for g in row["guests"]} == {
            (_passport(p), p.reference_code_display) for p in stay.guests.all()
        }
        assert (row["adults"], row["children"], row["nights"]) == (
            stay.adults,
            stay.children,
            stay.nights,
        )
        assert row["check_out_day"] == stay.check_out_day.isoformat()
        assert (row["payer"], row["meals"], row["status"]) == ("state", "breakfast", "planned")
    assert gone.pk not in {
        r["id"] for part in body.values() if isinstance(part, list) for r in part
    }
    entry = AuditEntry.objects.get(verb="hotel_daily_list")
    assert entry.action == AuditEntry.Action.READ and entry.object_id == str(hotel.pk)
    assert entry.changes == {"day": today.isoformat(), "stays": 3}

    # Tomorrow the arriving household is in the house.
    tomorrow = (today + timedelta(days=1)).isoformat()
    later = api.get(f"/api/hotels/{hotel.pk}/day", {"day": tomorrow}).json()
    assert arriving.pk in {r["id"] for r in later["in_house"]}

    # The CSV is the page's, byte for byte, for the same day.
    csv_api = api.get(f"/api/hotels/{hotel.pk}/day.csv", {"day": today.isoformat()})
    assert csv_api.status_code == 200
    assert csv_api["Content-Type"].startswith("text/csv")
    assert (
        "attachment" in csv_api["Content-Disposition"]
        and today.isoformat() in (csv_api["Content-Disposition"])
    )
    page = world.client(Role.LOGISTICS).get(
        f"/shelter/hotels/{hotel.pk}/day.csv", {"day": today.isoformat()}
    )
    assert csv_api.content == page.content
    assert csv_api["Content-Disposition"] == page["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(csv_api.content.decode("utf-8")[1:])))
    assert len(rows) == 1 + 3
    exports = AuditEntry.objects.filter(verb="hotel_daily_list_export")
    assert exports.count() == 2  # the API's and the page's
    assert {e.action for e in exports} == {AuditEntry.Action.EXPORT}
    assert {e.actor for e in exports} == {world.users[Role.LOGISTICS]}


def test_the_daily_list_refuses_bad_input(world: World) -> None:
    hotel = make_hotel(world)
    api = world.api(Role.LOGISTICS)
    for url in (f"/api/hotels/{hotel.pk}/day", f"/api/hotels/{hotel.pk}/day.csv"):
        bad = api.get(url, {"day": "tomorrow"})
        assert bad.status_code == 422 and fields(bad) == {"day"}
        bad = api.get(url, {"day": "2026-13-01"})
        assert bad.status_code == 422 and fields(bad) == {"day"}
        missing = api.get(url.replace(str(hotel.pk), "999999"))
        assert missing.status_code == 404 and set(missing.json()) == {"message", "extra"}
        assert world.api(Role.CONSUL).get(url).status_code == 403
        assert world.api(Role.OPERATOR).get(url).status_code == 403
    assert not AuditEntry.objects.filter(verb__startswith="hotel_daily_list").exists()
