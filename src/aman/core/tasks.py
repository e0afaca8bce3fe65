"""Background tasks of the core app. Thin: load ids, call a service or selector."""

from typing import Any

from celery import shared_task

from aman.core.models import Crisis


@shared_task(name="aman.core.crisis_summary")
def crisis_summary(crisis_id: int) -> dict[str, Any]:
    """A small summary of a crisis, computed by a worker; the readiness probe of `aman worker`
    deployments and the round-trip test of the real broker."""
    crisis = Crisis.objects.prefetch_related("affected_countries").get(pk=crisis_id)
    return {
        "id": crisis.pk,
        "code": crisis.code,
        "status": crisis.status,
        "affected_countries": sorted(c.code for c in crisis.affected_countries.all()),
    }
