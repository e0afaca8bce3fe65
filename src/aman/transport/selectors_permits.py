"""Reads of transit permits and of the crisis's transport policy, for the permit pages, their
exports and the API: which crossings want lists, who is booked to reach them on which day,
each list's people with their travel document and the bookings a refusal blocks."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from aman.core.access import require
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.geo.models import Country, Place
from aman.registry.models import Document, Person
from aman.transport.models import (
    HOLDS_SEAT,
    Booking,
    Leg,
    LegStatus,
    PermitDecision,
    PermitEntry,
    PermitList,
    TransportPolicy,
)
from aman.transport.selectors import require_transport

# The order in which a person's documents are offered to the entry state.
DOCUMENT_ORDER: list[str] = [
    Document.Kind.PASSPORT,
    Document.Kind.RETURN_CERTIFICATE,
    Document.Kind.ID_CARD,
    Document.Kind.OTHER,
]


def require_permits(user: User) -> None:
    """Transit permit lists carry names, birth dates and documents: transport and personal
    data are both needed."""
    require_transport(user)
    require(user, Cap.PERSONAL_DATA)


def mask(number: str) -> str:
    """A document number as the pages show it: the last three characters only."""
    number = (number or "").strip()
    return f"…{number[-3:]}" if number else ""


def leg_day(leg: Leg) -> date:
    """The day a leg reaches its destination (local time), as the permit services count it."""
    return leg.day_at_destination


def permit_crossings(crisis: Crisis) -> QuerySet[Place]:
    """Crossings whose entry state wants a list, and every crossing the crisis has a list for."""
    listed = PermitList.objects.filter(crisis=crisis).values("crossing_id")
    return (
        Place.objects.filter(kind=Place.Kind.CROSSING)
        .filter(Q(transit_permit=Place.Permit.YES) | Q(pk__in=listed))
        .select_related("country", "entry_country")
        .order_by("name")
    )


def crossing_choices() -> list[Place]:
    """Every crossing, those whose entry state wants permits first (for the build form)."""
    crossings = Place.objects.filter(kind=Place.Kind.CROSSING).select_related("entry_country")
    return sorted(crossings, key=lambda p: (p.transit_permit != Place.Permit.YES, p.name))


def _legs_to(crisis: Crisis, crossing_ids: list[int]) -> list[Leg]:
    return list(
        Leg.objects.filter(crisis=crisis, destination_id__in=crossing_ids).exclude(
            status=LegStatus.CANCELLED
        )
    )


def booked_people(crisis: Crisis, crossing: Place, day: date) -> dict[int, list[Booking]]:
    """Person id → their bookings holding a seat on the crisis's legs reaching the crossing
    on the day (the people a list for that crossing and day should hold)."""
    legs = [leg.pk for leg in _legs_to(crisis, [crossing.pk]) if leg_day(leg) == day]
    found: dict[int, list[Booking]] = defaultdict(list)
    for booking in (
        Booking.objects.filter(leg_id__in=legs, status__in=HOLDS_SEAT)
        .select_related("leg", "leg__origin", "leg__destination")
        .order_by("leg__departure_planned", "id")
    ):
        found[booking.person_id].append(booking)
    return dict(found)


@dataclass
class OverviewRow:
    crossing: Place
    day: date
    legs: int = 0
    booked: int = 0
    permit_list: PermitList | None = None
    listed: int = 0
    approved: int = 0
    refused: int = 0
    pending: int = 0
    not_listed: int = 0  # booked but not on the list yet: refresh the list

    @property
    def past(self) -> bool:
        return self.day < timezone.localdate()


@dataclass
class Overview:
    rows: list[OverviewRow] = field(default_factory=list)
    # Crossings that want permits but that no leg of the crisis reaches yet.
    idle: list[Place] = field(default_factory=list)


def permit_overview(*, user: User, crisis: Crisis) -> Overview:
    """Per crossing (that wants permits, or has a list) and day with legs arriving there:
    how many are booked, how many on the list, and the answers so far."""
    require_permits(user)
    crossings = {p.pk: p for p in permit_crossings(crisis)}
    rows: dict[tuple[int, date], OverviewRow] = {}

    def row(crossing_id: int, day: date) -> OverviewRow:
        key = (crossing_id, day)
        if key not in rows:
            rows[key] = OverviewRow(crossing=crossings[crossing_id], day=day)
        return rows[key]

    legs = _legs_to(crisis, list(crossings))
    leg_keys = {leg.pk: (leg.destination_id, leg_day(leg)) for leg in legs}
    for leg in legs:
        row(*leg_keys[leg.pk]).legs += 1
    booked: dict[tuple[int, date], set[int]] = defaultdict(set)
    for leg_id, person_id in Booking.objects.filter(
        leg_id__in=list(leg_keys), status__in=HOLDS_SEAT
    ).values_list("leg_id", "person_id"):
        booked[leg_keys[leg_id]].add(person_id)
    for key, people in booked.items():
        row(*key).booked = len(people)
    lists = PermitList.objects.filter(crisis=crisis, crossing_id__in=list(crossings)).annotate(
        n=Count("entries"),
        n_approved=Count("entries", filter=Q(entries__decision=PermitDecision.APPROVED)),
        n_refused=Count("entries", filter=Q(entries__decision=PermitDecision.REFUSED)),
        n_pending=Count("entries", filter=Q(entries__decision=PermitDecision.PENDING)),
    )
    listed_people: dict[int, set[int]] = defaultdict(set)
    for list_id, person_id in PermitEntry.objects.filter(
        permit_list__in=[pl.pk for pl in lists]
    ).values_list("permit_list_id", "person_id"):
        listed_people[list_id].add(person_id)
    for pl in lists:
        r = row(pl.crossing_id, pl.day)
        r.permit_list = pl
        r.listed = pl.n
        r.approved = pl.n_approved
        r.refused = pl.n_refused
        r.pending = pl.n_pending
    for key, r in rows.items():
        listed = listed_people.get(r.permit_list.pk, set()) if r.permit_list else set()
        r.not_listed = len(booked.get(key, set()) - listed)
    used = {crossing_id for crossing_id, _day in rows}
    return Overview(
        rows=sorted(rows.values(), key=lambda r: (r.day, r.crossing.name)),
        idle=[p for pk, p in crossings.items() if pk not in used],
    )


def permit_lists_for_user(*, user: User, crisis: Crisis) -> QuerySet[PermitList]:
    require_permits(user)
    return (
        PermitList.objects.filter(crisis=crisis)
        .select_related(
            "crisis", "crossing", "crossing__country", "crossing__entry_country", "submitted_by"
        )
        .annotate(
            n=Count("entries"),
            n_approved=Count("entries", filter=Q(entries__decision=PermitDecision.APPROVED)),
            n_refused=Count("entries", filter=Q(entries__decision=PermitDecision.REFUSED)),
            n_pending=Count("entries", filter=Q(entries__decision=PermitDecision.PENDING)),
        )
        .order_by("-day", "crossing__name", "id")
    )


def permit_list_for_user(*, user: User, crisis: Crisis | None, pk: int) -> PermitList:
    """A list of the user's crisis (another crisis's list, or none chosen: 404)."""
    require_permits(user)
    if crisis is None:
        raise Http404
    found = permit_lists_for_user(user=user, crisis=crisis).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def travel_document(person: Person) -> Document | None:
    """The document the entry state is given: a passport (the latest expiry first), else a
    certificate of return, an identity card, anything."""
    docs = list(person.documents.all())
    if not docs:
        return None

    def key(d: Document) -> tuple[int, int]:
        kind = DOCUMENT_ORDER.index(d.kind) if d.kind in DOCUMENT_ORDER else len(DOCUMENT_ORDER)
        expiry = d.expiry_date.toordinal() if d.expiry_date else 0
        return kind, -expiry

    return sorted(docs, key=key)[0]


@dataclass
class EntryRow:
    entry: PermitEntry
    person: Person
    document: Document | None
    bookings: list[Booking]

    @property
    def document_masked(self) -> str:
        return mask(self.document.number) if self.document else ""

    @property
    def surname_latin(self) -> str:
        return (self.document and self.document.surname_latin) or self.person.surname_latin

    @property
    def given_names_latin(self) -> str:
        return (self.document and self.document.given_names_latin) or self.person.given_names_latin

    @property
    def refused(self) -> bool:
        return self.entry.decision == PermitDecision.REFUSED


def permit_entries(permit_list: PermitList) -> list[EntryRow]:
    """The list's people in order, each with the travel document and the bookings (holding a
    seat) on the legs that reach the crossing on the list's day."""
    entries = list(
        permit_list.entries.select_related("person").prefetch_related("person__documents")
    )
    booked = booked_people(permit_list.crisis, permit_list.crossing, permit_list.day)
    return [
        EntryRow(
            entry=e,
            person=e.person,
            document=travel_document(e.person),
            bookings=booked.get(e.person_id, []),
        )
        for e in entries
    ]


