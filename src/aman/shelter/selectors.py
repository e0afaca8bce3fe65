"""Reads of shelter, through the one door: `require_shelter`, `hotels_for_user`,
`stays_for_user`. Counts of rooms come from the `StayNight` rows, and the rooms contracted
from each night's own number (`RoomBlock.rooms_on`; see the models)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q, QuerySet, prefetch_related_objects
from django.http import Http404

from aman.core.access import require
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.registry.models import Household, Person
from aman.shelter import rooms as packing
from aman.shelter.models import (
    HOLDS_ROOM,
    Hotel,
    RoomBlock,
    Stay,
    StayNight,
    StayStatus,
    TourOperator,
)
from aman.shelter.services import guest_of, hotel_supplies


def require_shelter(user: User) -> None:
    if not user.is_authenticated or not user.has_cap(Cap.SHELTER):
        raise PermissionDenied


def hotels_for_user(*, user: User, crisis: Crisis) -> QuerySet[Hotel]:
    require_shelter(user)
    return Hotel.objects.filter(crisis=crisis).select_related(
        "place", "place__country", "city", "tour_operator"
    )


def hotel_for_user(*, user: User, crisis: Crisis, pk: int) -> Hotel:
    try:
        return hotels_for_user(user=user, crisis=crisis).get(pk=pk)
    except Hotel.DoesNotExist:
        raise Http404 from None


def tour_operator_for_user(*, user: User, pk: int) -> TourOperator:
    """Tour operators are not a crisis's: whoever works in shelter sees them all."""
    require_shelter(user)
    try:
        return TourOperator.objects.select_related("import_source").get(pk=pk)
    except TourOperator.DoesNotExist:
        raise Http404 from None


def block_for_user(*, user: User, crisis: Crisis, pk: int) -> RoomBlock:
    require_shelter(user)
    try:
        return RoomBlock.objects.select_related(
            "hotel", "hotel__place", "tour_operator", "crisis"
        ).get(pk=pk, crisis=crisis)
    except RoomBlock.DoesNotExist:
        raise Http404 from None


def stays_for_user(*, user: User, crisis: Crisis) -> QuerySet[Stay]:
    """Stays with their guests (names): personal data."""
    require(user, Cap.PERSONAL_DATA)
    require_shelter(user)
    return Stay.objects.filter(crisis=crisis).select_related(
        "block", "block__hotel", "block__hotel__place", "household", "tour_operator"
    )


def stay_for_user(*, user: User, crisis: Crisis, pk: int) -> Stay:
    try:
        return stays_for_user(user=user, crisis=crisis).get(pk=pk)
    except Stay.DoesNotExist:
        raise Http404 from None


def stays_filtered(*, user: User, crisis: Crisis, filters: dict[str, Any]) -> QuerySet[Stay]:
    qs = stays_for_user(user=user, crisis=crisis)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("hotel"):
        qs = qs.filter(block__hotel_id=filters["hotel"])
    if filters.get("household"):
        qs = qs.filter(household_id=filters["household"])
    night = filters.get("night")
    if isinstance(night, date):
        qs = qs.filter(first_night__lte=night, last_night__gte=night)
    return qs.order_by("first_night", "block__hotel", "room", "id")


@dataclass
class BlockUse:
    block: RoomBlock
    blocked: int  # room-nights given to households
    tonight_free: int | None = None
    # Room-nights booked at another rate or currency than the block's now: they keep the
    # price they were booked at.
    other_price: int = 0
    capacity: int = 0  # room-nights contracted: each night's rooms, summed
    # The block's nights as runs of one number of rooms: (first night, last night, rooms).
    runs: list[tuple[date, date, int]] = field(default_factory=list)
    tonight_rooms: int | None = None  # rooms contracted `night`

    @property
    def available(self) -> int:
        return self.capacity - self.blocked


def block_use(blocks: list[RoomBlock], *, night: date | None = None) -> list[BlockUse]:
    """Each block's capacity (each night's rooms, summed), blocked and available
    room-nights, those booked at another price than the block's now (and rooms contracted
    and free `night`)."""
    prefetch_related_objects(blocks, "rooms_history")
    counts = dict(
        StayNight.objects.filter(block__in=blocks)
        .values_list("block")
        .annotate(n=Count("id"))
        .values_list("block", "n")
    )
    other_price = dict(
        StayNight.objects.filter(block__in=blocks)
        .exclude(rate=F("block__rate"), currency=F("block__currency"))
        .values_list("block")
        .annotate(n=Count("id"))
        .values_list("block", "n")
    )
    tonight: dict[int, int] = {}
    if night is not None:
        tonight = dict(
            StayNight.objects.filter(block__in=blocks, night=night)
            .values_list("block")
            .annotate(n=Count("id"))
            .values_list("block", "n")
        )
    out = []
    for b in blocks:
        rooms = b.room_counts()
        runs = rooms.runs(b.first_night, b.last_night)
        runs_tonight = night is not None and b.first_night <= night <= b.last_night
        tonight_rooms = rooms.on(night) if night is not None and runs_tonight else None
        out.append(
            BlockUse(
                block=b,
                blocked=counts.get(b.pk, 0),
                other_price=other_price.get(b.pk, 0),
                capacity=sum(r * ((last - first).days + 1) for first, last, r in runs),
                runs=runs,
                tonight_rooms=tonight_rooms,
                tonight_free=(
                    tonight_rooms - tonight.get(b.pk, 0)
                    if tonight_rooms is not None
                    else (0 if night else None)
                ),
            )
        )
    return out


