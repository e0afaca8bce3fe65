"""Writes of shelter: tour operators, hotels, room blocks, stays and their history,
exchange rates, and hotel nights taken from a published plan.

Every function here is atomic and audited. A stay's rooms are held night by night in
`StayNight` rows, unique per block, room and night (see `aman.shelter.models`): writers lock
the blocks they draw from (in id order) before choosing a free room, so that on PostgreSQL
two officers giving rooms from one block queue up and the second one sees the first one's
rooms; the unique constraint is the backstop, and its refusal is turned into the same words.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from aman.core.audit import audit_write, diff, snapshot
from aman.core.errors import ApplicationError, Conflict
from aman.core.ids import is_id
from aman.core.models import Crisis, User
from aman.dedup.signals import MergeConflict
from aman.geo.models import Country, Place
from aman.registry.identity import normalize_phone
from aman.registry.models import Household, ImportSource, Person, reference_code_display
from aman.registry.services import person_set_status
from aman.registry.statuses import Status
from aman.shelter import dates
from aman.shelter import rooms as packing
from aman.shelter.models import (
    CHILD_AGE,
    DEFAULT_BEDS,
    HOLDS_ROOM,
    INFANT_AGE,
    STAY_TRANSITIONS,
    ExchangeRate,
    Hotel,
    Meals,
    Payer,
    RoomBlock,
    RoomBlockRooms,
    RoomType,
    Stay,
    StayEvent,
    StayNight,
    StayStatus,
    TourOperator,
    nights_between,
)

# People who need no bed from the ministry.
NOT_HOUSED = frozenset({Status.WITHDRAWN, Status.STAYING, Status.DECLINED, Status.ARRIVED_HOME})
MAX_NIGHTS = 60


def _problems_raise(problems: dict[str, list[str]]) -> None:
    if problems:
        first = next(iter(problems.items()))
        raise ApplicationError(
            _("Please correct %(field)s: %(problem)s")
            % {"field": first[0], "problem": first[1][0]},
            {"errors": problems},
        )


def _text(data: dict[str, Any], name: str, limit: int, problems: dict[str, list[str]]) -> str:
    """The text sent for `name`, stripped; longer than `limit` is refused, never cut short."""
    text = str(data.get(name) or "").strip()
    if len(text) > limit:
        problems.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": limit})
    return text


def _short(value: Any, name: str, limit: int) -> str:
    """One free-text argument of a service (a note, a reason), stripped; refused with the
    field named when longer than `limit`."""
    problems: dict[str, list[str]] = {}
    text = _text({name: value}, name, limit, problems)
    _problems_raise(problems)
    return text


def _limit(model: Any, name: str) -> int:
    return int(model._meta.get_field(name).max_length)


def _email(data: dict[str, Any], name: str, problems: dict[str, list[str]]) -> str:
    text = _text(data, name, 254, problems)
    if text and name not in problems:
        try:
            EmailValidator()(text)
        except ValidationError:
            problems.setdefault(name, []).append(_("Not an email address."))
    return text


def _phone(
    data: dict[str, Any], name: str, problems: dict[str, list[str]], region: str | None
) -> str:
    """A phone number as typed, refused unless libphonenumber reads it as a valid number
    (numbers without a country code are read as numbers of `region`), as the registry reads
    people's phones. Kept as typed: a valid number needs no rewriting to be called."""
    text = _text(data, name, 40, problems)
    if text and name not in problems and not normalize_phone(text, region).valid:
        problems.setdefault(name, []).append(
            _("Not a valid phone number: write it with its country code (+994 12 345 67 89).")
        )
    return text


