"""Writes of transport: legs and their status, partner allocations, bookings and their
history, check-in and boarding, no-shows, cancellations, transit permits and undertakings.

Every function here is atomic and audited. Seats are counted by the database (see
`aman.transport.models`); `leg_book` checks the count under the leg's row lock first so that
the refusal has words, and turns the constraint's refusal — the backstop — into the same
words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aman.core.audit import audit_write, audit_write_many, diff, snapshot
from aman.core.errors import ApplicationError, Conflict
from aman.core.ids import is_id
from aman.core.models import Crisis, User
from aman.dedup.signals import MergeConflict
from aman.geo.models import Country, Place
from aman.registry.models import Household, Person, StatusEvent
from aman.registry.services import person_set_status, person_status_step
from aman.registry.statuses import TRANSITIONS, Status
from aman.transport.models import (
    BOOKING_TRANSITIONS,
    HOLDS_SEAT,
    LEG_TRANSITIONS,
    Booking,
    BookingEvent,
    BookingStatus,
    Leg,
    LegEvent,
    LegStatus,
    Mode,
    PermitDecision,
    PermitEntry,
    PermitList,
    SeatAllocation,
    TransportPolicy,
    Undertaking,
)
from aman.transport.times import implausible, in_the_future

LEG_FIELDS = [
    "mode",
    "origin",
    "destination",
    "departure_planned",
    "arrival_planned",
    "departure_actual",
    "arrival_actual",
    "capacity",
    "carrier",
    "number",
    "contact",
    "cost",
    "currency",
    "fare",
    "escort",
    "notes",
]
TIMES = ("departure_planned", "arrival_planned", "departure_actual", "arrival_actual")
ACTUAL_TIMES = ("departure_actual", "arrival_actual")
# Places a leg may start or end at.
LEG_PLACES = (
    Place.Kind.CITY,
    Place.Kind.AIRPORT,
    Place.Kind.CROSSING,
    Place.Kind.ASSEMBLY_POINT,
    Place.Kind.HOTEL,
)
# People who are no longer waiting for a seat.
NOT_TRAVELLING = frozenset({Status.WITHDRAWN, Status.STAYING, Status.DECLINED, Status.ARRIVED_HOME})


# Legs ----------------------------------------------------------------------------------------


def _decimal(value: Any, name: str, problems: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        problems.setdefault(name, []).append(_("Not a number."))
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        problems.setdefault(name, []).append(_("Out of range."))
        return None
    return amount.quantize(Decimal("0.01"))


def _aware(
    value: Any, name: str, problems: dict[str, list[str]], zone: Any = None
) -> datetime | None:
    """A date and time; without an offset, it is read on the clock of `zone` (the place
    it happens at), else of the server."""
    if value in (None, ""):
        return None
    if isinstance(value, str):
        from django.utils.dateparse import parse_datetime

        try:
            parsed = parse_datetime(value.strip().replace(" ", "T", 1))
        except ValueError:
            parsed = None
        if parsed is None:
            problems.setdefault(name, []).append(_("Not a date and time (YYYY-MM-DD HH:MM)."))
            return None
        value = parsed
    if not isinstance(value, datetime):
        problems.setdefault(name, []).append(_("Not a date and time (YYYY-MM-DD HH:MM)."))
        return None
    refused = implausible(value)  # before any conversion: year 1 or 9999 would overflow
    if refused:
        problems.setdefault(name, []).append(refused)
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, zone)
    return value


def _place(value: Any, name: str, problems: dict[str, list[str]]) -> Place | None:
    """A place given as a Place, its id, or its code (IATA, ICAO, crossing id, GeoNames id)."""
    if isinstance(value, Place):
        return value
    if value in (None, ""):
        problems.setdefault(name, []).append(_("Required."))
        return None
    text = str(value).strip()
    qs = Place.objects.filter(kind__in=LEG_PLACES)
    found = None
    if is_id(text):
        found = qs.filter(pk=int(text)).first()
    if found is None:
        upper = text.upper()
        found = (
            qs.filter(Q(iata=upper) | Q(icao=upper)).order_by("kind").first()
            or qs.filter(code=text).first()
        )
    if found is None:
        problems.setdefault(name, []).append(
            _(
                "No place “%(value)s”: give an airport code, a crossing id "
                "or a place id (reference data)."
            )
            % {"value": text[:60]}
        )
    return found


def _leg_values(data: dict[str, Any], *, current: Leg | None) -> dict[str, Any]:
    """Validated field values from `data` (only the fields present when `current` is
    given); raises ApplicationError naming every bad field."""
    problems: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    present = [f for f in LEG_FIELDS if f in data] if current else LEG_FIELDS
    for name in present:
        raw = data.get(name)
        if name in ("origin", "destination"):
            values[name] = _place(raw, name, problems)
        elif name in TIMES:
            continue  # read below, on the clock of the place they happen at
        elif name in ("cost", "fare"):
            values[name] = _decimal(raw, name, problems)
        elif name == "capacity":
            try:
                values[name] = int(str(raw).strip())
            except (TypeError, ValueError):
                problems.setdefault(name, []).append(_("A whole number of seats is required."))
                continue
            if not 1 <= values[name] <= 2000:
                problems.setdefault(name, []).append(_("Between 1 and 2000 seats."))
        elif name == "escort":
            if raw in (True, False, None, "", "on", "true", "false", "1", "0"):
                values[name] = raw in (True, "on", "true", "1")
            else:
                problems.setdefault(name, []).append(_("Yes or no."))
        elif name == "mode":
            if raw not in Mode.values:
                problems.setdefault(name, []).append(
                    _("One of: %(choices)s.") % {"choices": ", ".join(Mode.values)}
                )
            values[name] = raw
        elif name == "currency":
            text = str(raw or "").strip().upper()
            if text and (len(text) != 3 or not text.isalpha()):
                problems.setdefault(name, []).append(_("A three-letter currency code (ISO 4217)."))
            values[name] = text
        else:
            limit = getattr(Leg._meta.get_field(name), "max_length", None) or 2000
            text = str(raw or "").strip()
            if len(text) > limit:
                problems.setdefault(name, []).append(_("At most %(n)d characters.") % {"n": limit})
            values[name] = text
    for name in (n for n in present if n in TIMES):
        end = "origin" if name.startswith("departure") else "destination"
        place = values.get(end) or (getattr(current, end) if current else None)
        values[name] = _aware(data.get(name), name, problems, place.zone if place else None)
    if "departure_planned" in present and values.get("departure_planned") is None:
        problems.setdefault("departure_planned", []).append(_("Required."))
    before = {f: getattr(current, f) for f in LEG_FIELDS} if current else {}
    merged = {**before, **values}
    if merged.get("origin") and merged.get("origin") == merged.get("destination"):
        problems.setdefault("destination", []).append(
            _("The destination must differ from the origin.")
        )
    dep, arr = merged.get("departure_planned"), merged.get("arrival_planned")
    if dep and arr and arr < dep:
        problems.setdefault("arrival_planned", []).append(_("Arrival before departure."))
    _check_actual_times(current, values, merged, problems)
    if merged.get("cost") is not None and not merged.get("currency"):
        problems.setdefault("currency", []).append(_("The cost's currency is required."))
    if problems:
        first = next(iter(problems))
        raise ApplicationError(
            _("The leg was not saved: %(field)s: %(problem)s")
            % {"field": first, "problem": problems[first][0]},
            {"errors": problems},
        )
    return values


def _check_actual_times(
    current: Leg | None,
    values: dict[str, Any],
    merged: dict[str, Any],
    problems: dict[str, list[str]],
    now: datetime | None = None,
) -> None:
    """The actual departure of a departed (or arrived) leg and the actual arrival of an
    arrived one: given, not in the future, the arrival not before the departure. A leg that
    has not departed has no actual times."""
    status = current.status if current is not None else LegStatus.PLANNED
    rules = (
        (
            "departure_actual",
            (LegStatus.DEPARTED, LegStatus.ARRIVED),
            _("Recorded when the leg departs."),
        ),
        ("arrival_actual", (LegStatus.ARRIVED,), _("Recorded when the leg arrives.")),
    )
    for name, when, too_early in rules:
        if name not in values or name in problems:
            continue
        value = values[name]
        if status not in when:
            if value is not None:
                problems.setdefault(name, []).append(too_early)
        elif value is None:
            problems.setdefault(name, []).append(_("Required."))
        else:
            refused = in_the_future(value, now)
            if refused:
                problems.setdefault(name, []).append(refused)
    departed, arrived = merged.get("departure_actual"), merged.get("arrival_actual")
    if departed and arrived and arrived < departed and "arrival_actual" not in problems:
        problems.setdefault("arrival_actual", []).append(_("Arrival before departure."))


@transaction.atomic
def leg_create(
    *,
    actor: User | None,
    crisis: Crisis,
    data: dict[str, Any],
    source: str = Leg.Source.UI,
    source_ref: str = "",
) -> Leg:
    if crisis.status == Crisis.Status.CLOSED:
        raise Conflict(_("The crisis is closed."))
    values = _leg_values(data, current=None)
    source_ref = source_ref.strip()[:200]
    if source_ref and Leg.objects.filter(crisis=crisis, source_ref=source_ref).exists():
        raise Conflict(
            _("A leg with the source reference “%(ref)s” exists already.") % {"ref": source_ref},
            {"source_ref": [source_ref]},
        )
    leg = Leg.objects.create(
        crisis=crisis, created_by=actor, source=source, source_ref=source_ref, **values
    )
    LegEvent.objects.create(leg=leg, status=leg.status, actor=actor, note=_("created"))
    audit_write(
        actor=actor,
        verb="leg_create",
        obj=leg,
        action="create",
        crisis=crisis,
        changes=diff({}, snapshot(leg, LEG_FIELDS)),
    )
    return leg


@transaction.atomic
def leg_update(*, actor: User | None, leg: Leg, data: dict[str, Any]) -> Leg:
    leg = Leg.objects.select_for_update().get(pk=leg.pk)
    if leg.status == LegStatus.CANCELLED:
        raise Conflict(_("A cancelled leg cannot be changed."))
    if leg.status in (LegStatus.DEPARTED, LegStatus.ARRIVED):
        others = sorted(set(data) - set(ACTUAL_TIMES))
        if others:
            raise Conflict(
                _("The leg has %(status)s: only its actual departure and arrival can be corrected.")
                % {"status": LegStatus(leg.status).label.lower()},
                {"errors": {name: [_("Cannot be changed any more.")] for name in others}},
            )
    values = _leg_values(data, current=leg)
    before = snapshot(leg, LEG_FIELDS)
    capacity = values.get("capacity", leg.capacity)
    if capacity < leg.seats_taken + leg.seats_allocated:
        raise Conflict(
            _(
                "%(taken)d seats are booked and %(allocated)d offered to partners: the leg "
                "cannot have fewer than %(total)d seats."
            )
            % {
                "taken": leg.seats_taken,
                "allocated": leg.seats_allocated,
                "total": leg.seats_taken + leg.seats_allocated,
            },
            {"errors": {"capacity": [_("Too few seats for the bookings.")]}},
        )
    for name, value in values.items():
        setattr(leg, name, value)
    try:
        with transaction.atomic():
            leg.save()
    except IntegrityError:
        raise Conflict(_("The leg was changed meanwhile; reload and try again.")) from None
    changes = diff(before, snapshot(leg, LEG_FIELDS))
    if changes:
        audit_write(actor=actor, verb="leg_update", obj=leg, crisis=leg.crisis, changes=changes)
    return leg


@dataclass
class LegStatusOutcome:
    leg: Leg
    released: list[Booking] = field(default_factory=list)
    no_shows: list[Booking] = field(default_factory=list)
    affected_households: list[int] = field(default_factory=list)
    safe: int = 0


@transaction.atomic
def leg_set_status(
    *,
    actor: User | None,
    leg: Leg,
    status: str,
    note: str = "",
    at: datetime | None = None,
    actual: Any = None,
) -> LegStatusOutcome:
    """Move a leg along planned → confirmed → boarding → departed → arrived, or cancel it
    (a reason is required; every seat held is released and the households are listed for
    re-planning). At departure whoever has not boarded is a no-show; at arrival the people
    on board are out of the affected country (or home) when the destination says so.

    `actual` is when the leg really departed or arrived, as the officer gives it (a date and
    time, without an offset on the clock of the origin or the destination); by default the
    moment of the change (`at`, else now). It is not later than that moment, and an arrival
    is not before the departure."""
    leg = (
        Leg.objects.select_for_update(of=("self",))
        .select_related("crisis", "origin", "destination")
        .get(pk=leg.pk)
    )
    if status not in LegStatus.values:
        raise ApplicationError(_("Unknown status."), {"status": [status]})
    allowed = LEG_TRANSITIONS[leg.status]
    if status not in allowed:
        raise Conflict(
            _("A leg cannot go from “%(old)s” to “%(new)s”.")
            % {"old": LegStatus(leg.status).label, "new": LegStatus(status).label},
            {"status": [status], "allowed": sorted(allowed)},
        )
    note = note.strip()[:500]
    if status == LegStatus.CANCELLED and not note:
        raise ApplicationError(
            _("Say why the leg is cancelled."), {"errors": {"note": [_("Required.")]}}
        )
    now = at or timezone.now()
    when = _actual_time(leg, status, actual, now)
    outcome = LegStatusOutcome(leg=leg)
    old = leg.status
    leg.status = status
    fields = ["status", "updated_at"]
    if status == LegStatus.CANCELLED:
        leg.cancel_reason = note
        fields.append("cancel_reason")
    if status == LegStatus.DEPARTED:
        leg.departure_actual = when or leg.departure_actual or now
        fields.append("departure_actual")
    if status == LegStatus.ARRIVED:
        leg.arrival_actual = when or leg.arrival_actual or now
        fields.append("arrival_actual")
    leg.save(update_fields=fields)
    LegEvent.objects.create(leg=leg, status=status, previous=old, actor=actor, note=note)
    holding = list(
        Booking.objects.select_for_update(of=("self",))
        .filter(leg=leg, status__in=HOLDS_SEAT)
        .select_related("person")
    )
    if status == LegStatus.CANCELLED:
        reason = _("leg cancelled: %(reason)s") % {"reason": note}
        outcome.released = _close(holding, BookingStatus.RELEASED, actor, reason[:500])
        outcome.affected_households = sorted(
            {b.household_id or -b.person_id for b in outcome.released}
        )
        _unassign([b.person for b in outcome.released], actor, reason[:500])
    elif status == LegStatus.DEPARTED:
        left = [b for b in holding if b.status != BookingStatus.BOARDED]
        outcome.no_shows = _close(
            left, BookingStatus.NO_SHOW, actor, _("not on board at departure")
        )
        _unassign([b.person for b in outcome.no_shows], actor, _("no-show"))
    elif status == LegStatus.ARRIVED:
        outcome.safe = _arrived(
            leg, [b for b in holding if b.status == BookingStatus.BOARDED], actor
        )
    audit_write(
        actor=actor,
        verb="leg_set_status",
        obj=leg,
        crisis=leg.crisis,
        changes={
            "status": [old, status],
            **({"note": note} if note else {}),
            **({"actual": when.isoformat()} if when else {}),
            "bookings_closed": len(outcome.released) + len(outcome.no_shows),
        },
    )
    return outcome


def _actual_time(leg: Leg, status: str, actual: Any, now: datetime) -> datetime | None:
    """The actual departure or arrival given with a status change, validated (None when
    none was given)."""
    if actual in (None, ""):
        return None
    if status not in (LegStatus.DEPARTED, LegStatus.ARRIVED):
        raise ApplicationError(
            _("Only a departure or an arrival has an actual time."),
            {"errors": {"actual": [_("Only with “departed” or “arrived”.")]}},
        )
    departing = status == LegStatus.DEPARTED
    name = "departure_actual" if departing else "arrival_actual"
    problems: dict[str, list[str]] = {}
    zone = (leg.origin if departing else leg.destination).zone
    moment = _aware(actual, name, problems, zone)
    if moment is not None:
        refused = in_the_future(moment, now)
        if refused:
            problems.setdefault(name, []).append(refused)
        elif not departing and leg.departure_actual and moment < leg.departure_actual:
            problems.setdefault(name, []).append(_("Arrival before departure."))
    if problems:
        raise ApplicationError(
            _("The leg's status was not changed: %(field)s: %(problem)s")
            % {"field": name, "problem": problems[name][0]},
            {"errors": {"actual": problems[name], name: problems[name]}},
        )
    return moment


def _arrived(leg: Leg, boarded: list[Booking], actor: User | None) -> int:
    """People on board of an arrived leg: home when it ended in the home country, safe when
    it ended outside every affected country."""
    country = leg.destination.country_id
    if country == leg.crisis.home_country_id:
        target = Status.ARRIVED_HOME
    elif not leg.crisis.affected_countries.filter(pk=country).exists():
        target = Status.CROSSED_BORDER
    else:
        return 0
    moved = 0
    for booking in boarded:
        person = booking.person
        if person.status != target and target in TRANSITIONS[person.status]:
            person_set_status(actor=actor, person=person, status=target, note=str(leg)[:500])
            moved += 1
    return moved


def _close(bookings: list[Booking], status: str, actor: User | None, note: str) -> list[Booking]:
    for booking in bookings:
        previous = booking.status
        booking.status = status
        booking.changed_by = actor
        booking.save(update_fields=["status", "changed_by", "changed_at"])
        BookingEvent.objects.create(
            booking=booking, status=status, previous=previous, actor=actor, note=note
        )
    return bookings


def _unassign(people: list[Person], actor: User | None, note: str) -> None:
    """People whose last seat went (released, no-show, offloaded, leg cancelled): back to
    waiting (verified) so that the next plan and the next-in-priority list see them again,
    unless another booking still holds a seat for them."""
    still = set(
        Booking.objects.filter(person__in=people, status__in=HOLDS_SEAT).values_list(
            "person_id", flat=True
        )
    )
    for person in people:
        if person.pk in still:
            continue
        person.refresh_from_db(fields=["status"])
        if person.status == Status.BOARDED:
            # Taken off a vehicle (offloaded, or the leg cancelled during boarding).
            person_set_status(actor=actor, person=person, status=Status.ASSIGNED, note=note)
            person.status = Status.ASSIGNED
        if person.status == Status.ASSIGNED:
            person_set_status(actor=actor, person=person, status=Status.VERIFIED, note=note)


@transaction.atomic
def allocation_set(
    *, actor: User | None, leg: Leg, country: Country, seats: int, note: str = ""
) -> SeatAllocation | None:
    """Offer `seats` of a leg to a partner state (0 withdraws the offer)."""
    leg = Leg.objects.select_for_update().get(pk=leg.pk)
    if leg.closed:
        raise Conflict(_("The leg has departed or is cancelled."))
    if country.pk == leg.crisis.home_country_id:
        raise ApplicationError(_("Seats are offered to partner states, not to the home country."))
    if seats < 0:
        raise ApplicationError(_("A number of seats, 0 or more."), {"errors": {"seats": ["<0"]}})
    current = SeatAllocation.objects.filter(leg=leg, country=country).first()
    before = current.seats if current else 0
    others = leg.seats_allocated - before
    if leg.seats_taken + others + seats > leg.capacity:
        raise Conflict(
            _("Only %(n)d seats are free to offer.")
            % {"n": max(0, leg.capacity - leg.seats_taken - others)},
            {"errors": {"seats": [_("More than the free seats.")]}},
        )
    if seats == 0:
        if current:
            current.delete()
        current = None
    elif current:
        current.seats, current.note = seats, note.strip()[:200]
        current.save(update_fields=["seats", "note"])
    else:
        current = SeatAllocation.objects.create(
            leg=leg, country=country, seats=seats, note=note.strip()[:200]
        )
    leg.seats_allocated = others + seats
    leg.save(update_fields=["seats_allocated", "updated_at"])
    audit_write(
        actor=actor,
        verb="allocation_set",
        obj=leg,
        crisis=leg.crisis,
        changes={"allocation": [country.code, before, seats]},
    )
    return current


# Bookings ------------------------------------------------------------------------------------


def travelling_members(household: Household) -> list[Person]:
    """The members of a household who travel: not merged away, not staying or withdrawn."""
    return list(
        Person.objects.filter(household=household)
        .exclude(status__in=NOT_TRAVELLING)
        .order_by("-priority", "birth_date", "id")
    )


def _event(booking: Booking, status: str, previous: str, actor: User | None, note: str) -> None:
    BookingEvent.objects.create(
        booking=booking, status=status, previous=previous, actor=actor, note=note[:500]
    )


def _no_seats(leg: Leg, wanted: int) -> Conflict:
    return Conflict(
        _("Not enough seats: %(free)d free on this leg, %(wanted)d asked for.")
        % {"free": leg.seats_free, "wanted": wanted},
        {"free": leg.seats_free, "wanted": wanted},
    )


@transaction.atomic
def leg_book(
    *,
    actor: User | None,
    leg: Leg,
    people: Iterable[Person] = (),
    households: Iterable[Household] = (),
    split_reason: str = "",
    source: str = Leg.Source.UI,
    status: str = BookingStatus.OFFERED,
) -> list[Booking]:
    """Book people on a leg. A household travels together: `households` books every
    travelling member; people named (`people`) must be all the travelling members of their
    households, unless `split_reason` says why only those named go (refused otherwise,
    the missing named). Nobody holds two seats at the same time. All or nothing: when the
    seats do not suffice for everyone asked for, nobody is booked."""
    leg = Leg.objects.select_for_update(of=("self",)).select_related("crisis").get(pk=leg.pk)
    if leg.status not in (LegStatus.PLANNED, LegStatus.CONFIRMED, LegStatus.BOARDING):
        raise Conflict(
            _("Nobody can be booked on a leg that is %(status)s.")
            % {"status": LegStatus(leg.status).label.lower()}
        )
    if status not in (BookingStatus.OFFERED, BookingStatus.CONFIRMED):
        raise ApplicationError(_("A new booking must be offered or confirmed."))
    split_reason = split_reason.strip()[:300]
    chosen: dict[int, Person] = {}
    for household in households:
        for person in travelling_members(household):
            chosen[person.pk] = person
    named = [p for p in people]
    for person in named:
        if person.crisis_id != leg.crisis_id or person.merged_into_id is not None:
            raise ApplicationError(
                _("%(ref)s is not one of this crisis's people.") % {"ref": person.reference_code}
            )
        if person.status in NOT_TRAVELLING:
            raise Conflict(
                _("%(ref)s does not travel (%(status)s).")
                % {"ref": person.reference_code, "status": Status(person.status).label.lower()}
            )
        chosen[person.pk] = person
    if not split_reason:
        for household_id in {p.household_id for p in named if p.household_id}:
            household = Household.objects.get(pk=household_id)
            missing = [m for m in travelling_members(household) if m.pk not in chosen]
            if missing:
                raise Conflict(
                    _(
                        "A household travels together: %(missing)s would stay behind. Book "
                        "the whole household, or give a reason for splitting it."
                    )
                    % {"missing": ", ".join(m.reference_code for m in missing)},
                    {"missing": [m.reference_code for m in missing], "household": household_id},
                )
    if not chosen:
        raise ApplicationError(_("Nobody to book: choose people or households."))
    taken = set(
        Booking.objects.filter(leg=leg, person_id__in=chosen, status__in=HOLDS_SEAT).values_list(
            "person_id", flat=True
        )
    )
    if taken:
        raise Conflict(
            _("Already booked on this leg: %(people)s.")
            % {"people": ", ".join(sorted(chosen[pk].reference_code for pk in taken))},
            {"already": sorted(chosen[pk].reference_code for pk in taken)},
        )
    elsewhere = _seats_at_the_same_time(leg, list(chosen))
    if elsewhere:
        raise Conflict(
            _("Already holding a seat at that time: %(seats)s. Release it first.")
            % {
                "seats": "; ".join(
                    f"{chosen[pk].reference_code} — {b.leg}" for pk, b in sorted(elsewhere.items())
                )
            },
            {
                "elsewhere": {
                    chosen[pk].reference_code: {"booking": b.pk, "leg": b.leg_id}
                    for pk, b in elsewhere.items()
                }
            },
        )
    refused = _permit_refused(leg, list(chosen))
    if refused:
        raise Conflict(
            _("The transit permit was refused for %(people)s.")
            % {"people": ", ".join(sorted(chosen[pk].reference_code for pk in refused))},
            {"refused": sorted(chosen[pk].reference_code for pk in refused)},
        )
    if len(chosen) > leg.seats_free:
        raise _no_seats(leg, len(chosen))
    split = bool(split_reason)
    bookings = [
        Booking(
            crisis=leg.crisis,
            leg=leg,
            person=person,
            household_id=person.household_id,
            status=status,
            split_reason=split_reason if split else "",
            source=source,
            created_by=actor,
            changed_by=actor,
        )
        for person in chosen.values()
    ]
    try:
        with transaction.atomic():
            for booking in bookings:
                booking.save()
    except IntegrityError:
        # The database's count refused a seat that another transaction took meanwhile.
        leg.refresh_from_db()
        raise _no_seats(leg, len(chosen)) from None
    created = bookings
    for booking in created:
        _event(booking, booking.status, "", actor, split_reason)
        # Waiting people now have a seat; someone on the way (boarded on an earlier leg,
        # already safe) keeps their place in the journey.
        if booking.person.status in (Status.REGISTERED, Status.VERIFIED, Status.ACCOMMODATED):
            person_set_status(
                actor=actor, person=booking.person, status=Status.ASSIGNED, note=str(leg)
            )
    audit_write(
        actor=actor,
        verb="leg_book",
        obj=leg,
        crisis=leg.crisis,
        changes={
            "people": sorted(chosen),
            "status": status,
            **({"split_reason": split_reason} if split else {}),
        },
    )
    return created


@transaction.atomic
def legs_book_many(
    *,
    actor: User | None,
    wanted: dict[int, list[int]],
    source: str = Leg.Source.PLAN,
    note: str = "",
) -> int:
    """Book many people on many legs at once, as a published plan does (the people of each
    leg named, whole households chosen by the caller): all or nothing, the legs locked in
    id order, one INSERT of bookings and one of their events, people waiting set to
    "assigned" in one UPDATE with their status events; the database's seat count refuses
    any overbooking as for single bookings. `wanted` maps leg ids to person ids; people
    holding a seat on a leg already are left as they are. Returns the bookings made."""
    if not wanted:
        return 0
    legs = {
        leg.pk: leg
        for leg in Leg.objects.select_for_update(of=("self",))
        .select_related("crisis", "destination")
        .filter(pk__in=sorted(wanted))
        .order_by("pk")
    }
    held = set(
        Booking.objects.filter(leg_id__in=list(legs), status__in=HOLDS_SEAT).values_list(
            "leg_id", "person_id"
        )
    )
    all_people = {pk for pks in wanted.values() for pk in pks}
    # Locked (after the legs, as every booking path does): nobody's status changes under us.
    people = {
        p.pk: p
        for p in Person.objects.select_for_update(of=("self",))
        .filter(pk__in=all_people)
        .only("pk", "crisis_id", "household_id", "status", "merged_into_id", "reference_code")
        .order_by("pk")
    }
    bookings: list[Booking] = []
    for leg_id, person_ids in sorted(wanted.items()):
        leg = legs.get(leg_id)
        if leg is None:
            raise ApplicationError(_("No such leg."), {"leg": leg_id})
        if leg.status not in (LegStatus.PLANNED, LegStatus.CONFIRMED, LegStatus.BOARDING):
            raise Conflict(
                _("Nobody can be booked on a leg that is %(status)s.")
                % {"status": LegStatus(leg.status).label.lower()},
                {"leg": leg_id},
            )
        todo = [pk for pk in dict.fromkeys(person_ids) if (leg_id, pk) not in held]
        for pk in todo:
            person = people.get(pk)
            if person is None or person.crisis_id != leg.crisis_id or person.merged_into_id:
                raise ApplicationError(_("Someone of another crisis, or merged."), {"person": pk})
            if person.status in NOT_TRAVELLING:
                raise Conflict(
                    _("%(ref)s does not travel (%(status)s).")
                    % {"ref": person.reference_code, "status": Status(person.status).label.lower()}
                )
        refused = _permit_refused(leg, todo)
        if refused:
            raise Conflict(
                _("The transit permit was refused for %(people)s.")
                % {"people": ", ".join(sorted(people[pk].reference_code for pk in refused))},
                {"refused": sorted(people[pk].reference_code for pk in refused)},
            )
        if len(todo) > leg.seats_free:
            raise _no_seats(leg, len(todo))
        bookings += [
            Booking(
                crisis=leg.crisis,
                leg=leg,
                person_id=pk,
                household_id=people[pk].household_id,
                status=BookingStatus.OFFERED,
                source=source,
                created_by=actor,
                changed_by=actor,
            )
            for pk in todo
        ]
    try:
        with transaction.atomic():
            created = Booking.objects.bulk_create(bookings)
    except IntegrityError:
        raise Conflict(_("The seats were just taken by another booking; try again.")) from None
    BookingEvent.objects.bulk_create(
        [
            BookingEvent(booking=b, status=b.status, previous="", actor=actor, note=note[:500])
            for b in created
        ]
    )
    waiting = sorted(
        {
            b.person_id
            for b in created
            if people[b.person_id].status
            in (Status.REGISTERED, Status.VERIFIED, Status.ACCOMMODATED)
        }
    )
    if waiting:
        StatusEvent.objects.bulk_create(
            [
                StatusEvent(
                    person_id=pk,
                    status=Status.ASSIGNED,
                    previous=people[pk].status,
                    actor=actor,
                    note=note[:500],
                )
                for pk in waiting
            ]
        )
        Person.objects.filter(pk__in=waiting).update(
            status=Status.ASSIGNED, updated_at=timezone.now()
        )
    crisis = next(iter(legs.values())).crisis
    by_leg: dict[int, list[int]] = {}
    for b in created:
        by_leg.setdefault(b.leg_id, []).append(b.person_id)
    audit_write_many(
        [
            {
                "actor": actor,
                "verb": "leg_book",
                "obj": legs[leg_id],
                "crisis": legs[leg_id].crisis,
                "changes": {"people": sorted(pks), "status": BookingStatus.OFFERED, "note": note},
            }
            for leg_id, pks in sorted(by_leg.items())
        ]
        + [
            {
                "actor": actor,
                "verb": "person_set_status",
                "object_type": "registry.person",
                "object_id": pk,
                "crisis": crisis,
                "changes": {"status": [people[pk].status, Status.ASSIGNED]},
            }
            for pk in waiting
        ]
    )
    return len(created)


def _permit_refused(leg: Leg, person_ids: list[int]) -> set[int]:
    """People refused a transit permit at the leg's destination crossing on its day."""
    if leg.destination.kind != Place.Kind.CROSSING:
        return set()
    day = leg.day_at_destination
    return set(
        PermitEntry.objects.filter(
            permit_list__crisis=leg.crisis_id,
            permit_list__crossing=leg.destination_id,
            permit_list__day=day,
            person_id__in=person_ids,
            decision=PermitDecision.REFUSED,
        ).values_list("person_id", flat=True)
    )


