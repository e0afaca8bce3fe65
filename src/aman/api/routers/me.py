from django.http import HttpRequest
from ninja import Router

from aman.api.schemas import UserOut
from aman.core.roles import ROLE_CAPS, Cap

router = Router(tags=["account"])


@router.get("", response=UserOut, summary="The authenticated user, role and capabilities")
def me(request: HttpRequest) -> dict:
    user = request.auth  # type: ignore[attr-defined]
    caps = list(Cap.values) if user.is_superuser else sorted(ROLE_CAPS.get(user.role, ()))
    return {
        "id": user.pk,
        "username": user.username,
        "role": user.role,
        "mission_id": user.mission_id,
        "current_crisis_id": user.current_crisis_id,
        "capabilities": caps,
    }
