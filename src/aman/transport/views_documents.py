"""Downloads of a leg's manifest and of boarding passes, and the printing of a leg's
passes (logistics officers and crisis managers: transport and personal data; the leg in the
user's current crisis)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from aman.core import access
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.transport import boarding_passes, manifests, pass_prints, selectors
from aman.transport.models import HOLDS_SEAT


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
    try:
        file = manifests.manifest_export(
            actor=user,
            leg=leg,
            fmt=fmt,
            bookings=bookings,
            recipient=request.GET.get("recipient", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("leg_detail", pk=leg.pk)
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
    """All the leg's boarding passes in one PDF: POST prints them (in the background, or at
    once for a few), GET follows the print and offers the file when it is ready."""
    user, crisis = _user_crisis(request)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk)
    bookings = selectors.bookings_for_user(user=user, leg=leg)  # names inside: personal data
    if request.method == "POST":
        try:
            job, created = pass_prints.pass_print_start(actor=user, leg=leg)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("leg_passes", pk=leg.pk)
        if not created:
            messages.info(request, _("These passes are already being printed."))
        elif job.available:  # a few passes, printed at once: the file, as for a single pass
            return redirect("pass_print_pdf", pk=leg.pk, print_pk=job.pk)
        return redirect("leg_passes", pk=leg.pk)
    pass_prints.pass_prints_tidy(leg=leg)
    prints = list(pass_prints.pass_prints_of(leg)[:10])
    latest = prints[0] if prints else None
    context = {
        "leg": leg,
        "latest": latest,
        "earlier": prints[1:],
        "seats": bookings.filter(status__in=HOLDS_SEAT).count(),
        "changed": latest is not None and latest.available and pass_prints.changed_since(latest),
    }
    return TemplateResponse(request, "transport/leg_passes.html", context)


@login_required
def pass_print_pdf(request: HttpRequest, pk: int, print_pk: int) -> HttpResponse:
    """A print's PDF (audited); while printing, failed or deleted: back to its page, saying
    why."""
    user, crisis = _user_crisis(request)
    leg = selectors.leg_for_user(user=user, crisis=crisis, pk=pk)
    job = selectors.pass_print_for_user(user=user, leg=leg, pk=print_pk)
    try:
        file = pass_prints.pass_print_file(actor=user, job=job)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("leg_passes", pk=leg.pk)
    return _download(file.content, file.content_type, file.filename, inline=True)
