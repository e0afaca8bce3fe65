"""Reads for crises, missions and the audit log, always through the access module."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from aman.core.access import audit_entries_for_user, crises_for_user
from aman.core.models import AuditEntry, Crisis, User


def crises_list(*, user: User, status: str = "") -> QuerySet[Crisis]:
    qs = (
        crises_for_user(user)
        .prefetch_related("affected_countries")
        .annotate(mission_count=Count("missions", distinct=True))
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def crises_switchable(*, user: User) -> list[Crisis]:
    """Crises a user can work in: open and draft first, then the most recent closed ones."""
    qs = crises_for_user(user).select_related(None).only("id", "name", "status", "code")
    active = list(qs.exclude(status=Crisis.Status.CLOSED).order_by("name")[:50])
    closed = list(qs.filter(status=Crisis.Status.CLOSED).order_by("-closed_at")[:10])
    return active + closed


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries_filtered(*, user: User, filters: dict[str, Any]) -> QuerySet[AuditEntry]:
    qs = audit_entries_for_user(user)
    if filters.get("actor"):
        qs = qs.filter(actor_name__iexact=filters["actor"].strip())
    if filters.get("action"):
        qs = qs.filter(action=filters["action"])
    if filters.get("object_type"):
        qs = qs.filter(object_type=filters["object_type"].strip().lower())
    if filters.get("object_id"):
        qs = qs.filter(object_id=str(filters["object_id"]).strip())
    if filters.get("crisis"):
        qs = qs.filter(crisis=filters["crisis"])
    if filters.get("since"):
        qs = qs.filter(at__gte=_day_start(filters["since"]))
    if filters.get("until"):
        qs = qs.filter(at__lt=_day_start(filters["until"] + timedelta(days=1)))
    if filters.get("q"):
        qs = qs.filter(Q(verb__icontains=filters["q"]) | Q(object_repr__icontains=filters["q"]))
    return qs
