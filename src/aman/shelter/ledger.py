"""The cost ledger of hotel nights: what each night in each hotel costs, who pays it, in the
contract's currency and in the home currency (`settings.AMAN_HOME_CURRENCY`).

Each `StayNight` row is one room held for one night, at the rate and currency agreed when
the night was booked (recorded on the row: a later change of the block's rate never reprices
it); the payer and the tour operator are the stay's. The rows are counted in the database,
grouped by night, block, price, payer, tour operator and stay status (one query whatever
their number), and the
money is computed here in `Decimal`: amount = rate × room-nights, converted at the exchange
rate of that currency valid on that night (the latest `valid_from` on or before it, in the
same crisis; the home currency converts at 1) and rounded to the cent per line. A line whose
currency has no rate yet for its night has no home amount; the ledger lists which currencies
and nights need one, and the home totals say they are incomplete.

A night counts as *stayed* once it is over on the hotel's clock (before today there) or when
the stay has checked out; otherwise it is *committed* (a planned future night). Nights given
back (cancelled, no-show, the rest of a stay that left early) are no longer rows and cost
nothing.
"""

from __future__ import annotations

import bisect
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from aman.core.audit import audit_read
from aman.core.cells import formula_safe
from aman.core.ids import is_id
from aman.core.models import Crisis, User
from aman.shelter.models import (
    ExchangeRate,
    Payer,
    RoomBlock,
    StayNight,
    StayStatus,
    TourOperator,
)

CENT = Decimal("0.01")
ZERO = Decimal(0)


def home_currency() -> str:
    return str(settings.AMAN_HOME_CURRENCY)


def rate_text(rate: Decimal) -> str:
    """An exchange rate as written: `470.5`, `1000` (no trailing zeros, no exponent)."""
    text = f"{rate:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class LedgerFilters:
    first: date | None = None
    last: date | None = None
    hotel: int | None = None
    payer: str = ""
    tour_operator: int | None = None

    def as_dict(self) -> dict[str, str]:
        return {
            "from": self.first.isoformat() if self.first else "",
            "to": self.last.isoformat() if self.last else "",
            "hotel": str(self.hotel or ""),
            "payer": self.payer,
            "tour_operator": str(self.tour_operator or ""),
        }


def parse_filters(data: Mapping[str, Any]) -> tuple[LedgerFilters, dict[str, list[str]]]:
    """Filters from a query string (`from`, `to`, `hotel`, `payer`, `tour_operator`); a value
    that makes no sense is reported and left out."""
    problems: dict[str, list[str]] = {}
    days: dict[str, date | None] = {}
    for name in ("from", "to"):
        text = str(data.get(name) or "").strip()
        day = None
        if text:
            try:
                day = parse_date(text)
            except ValueError:
                day = None
            if day is None:
                problems.setdefault(name, []).append(_("Not a date (YYYY-MM-DD)."))
        days[name] = day
    if days["from"] and days["to"] and days["to"] < days["from"]:
        problems.setdefault("to", []).append(_("Before the first night."))
        days["to"] = None
    ids: dict[str, int | None] = {}
    for name in ("hotel", "tour_operator"):
        text = str(data.get(name) or "").strip()
        ids[name] = int(text) if is_id(text) else None
        if text and ids[name] is None:
            problems.setdefault(name, []).append(_("Unknown."))
    payer = str(data.get("payer") or "").strip()
    if payer and payer not in Payer.values:
        problems.setdefault("payer", []).append(_("Unknown."))
        payer = ""
    return (
        LedgerFilters(
            first=days["from"],
            last=days["to"],
            hotel=ids["hotel"],
            payer=payer,
            tour_operator=ids["tour_operator"],
        ),
        problems,
    )


@dataclass
class Line:
    night: date
    block_id: int
    hotel_id: int
    hotel: str
    country: str
    tour_operator_id: int | None
    tour_operator: str
    payer: str
    contract_ref: str
    currency: str
    rate: Decimal
    stayed: bool
    room_nights: int = 0
    exchange_rate: Decimal | None = None

    @property
    def amount(self) -> Decimal:
        return self.rate * self.room_nights

    @property
    def amount_home(self) -> Decimal | None:
        if self.exchange_rate is None:
            return None
        return (self.amount * self.exchange_rate).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def missing_rate(self) -> bool:
        return self.exchange_rate is None

    @property
    def payer_label(self) -> str:
        return payer_label(self.payer)


def payer_label(payer: str) -> str:
    return str(Payer(payer).label) if payer in Payer.values else payer


