"""The one door to protected objects.

Views, API endpoints, tasks and commands reach crises, missions, audit entries and tokens
only through the functions here (and later apps add their own `<thing>s_for_user` built on
`country_scope`). Missing capability → `PermissionDenied` (403); an object outside the
user's scope → `Http404`, so its existence is not revealed.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from aman.core.models import ApiToken, AuditEntry, Crisis, Mission, User
from aman.core.roles import Cap, Role


def require(user: User, cap: str) -> None:
    if not user.is_authenticated or not user.has_cap(cap):
        raise PermissionDenied


def is_consul(user: User) -> bool:
    return user.role == Role.CONSUL and not user.is_superuser


def country_scope(user: User) -> set[int] | None:
    """The countries whose people and cases the user may see, or None for all.
    A consul sees only their mission's countries; a consul without one sees none."""
    if not is_consul(user):
        return None
    if user.mission_id is None:
        return set()
    return set(user.mission.area.values_list("pk", flat=True)) if user.mission else set()


def crises_for_user(user: User) -> QuerySet[Crisis]:
    qs = Crisis.objects.select_related("home_country")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if is_consul(user):
        return qs.filter(missions=user.mission_id)
    return qs


def crisis_for_user(user: User, pk: int) -> Crisis:
    try:
        return crises_for_user(user).get(pk=pk)
    except Crisis.DoesNotExist:
        raise Http404 from None


def crisis_for_user_hot(user: User, pk: int) -> Crisis:
    """`crisis_for_user` from a process-local copy (`core.hot`): for the registration
    surge, where reading the crisis would cost as much as queuing the registration."""
    if is_consul(user) or not user.is_authenticated or not user.is_active:
        return crisis_for_user(user, pk)
    from aman.core import hot

    crisis = hot.get(
        "crisis", pk, lambda: Crisis.objects.select_related("home_country").filter(pk=pk).first()
    )
    if crisis is None:
        raise Http404
    return crisis


def current_crisis(user: User) -> Crisis | None:
    """The crisis the user works in, if they may still see it."""
    if not user.is_authenticated or user.current_crisis_id is None:
        return None
    return crises_for_user(user).filter(pk=user.current_crisis_id).first()


def missions_for_user(user: User) -> QuerySet[Mission]:
    qs = Mission.objects.select_related("country")
    if not user.is_authenticated or not user.is_active:
        return qs.none()
    if is_consul(user):
        return qs.filter(pk=user.mission_id) if user.mission_id is not None else qs.none()
    return qs


def mission_for_user(user: User, pk: int) -> Mission:
    try:
        return missions_for_user(user).get(pk=pk)
    except Mission.DoesNotExist:
        raise Http404 from None


def audit_entries_for_user(user: User) -> QuerySet[AuditEntry]:
    require(user, Cap.AUDIT_VIEW)
    return AuditEntry.objects.select_related("crisis")


def api_tokens_for_user(user: User) -> QuerySet[ApiToken]:
    require(user, Cap.API_TOKENS)
    return ApiToken.objects.filter(user=user)


def api_token_for_user(user: User, pk: int) -> ApiToken:
    try:
        return api_tokens_for_user(user).get(pk=pk)
    except ApiToken.DoesNotExist:
        raise Http404 from None
