"""The gate: the duty officer's check-in and boarding page, the leg's manifest it keeps on the
device, one scan online and a batch of scans recorded offline (business logic in
`aman.transport.gate`)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from aman.core.errors import ApplicationError
from aman.core.models import User
from aman.registry.triage import GROUPS
from aman.transport import gate, selectors
from aman.transport.models import BookingStatus, Leg


def _leg(request: HttpRequest, pk: int) -> tuple[User, Leg]:
    """The leg, for a user who may work its gate and see its people."""
    user = request.user
    assert isinstance(user, User)
    # The leg and its crisis in one query (the audit entries name the crisis).
    leg = selectors.current_leg_for_user(user=user, pk=pk, boarding=True)
    selectors.bookings_for_user(user=user, leg=leg, boarding=True)  # personal data
    return user, leg


def _payload(request: HttpRequest) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise ApplicationError(_("The request is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise ApplicationError(_("The request is not valid JSON."))
        return data
    return request.POST.dict()


def _error(exc: ApplicationError) -> JsonResponse:
    return JsonResponse({"message": exc.message, "extra": exc.extra}, status=exc.status_code)


def _strings() -> dict[str, Any]:
    """Every word the page's script shows, translated here (the script has none of its own)."""
    return {
        "verdicts": {
            k: {"level": lvl, "message": str(msg)} for k, (lvl, msg) in gate.VERDICTS.items()
        },
        "statuses": {k: str(label) for k, label in BookingStatus.choices},
        "needs": {k: str(GROUPS[k]) for k in gate.VULNERABILITIES},
        "document_states": {
            "missing": _("no document on record"),
            "expired": _("expired before departure"),
            "ok": _("valid"),
        },
        "permits": {
            "approved": _("transit permit approved"),
            "refused": _("transit permit refused"),
            "pending": _("transit permit pending"),
            "missing": _("no transit permit asked for"),
        },
        "online": _("Online"),
        "offline": _("Offline: answering from this device"),
        "waiting": _("%(n)s scans waiting to be sent"),
        "none_waiting": _("Every scan is sent."),
        "manifest": _("Passenger list of %(time)s on this device: %(n)s bookings."),
        "no_manifest": _("No passenger list on this device yet: connect to the network once."),
        "checked_in": _("Checked in."),
        "boarded": _("Boarded."),
        "already": _("Already %(status)s."),
        "recorded_offline": _("Recorded on this device; sent when the network returns."),
        "not_valid_here": _("This pass is not for this leg (it names leg %(leg)s)."),
        "unreadable": _("The passport zone could not be read (check digit of the %(field)s)."),
        "document_number": _("document number"),
        "reference": _("Reference"),
        "born": _("Born"),
        "seat": _("Seat"),
        "priority": _("Priority"),
        "document": _("Document"),
        "expires": _("expires %(day)s"),
        "household": _("Travelling with"),
        "alone": _("Travels alone."),
        "cases": _("Open consular cases"),
        "warnings": _("Warnings"),
        "undertaking": _(
            "Undertaking to repay %(amount)s %(currency)s: the name the person signed with"
        ),
        "undertaking_signed": _("Undertaking to repay signed."),
        "undertaking_print": _("Print the undertaking (PDF)"),
        "undertaking_submit": _("Record the undertaking and repeat"),
        "undertaking_needed": _("An undertaking to repay must be signed first."),
        "dismiss": _("Dismiss"),
        "camera_start": _("Scan with the camera"),
        "camera_stop": _("Stop the camera"),
        "camera_failed": _("The camera could not be started: %(error)s"),
        "signed_out": _(
            "Signed out: sign in again in another tab; the scans stay on this device until then."
        ),
        "server_error": _("The server refused the scan: %(message)s"),
        "action_check_in": _("Check-in"),
        "action_board": _("Board"),
        "offline_tag": _("offline"),
        "clear_confirm": _(
            "Clear this device? The passenger list is deleted; %(n)s scans not yet sent would be "
            "lost."
        ),
        "cleared": _("This device holds no data of this leg any more."),
        "device": _("This device: %(name)s"),
    }


@login_required
@require_GET
def gate_page(request: HttpRequest, pk: int) -> HttpResponse:
    _user, leg = _leg(request, pk)
    config = {
        "leg": gate.leg_summary(leg),
        "urls": {
            "manifest": reverse("gate_manifest", args=[leg.pk]),
            "scan": reverse("gate_scan", args=[leg.pk]),
            "sync": reverse("gate_sync", args=[leg.pk]),
            "worker": reverse("gate_worker"),
            # The camera's QR decoder where the browser has none of its own.
            "jsqr": static("vendor/jsqr/jsQR.js"),
            # {id}: the booking's id.
            "undertaking": reverse("undertaking_pdf", args=[0]).replace("/0/", "/{id}/"),
        },
        "csrf": get_token(request),
        "strings": _strings(),
        "timeout_ms": 3000,
        "sync_every_ms": 15000,
        "refresh_every_ms": 300000,
    }
    return TemplateResponse(request, "transport/gate.html", {"leg": leg, "gate_config": config})


@never_cache
@login_required
@require_GET
def gate_manifest(request: HttpRequest, pk: int) -> HttpResponse:
    user, leg = _leg(request, pk)
    return JsonResponse(gate.gate_manifest_export(actor=user, leg=leg))


@never_cache
@login_required
@require_POST
def gate_scan(request: HttpRequest, pk: int) -> HttpResponse:
    """One scan online: applied (check-in, boarding, or a look-up) and answered."""
    user, leg = _leg(request, pk)
    try:
        return JsonResponse(gate.gate_scan_online(actor=user, leg=leg, scan=_payload(request)))
    except ApplicationError as exc:
        return _error(exc)


@never_cache
@login_required
@require_POST
def gate_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """Scans recorded on a device (while offline), applied once each, in order."""
    user, leg = _leg(request, pk)
    try:
        payload = _payload(request)
        results = gate.gate_sync(actor=user, leg=leg, scans=payload.get("scans") or [])
    except ApplicationError as exc:
        return _error(exc)
    return JsonResponse({"results": results, "leg": gate.leg_summary(leg)})


@require_GET
def gate_worker(request: HttpRequest) -> HttpResponse:
    """The gate's service worker, served under /transport/ so that it may keep the gate
    pages for offline use (a worker's reach is the path it is served from). The script
    holds no data; it is public like any static file."""
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "static" / "aman" / "gate-sw.js"
    response = HttpResponse(script.read_text(encoding="utf-8"), content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response
