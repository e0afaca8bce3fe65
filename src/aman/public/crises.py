"""The open crises the public pages and forms read on every request, from this process's
copy (`core.hot`: renewed when a crisis or a country changes, and at least every 30 s)."""

from __future__ import annotations

from aman.core import hot
from aman.core.models import Crisis
from aman.geo.models import Country
from aman.registry.services import crisis_country_ids


def all_open_crises() -> list[Crisis]:
    """Every open crisis, taking public registrations or not (one registering by telephone
    only has a hotline too), from this process's copy (`core.hot`: renewed when a crisis or
    a country changes): every request of the form reads them."""
    return hot.get("open-crises", None, load_open_crises) or []


def load_open_crises() -> list[Crisis]:
    """The open crises, each with the countries its people may be registered in
    (`near_countries`: `registry.services.crisis_countries` — its affected countries, where
    its crossings lead, its missions' countries)."""
    crises = list(
        Crisis.objects.filter(status=Crisis.Status.OPEN)
        .select_related("home_country")
        .order_by("name")
    )
    for crisis in crises:
        crisis.near_countries = list(  # type: ignore[attr-defined]
            Country.objects.filter(pk__in=crisis_country_ids(crisis))
        )
    return crises


def open_crises() -> list[Crisis]:
    """The crises open to public registration: the same objects while the copy lasts
    (`public.views._blank_page` knows its crises by them)."""
    return [c for c in all_open_crises() if c.public_registration]
