"""Reads of the registry, through the one door: `people_for_user`."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from aman.core.access import country_scope, require
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.registry.identity import name_matching_key
from aman.registry.models import Household, NameKey, Person
from aman.registry.services import document_hash, iin_hash, normalize_reference_code, phone_hash


def people_for_user(*, user: User, crisis: Crisis) -> QuerySet[Person]:
    """People of a crisis the user may see: none for roles without personal data; for a
    consul only those in their mission's countries."""
    require(user, Cap.PERSONAL_DATA)
    qs = Person.objects.filter(crisis=crisis).select_related("country", "city", "household")
    scope = country_scope(user)
    if scope is not None:
        qs = qs.filter(country__in=scope)
    return qs


def person_for_user(*, user: User, crisis: Crisis, pk: int) -> Person:
    try:
        return people_for_user(user=user, crisis=crisis).get(pk=pk)
    except Person.DoesNotExist:
        raise Http404 from None


def people_filtered(*, user: User, crisis: Crisis, filters: dict[str, Any]) -> QuerySet[Person]:
    qs = people_for_user(user=user, crisis=crisis)
    for field in ("status", "intent", "channel", "eligibility"):
        if filters.get(field):
            qs = qs.filter(**{field: filters[field]})
    if filters.get("min_priority") is not None:
        qs = qs.filter(priority__gte=filters["min_priority"])
    if filters.get("country"):
        qs = qs.filter(country__code=str(filters["country"]).upper())
    if filters.get("city_id"):
        qs = qs.filter(city_id=filters["city_id"])
    if filters.get("mission"):
        qs = qs.filter(country__covering_missions=filters["mission"])
    if filters.get("q"):
        qs = people_search(qs, crisis=crisis, query=str(filters["q"]))
    order = filters.get("order") or "-priority"
    return qs.order_by(order, "surname", "id")


def people_search(qs: QuerySet[Person], *, crisis: Crisis, query: str) -> QuerySet[Person]:
    """By reference code, passport number, phone, IIN (exact, through keyed hashes), or by
    name in any script (every word must match the start of one of the person's name keys)."""
    query = query.strip()
    if not query:
        return qs
    compact = "".join(ch for ch in query if ch.isalnum() or ch == "+")
    exact = Q(reference_code=normalize_reference_code(query))
    if sum(ch.isdigit() for ch in compact) >= 3:
        exact |= Q(documents__number_hash=document_hash(compact))
        exact |= Q(phones__number_hash=phone_hash(compact))
        exact |= Q(iin_hash=iin_hash(compact))
        from aman.registry.identity import normalize_phone

        for region in {crisis.home_country.code}:
            parsed = normalize_phone(query, region)
            if parsed.e164:
                exact |= Q(phones__number_hash=phone_hash(parsed.e164))
    elif len(compact) >= 5:
        exact |= Q(documents__number_hash=document_hash(compact))
    by_name = Q()
    words = [w for w in query.replace(",", " ").split() if w]
    # A word with digits is an identifier, not a name.
    keys = [name_matching_key(w) for w in words] if not any(ch.isdigit() for ch in query) else []
    if keys and all(len(k) >= 2 for k in keys):
        ids = None
        for key in keys:
            matched = set(
                NameKey.objects.filter(crisis=crisis, key__startswith=key).values_list(
                    "person_id", flat=True
                )[:5000]
            )
            ids = matched if ids is None else ids & matched
        by_name = Q(pk__in=ids or [])
    return qs.filter(exact | by_name).distinct()


def households_for_user(
    *, user: User, crisis: Crisis, min_priority: int | None = None
) -> QuerySet[Household]:
    """Households with at least one member the user may see; `visible_members` holds those
    members (a consul sees the members in their mission's countries)."""
    from django.db.models import Prefetch

    people = people_for_user(user=user, crisis=crisis)
    qs = (
        Household.objects.filter(crisis=crisis, members__in=people)
        .distinct()
        .prefetch_related(
            Prefetch("members", queryset=people.order_by("id"), to_attr="visible_members")
        )
        .order_by("-priority", "id")
    )
    if min_priority is not None:
        qs = qs.filter(priority__gte=min_priority)
    return qs
