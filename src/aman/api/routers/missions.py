from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja.pagination import LimitOffsetPagination, paginate

from aman.api.idempotency import idempotent
from aman.api.schemas import ErrorOut, MissionIn, MissionOut, MissionPatch
from aman.core import access, services
from aman.core.models import Mission, User
from aman.core.roles import Cap
from aman.geo.selectors import countries_by_codes

router = Router(tags=["missions"])
ERRORS: dict[int, Any] = {400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _out(mission: Mission) -> Mission:
    return Mission.objects.select_related("country").prefetch_related("area").get(pk=mission.pk)


@router.get("", response=list[MissionOut], summary="Missions the user may see")
@paginate(LimitOffsetPagination)
def mission_list(request: HttpRequest) -> Any:
    return access.missions_for_user(_user(request)).prefetch_related("area")


@router.post("", response={201: MissionOut, **ERRORS}, summary="Create a mission")
def mission_create(request: HttpRequest, payload: MissionIn) -> Any:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)

    def create() -> tuple[int, Any]:
        mission = services.mission_create(
            actor=user,
            name=payload.name,
            kind=payload.kind,
            country=countries_by_codes([payload.country], field="country")[0],
            area=countries_by_codes(payload.area, field="area") if payload.area else None,
            city=payload.city,
            email=payload.email,
            phone=payload.phone,
        )
        return 201, MissionOut.from_orm(_out(mission)).model_dump(mode="json")

    return idempotent(request, user, payload.model_dump(mode="json"), create)


@router.get("/{mission_id}", response={200: MissionOut, 404: ErrorOut})
def mission_get(request: HttpRequest, mission_id: int) -> Any:
    return _out(access.mission_for_user(_user(request), mission_id))


@router.patch("/{mission_id}", response={200: MissionOut, **ERRORS})
def mission_update(request: HttpRequest, mission_id: int, payload: MissionPatch) -> Any:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    mission = access.mission_for_user(user, mission_id)
    fields: dict[str, Any] = payload.model_dump(exclude_unset=True)
    if "area" in fields:
        fields["area"] = countries_by_codes(fields["area"], field="area")
    return _out(services.mission_update(actor=user, mission=mission, **fields))
