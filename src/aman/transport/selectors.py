"""Reads of transport, through the one door: `legs_for_user` and `bookings_for_user`."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import BigIntegerField, Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from aman.core.access import crises_for_user, require
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.registry.models import Person
from aman.registry.selectors import people_for_user
from aman.registry.services import normalize_reference_code
from aman.registry.statuses import Status
from aman.transport.models import (
    HOLDS_SEAT,
    Booking,
    BookingEvent,
    BookingStatus,
    Leg,
    LegStatus,
    PassPrint,
)
from aman.transport.times import implausible


def require_transport(user: User, *, boarding: bool = False) -> None:
    """Logistics (legs, bookings, manifests) — or, with `boarding`, the gate's duty."""
    if not user.is_authenticated:
        raise PermissionDenied
    if user.has_cap(Cap.TRANSPORT) or (boarding and user.has_cap(Cap.BOARDING)):
        return
    raise PermissionDenied


def legs_for_user(*, user: User, crisis: Crisis, boarding: bool = False) -> QuerySet[Leg]:
    require_transport(user, boarding=boarding)
    return Leg.objects.filter(crisis=crisis).select_related(
        "origin", "destination", "origin__country", "destination__country"
    )


def leg_for_user(*, user: User, crisis: Crisis, pk: int, boarding: bool = False) -> Leg:
    try:
        return legs_for_user(user=user, crisis=crisis, boarding=boarding).get(pk=pk)
    except Leg.DoesNotExist:
        raise Http404 from None


def current_leg_for_user(*, user: User, pk: int, boarding: bool = False) -> Leg:
    """A leg of the crisis the user works in (as `access.current_crisis` finds it: one they
    may still see), that crisis read with it: one query, for the gate's every request."""
    require_transport(user, boarding=boarding)
    if user.current_crisis_id is None:
        raise Http404
    current = crises_for_user(user).filter(pk=user.current_crisis_id).values("pk")
    try:
        # The places for the leg's name, clocks and permits; the gate needs no countries.
        return Leg.objects.select_related("crisis", "origin", "destination").get(
            pk=pk, crisis__in=current
        )
    except Leg.DoesNotExist:
        raise Http404 from None


def legs_filtered(
    *, user: User, crisis: Crisis, filters: dict[str, object], boarding: bool = False
) -> QuerySet[Leg]:
    qs = legs_for_user(user=user, crisis=crisis, boarding=boarding)
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("mode"):
        qs = qs.filter(mode=filters["mode"])
    day = filters.get("day")
    if isinstance(day, str):
        try:
            day = parse_date(day)
        except ValueError:
            day = None
    if day:
        assert isinstance(day, date)
        refused = implausible(day)
        if refused:
            raise ApplicationError(
                _("Departure day: %(problem)s") % {"problem": refused},
                {"errors": {"day": [refused]}},
            )
        qs = qs.filter(_departing_on(qs, day))
    if filters.get("place"):
        qs = qs.filter(Q(origin_id=filters["place"]) | Q(destination_id=filters["place"]))
    return qs.annotate(
        boarded=Count("bookings", filter=Q(bookings__status=BookingStatus.BOARDED)),
        checked_in=Count("bookings", filter=Q(bookings__status=BookingStatus.CHECKED_IN)),
    ).order_by("departure_planned", "id")