@dataclass
class CurrencyAmount:
    currency: str
    room_nights: int = 0
    amount: Decimal = ZERO
    home: Decimal = ZERO  # of the room-nights that have a rate
    missing_nights: int = 0

    @property
    def complete(self) -> bool:
        return self.missing_nights == 0


@dataclass
class Total:
    key: Any
    label: str
    room_nights: int = 0
    stayed_nights: int = 0
    home: Decimal = ZERO
    stayed_home: Decimal = ZERO
    committed_home: Decimal = ZERO
    missing_nights: int = 0
    by_currency: dict[str, CurrencyAmount] = field(default_factory=dict)

    def add(self, line: Line) -> None:
        self.room_nights += line.room_nights
        if line.stayed:
            self.stayed_nights += line.room_nights
        money = self.by_currency.setdefault(line.currency, CurrencyAmount(line.currency))
        money.room_nights += line.room_nights
        money.amount += line.amount
        home = line.amount_home
        if home is None:
            money.missing_nights += line.room_nights
            self.missing_nights += line.room_nights
            return
        money.home += home
        self.home += home
        if line.stayed:
            self.stayed_home += home
        else:
            self.committed_home += home

    @property
    def committed_nights(self) -> int:
        return self.room_nights - self.stayed_nights

    @property
    def complete(self) -> bool:
        return self.missing_nights == 0

    @property
    def currencies(self) -> list[CurrencyAmount]:
        return [self.by_currency[c] for c in sorted(self.by_currency)]


@dataclass(frozen=True)
class MissingRate:
    currency: str
    first: date
    last: date
    room_nights: int


@dataclass
class Ledger:
    crisis: Crisis
    filters: LedgerFilters
    home_currency: str
    lines: list[Line]
    grand: Total
    by_hotel: list[Total]
    by_operator: list[Total]
    by_payer: list[Total]
    by_day: list[Total]
    missing: list[MissingRate]
    rates_used: list[ExchangeRate]

    @property
    def first(self) -> date | None:
        return self.filters.first or (self.lines[0].night if self.lines else None)

    @property
    def last(self) -> date | None:
        return self.filters.last or (max(x.night for x in self.lines) if self.lines else None)


class _Rates:
    """Exchange rates of a crisis by currency, for the lookup of the rate valid on a night."""

    def __init__(self, crisis: Crisis) -> None:
        self.home = home_currency()
        self.days: dict[str, list[date]] = defaultdict(list)
        self.rows: dict[str, list[ExchangeRate]] = defaultdict(list)
        for rate in ExchangeRate.objects.filter(crisis=crisis).order_by("currency", "valid_from"):
            self.days[rate.currency].append(rate.valid_from)
            self.rows[rate.currency].append(rate)
        self.used: dict[int, ExchangeRate] = {}

    def on(self, currency: str, night: date) -> Decimal | None:
        if currency == self.home:
            return Decimal(1)
        days = self.days.get(currency)
        if not days:
            return None
        i = bisect.bisect_right(days, night) - 1
        if i < 0:
            return None
        rate = self.rows[currency][i]
        self.used[rate.pk] = rate
        return rate.rate


def _rows(crisis: Crisis, filters: LedgerFilters) -> list[dict[str, Any]]:
    qs = StayNight.objects.filter(block__crisis=crisis)
    if filters.first:
        qs = qs.filter(night__gte=filters.first)
    if filters.last:
        qs = qs.filter(night__lte=filters.last)
    if filters.hotel:
        qs = qs.filter(block__hotel_id=filters.hotel)
    if filters.payer:
        qs = qs.filter(stay__payer=filters.payer)
    if filters.tour_operator:
        qs = qs.filter(stay__tour_operator_id=filters.tour_operator)
    groups = (
        qs.order_by()
        .values(
            "night",
            "block",
            "rate",
            "currency",
            "stay__payer",
            "stay__tour_operator",
            "stay__status",
        )
        .annotate(n=Count("id"))
    )
    return [dict(g) for g in groups]