def permit_state(leg: Leg, person_ids: list[int]) -> dict[int, str]:
    """For a leg to a crossing: each person's permit answer (approved, refused, pending),
    and where the entry state wants permits, "missing" for those nobody asked about."""
    if leg.destination.kind != Place.Kind.CROSSING:
        return {}
    day = leg.day_at_destination
    found = dict(
        PermitEntry.objects.filter(
            permit_list__crisis=leg.crisis_id,
            permit_list__crossing=leg.destination_id,
            permit_list__day=day,
            person_id__in=person_ids,
        ).values_list("person_id", "decision")
    )
    if leg.destination.transit_permit != "yes":
        # No permits asked for there; answers recorded anyway (a state that changed its
        # rules) still count, a refusal above all.
        return found
    return {pk: found.get(pk, "missing") for pk in person_ids}


# What a service reads of a leg beside its own row: only to word notes and audit rows, and
# to know where it goes (a crossing asks for permits).
_LEG_RELATIONS = (Leg.origin.field, Leg.destination.field, Leg.crisis.field)
_BOOKING_LEG = Booking.leg.field


def _locked_leg(booking: Booking) -> Leg:
    """The booking's leg as it is now, its row locked. Its places and crisis are taken from
    the caller's copy of the leg (`booking.leg`, e.g. the gate's) when that has them and they
    are still the same rows, else read in the same query."""
    known = booking.leg if _BOOKING_LEG.is_cached(booking) else None
    locked = Leg.objects.select_for_update(of=("self",))
    if known is None or not all(f.is_cached(known) for f in _LEG_RELATIONS):
        return locked.select_related("origin", "destination", "crisis").get(pk=booking.leg_id)
    leg = locked.get(pk=booking.leg_id)
    for f in _LEG_RELATIONS:
        if getattr(leg, f.attname) == getattr(known, f.attname):
            f.set_cached_value(leg, f.get_cached_value(known))
    return leg