def alpha3(codes: set[str]) -> dict[str, str]:
    """ISO alpha-2 nationality codes → the passport's alpha-3 (KZ → KAZ)."""
    return dict(Country.objects.filter(code__in=codes).values_list("code", "code3"))


EXPORT_COLUMNS = [
    "no",
    "surname",
    "given_names",
    "birth_date",
    "sex",
    "nationality",
    "document_kind",
    "document_number",
    "issuing_state",
    "document_expiry",
    "reference_code",
    "decision",
]


def permit_export_rows(permit_list: PermitList) -> list[list[Any]]:
    """The list as sent to the entry state: names as in the passport, birth date, sex,
    nationality (alpha-3), the document's full number and expiry; one row per person."""
    rows: list[list[Any]] = []
    entries = permit_entries(permit_list)
    codes = alpha3({c for r in entries for c in (r.person.nationalities or [])})
    for n, r in enumerate(entries, start=1):
        doc = r.document
        rows.append(
            [
                n,
                r.surname_latin,
                r.given_names_latin,
                r.person.birth_date.isoformat() if r.person.birth_date else "",
                r.person.sex,
                " ".join(codes.get(c, c) for c in (r.person.nationalities or [])),
                doc.kind if doc else "",
                doc.number if doc else "",
                doc.issuing_state if doc else "",
                doc.expiry_date.isoformat() if doc and doc.expiry_date else "",
                r.person.reference_code,
                r.entry.decision,
            ]
        )
    return rows


def transport_policy(crisis: Crisis) -> TransportPolicy:
    """The crisis's policy, or the default (no cost recovery) when none was saved."""
    return TransportPolicy.objects.filter(crisis=crisis).first() or TransportPolicy(crisis=crisis)
