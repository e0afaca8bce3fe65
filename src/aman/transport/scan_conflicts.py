"""The gate's sync conflicts, as the server kept them: scans a device recorded offline that
could not stand when they reached the server (`GateScan` with result *conflict*). The leg's
page lists them and `GET /api/legs/{id}/scan-conflicts` returns them, so that they are not
seen only on the device that recorded them (a read: the callers audit it)."""

from __future__ import annotations

import re

from django.db.models import QuerySet

from aman.transport.models import GateScan, Leg

# The gate page names its device (`D-7K3Q9A`) and sends it before each scan's own id
# (`D-7K3Q9A:<uuid>`); scans of devices that did not yet do so have no name.
_DEVICE = re.compile(r"^([A-Z0-9][A-Z0-9-]{1,23}):")


def device_of(client_id: str) -> str:
    """The name of the device that recorded a scan, from the scan's id ('' when none)."""
    match = _DEVICE.match(client_id or "")
    return match.group(1) if match else ""


def scan_conflicts(leg: Leg) -> QuerySet[GateScan]:
    """The leg's scans that ended in a conflict, the latest first, with the officer and the
    person of the booking."""
    return (
        GateScan.objects.filter(leg=leg, result=GateScan.Result.CONFLICT)
        .select_related("officer", "booking", "booking__person")
        .order_by("-scanned_at", "-id")
    )
