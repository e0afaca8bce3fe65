"""Downloads of a leg's manifest and of boarding passes (logistics officers and crisis
managers: transport and personal data; the leg in the user's current crisis)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from aman.core import access
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.transport import boarding_passes, manifests, selectors


def _user_crisis(request: HttpRequest) -> tuple[User, Crisis]:
    user = request.user
    assert isinstance(user, User)
    selectors.require_transport(user)
    crisis = access.current_crisis(user)
    if crisis is None:
        raise Http404
    return user, crisis


def _download(content: bytes, content_type: str, filename: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # personal data: not kept by browsers or proxies
    return response


def _refused(exc: ApplicationError) -> HttpResponse:
    return HttpResponse(
        exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8"
    )


@login_required
def leg_manifest(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    user, crisis = _user_crisis(request)
    if fmt not in manifests.FORMATS:
        raise Http404
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk)
    bookings = selectors.bookings_for_user(user=user, leg=leg)
    file = manifests.manifest_export(actor=user, leg=leg, fmt=fmt, bookings=bookings)
    return _download(file.content, file.content_type, file.filename, inline=fmt == "pdf")


@login_required
def booking_pass(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    user, crisis = _user_crisis(request)
    if fmt not in boarding_passes.PASS_FORMATS:
        raise Http404
    booking = selectors.booking_for_user(user=user, crisis=crisis, pk=pk)
    try:
        file = boarding_passes.booking_pass_export(actor=user, booking=booking, fmt=fmt)
    except ApplicationError as exc:
        return _refused(exc)
    return _download(file.content, file.content_type, file.filename, inline=True)


@login_required
def leg_passes(request: HttpRequest, pk: int) -> HttpResponse:
    user, crisis = _user_crisis(request)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk)
    bookings = selectors.bookings_for_user(user=user, leg=leg)
    try:
        file = boarding_passes.leg_passes_export(actor=user, leg=leg, bookings=bookings)
    except ApplicationError as exc:
        return _refused(exc)
    return _download(file.content, file.content_type, file.filename, inline=True)
