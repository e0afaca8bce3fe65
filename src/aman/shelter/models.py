"""Shelter: tour operators, hotels, the rooms contracted with them (room blocks), the stays
of households in those rooms with their history, and the exchange rates the cost ledger
converts contract currencies at.

A room block contracts `rooms` rooms of one type (each with `beds` beds) for every night
from `first_night` to `last_night`. Its rooms are numbered 1…rooms inside the block (the
hotel's own room number is written on the stay at check-in). A stay holds one room for its
nights, and each night it holds is a `StayNight` row, unique per block, room and night:
**no room is ever given to two households for the same night** — the database refuses the
second row whoever writes it. A stay that ends early (checked out, no-show, cancelled) gives
its remaining nights back by deleting their rows; its history stays in `StayEvent`.

The number of rooms a block contracts can change while it runs (the hotel takes rooms back,
or gives more): each change is kept in `RoomBlockRooms`, append-only, with the first night
it applies from, and every night has the rooms of its own (`RoomBlock.rooms_on`). Nights
already past keep the rooms they had.

Capacity (the rooms of each night, summed over the nights), blocked (the StayNight rows)
and available (the difference) are counted from those rows, never kept in counters that
could drift.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from aman.core.append_only import AppendOnlyModel

# A guest younger than this on the first night counts as a child on the voucher and in the
# ledger; younger than INFANT_AGE shares a bed and needs none of their own.
CHILD_AGE = 12
INFANT_AGE = 2


class RoomType(models.TextChoices):
    SINGLE = "single", _("Single")
    DOUBLE = "double", _("Double")
    TWIN = "twin", _("Twin")
    TRIPLE = "triple", _("Triple")
    FAMILY = "family", _("Family")


# Beds a room of each type has unless the contract says otherwise.
DEFAULT_BEDS = {
    RoomType.SINGLE: 1,
    RoomType.DOUBLE: 2,
    RoomType.TWIN: 2,
    RoomType.TRIPLE: 3,
    RoomType.FAMILY: 4,
}


class Meals(models.TextChoices):
    NONE = "none", _("Room only")
    BREAKFAST = "breakfast", _("Breakfast")
    HALF_BOARD = "half_board", _("Half board")
    FULL_BOARD = "full_board", _("Full board")


class Payer(models.TextChoices):
    STATE = "state", _("State budget")
    TOUR_OPERATOR = "tour_operator", _("Tour operator")
    GUARANTEE_FUND = "guarantee_fund", _("Tour operators' guarantee fund")
    PERSON = "person", _("The person")


class TourOperator(models.Model):
    """A tour operator the ministry works with. Its lists of tourists are imported in the
    registry under `import_source`; the tourists on them stay at its cost."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    contact = models.CharField(_("contact person"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    import_source = models.OneToOneField(
        "registry.ImportSource",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tour_operator",
        verbose_name=_("its lists in the registry"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tour operator")
        verbose_name_plural = _("tour operators")

    def __str__(self) -> str:
        return self.name


class Hotel(models.Model):
    """A hotel contracted in a crisis. Its name, country, coordinates and clock are those
    of its place (a `geo.Place` of kind hotel), so that legs can start and end there."""

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="hotels")
    place = models.OneToOneField(
        "geo.Place", on_delete=models.PROTECT, related_name="hotel", verbose_name=_("place")
    )
    city = models.ForeignKey(
        "geo.Place",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("city"),
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact = models.CharField(_("contact person"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    tour_operator = models.ForeignKey(
        TourOperator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hotels",
        verbose_name=_("partner tour operator"),
    )
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["place__name", "id"]
        verbose_name = _("hotel")
        verbose_name_plural = _("hotels")

    def __str__(self) -> str:
        return self.place.local_name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("hotel_detail", args=[self.pk])

    def today(self) -> date:
        """Today on the hotel's clock: its "tonight"."""
        return timezone.localtime(timezone.now(), self.place.zone).date()


@dataclass(frozen=True)
class RoomCounts:
    """A block's number of rooms night by night, read from its changes (`RoomBlockRooms`):
    a night has the rooms of the latest change recorded from that night or an earlier one
    (a change applies to every night from its own on, over the changes recorded before it);
    a night before every change has the rooms of the earliest one. `fallback`: the block's
    `rooms`, for a block without any change recorded."""

    # (order recorded, from night, rooms), in the order recorded.
    changes: tuple[tuple[int, date, int], ...]
    fallback: int

    @classmethod
    def of(cls, rows: Iterable[RoomBlockRooms], fallback: int) -> RoomCounts:
        return cls(tuple(sorted((r.pk, r.from_night, r.rooms) for r in rows)), fallback)

    def on(self, night: date) -> int:
        rooms = None
        for _order, start, count in self.changes:
            if start <= night:
                rooms = count
        if rooms is not None:
            return rooms
        if not self.changes:
            return self.fallback
        earliest = min(start for _order, start, _count in self.changes)
        return [c for _o, s, c in self.changes if s == earliest][-1]

    def fewest(self, first: date, last: date) -> int:
        """The rooms every night from `first` to `last` has (0 for no night)."""
        return min((self.on(n) for n in nights_between(first, last)), default=0)

    def total(self, first: date, last: date) -> int:
        """Room-nights from `first` to `last`."""
        return sum(self.on(n) for n in nights_between(first, last))

    def runs(self, first: date, last: date) -> list[tuple[date, date, int]]:
        """The nights from `first` to `last` as runs of the same number of rooms:
        (first night, last night, rooms)."""
        out: list[tuple[date, date, int]] = []
        for night in nights_between(first, last):
            rooms = self.on(night)
            if out and out[-1][2] == rooms:
                out[-1] = (out[-1][0], night, rooms)
            else:
                out.append((night, night, rooms))
        return out


def nights_between(first: date, last: date) -> list[date]:
    """Every night from `first` to `last`, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class RoomBlock(models.Model):
    """Rooms contracted with a hotel (or through a tour operator) for a run of nights.

    `rooms` is the number of rooms of the latest change of the contract (`RoomBlockRooms`):
    the number it contracts from that change's night on. Each night has its own number
    (`rooms_on`): a block shrunk from tonight on keeps its rooms on the nights before."""

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    hotel = models.ForeignKey(Hotel, on_delete=models.PROTECT, related_name="blocks")
    room_type = models.CharField(
        _("room type"), max_length=10, choices=RoomType.choices, default=RoomType.DOUBLE
    )
    beds = models.PositiveSmallIntegerField(_("beds per room"))
    rooms = models.PositiveIntegerField(_("rooms"))
    first_night = models.DateField(_("first night"))
    last_night = models.DateField(_("last night"))
    rate = models.DecimalField(_("rate per room and night"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    meals = models.CharField(_("meals"), max_length=12, choices=Meals.choices, default=Meals.NONE)
    payer = models.CharField(_("who pays"), max_length=16, choices=Payer.choices)
    tour_operator = models.ForeignKey(
        TourOperator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="blocks",
        verbose_name=_("through tour operator"),
    )
    contract_ref = models.CharField(_("contract reference"), max_length=100, blank=True)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["hotel", "first_night", "id"]
        verbose_name = _("room block")
        verbose_name_plural = _("room blocks")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_night__gte=models.F("first_night")),
                name="roomblock_nights_in_order",
            ),
            models.CheckConstraint(condition=models.Q(beds__gte=1), name="roomblock_beds"),
            models.CheckConstraint(condition=models.Q(rate__gte=0), name="roomblock_rate"),
        ]

    def __str__(self) -> str:
        kind = self.get_room_type_display()
        return f"{self.rooms} × {kind} {self.first_night:%d.%m}–{self.last_night:%d.%m}"

    @property
    def nights(self) -> int:
        return (self.last_night - self.first_night).days + 1

    def room_counts(self) -> RoomCounts:
        """The rooms of each night (one query, or none when `rooms_history` is prefetched)."""
        return RoomCounts.of(self.rooms_history.all(), self.rooms)

    def rooms_on(self, night: date) -> int:
        return self.room_counts().on(night)

    @property
    def capacity(self) -> int:
        """Room-nights contracted: each night's rooms, summed over the nights."""
        return self.room_counts().total(self.first_night, self.last_night)

    def rooms_runs(self) -> list[tuple[date, date, int]]:
        """The block's nights as runs of the same number of rooms."""
        return self.room_counts().runs(self.first_night, self.last_night)

    def covers(self, first: date, last: date) -> bool:
        return self.first_night <= first and last <= self.last_night


class RoomBlockRooms(AppendOnlyModel):
    """One change of the number of rooms a block contracts: `rooms` rooms from the night
    `from_night` on (see `RoomCounts`). Append-only, in the model and in the database
    (migration 0004): the rooms a past night had are never rewritten. A block's first row is
    written with it, from its first night."""

    block = models.ForeignKey(RoomBlock, on_delete=models.PROTECT, related_name="rooms_history")
    from_night = models.DateField(_("from the night of"))
    rooms = models.PositiveIntegerField(_("rooms"))
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)
    recorded_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    append_only_message = "A room block's rooms history is append-only."

    class Meta:
        ordering = ["id"]
        verbose_name = _("change of a block's rooms")
        verbose_name_plural = _("changes of a block's rooms")
        constraints = [
            models.CheckConstraint(condition=models.Q(rooms__gte=1), name="roomblockrooms_rooms")
        ]

    def __str__(self) -> str:
        return f"{self.block_id}: {self.rooms} from {self.from_night}"


class StayStatus(models.TextChoices):
    # In the context "stay": the same English words name a flight booking's steps elsewhere.
    PLANNED = "planned", pgettext_lazy("stay", "Planned")
    CHECKED_IN = "checked_in", pgettext_lazy("stay", "Checked in")
    CHECKED_OUT = "checked_out", pgettext_lazy("stay", "Checked out")
    NO_SHOW = "no_show", pgettext_lazy("stay", "No-show")
    CANCELLED = "cancelled", pgettext_lazy("stay", "Cancelled")


# Stays that hold their room for their nights.
HOLDS_ROOM = frozenset({StayStatus.PLANNED, StayStatus.CHECKED_IN})
STAY_TRANSITIONS: dict[str, frozenset[str]] = {
    StayStatus.PLANNED: frozenset(
        {StayStatus.CHECKED_IN, StayStatus.NO_SHOW, StayStatus.CANCELLED}
    ),
    StayStatus.CHECKED_IN: frozenset({StayStatus.CHECKED_OUT}),
    StayStatus.CHECKED_OUT: frozenset(),
    StayStatus.NO_SHOW: frozenset(),
    StayStatus.CANCELLED: frozenset(),
}


class Stay(models.Model):
    """A household (or, split explicitly, some of its members) in one room of a block for a
    run of nights. A household that needs several rooms has one stay per room, all in one
    hotel for the same nights, sharing `group`."""

    class Source(models.TextChoices):
        UI = "ui", _("Entered by an officer")
        API = "api", _("API")
        PLAN = "plan", _("Published plan")

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    block = models.ForeignKey(RoomBlock, on_delete=models.PROTECT, related_name="stays")
    room = models.PositiveIntegerField(_("room in the block"))
    room_number = models.CharField(_("hotel room number"), max_length=20, blank=True)
    household = models.ForeignKey(
        "registry.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stays",
    )
    guests = models.ManyToManyField("registry.Person", related_name="stays", blank=True)
    group = models.CharField(max_length=32, db_index=True)
    first_night = models.DateField(_("first night"))
    last_night = models.DateField(_("last night"))
    adults = models.PositiveSmallIntegerField(_("adults"), default=0)
    children = models.PositiveSmallIntegerField(_("children"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=StayStatus.choices, default=StayStatus.PLANNED
    )
    payer = models.CharField(_("who pays"), max_length=16, choices=Payer.choices)
    tour_operator = models.ForeignKey(
        TourOperator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stays",
        verbose_name=_("tour operator"),
    )
    split_reason = models.CharField(
        _("reason for splitting the household"), max_length=300, blank=True
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.UI)
    source_ref = models.CharField(_("source reference"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    changed_at = models.DateTimeField(auto_now=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)

    class Meta:
        ordering = ["first_night", "block", "room", "id"]
        verbose_name = _("stay")
        verbose_name_plural = _("stays")
        indexes = [models.Index(fields=["crisis", "status"], name="stay_crisis_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_night__gte=models.F("first_night")),
                name="stay_nights_in_order",
            ),
            models.CheckConstraint(condition=models.Q(room__gte=1), name="stay_room_number"),
        ]

    def __str__(self) -> str:
        return f"S{self.pk} {self.first_night:%d.%m}–{self.check_out_day:%d.%m}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("stay_detail", args=[self.pk])

    @property
    def nights(self) -> int:
        return (self.last_night - self.first_night).days + 1

    @property
    def check_out_day(self) -> date:
        """The morning the guests leave: the day after the last night."""
        return self.last_night + timedelta(days=1)

    @property
    def holds_room(self) -> bool:
        return self.status in HOLDS_ROOM


class StayNight(models.Model):
    """One night a stay holds its room. Unique per block, room and night: the database's
    guarantee that a room never goes to two households for one night.

    `rate` and `currency` are the price agreed when the night was booked: the block's rate
    and currency at that moment. The cost ledger prices the night with them, so a later
    change of the block's rate prices the nights booked from then on and never changes the
    cost of a night already booked (migration 0003 filled the rows that existed before
    from their block)."""

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="room_nights")
    block = models.ForeignKey(RoomBlock, on_delete=models.PROTECT, related_name="room_nights")
    room = models.PositiveIntegerField()
    night = models.DateField()
    rate = models.DecimalField(_("rate per room and night"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["block", "room", "night"], name="stay_night_one_household_per_room"
            ),
            models.CheckConstraint(condition=models.Q(room__gte=1), name="stay_night_room"),
            models.CheckConstraint(condition=models.Q(rate__gte=0), name="stay_night_rate"),
        ]
        indexes = [models.Index(fields=["block", "night"], name="stay_night_block_night")]

    def __str__(self) -> str:
        return f"{self.block_id}/{self.room} {self.night}"


class StayEvent(AppendOnlyModel):
    """Append-only history of a stay: the model refuses updates and deletes, and database
    triggers refuse them too (migration 0002), as for the audit log."""

    stay = models.ForeignKey(Stay, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=12, choices=StayStatus.choices)
    previous = models.CharField(_("previous status"), max_length=12, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    append_only_message = "A stay's history is append-only."

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("stay event")
        verbose_name_plural = _("stay events")

    def __str__(self) -> str:
        return f"{self.stay_id}: {self.status}"


class ExchangeRate(models.Model):
    """How many units of the home currency one unit of `currency` was worth from
    `valid_from` on, as recorded by an officer (the ledger uses the latest rate on or before
    each night)."""

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(_("rate in the home currency"), max_digits=14, decimal_places=6)
    valid_from = models.DateField(_("valid from"))
    source = models.CharField(_("source"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["currency", "-valid_from"]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "currency", "valid_from"], name="exchange_rate_unique"
            ),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="exchange_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.rate} ({self.valid_from})"
