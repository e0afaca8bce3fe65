"""Hotels, room blocks, stays, assignment, occupancy: the logistics officer's pages."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.ids import is_id
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.geo.models import Country, Place
from aman.registry.models import Household, Person
from aman.registry.services import normalize_reference_code
from aman.shelter import daily_lists, dates, selectors, services
from aman.shelter.daily_lists import hotel_today, name_guests, passport_name
from aman.shelter.forms import (
    BlockForm,
    HotelForm,
    ManualHouseForm,
    RoomsForm,
    TourOperatorForm,
    split_codes,
)
from aman.shelter.models import (
    HOLDS_ROOM,
    STAY_TRANSITIONS,
    Hotel,
    RoomBlock,
    Stay,
    StayStatus,
    TourOperator,
)
from aman.transport.forms import service_errors


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _current(request: HttpRequest) -> tuple[User, Crisis]:
    """The user, who must work in shelter, and their current crisis."""
    user = _user(request)
    selectors.require_shelter(user)
    crisis = access.current_crisis(user)
    if crisis is None:
        raise Http404
    return user, crisis


def _date_param(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return parse_date(value.strip())
    except ValueError:
        return None


def _countries_for(crisis: Crisis) -> list[Country]:
    return list(Country.objects.in_local_order())


def _cities_for(crisis: Crisis) -> list[Place]:
    """Cities offered in the hotel form: those of the affected countries, of home, of the
    neighbours over the border crossings, and of the countries hotels are already in."""
    countries = set(crisis.affected_countries.values_list("pk", flat=True))
    countries.add(crisis.home_country_id)
    countries |= set(
        Place.objects.filter(kind=Place.Kind.CROSSING, country__in=list(countries))
        .exclude(entry_country=None)
        .values_list("entry_country", flat=True)
    )
    countries |= set(
        Hotel.objects.filter(crisis=crisis).values_list("place__country_id", flat=True)
    )
    return list(
        Place.objects.filter(kind=Place.Kind.CITY, country__in=countries)
        .select_related("country")
        .order_by("country__code", "name")[:3000]
    )


# Hotels ---------------------------------------------------------------------------------------


@login_required
def hotel_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    selectors.require_shelter(user)
    crisis = access.current_crisis(user)
    rows: list[tuple[Hotel, selectors.NightCount]] = []
    totals = selectors.NightCount(night=timezone.localdate())
    if crisis is not None:
        hotels = list(selectors.hotels_for_user(user=user, crisis=crisis))
        by_day: dict[date, list[Hotel]] = defaultdict(list)
        for hotel in hotels:
            by_day[hotel_today(hotel)].append(hotel)
        tonight: dict[int, selectors.NightCount] = {}
        for day, group in by_day.items():
            for occ in selectors.occupancy(group, day, 1):
                tonight[occ.hotel.pk] = occ.nights[0]
        for hotel in hotels:
            night = tonight[hotel.pk]
            rows.append((hotel, night))
            totals.rooms += night.rooms
            totals.rooms_taken += night.rooms_taken
            totals.beds += night.beds
            totals.beds_free += night.beds_free
    return TemplateResponse(
        request, "shelter/hotel_list.html", {"crisis": crisis, "rows": rows, "totals": totals}
    )


def _hotel_form_page(
    request: HttpRequest, crisis: Crisis, form: HotelForm, hotel: Hotel | None
) -> HttpResponse:
    return TemplateResponse(
        request,
        "shelter/hotel_form.html",
        {
            "form": form,
            "hotel": hotel,
            "crisis": crisis,
            "countries": _countries_for(crisis),
            "cities": _cities_for(crisis),
        },
    )


@login_required
def hotel_create(request: HttpRequest) -> HttpResponse:
    user, crisis = _current(request)
    form = HotelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            hotel = services.hotel_create(actor=user, crisis=crisis, data=dict(form.cleaned_data))
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Hotel created. Now add the rooms contracted."))
            return redirect("hotel_detail", hotel.pk)
    return _hotel_form_page(request, crisis, form, None)


@login_required
def hotel_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    hotel = selectors.hotel_for_user(user=user, crisis=crisis, pk=pk)
    form = HotelForm(request.POST or None, initial=HotelForm.initial_for(hotel))
    if request.method == "POST" and form.is_valid():
        changed = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        try:
            services.hotel_update(actor=user, hotel=hotel, data=changed)
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Hotel saved."))
            return redirect("hotel_detail", hotel.pk)
    return _hotel_form_page(request, crisis, form, hotel)


@login_required
def hotel_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    hotel = selectors.hotel_for_user(user=user, crisis=crisis, pk=pk)
    today = hotel_today(hotel)
    blocks = list(hotel.blocks.select_related("tour_operator").order_by("first_night", "id"))
    uses = selectors.block_use(blocks, night=today)
    (occupancy,) = selectors.occupancy([hotel], today, 14)
    guests_now = (
        selectors.stays_for_user(user=user, crisis=crisis)
        .filter(block__hotel=hotel, status__in=HOLDS_ROOM, last_night__gte=today)
        .select_related("block")
        .prefetch_related("guests")
        .order_by("first_night", "block", "room", "id")
    )
    # One hotel's stays are few enough to count exactly: every page is reachable.
    page = Paginator(guests_now, STAYS_PER_PAGE).get_page(request.GET.get("page"))
    stays = list(page.object_list)
    name_guests(stays)
    page.object_list = stays
    audit_read(
        actor=user,
        verb="hotel_detail",
        obj=hotel,
        crisis=crisis,
        details={"stays_shown": len(stays), "page": page.number},
    )
    return TemplateResponse(
        request,
        "shelter/hotel_detail.html",
        {
            "crisis": crisis,
            "hotel": hotel,
            "today": today,
            "uses": uses,
            "occupancy": occupancy,
            "stays": stays,
            "page": page,
            "query": "",
        },
    )


# Room blocks ----------------------------------------------------------------------------------

# Guests now and coming on a hotel's page, a page at a time.
STAYS_PER_PAGE = 100


@login_required
def block_create(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    hotel = selectors.hotel_for_user(user=user, crisis=crisis, pk=pk)
    today = hotel_today(hotel)
    last = hotel.blocks.order_by("-id").first()
    initial = {
        "first_night": today.isoformat(),
        "last_night": (today + timedelta(days=6)).isoformat(),
        "currency": last.currency if last else "",
        "payer": last.payer if last else "state",
        "room_type": "double",
    }
    form = BlockForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.block_create(actor=user, hotel=hotel, data=dict(form.cleaned_data))
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Rooms added."))
            return redirect("hotel_detail", hotel.pk)
    return TemplateResponse(
        request,
        "shelter/block_form.html",
        {"form": form, "hotel": hotel, "block": None, "crisis": crisis},
    )


@login_required
def block_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    block = selectors.block_for_user(user=user, crisis=crisis, pk=pk)
    form = BlockForm(request.POST or None, initial=BlockForm.initial_for(block), change=True)
    held: list[Stay] = []
    if request.method == "POST" and form.is_valid():
        changed = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        if changed.get("rooms_from"):
            # A night to change the rooms from: the number of rooms goes with it, changed
            # or not (the nights from then on may have another number now).
            changed["rooms"] = form.cleaned_data["rooms"]
        try:
            block = services.block_update(actor=user, block=block, data=changed)
        except ApplicationError as exc:
            service_errors(form, exc)
            # The stays that keep the block from shrinking, linked to their pages (to move).
            ids = [h["stay"] for h in exc.extra.get("held", [])]
            held = list(
                selectors.stays_for_user(user=user, crisis=crisis)
                .filter(pk__in=ids)
                .order_by("room", "pk")
            )
        else:
            messages.success(request, _("Room block saved."))
            (use,) = selectors.block_use([block])
            if ("rate" in changed or "currency" in changed) and use.other_price:
                messages.info(
                    request,
                    ngettext(
                        "%(n)d room-night booked already keeps the price it was booked at; "
                        "%(rate)s %(currency)s prices the nights booked from now on.",
                        "%(n)d room-nights booked already keep the price they were booked at; "
                        "%(rate)s %(currency)s prices the nights booked from now on.",
                        use.other_price,
                    )
                    % {"n": use.other_price, "rate": block.rate, "currency": block.currency},
                )
            return redirect("hotel_detail", block.hotel_id)
    (use,) = selectors.block_use([block], night=hotel_today(block.hotel))
    return TemplateResponse(
        request,
        "shelter/block_form.html",
        {
            "form": form,
            "hotel": block.hotel,
            "block": block,
            "crisis": crisis,
            "held": held,
            "use": use,
            "changes": block.rooms_history.select_related("recorded_by").order_by("id"),
        },
    )


# Tour operators -------------------------------------------------------------------------------


@login_required
def tour_operator_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    selectors.require_shelter(user)
    form = TourOperatorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            operator = services.tour_operator_create(actor=user, data=dict(form.cleaned_data))
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Tour operator %(name)s added.") % {"name": operator.name})
            return redirect("tour_operator_list")
    operators = TourOperator.objects.select_related("import_source").annotate(
        hotel_count=Count("hotels", distinct=True)
    )
    return TemplateResponse(
        request,
        "shelter/tour_operator_list.html",
        {"form": form, "operators": operators, "crisis": access.current_crisis(user)},
    )


@login_required
def tour_operator_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    operator = selectors.tour_operator_for_user(user=user, pk=pk)
    form = TourOperatorForm(
        request.POST or None, initial=TourOperatorForm.initial_for(operator), operator=operator
    )
    if request.method == "POST" and form.is_valid():
        changed = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        try:
            services.tour_operator_update(actor=user, operator=operator, data=changed)
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Tour operator saved."))
            return redirect("tour_operator_list")
    return TemplateResponse(
        request,
        "shelter/tour_operator_form.html",
        {"form": form, "operator": operator, "crisis": access.current_crisis(user)},
    )


# Occupancy ------------------------------------------------------------------------------------


@login_required
def occupancy(request: HttpRequest) -> HttpResponse:
    """Every hotel night by night. "Today" is each hotel's own (its clock, as on its page,
    its daily list and in the API); the page starts at the earliest of them, so that tonight
    is in view for every hotel, and marks each hotel's tonight on its row. A `from` out of
    the dates' window (or not a date) is said on the page and the default used."""
    user, crisis = _current(request)
    hotels = list(selectors.hotels_for_user(user=user, crisis=crisis))
    tonight = {hotel.pk: hotel_today(hotel) for hotel in hotels}
    today = min(tonight.values(), default=timezone.localdate())
    start, problem = dates.parse_day(request.GET.get("from"))
    first = start or today
    days = 14 if request.GET.get("days") == "14" else 7
    table = selectors.occupancy(hotels, first, days) if hotels else []
    nights = [first + timedelta(days=i) for i in range(days)]
    totals = [selectors.NightCount(night=n) for n in nights]
    for occ in table:
        for i, row in enumerate(occ.nights):
            t = totals[i]
            t.rooms += row.rooms
            t.rooms_taken += row.rooms_taken
            t.beds += row.beds
            t.beds_free += row.beds_free
            t.adults += row.adults
            t.children += row.children
            t.arrivals += row.arrivals
            t.departures += row.departures
    return TemplateResponse(
        request,
        "shelter/occupancy.html",
        {
            "crisis": crisis,
            "rows": [(occ, tonight[occ.hotel.pk]) for occ in table],
            "table": table,
            "nights": nights,
            "totals": totals,
            "first": first,
            "days": days,
            "previous": first - timedelta(days=days),
            "next": first + timedelta(days=days),
            "today": today,
            "problems": {"from": [problem]} if problem else {},
        },
    )


