"""Shelter: tour operators, hotels, room blocks, stays of households in their rooms, room
suggestions, hotel nights taken from a published plan, exchange rates; the documents the pages
give — a hotel's daily list (JSON, CSV), a stay's voucher (PDF, PNG), the cost ledger (JSON,
XLSX) — from the same functions, audited alike."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import AfterValidator, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from aman.api.files import binary_openapi, file_response
from aman.api.idempotency import idempotent
from aman.api.routers.registry import ERRORS, _crisis, _user
from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError, NotFound
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.geo.models import Place
from aman.registry.models import Household, Person
from aman.registry.services import normalize_reference_code
from aman.shelter import daily_lists, dates, selectors, services, vouchers
from aman.shelter import ledger as ledgers
from aman.shelter.models import (
    ExchangeRate,
    Hotel,
    Meals,
    Payer,
    RoomBlock,
    RoomType,
    Stay,
    StayStatus,
    TourOperator,
)
from aman.transport.selectors import people_by_reference

router = Router(tags=["shelter"])

Id = Annotated[int, Field(ge=1, lt=2**63)]


def _plausible(day: date | None) -> date | None:
    """The shelter's window for dates (`aman.shelter.dates`), refused as a validation error
    (422) naming the field, in the language of the request."""
    problem = dates.day_problem(day) if day is not None else None
    if problem:
        raise PydanticCustomError("date_plausible", "{problem}", {"problem": problem})
    return day


# A day or a night within two years of today.
PlausibleDate = Annotated[date, AfterValidator(_plausible)]


# Tour operators -------------------------------------------------------------------------------


class TourOperatorOut(Schema):
    id: int
    name: str
    contact: str
    phone: str
    email: str
    import_source: str | None

    @staticmethod
    def resolve_import_source(obj: TourOperator) -> str | None:
        return obj.import_source.name if obj.import_source else None


class TourOperatorIn(Schema):
    name: str = ""
    contact: str = ""
    phone: str = ""
    email: str = ""
    import_source: str = Field(
        "", description="the name of its lists' source in the registry's imports"
    )


@router.get("/tour-operators", response=list[TourOperatorOut], summary="Tour operators")
def tour_operator_list(request: HttpRequest) -> Any:
    selectors.require_shelter(_user(request))
    return TourOperator.objects.select_related("import_source").order_by("name")


@router.post(
    "/tour-operators",
    response={201: TourOperatorOut, **ERRORS},
    summary="Add a tour operator (send Idempotency-Key)",
)
def tour_operator_create(request: HttpRequest, payload: TourOperatorIn) -> Any:
    user = _user(request)
    selectors.require_shelter(user)

    def create() -> tuple[int, Any]:
        operator = services.tour_operator_create(actor=user, data=payload.model_dump())
        return 201, TourOperatorOut.from_orm(operator).model_dump(mode="json")

    return idempotent(request, user, payload.model_dump(mode="json"), create)


class TourOperatorPatch(Schema):
    name: str | None = None
    contact: str | None = None
    phone: str | None = None
    email: str | None = None
    import_source: str | None = Field(
        None, description="the name of its lists' source in the registry's imports; empty: none"
    )


@router.patch(
    "/tour-operators/{operator_id}",
    response={200: TourOperatorOut, **ERRORS},
    summary="Change a tour operator (only the fields sent)",
)
def tour_operator_update(request: HttpRequest, operator_id: int, payload: TourOperatorPatch) -> Any:
    user = _user(request)
    operator = selectors.tour_operator_for_user(user=user, pk=operator_id)
    data = payload.model_dump(exclude_unset=True)
    if not data:
        raise ApplicationError(_("Nothing to change."))
    return services.tour_operator_update(actor=user, operator=operator, data=data)


# Hotels ---------------------------------------------------------------------------------------


class Ref(Schema):
    id: int
    name: str


class BlocksSummary(Schema):
    blocks: int
    rooms: int = Field(
        description="rooms contracted, summed over the blocks (each block's `rooms`: the "
        "number of its latest change; `capacity` counts each night's own)"
    )
    capacity: int = Field(description="room-nights contracted")
    blocked: int = Field(description="room-nights given to households")
    available: int
    first_night: date | None
    last_night: date | None


class HotelOut(Schema):
    id: int
    crisis_id: int
    place_id: int = Field(description="the hotel's place: legs can start and end there")
    name: str = Field(validation_alias="place.name")
    country: str = Field(validation_alias="place.country.code")
    city: Ref | None
    address: str
    latitude: float | None = Field(validation_alias="place.latitude")
    longitude: float | None = Field(validation_alias="place.longitude")
    timezone: str = Field(validation_alias="place.timezone")
    contact: str
    phone: str
    email: str
    tour_operator: Ref | None
    notes: str
    blocks: BlocksSummary

    @staticmethod
    def resolve_blocks(obj: Hotel) -> dict[str, Any]:
        uses = selectors.block_use(list(obj.blocks.all()))
        return {
            "blocks": len(uses),
            "rooms": sum(u.block.rooms for u in uses),
            "capacity": sum(u.capacity for u in uses),
            "blocked": sum(u.blocked for u in uses),
            "available": sum(u.available for u in uses),
            "first_night": min((u.block.first_night for u in uses), default=None),
            "last_night": max((u.block.last_night for u in uses), default=None),
        }


class HotelIn(Schema):
    name: str = ""
    country: str = Field("", description="ISO 3166 code")
    city: int | str | None = Field(None, description="a city's place id or code")
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    contact: str = ""
    phone: str = ""
    email: str = ""
    tour_operator: int | str | None = Field(
        None, description="the partner tour operator: id or name"
    )
    notes: str = ""


class HotelPatch(Schema):
    name: str | None = None
    country: str | None = None
    city: int | str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    contact: str | None = None
    phone: str | None = None
    email: str | None = None
    tour_operator: int | str | None = None
    notes: str | None = None


class CrisisFilter(Schema):
    crisis: int | None = None


def _hotel(request: HttpRequest, hotel_id: int) -> tuple[User, Hotel]:
    user = _user(request)
    selectors.require_shelter(user)
    crisis_id = Hotel.objects.filter(pk=hotel_id).values_list("crisis_id", flat=True).first()
    if crisis_id is None:
        raise Http404
    crisis = access.crisis_for_user(user, crisis_id)
    return user, selectors.hotel_for_user(user=user, crisis=crisis, pk=hotel_id)


@router.get("/hotels", response=list[HotelOut], summary="Hotels of a crisis")
@paginate(LimitOffsetPagination)
def hotel_list(request: HttpRequest, filters: Query[CrisisFilter]) -> Any:
    user = _user(request)
    selectors.require_shelter(user)
    crisis = _crisis(user, filters.crisis)
    return selectors.hotels_for_user(user=user, crisis=crisis).prefetch_related(
        "blocks", "blocks__rooms_history"
    )


@router.post(
    "/hotels",
    response={201: HotelOut, **ERRORS},
    summary="Add a hotel (send Idempotency-Key)",
    description="Its place (name, country, coordinates, clock) is created with it, so legs "
    "can start and end at the hotel.",
)
def hotel_create(request: HttpRequest, payload: HotelIn, crisis: int | None = None) -> Any:
    user = _user(request)
    selectors.require_shelter(user)
    the_crisis = _crisis(user, crisis)

    def create() -> tuple[int, Any]:
        hotel = services.hotel_create(actor=user, crisis=the_crisis, data=payload.model_dump())
        return 201, HotelOut.from_orm(hotel).model_dump(mode="json")

    return idempotent(request, user, payload.model_dump(mode="json"), create)


@router.get("/hotels/{hotel_id}", response={200: HotelOut, **ERRORS}, summary="One hotel")
def hotel_detail(request: HttpRequest, hotel_id: int) -> Any:
    return _hotel(request, hotel_id)[1]


@router.patch(
    "/hotels/{hotel_id}",
    response={200: HotelOut, **ERRORS},
    summary="Change a hotel (only the fields sent)",
)
def hotel_update(request: HttpRequest, hotel_id: int, payload: HotelPatch) -> Any:
    user, hotel = _hotel(request, hotel_id)
    data = payload.model_dump(exclude_unset=True)
    if not data:
        raise ApplicationError(_("Nothing to change."))
    services.hotel_update(actor=user, hotel=hotel, data=data)
    return selectors.hotel_for_user(user=user, crisis=hotel.crisis, pk=hotel.pk)


# Room blocks ----------------------------------------------------------------------------------


class RoomsChangeOut(Schema):
    from_night: date = Field(description="the first night the number applies to")
    rooms: int
    recorded_at: datetime


class RoomsRunOut(Schema):
    first_night: date
    last_night: date
    rooms: int


class BlockOut(Schema):
    id: int
    hotel_id: int
    room_type: str
    beds: int
    rooms: int = Field(
        description="the number of rooms of the latest change (`rooms_history`), contracted "
        "from its night on; each night's own number is in `rooms_by_night`"
    )
    rooms_history: list[RoomsChangeOut] = Field(
        description="every change of the number of rooms, in the order recorded: each "
        "applies from its night on, over the changes recorded before it"
    )
    rooms_by_night: list[RoomsRunOut] = Field(
        description="the block's nights as runs of the same number of rooms"
    )
    first_night: date
    last_night: date
    nights: int
    rate: Decimal
    currency: str
    meals: str
    payer: str
    tour_operator: Ref | None
    contract_ref: str
    notes: str
    capacity: int = Field(description="room-nights contracted: each night's rooms, summed")
    blocked: int = Field(description="room-nights given to households")
    available: int
    booked_at_another_price: int = Field(
        description="room-nights booked at another rate or currency than the block's now: "
        "each keeps the price it was booked at (in the ledger too)"
    )


class BlockIn(Schema):
    room_type: RoomType = RoomType.DOUBLE
    beds: int | None = Field(None, description="beds per room (default: by the room type)")
    rooms: int
    first_night: date
    last_night: date
    rate: Decimal = Field(description="per room and night")
    currency: str = Field(description="ISO 4217")
    meals: Meals = Meals.NONE
    payer: Payer
    tour_operator: int | str | None = Field(
        None, description="the tour operator the rooms come through (id or name)"
    )
    contract_ref: str = ""
    notes: str = ""


class BlockPatch(Schema):
    room_type: RoomType | None = None
    beds: int | None = None
    rooms: int | None = None
    rooms_from: date | None = Field(
        None,
        description="with `rooms`: the first night the new number applies to (default: "
        "tonight at the hotel, or the block's first night when it starts later); nights "
        "before keep the rooms they had",
    )
    first_night: date | None = None
    last_night: date | None = None
    rate: Decimal | None = None
    currency: str | None = None
    meals: Meals | None = None
    payer: Payer | None = None
    tour_operator: int | str | None = None
    contract_ref: str | None = None
    notes: str | None = None


# BlockOut's fields that are not the block's own.
_BLOCK_USE = (
    "blocked",
    "available",
    "capacity",
    "tour_operator",
    "booked_at_another_price",
    "rooms_history",
    "rooms_by_night",
)


def _blocks_out(blocks: list[RoomBlock]) -> list[dict[str, Any]]:
    out = []
    for use in selectors.block_use(blocks):
        row = BlockOut.model_validate(
            {
                **{
                    name: getattr(use.block, name)
                    for name in BlockOut.model_fields
                    if name not in _BLOCK_USE
                },
                "tour_operator": use.block.tour_operator,
                "capacity": use.capacity,
                "blocked": use.blocked,
                "available": use.available,
                "booked_at_another_price": use.other_price,
                "rooms_history": [
                    {"from_night": c.from_night, "rooms": c.rooms, "recorded_at": c.recorded_at}
                    for c in use.block.rooms_history.all()
                ],
                "rooms_by_night": [
                    {"first_night": first, "last_night": last, "rooms": rooms}
                    for first, last, rooms in use.runs
                ],
            }
        )
        out.append(row.model_dump(mode="json"))
    return out


def _block(request: HttpRequest, block_id: int) -> tuple[User, RoomBlock]:
    user = _user(request)
    selectors.require_shelter(user)
    crisis_id = RoomBlock.objects.filter(pk=block_id).values_list("crisis_id", flat=True).first()
    if crisis_id is None:
        raise Http404
    crisis = access.crisis_for_user(user, crisis_id)
    return user, selectors.block_for_user(user=user, crisis=crisis, pk=block_id)


@router.get(
    "/hotels/{hotel_id}/blocks",
    response={200: list[BlockOut], **ERRORS},
    summary="A hotel's room blocks, with room-nights contracted, blocked and available",
)
def block_list(request: HttpRequest, hotel_id: int) -> Any:
    hotel = _hotel(request, hotel_id)[1]
    return _blocks_out(list(hotel.blocks.select_related("tour_operator")))


@router.post(
    "/hotels/{hotel_id}/blocks",
    response={201: BlockOut, **ERRORS},
    summary="Contract rooms with a hotel (send Idempotency-Key)",
)
def block_create(request: HttpRequest, hotel_id: int, payload: BlockIn) -> Any:
    user, hotel = _hotel(request, hotel_id)

    def create() -> tuple[int, Any]:
        block = services.block_create(actor=user, hotel=hotel, data=payload.model_dump(mode="json"))
        return 201, _blocks_out([block])[0]

    return idempotent(request, user, payload.model_dump(mode="json"), create)


@router.get(
    "/blocks/{block_id}",
    response={200: BlockOut, **ERRORS},
    summary="One room block, with its rooms night by night and their history",
)
def block_detail(request: HttpRequest, block_id: int) -> Any:
    return _blocks_out([_block(request, block_id)[1]])[0]


@router.patch(
    "/blocks/{block_id}",
    response={200: BlockOut, **ERRORS},
    summary="Change a room block (only the fields sent)",
    description="A new number of `rooms` applies from `rooms_from` on (default: tonight at "
    "the hotel), to the block's last night; the nights before keep the rooms they had "
    "(`rooms_history`, `rooms_by_night`). A `rooms_from` before tonight, after the block's "
    "last night or without `rooms` is refused (400). A block cannot shrink below a room in "
    "use from that night on, nor lose a night a stay holds (409). A new `rate` or `currency` "
    "prices the nights booked from then on: every night booked already keeps the price it "
    "was booked at (`booked_at_another_price` counts them).",
)
def block_update(request: HttpRequest, block_id: int, payload: BlockPatch) -> Any:
    user, block = _block(request, block_id)
    data = payload.model_dump(mode="json", exclude_unset=True)
    if not data:
        raise ApplicationError(_("Nothing to change."))
    block = services.block_update(actor=user, block=block, data=data)
    return _blocks_out([block])[0]


class NightOut(Schema):
    night: date
    rooms: int
    rooms_taken: int
    rooms_free: int
    beds: int
    beds_free: int
    adults: int
    children: int
    arrivals: int
    departures: int = Field(description="stays whose guests leave this morning")


class OccupancyOut(Schema):
    hotel_id: int
    nights: list[NightOut]


class OccupancyQuery(Schema):
    start: PlausibleDate | None = Field(
        None,
        alias="from",
        description="the first night (default: today at the hotel); within two years of today",
    )
    days: int = Field(14, ge=1, le=60)


@router.get(
    "/hotels/{hotel_id}/occupancy",
    response={200: OccupancyOut, **ERRORS},
    summary="Rooms and beds contracted, taken and free, guests, arrivals and departures, "
    "night by night",
)
def hotel_occupancy(request: HttpRequest, hotel_id: int, query: Query[OccupancyQuery]) -> Any:
    hotel = _hotel(request, hotel_id)[1]
    first = query.start or hotel.today()
    (occupancy,) = selectors.occupancy([hotel], first, query.days)
    return {"hotel_id": hotel.pk, "nights": occupancy.nights}


class DailyGuestOut(Schema):
    name: str = Field(description="as in the passport (Latin), else in the native script")
    reference_code: str


class DailyStayOut(Schema):
    id: int
    room_number: str = Field(description="the hotel's room number, written at check-in")
    room_type: str
    guests: list[DailyGuestOut]
    adults: int
    children: int
    first_night: date
    check_out_day: date
    nights: int
    meals: str
    payer: str
    tour_operator: Ref | None
    status: str


class DailyListOut(Schema):
    hotel_id: int
    day: date
    arrivals: list[DailyStayOut] = Field(description="stays whose first night it is")
    in_house: list[DailyStayOut]
    departures: list[DailyStayOut] = Field(description="guests leaving this morning")


class DayQuery(Schema):
    day: PlausibleDate | None = Field(
        None, description="default: today at the hotel; within two years of today"
    )


def _daily_args(request: HttpRequest, hotel_id: int, day: date | None) -> dict[str, Any]:
    user, hotel = _hotel(request, hotel_id)
    access.require(user, Cap.PERSONAL_DATA)
    return {
        "user": user,
        "crisis": hotel.crisis,
        "hotel": hotel,
        "day": day or daily_lists.hotel_today(hotel),
    }


def _daily_stay(stay: Stay) -> dict[str, Any]:
    return {
        "id": stay.pk,
        "room_number": stay.room_number,
        "room_type": stay.block.room_type,
        "guests": [
            {"name": name, "reference_code": code}
            for name, code in stay.guest_rows  # type: ignore[attr-defined]
        ],
        "adults": stay.adults,
        "children": stay.children,
        "first_night": stay.first_night,
        "check_out_day": stay.check_out_day,
        "nights": stay.nights,
        "meals": stay.block.meals,
        "payer": stay.payer,
        "tour_operator": stay.tour_operator,
        "status": stay.status,
    }


@router.get(
    "/hotels/{hotel_id}/day",
    response={200: DailyListOut, **ERRORS},
    summary="A hotel's daily list: arrivals, guests in the house, departures (personal data)",
    description="As the page gives it: names as in the passports, rooms, adults and children, "
    "nights and payer. Audited as a read.",
)
def hotel_daily_list(request: HttpRequest, hotel_id: int, query: Query[DayQuery]) -> Any:
    daily = daily_lists.daily_list_read(**_daily_args(request, hotel_id, query.day))
    return {
        "hotel_id": daily.hotel.pk,
        "day": daily.day,
        "arrivals": [_daily_stay(s) for s in daily.arrivals],
        "in_house": [_daily_stay(s) for s in daily.in_house],
        "departures": [_daily_stay(s) for s in daily.departures],
    }


@router.get(
    "/hotels/{hotel_id}/day.csv",
    response={200: None, **ERRORS},
    summary="A hotel's daily list as CSV (UTF-8, opens in Excel; personal data)",
    description="The page's CSV: one row per stay. Audited as an export.",
    openapi_extra=binary_openapi("text/csv"),
)
def hotel_daily_list_csv(request: HttpRequest, hotel_id: int, query: Query[DayQuery]) -> Any:
    file = daily_lists.daily_list_export(**_daily_args(request, hotel_id, query.day))
    return file_response(file.content, file.content_type, file.filename)


# Stays ----------------------------------------------------------------------------------------


class StayOut(Schema):
    id: int
    crisis_id: int
    hotel_id: int = Field(validation_alias="block.hotel_id")
    block_id: int
    room: int = Field(description="the room's number inside the block")
    room_number: str = Field(description="the hotel's room number, written at check-in")
    household_id: int | None
    group: str = Field(description="the stays of one household housed together share it")
    first_night: date
    last_night: date
    check_out_day: date
    nights: int
    adults: int
    children: int
    status: str
    payer: str
    tour_operator_id: int | None
    split_reason: str
    source: str
    source_ref: str
    guests: list[str] = Field(description="reference codes")
    created_at: datetime
    changed_at: datetime
    checked_in_at: datetime | None
    checked_out_at: datetime | None

    @staticmethod
    def resolve_guests(obj: Stay) -> list[str]:
        if "guests" in getattr(obj, "_prefetched_objects_cache", {}):
            return sorted(p.reference_code for p in obj.guests.all())
        return sorted(obj.guests.values_list("reference_code", flat=True))


class GuestOut(Schema):
    id: int
    reference_code: str
    surname: str
    given_names: str
    surname_latin: str
    given_names_latin: str
    birth_date: date | None
    status: str


class StayEventOut(Schema):
    status: str
    previous: str
    at: datetime
    actor: str | None
    note: str

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return obj.actor.username if obj.actor_id else None


class StayDetailOut(StayOut):
    hotel: str
    people: list[GuestOut]
    events: list[StayEventOut]

    @staticmethod
    def resolve_hotel(obj: Stay) -> str:
        return str(obj.block.hotel)

    @staticmethod
    def resolve_people(obj: Stay) -> list[Any]:
        return list(obj.guests.order_by("-priority", "birth_date", "id"))

    @staticmethod
    def resolve_events(obj: Stay) -> list[Any]:
        return list(obj.events.select_related("actor"))


class StayFilter(Schema):
    crisis: int | None = None
    status: StayStatus | None = None
    hotel: int | None = None
    household: int | None = None
    night: date | None = Field(None, description="stays holding a room that night")


def _stay(request: HttpRequest, stay_id: int) -> tuple[User, Stay]:
    user = _user(request)
    selectors.require_shelter(user)
    access.require(user, Cap.PERSONAL_DATA)
    crisis_id = Stay.objects.filter(pk=stay_id).values_list("crisis_id", flat=True).first()
    if crisis_id is None:
        raise Http404
    crisis = access.crisis_for_user(user, crisis_id)
    return user, selectors.stay_for_user(user=user, crisis=crisis, pk=stay_id)


def _stays_json(stays: list[Stay]) -> list[Any]:
    return [StayOut.from_orm(s).model_dump(mode="json") for s in stays]


@router.get("/stays", response=list[StayOut], summary="Stays (personal data)")
@paginate(LimitOffsetPagination)
def stay_list(request: HttpRequest, filters: Query[StayFilter]) -> Any:
    user = _user(request)
    selectors.require_shelter(user)
    crisis = _crisis(user, filters.crisis)
    qs = selectors.stays_filtered(user=user, crisis=crisis, filters=filters.model_dump())
    audit_read(
        actor=user,
        verb="stay_list",
        crisis=crisis,
        details=filters.model_dump(mode="json", exclude_none=True),
    )
    return qs.prefetch_related("guests")


class RoomIn(Schema):
    block: Id
    guests: list[str] = Field(min_length=1, description="reference codes")


class StayIn(Schema):
    household: Id | None = Field(None, description="house every member who needs a bed")
    people: list[str] = Field(
        default_factory=list,
        description="reference codes: only these (the rest of their household needs a "
        "split_reason)",
    )
    first_night: date
    last_night: date
    hotel: Id | None = Field(None, description="a hotel: the rooms that suit best are chosen")
    rooms: list[RoomIn] = Field(default_factory=list, description="or the rooms, explicitly")
    split_reason: str = ""
    payer: Payer | None = Field(None, description="who pays (default: by the block and lists)")


@router.post(
    "/stays",
    response={201: list[StayOut], **ERRORS},
    summary="House a household (send Idempotency-Key)",
    description="A household stays together: naming some members needs `split_reason` (409 "
    "naming the missing otherwise). All or nothing: 409 when the rooms do not suffice or "
    "someone is already housed on one of the nights; nobody is housed.",
)
def stay_create(request: HttpRequest, payload: StayIn, crisis: int | None = None) -> Any:
    user = _user(request)
    selectors.require_shelter(user)
    access.require(user, Cap.PERSONAL_DATA)
    the_crisis = _crisis(user, crisis)
    codes = [*payload.people, *(c for room in payload.rooms for c in room.guests)]
    found, missing = people_by_reference(user=user, crisis=the_crisis, codes=codes)
    if missing:
        raise ApplicationError(
            _("Unknown reference codes: %(codes)s.") % {"codes": ", ".join(missing)},
            {"errors": {"people": [_("Unknown reference codes.")]}, "people": missing},
        )
    by_code = {p.reference_code: p for p in found}

    def person(code: str) -> Person:
        return by_code[normalize_reference_code(code)]

    household = None
    if payload.household is not None:
        household = Household.objects.filter(crisis=the_crisis, pk=payload.household).first()
        if household is None:
            raise ApplicationError(
                _("Unknown household."), {"errors": {"household": [_("Unknown household.")]}}
            )
    hotel = None
    if payload.hotel is not None:
        hotel = (
            selectors.hotels_for_user(user=user, crisis=the_crisis).filter(pk=payload.hotel).first()
        )
        if hotel is None:
            raise ApplicationError(
                _("Unknown hotel."), {"errors": {"hotel": [_("Unknown hotel.")]}}
            )
    rooms = []
    blocks = {
        b.pk: b
        for b in RoomBlock.objects.filter(
            crisis=the_crisis, pk__in=[r.block for r in payload.rooms]
        ).select_related("hotel")
    }
    unknown = sorted({r.block for r in payload.rooms} - set(blocks))
    if unknown:
        raise ApplicationError(
            _("Unknown room blocks."),
            {"errors": {"rooms": [_("Unknown room blocks.")]}, "blocks": unknown},
        )
    for room in payload.rooms:
        rooms.append((blocks[room.block], [person(c) for c in room.guests]))

    def create() -> tuple[int, Any]:
        stays = services.household_house(
            actor=user,
            crisis=the_crisis,
            first_night=payload.first_night,
            last_night=payload.last_night,
            household=household,
            people=[person(c) for c in payload.people],
            hotel=hotel,
            rooms=rooms or None,
            split_reason=payload.split_reason,
            payer=payload.payer or "",
            source=Stay.Source.API,
        )
        return 201, _stays_json(stays)

    return idempotent(request, user, payload.model_dump(mode="json"), create)


class StayStatusIn(Schema):
    status: StayStatus
    note: str = Field("", description="required when cancelling: the reason")
    room_number: str = Field("", description="at check-in: the hotel's room number")
    split_reason: str = Field(
        "",
        description="a no-show or a cancellation concerns every room of the household's "
        "booking; with a reason, this room alone",
    )


@router.post(
    "/stays/{stay_id}/status",
    response={200: StayOut, **ERRORS},
    summary="Check in, check out, record a no-show or cancel a stay",
    description="Checking out or cancelling gives the stay's remaining nights back. Check-in "
    "and check-out go room by room; a no-show (from the first night on) or a cancellation "
    "(until the first night) goes for every room of the household's booking unless "
    "`split_reason` says why only this one.",
)
def stay_status(request: HttpRequest, stay_id: int, payload: StayStatusIn) -> Any:
    user, stay = _stay(request, stay_id)
    return services.stay_set_status(
        actor=user,
        stay=stay,
        status=payload.status,
        note=payload.note,
        room_number=payload.room_number,
        split_reason=payload.split_reason,
    )


class StayNightsIn(Schema):
    last_night: date
    note: str = ""
    split_reason: str = Field(
        "",
        description="the nights change for every room of the household's booking; with a "
        "reason, for this room alone",
    )


@router.post(
    "/stays/{stay_id}/nights",
    response={200: StayOut, **ERRORS},
    summary="Extend or shorten a stay (a new last night)",
    description="Extending keeps the same room: 409 when it or a guest is taken on an added "
    "night, or the block ends before.",
)
def stay_nights(request: HttpRequest, stay_id: int, payload: StayNightsIn) -> Any:
    user, stay = _stay(request, stay_id)
    return services.stay_change_nights(
        actor=user,
        stay=stay,
        last_night=payload.last_night,
        note=payload.note,
        split_reason=payload.split_reason,
    )


class StayMoveIn(Schema):
    room: int | None = Field(
        None, description="the room of the block (1…rooms); none: the lowest free one"
    )
    room_number: str = Field("", description="the hotel's new room number (else kept)")
    note: str = ""


@router.post(
    "/stays/{stay_id}/move",
    response={200: StayOut, **ERRORS},
    summary="Move a stay to another room of its block",
    description="A planned or checked-in stay moves to another room of the same block for "
    "the nights it holds from today (the hotel's) on; nights already past keep their room. "
    "409 when the room is held on one of those nights (`extra.free` lists the rooms free on "
    "all of them) or the hotel room number is another household's.",
)
def stay_move(request: HttpRequest, stay_id: int, payload: StayMoveIn) -> Any:
    user, stay = _stay(request, stay_id)
    return services.stay_move(
        actor=user,
        stay=stay,
        room=payload.room,
        room_number=payload.room_number,
        note=payload.note,
    )


class NightsIn(Schema):
    first_night: PlausibleDate
    last_night: PlausibleDate

    @field_validator("last_night")
    @classmethod
    def _in_order(cls, last: date, info: ValidationInfo) -> date:
        # The services' rule (`check_nights`), refused on last_night itself (a model
        # validator's names no field), in the language of the request.
        first = info.data.get("first_night")
        if first is not None:
            try:
                services.check_nights(first, last)
            except ApplicationError as exc:
                problems = exc.extra.get("errors", {}).get("last_night") or [exc.message]
                raise PydanticCustomError(
                    "nights", "{problem}", {"problem": str(problems[0])}
                ) from None
        return last


class SuggestIn(NightsIn):
    households: list[Id] = Field(min_length=1, max_length=500)
    hotels: list[Id] | None = Field(None, description="only these hotels (default: all)")
    near: Id | None = Field(
        None,
        description="a place id: prefer hotels near it (default: near each household's "
        "next departure)",
    )


class SuggestedRoom(Schema):
    block: int
    room_type: str
    beds: int
    guests: list[str] = Field(description="reference codes")


class SuggestionOut(Schema):
    household: int
    hotel: Ref | None
    rooms: list[SuggestedRoom]
    distance_km: float | None
    reason: str = Field(description="why no hotel was found (when hotel is null)")


@router.post(
    "/stays/suggest",
    response={200: list[SuggestionOut], **ERRORS},
    summary="Suggest rooms for households (nothing is written)",
    description="Households already housed on those nights, or with nobody who needs a bed, "
    "are left out.",
)
def stay_suggest(request: HttpRequest, payload: SuggestIn, crisis: int | None = None) -> Any:
    user = _user(request)
    selectors.require_shelter(user)
    access.require(user, Cap.PERSONAL_DATA)
    the_crisis = _crisis(user, crisis)
    households = list(Household.objects.filter(crisis=the_crisis, pk__in=payload.households))
    problems: dict[str, list[str]] = {}
    extra: dict[str, Any] = {}
    unknown = sorted(set(payload.households) - {h.pk for h in households})
    if unknown:
        problems["households"] = [_("Unknown households.")]
        extra["households"] = unknown
    hotels = None
    if payload.hotels is not None:
        hotels = list(
            selectors.hotels_for_user(user=user, crisis=the_crisis).filter(pk__in=payload.hotels)
        )
        missing = sorted(set(payload.hotels) - {h.pk for h in hotels})
        if missing:
            problems["hotels"] = [_("Unknown hotels.")]
            extra["hotels"] = missing
    near = None
    if payload.near is not None:
        place = Place.objects.filter(pk=payload.near).first()
        if place is None or place.latitude is None or place.longitude is None:
            problems["near"] = [_("No such place with coordinates.")]
        else:
            near = (place.latitude, place.longitude)
    if problems:
        raise ApplicationError(
            _("Please correct %(field)s.") % {"field": ", ".join(problems)},
            {"errors": problems, **extra},
        )
    suggestions = selectors.suggest_rooms(
        user=user,
        crisis=the_crisis,
        households=households,
        first=payload.first_night,
        last=payload.last_night,
        hotels=hotels,
        near=near,
    )
    # The answer names guests by reference code: a read of personal data.
    audit_read(
        actor=user,
        verb="shelter_suggest",
        object_type="registry.household",
        crisis=the_crisis,
        details={"households": len(suggestions)},
    )
    return [
        {
            "household": s.household.pk,
            "hotel": {"id": s.hotel.pk, "name": str(s.hotel)} if s.hotel else None,
            "rooms": [
                {
                    "block": block.pk,
                    "room_type": block.room_type,
                    "beds": block.beds,
                    "guests": [p.reference_code for p in guests],
                }
                for block, guests in s.rooms
            ],
            "distance_km": s.suggestion.distance_km,
            "reason": s.suggestion.reason,
        }
        for s in suggestions
    ]


class PlanItemIn(NightsIn):
    household: Id
    hotel: Id


class PlanIn(Schema):
    plan_ref: str = Field(min_length=1, max_length=200, description="the published plan")
    items: list[PlanItemIn] = Field(max_length=20000)


@router.post(
    "/stays/from-plan",
    response={201: list[StayOut], **ERRORS},
    summary="Take a published plan's hotel nights as planned stays (send Idempotency-Key)",
    description="All or nothing: 409 when a hotel lacks rooms, nobody is housed. A household "
    "already housed on the same nights in the same hotel keeps its stay: posting the same plan "
    "again creates nothing new (201 with an empty list).",
)
def stays_from_plan(request: HttpRequest, payload: PlanIn, crisis: int | None = None) -> Any:
    user = _user(request)
    selectors.require_shelter(user)
    access.require(user, Cap.PERSONAL_DATA)
    the_crisis = _crisis(user, crisis)
    households = Household.objects.filter(crisis=the_crisis).in_bulk(
        [i.household for i in payload.items]
    )
    hotels = selectors.hotels_for_user(user=user, crisis=the_crisis).in_bulk(
        [i.hotel for i in payload.items]
    )
    problems: dict[str, list[str]] = {}
    items = []
    for n, item in enumerate(payload.items):
        household = households.get(item.household)
        hotel = hotels.get(item.hotel)
        if household is None:
            problems[f"items.{n}.household"] = [_("Unknown household.")]
        if hotel is None:
            problems[f"items.{n}.hotel"] = [_("Unknown hotel.")]
        if household is not None and hotel is not None:
            items.append(
                services.PlanNights(
                    household=household,
                    hotel=hotel,
                    first_night=item.first_night,
                    last_night=item.last_night,
                )
            )
    if problems:
        raise ApplicationError(
            _("Please correct %(field)s.") % {"field": next(iter(problems))}, {"errors": problems}
        )

    def create() -> tuple[int, Any]:
        stays = services.stays_from_plan(
            actor=user, crisis=the_crisis, items=items, plan_ref=payload.plan_ref
        )
        return 201, _stays_json(stays)

    return idempotent(request, user, payload.model_dump(mode="json"), create)


# Declared after /stays/suggest and /stays/from-plan: its path would take theirs.
@router.get(
    "/stays/{stay_id}",
    response={200: StayDetailOut, **ERRORS},
    summary="One stay with its guests and history (personal data)",
)
def stay_detail(request: HttpRequest, stay_id: int) -> Any:
    user, stay = _stay(request, stay_id)
    audit_read(actor=user, verb="stay_detail", obj=stay, crisis=stay.crisis)
    return stay


class VoucherQuery(Schema):
    format: Literal["pdf", "png"] = "pdf"


@router.get(
    "/stays/{stay_id}/voucher",
    response={200: None, **ERRORS},
    summary="A stay's voucher: the printable voucher (PDF) or its QR code alone (PNG)",
    description="In the language of the household's contact person, as the page prints it; "
    "409 when the stay holds no room (cancelled, no-show). Audited as an export.",
    openapi_extra=binary_openapi(*vouchers.FORMATS.values()),
)
def stay_voucher(request: HttpRequest, stay_id: int, query: Query[VoucherQuery]) -> Any:
    user, stay = _stay(request, stay_id)

    def url_for(code: str) -> str:
        return request.build_absolute_uri(reverse("voucher_check", args=[code]))

    file = vouchers.voucher_export(actor=user, stay=stay, fmt=query.format, url_for=url_for)
    return file_response(file.content, file.content_type, file.filename)


# Exchange rates -------------------------------------------------------------------------------


class ExchangeRateOut(Schema):
    id: int
    currency: str
    rate: Decimal = Field(description="one unit of the currency in the home currency")
    valid_from: date
    source: str
    recorded_by: str | None
    recorded_at: datetime

    @staticmethod
    def resolve_recorded_by(obj: ExchangeRate) -> str | None:
        return obj.recorded_by.username if obj.recorded_by else None


class ExchangeRateIn(Schema):
    currency: str = Field(description="ISO 4217")
    rate: Decimal = Field(description="one unit of the currency in the home currency")
    valid_from: date
    source: str = ""


def _shelter_crisis(request: HttpRequest, crisis: int | None) -> tuple[User, Crisis]:
    user = _user(request)
    selectors.require_shelter(user)
    return user, _crisis(user, crisis)


@router.get(
    "/exchange-rates",
    response={200: list[ExchangeRateOut], **ERRORS},
    summary="Exchange rates of a crisis, latest first per currency",
)
def exchange_rate_list(request: HttpRequest, filters: Query[CrisisFilter]) -> Any:
    crisis = _shelter_crisis(request, filters.crisis)[1]
    return ExchangeRate.objects.filter(crisis=crisis).select_related("recorded_by")


@router.post(
    "/exchange-rates",
    response={201: ExchangeRateOut, **ERRORS},
    summary="Record an exchange rate from a day on (the same currency and day again corrects it)",
)
def exchange_rate_set(
    request: HttpRequest, payload: ExchangeRateIn, crisis: int | None = None
) -> Any:
    user, the_crisis = _shelter_crisis(request, crisis)

    def create() -> tuple[int, Any]:
        rate = services.exchange_rate_set(
            actor=user, crisis=the_crisis, data=payload.model_dump(mode="json")
        )
        return 201, ExchangeRateOut.from_orm(rate).model_dump(mode="json")

    return idempotent(request, user, payload.model_dump(mode="json"), create)


# The cost ledger -------------------------------------------------------------------------------


class LedgerQuery(Schema):
    """The ledger page's filters."""

    crisis: int | None = None
    start: date | None = Field(None, alias="from", description="the first night")
    end: date | None = Field(None, alias="to", description="the last night")
    hotel: int | None = None
    payer: Payer | None = None
    tour_operator: int | None = None

    @field_validator("end")
    @classmethod
    def _in_order(cls, end: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start")
        if end is not None and start is not None and end < start:
            raise PydanticCustomError(
                "nights", "{problem}", {"problem": _("Before the first night.")}
            )
        return end


def _ledger_args(
    request: HttpRequest, query: LedgerQuery
) -> tuple[User, Crisis, ledgers.LedgerFilters]:
    """The user, the crisis and the filters; a crisis, hotel or tour operator that is not
    there (for this user) is refused naming its field."""
    user = _user(request)
    selectors.require_shelter(user)
    try:
        crisis = _crisis(user, query.crisis)
    except Http404:
        raise NotFound(
            _("Unknown crisis."), {"errors": {"crisis": [_("Unknown crisis.")]}}
        ) from None
    problems: dict[str, list[str]] = {}
    hotels = selectors.hotels_for_user(user=user, crisis=crisis)
    if query.hotel is not None and not hotels.filter(pk=query.hotel).exists():
        problems["hotel"] = [_("Unknown hotel.")]
    if (
        query.tour_operator is not None
        and not TourOperator.objects.filter(pk=query.tour_operator).exists()
    ):
        problems["tour_operator"] = [_("Unknown.")]
    if problems:
        raise ApplicationError(
            _("Please correct %(field)s.") % {"field": ", ".join(problems)}, {"errors": problems}
        )
    filters = ledgers.LedgerFilters(
        first=query.start,
        last=query.end,
        hotel=query.hotel,
        payer=query.payer or "",
        tour_operator=query.tour_operator,
    )
    return user, crisis, filters


class LedgerCurrencyOut(Schema):
    currency: str
    room_nights: int
    amount: Decimal = Field(description="in the currency")
    home: Decimal = Field(description="in the home currency, of the room-nights with a rate")
    missing_nights: int = Field(description="room-nights without an exchange rate")
    complete: bool


class LedgerTotalOut(Schema):
    label: str
    room_nights: int
    stayed_nights: int
    committed_nights: int
    home: Decimal = Field(description="in the home currency, of the room-nights with a rate")
    stayed_home: Decimal
    committed_home: Decimal
    missing_nights: int = Field(description="room-nights without an exchange rate")
    complete: bool = Field(description="false: an exchange rate is missing, home is partial")
    currencies: list[LedgerCurrencyOut]


class HotelTotalOut(LedgerTotalOut):
    hotel_id: int


class OperatorTotalOut(LedgerTotalOut):
    tour_operator_id: int | None


class PayerTotalOut(LedgerTotalOut):
    payer: str


class NightTotalOut(LedgerTotalOut):
    night: date


class LedgerLineOut(Schema):
    night: date
    hotel_id: int
    hotel: str
    country: str
    tour_operator_id: int | None
    tour_operator: str
    payer: str
    contract_ref: str
    currency: str
    rate: Decimal = Field(description="per room and night, in the currency")
    room_nights: int
    amount: Decimal
    exchange_rate: Decimal | None = Field(description="null: no rate recorded for the night")
    amount_home: Decimal | None
    stayed: bool = Field(description="false: committed (a night ahead)")


class MissingRateOut(Schema):
    currency: str
    first: date
    last: date
    room_nights: int


class LedgerFiltersOut(Schema):
    start: date | None = Field(serialization_alias="from")
    end: date | None = Field(serialization_alias="to")
    hotel: int | None
    payer: str
    tour_operator: int | None


class LedgerOut(Schema):
    crisis_id: int
    home_currency: str
    filters: LedgerFiltersOut
    first_night: date | None
    last_night: date | None
    total: LedgerTotalOut
    by_hotel: list[HotelTotalOut]
    by_tour_operator: list[OperatorTotalOut]
    by_payer: list[PayerTotalOut]
    by_night: list[NightTotalOut]
    missing_rates: list[MissingRateOut] = Field(description="currencies and nights needing a rate")
    lines: list[LedgerLineOut] = Field(
        description="night × room block × payer × tour operator × stayed or committed"
    )


def _total(total: ledgers.Total, **key: Any) -> dict[str, Any]:
    return {
        **key,
        "label": total.label,
        "room_nights": total.room_nights,
        "stayed_nights": total.stayed_nights,
        "committed_nights": total.committed_nights,
        "home": total.home,
        "stayed_home": total.stayed_home,
        "committed_home": total.committed_home,
        "missing_nights": total.missing_nights,
        "complete": total.complete,
        "currencies": [
            {
                "currency": m.currency,
                "room_nights": m.room_nights,
                "amount": m.amount,
                "home": m.home,
                "missing_nights": m.missing_nights,
                "complete": m.complete,
            }
            for m in total.currencies
        ],
    }


@router.get(
    "/ledger",
    response={200: LedgerOut, **ERRORS},
    by_alias=True,
    summary="The cost ledger: hotel nights priced, per hotel, tour operator, payer and night",
    description="As the ledger page shows it: in each contract currency and in the home "
    "currency at the rate recorded for each night (`complete` false where a rate is missing). "
    "Filters as on the page; an unknown hotel or tour operator is refused (400), a crisis "
    "you may not see is not found (404).",
)
def ledger(request: HttpRequest, query: Query[LedgerQuery]) -> Any:
    _who, crisis, filters = _ledger_args(request, query)
    book = ledgers.ledger_build(crisis=crisis, filters=filters)
    return {
        "crisis_id": crisis.pk,
        "home_currency": book.home_currency,
        "filters": {
            "start": filters.first,
            "end": filters.last,
            "hotel": filters.hotel,
            "payer": filters.payer,
            "tour_operator": filters.tour_operator,
        },
        "first_night": book.first,
        "last_night": book.last,
        "total": _total(book.grand),
        "by_hotel": [_total(t, hotel_id=t.key) for t in book.by_hotel],
        "by_tour_operator": [_total(t, tour_operator_id=t.key) for t in book.by_operator],
        "by_payer": [_total(t, payer=t.key) for t in book.by_payer],
        "by_night": [_total(t, night=t.key) for t in book.by_day],
        "missing_rates": book.missing,
        "lines": [
            {name: getattr(line, name) for name in LedgerLineOut.model_fields}
            for line in book.lines
        ],
    }


@router.get(
    "/ledger.xlsx",
    response={200: None, **ERRORS},
    summary="The cost ledger as an XLSX workbook for accounting",
    description="The page's download: sheets Lines, Totals (per hotel, tour operator, payer, "
    "night and overall) and Rates, in the language of the request. Same filters as "
    "`/api/ledger`. Audited as an export.",
    openapi_extra=binary_openapi(ledgers.LedgerFile.content_type),
)
def ledger_xlsx(request: HttpRequest, query: Query[LedgerQuery]) -> Any:
    user, crisis, filters = _ledger_args(request, query)
    file = ledgers.ledger_export(actor=user, crisis=crisis, filters=filters)
    return file_response(file.content, file.content_type, file.filename)