def ledger_build(*, crisis: Crisis, filters: LedgerFilters | None = None) -> Ledger:
    """The ledger of a crisis's hotel nights (within the filters)."""
    filters = filters or LedgerFilters()
    groups = _rows(crisis, filters)
    block_ids = {g["block"] for g in groups}
    blocks = {
        b.pk: b
        for b in RoomBlock.objects.filter(pk__in=block_ids).select_related(
            "hotel", "hotel__place", "hotel__place__country"
        )
    }
    operator_ids = {g["stay__tour_operator"] for g in groups} - {None}
    operators = dict(TourOperator.objects.filter(pk__in=operator_ids).values_list("pk", "name"))
    today: dict[int, date] = {}
    for block in blocks.values():
        if block.hotel_id not in today:
            today[block.hotel_id] = block.hotel.today()
    rates = _Rates(crisis)

    lines: dict[tuple[Any, ...], Line] = {}
    for g in groups:
        block = blocks[g["block"]]
        night: date = g["night"]
        stayed = night < today[block.hotel_id] or g["stay__status"] == StayStatus.CHECKED_OUT
        operator = g["stay__tour_operator"]
        # The price agreed when the night was booked, not the block's rate now.
        currency: str = g["currency"]
        rate: Decimal = g["rate"]
        key = (night, block.pk, currency, rate, g["stay__payer"], operator, stayed)
        line = lines.get(key)
        if line is None:
            line = lines[key] = Line(
                night=night,
                block_id=block.pk,
                hotel_id=block.hotel_id,
                hotel=block.hotel.place.local_name,
                country=block.hotel.place.country.code if block.hotel.place.country else "",
                tour_operator_id=operator,
                tour_operator=operators.get(operator, "") if operator else "",
                payer=g["stay__payer"],
                contract_ref=block.contract_ref,
                currency=currency,
                rate=rate,
                stayed=stayed,
                exchange_rate=rates.on(currency, night),
            )
        line.room_nights += g["n"]
    ordered = sorted(
        lines.values(),
        key=lambda x: (
            x.night,
            x.hotel,
            x.block_id,
            x.currency,
            x.rate,
            x.payer,
            x.tour_operator,
            not x.stayed,
        ),
    )

    grand = Total(key=None, label=_("Total"))
    by_hotel: dict[int, Total] = {}
    by_operator: dict[int | None, Total] = {}
    by_payer: dict[str, Total] = {}
    by_day: dict[date, Total] = {}
    missing: dict[str, list[Line]] = defaultdict(list)
    for line in ordered:
        grand.add(line)
        by_hotel.setdefault(line.hotel_id, Total(line.hotel_id, line.hotel)).add(line)
        by_operator.setdefault(
            line.tour_operator_id,
            Total(line.tour_operator_id, line.tour_operator or _("No tour operator")),
        ).add(line)
        by_payer.setdefault(line.payer, Total(line.payer, line.payer_label)).add(line)
        by_day.setdefault(line.night, Total(line.night, line.night.isoformat())).add(line)
        if line.missing_rate:
            missing[line.currency].append(line)

    def by_label(totals: Iterable[Total]) -> list[Total]:
        return sorted(totals, key=lambda t: (t.label.casefold(), str(t.key)))

    return Ledger(
        crisis=crisis,
        filters=filters,
        home_currency=rates.home,
        lines=ordered,
        grand=grand,
        by_hotel=by_label(by_hotel.values()),
        by_operator=sorted(by_operator.values(), key=lambda t: (t.key is None, t.label.casefold())),
        by_payer=[by_payer[p] for p in Payer.values if p in by_payer]
        + [t for p, t in by_payer.items() if p not in Payer.values],
        by_day=[by_day[d] for d in sorted(by_day)],
        missing=[
            MissingRate(
                currency=currency,
                first=min(x.night for x in found),
                last=max(x.night for x in found),
                room_nights=sum(x.room_nights for x in found),
            )
            for currency, found in sorted(missing.items())
        ],
        rates_used=sorted(rates.used.values(), key=lambda r: (r.currency, r.valid_from)),
    )


# --- XLSX -------------------------------------------------------------------------------------


def _text(value: object) -> str:
    """Text a spreadsheet would run as a formula is quoted (names come from operators)."""
    return formula_safe("" if value is None else str(value))


MONEY = "#,##0.00"
RATE = "0.000000"
DAY = "yyyy-mm-dd"


