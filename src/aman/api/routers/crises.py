from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from aman.api.idempotency import idempotent
from aman.api.schemas import CrisisIn, CrisisOut, CrisisPatch, ErrorOut
from aman.core import access, selectors, services
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.geo.selectors import countries_by_codes

router = Router(tags=["crises"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _out(crisis: Crisis) -> Crisis:
    return (
        Crisis.objects.select_related("home_country")
        .prefetch_related("affected_countries", "missions")
        .get(pk=crisis.pk)
    )


def _missions(user: User, ids: list[int]) -> list[Any]:
    found = {m.pk: m for m in access.missions_for_user(user).filter(pk__in=ids)}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise ApplicationError(
            _("Unknown mission: %(ids)s.") % {"ids": ", ".join(map(str, unknown))},
            {"missions": unknown},
        )
    return [found[i] for i in dict.fromkeys(ids)]


class CrisisFilter(Schema):
    status: Crisis.Status | None = None


@router.get("", response=list[CrisisOut], summary="Crises the user may see")
@paginate(LimitOffsetPagination)
def crisis_list(request: HttpRequest, filters: Query[CrisisFilter]) -> Any:
    qs = selectors.crises_list(user=_user(request), status=filters.status or "")
    return qs.prefetch_related("missions")


@router.post("", response={201: CrisisOut, **ERRORS}, summary="Create a crisis (draft)")
def crisis_create(request: HttpRequest, payload: CrisisIn) -> Any:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)

    def create() -> tuple[int, Any]:
        crisis = services.crisis_create(
            actor=user,
            name=payload.name,
            code=payload.code,
            description=payload.description,
            home_country=countries_by_codes(
                [payload.home_country or settings.AMAN_HOME_COUNTRY], field="home_country"
            )[0],
            affected_countries=countries_by_codes(
                payload.affected_countries, field="affected_countries"
            ),
            missions=_missions(user, payload.missions),
            retention_days=payload.retention_days,
            public_registration=payload.public_registration,
            hotline_phone=payload.hotline_phone,
            hotline_note=payload.hotline_note,
        )
        return 201, CrisisOut.from_orm(_out(crisis)).model_dump(mode="json")

    return idempotent(request, user, payload.model_dump(mode="json"), create)


@router.get("/{crisis_id}", response={200: CrisisOut, 404: ErrorOut})
def crisis_get(request: HttpRequest, crisis_id: int) -> Any:
    return _out(access.crisis_for_user(_user(request), crisis_id))


@router.patch("/{crisis_id}", response={200: CrisisOut, **ERRORS})
def crisis_update(request: HttpRequest, crisis_id: int, payload: CrisisPatch) -> Any:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    crisis = access.crisis_for_user(user, crisis_id)
    fields: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "home_country" in fields:
        fields["home_country"] = countries_by_codes([fields["home_country"]], field="home_country")[
            0
        ]
    if "affected_countries" in fields:
        fields["affected_countries"] = countries_by_codes(
            fields["affected_countries"], field="affected_countries"
        )
    if "missions" in fields:
        fields["missions"] = _missions(user, fields["missions"])
    return _out(services.crisis_update(actor=user, crisis=crisis, **fields))


@router.post(
    "/{crisis_id}/open",
    response={200: CrisisOut, **ERRORS},
    summary="Open a draft or closed crisis",
)
def crisis_open(request: HttpRequest, crisis_id: int) -> Any:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    return _out(services.crisis_open(actor=user, crisis=access.crisis_for_user(user, crisis_id)))


@router.post(
    "/{crisis_id}/close", response={200: CrisisOut, **ERRORS}, summary="Close an open crisis"
)
def crisis_close(request: HttpRequest, crisis_id: int) -> Any:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    return _out(services.crisis_close(actor=user, crisis=access.crisis_for_user(user, crisis_id)))