def free_blocks(*, hotel: Hotel, first: date, last: date) -> list[tuple[RoomBlock, int]]:
    """The hotel's blocks that run every night from `first` to `last`, each with its number
    of rooms free for all those nights (full blocks included, with 0)."""
    (supply,) = hotel_supplies([hotel], first, last)
    free = {b.block_id: b.free for b in supply.blocks}
    blocks = RoomBlock.objects.filter(pk__in=list(free)).order_by("beds", "rate", "id")
    return [(b, free[b.pk]) for b in blocks]


@dataclass
class NightCount:
    night: date
    rooms: int = 0
    rooms_taken: int = 0
    beds: int = 0
    beds_free: int = 0  # beds in rooms nobody holds
    adults: int = 0
    children: int = 0
    arrivals: int = 0  # stays whose first night this is
    departures: int = 0  # stays whose guests leave this morning

    @property
    def rooms_free(self) -> int:
        return self.rooms - self.rooms_taken


@dataclass
class Occupancy:
    hotel: Hotel
    nights: list[NightCount] = field(default_factory=list)


def occupancy(hotels: list[Hotel], first: date, days: int) -> list[Occupancy]:
    """Per hotel and night: rooms and beds contracted, taken and free; guests; arrivals
    and the departures of that morning."""
    last = first + timedelta(days=days - 1)
    blocks = list(
        RoomBlock.objects.filter(
            hotel__in=hotels, first_night__lte=last, last_night__gte=first
        ).prefetch_related("rooms_history")
    )
    out = {
        h.pk: Occupancy(
            hotel=h, nights=[NightCount(first + timedelta(days=i)) for i in range(days)]
        )
        for h in hotels
    }
    index = {first + timedelta(days=i): i for i in range(days)}
    beds_of = {b.pk: b.beds for b in blocks}
    for b in blocks:
        counts = b.room_counts()
        for night, i in index.items():
            if b.first_night <= night <= b.last_night:
                rooms = counts.on(night)
                row = out[b.hotel_id].nights[i]
                row.rooms += rooms
                row.beds += rooms * b.beds
                row.beds_free += rooms * b.beds
    taken = StayNight.objects.filter(
        block__in=blocks, night__gte=first, night__lte=last
    ).values_list("block_id", "block__hotel_id", "night", "stay__adults", "stay__children")
    for block_id, hotel_id, night, adults, children in taken:
        row = out[hotel_id].nights[index[night]]
        row.rooms_taken += 1
        row.beds_free -= beds_of[block_id]
        row.adults += adults
        row.children += children
    moves = (
        Stay.objects.filter(
            block__hotel__in=hotels,
            status__in=(*HOLDS_ROOM, StayStatus.CHECKED_OUT),
        )
        .filter(
            Q(first_night__gte=first, first_night__lte=last)
            | Q(last_night__gte=first - timedelta(days=1), last_night__lt=last)
        )
        .values_list("block__hotel_id", "first_night", "last_night")
    )
    for hotel_id, first_night, last_night in moves:
        if first_night in index:
            out[hotel_id].nights[index[first_night]].arrivals += 1
        leave = last_night + timedelta(days=1)
        if leave in index:
            out[hotel_id].nights[index[leave]].departures += 1
    return [out[h.pk] for h in hotels]


@dataclass
class DailyList:
    """A hotel's list for one day: who arrives, who is in, who leaves that morning."""

    hotel: Hotel
    day: date
    arrivals: list[Stay]
    in_house: list[Stay]
    departures: list[Stay]


def daily_list(*, user: User, crisis: Crisis, hotel: Hotel, day: date) -> DailyList:
    stays = (
        stays_for_user(user=user, crisis=crisis)
        .filter(block__hotel=hotel)
        .exclude(status__in=(StayStatus.CANCELLED, StayStatus.NO_SHOW))
        .filter(first_night__lte=day, last_night__gte=day - timedelta(days=1))
        .prefetch_related("guests")
        .order_by("room_number", "block", "room", "id")
    )
    arrivals, in_house, departures = [], [], []
    for stay in stays:
        if stay.check_out_day == day:
            departures.append(stay)
        elif stay.first_night == day:
            arrivals.append(stay)
        else:
            in_house.append(stay)
    return DailyList(
        hotel=hotel, day=day, arrivals=arrivals, in_house=in_house, departures=departures
    )