# The daily list of a hotel ----------------------------------------------------------------------


def _daily_args(request: HttpRequest, pk: int) -> tuple[User, Crisis, Hotel, date, str | None]:
    """The day asked for (default: today at the hotel), with why it was refused, if it was."""
    user, crisis = _current(request)
    hotel = selectors.hotel_for_user(user=user, crisis=crisis, pk=pk)
    day, problem = dates.parse_day(request.GET.get("day"))
    return user, crisis, hotel, day or hotel_today(hotel), problem


@login_required
def hotel_day(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis, hotel, day, problem = _daily_args(request, pk)
    daily = daily_lists.daily_list_read(user=user, crisis=crisis, hotel=hotel, day=day)
    return TemplateResponse(
        request,
        "shelter/hotel_day.html",
        {
            "crisis": crisis,
            "hotel": daily.hotel,
            "daily": daily,
            "day": daily.day,
            "previous": daily.day - timedelta(days=1),
            "next": daily.day + timedelta(days=1),
            "problem": problem,
            "sections": [
                ("arrivals", _("Arrivals"), daily.arrivals),
                ("in-house", _("In the hotel"), daily.in_house),
                ("departures", _("Departures (leave this morning)"), daily.departures),
            ],
        },
    )


@login_required
def hotel_day_csv(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis, hotel, day, problem = _daily_args(request, pk)
    if problem:
        # A file of another day than the one asked for would mislead: refused.
        return HttpResponseBadRequest(
            _("Day: %(problem)s") % {"problem": problem}, content_type="text/plain; charset=utf-8"
        )
    file = daily_lists.daily_list_export(user=user, crisis=crisis, hotel=hotel, day=day)
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response["Cache-Control"] = "no-store"  # names: not kept by browsers or proxies
    return response


# Stays ----------------------------------------------------------------------------------------


@login_required
def stay_list(request: HttpRequest) -> HttpResponse:
    user, crisis = _current(request)
    status = request.GET.get("status", "")
    hotel = request.GET.get("hotel", "")
    night_text = request.GET.get("night", "")
    night = _date_param(night_text)
    filters: dict[str, object] = {
        "status": status if status in StayStatus.values else "",
        "hotel": int(hotel) if is_id(hotel) else "",
        "night": night,
    }
    stays = selectors.stays_filtered(user=user, crisis=crisis, filters=filters).prefetch_related(
        "guests"
    )
    page = Paginator(stays, 50).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    name_guests(rows)
    page.object_list = rows
    audit_read(
        actor=user,
        verb="stay_list",
        object_type="shelter.stay",
        crisis=crisis,
        details={"results": page.paginator.count},
    )
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "shelter/stay_list.html",
        {
            "crisis": crisis,
            "page": page,
            "query": query.urlencode(),
            "filters": {"status": filters["status"], "hotel": hotel, "night": night_text},
            "statuses": StayStatus.choices,
            "hotels": selectors.hotels_for_user(user=user, crisis=crisis),
        },
    )


# The actions an officer takes on a stay from its page.
STAY_ACTIONS = {
    StayStatus.CHECKED_IN: gettext_lazy("Check in"),
    StayStatus.CHECKED_OUT: gettext_lazy("Check out"),
    StayStatus.NO_SHOW: gettext_lazy("No-show"),
    StayStatus.CANCELLED: gettext_lazy("Cancel"),
}


@login_required
def stay_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    stay = selectors.stay_for_user(user=user, crisis=crisis, pk=pk)
    guests = list(stay.guests.order_by("-priority", "birth_date", "id"))
    rows = [(g, passport_name(g), g.age_on(stay.first_night)) for g in guests]
    audit_read(actor=user, verb="stay_detail", obj=stay, crisis=crisis)
    others = (
        Stay.objects.filter(group=stay.group).exclude(pk=stay.pk).select_related("block")
        if stay.group
        else Stay.objects.none()
    )
    return TemplateResponse(
        request,
        "shelter/stay_detail.html",
        {
            "crisis": crisis,
            "stay": stay,
            "hotel": stay.block.hotel,
            "guests": rows,
            "events": stay.events.select_related("actor"),
            "actions": [
                (s, label)
                for s, label in STAY_ACTIONS.items()
                if s in STAY_TRANSITIONS[stay.status]
            ],
            "holds_room": stay.holds_room,
            "others": others,
            "hotel_today": hotel_today(stay.block.hotel),
            "move": services.stay_move_choices(stay) if stay.holds_room else None,
        },
    )


@login_required
@require_POST
def stay_move(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    stay = selectors.stay_for_user(user=user, crisis=crisis, pk=pk)
    try:
        stay = services.stay_move(
            actor=user,
            stay=stay,
            room=request.POST.get("room", ""),
            room_number=request.POST.get("room_number", ""),
            note=request.POST.get("note", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The stay is now in room %(room)d of the block.") % {"room": stay.room}
        )
    return redirect("stay_detail", stay.pk)


@login_required
@require_POST
def stay_status(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    stay = selectors.stay_for_user(user=user, crisis=crisis, pk=pk)
    status = request.POST.get("status", "")
    try:
        stay = services.stay_set_status(
            actor=user,
            stay=stay,
            status=status,
            note=request.POST.get("note", ""),
            room_number=request.POST.get("room_number", ""),
            split_reason=request.POST.get("split_reason", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The stay is now “%(status)s”.") % {"status": stay.get_status_display()}
        )
    return redirect("stay_detail", stay.pk)


@login_required
@require_POST
def stay_nights(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    stay = selectors.stay_for_user(user=user, crisis=crisis, pk=pk)
    try:
        stay = services.stay_change_nights(
            actor=user,
            stay=stay,
            last_night=request.POST.get("last_night", ""),
            note=request.POST.get("note", ""),
            split_reason=request.POST.get("split_reason", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Last night: %(night)s; the guests leave on %(day)s.")
            % {"night": stay.last_night.isoformat(), "day": stay.check_out_day.isoformat()},
        )
    return redirect("stay_detail", stay.pk)


# Assignment -----------------------------------------------------------------------------------

NO_ROOMS = gettext_lazy("no hotel has free rooms for the whole household on these nights")


@dataclass
class SuggestionRow:
    household: Household
    members: list[Person]
    priority: int
    hotel: Hotel | None
    rooms: list[tuple[RoomBlock, list[Person], str]]  # block, guests, hidden value
    distance_km: float | None
    reason: str

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass
class Outcome:
    housed: list[tuple[Household, list[Stay]]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # household label, reason

    @property
    def stays(self) -> int:
        return sum(len(s) for _h, s in self.housed)


def _households_named(crisis: Crisis, text: str) -> tuple[list[Household], list[str]]:
    """Households named by number (12, H12) or by a member's reference code."""
    ids: list[int] = []
    missing: list[str] = []
    for token in split_codes(text):
        number = token[1:] if token[:1] in ("H", "h") else token
        if is_id(number):
            ids.append(int(number))
            continue
        person = Person.objects.filter(
            crisis=crisis, reference_code=normalize_reference_code(token)
        ).first()
        if person is None or person.household_id is None:
            missing.append(token)
        else:
            ids.append(person.household_id)
    found = {h.pk: h for h in Household.objects.filter(crisis=crisis, pk__in=ids)}
    missing += [f"H{i}" for i in ids if i not in found]
    seen: set[int] = set()
    households = []
    for i in ids:
        if i in found and i not in seen:
            seen.add(i)
            households.append(found[i])
    return households, missing


def _near(text: str) -> tuple[tuple[float, float] | None, str]:
    """A place named by id, airport IATA code or code: its coordinates, or an error."""
    text = text.strip()
    if not text:
        return None, ""
    place = None
    if is_id(text):
        place = Place.objects.filter(pk=int(text)).first()
    elif len(text) == 3 and text.isalpha():
        place = Place.objects.filter(kind=Place.Kind.AIRPORT, iata=text.upper()).first()
    place = place or Place.objects.filter(code=text).first()
    if place is None:
        return None, _("No place “%(v)s” (a place id or an airport code).") % {"v": text[:40]}
    if place.latitude is None or place.longitude is None:
        return None, _("%(place)s has no coordinates.") % {"place": place}
    return (place.latitude, place.longitude), ""


def _waiting_rows(user: User, crisis: Crisis) -> list[tuple[Household, list[Person]]]:
    households = selectors.waiting_households(user=user, crisis=crisis)
    members: dict[int, list[Person]] = defaultdict(list)
    for person in (
        Person.objects.filter(household__in=households)
        .exclude(status__in=services.NOT_HOUSED)
        .order_by("-priority", "birth_date", "id")
    ):
        assert person.household_id is not None
        members[person.household_id].append(person)
    return [(h, members[h.pk]) for h in households if members[h.pk]]


def _suggestion_rows(suggestions: list[selectors.HouseholdSuggestion]) -> list[SuggestionRow]:
    rows = []
    for s in suggestions:
        rows.append(
            SuggestionRow(
                household=s.household,
                members=s.members,
                priority=max([s.household.priority, *(p.priority for p in s.members)]),
                hotel=s.hotel,
                rooms=[
                    (block, guests, f"{block.pk}:{'.'.join(str(g.pk) for g in guests)}")
                    for block, guests in s.rooms
                ],
                distance_km=s.suggestion.distance_km,
                reason=str(NO_ROOMS) if s.hotel is None else "",
            )
        )
    return rows


def _confirm(request: HttpRequest, user: User, crisis: Crisis) -> Outcome:
    """House the households ticked on the suggestion, one by one, each all or nothing."""
    outcome = Outcome()
    first = request.POST.get("first_night", "")
    last = request.POST.get("last_night", "")
    for hid in request.POST.getlist("house"):
        label = f"H{hid}"
        household = (
            Household.objects.filter(crisis=crisis, pk=int(hid)).first() if is_id(hid) else None
        )
        if household is None:
            outcome.failed.append((label[:20], _("Unknown household.")))
            continue
        wanted: list[tuple[int, list[int]]] = []
        for value in request.POST.getlist(f"room-{household.pk}"):
            block_id, _sep, guest_ids = value.partition(":")
            ids = guest_ids.split(".")
            if not is_id(block_id) or not all(is_id(i) for i in ids):
                wanted = []
                break
            wanted.append((int(block_id), [int(i) for i in ids]))
        blocks = {
            b.pk: b for b in RoomBlock.objects.filter(crisis=crisis, pk__in=[b for b, _g in wanted])
        }
        people = {
            p.pk: p
            for p in Person.objects.filter(
                crisis=crisis, household=household, pk__in=[i for _b, g in wanted for i in g]
            )
        }
        if not wanted or any(b not in blocks or any(i not in people for i in g) for b, g in wanted):
            outcome.failed.append(
                (label, _("The suggestion no longer fits the household; suggest again."))
            )
            continue
        try:
            stays = services.household_house(
                actor=user,
                crisis=crisis,
                household=household,
                first_night=first,
                last_night=last,
                rooms=[(blocks[b], [people[i] for i in g]) for b, g in wanted],
            )
        except ApplicationError as exc:
            outcome.failed.append((label, exc.message))
        else:
            outcome.housed.append((household, stays))
    return outcome


@dataclass
class Target:
    """What the manual form names: the household, the hotel, some members (none: all)."""

    household: Household
    hotel: Hotel
    people: list[Person]


def _manual_target(crisis: Crisis, form: ManualHouseForm) -> Target | None:
    """The household, hotel and members the (valid) form names; errors go on the form."""
    data = form.cleaned_data
    households, missing = _households_named(crisis, data["household"])
    if missing or len(households) != 1:
        form.add_error("household", _("Unknown household."))
        return None
    hotel = Hotel.objects.filter(crisis=crisis, pk=data["hotel"]).first()
    if hotel is None:
        form.add_error("hotel", _("Unknown hotel."))
        return None
    codes = [normalize_reference_code(c) for c in split_codes(data["people"])]
    people = list(Person.objects.filter(crisis=crisis, reference_code__in=codes))
    unknown = sorted(set(codes) - {p.reference_code for p in people})
    if unknown:
        form.add_error(
            "people", _("Unknown reference codes: %(codes)s.") % {"codes": ", ".join(unknown)}
        )
        return None
    return Target(household=households[0], hotel=hotel, people=people)


def _manual(
    request: HttpRequest, user: User, crisis: Crisis, form: ManualHouseForm
) -> list[Stay] | None:
    """House one household in the hotel chosen; errors go on the form."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    target = _manual_target(crisis, form)
    if target is None:
        return None
    try:
        return services.household_house(
            actor=user,
            crisis=crisis,
            household=target.household,
            people=target.people,
            hotel=target.hotel,
            first_night=data["first_night"],
            last_night=data["last_night"],
            split_reason=data["split_reason"],
            payer=data["payer"],
        )
    except ApplicationError as exc:
        service_errors(form, exc)
        return None


@dataclass
class RoomsStep:
    """The second step of housing one household by hand: its rooms chosen by the officer."""

    form: RoomsForm
    household: Household
    hotel: Hotel
    first: date
    last: date


def _rooms_step(
    user: User, crisis: Crisis, hotels: list[Hotel], form: ManualHouseForm, data: Any
) -> RoomsStep | None:
    """The room chooser for what the manual form names (bound to `data` when the officer
    sent it, else filled in with the suggestion for the hotel); None, with the errors on
    `form`, when the form names no household, hotel or nights."""
    if not form.is_valid():
        return None
    target = _manual_target(crisis, form)
    if target is None:
        return None
    try:
        first, last = services.check_nights(
            form.cleaned_data["first_night"], form.cleaned_data["last_night"]
        )
    except ApplicationError as exc:
        service_errors(form, exc)
        return None
    household = target.household
    members = services.housed_members(household)
    if not members:
        form.add_error(
            "household", _("Nobody to house: the household has nobody who needs a room.")
        )
        return None
    strangers = [p for p in target.people if p.household_id != household.pk]
    if strangers:
        form.add_error(
            "people",
            _("Not members of household %(household)s: %(people)s.")
            % {"household": household, "people": ", ".join(p.reference_code for p in strangers)},
        )
        return None
    blocks = selectors.free_blocks(hotel=target.hotel, first=first, last=last)
    if data is not None:
        rooms_form = RoomsForm(
            data, hotels=hotels, members=members, blocks=blocks, first_night=first
        )
    else:
        initial: dict[str, Any] = {
            name: form.cleaned_data[name] for name in (*RoomsForm.HIDDEN, "split_reason", "payer")
        }
        named = {p.pk for p in target.people}
        for person in members:
            initial[f"guest_{person.pk}"] = "1" if not named or person.pk in named else ""
        if not named:
            suggestions = selectors.suggest_rooms(
                user=user,
                crisis=crisis,
                households=[household],
                first=first,
                last=last,
                hotels=[target.hotel],
            )
            if suggestions and suggestions[0].hotel is not None:
                for k, (block, guests) in enumerate(suggestions[0].rooms, start=1):
                    initial[f"room_{k}"] = str(block.pk)
                    for guest in guests:
                        initial[f"guest_{guest.pk}"] = str(k)
        rooms_form = RoomsForm(
            initial=initial, hotels=hotels, members=members, blocks=blocks, first_night=first
        )
    return RoomsStep(
        form=rooms_form, household=household, hotel=target.hotel, first=first, last=last
    )


ROOM_FIELD = re.compile(r"rooms\.(\d+)\.(?:block|guests)")


def _rooms_refused(form: RoomsForm, exc: ApplicationError, slots: list[int]) -> None:
    """The service's refusal on the fields of the room chooser: a room's problem on its
    block, a guest housed already on their room, a household left incomplete on the reason."""
    placed = False
    named = exc.extra.get("errors")
    for name, problems in (named if isinstance(named, dict) else {}).items():
        match = ROOM_FIELD.fullmatch(name)
        if match and int(match[1]) < len(slots):
            field_name: str | None = f"room_{slots[int(match[1])]}"
        else:
            field_name = name if name in form.fields else None
        for problem in problems:
            form.add_error(field_name, str(problem))
            placed = True
    by_code = {p.reference_code: p for p in form.members}
    for code in exc.extra.get("already", []):
        if code in by_code:
            form.add_error(
                f"guest_{by_code[code].pk}",
                _("Already housed on some of these nights: %(people)s.") % {"people": code},
            )
            placed = True
    if exc.extra.get("missing"):
        form.add_error("split_reason", exc.message)
        placed = True
    if not placed:
        form.add_error(None, exc.message)


def _house_in_rooms(user: User, crisis: Crisis, step: RoomsStep) -> list[Stay] | None:
    """House the household in the rooms the officer chose; errors go on the form."""
    form = step.form
    if not form.is_valid():
        return None
    data = form.cleaned_data
    groups: dict[int, list[Person]] = defaultdict(list)
    for person in form.members:
        if data[f"guest_{person.pk}"]:
            groups[int(data[f"guest_{person.pk}"])].append(person)
    if not groups:
        form.add_error(f"guest_{form.members[0].pk}", _("Choose a room for at least one member."))
        return None
    slots = sorted(groups)
    blocks = {str(b.pk): b for b in RoomBlock.objects.filter(hotel=step.hotel)}
    for k in slots:
        if data[f"room_{k}"] not in blocks:
            form.add_error(f"room_{k}", _("Choose a room block for this room."))
    if form.errors:
        return None
    try:
        return services.household_house(
            actor=user,
            crisis=crisis,
            household=step.household,
            first_night=step.first,
            last_night=step.last,
            rooms=[(blocks[data[f"room_{k}"]], groups[k]) for k in slots],
            split_reason=data["split_reason"],
            payer=data["payer"],
        )
    except ApplicationError as exc:
        _rooms_refused(form, exc, slots)
        return None


def _housed_message(request: HttpRequest, stays: list[Stay]) -> None:
    messages.success(
        request,
        ngettext(
            "Household housed in %(hotel)s: %(n)d room.",
            "Household housed in %(hotel)s: %(n)d rooms.",
            len(stays),
        )
        % {"hotel": stays[0].block.hotel, "n": len(stays)},
    )


@login_required
def assign(request: HttpRequest) -> HttpResponse:
    """Suggest rooms for waiting households, confirm the suggestion; or house one household
    in a hotel of the officer's choice."""
    user, crisis = _current(request)
    access.require(user, Cap.PERSONAL_DATA)
    hotels = list(selectors.hotels_for_user(user=user, crisis=crisis))
    params = request.POST if request.method == "POST" else request.GET
    today = timezone.localdate()
    first_text = params.get("first_night") or today.isoformat()
    last_text = params.get("last_night") or (today + timedelta(days=1)).isoformat()
    action = params.get("action")
    manual_form = ManualHouseForm(
        request.POST if action in ("manual", "choose", "rooms", "edit") else None,
        hotels=hotels,
        initial={"first_night": first_text, "last_night": last_text},
    )
    context: dict[str, Any] = {
        "crisis": crisis,
        "hotels": hotels,
        "first_night": first_text,
        "last_night": last_text,
        "households_text": params.get("households", ""),
        "hotel_filter": params.get("hotel", ""),
        "near_text": params.get("near", ""),
        "manual_form": manual_form,
        "errors": [],
    }
    if request.method == "POST":
        if action == "manual":
            stays = _manual(request, user, crisis, manual_form)
            if stays:
                _housed_message(request, stays)
                return redirect("stay_detail", stays[0].pk)
        elif action in ("choose", "rooms"):
            step = _rooms_step(
                user, crisis, hotels, manual_form, request.POST if action == "rooms" else None
            )
            context["rooms_step"] = step
            if step is not None and action == "rooms":
                stays = _house_in_rooms(user, crisis, step)
                if stays:
                    _housed_message(request, stays)
                    return redirect("stay_detail", stays[0].pk)
            if step is not None:
                # The chooser names the household's members.
                audit_read(
                    actor=user,
                    verb="shelter_choose_rooms",
                    obj=step.household,
                    crisis=crisis,
                    details={"hotel": step.hotel.pk, "members": len(step.form.members)},
                )
        elif action == "edit":
            manual_form.is_valid()
        else:
            outcome = _confirm(request, user, crisis)
            context["outcome"] = outcome
            if outcome.housed:
                messages.success(
                    request,
                    ngettext(
                        "%(n)d household housed.", "%(n)d households housed.", len(outcome.housed)
                    )
                    % {"n": len(outcome.housed)},
                )
            if outcome.failed:
                messages.error(
                    request,
                    ngettext(
                        "%(n)d household could not be housed: see below.",
                        "%(n)d households could not be housed: see below.",
                        len(outcome.failed),
                    )
                    % {"n": len(outcome.failed)},
                )
        return TemplateResponse(request, "shelter/assign.html", context)

    households: list[Household] = []
    if context["households_text"].strip():
        households, missing = _households_named(crisis, context["households_text"])
        if missing:
            context["errors"].append(
                _("Unknown households or reference codes: %(codes)s.")
                % {"codes": ", ".join(missing)}
            )
    if "suggest" in request.GET:
        first, first_problem = dates.parse_day(first_text)
        last, last_problem = dates.parse_day(last_text)
        if first_problem or last_problem:
            context["errors"].append(
                _("First and last night: %(problem)s") % {"problem": first_problem or last_problem}
            )
        elif first is None or last is None:
            context["errors"].append(_("First and last night: dates (YYYY-MM-DD)."))
        elif last < first:
            context["errors"].append(_("The last night is before the first night."))
        elif (last - first).days >= services.MAX_NIGHTS:
            context["errors"].append(
                _("A stay is %(n)d nights at most.") % {"n": services.MAX_NIGHTS}
            )
        near, problem = _near(context["near_text"])
        if problem:
            context["errors"].append(problem)
        chosen = hotels
        if is_id(context["hotel_filter"]):
            chosen = [h for h in hotels if h.pk == int(context["hotel_filter"])]
        if not context["households_text"].strip():
            households = selectors.waiting_households(user=user, crisis=crisis)
        if not context["errors"] and first is not None and last is not None:
            suggestions = selectors.suggest_rooms(
                user=user,
                crisis=crisis,
                households=households,
                first=first,
                last=last,
                hotels=chosen,
                near=near,
            )
            context["suggestions"] = _suggestion_rows(suggestions)
            context["suggested"] = sum(1 for s in context["suggestions"] if s.hotel)
            audit_read(
                actor=user,
                verb="shelter_suggest",
                object_type="registry.household",
                crisis=crisis,
                details={"households": len(suggestions)},
            )
    if "suggestions" not in context:
        if households:
            members: dict[int, list[Person]] = defaultdict(list)
            for person in Person.objects.filter(household__in=households).exclude(
                status__in=services.NOT_HOUSED
            ):
                assert person.household_id is not None
                members[person.household_id].append(person)
            context["waiting"] = [(h, members[h.pk]) for h in households]
        else:
            context["waiting"] = _waiting_rows(user, crisis)
        audit_read(
            actor=user,
            verb="shelter_waiting",
            object_type="registry.household",
            crisis=crisis,
            details={"households": len(context["waiting"])},
        )
    return TemplateResponse(request, "shelter/assign.html", context)
