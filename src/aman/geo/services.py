"""Writes to reference geography: status changes of crossings and airports, planner
figures of crossings, and reference data loads. Atomic and audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aman.core.audit import audit_write, diff, snapshot
from aman.core.errors import ApplicationError
from aman.core.models import AuditEntry, User
from aman.geo import loaders
from aman.geo.models import Place, PlaceStatus, PlaceStatusEvent

CROSSING_FIELDS = ["opens_at", "closes_at", "daily_capacity", "transit_permit"]


@transaction.atomic
def place_status_set(
    *,
    actor: User | None,
    place: Place,
    status: str,
    reason: str = "",
    effective_at: datetime | None = None,
) -> PlaceStatusEvent:
    """Record that a crossing or airport opened, became restricted or closed. The event is
    appended to the history; the place's current status follows the latest event by time."""
    if status not in PlaceStatus.values:
        raise ApplicationError(
            _("Unknown status."),
            {"status": [_("Choose one of: %s") % ", ".join(PlaceStatus.values)]},
        )
    place = Place.objects.select_for_update().get(pk=place.pk)
    if not place.has_status:
        raise ApplicationError(
            _("Only border crossings and airports have a status."), {"place": [place.kind]}
        )
    reason = reason.strip()
    if status != PlaceStatus.OPEN and not reason:
        raise ApplicationError(
            _("Say why the place is restricted or closed."),
            {"reason": [_("This field is required.")]},
        )
    now = timezone.now()
    effective_at = effective_at or now
    if timezone.is_naive(effective_at):
        raise ApplicationError(
            _("The time needs a time zone."), {"effective_at": [str(effective_at)]}
        )
    # Announced future changes would need a scheduler to take effect; until the planner
    # models them, only what has happened is recorded (a few minutes of clock skew allowed).
    if effective_at > now + timedelta(minutes=5):
        raise ApplicationError(
            _("A status change is recorded when it happens, not in advance."),
            {"effective_at": [effective_at.isoformat()]},
        )
    event = PlaceStatusEvent.objects.create(
        place=place,
        status=status,
        reason=reason[:500],
        effective_at=effective_at,
        recorded_by=actor,
    )
    latest = place.status_events.order_by("-effective_at", "-id").first()
    before = {"status": place.status}
    if latest is not None and (place.status, place.status_changed_at) != (
        latest.status,
        latest.effective_at,
    ):
        place.status, place.status_changed_at = latest.status, latest.effective_at
        place.save(update_fields=["status", "status_changed_at", "updated_at"])
    audit_write(
        actor=actor,
        verb="place_status_set",
        obj=place,
        changes={
            **diff(before, {"status": place.status}),
            "event": [
                None,
                {
                    "status": status,
                    "reason": event.reason,
                    "effective_at": effective_at.isoformat(),
                },
            ],
        },
    )
    return event


@transaction.atomic
def crossing_update(
    *,
    actor: User | None,
    place: Place,
    hours: str | None = None,
    daily_capacity: int | None = None,
    transit_permit: str | None = None,
) -> Place:
    """Change a crossing's opening hours, assumed daily throughput or permit requirement."""
    place = Place.objects.select_for_update().get(pk=place.pk)
    if place.kind != Place.Kind.CROSSING:
        raise ApplicationError(_("This place is not a border crossing."), {"place": [place.kind]})
    before = snapshot(place, CROSSING_FIELDS)
    if hours is not None:
        try:
            place.opens_at, place.closes_at = loaders.parse_hours(hours)
        except loaders.ReferenceDataError:
            raise ApplicationError(
                _("Opening hours are “24h” or “HH:MM-HH:MM”."), {"hours": [hours]}
            ) from None
    if daily_capacity is not None:
        if daily_capacity < 0 or daily_capacity > 100000:
            raise ApplicationError(
                _("People per day must be between 0 and 100000."),
                {"daily_capacity": [daily_capacity]},
            )
        place.daily_capacity = daily_capacity
    if transit_permit is not None:
        if transit_permit not in Place.Permit.values:
            raise ApplicationError(
                _("Transit permit is yes, no or unknown."), {"transit_permit": [transit_permit]}
            )
        place.transit_permit = transit_permit
    place.save()
    changes = diff(before, snapshot(place, CROSSING_FIELDS))
    if changes:
        audit_write(actor=actor, verb="crossing_update", obj=place, changes=changes)
    return place


@transaction.atomic
def reference_data_load(
    *,
    actor: User | None,
    cities: bool = True,
    city_min_population: int | None = None,
    crossings_path: Path | None = None,
) -> dict[str, loaders.LoadResult]:
    """Load or refresh countries, airports, cities and border crossings (idempotent): what
    was created and refreshed of each."""
    results = {"countries": loaders.load_countries()}
    results["airports"] = loaders.load_airports()
    if cities:
        results["cities"] = loaders.load_cities(
            city_min_population or settings.AMAN_CITY_MIN_POPULATION
        )
    path = crossings_path or Path(settings.AMAN_REFERENCE_DATA_DIR) / "border_crossings.csv"
    try:
        results["crossings"] = loaders.load_crossings(path)
    except (OSError, loaders.ReferenceDataError) as exc:
        raise ApplicationError(
            _("The crossings file could not be loaded."), {"crossings": [str(exc)]}
        ) from exc
    audit_write(
        actor=actor,
        verb="reference_data_load",
        action=AuditEntry.Action.UPDATE,
        object_type="geo.place",
        changes={k: [None, str(v)] for k, v in results.items()},
    )
    return results
