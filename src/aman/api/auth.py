from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from aman.core import hot
from aman.core.models import ApiToken

LAST_USED_GRANULARITY = timedelta(minutes=5)
# When this process last wrote a token's `last_used_at` (its hot copy keeps the old value).
_last_written: dict[int, datetime] = {}


def _token(digest: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("user")
        .filter(digest=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer aman_...` — a token created on the account page."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # A process-local copy while no user, token or crisis changed (core.hot): a
        # revoked token or a deactivated user is refused at the next request.
        digest = ApiToken.digest_of(token)
        found = hot.get("api-token", digest, lambda: _token(digest))
        if found is None:
            return None
        now = timezone.now()
        last = max(
            (t for t in (found.last_used_at, _last_written.get(found.pk)) if t is not None),
            default=None,
        )
        if last is None or now - last > LAST_USED_GRANULARITY:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
            _last_written[found.pk] = now
        user = copy.copy(found.user)
        request.user = user
        return user


class StaffSessionAuth(SessionAuth):
    """The operator UI's own session (with CSRF), so pages can call the API."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = super().authenticate(request, key)
        return user if user is not None and user.is_active else None


AUTH = [ApiTokenAuth(), StaffSessionAuth()]
