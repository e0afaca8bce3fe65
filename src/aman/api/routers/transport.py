"""Legs and bookings: create legs, book households, move bookings along, release no-shows."""

import hashlib
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema, UploadedFile
from ninja.pagination import LimitOffsetPagination, paginate

from aman.api.idempotency import idempotent
from aman.api.routers.registry import ERRORS, _crisis, _user
from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.models import User
from aman.geo.models import Country
from aman.registry.models import Household
from aman.transport import gate, imports, selectors, services
from aman.transport.models import (
    Booking,
    BookingEvent,
    BookingStatus,
    Leg,
    LegImport,
    LegStatus,
    Mode,
)
from aman.transport.scan_conflicts import device_of, scan_conflicts

router = Router(tags=["transport"])


class PlaceRef(Schema):
    id: int
    kind: str
    code: str
    name: str
    country: str = Field(validation_alias="country.code")


class AllocationOut(Schema):
    country: str = Field(validation_alias="country.code")
    seats: int
    note: str


class LegOut(Schema):
    id: int
    crisis_id: int
    mode: str
    origin: PlaceRef
    destination: PlaceRef
    departure_planned: datetime
    arrival_planned: datetime | None
    departure_actual: datetime | None
    arrival_actual: datetime | None
    capacity: int
    seats_taken: int
    seats_allocated: int
    seats_free: int
    carrier: str
    number: str
    contact: str
    cost: Decimal | None
    currency: str
    fare: Decimal | None
    escort: bool
    notes: str
    status: str
    cancel_reason: str
    source: str
    source_ref: str
    allocations: list[AllocationOut]

    @staticmethod
    def resolve_allocations(obj: Leg) -> list[Any]:
        if "allocations" in getattr(obj, "_prefetched_objects_cache", {}):
            return list(obj.allocations.all())  # a list: prefetched for every leg at once
        return list(obj.allocations.select_related("country"))


class LegIn(Schema):
    mode: Mode = Mode.BUS
    origin: str = Field(description="airport IATA/ICAO code, crossing id, or place id")
    destination: str = Field(description="airport IATA/ICAO code, crossing id, or place id")
    departure_planned: datetime
    arrival_planned: datetime | None = None
    capacity: int = Field(ge=1, le=2000)
    carrier: str = ""
    number: str = ""
    contact: str = ""
    cost: Decimal | None = None
    currency: str = ""
    fare: Decimal | None = None
    escort: bool = Field(False, description="a medical escort travels on the leg")
    notes: str = ""
    source_ref: str = Field("", description="the sender's own reference; unique per crisis")


class LegPatch(Schema):
    mode: Mode | None = None
    origin: str | None = None
    destination: str | None = None
    departure_planned: datetime | None = None
    arrival_planned: datetime | None = None
    departure_actual: datetime | None = None
    arrival_actual: datetime | None = None
    capacity: int | None = None
    carrier: str | None = None
    number: str | None = None
    contact: str | None = None
    cost: Decimal | None = None
    currency: str | None = None
    fare: Decimal | None = None
    escort: bool | None = None
    notes: str | None = None


class LegFilter(Schema):
    crisis: int | None = None
    status: LegStatus | None = None
    mode: Mode | None = None
    day: date | None = None


def _leg(request: HttpRequest, leg_id: int, *, boarding: bool = False) -> tuple[User, Leg]:
    user = _user(request)
    selectors.require_transport(user, boarding=boarding)
    crisis_id = Leg.objects.filter(pk=leg_id).values_list("crisis_id", flat=True).first()
    if crisis_id is None:
        raise Http404
    crisis = access.crisis_for_user(user, crisis_id)
    return user, selectors.leg_for_user(user=user, crisis=crisis, pk=leg_id, boarding=boarding)


@router.get("/legs", response=list[LegOut], summary="Legs of a crisis, by departure")
@paginate(LimitOffsetPagination)
def leg_list(request: HttpRequest, filters: Query[LegFilter]) -> Any:
    user = _user(request)
    crisis = _crisis(user, filters.crisis)
    return selectors.legs_filtered(
        user=user, crisis=crisis, filters=filters.model_dump(), boarding=True
    ).prefetch_related("allocations__country")


