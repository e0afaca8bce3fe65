"""`Idempotency-Key` on create requests: a retried request returns the first response and
creates nothing new. The record and the created objects commit in one transaction, so a
concurrent duplicate either sees the record or fails on its unique key and returns it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _

from aman.core.errors import ApplicationError
from aman.core.models import IdempotencyRecord, User

HEADER = "Idempotency-Key"


def _fingerprint(request: HttpRequest, payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(f"{request.method} {request.path}\n{canonical}".encode()).hexdigest()


def _replay(record: IdempotencyRecord, fingerprint: str) -> tuple[int, Any]:
    if record.fingerprint != fingerprint:
        raise ApplicationError(
            _("This Idempotency-Key was used for a different request."),
            {"idempotency_key": [record.key]},
        )
    return record.status_code, record.body


def idempotent(
    request: HttpRequest, user: User, payload: Any, create: Callable[[], tuple[int, Any]]
) -> JsonResponse:
    """Run `create` (returning status and a JSON-ready body) at most once per key."""
    status, body = _idempotent(request, user, payload, create)
    response = JsonResponse(body, status=status, safe=False)
    return response


def _idempotent(
    request: HttpRequest, user: User, payload: Any, create: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        return create()
    if len(key) > 200:
        raise ApplicationError(
            _("Idempotency-Key is at most 200 characters."), {"idempotency_key": [key[:40]]}
        )
    fingerprint = _fingerprint(request, payload)
    existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if existing is not None:
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            status, body = create()
            IdempotencyRecord.objects.create(
                user=user, key=key, fingerprint=fingerprint, status_code=status, body=body
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return status, body
