"""Transport: legs (bus trips, flights, ferries, trains), the seats on them, bookings of
people on legs with their history, scans at the gate, transit permits for crossings and
cost-recovery undertakings.

No overbooking, ever: `Leg.seats_taken` counts the bookings that hold a seat and is kept by
database triggers on the booking table (migration 0002), and a check constraint refuses a
leg whose taken plus partner-allocated seats exceed its capacity. Whatever writes a booking
— an officer, a plan, the API, two of them at the same moment — the database refuses the
seat that is not there; on PostgreSQL the trigger's row update serialises concurrent
bookings of one leg.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aman.core.append_only import AppendOnlyModel
from aman.core.crypto import EncryptedTextField


class Mode(models.TextChoices):
    BUS = "bus", _("Bus")
    CHARTER = "charter", _("Charter flight")
    SCHEDULED = "scheduled", _("Scheduled flight")
    FERRY = "ferry", _("Ferry")
    TRAIN = "train", _("Train")


FLIGHTS = frozenset({Mode.CHARTER, Mode.SCHEDULED})


class LegStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    CONFIRMED = "confirmed", _("Confirmed")
    BOARDING = "boarding", _("Boarding")
    DEPARTED = "departed", _("Departed")
    ARRIVED = "arrived", _("Arrived")
    CANCELLED = "cancelled", _("Cancelled")


LEG_TRANSITIONS: dict[str, frozenset[str]] = {
    LegStatus.PLANNED: frozenset({LegStatus.CONFIRMED, LegStatus.CANCELLED}),
    LegStatus.CONFIRMED: frozenset({LegStatus.PLANNED, LegStatus.BOARDING, LegStatus.CANCELLED}),
    LegStatus.BOARDING: frozenset({LegStatus.CONFIRMED, LegStatus.DEPARTED, LegStatus.CANCELLED}),
    LegStatus.DEPARTED: frozenset({LegStatus.ARRIVED}),
    LegStatus.ARRIVED: frozenset(),
    LegStatus.CANCELLED: frozenset(),
}


def _on(moment: datetime | None, place: Any) -> datetime | None:
    """The moment on the place's clock — marked so that templates show it as it is
    (Django's `timezone` filter does the same), not on the reader's clock."""
    from django.templatetags.tz import do_timezone

    return do_timezone(moment, place.zone) if moment is not None else None


class Leg(models.Model):
    class Source(models.TextChoices):
        UI = "ui", _("Entered by an officer")
        API = "api", _("API")
        IMPORT = "import", _("Imported list")
        PLAN = "plan", _("Published plan")

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="legs")
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.BUS)
    origin = models.ForeignKey(
        "geo.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    destination = models.ForeignKey(
        "geo.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    departure_planned = models.DateTimeField(_("planned departure"))
    arrival_planned = models.DateTimeField(_("planned arrival"), null=True, blank=True)
    departure_actual = models.DateTimeField(_("actual departure"), null=True, blank=True)
    arrival_actual = models.DateTimeField(_("actual arrival"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("seats"))
    # Kept by the database (triggers on transport_booking), never by Python code.
    seats_taken = models.PositiveIntegerField(_("seats taken"), default=0, editable=False)
    # The sum of the partner allocations, kept by `allocation_set` (its only writer).
    seats_allocated = models.PositiveIntegerField(
        _("seats offered to partners"), default=0, editable=False
    )
    carrier = models.CharField(_("carrier"), max_length=200, blank=True)
    number = models.CharField(_("vehicle or flight number"), max_length=40, blank=True)
    contact = models.CharField(_("contact on board"), max_length=200, blank=True)
    cost = models.DecimalField(_("cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    fare = models.DecimalField(
        _("economy fare per person"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("The amount a person undertakes to repay where the crisis asks for it."),
    )
    # The planner puts people who need a medical escort only on legs that have one.
    escort = models.BooleanField(_("medical escort on board"), default=False)
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    status = models.CharField(
        _("status"), max_length=10, choices=LegStatus.choices, default=LegStatus.PLANNED
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=500, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.UI)
    source_ref = models.CharField(_("source reference"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["departure_planned", "id"]
        verbose_name = _("leg")
        verbose_name_plural = _("legs")
        indexes = [models.Index(fields=["crisis", "departure_planned"], name="leg_departure")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    seats_taken__lte=models.F("capacity") - models.F("seats_allocated")
                ),
                name="leg_no_overbooking",
            ),
            models.CheckConstraint(
                condition=models.Q(arrival_planned__isnull=True)
                | models.Q(arrival_planned__gte=models.F("departure_planned")),
                name="leg_arrival_after_departure",
            ),
            models.CheckConstraint(
                condition=~models.Q(origin=models.F("destination")), name="leg_moves"
            ),
            models.UniqueConstraint(
                fields=["crisis", "source_ref"],
                condition=~models.Q(source_ref=""),
                name="leg_source_ref_unique",
            ),
        ]

    def __str__(self) -> str:
        label = self.number or self.get_mode_display()
        route = f"{self.origin.local_name} → {self.destination.local_name}"
        return f"{label} {route} {self.departure_local:%d.%m %H:%M}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("leg_detail", args=[self.pk])

    # Times as the clocks show them where they happen: departures at the origin, arrivals
    # at the destination (what passes, manifests and carriers say).
    @property
    def departure_local(self) -> datetime:
        local = _on(self.departure_planned, self.origin)
        assert local is not None
        return local

    @property
    def arrival_local(self) -> datetime | None:
        return _on(self.arrival_planned, self.destination)

    @property
    def departure_actual_local(self) -> datetime | None:
        return _on(self.departure_actual, self.origin)

    @property
    def arrival_actual_local(self) -> datetime | None:
        return _on(self.arrival_actual, self.destination)

    @property
    def day_at_destination(self) -> date:
        """The day the leg reaches its destination, on the destination's calendar (the day
        of a transit-permit list when the destination is a crossing)."""
        return (
            self.arrival_local or timezone.localtime(self.departure_planned, self.destination.zone)
        ).date()

    @property
    def seats_free(self) -> int:
        return max(0, self.capacity - self.seats_allocated - self.seats_taken)

    @property
    def is_flight(self) -> bool:
        return self.mode in FLIGHTS

    @property
    def closed(self) -> bool:
        return self.status in (LegStatus.DEPARTED, LegStatus.ARRIVED, LegStatus.CANCELLED)


class LegImport(models.Model):
    """One list of legs imported from a file: its counts, and every rejected row kept with
    its values and reasons (downloadable). Rows are matched to legs by their reference, so
    importing the same file again creates nothing new."""

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("file"), max_length=255)
    file_sha256 = models.CharField(max_length=64)
    total = models.PositiveIntegerField(_("rows"), default=0)
    accepted = models.PositiveIntegerField(_("legs created"), default=0)
    repeated = models.PositiveIntegerField(_("already there"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    rejected_rows = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("leg import")
        verbose_name_plural = _("leg imports")

    def __str__(self) -> str:
        return self.file_name


class LegEvent(AppendOnlyModel):
    """Append-only: a leg's status changes, with who and why (the model and the database
    refuse changes: core/append_only.py, migration 0005)."""

    append_only_message = "A leg's history is append-only."

    leg = models.ForeignKey(Leg, on_delete=models.PROTECT, related_name="events")
    status = models.CharField(_("status"), max_length=10, choices=LegStatus.choices)
    previous = models.CharField(_("previous status"), max_length=10, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.leg_id}: {self.status}"


class SeatAllocation(models.Model):
    """Seats of a leg offered to a partner state's ministry for its own nationals."""

    leg = models.ForeignKey(Leg, on_delete=models.CASCADE, related_name="allocations")
    country = models.ForeignKey(
        "geo.Country", on_delete=models.PROTECT, related_name="+", verbose_name=_("partner state")
    )
    seats = models.PositiveIntegerField(_("seats"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["country__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["leg", "country"], name="allocation_leg_country_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(seats__gte=1), name="allocation_seats_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country_id}: {self.seats}"


class BookingStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    CONFIRMED = "confirmed", _("Confirmed")
    CHECKED_IN = "checked_in", _("Checked in")
    BOARDED = "boarded", _("Boarded")
    NO_SHOW = "no_show", _("No-show")
    RELEASED = "released", _("Released")
    OFFLOADED = "offloaded", _("Offloaded")


# The statuses that hold a seat. The triggers of migration 0002 name them too.
HOLDS_SEAT = (
    BookingStatus.OFFERED,
    BookingStatus.CONFIRMED,
    BookingStatus.CHECKED_IN,
    BookingStatus.BOARDED,
)
B = BookingStatus
BOOKING_TRANSITIONS: dict[str, frozenset[str]] = {
    B.OFFERED: frozenset({B.CONFIRMED, B.CHECKED_IN, B.BOARDED, B.RELEASED, B.NO_SHOW}),
    B.CONFIRMED: frozenset({B.CHECKED_IN, B.BOARDED, B.RELEASED, B.NO_SHOW}),
    B.CHECKED_IN: frozenset({B.BOARDED, B.NO_SHOW, B.OFFLOADED, B.RELEASED}),
    B.BOARDED: frozenset({B.OFFLOADED}),
    B.NO_SHOW: frozenset(),
    B.RELEASED: frozenset(),
    B.OFFLOADED: frozenset(),
}


class Booking(models.Model):
    """A person on a leg. A released, offloaded or no-show booking keeps its row (and its
    history); booking the person again makes a new one."""

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    leg = models.ForeignKey(Leg, on_delete=models.PROTECT, related_name="bookings")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="bookings")
    household = models.ForeignKey(
        "registry.Household",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="bookings",
    )
    status = models.CharField(
        _("status"), max_length=10, choices=BookingStatus.choices, default=BookingStatus.OFFERED
    )
    seat = models.CharField(_("seat"), max_length=8, blank=True)
    split_reason = models.CharField(
        _("reason for splitting the household"), max_length=300, blank=True
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Leg.Source.choices, default=Leg.Source.UI
    )
    created_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("booked at"), auto_now_add=True)
    changed_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    boarded_at = models.DateTimeField(_("boarded at"), null=True, blank=True)

    class Meta:
        ordering = ["leg", "household", "id"]
        verbose_name = _("booking")
        verbose_name_plural = _("bookings")
        indexes = [models.Index(fields=["leg", "status"], name="booking_leg_status")]
        constraints = [
            models.UniqueConstraint(
                fields=["leg", "person"],
                condition=models.Q(status__in=HOLDS_SEAT),
                name="booking_one_seat_per_person",
            ),
            models.UniqueConstraint(
                fields=["leg", "seat"],
                condition=models.Q(status__in=HOLDS_SEAT) & ~models.Q(seat=""),
                name="booking_seat_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"B{self.pk} {self.get_status_display()}"

    @property
    def holds_seat(self) -> bool:
        return self.status in HOLDS_SEAT


class BookingEvent(AppendOnlyModel):
    """Append-only history of a booking: every status with who, when and through what (the
    model and the database refuse changes: core/append_only.py, migration 0005)."""

    append_only_message = "A booking's history is append-only."

    booking = models.ForeignKey(Booking, on_delete=models.PROTECT, related_name="events")
    status = models.CharField(_("status"), max_length=10, choices=BookingStatus.choices)
    previous = models.CharField(_("previous status"), max_length=10, blank=True)
    at = models.DateTimeField(_("time"), auto_now_add=True)
    actor = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.booking_id}: {self.status}"


class GateScan(models.Model):
    """One scan at the gate, as the duty officer's device recorded it. The device's own id
    for the scan makes a scan sent twice (a retry after the network came back) count once."""

    class Kind(models.TextChoices):
        QR = "qr", _("Boarding pass")
        MRZ = "mrz", _("Passport MRZ")
        MANUAL = "manual", _("Reference code typed")

    class Action(models.TextChoices):
        CHECK_IN = "check_in", _("Check in")
        BOARD = "board", _("Board")
        LOOKUP = "lookup", _("Look up")

    class Result(models.TextChoices):
        APPLIED = "applied", _("Done")
        ALREADY = "already", _("Already done")
        CONFLICT = "conflict", _("Conflict")
        REFUSED = "refused", _("Refused")
        UNKNOWN = "unknown", _("Not on this leg")

    leg = models.ForeignKey(Leg, on_delete=models.CASCADE, related_name="scans")
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="scans"
    )
    client_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(_("scanned"), max_length=8, choices=Kind.choices)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices)
    message = models.CharField(_("message"), max_length=500, blank=True)
    scanned_at = models.DateTimeField(_("scanned at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    offline = models.BooleanField(_("recorded offline"), default=False)
    officer = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-scanned_at", "-id"]
        indexes = [models.Index(fields=["leg", "result"], name="scan_leg_result")]

    def __str__(self) -> str:
        return f"{self.leg_id} {self.action} {self.result}"


class PermitList(models.Model):
    """The people a crossing's entry state is asked to let through on one day, its
    submission and the state's answer per person."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Being prepared")
        SUBMITTED = "submitted", _("Submitted, waiting for the answer")
        ANSWERED = "answered", _("Answered")

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    crossing = models.ForeignKey(
        "geo.Place", on_delete=models.PROTECT, related_name="+", verbose_name=_("crossing")
    )
    day = models.DateField(_("day of crossing"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    reference = models.CharField(_("the state's reference"), max_length=200, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "crossing__name"]
        verbose_name = _("transit permit list")
        verbose_name_plural = _("transit permit lists")
        constraints = [
            models.UniqueConstraint(
                fields=["crisis", "crossing", "day"], name="permitlist_crossing_day_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.crossing.local_name} {self.day:%d.%m.%Y}"


class PermitDecision(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class PermitEntry(models.Model):
    permit_list = models.ForeignKey(PermitList, on_delete=models.CASCADE, related_name="entries")
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="permit_entries"
    )
    decision = models.CharField(
        _("decision"), max_length=10, choices=PermitDecision.choices, default=PermitDecision.PENDING
    )
    decided_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["permit_list", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["permit_list", "person"], name="permitentry_list_person_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.decision}"


class TransportPolicy(models.Model):
    """A crisis's rules for transport: whether people sign an undertaking to repay."""

    crisis = models.OneToOneField(
        "core.Crisis", on_delete=models.CASCADE, related_name="transport_policy"
    )
    cost_recovery = models.BooleanField(_("people sign an undertaking to repay"), default=False)
    amount_rule = models.CharField(
        _("amount"),
        max_length=10,
        choices=[("fare", _("the leg's economy fare")), ("fixed", _("a fixed amount"))],
        default="fare",
    )
    fixed_amount = models.DecimalField(
        _("fixed amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="KZT")
    flights_only = models.BooleanField(_("for flights only"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.crisis_id}: {self.cost_recovery}"


class Undertaking(models.Model):
    """A person's signed undertaking to repay the cost of their seat, taken at check-in."""

    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="undertaking")
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="undertakings"
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    signed_name = models.CharField(_("signed by (name as written)"), max_length=200)
    signed_at = models.DateTimeField(_("signed at"))
    recorded_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    language = models.CharField(_("language"), max_length=2, default="kk")

    class Meta:
        verbose_name = _("undertaking to repay")
        verbose_name_plural = _("undertakings to repay")

    def __str__(self) -> str:
        return f"{self.person_id}: {self.amount} {self.currency}"


class PassPrint(models.Model):
    """A leg's boarding passes printed as one PDF in the background: who asked and when, the
    passes to print and the pages laid out so far, the reason when it failed, and the file
    itself (names inside: encrypted, downloaded only by who may read the leg, every download
    audited). The file is kept until the next print of the leg is ready or for `KEEP` after
    it was made, whichever comes first; the row stays as the record of the print."""

    KEEP = timedelta(hours=24)

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Printing")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    class Cleared(models.TextChoices):
        REPLACED = "replaced", _("replaced by a newer print")
        EXPIRED = "expired", _("deleted after 24 hours")

    crisis = models.ForeignKey("core.Crisis", on_delete=models.PROTECT, related_name="+")
    leg = models.ForeignKey(Leg, on_delete=models.CASCADE, related_name="pass_prints")
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.QUEUED
    )
    total = models.PositiveIntegerField(_("passes"), default=0)
    done = models.PositiveIntegerField(_("pages done"), default=0)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    # Written with every part laid out: a print whose worker died is recognised by its
    # silence (`pass_prints.STALLED`).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    content = EncryptedTextField(blank=True, help_text="the PDF, base64, encrypted")
    size = models.PositiveIntegerField(_("size in bytes"), default=0)
    cleared = models.CharField(_("file deleted"), max_length=8, choices=Cleared.choices, blank=True)
    cleared_at = models.DateTimeField(_("file deleted at"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("boarding passes print")
        verbose_name_plural = _("boarding passes prints")
        indexes = [models.Index(fields=["status", "finished_at"], name="passprint_status_done")]

    def __str__(self) -> str:
        return f"P{self.pk} leg {self.leg_id} {self.status}"

    @property
    def active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def expires_at(self) -> datetime | None:
        return self.finished_at + self.KEEP if self.finished_at else None

    @property
    def available(self) -> bool:
        """Done, its file still kept (and not past its time, cleared or not yet)."""
        return (
            self.status == self.Status.DONE
            and not self.cleared
            and self.expires_at is not None
            and timezone.now() < self.expires_at
        )

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0
