"""Legs and bookings: the logistics officer's pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.ids import is_id
from aman.core.models import Crisis, User
from aman.geo.models import Country, Place
from aman.registry.models import Household, Person
from aman.registry.selectors import people_for_user, people_search
from aman.transport import imports, manifests, pass_prints, selectors, services
from aman.transport.forms import (
    ActualTimesForm,
    BookForm,
    LegForm,
    LegImportForm,
    service_errors,
)
from aman.transport.models import (
    BOOKING_TRANSITIONS,
    HOLDS_SEAT,
    LEG_TRANSITIONS,
    Booking,
    BookingStatus,
    Leg,
    LegImport,
    LegStatus,
    Mode,
    Undertaking,
)
from aman.transport.scan_conflicts import device_of, scan_conflicts


def _current(request: HttpRequest, *, boarding: bool = False) -> tuple[User, Crisis]:
    """The user, who must work in transport (or at the gate), and their current crisis."""
    user = request.user
    assert isinstance(user, User)
    selectors.require_transport(user, boarding=boarding)
    crisis = access.current_crisis(user)
    if crisis is None:
        raise Http404
    return user, crisis


def places_for(crisis: Crisis) -> list[Place]:
    """Places offered in the leg form: crossings, assembly points, hotels, and the airports
    and cities of the affected countries, their neighbours over the crossings, and home."""
    countries = set(crisis.affected_countries.values_list("pk", flat=True))
    countries.add(crisis.home_country_id)
    countries |= set(
        Place.objects.filter(kind=Place.Kind.CROSSING, country__in=countries)
        .exclude(entry_country=None)
        .values_list("entry_country", flat=True)
    )
    return list(
        Place.objects.filter(
            Q(kind__in=(Place.Kind.CROSSING, Place.Kind.ASSEMBLY_POINT, Place.Kind.HOTEL))
            | Q(kind=Place.Kind.AIRPORT, country__in=countries) & ~Q(iata="")
        )
        .select_related("country")
        .order_by("kind", "name")[:3000]
    )


@login_required
def leg_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    selectors.require_transport(user, boarding=True)
    crisis = access.current_crisis(user)
    page = None
    status = 200
    filters: dict[str, object] = {k: request.GET.get(k, "") for k in ("status", "mode", "day")}
    if crisis is not None:
        try:
            legs = selectors.legs_filtered(user=user, crisis=crisis, filters=filters, boarding=True)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            status = 400
            legs = selectors.legs_filtered(
                user=user, crisis=crisis, filters={**filters, "day": ""}, boarding=True
            )
        page = Paginator(legs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "transport/leg_list.html",
        {
            "crisis": crisis,
            "page": page,
            "query": query.urlencode(),
            "filters": filters,
            "statuses": LegStatus.choices,
            "modes": Mode.choices,
            "can_manage": user.has_cap("transport.manage"),
        },
        status=status,
    )


@login_required
def leg_create(request: HttpRequest) -> HttpResponse:
    user, crisis = _current(request)
    form = LegForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            leg = services.leg_create(actor=user, crisis=crisis, data=dict(form.cleaned_data))
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Leg created."))
            return redirect("leg_detail", leg.pk)
    return TemplateResponse(
        request,
        "transport/leg_form.html",
        {"form": form, "leg": None, "places": places_for(crisis), "crisis": crisis},
    )


@login_required
def leg_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk)
    form: LegForm | ActualTimesForm
    if leg.status in (LegStatus.DEPARTED, LegStatus.ARRIVED):
        # What happened: only the actual departure and arrival can be corrected.
        form = ActualTimesForm(request.POST or None, leg=leg)
    else:
        form = LegForm(request.POST or None, initial=LegForm.initial_for(leg))
    if request.method == "POST" and form.is_valid():
        changed = {k: v for k, v in form.cleaned_data.items() if k in form.changed_data}
        try:
            services.leg_update(actor=user, leg=leg, data=changed)
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            messages.success(request, _("Leg saved."))
            return redirect("leg_detail", leg.pk)
    return TemplateResponse(
        request,
        "transport/leg_form.html",
        {"form": form, "leg": leg, "places": places_for(crisis), "crisis": crisis},
    )


# The actions a logistics officer takes on a booking from the leg's page.
ACTIONS = {
    BookingStatus.CONFIRMED: gettext_lazy("Confirm"),
    BookingStatus.CHECKED_IN: gettext_lazy("Check in"),
    BookingStatus.BOARDED: gettext_lazy("Board"),
    BookingStatus.RELEASED: gettext_lazy("Release"),
    BookingStatus.NO_SHOW: gettext_lazy("No-show"),
    BookingStatus.OFFLOADED: gettext_lazy("Offload…"),
}


# The steps of boarding, taken with a seat (and an undertaking's signature) in one form.
STEPS = (BookingStatus.CHECKED_IN, BookingStatus.BOARDED)


# A person's transit permit for the crossing a leg goes to, as the leg's page shows it.
PERMIT_LABELS = {
    "approved": gettext_lazy("permit approved"),
    "refused": gettext_lazy("permit refused"),
    "pending": gettext_lazy("permit pending"),
    "missing": gettext_lazy("permit not asked for"),
}


# Bookings on a page of the leg: a household is never cut across two pages.
BOOKINGS_PER_PAGE = 100
# The conflicts of the gate's sync listed on the leg's page (the API has them all).
CONFLICTS_SHOWN = 50


def household_pages(rows: list[tuple[int, int | None]], per_page: int) -> list[list[int]]:
    """The booking ids (`rows`: id and household, in the page's order) cut into pages of at
    most `per_page`, a household kept whole on one page (a larger one fills a page alone)."""
    groups: list[tuple[object, list[int]]] = []
    for pk, household in rows:
        key: object = household if household is not None else ("alone", pk)
        if groups and groups[-1][0] == key:
            groups[-1][1].append(pk)
        else:
            groups.append((key, [pk]))
    pages: list[list[int]] = []
    current: list[int] = []
    for _key, ids in groups:
        if current and len(current) + len(ids) > per_page:
            pages.append(current)
            current = []
        current += ids
    if current:
        pages.append(current)
    return pages


def _search(crisis: Crisis, bookings: Any, query: str) -> Any:
    """The bookings of the people the registry's search finds (name in any script, reference
    code, document number, phone), with their households on the leg."""
    people, _few = people_search(Person.objects.filter(crisis=crisis), crisis=crisis, query=query)
    matched = bookings.filter(person__in=people.values("pk"))
    households = matched.exclude(household=None).values("household_id")
    return bookings.filter(Q(pk__in=matched.values("pk")) | Q(household_id__in=households))


def _leg_query(data: Any) -> str:
    """The leg page's own query (page, show, q) from `data`, to come back to after an action."""
    query = QueryDict(mutable=True)
    for name in ("show", "q", "page"):
        value = str(data.get(name, "") or "").strip()[:200]
        if value:
            query[name] = value
    return query.urlencode()