def render_xlsx(ledger: Ledger) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    home = ledger.home_currency
    book = Workbook()
    lines = book.active
    assert isinstance(lines, Worksheet)
    lines.title = "Lines"

    def header(sheet: Worksheet, names: list[str], widths: list[int]) -> None:
        sheet.append(names)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        for i, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = width

    def formats(sheet: Worksheet, columns: dict[int, str]) -> None:
        row = sheet._current_row  # the row just appended (max_row scans every cell: O(n²))
        for column, number_format in columns.items():
            sheet.cell(row=row, column=column).number_format = number_format

    header(
        lines,
        [
            _("Night"),
            _("Hotel"),
            _("Country"),
            _("Tour operator"),
            _("Who pays"),
            _("Contract reference"),
            _("Currency"),
            _("Rate"),
            _("Room-nights"),
            _("Amount"),
            _("Exchange rate"),
            _("Amount in %(currency)s") % {"currency": home},
            _("Stayed or committed"),
        ],
        [11, 28, 8, 24, 22, 18, 9, 11, 12, 14, 13, 16, 14],
    )
    for line in ledger.lines:
        lines.append(
            [
                line.night,
                _text(line.hotel),
                line.country,
                _text(line.tour_operator),
                _text(line.payer_label),
                _text(line.contract_ref),
                line.currency,
                line.rate,
                line.room_nights,
                line.amount,
                line.exchange_rate,
                line.amount_home,
                _("stayed") if line.stayed else _("committed"),
            ]
        )
        formats(lines, {1: DAY, 8: MONEY, 10: MONEY, 11: RATE, 12: MONEY})
    lines.freeze_panes = "A2"
    lines.auto_filter.ref = lines.dimensions

    totals = book.create_sheet("Totals")
    header(
        totals,
        [
            _("Totals by"),
            _("Name"),
            _("Currency"),
            _("Room-nights"),
            _("Amount"),
            _("Amount in %(currency)s") % {"currency": home},
            _("Note"),
        ],
        [16, 30, 9, 12, 16, 18, 40],
    )
    sections = [
        (_("Hotel"), ledger.by_hotel),
        (_("Tour operator"), ledger.by_operator),
        (_("Who pays"), ledger.by_payer),
        (_("Night"), ledger.by_day),
        (_("All"), [ledger.grand]),
    ]
    for section, group in sections:
        for total in group:
            # A night is a real date cell, like the nights of the Lines sheet.
            name: object = total.key if isinstance(total.key, date) else _text(total.label)
            name_format = {2: DAY} if isinstance(name, date) else {}
            for money in total.currencies:
                totals.append(
                    [
                        section,
                        name,
                        money.currency,
                        money.room_nights,
                        money.amount,
                        money.home if money.complete else None,
                        "" if money.complete else _("exchange rate missing"),
                    ]
                )
                formats(totals, {**name_format, 5: MONEY, 6: MONEY})
            totals.append(
                [
                    section,
                    name,
                    home,
                    total.room_nights,
                    None,
                    total.home if total.complete else None,
                    _("total in %(currency)s") % {"currency": home}
                    if total.complete
                    else _("incomplete: exchange rate missing"),
                ]
            )
            for cell in totals[totals.max_row]:
                cell.font = Font(bold=True)
            formats(totals, {**name_format, 6: MONEY})
    totals.freeze_panes = "A2"

    used = book.create_sheet("Rates")
    header(
        used,
        [
            _("Currency"),
            _("Valid from"),
            _("Rate in %(currency)s") % {"currency": home},
            _("Source"),
        ],
        [9, 12, 16, 40],
    )
    for rate in ledger.rates_used:
        used.append([rate.currency, rate.valid_from, rate.rate, _text(rate.source)])
        formats(used, {2: DAY, 3: RATE})
    for item in ledger.missing:
        used.append(
            [
                item.currency,
                item.first,
                None,
                _("missing: a rate valid from %(day)s or earlier is needed")
                % {"day": item.first.isoformat()},
            ]
        )
        formats(used, {2: DAY})

    book.properties.title = f"Ledger {ledger.crisis.code}"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class LedgerFile:
    content: bytes
    filename: str
    content_type: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def ledger_export(*, actor: User | None, crisis: Crisis, filters: LedgerFilters) -> LedgerFile:
    """The ledger as an XLSX workbook for accounting (audited: `ledger_export`)."""
    ledger = ledger_build(crisis=crisis, filters=filters)
    content = render_xlsx(ledger)
    audit_read(
        actor=actor,
        verb="ledger_export",
        obj=crisis,
        crisis=crisis,
        export=True,
        details={
            "format": "xlsx",
            "filters": {k: v for k, v in filters.as_dict().items() if v},
            "lines": len(ledger.lines),
            "room_nights": ledger.grand.room_nights,
        },
    )
    first = ledger.first.isoformat() if ledger.first else "all"
    last = ledger.last.isoformat() if ledger.last else "all"
    return LedgerFile(content=content, filename=f"ledger-{crisis.code}-{first}-{last}.xlsx")