@router.post(
    "/legs",
    response={201: LegOut, **ERRORS},
    summary="Create a leg (send Idempotency-Key)",
    description="Places by airport code (IATA or ICAO), crossing id (e.g. IR-AZ-ASTARA) or "
    "place id. A `source_ref` already used in the crisis is refused (409).",
)
def leg_create(request: HttpRequest, payload: LegIn, crisis: int | None = None) -> Any:
    user = _user(request)
    selectors.require_transport(user)
    the_crisis = _crisis(user, crisis)

    def create() -> tuple[int, Any]:
        data = payload.model_dump(exclude={"source_ref"})
        leg = services.leg_create(
            actor=user,
            crisis=the_crisis,
            data=data,
            source=Leg.Source.API,
            source_ref=payload.source_ref,
        )
        return 201, LegOut.from_orm(leg).model_dump(mode="json")

    return idempotent(request, user, payload.model_dump(mode="json"), create)


class RejectedLegRowOut(Schema):
    row: int = Field(description="the row's number in the file (the header is row 1)")
    values: dict[str, str] = Field(description="the row's values, by column")
    reasons: dict[str, list[str]] = Field(
        description="why it was rejected, by field ('' for the row as a whole)"
    )


class LegImportOut(Schema):
    id: int
    crisis_id: int
    file_name: str
    file_sha256: str
    total: int = Field(description="rows in the file, the header aside")
    accepted: int = Field(description="legs created")
    repeated: int = Field(description="rows whose leg was imported before: nothing new")
    rejected: int
    rejected_rows: list[RejectedLegRowOut] = Field(
        description="every rejected row with its values and reasons, kept on the import"
    )
    created_by: str | None
    created_at: datetime

    @staticmethod
    def resolve_created_by(obj: LegImport) -> str | None:
        return obj.created_by.get_username() if obj.created_by is not None else None