@login_required
def leg_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request, boarding=True)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk, boarding=True)
    manage = user.has_cap("transport.manage")
    show = request.GET.get("show", "active")
    search = request.GET.get("q", "").strip()[:200]
    bookings = selectors.bookings_for_user(user=user, leg=leg, boarding=True).order_by(
        "household_id", "-person__priority", "id"
    )
    if show != "all":
        bookings = bookings.filter(
            status__in=[
                BookingStatus.OFFERED,
                BookingStatus.CONFIRMED,
                BookingStatus.CHECKED_IN,
                BookingStatus.BOARDED,
            ]
        )
    if search:
        bookings = _search(crisis, bookings, search)
    chunks = household_pages(list(bookings.values_list("pk", "household_id")), BOOKINGS_PER_PAGE)
    page = Paginator(chunks or [[]], 1).get_page(request.GET.get("page"))
    rows = (
        list(
            bookings.filter(pk__in=page.object_list[0]).prefetch_related(selectors.booking_events())
        )
        if chunks
        else []
    )
    permits = services.permit_state(leg, [b.person_id for b in rows])
    signed = set(
        Undertaking.objects.filter(booking__in=[b.pk for b in rows]).values_list(
            "booking_id", flat=True
        )
    )
    for b in rows:
        b.leg = leg  # one leg (and one read of the crisis's policy) for every row
        allowed = (
            [s for s in ACTIONS if s in BOOKING_TRANSITIONS[b.status]]
            if manage and not leg.closed
            else []
        )
        # Check in and board: one form with the seat and, where the crisis asks for it, the
        # name the person signed the undertaking to repay with.
        b.steps = [(s, ACTIONS[s]) for s in allowed if s in STEPS]  # type: ignore[attr-defined]
        b.actions = [(s, ACTIONS[s]) for s in allowed if s not in STEPS]  # type: ignore[attr-defined]
        b.undertaking_signed = b.pk in signed  # type: ignore[attr-defined]
        terms = services.undertaking_needed(b)
        b.undertaking_terms = (  # type: ignore[attr-defined]
            {"amount": terms[0], "currency": terms[1]}
            if terms and not b.undertaking_signed  # type: ignore[attr-defined]
            else None
        )
        b.permit = permits.get(b.person_id, "")  # type: ignore[attr-defined]
        b.permit_label = PERMIT_LABELS.get(b.permit, "")  # type: ignore[attr-defined]
    counted = dict(
        Booking.objects.filter(leg=leg).values_list("status").annotate(n=Count("id")).order_by()
    )
    counts = {s: counted.get(s, 0) for s in BookingStatus.values}
    conflicts = scan_conflicts(leg)
    conflict_rows = list(conflicts[:CONFLICTS_SHOWN])
    for scan in conflict_rows:
        scan.device = device_of(scan.client_id)  # type: ignore[attr-defined]
    audit_read(
        actor=user,
        verb="leg_detail",
        obj=leg,
        crisis=crisis,
        details={
            "bookings_shown": len(rows),  # each with its history (who and when)
            "page": page.number,
            "search": bool(search),
            "scan_conflicts_shown": len(conflict_rows),
        },
    )
    context: dict[str, Any] = {
        "crisis": crisis,
        "leg": leg,
        "bookings": rows,
        "show": show,
        "search": search,
        "page": page,
        "shown_of": sum(len(c) for c in chunks),
        "query": _leg_query({"show": show if show == "all" else "", "q": search}),
        "seats_held": sum(counts[s] for s in HOLDS_SEAT),
        "not_boarded": sum(
            counts[s]
            for s in (BookingStatus.OFFERED, BookingStatus.CONFIRMED, BookingStatus.CHECKED_IN)
        ),
        "conflicts": conflict_rows,
        "conflict_count": conflicts.count()
        if len(conflict_rows) == CONFLICTS_SHOWN
        else len(conflict_rows),
        "counts": [(BookingStatus(s).label, n) for s, n in counts.items() if n],
        "can_manage": manage,
        "transitions": [
            (s, LegStatus(s).label) for s in LegStatus.values if s in LEG_TRANSITIONS[leg.status]
        ],
        "allowed_statuses": sorted(LEG_TRANSITIONS[leg.status]),
        "events": leg.events.select_related("actor")[:20],
        "allocations": leg.allocations.select_related("country"),
        "book_form": BookForm(),
        "countries": Country.objects.in_local_order(),
    }
    if manage:
        context["pass_print"] = pass_prints.pass_prints_of(leg).first()
        context["paxlst_recipient"] = manifests.paxlst_recipient_default(leg)
        context["paxlst_recipients"] = _paxlst_recipients(leg)
    if manage and not leg.closed:
        context["waiting"] = selectors.waiting_households(user=user, crisis=crisis, leg=leg)
    if leg.status == LegStatus.CANCELLED:
        context["affected"] = services.affected_households(leg)
    return TemplateResponse(request, "transport/leg_detail.html", context)


