"""Reference geography: countries and places (cities, airports, border crossings, and later
assembly points and hotels), with a status history for crossings and airports."""

from __future__ import annotations

from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from aman.core.append_only import AppendOnlyModel


def _localized(obj: Country | Place) -> str:
    lang = (get_language() or "en")[:2]
    if lang == "ru" and obj.name_ru:
        return obj.name_ru
    if lang == "kk" and (obj.name_kk or obj.name_ru):
        return obj.name_kk or obj.name_ru
    return obj.name


class CountryQuerySet(models.QuerySet["Country"]):
    def in_local_order(self) -> CountryQuerySet:
        """Sorted by the name shown in the current language (Kazakh falls back to Russian,
        both to English, as `local_name` does)."""
        from django.db.models.functions import Coalesce, NullIf

        lang = (get_language() or "en")[:2]
        if lang == "ru":
            key = Coalesce(NullIf("name_ru", models.Value("")), "name")
        elif lang == "kk":
            key = Coalesce(
                NullIf("name_kk", models.Value("")), NullIf("name_ru", models.Value("")), "name"
            )
        else:
            return self.order_by("name")
        return self.order_by(key)


class Country(models.Model):
    code = models.CharField(_("ISO code"), max_length=2, unique=True)
    code3 = models.CharField(_("ISO alpha-3"), max_length=3, unique=True)
    numeric = models.CharField(_("ISO numeric"), max_length=3, blank=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_ru = models.CharField(_("name (Russian)"), max_length=100, blank=True)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=100, blank=True)

    objects = CountryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return self.local_name

    @property
    def local_name(self) -> str:
        return _localized(self)


class PlaceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESTRICTED = "restricted", _("Restricted")
    CLOSED = "closed", _("Closed")


class Place(models.Model):
    class Kind(models.TextChoices):
        CITY = "city", _("City")
        AIRPORT = "airport", _("Airport")
        CROSSING = "crossing", _("Border crossing")
        ASSEMBLY_POINT = "assembly_point", _("Assembly point")
        HOTEL = "hotel", _("Hotel")

    class Permit(models.TextChoices):
        YES = "yes", _("Required")
        NO = "no", _("Not required")
        UNKNOWN = "unknown", _("Unknown")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, db_index=True)
    code = models.CharField(
        _("code"),
        max_length=40,
        help_text=_("Stable identifier: ICAO code, GeoNames id, or the crossing's id."),
    )
    name = models.CharField(_("name"), max_length=200)
    name_ru = models.CharField(_("name (Russian)"), max_length=200, blank=True)
    name_kk = models.CharField(_("name (Kazakh)"), max_length=200, blank=True)
    alt_names = models.TextField(_("other names"), blank=True)
    search_text = models.TextField(editable=False, blank=True)
    country = models.ForeignKey(
        Country, on_delete=models.PROTECT, related_name="places", verbose_name=_("country")
    )
    region = models.CharField(_("region"), max_length=100, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    timezone = models.CharField(_("time zone"), max_length=50, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    iata = models.CharField(_("IATA code"), max_length=3, blank=True, db_index=True)
    icao = models.CharField(_("ICAO code"), max_length=4, blank=True, db_index=True)
    # Border crossings: the other side, opening hours (null = around the clock), the number
    # of evacuees a planner may assume per day, and whether the entry state wants permits.
    entry_country = models.ForeignKey(
        Country,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entry_crossings",
        verbose_name=_("entry country"),
    )
    entry_name = models.CharField(_("name on the entry side"), max_length=200, blank=True)
    opens_at = models.TimeField(_("opens at"), null=True, blank=True)
    closes_at = models.TimeField(_("closes at"), null=True, blank=True)
    daily_capacity = models.PositiveIntegerField(_("people per day"), null=True, blank=True)
    transit_permit = models.CharField(
        _("transit permit"), max_length=10, choices=Permit.choices, blank=True
    )
    # The latest status event, kept here by `place_status_set` (its only writer) so that
    # lists filter and sort on it; the history is in PlaceStatusEvent.
    status = models.CharField(
        _("status"), max_length=12, choices=PlaceStatus.choices, default=PlaceStatus.OPEN
    )
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            models.UniqueConstraint(fields=["kind", "code"], name="place_kind_code_unique"),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True)
                | (models.Q(latitude__gte=-90) & models.Q(latitude__lte=90)),
                name="place_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True)
                | (models.Q(longitude__gte=-180) & models.Q(longitude__lte=180)),
                name="place_longitude_range",
            ),
        ]
        indexes = [models.Index(fields=["country", "kind"])]

    def __str__(self) -> str:
        label = self.local_name
        if self.kind == Place.Kind.AIRPORT and self.iata:
            return f"{label} ({self.iata})"
        return label

    @property
    def local_name(self) -> str:
        return _localized(self)

    @property
    def hours(self) -> str:
        if self.kind != Place.Kind.CROSSING:
            return ""
        if self.opens_at is None or self.closes_at is None:
            return "24h"
        return f"{self.opens_at:%H:%M}-{self.closes_at:%H:%M}"

    @property
    def zone(self) -> tzinfo:
        """The place's clock: its time zone, else the server's."""
        from django.utils import timezone

        if self.timezone:
            try:
                return ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        return timezone.get_current_timezone()

    @property
    def has_status(self) -> bool:
        return self.kind in (Place.Kind.CROSSING, Place.Kind.AIRPORT)


class PlaceStatusEvent(AppendOnlyModel):
    """Append-only: a crossing or airport opened, restricted or closed, when and why (the
    model and the database refuse changes: core/append_only.py, migration 0002)."""

    append_only_message = "A place's status history is append-only."

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="status_events")
    status = models.CharField(_("status"), max_length=12, choices=PlaceStatus.choices)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    effective_at = models.DateTimeField(_("since"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-effective_at", "-id"]
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")

    def __str__(self) -> str:
        return f"{self.place.name}: {self.status}"