@router.post(
    "/legs/import",
    response={201: LegImportOut, **ERRORS},
    summary="Import legs from a CSV or XLSX file (multipart `file`; send Idempotency-Key)",
    description="One leg per row, the same columns and rules as the page and `aman legs "
    "import` (docs/transport.md): the first row names the columns (from, to, departure and "
    "seats at least). Each row is checked as a leg created by hand; a rejected row is kept "
    "with its values and reasons (`rejected_rows`), the others are created. A row whose "
    "reference (or, without one, mode, number, places and departure) was imported before "
    "creates nothing (`repeated`): sending the same file again is harmless. 400 for a file "
    "that cannot be read as a whole (empty, no header, larger than 5 MB, more than 5,000 "
    "rows). The leg's crisis: `crisis`, default your current crisis.",
)
def legs_import(request: HttpRequest, file: File[UploadedFile], crisis: int | None = None) -> Any:
    user = _user(request)
    selectors.require_transport(user)
    the_crisis = _crisis(user, crisis)
    name = file.name or "legs.csv"
    if (file.size or 0) > imports.MAX_BYTES:
        raise ApplicationError(_("The file is larger than 5 MB."), {"file": [name]})
    content = file.read()

    def create() -> tuple[int, Any]:
        batch = imports.legs_import(actor=user, crisis=the_crisis, name=name, content=content)
        return 201, LegImportOut.from_orm(batch).model_dump(mode="json")

    fingerprint = {
        "crisis": the_crisis.pk,
        "name": name,
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    return idempotent(request, user, fingerprint, create)


@router.get("/legs/{leg_id}", response={200: LegOut, **ERRORS}, summary="One leg")
def leg_detail(request: HttpRequest, leg_id: int) -> Any:
    return _leg(request, leg_id, boarding=True)[1]


@router.patch("/legs/{leg_id}", response={200: LegOut, **ERRORS}, summary="Change a leg")
def leg_update(request: HttpRequest, leg_id: int, payload: LegPatch) -> Any:
    user, leg = _leg(request, leg_id)
    data = payload.model_dump(exclude_unset=True)
    if not data:
        raise ApplicationError(_("Nothing to change."))
    return services.leg_update(actor=user, leg=leg, data=data)


class LegStatusIn(Schema):
    status: LegStatus
    note: str = Field("", description="required when cancelling: the reason")
    actual: datetime | None = Field(
        None,
        description="departed or arrived: when it really happened (default: now); without "
        "an offset, on the clock of the origin (departure) or the destination (arrival); "
        "not in the future, an arrival not before the departure",
    )


class LegStatusOut(Schema):
    leg: LegOut
    bookings_released: int
    no_shows: int
    affected_households: list[int] = Field(
        description="households (or -person id for people without one) whose seats a "
        "cancellation released: to re-plan"
    )
    people_safe: int


@router.post(
    "/legs/{leg_id}/status",
    response={200: LegStatusOut, **ERRORS},
    summary="Move a leg along (confirmed, boarding, departed, arrived) or cancel it",
)
def leg_status(request: HttpRequest, leg_id: int, payload: LegStatusIn) -> Any:
    user, leg = _leg(request, leg_id)
    out = services.leg_set_status(
        actor=user, leg=leg, status=payload.status, note=payload.note, actual=payload.actual
    )
    return {
        "leg": selectors.leg_for_user(user=user, crisis=leg.crisis, pk=leg.pk),
        "bookings_released": len(out.released),
        "no_shows": len(out.no_shows),
        "affected_households": out.affected_households,
        "people_safe": out.safe,
    }


class AllocationIn(Schema):
    seats: int = Field(ge=0, le=2000, description="0 withdraws the offer")
    note: str = ""


@router.put(
    "/legs/{leg_id}/allocations/{country}",
    response={200: LegOut, **ERRORS},
    summary="Offer seats of a leg to a partner state (ISO country code)",
)
def allocation_set(request: HttpRequest, leg_id: int, country: str, payload: AllocationIn) -> Any:
    user, leg = _leg(request, leg_id)
    partner = Country.objects.filter(code=country.upper()).first()
    if partner is None:
        raise ApplicationError(_("Unknown country code."), {"country": [country]})
    services.allocation_set(
        actor=user, leg=leg, country=partner, seats=payload.seats, note=payload.note
    )
    return selectors.leg_for_user(user=user, crisis=leg.crisis, pk=leg.pk)


class BookingEventOut(Schema):
    status: str
    previous: str = Field(description="the status before ('' when the booking was made)")
    at: datetime
    by: str | None = Field(
        description="the user who did it (None: the system — a plan, a task, the command line "
        "— or the person on the public status page)"
    )
    note: str

    @staticmethod
    def resolve_by(obj: BookingEvent) -> str | None:
        return obj.actor.get_username() if obj.actor is not None else None


class BookingOut(Schema):
    id: int
    leg_id: int
    person_id: int
    reference_code: str = Field(validation_alias="person.reference_code")
    household_id: int | None
    status: str
    seat: str
    split_reason: str
    source: str
    created_at: datetime
    changed_at: datetime
    checked_in_at: datetime | None
    boarded_at: datetime | None
    events: list[BookingEventOut] = Field(
        description="the booking's history, oldest first: every status with when and by whom"
    )

    @staticmethod
    def resolve_events(obj: Booking) -> list[BookingEvent]:
        if "events" in getattr(obj, "_prefetched_objects_cache", {}):
            return list(obj.events.all())  # prefetched with the bookings, oldest first
        return list(obj.events.select_related("actor").order_by("at", "id"))


class BookingFilter(Schema):
    status: BookingStatus | None = None


@router.get(
    "/legs/{leg_id}/bookings",
    response=list[BookingOut],
    summary="The bookings of a leg (personal data)",
)
@paginate(LimitOffsetPagination)
def booking_list(request: HttpRequest, leg_id: int, filters: Query[BookingFilter]) -> Any:
    user, leg = _leg(request, leg_id, boarding=True)
    qs = selectors.bookings_for_user(user=user, leg=leg, boarding=True)
    if filters.status:
        qs = qs.filter(status=filters.status)
    audit_read(
        actor=user,
        verb="booking_list",
        obj=leg,
        crisis=leg.crisis,
        details={"status": filters.status or ""},
    )
    return qs.prefetch_related(selectors.booking_events()).order_by("household_id", "id")


class ScanConflictOut(Schema):
    id: int
    scan: str = Field(validation_alias="client_id", description="the device's own id of the scan")
    device: str = Field(description="the name the gate page gave the device ('' if none)")
    scanned_at: datetime = Field(description="when the device recorded the scan")
    received_at: datetime = Field(description="when the server had it")
    officer: str | None = Field(description="who was signed in on the device")
    kind: str
    action: str
    booking_id: int | None
    reference_code: str | None = Field(description="the booked person's reference code")
    message: str = Field(description="why the scan could not stand")

    @staticmethod
    def resolve_device(obj: Any) -> str:
        return device_of(obj.client_id)

    @staticmethod
    def resolve_officer(obj: Any) -> str | None:
        return obj.officer.username if obj.officer_id else None

    @staticmethod
    def resolve_reference_code(obj: Any) -> str | None:
        return obj.booking.person.reference_code if obj.booking_id else None


@router.get(
    "/legs/{leg_id}/scan-conflicts",
    response=list[ScanConflictOut],
    summary="Scans recorded offline at the gate that could not stand (personal data)",
    description="The leg's gate scans whose sync ended in a conflict (the seat was released "
    "meanwhile, a transit permit refused, the leg departed…), the latest first. For those "
    "who may work the leg's gate.",
)
@paginate(LimitOffsetPagination)
def scan_conflict_list(request: HttpRequest, leg_id: int) -> Any:
    user, leg = _leg(request, leg_id, boarding=True)
    selectors.bookings_for_user(user=user, leg=leg, boarding=True)  # personal data
    conflicts = scan_conflicts(leg)
    audit_read(
        actor=user,
        verb="scan_conflicts",
        obj=leg,
        crisis=leg.crisis,
        details={"conflicts": conflicts.count()},
    )
    return conflicts


# The gate: check-in and boarding by scan, as the gate page does it (aman.transport.gate).


class GateScanIn(Schema):
    id: str = Field(
        min_length=1,
        max_length=64,
        description="the device's own id for the scan (e.g. a UUID): a scan sent again with "
        "the same id is applied once and answered with its first result (`repeated`)",
    )
    action: Literal["lookup", "check_in", "board"] = Field(
        "lookup", description="check in, board, or only look the person up"
    )
    text: str = Field(
        "",
        max_length=300,
        description="what was scanned: a boarding pass's code (AMAN1:…), the lines of a "
        "passport or ID-card zone (MRZ), or a typed reference code",
    )
    booking: int | None = Field(
        None, description="without `text`: the booking's id (as the gate manifest lists it)"
    )
    kind: Literal["qr", "mrz", "manual"] = Field(
        "manual", description="without `text`: how the person was found on the device"
    )
    at: datetime | None = Field(
        None, description="when the device recorded the scan (default: now; never later)"
    )
    seat: str = Field("", max_length=8, description="the seat given at check-in, optional")
    undertaking_signed_by: str = Field(
        "",
        max_length=200,
        description="where the crisis asks for cost recovery: the name the person signed the "
        "undertaking to repay with",
    )


class GateSyncScanIn(GateScanIn):
    offline: bool = Field(
        True,
        description="recorded while the device was offline (the default here): a scan the "
        "server can no longer apply is a `conflict` to settle, and the booking's times are "
        "the device's `at`",
    )


class GateScanResultOut(Schema):
    id: str = Field(description="the device's id of the scan")
    result: Literal["applied", "already", "conflict", "refused", "unknown"] = Field(
        description="applied; already done (by this or another device); conflict (recorded "
        "offline, cannot stand: listed in scan-conflicts); refused (online, not done: "
        "`message` says why); unknown (nobody on the leg matches, or a scan id of another leg)"
    )
    message: str
    booking: int | None = Field(description="the booking the scan found")
    status: str | None = Field(description="the booking's status after the scan")
    repeated: bool = Field(False, description="the scan was seen before: its first result")


class GateScanOut(Schema):
    result: GateScanResultOut
    answer: dict[str, Any] = Field(
        description="what the gate page shows: `verdict` and `level` (ok, warn, info, stop), "
        "`message`, the `booking` as in the gate manifest (name, status, seat, document "
        "state, transit permit, undertaking, needs), its `household` members holding seats on "
        "the leg, and `warnings`"
    )


class GateSyncIn(Schema):
    scans: list[GateSyncScanIn] = Field(
        description="the device's queue, in the order recorded (at most 500 at once)"
    )


class GateSyncOut(Schema):
    results: list[GateScanResultOut] = Field(description="one per scan, in the same order")
    leg: dict[str, Any] = Field(description="the leg as it is now (status, departure)")


class GateManifestOut(Schema):
    version: int
    generated_at: datetime
    leg: dict[str, Any]
    salt: str = Field(description="the leg's salt of the documents' fingerprints")
    bookings: list[dict[str, Any]] = Field(
        description="per booking what the gate needs: names, status, seat, household, "
        "priority, document state, permit, undertaking; a pass and the documents only as "
        "fingerprints (`pass`: SHA-256 of the pass code; `docs`: SHA-256 of `salt:NUMBER`)"
    )


def _gate_leg(request: HttpRequest, leg_id: int) -> tuple[User, Leg]:
    """The leg, for a user who may work its gate and see its people (as the gate page)."""
    user, leg = _leg(request, leg_id, boarding=True)
    selectors.bookings_for_user(user=user, leg=leg, boarding=True)  # personal data
    return user, leg


@router.get(
    "/legs/{leg_id}/gate-manifest",
    response={200: GateManifestOut, **ERRORS},
    summary="The leg's passenger list for a gate device to answer scans offline (personal data)",
    description="The gate page's offline list: no document numbers, phones or pass codes in "
    "clear. For those who may work the leg's gate. Audited as an export.",
)
def gate_manifest(request: HttpRequest, leg_id: int, response: HttpResponse) -> Any:
    user, leg = _gate_leg(request, leg_id)
    response["Cache-Control"] = "no-store"  # personal data: not kept by proxies
    return gate.gate_manifest_export(actor=user, leg=leg)


@router.post(
    "/legs/{leg_id}/scan",
    response={200: GateScanOut, **ERRORS},
    summary="One scan at the gate, online: check in, board or look up (personal data)",
    description="As the gate page's scan: the person found by boarding pass, passport zone "
    "or reference code (or `booking`), the action applied once per scan `id`, and the answer "
    "the page shows. A scan that cannot be done (seat released, permit refused, another "
    "leg's pass) is answered with its `result` and `message`, not an HTTP error. For those "
    "who may work the leg's gate. Audited.",
)
def gate_scan(request: HttpRequest, leg_id: int, payload: GateScanIn) -> Any:
    user, leg = _gate_leg(request, leg_id)
    return gate.gate_scan_online(actor=user, leg=leg, scan=payload.model_dump(mode="json"))


@router.post(
    "/legs/{leg_id}/scans",
    response={200: GateSyncOut, **ERRORS},
    summary="Scans recorded on a gate device while offline, applied in order (personal data)",
    description="As the gate page's synchronisation: each scan applied once by its `id` (a "
    "queue sent again counts once: `repeated`), in order; a scan that can no longer stand is a "
    "`conflict` (listed in GET /api/legs/{leg_id}/scan-conflicts), the others go through. "
    "At most 500 scans at once (400). For those who may work the leg's gate. Audited.",
)
def gate_sync(request: HttpRequest, leg_id: int, payload: GateSyncIn) -> Any:
    user, leg = _gate_leg(request, leg_id)
    scans = [scan.model_dump(mode="json") for scan in payload.scans]
    results = gate.gate_sync(actor=user, leg=leg, scans=scans)
    return {"results": results, "leg": gate.leg_summary(leg)}


class BookIn(Schema):
    people: list[str] = Field(default_factory=list, description="reference codes")
    households: list[Annotated[int, Field(ge=1, lt=2**63)]] = Field(
        default_factory=list, description="household ids"
    )
    split_reason: str = Field(
        "", description="why only the named members of a household travel (else all travel)"
    )
    status: Literal["offered", "confirmed"] = "offered"


@router.post(
    "/legs/{leg_id}/bookings",
    response={201: list[BookingOut], **ERRORS},
    summary="Book people or households on a leg (send Idempotency-Key)",
    description="A household travels together: `households` books every member who travels; "
    "`people` must name every travelling member of their households, unless `split_reason` "
    "says why only those go (409 naming the `missing` otherwise). Nobody holds two seats at "
    "the same time (409 naming the seat held, `elsewhere`). All or nothing: 409 when the "
    "seats do not suffice, nobody is booked.",
)
def leg_book(request: HttpRequest, leg_id: int, payload: BookIn) -> Any:
    user, leg = _leg(request, leg_id)
    people, missing = selectors.people_by_reference(
        user=user, crisis=leg.crisis, codes=payload.people
    )
    if missing:
        raise ApplicationError(_("Unknown reference codes."), {"people": missing})
    households = list(Household.objects.filter(crisis=leg.crisis, pk__in=payload.households))
    unknown = sorted(set(payload.households) - {h.pk for h in households})
    if unknown:
        raise ApplicationError(_("Unknown households."), {"households": unknown})

    def create() -> tuple[int, Any]:
        created = services.leg_book(
            actor=user,
            leg=leg,
            people=people,
            households=households,
            split_reason=payload.split_reason,
            source=Leg.Source.API,
            status=payload.status,
        )
        prefetch_related_objects(created, selectors.booking_events())
        return 201, [BookingOut.from_orm(b).model_dump(mode="json") for b in created]

    return idempotent(request, user, payload.model_dump(mode="json"), create)


class BookingStatusIn(Schema):
    status: Literal["confirmed", "checked_in", "boarded", "released", "no_show", "offloaded"]
    note: str = Field("", description="required when offloading: the reason")
    seat: str = Field("", description="at check-in: the seat given")
    undertaking_signed_by: str = Field(
        "", description="where the crisis asks for cost recovery: the name the person signed"
    )


@router.post(
    "/bookings/{booking_id}/status",
    response={200: BookingOut, **ERRORS},
    summary="Confirm, check in, board, release, record a no-show or offload",
)
def booking_status(request: HttpRequest, booking_id: int, payload: BookingStatusIn) -> Any:
    user = _user(request)
    boarding = payload.status in ("checked_in", "boarded")
    crisis_id = Booking.objects.filter(pk=booking_id).values_list("crisis_id", flat=True).first()
    if crisis_id is None:
        raise Http404
    crisis = access.crisis_for_user(user, crisis_id)
    booking = selectors.booking_for_user(user=user, crisis=crisis, pk=booking_id, boarding=boarding)
    booking = services.booking_set_status(
        actor=user,
        booking=booking,
        status=payload.status,
        note=payload.note,
        seat=payload.seat,
        undertaking_signed_by=payload.undertaking_signed_by,
    )
    return booking


class WaitingOut(Schema):
    household_id: int | None = Field(description="None for a person without a household")
    priority: int
    people: list[str] = Field(description="reference codes of the members waiting")


class ReleasedOut(Schema):
    no_shows: list[str] = Field(description="reference codes released as no-shows")
    waited_for: list[str] = Field(
        description="reference codes not released: someone of their household is checked in "
        "or on board (release them one by one, with a reason for splitting the household)"
    )
    seats_free: int
    next_households: list[WaitingOut] = Field(
        description="the next households in priority waiting for a seat where the leg "
        "departs (not those just released): who the freed seats should go to"
    )


@router.post(
    "/legs/{leg_id}/release-no-shows",
    response={200: ReleasedOut, **ERRORS},
    summary="Everyone offered or confirmed who has not checked in is a no-show; seats freed",
    description="Only while the leg is boarding (409 otherwise). Members of a household one of "
    "whom is checked in or on board are not released: `waited_for` names them.",
)
def release_no_shows(request: HttpRequest, leg_id: int) -> Any:
    user, leg = _leg(request, leg_id)
    closed = services.leg_release_no_shows(actor=user, leg=leg)
    leg.refresh_from_db()
    waiting = selectors.waiting_households(user=user, crisis=leg.crisis, leg=leg)
    audit_read(
        actor=user,
        verb="waiting_households",
        obj=leg,
        crisis=leg.crisis,
        details={"households": len(waiting)},
    )
    return {
        "no_shows": [b.person.reference_code for b in closed],
        "waited_for": [b.person.reference_code for b in services.households_waited_for(leg)],
        "seats_free": leg.seats_free,
        "next_households": [
            {
                "household_id": group["household_id"],
                "priority": group["priority"],
                "people": [p["reference_code"] for p in group["people"]],
            }
            for group in waiting
        ],
    }