# Suggestions ---------------------------------------------------------------------------------


def _next_points(households: list[Household], first: date) -> dict[int, tuple[float, float]]:
    """Each household's next departure point: the origin of its first leg departing on or
    after the first night (one statement)."""
    from aman.transport.models import HOLDS_SEAT, Booking

    points: dict[int, tuple[float, float]] = {}
    rows = (
        Booking.objects.filter(
            household__in=households,
            status__in=HOLDS_SEAT,
            leg__departure_planned__date__gte=first,
        )
        .order_by("household_id", "leg__departure_planned")
        .values_list("household_id", "leg__origin__latitude", "leg__origin__longitude")
    )
    for household_id, lat, lon in rows:
        if household_id is None or household_id in points or lat is None or lon is None:
            continue
        points[household_id] = (lat, lon)
    return points


@dataclass
class HouseholdSuggestion:
    household: Household
    members: list[Person]
    suggestion: packing.Suggestion
    hotel: Hotel | None
    rooms: list[tuple[RoomBlock, list[Person]]]


def suggest_rooms(
    *,
    user: User,
    crisis: Crisis,
    households: list[Household],
    first: date,
    last: date,
    hotels: list[Hotel] | None = None,
    near: tuple[float, float] | None = None,
) -> list[HouseholdSuggestion]:
    """Rooms for a list of households (see `aman.shelter.rooms.suggest`); nothing is
    written. Households already housed on those nights are left out."""
    require(user, Cap.PERSONAL_DATA)
    require_shelter(user)
    hotel_list = hotels if hotels is not None else list(hotels_for_user(user=user, crisis=crisis))
    supply = hotel_supplies(hotel_list, first, last)
    busy = set(
        Stay.objects.filter(
            household__in=households,
            status__in=HOLDS_ROOM,
            first_night__lte=last,
            last_night__gte=first,
        ).values_list("household_id", flat=True)
    )
    wanted = [h for h in households if h.pk not in busy]
    # Every household's members and next departure point in one statement each.
    from aman.shelter.services import NOT_HOUSED

    members_by: dict[int, list[Person]] = {}
    for person in (
        Person.objects.filter(household__in=wanted)
        .exclude(status__in=NOT_HOUSED)
        .order_by("-priority", "birth_date", "id")
    ):
        assert person.household_id is not None
        members_by.setdefault(person.household_id, []).append(person)
    points = _next_points(wanted, first)
    needs, members_of = [], {}
    for household in wanted:
        members = members_by.get(household.pk, [])
        if not members:
            continue
        members_of[household.pk] = (household, members)
        needs.append(
            packing.HouseholdNeed(
                key=household.pk,
                guests=[guest_of(p, first) for p in members],
                priority=max([household.priority, *(p.priority for p in members)]),
                next_point=points.get(household.pk),
            )
        )
    hotels_by_id = {h.pk: h for h in hotel_list}
    blocks = {b.pk: b for b in RoomBlock.objects.filter(hotel__in=hotel_list)}
    out = []
    for s in packing.suggest(needs, supply, near=near):
        household, members = members_of[s.key]
        people = {p.pk: p for p in members}
        out.append(
            HouseholdSuggestion(
                household=household,
                members=members,
                suggestion=s,
                hotel=hotels_by_id.get(s.hotel_id) if s.hotel_id else None,
                rooms=[(blocks[r.block_id], [people[g] for g in r.guests]) for r in s.rooms],
            )
        )
    return out


def waiting_households(*, user: User, crisis: Crisis, limit: int = 200) -> list[Household]:
    """Households with someone who needs a bed and no room tonight or later, highest
    priority first (the assignment page's default list)."""
    require(user, Cap.PERSONAL_DATA)
    require_shelter(user)
    from django.utils import timezone

    from aman.registry.statuses import Status
    from aman.shelter.services import NOT_HOUSED

    # A room tonight or later; a planned stay long past (never checked in nor marked a
    # no-show) does not hide a household.
    housed = Stay.objects.filter(
        crisis=crisis,
        status__in=HOLDS_ROOM,
        household__isnull=False,
        last_night__gte=timezone.localdate() - timedelta(days=1),
    ).values("household_id")
    needing = [s for s in Status.values if s not in NOT_HOUSED]
    return list(
        Household.objects.filter(crisis=crisis)
        .exclude(pk__in=housed)
        .filter(members__merged_into__isnull=True, members__status__in=needing)
        .distinct()
        .order_by("-priority", "id")[:limit]
    )