def _departing_on(qs: QuerySet[Leg], day: date) -> Q:
    """Legs departing on `day` on the clock of their place of departure (as the list shows
    their times), whatever the server's: a window of that day per time zone of the origins
    (one query for the zones)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    match = Q(pk__in=[])
    for name in set(qs.order_by().values_list("origin__timezone", flat=True).distinct()):
        try:
            zone = ZoneInfo(name) if name else timezone.get_default_timezone()
        except (ZoneInfoNotFoundError, ValueError):
            zone = timezone.get_default_timezone()
        start = datetime.combine(day, time.min, tzinfo=zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
        match |= Q(
            origin__timezone=name or "", departure_planned__gte=start, departure_planned__lt=end
        )
    return match


def bookings_for_user(*, user: User, leg: Leg, boarding: bool = False) -> QuerySet[Booking]:
    """A leg's bookings (people's names and documents): personal data."""
    require(user, Cap.PERSONAL_DATA)
    require_transport(user, boarding=boarding)
    return Booking.objects.filter(leg=leg).select_related("person", "person__country", "household")


def booking_events() -> Prefetch[str]:
    """A booking's history with who did each step, oldest first: to prefetch with bookings
    (`prefetch_related(booking_events())`), one query for any number of them."""
    return Prefetch(
        "events", queryset=BookingEvent.objects.select_related("actor").order_by("at", "id")
    )


def booking_for_user(*, user: User, crisis: Crisis, pk: int, boarding: bool = False) -> Booking:
    require(user, Cap.PERSONAL_DATA)
    require_transport(user, boarding=boarding)
    try:
        return Booking.objects.select_related(
            "leg", "person", "leg__origin", "leg__destination"
        ).get(pk=pk, crisis=crisis)
    except Booking.DoesNotExist:
        raise Http404 from None


def pass_print_for_user(*, user: User, leg: Leg, pk: int) -> PassPrint:
    """A print of the leg's boarding passes (names inside: personal data), without its file."""
    require(user, Cap.PERSONAL_DATA)
    require_transport(user)
    try:
        return (
            PassPrint.objects.defer("content")
            .select_related("requested_by", "leg__crisis")
            .get(pk=pk, leg=leg)
        )
    except PassPrint.DoesNotExist:
        raise Http404 from None


def people_by_reference(
    *, user: User, crisis: Crisis, codes: list[str]
) -> tuple[list[Person], list[str]]:
    """The people the user may see named by reference codes (as typed: any case, with or
    without the dash), and the codes that name nobody."""
    wanted = [normalize_reference_code(c) for c in codes]
    people = list(people_for_user(user=user, crisis=crisis).filter(reference_code__in=wanted))
    missing = sorted(set(wanted) - {p.reference_code for p in people})
    return people, missing


def waiting_households(*, user: User, crisis: Crisis, leg: Leg, limit: int = 20) -> list[dict]:
    """The next households in priority who want to leave from where the leg departs and hold
    no seat on any leg yet: who a freed seat should go to.

    Where a person is: the country at the end of the last leg they arrived by (a transit hub
    outside the affected countries, reached by bus: they are safe there and wait for the
    flight on), else the country they registered in. The people who were no-shows on this
    very leg are not offered its seats again."""
    require(user, Cap.PERSONAL_DATA)
    require_transport(user)
    # A seat on a leg that has arrived is behind them: it is where they are now.
    booked = (
        Booking.objects.filter(crisis=crisis, status__in=HOLDS_SEAT)
        .exclude(leg__status=LegStatus.ARRIVED)
        .values("person_id")
    )
    missed = Booking.objects.filter(leg=leg, status=BookingStatus.NO_SHOW).values("person_id")
    last_arrival = (
        Booking.objects.filter(
            person=OuterRef("pk"), status=BookingStatus.BOARDED, leg__status=LegStatus.ARRIVED
        )
        .annotate(
            at=Coalesce("leg__arrival_actual", "leg__arrival_planned", "leg__departure_planned")
        )
        .order_by("-at", "-pk")
        .values("leg__destination__country")[:1]
    )
    people = (
        Person.objects.filter(
            crisis=crisis,
            intent="leave",
            status__in=(
                Status.REGISTERED,
                Status.VERIFIED,
                Status.ACCOMMODATED,
                Status.CROSSED_BORDER,
            ),
        )
        .exclude(pk__in=booked)
        .exclude(pk__in=missed)
        .annotate(
            now_in=Coalesce(Subquery(last_arrival), "country", output_field=BigIntegerField())
        )
        .filter(now_in=leg.origin.country_id)
        # Out of the affected country: never offered a seat back from inside one.
        .exclude(
            status=Status.CROSSED_BORDER,
            now_in__in=crisis.affected_countries.values("pk"),
        )
        .order_by("-priority", "created_at", "id")
        .values("id", "household_id", "priority", "reference_code", "surname", "given_names")
    )
    groups: dict[object, dict] = {}
    for row in people[: limit * 8]:
        key = row["household_id"] or f"p{row['id']}"
        group = groups.setdefault(
            key,
            {"household_id": row["household_id"], "priority": row["priority"], "people": []},
        )
        group["people"].append(row)
        if len(groups) > limit:
            break
    return sorted(groups.values(), key=lambda g: -g["priority"])[:limit]