def _day(
    value: Any, name: str, problems: dict[str, list[str]], *, plausible: bool = True
) -> date | None:
    """A date sent for `name`. With `plausible` (a block's or a stay's nights) it must lie
    within two years of today (`aman.shelter.dates`): further is refused, never stored."""
    if isinstance(value, date):
        parsed: date | None = value
    elif value in (None, ""):
        problems.setdefault(name, []).append(_("Required."))
        return None
    else:
        try:
            parsed = parse_date(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            problems.setdefault(name, []).append(_("Not a date (YYYY-MM-DD)."))
            return None
    assert parsed is not None
    problem = dates.day_problem(parsed) if plausible else None
    if problem:
        problems.setdefault(name, []).append(problem)
        return None
    return parsed


def _amount(value: Any, name: str, problems: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        problems.setdefault(name, []).append(_("Required."))
        return None
    try:
        amount = Decimal(str(value).replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        problems.setdefault(name, []).append(_("Not a number."))
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e8"):
        problems.setdefault(name, []).append(_("Out of range."))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        problems.setdefault(name, []).append(_("At most two decimals."))
        return None
    return amount.quantize(Decimal("0.01"))


def _currency(value: Any, name: str, problems: dict[str, list[str]]) -> str:
    text = str(value or "").strip().upper()
    if len(text) != 3 or not text.isascii() or not text.isalpha():
        problems.setdefault(name, []).append(_("A three-letter currency code (ISO 4217)."))
    return text


def _choice(value: Any, choices: Any, name: str, problems: dict[str, list[str]]) -> str:
    text = str(value or "").strip()
    if text not in choices.values:
        problems.setdefault(name, []).append(
            _("One of: %(values)s.") % {"values": ", ".join(choices.values)}
        )
    return text


def _whole(value: Any, name: str, problems: dict[str, list[str]], *, low: int, high: int) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        problems.setdefault(name, []).append(_("A whole number."))
        return 0
    if not low <= number <= high:
        problems.setdefault(name, []).append(
            _("Between %(low)d and %(high)d.") % {"low": low, "high": high}
        )
    return number


# Tour operators ------------------------------------------------------------------------------


OPERATOR_FIELDS = ["name", "contact", "phone", "email", "import_source"]


def _tour_operator_values(data: dict[str, Any], current: TourOperator | None) -> dict[str, Any]:
    """The fields of a tour operator sent in `data` (all of them for a new one), checked.
    `import_source` names a list source of the registry's imports; blank unlinks it."""
    problems: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    present = [f for f in OPERATOR_FIELDS if f in data] if current else OPERATOR_FIELDS
    others = TourOperator.objects.exclude(pk=current.pk) if current else TourOperator.objects
    for name in present:
        if name == "name":
            values[name] = _text(data, name, _limit(TourOperator, name), problems)
            if not values[name]:
                problems.setdefault(name, []).append(_("Required."))
            elif name not in problems and others.filter(name__iexact=values[name]).exists():
                problems.setdefault(name, []).append(_("A tour operator of this name exists."))
        elif name == "phone":
            values[name] = _phone(data, name, problems, settings.AMAN_HOME_COUNTRY)
        elif name == "email":
            values[name] = _email(data, name, problems)
        elif name == "import_source":
            source = None
            source_name = _text(data, name, _limit(ImportSource, "name"), problems)
            if source_name and name not in problems:
                source = ImportSource.objects.filter(name=source_name).first()
                if source is None:
                    problems.setdefault(name, []).append(
                        _("No list source of this name in the registry's imports.")
                    )
                elif others.filter(import_source=source).exists():
                    problems.setdefault(name, []).append(
                        _("These lists already belong to another tour operator.")
                    )
            values[name] = source
        else:
            values[name] = _text(data, name, _limit(TourOperator, name), problems)
    _problems_raise(problems)
    return values


@transaction.atomic
def tour_operator_create(*, actor: User | None, data: dict[str, Any]) -> TourOperator:
    operator = TourOperator.objects.create(**_tour_operator_values(data, None))
    audit_write(
        actor=actor,
        verb="tour_operator_create",
        obj=operator,
        action="create",
        changes={"name": [None, operator.name]},
    )
    return operator


@transaction.atomic
def tour_operator_update(
    *, actor: User | None, operator: TourOperator, data: dict[str, Any]
) -> TourOperator:
    """Change the fields sent in `data`. Linking other lists changes who pays for the stays
    created from then on; a stay keeps the payer it was created with."""
    operator = TourOperator.objects.select_for_update().get(pk=operator.pk)
    values = _tour_operator_values(data, operator)
    before = snapshot(operator, OPERATOR_FIELDS)
    for name, value in values.items():
        setattr(operator, name, value)
    operator.save()
    audit_write(
        actor=actor,
        verb="tour_operator_update",
        obj=operator,
        changes=diff(before, snapshot(operator, OPERATOR_FIELDS)),
    )
    return operator


def _operator(value: Any, name: str, problems: dict[str, list[str]]) -> TourOperator | None:
    if isinstance(value, TourOperator) or value in (None, ""):
        return value or None
    text = str(value).strip()
    found = None
    if is_id(text):
        found = TourOperator.objects.filter(pk=int(text)).first()
    found = found or TourOperator.objects.filter(name__iexact=text).first()
    if found is None:
        problems.setdefault(name, []).append(_("No tour operator “%(v)s”.") % {"v": text[:60]})
    return found


# Hotels -------------------------------------------------------------------------------------

HOTEL_FIELDS = [
    "name",
    "country",
    "city",
    "address",
    "latitude",
    "longitude",
    "contact",
    "phone",
    "email",
    "tour_operator",
    "notes",
]


def _coordinate(value: Any, name: str, limit: float, problems: dict[str, list[str]]) -> Any:
    if value in (None, ""):
        return None
    try:
        number = float(str(value).replace(",", "."))
    except ValueError:
        problems.setdefault(name, []).append(_("Not a number."))
        return None
    if not -limit <= number <= limit or number != number:
        problems.setdefault(name, []).append(_("Out of range."))
        return None
    return number


def _hotel_values(data: dict[str, Any], current: Hotel | None) -> dict[str, Any]:
    problems: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    present = [f for f in HOTEL_FIELDS if f in data] if current else HOTEL_FIELDS
    for name in present:
        raw = data.get(name)
        if name == "name":
            values[name] = _text(data, name, _limit(Place, name), problems)
            if not values[name]:
                problems.setdefault(name, []).append(_("Required."))
        elif name == "country":
            country = raw if isinstance(raw, Country) else None
            if country is None and raw not in (None, ""):
                country = Country.objects.filter(code=str(raw).strip().upper()).first()
            if country is None:
                problems.setdefault(name, []).append(_("A country (ISO code)."))
            values[name] = country
        elif name == "city":
            city = raw if isinstance(raw, Place) else None
            if city is None and raw not in (None, ""):
                text = str(raw).strip()
                qs = Place.objects.filter(kind=Place.Kind.CITY)
                city = (qs.filter(pk=int(text)).first() if is_id(text) else None) or qs.filter(
                    code=text
                ).first()
                if city is None:
                    problems.setdefault(name, []).append(_("No such city."))
            values[name] = city
        elif name == "latitude":
            values[name] = _coordinate(raw, name, 90, problems)
        elif name == "longitude":
            values[name] = _coordinate(raw, name, 180, problems)
        elif name == "tour_operator":
            values[name] = _operator(raw, name, problems)
        elif name == "email":
            values[name] = _email(data, name, problems)
        elif name == "phone":
            continue  # read with the hotel's country, below
        else:
            values[name] = _text(data, name, _limit(Hotel, name), problems)
    if "phone" in present:
        country = values.get("country") or (current.place.country if current else None)
        region = country.code if country is not None else None
        values["phone"] = _phone(data, "phone", problems, region)
    if (
        values.get("city")
        and values.get("country")
        and values["city"].country_id != (values["country"].pk)
    ):
        problems.setdefault("city", []).append(_("The city is not in that country."))
    _problems_raise(problems)
    return values


def _place_fields(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("name", "country", "latitude", "longitude"):
        if name in values:
            out[name] = values[name]
    return out


def _timezone_for(place: Place, city: Place | None) -> str:
    if city is not None and city.timezone:
        return city.timezone
    from aman.geo.loaders import _nearest_timezone

    if place.latitude is not None and place.longitude is not None:
        return _nearest_timezone(place.country_id, place.latitude, place.longitude)
    # No coordinates: the clock of the country's largest city.
    return (
        Place.objects.filter(country_id=place.country_id, kind=Place.Kind.CITY)
        .exclude(timezone="")
        .order_by("-population")
        .values_list("timezone", flat=True)
        .first()
        or ""
    )


@transaction.atomic
def hotel_create(*, actor: User | None, crisis: Crisis, data: dict[str, Any]) -> Hotel:
    values = _hotel_values(data, None)
    place = Place(
        kind=Place.Kind.HOTEL,
        code=f"hotel-{uuid.uuid4().hex[:12]}",
        **_place_fields(values),
    )
    place.timezone = _timezone_for(place, values.get("city"))
    place.search_text = place.name.lower()
    place.save()
    hotel = Hotel.objects.create(
        crisis=crisis,
        place=place,
        created_by=actor,
        **{
            k: v for k, v in values.items() if k not in ("name", "country", "latitude", "longitude")
        },
    )
    audit_write(
        actor=actor,
        verb="hotel_create",
        obj=hotel,
        action="create",
        crisis=crisis,
        changes={"name": [None, place.name]},
    )
    return hotel


@transaction.atomic
def hotel_update(*, actor: User | None, hotel: Hotel, data: dict[str, Any]) -> Hotel:
    values = _hotel_values(data, hotel)
    place = hotel.place
    before = {**snapshot(place, ["name", "country", "latitude", "longitude"])}
    before.update(snapshot(hotel, [k for k in HOTEL_FIELDS if k not in before]))
    for name, value in _place_fields(values).items():
        setattr(place, name, value)
    if "city" in values or "latitude" in values or "longitude" in values:
        place.timezone = _timezone_for(place, values.get("city", hotel.city))
    place.search_text = place.name.lower()
    place.save()
    for name, value in values.items():
        if name not in ("name", "country", "latitude", "longitude"):
            setattr(hotel, name, value)
    hotel.save()
    after = {**snapshot(place, ["name", "country", "latitude", "longitude"])}
    after.update(snapshot(hotel, [k for k in HOTEL_FIELDS if k not in after]))
    audit_write(
        actor=actor,
        verb="hotel_update",
        obj=hotel,
        crisis=hotel.crisis,
        changes=diff(before, after),
    )
    return hotel


# Room blocks ---------------------------------------------------------------------------------

BLOCK_FIELDS = [
    "room_type",
    "beds",
    "rooms",
    "first_night",
    "last_night",
    "rate",
    "currency",
    "meals",
    "payer",
    "tour_operator",
    "contract_ref",
    "notes",
]


def _block_values(data: dict[str, Any], current: RoomBlock | None) -> dict[str, Any]:
    problems: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    present = [f for f in BLOCK_FIELDS if f in data] if current else BLOCK_FIELDS
    for name in present:
        raw = data.get(name)
        if name == "room_type":
            values[name] = _choice(raw or RoomType.DOUBLE, RoomType, name, problems)
        elif name == "beds":
            if raw in (None, "") and current is None:
                values[name] = DEFAULT_BEDS.get(values.get("room_type", ""), 2)
            else:
                values[name] = _whole(raw, name, problems, low=1, high=12)
        elif name == "rooms":
            values[name] = _whole(raw, name, problems, low=1, high=5000)
        elif name in ("first_night", "last_night"):
            values[name] = _day(raw, name, problems)
        elif name == "rate":
            values[name] = _amount(raw, name, problems)
        elif name == "currency":
            values[name] = _currency(raw, name, problems)
        elif name == "meals":
            values[name] = _choice(raw or Meals.NONE, Meals, name, problems)
        elif name == "payer":
            values[name] = _choice(raw, Payer, name, problems)
        elif name == "tour_operator":
            values[name] = _operator(raw, name, problems)
        else:
            values[name] = _text(data, name, _limit(RoomBlock, name), problems)
    first = values.get("first_night", current.first_night if current else None)
    last = values.get("last_night", current.last_night if current else None)
    if first and last:
        if last < first:
            problems.setdefault("last_night", []).append(_("Before the first night."))
        elif (last - first).days >= 366:
            problems.setdefault("last_night", []).append(_("A block runs for a year at most."))
    payer = values.get("payer", current.payer if current else "")
    operator = values.get("tour_operator", current.tour_operator if current else None)
    if payer == Payer.TOUR_OPERATOR and operator is None and "payer" in values:
        problems.setdefault("tour_operator", []).append(
            _("The tour operator who pays: required when a tour operator pays.")
        )
    _problems_raise(problems)
    return values


@transaction.atomic
def block_create(*, actor: User | None, hotel: Hotel, data: dict[str, Any]) -> RoomBlock:
    if data.get("payer") in (Payer.TOUR_OPERATOR, Payer.GUARANTEE_FUND) and not data.get(
        "tour_operator"
    ):
        # Through the hotel's partner tour operator unless another one is named.
        data = {**data, "tour_operator": hotel.tour_operator}
    values = _block_values(data, None)
    if values.get("tour_operator") is None and values["payer"] in (
        Payer.TOUR_OPERATOR,
        Payer.GUARANTEE_FUND,
    ):
        values["tour_operator"] = hotel.tour_operator
    block = RoomBlock.objects.create(crisis=hotel.crisis, hotel=hotel, created_by=actor, **values)
    RoomBlockRooms.objects.create(
        block=block, from_night=block.first_night, rooms=block.rooms, recorded_by=actor
    )
    audit_write(
        actor=actor,
        verb="block_create",
        obj=block,
        action="create",
        crisis=hotel.crisis,
        changes={k: [None, str(v)] for k, v in snapshot(block, BLOCK_FIELDS).items()},
    )
    return block


def _rooms_from(
    block: RoomBlock, values: dict[str, Any], data: dict[str, Any]
) -> tuple[date, date] | None:
    """The nights a change of the number of rooms applies to (from, last), when `rooms` is
    sent: from `rooms_from` (blank: tonight, the hotel's) or the block's first night when
    it starts later, to its last night. Nights already past keep the rooms they had."""
    raw = data.get("rooms_from")
    if "rooms" not in values:
        if raw not in (None, ""):
            _problems_raise(
                {"rooms_from": [_("Say how many rooms the block has from that night on.")]}
            )
        return None
    today = block.hotel.today()
    first = values.get("first_night", block.first_night)
    last = values.get("last_night", block.last_night)
    problems: dict[str, list[str]] = {}
    start = today
    if raw not in (None, ""):
        given = _day(raw, "rooms_from", problems)
        if given is not None and given < today:
            problems.setdefault("rooms_from", []).append(
                _(
                    "A night already past keeps the rooms it had: the change applies from "
                    "tonight (%(today)s) on at the earliest."
                )
                % {"today": today.isoformat()}
            )
        elif given is not None and given > last:
            problems.setdefault("rooms_from", []).append(_("After the block's last night."))
        start = given or today
    _problems_raise(problems)
    start = max(start, first)
    if start > last and raw in (None, "") and values["rooms"] == block.rooms:
        # An ended block sent back with its rooms as they are (a client's read, then
        # write of another field): no change of rooms.
        del values["rooms"]
        return None
    if start > last:
        _problems_raise(
            {
                "rooms": [
                    _(
                        "The block's last night (%(day)s) is past: the nights already past "
                        "keep the rooms they had."
                    )
                    % {"day": last.isoformat()}
                ]
            }
        )
    return start, last


@transaction.atomic
def block_update(*, actor: User | None, block: RoomBlock, data: dict[str, Any]) -> RoomBlock:
    """Change a contract. Rooms and nights given to households cannot be taken away: the
    block cannot shrink below a room in use, nor lose a night a stay holds. A new number of
    rooms applies from `rooms_from` on (blank: from tonight, the hotel's; or from the
    block's first night when it starts later) to the block's last night, over any change
    recorded before; the nights before keep the rooms they had (`RoomBlockRooms`). A new
    rate or currency prices the nights booked from then on; every night booked already
    keeps the price it was booked at (`StayNight.rate`), stayed or not — the cost ledger
    never changes behind accounting's back."""
    block = (
        RoomBlock.objects.select_for_update(of=("self",))
        .select_related("crisis", "hotel__place")
        .get(pk=block.pk)
    )
    values = _block_values(data, block)
    nights = _rooms_from(block, values, data)
    before = snapshot(block, BLOCK_FIELDS)
    used = StayNight.objects.filter(block=block)
    change: RoomBlockRooms | None = None
    had = 0
    if nights is not None:
        start, last = nights
        counts = block.room_counts()
        had = counts.on(start)
        if all(counts.on(n) == values["rooms"] for n in nights_between(start, last)):
            # Every one of those nights has that number already: nothing to record.
            del values["rooms"]
        else:
            _check_shrink(block, values["rooms"], start)
            change = RoomBlockRooms(
                block=block, from_night=start, rooms=values["rooms"], recorded_by=actor
            )
    if "beds" in values and values["beds"] < block.beds:
        for stay in Stay.objects.filter(block=block, status__in=HOLDS_ROOM).prefetch_related(
            "guests"
        ):
            needed = sum(1 for g in stay.guests.all() if not guest_of(g, stay.first_night).infant)
            if needed > values["beds"]:
                raise Conflict(
                    _("A household of %(n)d sleeps in a room of this block: it keeps its beds.")
                    % {"n": needed},
                    {"errors": {"beds": [_("Fewer beds than the guests of a room.")]}},
                )
    first = values.get("first_night", block.first_night)
    last = values.get("last_night", block.last_night)
    outside = used.filter(Q(night__lt=first) | Q(night__gt=last)).order_by("night").first()
    if outside is not None:
        raise Conflict(
            _("A household stays the night of %(night)s: the block must keep that night.")
            % {"night": outside.night.isoformat()},
            {
                "errors": {
                    "first_night" if outside.night < first else "last_night": [_("A night in use.")]
                }
            },
        )
    for name, value in values.items():
        setattr(block, name, value)
    block.save()
    changes: dict[str, Any] = diff(before, snapshot(block, BLOCK_FIELDS))
    if change is not None:
        change.save()
        # The rooms that night had, and has from now on.
        changes["rooms"] = [had, change.rooms]
        changes["rooms_from"] = change.from_night.isoformat()
    if "rate" in changes or "currency" in changes:
        changes["nights_keeping_their_price"] = _nights_at_another_price(block)
    audit_write(
        actor=actor,
        verb="block_update",
        obj=block,
        crisis=block.crisis,
        changes=changes,
    )
    return block


def _rooms_held(block: RoomBlock, above: int, start: date) -> list[Stay]:
    """The stays holding a room numbered above `above` in the block on a night from `start`
    on (tonight at the earliest): what stands in the way of shrinking the block to `above`
    rooms from that night on. Nights before keep their rooms and stand in no one's way."""
    stay_ids = (
        StayNight.objects.filter(block=block, room__gt=above, night__gte=start)
        .values_list("stay_id", flat=True)
        .distinct()
    )
    return list(
        Stay.objects.filter(pk__in=list(stay_ids))
        .select_related("household")
        .order_by("room", "first_night", "pk")
    )


def _check_shrink(block: RoomBlock, rooms: int, start: date) -> None:
    """Refuse fewer rooms than a stay holds from the night `start` on, naming the rooms and
    the stays and saying how to free them."""
    held = _rooms_held(block, rooms, start)
    if not held:
        return
    named = "; ".join(
        _("room %(room)d: stay %(stay)d (%(status)s, until the night of %(last)s)")
        % {
            "room": s.room,
            "stay": s.pk,
            "status": s.get_status_display(),
            "last": s.last_night.isoformat(),
        }
        for s in held
    )
    raise Conflict(
        _(
            "The block cannot have %(rooms)d rooms from the night of %(night)s: rooms above "
            "%(rooms)d are held from then on — %(held)s. Move those stays to a free room of "
            "the block (Move to another room, on the stay's page), or end them, then shrink "
            "the block."
        )
        % {"rooms": rooms, "night": start.isoformat(), "held": named},
        {
            "errors": {
                "rooms": [_("Rooms above this number are held: %(held)s.") % {"held": named}]
            },
            "held": [{"room": s.room, "stay": s.pk, "status": s.status} for s in held],
        },
    )


def _nights_at_another_price(block: RoomBlock) -> int:
    """The room-nights of a block booked at another rate or currency than its own now (they
    keep the price they were booked at)."""
    return (
        StayNight.objects.filter(block=block)
        .exclude(rate=block.rate, currency=block.currency)
        .count()
    )


# Stays --------------------------------------------------------------------------------------


def housed_members(household: Household) -> list[Person]:
    """The members of a household who need a bed: not merged away, not staying behind,
    withdrawn, declined or home."""
    return list(
        Person.objects.filter(household=household)
        .exclude(status__in=NOT_HOUSED)
        .order_by("-priority", "birth_date", "id")
    )


def guest_of(person: Person, first_night: date) -> packing.Guest:
    age = person.age_on(first_night)
    return packing.Guest(
        person_id=person.pk,
        adult=age is None or age >= CHILD_AGE,
        infant=age is not None and age < INFANT_AGE,
    )


def operator_of(people: Iterable[Person]) -> TourOperator | None:
    """The tour operator on whose imported list any of these people came."""
    from aman.registry.models import IntakeRecord

    sources = set(
        IntakeRecord.objects.filter(people__in=list(people), batch__isnull=False).values_list(
            "batch__source_id", flat=True
        )
    )
    if not sources:
        return None
    return TourOperator.objects.filter(import_source_id__in=sources).order_by("id").first()


def check_nights(first: Any, last: Any) -> tuple[date, date]:
    problems: dict[str, list[str]] = {}
    first_day = _day(first, "first_night", problems)
    last_day = _day(last, "last_night", problems)
    if first_day and last_day:
        if last_day < first_day:
            problems.setdefault("last_night", []).append(_("Before the first night."))
        elif (last_day - first_day).days >= MAX_NIGHTS:
            problems.setdefault("last_night", []).append(
                _("A stay is %(n)d nights at most; book another one after it.") % {"n": MAX_NIGHTS}
            )
    _problems_raise(problems)
    assert first_day is not None and last_day is not None
    return first_day, last_day


def free_rooms(block: RoomBlock, first: date, last: date) -> list[int]:
    """The rooms of a block free for every night from `first` to `last`: the rooms every one
    of those nights has (`RoomBlock.rooms_on`) that nobody holds on any of them."""
    used = set(
        StayNight.objects.filter(block=block, night__gte=first, night__lte=last).values_list(
            "room", flat=True
        )
    )
    rooms = block.room_counts().fewest(first, last)
    return [r for r in range(1, rooms + 1) if r not in used]


@dataclass
class RoomRequest:
    block: RoomBlock
    guests: list[Person]


def _event(stay: Stay, status: str, previous: str, actor: User | None, note: str) -> None:
    StayEvent.objects.create(stay=stay, status=status, previous=previous, actor=actor, note=note)


def _counts(guests: list[Person], first_night: date) -> tuple[int, int]:
    adults = sum(1 for g in guests if guest_of(g, first_night).adult)
    return adults, len(guests) - adults


def _busy(people: list[Person], first: date, last: date, exclude_group: str = "") -> list[Person]:
    """Those of `people` who already have a room on one of these nights."""
    qs = Stay.objects.filter(
        guests__in=people,
        status__in=HOLDS_ROOM,
        first_night__lte=last,
        last_night__gte=first,
    )
    if exclude_group:
        qs = qs.exclude(group=exclude_group)
    busy = set(qs.values_list("guests__id", flat=True))
    return [p for p in people if p.pk in busy]


def _payer_for(
    block: RoomBlock, guests: list[Person], payer: str
) -> tuple[str, TourOperator | None]:
    """Who pays a stay: the officer's choice, else the tourists' own tour operator when they
    came on its list (a block paid by the guarantee fund keeps the fund as payer, charged to
    that operator), else the block's payer."""
    operator = operator_of(guests)
    if payer:
        if payer not in Payer.values:
            raise ApplicationError(
                _("Who pays: one of %(values)s.") % {"values": ", ".join(Payer.values)},
                {"errors": {"payer": [_("Unknown payer.")]}},
            )
        if payer in (Payer.TOUR_OPERATOR, Payer.GUARANTEE_FUND):
            chosen = operator or block.tour_operator or block.hotel.tour_operator
            if chosen is None and payer == Payer.TOUR_OPERATOR:
                raise ApplicationError(
                    _(
                        "Which tour operator pays? None of the guests came on a tour "
                        "operator's list, and neither the block nor the hotel names one."
                    ),
                    {"errors": {"payer": [_("No tour operator to charge.")]}},
                )
            return payer, chosen
        return payer, None
    if operator is not None and block.payer != Payer.PERSON:
        if block.payer == Payer.GUARANTEE_FUND:
            return Payer.GUARANTEE_FUND, operator
        return Payer.TOUR_OPERATOR, operator
    if block.payer in (Payer.TOUR_OPERATOR, Payer.GUARANTEE_FUND):
        return block.payer, block.tour_operator or block.hotel.tour_operator
    return block.payer, None


def _stays_create(
    *,
    actor: User | None,
    crisis: Crisis,
    requests: list[RoomRequest],
    first: date,
    last: date,
    household: Household | None,
    split_reason: str,
    payer: str,
    source: str,
    source_ref: str,
    explicit: bool = False,
) -> list[Stay]:
    """Give each request a room of its block for the nights. The caller holds the
    transaction; blocks are locked here in id order. With `explicit` (the caller chose the
    rooms), a refusal about one room names it as `rooms.<n>.block` or `rooms.<n>.guests`, n
    counted from 0 in the order given."""
    block_ids = sorted({r.block.pk for r in requests})
    blocks = {
        b.pk: b
        for b in RoomBlock.objects.select_for_update(of=("self",))
        .select_related("hotel", "hotel__tour_operator", "tour_operator")
        .filter(pk__in=block_ids, crisis=crisis)
        .order_by("pk")
    }
    if len(blocks) != len(block_ids):
        raise ApplicationError(_("A room block of another crisis, or none."))
    if len({b.hotel_id for b in blocks.values()}) > 1 and not split_reason:
        raise Conflict(
            _(
                "A household stays in one hotel: choose rooms of one hotel, or give a reason "
                "for splitting it."
            )
        )
    group = secrets.token_hex(8)
    taken: dict[int, set[int]] = {}
    stays: list[Stay] = []
    for n, request in enumerate(requests):
        block = blocks[request.block.pk]
        room_field = f"rooms.{n}." if explicit else ""
        if not block.covers(first, last):
            errors = {"first_night": [_("Outside the block's nights.")]}
            if explicit:
                errors[f"rooms.{n}.block"] = errors["first_night"]
            raise Conflict(
                _("The block %(block)s has no rooms for the nights %(first)s to %(last)s.")
                % {"block": str(block), "first": first.isoformat(), "last": last.isoformat()},
                {"errors": errors},
            )
        beds_needed = sum(1 for g in request.guests if not guest_of(g, first).infant)
        if beds_needed > block.beds:
            raise Conflict(
                _("%(n)d people need a bed; a room of this block has %(beds)d.")
                % {"n": beds_needed, "beds": block.beds},
                {"errors": {f"{room_field}guests": [_("Too many people for the room.")]}},
            )
        free = [r for r in free_rooms(block, first, last) if r not in taken.get(block.pk, set())]
        if not free:
            message = _(
                "No room of this block is free for every night from %(first)s to %(last)s."
            ) % {"first": first.isoformat(), "last": last.isoformat()}
            raise Conflict(
                message,
                {
                    "block": block.pk,
                    "first_night": first.isoformat(),
                    "last_night": last.isoformat(),
                    **({"errors": {f"rooms.{n}.block": [message]}} if explicit else {}),
                },
            )
        room = free[0]
        taken.setdefault(block.pk, set()).add(room)
        stay_payer, operator = _payer_for(block, request.guests, payer)
        adults, children = _counts(request.guests, first)
        stay = Stay.objects.create(
            crisis=crisis,
            block=block,
            room=room,
            household=household,
            group=group,
            first_night=first,
            last_night=last,
            adults=adults,
            children=children,
            payer=stay_payer,
            tour_operator=operator,
            split_reason=split_reason,
            source=source,
            source_ref=source_ref,
            created_by=actor,
        )
        stay.guests.set(request.guests)
        try:
            with transaction.atomic():
                StayNight.objects.bulk_create(
                    [
                        StayNight(
                            stay=stay,
                            block=block,
                            room=room,
                            night=n,
                            rate=block.rate,
                            currency=block.currency,
                        )
                        for n in nights_between(first, last)
                    ]
                )
        except IntegrityError:
            # Only reachable by a writer that did not lock the block first.
            raise Conflict(
                _("The room was just given to another household; try again."),
                {"block": block.pk},
            ) from None
        _event(stay, StayStatus.PLANNED, "", actor, split_reason)
        audit_write(
            actor=actor,
            verb="stay_create",
            obj=stay,
            action="create",
            crisis=crisis,
            changes={
                "block": [None, block.pk],
                "room": [None, room],
                "nights": [None, f"{first.isoformat()}/{last.isoformat()}"],
                "guests": [None, sorted(g.pk for g in request.guests)],
                "payer": [None, stay_payer],
            },
        )
        stays.append(stay)
    return stays


def _household_people(
    crisis: Crisis, household: Household | None, people: list[Person], split_reason: str
) -> tuple[Household | None, list[Person]]:
    """Who is housed: the named people, or the household's members who need a bed. Naming
    only some members of a household needs a reason."""
    for person in people:
        if person.crisis_id != crisis.pk or person.merged_into_id is not None:
            raise ApplicationError(
                _("%(ref)s is not one of this crisis's people.") % {"ref": person.reference_code}
            )
        if person.status in NOT_HOUSED:
            raise Conflict(
                _("%(ref)s needs no room (%(status)s).")
                % {"ref": person.reference_code, "status": Status(person.status).label.lower()}
            )
    if household is None and people:
        ids = {p.household_id for p in people}
        if len(ids) > 1:
            raise ApplicationError(_("One household at a time."))
        household_id = ids.pop()
        household = Household.objects.filter(pk=household_id).first() if household_id else None
    if household is not None and household.crisis_id != crisis.pk:
        raise ApplicationError(_("The household is not one of this crisis's."))
    strangers = [p for p in people if household is not None and p.household_id != household.pk]
    if strangers:
        raise ApplicationError(
            _("Not members of household %(household)s: %(people)s.")
            % {"household": household, "people": ", ".join(p.reference_code for p in strangers)},
            {"errors": {"people": [p.reference_code for p in strangers]}},
        )
    members = housed_members(household) if household is not None else []
    if not people:
        people = members
    elif not split_reason:
        named = {p.pk for p in people}
        missing = [m for m in members if m.pk not in named]
        if missing:
            raise Conflict(
                _(
                    "A household stays together: %(missing)s would be left without a room. "
                    "House the whole household, or give a reason for splitting it."
                )
                % {"missing": ", ".join(m.reference_code for m in missing)},
                {"missing": [m.reference_code for m in missing]},
            )
    if not people:
        raise ApplicationError(_("Nobody to house: the household has nobody who needs a room."))
    return household, people


def hotel_supplies(hotels: list[Hotel], first: date, last: date) -> list[packing.HotelSupply]:
    """The rooms of each hotel's blocks free for every night from `first` to `last` (two
    statements for any number of hotels)."""
    blocks = list(
        RoomBlock.objects.filter(
            hotel__in=hotels, first_night__lte=first, last_night__gte=last
        ).prefetch_related("rooms_history")
    )
    used: dict[int, set[int]] = {}
    for block_id, room in (
        StayNight.objects.filter(block__in=blocks, night__gte=first, night__lte=last)
        .values_list("block_id", "room")
        .distinct()
    ):
        used.setdefault(block_id, set()).add(room)
    by_hotel: dict[int, list[RoomBlock]] = {}
    for block in blocks:
        by_hotel.setdefault(block.hotel_id, []).append(block)
    out = []
    for hotel in hotels:
        place = hotel.place
        point = (
            (place.latitude, place.longitude)
            if place.latitude is not None and place.longitude is not None
            else None
        )
        out.append(
            packing.HotelSupply(
                hotel_id=hotel.pk,
                point=point,
                blocks=[
                    packing.BlockSupply(
                        block_id=b.pk,
                        hotel_id=hotel.pk,
                        beds=b.beds,
                        free=sum(
                            1
                            for r in range(1, b.room_counts().fewest(first, last) + 1)
                            if r not in used.get(b.pk, ())
                        ),
                        rate=b.rate,
                    )
                    for b in by_hotel.get(hotel.pk, [])
                ],
            )
        )
    return out


def _requests_in_hotel(
    hotel: Hotel, people: list[Person], first: date, last: date
) -> list[RoomRequest]:
    """The rooms of one hotel that house these people best (see `aman.shelter.rooms`)."""
    supply = hotel_supplies([hotel], first, last)[0]
    guests = [guest_of(p, first) for p in people]
    need = packing.HouseholdNeed(key=0, guests=guests)
    rooms = packing.pack(need.beds, supply.blocks)
    if rooms is None:
        raise Conflict(
            _(
                "%(hotel)s has no free rooms for %(n)d people for every night from %(first)s "
                "to %(last)s."
            )
            % {
                "hotel": str(hotel),
                "n": len(people),
                "first": first.isoformat(),
                "last": last.isoformat(),
            },
            {"hotel": hotel.pk},
        )
    by_id = {p.pk: p for p in people}
    blocks = {b.pk: b for b in hotel.blocks.all()}
    return [
        RoomRequest(block=blocks[choice.block_id], guests=[by_id[g] for g in choice.guests])
        for choice in packing.seat_guests(guests, rooms)
    ]


@transaction.atomic
def household_house(
    *,
    actor: User | None,
    crisis: Crisis,
    first_night: Any,
    last_night: Any,
    household: Household | None = None,
    people: Iterable[Person] = (),
    hotel: Hotel | None = None,
    rooms: list[tuple[RoomBlock, list[Person]]] | None = None,
    split_reason: str = "",
    payer: str = "",
    source: str = Stay.Source.UI,
    source_ref: str = "",
) -> list[Stay]:
    """House a household (or, with `split_reason`, some of its members) for a run of
    nights: in the rooms given (block and guests), or in the rooms of `hotel` that suit it
    best. All or nothing: when the rooms do not suffice, nobody is housed."""
    first, last = check_nights(first_night, last_night)
    split_reason = _short(split_reason, "split_reason", _limit(Stay, "split_reason"))
    source_ref = _short(source_ref, "source_ref", _limit(Stay, "source_ref"))
    named = list(people)
    if rooms:
        named = named or [p for _block, guests in rooms for p in guests]
    household, guests = _household_people(crisis, household, named, split_reason)
    # Lock the household's members so that one household is not housed twice at once.
    list(
        Person.objects.select_for_update(of=("self",))
        .filter(pk__in=[g.pk for g in guests])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    busy = _busy(guests, first, last)
    if busy:
        raise Conflict(
            _("Already housed on some of these nights: %(people)s.")
            % {"people": ", ".join(sorted(p.reference_code for p in busy))},
            {"already": sorted(p.reference_code for p in busy)},
        )
    if rooms:
        ids = [p.pk for _block, gs in rooms for p in gs]
        if len(ids) != len(set(ids)) or set(ids) != {g.pk for g in guests}:
            raise ApplicationError(_("Everyone in exactly one room."))
        requests = [RoomRequest(block=b, guests=gs) for b, gs in rooms]
    elif hotel is not None:
        if hotel.crisis_id != crisis.pk:
            raise ApplicationError(_("The hotel is not one of this crisis's."))
        # Lock the hotel's blocks before counting their free rooms.
        list(
            RoomBlock.objects.select_for_update()
            .filter(hotel=hotel)
            .order_by("pk")
            .values_list("pk")
        )
        requests = _requests_in_hotel(hotel, guests, first, last)
    else:
        raise ApplicationError(_("Choose a hotel or rooms."))
    return _stays_create(
        actor=actor,
        crisis=crisis,
        requests=requests,
        first=first,
        last=last,
        household=household,
        split_reason=split_reason,
        payer=payer,
        source=source,
        source_ref=source_ref,
        explicit=bool(rooms),
    )


@dataclass
class PlanNights:
    """Hotel nights of one household in a published plan."""

    household: Household
    hotel: Hotel
    first_night: date
    last_night: date
    # The members the plan moves (None: every member who needs a bed).
    people: list[Person] | None = None


@transaction.atomic
def stays_from_plan(
    *, actor: User | None, crisis: Crisis, items: list[PlanNights], plan_ref: str
) -> list[Stay]:
    """Take a published plan's hotel nights as planned stays, all at once or none: every
    household in rooms of its hotel that suit it best. A household already housed on those
    nights in that hotel keeps its stay (publishing twice creates nothing new)."""
    plan_ref = _short(plan_ref, "plan_ref", _limit(Stay, "source_ref"))
    if not plan_ref:
        raise ApplicationError(
            _("The plan's reference is required."), {"errors": {"plan_ref": [_("Required.")]}}
        )
    created: list[Stay] = []
    for item in sorted(items, key=lambda i: (-i.household.priority, i.household.pk)):
        members = housed_members(item.household)
        # Taken already by this plan (and perhaps changed since by an officer: extended,
        # shortened, checked in or out): left as it is.
        existing = Stay.objects.filter(
            household=item.household,
            source=Stay.Source.PLAN,
            source_ref=plan_ref,
            first_night__lte=item.last_night,
            last_night__gte=item.first_night,
        ).exclude(status__in=(StayStatus.CANCELLED, StayStatus.NO_SHOW))
        if existing.exists():
            continue
        if not members:
            continue
        named = [p for p in item.people or [] if p.pk in {m.pk for m in members}]
        partial = bool(named) and len(named) < len(members)
        created += household_house(
            actor=actor,
            crisis=crisis,
            first_night=item.first_night,
            last_night=item.last_night,
            household=item.household,
            people=named if partial else (),
            split_reason=str(_("Members who stay behind need no room.")) if partial else "",
            hotel=item.hotel,
            source=Stay.Source.PLAN,
            source_ref=plan_ref,
        )
    return created


def _lock_stays(stay: Stay, *, whole_group: bool) -> list[Stay]:
    """Lock a stay — or every stay of its group (a household's rooms booked together) — in
    the order every writer of stays takes: the guests (by id), then the blocks (by id), then
    the stays. The given stay comes first in the list."""
    ids = [stay.pk]
    if whole_group:
        ids = list(
            Stay.objects.filter(group=stay.group).order_by("pk").values_list("pk", flat=True)
        )
    through = Stay.guests.through
    guest_ids = sorted(
        set(through.objects.filter(stay_id__in=ids).values_list("person_id", flat=True))
    )
    list(
        Person.all_objects.select_for_update()
        .filter(pk__in=guest_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    block_ids = sorted(set(Stay.objects.filter(pk__in=ids).values_list("block_id", flat=True)))
    list(
        RoomBlock.objects.select_for_update()
        .filter(pk__in=block_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    stays = list(
        Stay.objects.select_for_update(of=("self",))
        .select_related("block", "block__hotel", "block__hotel__place", "crisis")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    return sorted(stays, key=lambda s: s.pk != stay.pk)


def hotel_today(stay: Stay) -> date:
    """Today on the hotel's calendar."""
    return stay.block.hotel.today()


def _release_from(stay: Stay, day: date) -> int:
    deleted, _rows = StayNight.objects.filter(stay=stay, night__gte=day).delete()
    return deleted


def _guests_status(stay: Stay, status: str, actor: User | None) -> None:
    """People checked in: accommodated (those still in the affected country; someone
    already out of it stays counted as safe). Checked out: back to assigned when a seat
    waits for them, else to verified."""
    from aman.transport.models import HOLDS_SEAT, Booking

    note = str(stay.block.hotel)[:500]
    guests = list(Person.objects.filter(pk__in=stay.guests.values("pk")))
    if status == StayStatus.CHECKED_IN:
        for person in guests:
            if person.status in (Status.REGISTERED, Status.VERIFIED, Status.ASSIGNED):
                person_set_status(actor=actor, person=person, status=Status.ACCOMMODATED, note=note)
    else:
        seated = set(
            Booking.objects.filter(person__in=guests, status__in=HOLDS_SEAT).values_list(
                "person_id", flat=True
            )
        )
        for person in guests:
            if person.status != Status.ACCOMMODATED:
                continue
            target = Status.ASSIGNED if person.pk in seated else Status.VERIFIED
            person_set_status(actor=actor, person=person, status=target, note=note)


# Steps that concern the whole household: taken on every room of its group unless an officer
# splits it with a reason. Check-in and check-out happen room by room at the desk.
GROUP_STEPS = frozenset({StayStatus.NO_SHOW, StayStatus.CANCELLED})


def _check_step(stay: Stay, status: str, today: date) -> None:
    previous = stay.status
    if status not in STAY_TRANSITIONS[previous]:
        raise Conflict(
            _("A stay cannot go from “%(old)s” to “%(new)s”.")
            % {"old": StayStatus(previous).label, "new": StayStatus(status).label},
            {"status": [status], "current": previous, "stay": stay.pk},
        )
    if status == StayStatus.CHECKED_IN:
        if today > stay.last_night:
            raise Conflict(_("The stay's last night has passed; book a new stay."))
        if today < stay.first_night - timedelta(days=1):
            raise Conflict(
                _("Check-in opens on %(day)s, the day before the first night.")
                % {"day": (stay.first_night - timedelta(days=1)).isoformat()}
            )
    elif status == StayStatus.NO_SHOW and today < stay.first_night:
        raise Conflict(
            _("Nobody can be a no-show before the first night (%(day)s); cancel the stay instead.")
            % {"day": stay.first_night.isoformat()}
        )
    elif status == StayStatus.CANCELLED and today > stay.first_night:
        raise Conflict(
            _("The first night (%(day)s) has passed: record a no-show instead of cancelling.")
            % {"day": stay.first_night.isoformat()}
        )


def _apply_step(
    stay: Stay, status: str, actor: User | None, note: str, room_number: str, today: date
) -> None:
    previous = stay.status
    now = timezone.now()
    fields = ["status", "changed_at"]
    changes: dict[str, Any] = {"status": [previous, status]}
    if status == StayStatus.CHECKED_IN:
        _check_room_number(stay, room_number)
        stay.checked_in_at = now
        stay.room_number = room_number
        fields += ["checked_in_at", "room_number"]
    elif status == StayStatus.CHECKED_OUT:
        # The nights before today were used (the first one at least): the rest go back.
        keep_until = max(stay.first_night, min(stay.last_night, today - timedelta(days=1)))
        released = _release_from(stay, keep_until + timedelta(days=1))
        if keep_until != stay.last_night:
            changes["last_night"] = [stay.last_night.isoformat(), keep_until.isoformat()]
            stay.last_night = keep_until
            fields.append("last_night")
        changes["nights_released"] = released
        stay.checked_out_at = now
        fields.append("checked_out_at")
    else:
        changes["nights_released"] = _release_from(stay, stay.first_night)
    stay.status = status
    stay.save(update_fields=fields)
    _event(stay, status, previous, actor, note)
    if status in (StayStatus.CHECKED_IN, StayStatus.CHECKED_OUT):
        _guests_status(stay, status, actor)
    audit_write(
        actor=actor,
        verb=f"stay_{status}",
        obj=stay,
        crisis=stay.crisis,
        changes={**changes, **({"note": note} if note else {})},
    )


def _check_room_number(stay: Stay, room_number: str) -> None:
    """Refuse a hotel room number held in the same hotel, on one of the stay's nights, by
    another household (rooms of one household's booking may share a number: a suite). The
    hotel is locked first, so two officers checking two households into one number at once
    queue up and the second one is refused."""
    if not room_number:
        return
    hotel_id = stay.block.hotel_id
    list(Hotel.objects.select_for_update().filter(pk=hotel_id).values_list("pk", flat=True))
    others = (
        Stay.objects.filter(
            block__hotel_id=hotel_id,
            room_number__iexact=room_number,
            status__in=(*HOLDS_ROOM, StayStatus.CHECKED_OUT),
            first_night__lte=stay.last_night,
            last_night__gte=stay.first_night,
        )
        .exclude(pk=stay.pk)
        .exclude(group=stay.group)
    )
    if stay.household_id is not None:
        others = others.exclude(household_id=stay.household_id)
    other = others.order_by("first_night", "pk").first()
    if other is None:
        return
    raise Conflict(
        _(
            "Hotel room %(number)s is given to another household on some of these nights: "
            "stay %(stay)d (%(status)s, nights %(first)s to %(last)s). Check the number with "
            "the front desk, or check that stay out first."
        )
        % {
            "number": room_number,
            "stay": other.pk,
            "status": other.get_status_display(),
            "first": other.first_night.isoformat(),
            "last": other.last_night.isoformat(),
        },
        {
            "errors": {"room_number": [_("Taken by stay %(stay)d.") % {"stay": other.pk}]},
            "stay": other.pk,
        },
    )


def _split_note(stay: Stay, split_reason: str, actor: User | None) -> None:
    """Keep the reason an officer gave for acting on this room alone: on the stay, in its
    history and in the audit log (the reason it replaces with it)."""
    if not split_reason:
        return
    before = stay.split_reason
    stay.split_reason = split_reason
    stay.save(update_fields=["split_reason", "changed_at"])
    _event(
        stay,
        stay.status,
        stay.status,
        actor,
        _("this room alone: %(reason)s") % {"reason": split_reason},
    )
    audit_write(
        actor=actor,
        verb="stay_split",
        obj=stay,
        crisis=stay.crisis,
        changes={"split_reason": [before or None, split_reason]},
    )


def _refuse_group_step_past_check_in(stays: list[Stay], status: str) -> None:
    """A no-show or a cancellation of the whole household cannot stand while another of its
    rooms is checked in: say which room, and that a reason for this room alone acts on this
    room only."""
    if status not in GROUP_STEPS or stays[0].status != StayStatus.PLANNED:
        return
    checked_in = [s for s in stays[1:] if s.status == StayStatus.CHECKED_IN]
    if not checked_in:
        return
    rooms = ", ".join(
        _("room %(room)d of the block (hotel room %(number)s, stay %(stay)d)")
        % {"room": s.room, "number": s.room_number or "—", "stay": s.pk}
        for s in checked_in
    )
    raise Conflict(
        _(
            "Another room of this household is checked in: %(rooms)s. A no-show or a "
            "cancellation acts on every room of the household, and a checked-in room cannot "
            "take it. To record it for this room alone, give the reason in “this room only” "
            "(a split): it then acts on this room only."
        )
        % {"rooms": rooms},
        {
            "errors": {"split_reason": [_("Required to act on this room alone.")]},
            "checked_in": [s.pk for s in checked_in],
        },
    )


@transaction.atomic
def stay_set_status(
    *,
    actor: User | None,
    stay: Stay,
    status: str,
    note: str = "",
    room_number: str = "",
    split_reason: str = "",
) -> Stay:
    """The one door for a stay's status: checked in (with the hotel's room number) and
    checked out (the nights from today on are given back) room by room; no-show (from the
    first night on) and cancelled (until the first night, with a reason) for every room of
    the household's booking — or, with `split_reason`, for this room alone."""
    if status not in StayStatus.values:
        raise ApplicationError(
            _("Unknown status “%(s)s”.") % {"s": str(status)[:30]}, {"errors": {"status": ["?"]}}
        )
    note = _short(note, "note", _limit(StayEvent, "note"))
    room_number = _short(room_number, "room_number", _limit(Stay, "room_number"))
    split_reason = _short(split_reason, "split_reason", _limit(Stay, "split_reason"))
    if status == StayStatus.CANCELLED and not note:
        raise ApplicationError(
            _("Say why the stay is cancelled."), {"errors": {"note": [_("Required.")]}}
        )
    whole = status in GROUP_STEPS and not split_reason
    stays = _lock_stays(stay, whole_group=whole)
    if whole:
        # Rooms of the group already past this step (checked out, cancelled) stay as they are.
        stays = [stays[0], *(s for s in stays[1:] if s.status in HOLDS_ROOM)]
    if whole:
        _refuse_group_step_past_check_in(stays, status)
    today = hotel_today(stays[0])
    for one in stays:
        _check_step(one, status, today)
    for one in stays:
        _apply_step(one, status, actor, note, room_number if one is stays[0] else "", today)
    _split_note(stays[0], split_reason, actor)
    return stays[0]


@transaction.atomic
def stay_change_nights(
    *, actor: User | None, stay: Stay, last_night: Any, note: str = "", split_reason: str = ""
) -> Stay:
    """Extend (in the same rooms, when they are free and the block runs that long) or
    shorten (the nights after the new last night go back) every room of the household's
    booking — or, with `split_reason`, this room alone. Nights already slept stay."""
    note = _short(note, "note", _limit(StayEvent, "note"))
    split_reason = _short(split_reason, "split_reason", _limit(Stay, "split_reason"))
    stays = _lock_stays(stay, whole_group=not split_reason)
    stays = [stays[0], *(s for s in stays[1:] if s.status in HOLDS_ROOM)]
    for one in stays:
        if one.status not in HOLDS_ROOM:
            raise Conflict(_("Only a planned or checked-in stay can change its nights."))
    first = stays[0]
    _first, new_last = check_nights(first.first_night, last_night)
    today = hotel_today(first)
    for one in stays:
        if one.status == StayStatus.CHECKED_IN and new_last < today - timedelta(days=1):
            raise Conflict(
                _("The nights until %(day)s are slept; the last night cannot be earlier.")
                % {"day": (today - timedelta(days=1)).isoformat()},
                {"errors": {"last_night": [_("A night already slept.")]}},
            )
        if new_last < one.first_night:
            raise ApplicationError(
                _("Before the first night."),
                {"errors": {"last_night": [_("Before the first night.")]}},
            )
    for one in stays:
        _change_nights(one, new_last, actor, note)
    _split_note(first, split_reason, actor)
    return first


def _change_nights(stay: Stay, new_last: date, actor: User | None, note: str) -> None:
    old = stay.last_night
    if new_last == old:
        return
    if new_last > old:
        if new_last > stay.block.last_night:
            raise Conflict(
                _(
                    "The block's last night is %(day)s; house the household in another block "
                    "after it."
                )
                % {"day": stay.block.last_night.isoformat()},
                {"errors": {"last_night": [_("After the block's last night.")]}},
            )
        added = nights_between(old + timedelta(days=1), new_last)
        rooms = stay.block.room_counts().fewest(added[0], added[-1])
        if stay.room > rooms:
            raise Conflict(
                _(
                    "Room %(room)d of the block is not contracted on all the added nights: "
                    "the block has %(rooms)d rooms on some of them. Move the stay to a lower "
                    "room first (Move to another room), or house the household in another "
                    "block after its last night."
                )
                % {"room": stay.room, "rooms": rooms},
                {"errors": {"last_night": [_("Fewer rooms on the added nights.")]}},
            )
        clash = StayNight.objects.filter(block=stay.block, room=stay.room, night__in=added).exists()
        guests = list(stay.guests.all())
        if clash or _busy(guests, added[0], added[-1], exclude_group=stay.group):
            raise Conflict(
                _("The room, or one of its guests, is taken on one of the added nights."),
                {"errors": {"last_night": [_("Taken.")]}},
            )
        try:
            with transaction.atomic():
                # The added nights at the block's rate now: the price agreed for them.
                StayNight.objects.bulk_create(
                    [
                        StayNight(
                            stay=stay,
                            block=stay.block,
                            room=stay.room,
                            night=n,
                            rate=stay.block.rate,
                            currency=stay.block.currency,
                        )
                        for n in added
                    ]
                )
        except IntegrityError:
            raise Conflict(_("The room was just given to another household; try again.")) from None
    else:
        _release_from(stay, new_last + timedelta(days=1))
    stay.last_night = new_last
    stay.save(update_fields=["last_night", "changed_at"])
    text = note.strip() or _("nights changed: last night %(old)s → %(new)s") % {
        "old": old.isoformat(),
        "new": new_last.isoformat(),
    }
    _event(stay, stay.status, stay.status, actor, text)
    audit_write(
        actor=actor,
        verb="stay_change_nights",
        obj=stay,
        crisis=stay.crisis,
        changes={"last_night": [old.isoformat(), new_last.isoformat()]},
    )


MOVE_NOTE_LIMIT = 300


@transaction.atomic
def stay_move(
    *,
    actor: User | None,
    stay: Stay,
    room: Any = None,
    room_number: str = "",
    note: str = "",
) -> Stay:
    """Move a planned or checked-in stay to another room of its block for the nights it
    still holds from today (the hotel's) on: `room`, or the lowest room free on every one of
    those nights. Nights already past keep the room they were spent in. The hotel's room
    number is kept unless a new one is given (it is checked like at check-in). The other
    rooms of the household do not move. A room is never given to two households on one
    night: the block is locked, the rooms are counted free, and the database refuses a
    second household anyway."""
    note = _short(note, "note", MOVE_NOTE_LIMIT)
    room_number = _short(room_number, "room_number", _limit(Stay, "room_number"))
    (stay,) = _lock_stays(stay, whole_group=False)
    if stay.status not in HOLDS_ROOM:
        raise Conflict(
            _("Only a planned or checked-in stay can move to another room; this one is %(s)s.")
            % {"s": stay.get_status_display()}
        )
    block = stay.block
    start = max(stay.first_night, hotel_today(stay))
    if start > stay.last_night:
        raise Conflict(_("No night of this stay is left to move."))
    free = [r for r in free_rooms(block, start, stay.last_night) if r != stay.room]
    if room in (None, ""):
        if not free:
            raise Conflict(
                _("No other room of the block is free for every night from %(first)s to %(last)s.")
                % {"first": start.isoformat(), "last": stay.last_night.isoformat()},
                {"errors": {"room": [_("No free room.")]}},
            )
        target = free[0]
    else:
        problems: dict[str, list[str]] = {}
        rooms = block.room_counts().fewest(start, stay.last_night)
        target = _whole(room, "room", problems, low=1, high=max(1, rooms))
        _problems_raise(problems)
        if target == stay.room:
            raise ApplicationError(
                _("The stay is in room %(room)d already.") % {"room": target},
                {"errors": {"room": [_("The same room.")]}},
            )
        if target not in free:
            raise Conflict(
                _(
                    "Room %(room)d of the block is held on some of the nights from %(first)s "
                    "to %(last)s. Free on all of them: %(free)s."
                )
                % {
                    "room": target,
                    "first": start.isoformat(),
                    "last": stay.last_night.isoformat(),
                    "free": ", ".join(str(r) for r in free) or _("none"),
                },
                {"errors": {"room": [_("Taken.")]}, "free": free},
            )
    old_room, old_number = stay.room, stay.room_number
    if room_number and room_number != old_number:
        _check_room_number(stay, room_number)
        stay.room_number = room_number
    try:
        with transaction.atomic():
            moved = StayNight.objects.filter(stay=stay, night__gte=start).update(room=target)
    except IntegrityError:
        # Only reachable by a writer that did not lock the block first.
        raise Conflict(_("The room was just given to another household; try again.")) from None
    stay.room = target
    stay.save(update_fields=["room", "room_number", "changed_at"])
    text = _("moved from room %(old)d to room %(new)d of the block from the night of %(night)s") % {
        "old": old_room,
        "new": target,
        "night": start.isoformat(),
    }
    if stay.room_number != old_number:
        text += " · " + _("hotel room %(number)s") % {"number": stay.room_number}
    _event(stay, stay.status, stay.status, actor, f"{text} · {note}" if note else text)
    changes: dict[str, Any] = {
        "room": [old_room, target],
        "from_night": start.isoformat(),
        "nights_moved": moved,
    }
    if stay.room_number != old_number:
        changes["room_number"] = [old_number or None, stay.room_number]
    if note:
        changes["note"] = note
    audit_write(actor=actor, verb="stay_move", obj=stay, crisis=stay.crisis, changes=changes)
    return stay


def stay_move_choices(stay: Stay) -> tuple[date, list[int]]:
    """For the move form: the first night that would move and the other rooms of the block
    free on every night from it to the stay's last night (a read)."""
    start = max(stay.first_night, hotel_today(stay))
    if start > stay.last_night:
        return start, []
    return start, [r for r in free_rooms(stay.block, start, stay.last_night) if r != stay.room]


# Exchange rates ------------------------------------------------------------------------------


@transaction.atomic
def exchange_rate_set(*, actor: User | None, crisis: Crisis, data: dict[str, Any]) -> ExchangeRate:
    """Record what one unit of a currency is worth in the home currency from a day on
    (recording the same currency and day again corrects the rate)."""
    from django.conf import settings

    problems: dict[str, list[str]] = {}
    currency = _currency(data.get("currency"), "currency", problems)
    if currency == settings.AMAN_HOME_CURRENCY:
        problems.setdefault("currency", []).append(_("The home currency needs no rate."))
    valid_from = _day(data.get("valid_from"), "valid_from", problems, plausible=False)
    source = _text(data, "source", _limit(ExchangeRate, "source"), problems)
    rate = None
    raw = data.get("rate")
    try:
        rate = (
            Decimal(str(raw).replace(",", ".").replace(" ", "")) if raw not in (None, "") else None
        )
    except InvalidOperation:
        rate = None
    if rate is None or not rate.is_finite() or rate <= 0 or rate >= Decimal("1e8"):
        problems.setdefault("rate", []).append(_("A positive number."))
    elif rate != rate.quantize(Decimal("0.000001")):
        problems.setdefault("rate", []).append(_("At most six decimals."))
    _problems_raise(problems)
    assert rate is not None and valid_from is not None
    current = ExchangeRate.objects.filter(
        crisis=crisis, currency=currency, valid_from=valid_from
    ).first()
    before = str(current.rate) if current else None
    if current:
        current.rate = rate.quantize(Decimal("0.000001"))
        current.source = source
        current.recorded_by = actor
        current.save()
    else:
        current = ExchangeRate.objects.create(
            crisis=crisis,
            currency=currency,
            rate=rate.quantize(Decimal("0.000001")),
            valid_from=valid_from,
            source=source,
            recorded_by=actor,
        )
    audit_write(
        actor=actor,
        verb="exchange_rate_set",
        obj=current,
        crisis=crisis,
        changes={"rate": [before, str(current.rate)], "currency": currency},
    )
    return current


# Merges --------------------------------------------------------------------------------------


def stays_merge_conflicts(
    *, survivor: Person, absorbed: Person, **_kwargs: Any
) -> list[MergeConflict]:
    """Before two records of one person are merged: the stays, one of each record, that
    hold a room on the same night. Nobody is housed twice on a night, so such a merge waits
    until an officer has kept only the right stay (cancelled, no-show or checked out the
    other, or changed its nights)."""
    stays = (
        Stay.objects.filter(guests__in=[survivor.pk, absorbed.pk], status__in=HOLDS_ROOM)
        .select_related("block__hotel__place")
        .annotate(guest=F("guests__id"))
        .order_by("first_night", "pk")
    )
    kept = [s for s in stays if s.guest == survivor.pk]
    merged = [s for s in stays if s.guest == absorbed.pk]
    out = []
    for a in kept:
        for b in merged:
            if a.pk == b.pk or a.last_night < b.first_night or b.last_night < a.first_night:
                continue
            first, last = max(a.first_night, b.first_night), min(a.last_night, b.last_night)
            text = _(
                "housed twice from the night of %(first)s to the night of %(last)s: stay "
                "%(kept_stay)s at %(kept_hotel)s (%(kept)s) and stay %(merged_stay)s at "
                "%(merged_hotel)s (%(merged)s)"
            ) % {
                "first": date_format(first, "SHORT_DATE_FORMAT"),
                "last": date_format(last, "SHORT_DATE_FORMAT"),
                "kept_stay": a.pk,
                "kept_hotel": str(a.block.hotel),
                "kept": survivor.reference_code_display,
                "merged_stay": b.pk,
                "merged_hotel": str(b.block.hotel),
                "merged": absorbed.reference_code_display,
            }
            out.append(
                MergeConflict(
                    "stays",
                    text,
                    {
                        "survivor_stay": a.pk,
                        "absorbed_stay": b.pk,
                        "first_night": first.isoformat(),
                        "last_night": last.isoformat(),
                    },
                )
            )
    return out


def _stays_recount(people: list[int]) -> None:
    """Each stay these people are guests of counts its guests again, leaving out merged
    records (their links stay, for the undo). Only a count that changed is written."""
    for stay in Stay.objects.filter(guests__pk__in=people).distinct():
        # People.objects leaves the merged-away record out.
        guests = list(Person.objects.filter(pk__in=stay.guests.values("pk")))
        counts = _counts(guests, stay.first_night)
        if counts != (stay.adults, stay.children):
            stay.adults, stay.children = counts
            stay.save(update_fields=["adults", "children", "changed_at"])


def stays_after_merge(
    *, merge: Any, actor: User | None, households: dict[str, Any] | None = None, **_kwargs: Any
) -> dict[str, dict[str, list[int | None]]]:
    """Two records of one person, merged: the stays they were guests of now name the
    survivor (the merge moved the links); a stay both were guests of counts the person
    once. A stay of a household the person left, with nobody else in its room, now names
    the household the person is in (a room shared with others stays theirs: the merge
    refused to leave anyone behind in a room held, `aman.dedup.merging.household_conflicts`).
    Returns the stays whose household changed, for the undo."""
    _stays_recount([merge.survivor_id])
    if not households or not households.get("left"):
        return {}
    records = [merge.survivor_id, merge.absorbed_id]
    changed: dict[str, list[int | None]] = {}
    for stay in Stay.objects.filter(
        guests=merge.survivor_id, household_id__in=households["left"]
    ).distinct():
        if stay.guests.exclude(pk__in=records).exists():
            continue
        changed[str(stay.pk)] = [stay.household_id, households["to"]]
    Stay.objects.filter(pk__in=[int(pk) for pk in changed]).update(household_id=households["to"])
    return {"shelter.stay": changed} if changed else {}


def stays_after_unmerge(*, merge: Any, actor: User | None, **_kwargs: Any) -> None:
    """A merge undone: the links went back; each stay counts its guests as before."""
    _stays_recount([merge.survivor_id, merge.absorbed_id])


def stays_move_conflicts(*, people: list[Person], **_kwargs: Any) -> list[str]:
    """Before people move to another household: the rooms they are housed in with the
    household they would leave (a household stays together; an officer ends the stay, or
    splits it explicitly, first)."""
    stays = (
        Stay.objects.filter(guests__in=[p.pk for p in people], status__in=HOLDS_ROOM)
        .select_related("block__hotel__place")
        .annotate(guest=F("guests__reference_code"))
        .order_by("guest", "first_night", "pk")
    )
    return [
        _("%(person)s is housed at %(hotel)s until the night of %(last)s (stay %(stay)s)")
        % {
            "person": reference_code_display(s.guest),
            "hotel": str(s.block.hotel),
            "last": date_format(s.last_night, "SHORT_DATE_FORMAT"),
            "stay": s.pk,
        }
        for s in stays
    ]
