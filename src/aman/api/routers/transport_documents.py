"""A leg's manifest and boarding passes as files (CSV, XLSX, PDF, UN/EDIFACT PAXLST; PNG)."""

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema

from aman.api.files import binary_openapi, file_response
from aman.api.routers.registry import ERRORS, _crisis, _user
from aman.transport import boarding_passes, manifests, selectors, undertakings

router = Router(tags=["transport"])


class ManifestQuery(Schema):
    format: Literal["csv", "xlsx", "pdf", "paxlst"] = "csv"
    crisis: int | None = None


@router.get(
    "/legs/{leg_id}/manifest",
    response={200: None, **ERRORS},
    summary="A leg's passenger manifest as CSV, XLSX, PDF or UN/EDIFACT PAXLST D:05B",
    description="Everyone holding a seat (offered, confirmed, checked in, boarded), by "
    "passport surname; names as printed in the passport. The leg must be in the crisis "
    "(`crisis`, default: your current crisis). Audited as an export.",
    openapi_extra=binary_openapi(*(t for t, _ext in manifests.FORMATS.values())),
)
def leg_manifest(request: HttpRequest, leg_id: int, query: Query[ManifestQuery]) -> Any:
    user = _user(request)
    selectors.require_transport(user)
    crisis = _crisis(user, query.crisis)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=leg_id)
    bookings = selectors.bookings_for_user(user=user, leg=leg)
    file = manifests.manifest_export(actor=user, leg=leg, fmt=query.format, bookings=bookings)
    return file_response(file.content, file.content_type, file.filename)


class PassQuery(Schema):
    format: Literal["png", "pdf"] = "pdf"
    crisis: int | None = None


@router.get(
    "/bookings/{booking_id}/pass",
    response={200: None, **ERRORS},
    summary="A booking's boarding pass: its QR code (PNG) or the printable pass (PDF)",
    description="In the passenger's language; 409 when the booking no longer holds a seat. "
    "The booking must be in the crisis (`crisis`, default: your current crisis). Audited.",
    openapi_extra=binary_openapi("image/png", "application/pdf"),
)
def booking_pass(request: HttpRequest, booking_id: int, query: Query[PassQuery]) -> Any:
    user = _user(request)
    selectors.require_transport(user)
    crisis = _crisis(user, query.crisis)
    booking = selectors.booking_for_user(user=user, crisis=crisis, pk=booking_id)
    file = boarding_passes.booking_pass_export(actor=user, booking=booking, fmt=query.format)
    return file_response(file.content, file.content_type, file.filename)


class UndertakingQuery(Schema):
    crisis: int | None = None


@router.get(
    "/bookings/{booking_id}/undertaking",
    response={200: None, **ERRORS},
    summary="A booking's undertaking to repay (PDF): as signed, or the form to sign",
    description="In the person's language. After check-in the undertaking as recorded (the "
    "name as signed, the date, the officer); before it, the form with the name, the leg and "
    "the amount filled in. 409 when the crisis's policy asks no undertaking for the seat and "
    "none was signed, or when the leg lacks the fare that is the amount. The booking must be "
    "in the crisis (`crisis`, default: your current crisis). Audited as an export.",
    openapi_extra=binary_openapi("application/pdf"),
)
def booking_undertaking(
    request: HttpRequest, booking_id: int, query: Query[UndertakingQuery]
) -> Any:
    user = _user(request)
    selectors.require_transport(user, boarding=True)
    crisis = _crisis(user, query.crisis)
    booking = selectors.booking_for_user(user=user, crisis=crisis, pk=booking_id, boarding=True)
    file = undertakings.undertaking_export(actor=user, booking=booking, crisis=crisis)
    return file_response(file.content, file.content_type, file.filename)
