"""A leg's manifest and boarding passes as files (CSV, XLSX, PDF, UN/EDIFACT PAXLST; PNG),
and a leg's passes printed in the background."""

import json
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from aman.api.files import binary_openapi, file_response
from aman.api.idempotency import idempotent
from aman.api.routers.registry import ERRORS, _crisis, _user
from aman.api.routers.transport import _leg
from aman.api.schemas import ErrorOut
from aman.transport import boarding_passes, manifests, pass_prints, selectors, undertakings
from aman.transport.models import PassPrint

router = Router(tags=["transport"])


class ManifestQuery(Schema):
    format: Literal["csv", "xlsx", "pdf", "paxlst"] = "csv"
    crisis: int | None = None
    recipient: str = Field(
        "",
        max_length=100,
        description="PAXLST only: the receiving border service's identifier in the UNB header "
        "(1 to 35 letters, digits, dots, hyphens or slashes); by default the alpha-3 code of "
        "the state the leg enters (for a leg to a border crossing, the crossing's entry state)",
    )


@router.get(
    "/legs/{leg_id}/manifest",
    response={200: None, **ERRORS},
    summary="A leg's passenger manifest as CSV, XLSX, PDF or UN/EDIFACT PAXLST D:05B",
    description="Everyone holding a seat (offered, confirmed, checked in, boarded), by "
    "passport surname; names as printed in the passport. The leg must be in the crisis "
    "(`crisis`, default: your current crisis). A PAXLST goes to `recipient`; 400 for a "
    "malformed recipient or a recipient with another format. Audited as an export.",
    openapi_extra=binary_openapi(*(t for t, _ext in manifests.FORMATS.values())),
)
def leg_manifest(request: HttpRequest, leg_id: int, query: Query[ManifestQuery]) -> Any:
    user = _user(request)
    selectors.require_transport(user)
    crisis = _crisis(user, query.crisis)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=leg_id)
    bookings = selectors.bookings_for_user(user=user, leg=leg)
    file = manifests.manifest_export(
        actor=user, leg=leg, fmt=query.format, bookings=bookings, recipient=query.recipient
    )
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


class PassPrintOut(Schema):
    id: int
    leg_id: int
    status: Literal["queued", "running", "done", "failed"] = Field(
        description="queued → running → done (the PDF can be downloaded) or failed (`error`)"
    )
    total: int = Field(description="passes to print: the people holding a seat on the leg")
    done: int = Field(description="pages laid out so far")
    error: str = Field(description="why it failed")
    requested_by: str | None = Field(description="who asked for it (none: the system)")
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    available: bool = Field(description="the PDF can be downloaded now")
    expires_at: datetime | None = Field(
        description="when the PDF is deleted (or earlier, when the next print of the leg is ready)"
    )
    cleared: str = Field(description="why the PDF was deleted: `replaced` or `expired`")
    size: int = Field(description="the PDF's size in bytes")
    pdf: str | None = Field(description="where to download the PDF, once done")

    @staticmethod
    def resolve_requested_by(obj: PassPrint) -> str | None:
        return obj.requested_by.get_username() if obj.requested_by else None

    @staticmethod
    def resolve_pdf(obj: PassPrint) -> str | None:
        return f"/api/legs/{obj.leg_id}/passes/{obj.pk}/pdf" if obj.available else None


def _pass_print_out(job: PassPrint) -> dict[str, Any]:
    return PassPrintOut.from_orm(job).model_dump(mode="json")


@router.post(
    "/legs/{leg_id}/passes",
    response={202: PassPrintOut, **ERRORS},
    summary="Print all the leg's boarding passes as one PDF, in the background "
    "(send Idempotency-Key)",
    description="A pass per page, each in its passenger's language, in the manifest's order, "
    "for everyone holding a seat. Answers 202 with the print: poll "
    "GET /api/legs/{leg_id}/passes/{print_id} until its status is `done` (or `failed`), "
    "then GET its `pdf`. While a print of the leg is waiting or running, that print is "
    "answered instead of a second one. 409 when nobody holds a seat.",
)
def leg_passes_print(request: HttpRequest, leg_id: int) -> Any:
    user, leg = _leg(request, leg_id)
    selectors.bookings_for_user(user=user, leg=leg)  # names inside: personal data

    def create() -> tuple[int, Any]:
        job, _created = pass_prints.pass_print_start(actor=user, leg=leg, inline=False)
        return 202, _pass_print_out(job)

    response = idempotent(request, user, {"leg": leg.pk}, create)
    response["Location"] = f"/api/legs/{leg.pk}/passes/{json.loads(response.content)['id']}"
    return response


def _pass_print(request: HttpRequest, leg_id: int, print_id: int) -> tuple[Any, PassPrint]:
    user, leg = _leg(request, leg_id)
    pass_prints.pass_prints_tidy(leg=leg)
    return user, selectors.pass_print_for_user(user=user, leg=leg, pk=print_id)


@router.get(
    "/legs/{leg_id}/passes/{print_id}",
    response={200: PassPrintOut, **ERRORS},
    summary="A print of the leg's boarding passes: its progress, and whether its PDF is ready",
)
def pass_print_detail(request: HttpRequest, leg_id: int, print_id: int) -> Any:
    return _pass_print(request, leg_id, print_id)[1]


@router.get(
    "/legs/{leg_id}/passes/{print_id}/pdf",
    response={200: None, **ERRORS, 410: ErrorOut},
    summary="The PDF of a finished print of the leg's boarding passes",
    description="Audited as a boarding-pass export. 409 while printing (`extra.done` and "
    "`extra.total` say how far it is) or when it failed (`extra.error`); 410 once the file "
    "was deleted (24 hours after it was made, or when the next print of the leg was ready).",
    openapi_extra=binary_openapi("application/pdf"),
)
def pass_print_pdf(request: HttpRequest, leg_id: int, print_id: int) -> Any:
    user, job = _pass_print(request, leg_id, print_id)
    file = pass_prints.pass_print_file(actor=user, job=job)
    return file_response(file.content, file.content_type, file.filename)
