"""`Idempotency-Key` on create requests: a retried request returns the first response and
creates nothing new. The key is claimed (a pending record, committed) before the create
runs; a concurrent duplicate finds the claim and gets 409 "still being processed", a later
retry gets the stored response."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from aman.core.errors import ApplicationError, Conflict
from aman.core.models import IdempotencyRecord, User
from aman.core.text import control_character, control_character_message

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


PENDING = 0
ABANDONED_AFTER = timedelta(minutes=5)


def _key(request: HttpRequest) -> str:
    key = (request.headers.get(HEADER) or "").strip()
    if len(key) > 200:
        raise ApplicationError(
            _("Idempotency-Key is at most 200 characters."), {"idempotency_key": [key[:40]]}
        )
    ch = control_character(key)
    if ch is not None:
        # (It is looked up and stored as text: PostgreSQL refuses a NUL in either.)
        raise ApplicationError(
            _("Idempotency-Key: %(problem)s") % {"problem": control_character_message(ch)},
            {"idempotency_key": [control_character_message(ch)]},
        )
    return key


def registration_key(request: HttpRequest, user: User) -> str:
    """The key under which a registration sent through the API is kept with its intake
    record: the client's `Idempotency-Key` scoped to its user, so that two clients who
    happen to choose the same key never see each other's registration ("" without one)."""
    key = _key(request)
    if not key:
        return ""
    scoped = f"api:{user.pk}:{key}"
    if len(scoped) > 200:  # the column's width
        scoped = f"api:{user.pk}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"
    return scoped


def require_same_payload(stored: Any, payload: Any, key: str) -> None:
    """A retry must send what the first request sent: the same key with another payload
    is a client's mistake, answered 400 — never the first request's answer."""

    def canonical(value: Any) -> str:
        return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)

    if canonical(stored) != canonical(payload):
        raise ApplicationError(
            _("This Idempotency-Key was used for a different request."),
            {"idempotency_key": [key]},
        )


def _idempotent(
    request: HttpRequest, user: User, payload: Any, create: Callable[[], tuple[int, Any]]
) -> tuple[int, Any]:
    key = _key(request)
    if not key:
        return create()
    fingerprint = _fingerprint(request, payload)
    # Claim the key first, in its own committed transaction: a concurrent duplicate then
    # finds the claim instead of racing the create.
    IdempotencyRecord.objects.filter(
        user=user, key=key, status_code=PENDING, created_at__lt=timezone.now() - ABANDONED_AFTER
    ).delete()
    try:
        with transaction.atomic():
            claim = IdempotencyRecord.objects.create(
                user=user, key=key, fingerprint=fingerprint, status_code=PENDING, body=None
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.get(user=user, key=key)
        if existing.status_code == PENDING and existing.fingerprint == fingerprint:
            raise Conflict(
                _("A request with this Idempotency-Key is still being processed; retry shortly."),
                {"idempotency_key": [key]},
            ) from None
        return _replay(existing, fingerprint)
    try:
        with transaction.atomic():
            status, body = create()
            IdempotencyRecord.objects.filter(pk=claim.pk).update(status_code=status, body=body)
    except BaseException:
        # A failed create is not remembered: the same key may be retried.
        IdempotencyRecord.objects.filter(pk=claim.pk, status_code=PENDING).delete()
        raise
    return status, body
