"""The cost ledger through its page and its XLSX export, and exchange rates through their
form: two hotels in two currencies, a state-paid block and a tour-operator-paid one, rates
that change, a missing rate, stayed and committed nights."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.shelter import ledger as ledgers
from aman.shelter.models import ExchangeRate, StayStatus
from aman.shelter.services import exchange_rate_set, stay_set_status
from tests.conftest import World
from tests.shelter.conftest import add_aed

pytestmark = pytest.mark.django_db

D = Decimal


def test_totals_are_exact(world: World, costs: dict) -> None:
    add_aed(world, costs)
    book = ledgers.ledger_build(crisis=world.crisis)
    # USD: 5 room-nights × 80.00 = 400.00; 2 at 470.50 + 1 at 470.50 + 2 at 480.00.
    usd_home = D("80.00") * D("470.50") * 3 + D("80.00") * D("480") * 2
    assert usd_home == D("189720.00")
    # AED: 2 room-nights × 350.25 = 700.50, at 128.2 = 89804.10.
    aed_home = D("350.25") * D("128.2") * 2
    assert aed_home == D("89804.100")
    grand = book.grand
    assert grand.room_nights == 7
    assert {m.currency: m.amount for m in grand.currencies} == {
        "AED": D("700.50"),
        "USD": D("400.00"),
    }
    assert grand.home == usd_home + aed_home == D("279524.10")
    assert grand.complete and not book.missing
    assert isinstance(grand.home, Decimal)
    # Stayed: the family's two past nights and the single person's night.
    assert grand.stayed_nights == 3
    assert grand.stayed_home == D("80") * D("470.50") * 3 == D("112920.00")
    assert grand.committed_home == D("166604.10")

    hotels = {t.label: t for t in book.by_hotel}
    assert hotels["Hotel Absheron"].home == usd_home
    assert hotels["Hotel Absheron"].room_nights == 5
    assert hotels["Hotel Deira"].home == aed_home
    payers = {t.key: t for t in book.by_payer}
    assert set(payers) == {"state", "tour_operator"}
    assert payers["state"].home == usd_home
    assert payers["tour_operator"].by_currency["AED"].amount == D("700.50")
    operators = {t.key: t for t in book.by_operator}
    assert operators[costs["operator"].pk].home == aed_home
    assert operators[costs["operator"].pk].label == "Kazakh Tours"
    assert operators[None].home == usd_home
    days = {t.key: t for t in book.by_day}
    ta = costs["ta"]
    assert days[ta - timedelta(days=2)].home == D("37640.00")
    assert days[ta - timedelta(days=1)].room_nights == 2  # the family and the single person
    assert days[ta - timedelta(days=1)].home == D("75280.00")
    # Each line: its night's exchange rate.
    rates = {(x.currency, x.night): x.exchange_rate for x in book.lines}
    assert rates[("USD", ta - timedelta(days=1))] == D("470.5")
    assert rates[("USD", ta)] == D("480")
    assert sum((x.room_nights for x in book.lines), 0) == 7


def test_a_missing_rate_is_flagged(world: World, costs: dict) -> None:
    book = ledgers.ledger_build(crisis=world.crisis)
    tb = costs["tb"]
    assert [(m.currency, m.first, m.last, m.room_nights) for m in book.missing] == [
        ("AED", tb, tb + timedelta(days=1), 2)
    ]
    aed = [x for x in book.lines if x.currency == "AED"]
    assert aed and all(x.amount_home is None and x.missing_rate for x in aed)
    assert not book.grand.complete
    assert book.grand.missing_nights == 2
    assert book.grand.home == D("189720.00")  # what could be converted
    response = world.client(Role.LOGISTICS).get("/shelter/ledger/")
    assert response.status_code == 200
    html = response.content.decode()
    warning = re.search(r'id="ledger-missing".*?</div>', html, re.S)
    assert warning, "no missing-rate warning"
    assert "AED" in warning.group(0)
    assert tb.isoformat() in warning.group(0)
    assert "USD" not in warning.group(0)
    # Recorded: the warning goes.
    add_aed(world, costs)
    html = world.client(Role.LOGISTICS).get("/shelter/ledger/").content.decode()
    assert 'id="ledger-missing"' not in html
    assert "279" in html and "524.10" in html


def test_a_rate_from_after_the_night_does_not_apply(world: World, costs: dict) -> None:
    tb = costs["tb"]
    exchange_rate_set(
        actor=None,
        crisis=world.crisis,
        data={"currency": "AED", "rate": "130", "valid_from": tb + timedelta(days=1)},
    )
    book = ledgers.ledger_build(crisis=world.crisis)
    aed = {x.night: x for x in book.lines if x.currency == "AED"}
    assert aed[tb].amount_home is None
    assert aed[tb + timedelta(days=1)].amount_home == D("45532.50")
    assert [(m.first, m.last, m.room_nights) for m in book.missing] == [(tb, tb, 1)]


def test_the_ledger_page_and_its_filters(world: World, costs: dict) -> None:
    add_aed(world, costs)
    client = world.client(Role.CRISIS_MANAGER)
    html = client.get("/shelter/ledger/").content.decode()
    for table in ("ledger-hotels", "ledger-operators", "ledger-payers", "ledger-days"):
        assert f'id="{table}"' in html
    assert "Kazakh Tours" in html and "Hotel Deira" in html
    assert 'href="/shelter/rates/"' in html
    # One hotel only: its money and nothing else.
    b = costs["b"]
    response = client.get("/shelter/ledger/", {"hotel": b.pk})
    assert response.status_code == 200
    book = response.context["ledger"]
    assert book.grand.room_nights == 2
    assert [m.currency for m in book.grand.currencies] == ["AED"]
    assert f"hotel={b.pk}" in response.context["xlsx_url"]
    # The state's nights, from yesterday on.
    ta = costs["ta"]
    book = client.get(
        "/shelter/ledger/", {"payer": "state", "from": (ta - timedelta(days=1)).isoformat()}
    ).context["ledger"]
    assert book.grand.room_nights == 4
    assert book.grand.home == D("80") * D("470.50") * 2 + D("80") * D("480") * 2
    book = client.get("/shelter/ledger/", {"tour_operator": costs["operator"].pk}).context["ledger"]
    assert book.grand.home == D("89804.10")
    # A bad filter is said and left out.
    response = client.get("/shelter/ledger/", {"from": "yesterday", "payer": "nobody"})
    assert response.status_code == 200
    assert 'id="ledger-problems"' in response.content.decode()
    assert response.context["ledger"].grand.room_nights == 7


def test_nights_given_back_cost_nothing_and_checked_out_nights_are_stayed(
    world: World, costs: dict, logistics: Any
) -> None:
    add_aed(world, costs)
    stay_set_status(actor=logistics, stay=costs["h2"], status=StayStatus.CANCELLED, note="left")
    family = stay_set_status(actor=logistics, stay=costs["h1"], status=StayStatus.CHECKED_IN)
    stay_set_status(actor=logistics, stay=family, status=StayStatus.CHECKED_OUT)
    book = ledgers.ledger_build(crisis=world.crisis)
    assert book.grand.room_nights == 3  # the family's two past nights and the single night
    assert book.grand.stayed_nights == 3
    assert book.grand.committed_home == 0
    assert book.grand.home == D("112920.00")


def test_the_xlsx_for_accounting(world: World, costs: dict) -> None:
    from openpyxl import load_workbook

    add_aed(world, costs)
    response = world.client(Role.CRISIS_MANAGER).get("/shelter/ledger.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    ta, tb = costs["ta"], costs["tb"]
    first = ta - timedelta(days=2)
    last = max(ta + timedelta(days=1), tb + timedelta(days=1))
    assert (
        f'filename="ledger-{world.crisis.code}-{first.isoformat()}-{last.isoformat()}.xlsx"'
        in response["Content-Disposition"]
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Lines", "Totals", "Rates"]
    lines = list(book["Lines"].iter_rows(min_row=2, values_only=True))
    assert len(lines) == 6  # USD: 4 nights (one with two rooms), AED: 2 nights
    for row in lines:
        night, country, currency, rate, n, amount, rate_used, home, kind = (
            row[0],
            row[2],
            row[6],
            row[7],
            row[8],
            row[9],
            row[10],
            row[11],
            row[12],
        )
        assert isinstance(night, datetime)
        assert isinstance(rate, int | float) and isinstance(n, int)
        assert isinstance(amount, int | float) and isinstance(home, int | float)
        assert isinstance(rate_used, int | float)
        assert kind in ("stayed", "committed")
        assert country == ("AZ" if currency == "USD" else "AE")
    assert sum(r[8] for r in lines) == 7
    home_total = sum(D(str(r[11])) for r in lines)
    assert home_total == D("279524.10")
    usd = sum(D(str(r[9])) for r in lines if r[6] == "USD")
    assert usd == D("400")
    deira = [r for r in lines if r[1] == "Hotel Deira"]
    assert {r[3] for r in deira} == {"Kazakh Tours"} and {r[5] for r in deira} == {"AE-7"}
    assert {r[12] for r in lines if r[0].date() < ta} == {"stayed"}
    # Totals: the grand total in the home currency, per hotel per currency.
    totals = list(book["Totals"].iter_rows(min_row=2, values_only=True))
    grand = [r for r in totals if r[0] == "All" and r[2] == "KZT"]
    assert len(grand) == 1 and D(str(grand[0][5])) == D("279524.10")
    absheron = [r for r in totals if r[0] == "Hotel" and r[1] == "Hotel Absheron" and r[2] == "USD"]
    assert absheron[0][3] == 5 and D(str(absheron[0][4])) == D("400")
    assert D(str(absheron[0][5])) == D("189720")
    operator = [r for r in totals if r[0] == "Tour operator" and r[1] == "Kazakh Tours"]
    assert D(str(operator[-1][5])) == D("89804.10")
    # Per night, as on the page: a row per currency, then the night in the home currency.
    nights = [r for r in totals if r[0] == "Night"]
    assert all(isinstance(r[1], datetime) for r in nights)
    tonight = [r for r in nights if r[1].date() == tb]
    assert [(r[2], r[3]) for r in tonight] == [("AED", 1), ("USD", 1), ("KZT", 2)]
    assert D(str(tonight[0][4])) == D("350.25") and D(str(tonight[0][5])) == D("44902.05")
    assert D(str(tonight[2][5])) == D("44902.05") + D("80") * D("480")
    assert [r[1].date() for r in nights if r[2] == "KZT"] == sorted({r[0].date() for r in lines})
    assert sum(r[3] for r in nights if r[2] == "KZT") == 7
    assert sum(D(str(r[5])) for r in nights if r[2] == "KZT") == D("279524.10")
    # Rates: the ones used.
    rates = list(book["Rates"].iter_rows(min_row=2, values_only=True))
    assert sorted((r[0], D(str(r[2]))) for r in rates) == [
        ("AED", D("128.2")),
        ("USD", D("470.5")),
        ("USD", D("480")),
    ]
    entry = AuditEntry.objects.get(verb="ledger_export")
    assert entry.action == AuditEntry.Action.EXPORT
    assert entry.actor == world.users[Role.CRISIS_MANAGER]
    assert entry.crisis == world.crisis
    assert entry.changes["room_nights"] == 7


def test_the_xlsx_leaves_a_missing_rate_empty(world: World, costs: dict) -> None:
    from openpyxl import load_workbook

    response = world.client(Role.LOGISTICS).get("/shelter/ledger.xlsx", {"hotel": costs["b"].pk})
    book = load_workbook(io.BytesIO(response.content))
    lines = list(book["Lines"].iter_rows(min_row=2, values_only=True))
    assert len(lines) == 2 and all(r[10] is None and r[11] is None for r in lines)
    totals = list(book["Totals"].iter_rows(min_row=2, values_only=True))
    grand = next(r for r in totals if r[0] == "All" and r[2] == "KZT")
    assert grand[5] is None and "missing" in grand[6]
    rates = list(book["Rates"].iter_rows(min_row=2, values_only=True))
    assert rates[0][0] == "AED" and rates[0][2] is None and "missing" in rates[0][3]


def test_who_sees_the_ledger(world: World, costs: dict) -> None:
    for persona in (Role.CONSUL, Role.OBSERVER, Role.OPERATOR, Role.DUTY_OFFICER):
        client = world.client(persona)
        assert client.get("/shelter/ledger/").status_code == 403
        assert client.get("/shelter/ledger.xlsx").status_code == 403
        assert client.get("/shelter/rates/").status_code == 403
    assert not AuditEntry.objects.filter(verb="ledger_export").exists()
    # No names on the ledger: it is aggregates only.
    html = world.client(Role.LOGISTICS).get("/shelter/ledger/").content.decode()
    assert "Ахметов" not in html


def test_recording_exchange_rates(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    page = client.get("/shelter/rates/")
    assert page.status_code == 200 and 'id="rate-form"' in page.content.decode()
    for data, field in (
        ({"currency": "US", "rate": "470", "valid_from": "2026-03-01"}, "currency"),
        ({"currency": "US1", "rate": "470", "valid_from": "2026-03-01"}, "currency"),
        ({"currency": "KZT", "rate": "1", "valid_from": "2026-03-01"}, "currency"),
        ({"currency": "USD", "rate": "0", "valid_from": "2026-03-01"}, "rate"),
        ({"currency": "USD", "rate": "-3", "valid_from": "2026-03-01"}, "rate"),
        ({"currency": "USD", "rate": "abc", "valid_from": "2026-03-01"}, "rate"),
        ({"currency": "USD", "rate": "470", "valid_from": "1 March"}, "valid_from"),
    ):
        response = client.post("/shelter/rates/", data)
        assert response.status_code == 200, data
        assert response.context["form"].errors.get(field), (data, response.context["form"].errors)
        assert f'id="id_{field}_errors"' in response.content.decode()
    assert not ExchangeRate.objects.exists()
    response = client.post(
        "/shelter/rates/",
        {"currency": "aed", "rate": "128,20", "valid_from": "2026-03-01", "source": "NBK"},
    )
    assert response.status_code == 302
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.rate, rate.valid_from, rate.source) == (
        "AED",
        D("128.2"),
        date(2026, 3, 1),
        "NBK",
    )
    assert rate.crisis == world.crisis and rate.recorded_by == world.users[Role.LOGISTICS]
    page = client.get("/shelter/rates/").content.decode()
    assert "Recorded: 1 AED = 128.2 KZT from 2026-03-01." in page
    assert "<td>AED</td><td>2026-03-01</td>" in page
    # The same currency and day again corrects the rate.
    client.post("/shelter/rates/", {"currency": "AED", "rate": "1000", "valid_from": "2026-03-01"})
    assert ExchangeRate.objects.get().rate == D("1000")
    assert "1000" in client.get("/shelter/rates/").content.decode()
