from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aman.core import access
from aman.core.errors import ApplicationError
from aman.core.models import User
from aman.core.roles import Cap
from aman.geo import selectors, services
from aman.geo.forms import CrossingForm, PlaceSearchForm, PlaceStatusForm
from aman.geo.models import Place, PlaceStatus


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
@require_GET
def crossing_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    crisis = access.current_crisis(user)
    only_crisis = crisis is not None and request.GET.get("all") != "1"
    countries = list(crisis.affected_countries.all()) if crisis and only_crisis else None
    return TemplateResponse(
        request,
        "geo/crossing_list.html",
        {
            "crossings": selectors.crossings(countries=countries),
            "only_crisis": only_crisis,
            "crisis": crisis,
        },
    )


@login_required
@require_GET
def place_list(request: HttpRequest) -> HttpResponse:
    form = PlaceSearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    places = selectors.places_search(
        q=data.get("q", ""), kind=data.get("kind", ""), country=data.get("country", "")
    )
    page = Paginator(places, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request, "geo/place_list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
@require_GET
def place_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    place = selectors.place_get(pk=pk)
    can_edit = user.has_cap(Cap.GEO_STATUS)
    return TemplateResponse(
        request,
        "geo/place_detail.html",
        {
            "place": place,
            "events": place.status_events.select_related("recorded_by")[:100],
            "can_edit": can_edit,
            "status_form": PlaceStatusForm(initial={"status": place.status}) if can_edit else None,
            "crossing_form": (
                CrossingForm(
                    initial={
                        "hours": place.hours,
                        "daily_capacity": place.daily_capacity,
                        "transit_permit": place.transit_permit or Place.Permit.UNKNOWN,
                    }
                )
                if can_edit and place.kind == Place.Kind.CROSSING
                else None
            ),
        },
    )


@login_required
@require_POST
def place_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.GEO_STATUS)
    place = selectors.place_get(pk=pk)
    form = PlaceStatusForm(request.POST)
    if form.is_valid():
        try:
            services.place_status_set(actor=user, place=place, **form.cleaned_data)
            messages.success(
                request,
                _("%(place)s: status set to “%(status)s”.")
                % {
                    "place": place.local_name,
                    "status": PlaceStatus(form.cleaned_data["status"]).label,
                },
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("place_detail", pk=place.pk)


@login_required
@require_POST
def crossing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.GEO_STATUS)
    place = selectors.place_get(pk=pk)
    form = CrossingForm(request.POST)
    if form.is_valid():
        try:
            services.crossing_update(actor=user, place=place, **form.cleaned_data)
            messages.success(
                request, _("%(place)s: planning figures saved.") % {"place": place.local_name}
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
    return redirect("place_detail", pk=place.pk)
