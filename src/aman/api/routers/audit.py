from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from aman.api.schemas import AuditEntryOut
from aman.core import selectors
from aman.core.models import AuditEntry, User

router = Router(tags=["audit"])


class AuditFilter(Schema):
    actor: str = ""
    action: AuditEntry.Action | None = None
    object_type: str = ""
    object_id: str = ""
    crisis: int | None = None
    since: date | None = None
    until: date | None = None


@router.get("", response=list[AuditEntryOut], summary="The audit log (crisis managers)")
@paginate(LimitOffsetPagination)
def audit_list(request: HttpRequest, filters: Query[AuditFilter]) -> Any:
    user: User = request.auth  # type: ignore[attr-defined]
    return selectors.audit_entries_filtered(user=user, filters=filters.model_dump())
