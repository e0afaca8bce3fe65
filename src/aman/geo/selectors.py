"""Reads of reference geography. Reference data holds no personal data: every signed-in
staff role may read it."""

from __future__ import annotations

from django.db.models import Case, F, IntegerField, Q, QuerySet, When
from django.http import Http404

from aman.geo.loaders import fold
from aman.geo.models import Country, Place


def places_search(
    *, q: str = "", kind: str = "", country: str = "", status: str = ""
) -> QuerySet[Place]:
    qs = Place.objects.select_related("country", "entry_country")
    if kind:
        qs = qs.filter(kind=kind)
    if country:
        qs = qs.filter(Q(country__code=country.upper()) | Q(entry_country__code=country.upper()))
    if status:
        qs = qs.filter(status=status)
    q = q.strip()
    if q:
        code = q.upper()
        by_code = Q(iata=code) | Q(icao=code) | Q(code__iexact=q)
        qs = qs.filter(by_code | Q(search_text__contains=fold(q)))
        # Exact codes first, then bigger places, the same on every database.
        return qs.order_by(
            Case(When(by_code, then=0), default=1, output_field=IntegerField()),
            F("population").desc(nulls_last=True),
            "name",
            "pk",
        )
    return qs.order_by("kind", "country__code", "name")


def place_get(*, pk: int) -> Place:
    try:
        return Place.objects.select_related("country", "entry_country").get(pk=pk)
    except Place.DoesNotExist:
        raise Http404 from None


def country_get(*, code: str) -> Country:
    try:
        return Country.objects.get(code=code.upper())
    except Country.DoesNotExist:
        raise Http404 from None


def home_country() -> Country | None:
    from django.conf import settings

    return Country.objects.filter(code=settings.AMAN_HOME_COUNTRY).first()


def countries_search(*, q: str = "") -> QuerySet[Country]:
    qs = Country.objects.all()
    q = q.strip()
    if q:
        qs = qs.filter(
            Q(code__iexact=q)
            | Q(code3__iexact=q)
            | Q(name__icontains=q)
            | Q(name_ru__icontains=q)
            | Q(name_kk__icontains=q)
        )
    return qs


def crossings(*, countries: list[Country] | None = None) -> QuerySet[Place]:
    qs = Place.objects.filter(kind=Place.Kind.CROSSING).select_related("country", "entry_country")
    if countries is not None:
        qs = qs.filter(country__in=countries)
    return qs.order_by("country__code", "entry_country__code", "name")


def countries_by_codes(codes: list[str], *, field: str) -> list[Country]:
    """Countries for ISO alpha-2 codes, in the order given; unknown codes are an error."""
    from django.utils.translation import gettext as _

    from aman.core.errors import ApplicationError

    wanted = [c.strip().upper() for c in codes]
    found = {c.code: c for c in Country.objects.filter(code__in=wanted)}
    unknown = [c for c in wanted if c not in found]
    if unknown:
        raise ApplicationError(
            _("Unknown country code: %(codes)s.") % {"codes": ", ".join(unknown)}, {field: unknown}
        )
    return [found[c] for c in dict.fromkeys(wanted)]
