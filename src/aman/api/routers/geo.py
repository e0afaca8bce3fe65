from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from aman.api.schemas import (
    CountryOut,
    CrossingPatch,
    ErrorOut,
    PlaceDetailOut,
    PlaceOut,
    PlaceStatusIn,
)
from aman.core import access
from aman.core.models import User
from aman.core.roles import Cap
from aman.geo import selectors, services
from aman.geo.models import Place, PlaceStatus

router = Router(tags=["reference geography"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


class CountryFilter(Schema):
    q: str = ""


class PlaceFilter(Schema):
    q: str = ""
    kind: Place.Kind | None = None
    country: str = ""
    status: PlaceStatus | None = None


@router.get("/countries", response=list[CountryOut])
@paginate(LimitOffsetPagination)
def country_list(request: HttpRequest, filters: Query[CountryFilter]) -> Any:
    return selectors.countries_search(q=filters.q)


@router.get("/countries/{code}", response={200: CountryOut, 404: ErrorOut})
def country_get(request: HttpRequest, code: str) -> Any:
    return selectors.country_get(code=code)


@router.get(
    "/places",
    response=list[PlaceOut],
    summary="Cities, airports and crossings; search in any script",
)
@paginate(LimitOffsetPagination)
def place_list(request: HttpRequest, filters: Query[PlaceFilter]) -> Any:
    return selectors.places_search(
        q=filters.q, kind=filters.kind or "", country=filters.country, status=filters.status or ""
    )


@router.get("/places/{place_id}", response={200: PlaceDetailOut, 404: ErrorOut})
def place_get(request: HttpRequest, place_id: int) -> Any:
    return selectors.place_get(pk=place_id)


@router.post(
    "/places/{place_id}/status",
    response={200: PlaceDetailOut, **ERRORS},
    summary="Record that a crossing or airport opened, is restricted or closed",
)
def place_status_set(request: HttpRequest, place_id: int, payload: PlaceStatusIn) -> Any:
    user = _user(request)
    access.require(user, Cap.GEO_STATUS)
    place = selectors.place_get(pk=place_id)
    services.place_status_set(
        actor=user,
        place=place,
        status=payload.status,
        reason=payload.reason,
        effective_at=payload.effective_at,
    )
    return selectors.place_get(pk=place_id)


@router.patch(
    "/crossings/{place_id}",
    response={200: PlaceDetailOut, **ERRORS},
    summary="Change a crossing's hours, daily capacity or permit requirement",
)
def crossing_update(request: HttpRequest, place_id: int, payload: CrossingPatch) -> Any:
    user = _user(request)
    access.require(user, Cap.GEO_STATUS)
    place = selectors.place_get(pk=place_id)
    services.crossing_update(actor=user, place=place, **payload.model_dump(exclude_unset=True))
    return selectors.place_get(pk=place_id)