def _transition(booking: Booking, status: str, *, lock_person: bool = False) -> tuple[Booking, str]:
    # Locks in the order every writer of a leg's bookings takes: the leg, then the booking
    # (releasing no-shows and a departure lock the leg, then its bookings), then — for a
    # boarding, in the booking's statement — the person; never the crisis or the places.
    leg = _locked_leg(booking)
    booking = (
        Booking.objects.select_for_update(of=("self", "person") if lock_person else ("self",))
        .select_related("person")
        .get(pk=booking.pk)
    )
    booking.leg = leg
    if booking.person.crisis_id == leg.crisis_id and Leg.crisis.is_cached(leg):
        booking.person.crisis = leg.crisis  # for the person's audit entry: no query
    previous = booking.status
    if status not in BOOKING_TRANSITIONS[previous]:
        raise Conflict(
            _("A booking cannot go from “%(old)s” to “%(new)s”.")
            % {"old": BookingStatus(previous).label, "new": BookingStatus(status).label},
            {"status": [status], "current": previous},
        )
    return booking, previous


def _save_status(
    booking: Booking,
    previous: str,
    status: str,
    actor: User | None,
    note: str,
    verb: str,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The booking's new status saved with its history; returns the arguments of its audit
    entry, for the caller to write (with the person's, for a boarding, in one INSERT).
    `at`: when it happened, if not now (a scan recorded offline at the gate)."""
    now = min(at, timezone.now()) if at is not None else timezone.now()
    booking.status = status
    booking.changed_by = actor
    fields = ["status", "changed_by", "changed_at"]
    if status == BookingStatus.CHECKED_IN or (
        status == BookingStatus.BOARDED and booking.checked_in_at is None
    ):
        booking.checked_in_at = now
        fields.append("checked_in_at")
    if status == BookingStatus.BOARDED:
        booking.boarded_at = now
        fields.append("boarded_at")
    booking.save(update_fields=fields)
    _event(booking, status, previous, actor, note)
    return {
        "actor": actor,
        "verb": verb,
        "obj": booking,
        "crisis": booking.leg.crisis,
        "changes": {"status": [previous, status], **({"note": note} if note else {})},
    }


@transaction.atomic
def booking_confirm(*, actor: User | None, booking: Booking) -> Booking:
    booking, previous = _transition(booking, BookingStatus.CONFIRMED)
    _check_open(booking)
    audit_write(
        **_save_status(booking, previous, BookingStatus.CONFIRMED, actor, "", "booking_confirm")
    )
    return booking


def undertaking_needed(booking: Booking, *, strict: bool = False) -> tuple[Decimal, str] | None:
    """The amount and currency the person undertakes to repay for this seat, when the
    crisis's policy asks for an undertaking; None when it does not. With `strict`, a leg
    without the economy fare that the policy's amount is (nothing to undertake to repay) is
    refused rather than counted as 0.00."""
    policy = _policy(booking.leg)
    if policy is None or not policy.cost_recovery:
        return None
    if policy.flights_only and not booking.leg.is_flight:
        return None
    if policy.amount_rule == "fixed":
        return (policy.fixed_amount or Decimal("0.00")), policy.currency
    if booking.leg.fare is None and strict:
        raise Conflict(
            _(
                "The leg has no economy fare, the amount people undertake to repay under this "
                "crisis's policy: set it on the leg."
            ),
            {"errors": {"fare": [_("Required.")]}, "undertaking": True},
        )
    return (booking.leg.fare or Decimal("0.00")), (booking.leg.currency or policy.currency)


def _policy(leg: Leg) -> TransportPolicy | None:
    # Read once per leg object: a service's locked leg, which the gate then answers with.
    if "_transport_policy" not in leg.__dict__:
        leg.__dict__["_transport_policy"] = TransportPolicy.objects.filter(
            crisis_id=leg.crisis_id
        ).first()
    policy: TransportPolicy | None = leg.__dict__["_transport_policy"]
    return policy


def _check_open(booking: Booking) -> None:
    """A departed, arrived or cancelled leg's bookings are what happened: they no longer
    change (its manifest and seat count stay as they were)."""
    if booking.leg.closed:
        raise Conflict(
            _("The leg is %(status)s: its bookings cannot change any more.")
            % {"status": LegStatus(booking.leg.status).label.lower()},
            {"leg_status": booking.leg.status},
        )


def _check_boardable(booking: Booking) -> None:
    if booking.leg.closed:
        raise Conflict(
            _("The leg is %(status)s.") % {"status": LegStatus(booking.leg.status).label.lower()}
        )
    if _permit_refused(booking.leg, [booking.person_id]):
        raise Conflict(
            _("The transit permit for %(ref)s was refused: do not board.")
            % {"ref": booking.person.reference_code},
            {"permit": "refused"},
        )


@transaction.atomic
def booking_check_in(
    *,
    actor: User | None,
    booking: Booking,
    seat: str = "",
    undertaking_signed_by: str = "",
    note: str = "",
    at: datetime | None = None,
) -> Booking:
    """Check a person in. Where the crisis asks for cost recovery, the person's signed
    undertaking (the name they signed with) is required and recorded here. `at`: when, if
    not now (a scan recorded offline)."""
    booking, previous = _transition(booking, BookingStatus.CHECKED_IN)
    _check_boardable(booking)
    _undertake(booking, actor, undertaking_signed_by)
    if seat.strip():
        _set_seat(booking, seat)
    entry = _save_status(
        booking, previous, BookingStatus.CHECKED_IN, actor, note, "booking_check_in", at
    )
    if seat.strip():
        entry["changes"]["seat"] = booking.seat
    audit_write(**entry)
    return booking


def _undertake(booking: Booking, actor: User | None, signed_by: str) -> None:
    if Undertaking.objects.filter(booking=booking).exists():
        return
    needed = undertaking_needed(booking, strict=True)
    if needed is None:
        return
    signed_by = signed_by.strip()[:200]
    if not signed_by:
        raise ApplicationError(
            _(
                "This crisis asks for an undertaking to repay %(amount)s %(currency)s: "
                "record the name the person signed with."
            )
            % {"amount": needed[0], "currency": needed[1]},
            {"errors": {"undertaking_signed_by": [_("Required.")]}, "undertaking": True},
        )
    Undertaking.objects.create(
        booking=booking,
        person=booking.person,
        amount=needed[0],
        currency=needed[1],
        signed_name=signed_by,
        signed_at=timezone.now(),
        recorded_by=actor,
        language=booking.person.language,
    )


def _set_seat(booking: Booking, seat: str) -> None:
    seat = seat.strip().upper()[:8]
    if (
        Booking.objects.filter(leg=booking.leg_id, seat=seat, status__in=HOLDS_SEAT)
        .exclude(pk=booking.pk)
        .exists()
    ):
        raise Conflict(_("Seat %(seat)s is taken.") % {"seat": seat}, {"seat": seat})
    booking.seat = seat
    booking.save(update_fields=["seat"])


@transaction.atomic
def booking_board(
    *,
    actor: User | None,
    booking: Booking,
    undertaking_signed_by: str = "",
    note: str = "",
    seat: str = "",
    at: datetime | None = None,
) -> Booking:
    """Board a person (checking them in on the way when they were not); their journey says
    boarded. The person's row is locked with the booking's, and both audit entries are
    written in one INSERT. A seat given here is the person's seat (as at check-in). `at`:
    when, if not now (a scan recorded offline)."""
    booking, previous = _transition(booking, BookingStatus.BOARDED, lock_person=True)
    _check_boardable(booking)
    if previous != BookingStatus.CHECKED_IN:
        _undertake(booking, actor, undertaking_signed_by)
    if seat.strip():
        _set_seat(booking, seat)
    entries = [
        _save_status(booking, previous, BookingStatus.BOARDED, actor, note, "booking_board", at)
    ]
    if seat.strip():
        entries[0]["changes"]["seat"] = booking.seat
    person = booking.person
    if person.status != Status.BOARDED and Status.BOARDED in TRANSITIONS[person.status]:
        step = person_status_step(
            actor=actor, person=person, status=Status.BOARDED, note=str(booking.leg)
        )
        entries.append(step[1])
    audit_write_many(entries)
    return booking


# How much later than the recorded departure a boarding scan may be dated and still be
# taken as made before it (a device's clock, the minutes between the doors closing and the
# officer recording the departure).
LATE_SCAN_GRACE = timedelta(minutes=15)


@transaction.atomic
def booking_board_before_departure(
    *, actor: User | None, booking: Booking, at: datetime, note: str = ""
) -> Booking:
    """A boarding scanned at the gate while offline, before the leg departed, and synced
    after the departure made the person a no-show: the person was on board, so the no-show
    is corrected to boarded (at the scan's time), audited, and the person's journey says
    boarded — and arrived, when the leg has. Refused unless the no-show is the departure's
    own (a seat released earlier may have gone to someone else) and the scan is dated
    before the departure (`LATE_SCAN_GRACE` aside)."""
    leg = (
        Leg.objects.select_for_update(of=("self",))
        .select_related("crisis", "origin", "destination")
        .get(pk=booking.leg_id)
    )
    booking = (
        Booking.objects.select_for_update(of=("self", "person"))
        .select_related("person")
        .get(pk=booking.pk)
    )
    booking.leg = leg
    previous = BookingStatus.NO_SHOW
    departed = LegEvent.objects.filter(leg=leg, status=LegStatus.DEPARTED).order_by("-at").first()
    last = BookingEvent.objects.filter(booking=booking).order_by("-at", "-pk").first()
    if (
        booking.status != BookingStatus.NO_SHOW
        or leg.status not in (LegStatus.DEPARTED, LegStatus.ARRIVED)
        or departed is None
        or last is None
        or last.status != BookingStatus.NO_SHOW
        or last.at < departed.at
    ):
        raise Conflict(
            _("Only a no-show of the departure itself can be corrected to boarded."),
            {"status": booking.status},
        )
    departure = leg.departure_actual or departed.at
    if at > departure + LATE_SCAN_GRACE:
        raise Conflict(
            _("The scan was made at %(scan)s, after the departure at %(departure)s.")
            % {
                "scan": timezone.localtime(at, leg.origin.zone).strftime("%H:%M"),
                "departure": timezone.localtime(departure, leg.origin.zone).strftime("%H:%M"),
            },
            {"status": booking.status},
        )
    booking.status = BookingStatus.BOARDED
    booking.boarded_at = at
    booking.checked_in_at = booking.checked_in_at or at
    booking.changed_by = actor
    booking.save(
        update_fields=["status", "boarded_at", "checked_in_at", "changed_by", "changed_at"]
    )
    words = note or _("boarded before departure (a scan synchronised after it)")
    _event(booking, BookingStatus.BOARDED, previous, actor, words[:500])
    audit_write(
        actor=actor,
        verb="booking_board_before_departure",
        obj=booking,
        crisis=leg.crisis,
        changes={"status": [previous, BookingStatus.BOARDED], "scanned_at": at.isoformat()},
    )
    person = booking.person
    for step in (Status.ASSIGNED, Status.BOARDED):
        # (The departure put the person back to waiting: assigned to the leg again, then
        # on board.)
        if person.status != Status.BOARDED and step in TRANSITIONS[person.status]:
            person_set_status(actor=actor, person=person, status=step, note=str(leg)[:500])
            person.status = step
    if leg.status == LegStatus.ARRIVED:
        _arrived(leg, [booking], actor)
    return booking


@transaction.atomic
def booking_close(*, actor: User | None, booking: Booking, status: str, note: str = "") -> Booking:
    """Release a seat (the person will not take it), record a no-show, or offload a person
    who was checked in or on board. The seat is free at once."""
    if status not in (BookingStatus.RELEASED, BookingStatus.NO_SHOW, BookingStatus.OFFLOADED):
        raise ApplicationError(_("Unknown status."), {"status": [status]})
    booking, previous = _transition(booking, status)
    _check_open(booking)
    note = note.strip()
    if status == BookingStatus.OFFLOADED and not note:
        raise ApplicationError(
            _("Say why the person was offloaded."), {"errors": {"note": [_("Required.")]}}
        )
    if status == BookingStatus.RELEASED and not note and booking.household_id:
        # Releasing one member while the others keep their seats splits the household: an
        # officer does that only explicitly, with the reason.
        others = list(
            Booking.objects.filter(
                leg=booking.leg_id, household=booking.household_id, status__in=HOLDS_SEAT
            )
            .exclude(pk=booking.pk)
            .select_related("person")
            .order_by("pk")
        )
        if others:
            raise ApplicationError(
                _(
                    "Others of the household keep their seats (%(others)s): say why this "
                    "person does not travel with them."
                )
                % {"others": ", ".join(b.person.reference_code_display for b in others)},
                {"errors": {"note": [_("Required to split the household.")]}},
            )
    audit_write(**_save_status(booking, previous, status, actor, note, f"booking_{status}"))
    _unassign([booking.person], actor, note or str(BookingStatus(status).label))
    return booking


def booking_set_status(
    *,
    actor: User | None,
    booking: Booking,
    status: str,
    note: str = "",
    seat: str = "",
    undertaking_signed_by: str = "",
) -> Booking:
    """One door for an officer's step on a booking (the page and the API): confirm, check
    in, board, or release / no-show / offload."""
    if status == BookingStatus.CONFIRMED:
        return booking_confirm(actor=actor, booking=booking)
    if status == BookingStatus.CHECKED_IN:
        return booking_check_in(
            actor=actor,
            booking=booking,
            seat=seat,
            undertaking_signed_by=undertaking_signed_by,
            note=note,
        )
    if status == BookingStatus.BOARDED:
        return booking_board(
            actor=actor,
            booking=booking,
            undertaking_signed_by=undertaking_signed_by,
            note=note,
            seat=seat,
        )
    return booking_close(actor=actor, booking=booking, status=status, note=note)


@transaction.atomic
def leg_release_no_shows(*, actor: User | None, leg: Leg) -> list[Booking]:
    """While the leg is boarding: everyone offered or confirmed who has not checked in is a
    no-show, their seats free at once for the next people in priority — except the members
    of a household one of whom is checked in or on board (a household travels together: its
    others are on their way to the gate; `households_waited_for` names them)."""
    leg = Leg.objects.select_for_update().select_related("crisis").get(pk=leg.pk)
    if leg.status != LegStatus.BOARDING:
        raise Conflict(
            _("No-shows are released while the leg is boarding; it is %(status)s.")
            % {"status": LegStatus(leg.status).label.lower()},
            {"status": leg.status},
        )
    waited = {b.pk for b in households_waited_for(leg)}
    pending = list(
        Booking.objects.select_for_update()
        .filter(leg=leg, status__in=(BookingStatus.OFFERED, BookingStatus.CONFIRMED))
        .exclude(pk__in=waited)
        .select_related("person")
    )
    closed = _close(pending, BookingStatus.NO_SHOW, actor, _("released as a no-show"))
    _unassign([b.person for b in closed], actor, _("no-show"))
    audit_write(
        actor=actor,
        verb="leg_release_no_shows",
        obj=leg,
        crisis=leg.crisis,
        changes={"no_shows": sorted(b.person_id for b in closed)},
    )
    return closed


def households_waited_for(leg: Leg) -> list[Booking]:
    """Bookings not yet checked in whose household has someone checked in or on board: not
    released as no-shows, the gate waits for them (or an officer releases them one by one,
    with the reason for splitting the household)."""
    at_the_gate = Booking.objects.filter(
        leg=leg,
        household=OuterRef("household"),
        status__in=(BookingStatus.CHECKED_IN, BookingStatus.BOARDED),
    )
    return list(
        Booking.objects.filter(
            Exists(at_the_gate),
            leg=leg,
            status__in=(BookingStatus.OFFERED, BookingStatus.CONFIRMED),
        )
        .select_related("person")
        .order_by("household", "pk")
    )


def affected_households(leg: Leg) -> dict[int | None, list[Booking]]:
    """The bookings the leg's cancellation released, by household (None: people without
    one) — not seats released before it, and not people who hold a seat on another leg
    since (they are planned already): who is left to re-plan."""
    cancelled = LegEvent.objects.filter(leg=leg, status=LegStatus.CANCELLED).order_by("-at").first()
    if cancelled is None:
        return {}
    rebooked = Booking.objects.filter(person=OuterRef("person"), status__in=HOLDS_SEAT).exclude(
        leg=leg
    )
    groups: dict[int | None, list[Booking]] = defaultdict(list)
    for booking in (
        Booking.objects.filter(
            Exists(
                BookingEvent.objects.filter(
                    booking=OuterRef("pk"), status=BookingStatus.RELEASED, at__gte=cancelled.at
                )
            ),
            leg=leg,
            status=BookingStatus.RELEASED,
        )
        .exclude(Exists(rebooked))
        .select_related("person")
        .order_by("household_id", "id")
    ):
        groups[booking.household_id].append(booking)
    return dict(groups)


# Transit permits -----------------------------------------------------------------------------


@transaction.atomic
def permit_list_build(
    *, actor: User | None, crisis: Crisis, crossing: Place, day: Any
) -> PermitList:
    """The list of people booked to reach a crossing on a day (legs ending there), for its
    entry state: created or brought up to date (new people added as pending; answers kept)."""
    if crossing.kind != Place.Kind.CROSSING:
        raise ApplicationError(_("Transit permits are asked for at border crossings."))
    permit_list, _created = PermitList.objects.select_for_update().get_or_create(
        crisis=crisis, crossing=crossing, day=day
    )
    legs = [
        leg
        for leg in Leg.objects.filter(crisis=crisis, destination=crossing).exclude(
            status=LegStatus.CANCELLED
        )
        if leg.day_at_destination == day
    ]
    people = set(
        Booking.objects.filter(leg__in=legs, status__in=HOLDS_SEAT).values_list(
            "person_id", flat=True
        )
    )
    known = set(permit_list.entries.values_list("person_id", flat=True))
    new = sorted(people - known)
    PermitEntry.objects.bulk_create(
        [PermitEntry(permit_list=permit_list, person_id=pk) for pk in new]
    )
    if new and permit_list.status != PermitList.Status.DRAFT:
        # People added after the list went to the entry state: it must be sent again.
        permit_list.status = PermitList.Status.DRAFT
        permit_list.save(update_fields=["status"])
    audit_write(
        actor=actor,
        verb="permit_list_build",
        obj=permit_list,
        crisis=crisis,
        changes={"added": new},
    )
    return permit_list


@transaction.atomic
def permit_list_submit(
    *, actor: User | None, permit_list: PermitList, reference: str = ""
) -> PermitList:
    permit_list = PermitList.objects.select_for_update().get(pk=permit_list.pk)
    if not permit_list.entries.exists():
        raise Conflict(_("The list is empty: nobody is booked to this crossing on that day."))
    permit_list.status = PermitList.Status.SUBMITTED
    permit_list.submitted_at = timezone.now()
    permit_list.submitted_by = actor
    permit_list.reference = reference.strip()[:200] or permit_list.reference
    permit_list.save()
    audit_write(
        actor=actor,
        verb="permit_list_submit",
        obj=permit_list,
        crisis=permit_list.crisis,
        changes={"reference": permit_list.reference},
    )
    return permit_list


@transaction.atomic
def permit_answer(
    *, actor: User | None, permit_list: PermitList, answers: dict[int, str], note: str = ""
) -> int:
    """Record the entry state's answer per person (entry id → approved/refused/pending)."""
    bad = [v for v in answers.values() if v not in PermitDecision.values]
    if bad:
        raise ApplicationError(_("Unknown decision."), {"decision": bad})
    permit_list = PermitList.objects.select_for_update().get(pk=permit_list.pk)
    entries = {e.pk: e for e in permit_list.entries.filter(pk__in=answers)}
    unknown = sorted(set(answers) - set(entries))
    if unknown:
        raise ApplicationError(_("Not on this list."), {"entries": unknown})
    now = timezone.now()
    changed: dict[str, list[str]] = {}
    for pk, decision in answers.items():
        entry = entries[pk]
        if entry.decision == decision:
            continue
        changed[str(entry.person_id)] = [entry.decision, decision]
        entry.decision = decision
        entry.decided_at = now if decision != PermitDecision.PENDING else None
        entry.note = note.strip()[:300] or entry.note
        entry.save(update_fields=["decision", "decided_at", "note"])
    if not permit_list.entries.filter(decision=PermitDecision.PENDING).exists():
        permit_list.status = PermitList.Status.ANSWERED
        permit_list.save(update_fields=["status"])
    elif permit_list.status == PermitList.Status.ANSWERED:
        # An answer taken back (pending again): the list waits for the state once more.
        permit_list.status = PermitList.Status.SUBMITTED
        permit_list.save(update_fields=["status"])
    if changed:
        audit_write(
            actor=actor,
            verb="permit_answer",
            obj=permit_list,
            crisis=permit_list.crisis,
            changes=changed,
        )
    return len(changed)


@transaction.atomic
def transport_policy_set(
    *,
    actor: User | None,
    crisis: Crisis,
    cost_recovery: bool,
    amount_rule: str = "fare",
    fixed_amount: Any = None,
    currency: str = "KZT",
    flights_only: bool = True,
) -> TransportPolicy:
    problems: dict[str, list[str]] = {}
    if amount_rule not in ("fare", "fixed"):
        problems["amount_rule"] = [_("One of: fare, fixed.")]
    amount = _decimal(fixed_amount, "fixed_amount", problems)
    if cost_recovery and amount_rule == "fixed" and amount is None:
        problems.setdefault("fixed_amount", []).append(_("Required."))
    currency = (currency or "").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        problems["currency"] = [_("A three-letter currency code (ISO 4217).")]
    if problems:
        first = next(iter(problems))
        raise ApplicationError(
            _("The policy was not saved: %(field)s: %(problem)s")
            % {"field": first, "problem": problems[first][0]},
            {"errors": problems},
        )
    policy, _created = TransportPolicy.objects.select_for_update().get_or_create(crisis=crisis)
    fields = ["cost_recovery", "amount_rule", "fixed_amount", "currency", "flights_only"]
    before = snapshot(policy, fields)
    policy.cost_recovery = cost_recovery
    policy.amount_rule = amount_rule
    policy.fixed_amount = amount
    policy.currency = currency
    policy.flights_only = flights_only
    policy.save()
    audit_write(
        actor=actor,
        verb="transport_policy_set",
        obj=policy,
        crisis=crisis,
        changes=diff(before, snapshot(policy, fields)),
    )
    return policy


def _seats_at_the_same_time(leg: Leg, person_ids: list[int]) -> dict[int, Booking]:
    """People who hold a seat on another leg that keeps them at the same time as this one
    (one person, one seat at a time: the rule merges follow too); a connection — one leg
    arriving as the other departs — is no clash. One query."""
    start, end = _leg_times(leg)
    found: dict[int, Booking] = {}
    for other in (
        Booking.objects.filter(person_id__in=person_ids, status__in=HOLDS_SEAT)
        .exclude(leg=leg)
        .select_related("leg__origin", "leg__destination")
        .order_by("leg__departure_planned", "pk")
    ):
        o_start, o_end = _leg_times(other.leg)
        apart = o_start != start and (o_end <= start or end <= o_start)
        if not apart:
            found.setdefault(other.person_id, other)
    return found


def _leg_times(leg: Leg) -> tuple[datetime, datetime]:
    """When a leg keeps its passengers: from its departure to its arrival (the departure
    alone when no arrival is known), the actual times where they were recorded."""
    start = leg.departure_actual or leg.departure_planned
    end = leg.arrival_actual or leg.arrival_planned or start
    return start, max(start, end)


def bookings_merge_conflicts(
    *, survivor: Person, absorbed: Person, **_kwargs: Any
) -> list[MergeConflict]:
    """Before two records of one person are merged: the bookings, one of each record, that
    hold a seat on the same leg or on legs at the same time. One person holds one seat at a
    time, so such a merge waits until an officer has released the seat that is not wanted
    (and so sees whom it may leave behind)."""
    bookings = list(
        Booking.objects.filter(person__in=[survivor.pk, absorbed.pk], status__in=HOLDS_SEAT)
        .select_related("leg__origin", "leg__destination")
        .order_by("leg__departure_planned", "pk")
    )
    kept = [b for b in bookings if b.person_id == survivor.pk]
    merged = [b for b in bookings if b.person_id == absorbed.pk]
    out = []
    for a in kept:
        for b in merged:
            (a_from, a_to), (b_from, b_to) = _leg_times(a.leg), _leg_times(b.leg)
            # A connection (one arrives as the other departs) is no conflict.
            apart = a_from != b_from and (a_to <= b_from or b_to <= a_from)
            if a.leg_id != b.leg_id and apart:
                continue
            words = {
                "kept_booking": a.pk,
                "kept_leg": str(a.leg),
                "kept": survivor.reference_code_display,
                "merged_booking": b.pk,
                "merged_leg": str(b.leg),
                "merged": absorbed.reference_code_display,
            }
            if a.leg_id == b.leg_id:
                text = (
                    _(
                        "two seats on %(kept_leg)s: booking %(kept_booking)s (%(kept)s) and "
                        "booking %(merged_booking)s (%(merged)s)"
                    )
                    % words
                )
            else:
                text = (
                    _(
                        "seats on two legs at the same time: booking %(kept_booking)s on "
                        "%(kept_leg)s (%(kept)s) and booking %(merged_booking)s on %(merged_leg)s "
                        "(%(merged)s)"
                    )
                    % words
                )
            out.append(
                MergeConflict(
                    "bookings",
                    text,
                    {
                        "survivor_booking": a.pk,
                        "absorbed_booking": b.pk,
                        "survivor_leg": a.leg_id,
                        "absorbed_leg": b.leg_id,
                    },
                )
            )
    return out


def bookings_after_merge(
    *, merge: Any, households: dict[str, Any] | None = None, **_kwargs: Any
) -> dict[str, dict[str, list[int | None]]]:
    """Two records of one person, merged: the person's bookings made with a household the
    person left now name the household the person is in (the merge refused to leave anyone
    behind on a seat: `aman.dedup.merging.household_conflicts`). Returns what changed, for
    the undo."""
    if not households or not households.get("left"):
        return {}
    rows = Booking.objects.filter(person_id=merge.survivor_id, household_id__in=households["left"])
    changed = {
        str(pk): [household, households["to"]]
        for pk, household in rows.values_list("pk", "household_id")
    }
    rows.update(household_id=households["to"])
    return {"transport.booking": changed} if changed else {}


def bookings_move_conflicts(*, people: list[Person], **_kwargs: Any) -> list[str]:
    """Before people move to another household: the seats they hold, each booked with the
    household they would leave (travelling together is booked together; an officer
    releases the seat, or splits the booking explicitly, first)."""
    bookings = (
        Booking.objects.filter(person__in=[p.pk for p in people], status__in=HOLDS_SEAT)
        .select_related("leg__origin", "leg__destination", "person")
        .order_by("person", "leg__departure_planned", "pk")
    )
    return [
        _("%(person)s holds a seat on %(leg)s (booking %(booking)s)")
        % {"person": b.person.reference_code_display, "leg": str(b.leg), "booking": b.pk}
        for b in bookings
    ]