def _paxlst_recipients(leg: Leg) -> list[Country]:
    """The states a leg's PAXLST may well go to: the state it enters first, then the states
    of its two ends and the partner states it offers seats to."""
    ids = [
        manifests.entered_state(leg).pk,
        leg.destination.country_id,
        leg.origin.country_id,
        *leg.allocations.values_list("country_id", flat=True),
    ]
    found = {c.pk: c for c in Country.objects.filter(pk__in=ids).exclude(code3="")}
    return [found[pk] for pk in dict.fromkeys(ids) if pk in found]


def _back(leg: Leg, request: HttpRequest | None = None, anchor: str = "") -> HttpResponse:
    """To the leg's page — the page of its bookings the officer acted from, when known."""
    query = _leg_query(request.POST) if request is not None else ""
    return redirect(f"{leg.get_absolute_url()}{'?' + query if query else ''}{anchor}")


@login_required
@require_POST
def leg_status(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk)
    try:
        status = request.POST.get("status", "")
        out = services.leg_set_status(
            actor=user,
            leg=leg,
            status=status,
            note=request.POST.get("note", ""),
            # The form's time is for a departure or an arrival (empty: now).
            actual=request.POST.get("actual", "")
            if status in (LegStatus.DEPARTED, LegStatus.ARRIVED)
            else None,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        text = _("The leg is now “%(status)s”.") % {"status": out.leg.get_status_display()}
        if out.released:
            text += " " + ngettext(
                "%(n)d seat released; the household is listed below for re-planning.",
                "%(n)d seats released; the households are listed below for re-planning.",
                len(out.released),
            ) % {"n": len(out.released)}
        if out.no_shows:
            text += " " + ngettext(
                "%(n)d person was not on board: a no-show.",
                "%(n)d people were not on board: no-shows.",
                len(out.no_shows),
            ) % {"n": len(out.no_shows)}
        if out.safe:
            text += " " + ngettext(
                "%(n)d person recorded as safe.", "%(n)d people recorded as safe.", out.safe
            ) % {"n": out.safe}
        messages.success(request, text)
    return _back(leg)


@login_required
@require_POST
def leg_allocation(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk)
    country = Country.objects.filter(code=request.POST.get("country", "").upper()).first()
    seats = request.POST.get("seats", "").strip()
    if country is None or not is_id(seats):
        messages.error(request, _("Choose a partner state and a number of seats (0 withdraws)."))
        return _back(leg)
    try:
        services.allocation_set(
            actor=user,
            leg=leg,
            country=country,
            seats=int(seats),
            note=request.POST.get("note", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Seats offered to %(country)s: %(n)s.") % {"country": country, "n": seats}
        )
    return _back(leg)


@login_required
@require_POST
def leg_book(request: HttpRequest, pk: int) -> HttpResponse:
    """Book the people named by reference code (with their households), or one waiting
    household from the next-in-priority list."""
    user, crisis = _current(request)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk)
    visible = people_for_user(user=user, crisis=crisis)
    people: list[Any] = []
    households: list[Household] = []
    if request.POST.get("household"):
        household_id = request.POST["household"]
        households = list(
            Household.objects.filter(
                crisis=crisis, pk=int(household_id) if is_id(household_id) else 0
            )
        )
        if not households or not visible.filter(household__in=households).exists():
            messages.error(request, _("Unknown household."))
            return _back(leg)
    elif request.POST.get("person"):
        person_id = request.POST["person"]
        people = list(visible.filter(pk=int(person_id))) if is_id(person_id) else []
        if not people:
            messages.error(request, _("Unknown person."))
            return _back(leg)
    else:
        form = BookForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Give one or more reference codes."))
            return _back(leg)
        people, missing = selectors.people_by_reference(
            user=user, crisis=crisis, codes=form.codes()
        )
        if missing:
            messages.error(
                request, _("Unknown reference codes: %(codes)s.") % {"codes": ", ".join(missing)}
            )
            return _back(leg)
    try:
        created = services.leg_book(
            actor=user,
            leg=leg,
            people=people,
            households=households,
            split_reason=request.POST.get("split_reason", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext("%(n)d person booked.", "%(n)d people booked.", len(created))
            % {"n": len(created)},
        )
    return _back(leg)


@login_required
@require_POST
def booking_action(request: HttpRequest, pk: int) -> HttpResponse:
    status = request.POST.get("status", "")
    boarding = status in (BookingStatus.CHECKED_IN, BookingStatus.BOARDED)
    user, crisis = _current(request, boarding=boarding)
    booking = selectors.booking_for_user(user=user, crisis=crisis, pk=pk, boarding=boarding)
    try:
        services.booking_set_status(
            actor=user,
            booking=booking,
            status=status,
            note=request.POST.get("note", ""),
            seat=request.POST.get("seat", ""),
            undertaking_signed_by=request.POST.get("undertaking_signed_by", ""),
        )
    except ApplicationError as exc:
        messages.error(request, f"{booking.person.reference_code_display}: {exc.message}")
    else:
        messages.success(
            request,
            _("%(ref)s: %(status)s.")
            % {
                "ref": booking.person.reference_code_display,
                "status": BookingStatus(status).label,
            },
        )
    return _back(booking.leg, request, f"#booking-{booking.pk}")


@login_required
@require_POST
def leg_release_no_shows(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _current(request)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk)
    try:
        closed = services.leg_release_no_shows(actor=user, leg=leg)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            ngettext(
                "%(n)d no-show released; the seat is free for the next in priority.",
                "%(n)d no-shows released; their seats are free for the next in priority.",
                len(closed),
            )
            % {"n": len(closed)},
        )
        waited = services.households_waited_for(leg)
        if waited:
            messages.warning(
                request,
                _(
                    "Not released, someone of their household is at the gate: %(people)s. "
                    "Record them as no-shows one by one if they will not come."
                )
                % {"people": ", ".join(b.person.reference_code_display for b in waited)},
            )
    return redirect(f"{leg.get_absolute_url()}#waiting")


@login_required
def leg_import(request: HttpRequest) -> HttpResponse:
    """Legs from a CSV or XLSX list (a charter broker's schedule, a bus company's plan)."""
    user, crisis = _current(request)
    form = LegImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = imports.legs_import(
                actor=user, crisis=crisis, name=upload.name, content=upload.read()
            )
        except ApplicationError as exc:
            form.add_error("file", exc.message)
        else:
            messages.success(
                request,
                _("%(accepted)d legs created, %(repeated)d already there, %(rejected)d rejected.")
                % {
                    "accepted": result.accepted,
                    "repeated": result.repeated,
                    "rejected": result.rejected,
                },
            )
            return redirect("leg_import_detail", result.pk)
    recent = LegImport.objects.filter(crisis=crisis).select_related("created_by")[:20]
    return TemplateResponse(
        request,
        "transport/leg_import.html",
        {"form": form, "crisis": crisis, "recent": recent, "columns": imports.COLUMNS},
    )


@login_required
def leg_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _user, crisis = _current(request)
    batch = LegImport.objects.filter(crisis=crisis, pk=pk).first()
    if batch is None:
        raise Http404
    if request.GET.get("format") == "csv":
        return imports.rejected_csv_response(batch)
    return TemplateResponse(
        request, "transport/leg_import_detail.html", {"batch": batch, "crisis": crisis}
    )
