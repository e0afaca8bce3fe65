"""Reads of the registry, through the one door: `people_for_user`."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from aman.core.access import country_scope, require
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.registry.identity import name_matching_key
from aman.registry.models import Document, Household, NameKey, Person, Phone
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
    name in any script (every word must match the start of one of the person's name keys).

    Each identifier is looked up on its own index first (a few rows, no joins); only a
    query that matches no identifier and has no digits is a name. A name's words meet in
    the name keys (`INTERSECT` of one index range per word), so the people table is read
    only for the people who match every word."""
    query = query.strip()
    if not query:
        return qs
    ids = _identifier_matches(crisis, query)
    if ids or any(ch.isdigit() for ch in query):
        return qs.filter(pk__in=ids)
    words = [w for w in query.replace(",", " ").split() if w]
    keys = list(dict.fromkeys(k for k in map(name_matching_key, words) if k))
    if not keys or any(len(k) < 2 for k in keys):
        return qs.none()
    ranges = [
        NameKey.objects.filter(crisis=crisis, key__gte=k, key__lt=_after_prefix(k)).values(
            "person_id"
        )
        for k in keys
    ]
    matches = ranges[0] if len(ranges) == 1 else ranges[0].intersection(*ranges[1:])
    return qs.filter(pk__in=matches)


def _after_prefix(key: str) -> str:
    """The first string after every string that starts with `key` (keys are a–z), so that
    a prefix is an index range on any database and any collation."""
    return key[:-1] + chr(ord(key[-1]) + 1)


def _identifier_matches(crisis: Crisis, query: str) -> set[int]:
    from aman.registry.identity import normalize_phone

    compact = "".join(ch for ch in query if ch.isalnum() or ch == "+")
    people = Person.objects.filter(crisis=crisis)
    ids = set(
        people.filter(reference_code=normalize_reference_code(query)).values_list("pk", flat=True)
    )
    digits = sum(ch.isdigit() for ch in compact)
    if digits >= 3 or len(compact) >= 5:
        ids |= set(
            Document.objects.filter(
                number_hash=document_hash(compact), person__crisis=crisis
            ).values_list("person_id", flat=True)
        )
    if digits >= 3:
        hashes = {phone_hash(compact)}
        parsed = normalize_phone(query, crisis.home_country.code)
        if parsed.e164:
            hashes.add(phone_hash(parsed.e164))
        ids |= set(
            Phone.objects.filter(number_hash__in=hashes, person__crisis=crisis).values_list(
                "person_id", flat=True
            )
        )
        ids |= set(people.filter(iin_hash=iin_hash(compact)).values_list("pk", flat=True))
    return ids


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
