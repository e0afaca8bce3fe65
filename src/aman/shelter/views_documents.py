"""Vouchers, the public voucher check, the cost ledger and exchange rates.

Vouchers name the guests: shelter and personal data (`stays_for_user`). The ledger holds only
aggregates, but it is money: shelter. The check page is public and shows no name ever."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from aman.core import access, ratelimit
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.shelter import ledger as ledgers
from aman.shelter import selectors, services, vouchers
from aman.shelter.models import ExchangeRate, Payer, StayStatus, TourOperator
from aman.transport.forms import service_errors


def _current(request: HttpRequest) -> tuple[User, Crisis]:
    """The user, who must work in shelter, and their current crisis."""
    user = request.user
    assert isinstance(user, User)
    selectors.require_shelter(user)
    crisis = access.current_crisis(user)
    if crisis is None:
        raise Http404
    return user, crisis


def _download(content: bytes, content_type: str, filename: str, *, inline: bool) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "no-store"  # names or money: not kept by browsers or proxies
    return response


# Vouchers ------------------------------------------------------------------------------------


@login_required
def voucher(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    user, crisis = _current(request)
    if fmt not in vouchers.FORMATS:
        raise Http404
    stay = selectors.stay_for_user(user=user, crisis=crisis, pk=pk)

    def url_for(code: str) -> str:
        return request.build_absolute_uri(reverse("voucher_check", args=[code]))

    try:
        file = vouchers.voucher_export(actor=user, stay=stay, fmt=fmt, url_for=url_for)
    except ApplicationError as exc:
        return TemplateResponse(
            request,
            "shelter/voucher_refused.html",
            {"stay": stay, "message": exc.message},
            status=exc.status_code,
        )
    return _download(file.content, file.content_type, file.filename, inline=True)


def voucher_check(request: HttpRequest, code: str) -> HttpResponse:
    """Public: a hotel's front desk scans a voucher's QR code and sees whether it is valid.
    No login, no names, no reference codes; a forged code and an unknown stay answer alike."""
    limit = settings.AMAN_PUBLIC_LOOKUPS_PER_15_MINUTES
    try:
        if ratelimit.exceeded(request, "voucher", limit):
            # Codes guessed from one address: answered alike, whether genuine or not.
            response = TemplateResponse(
                request,
                "shelter/voucher_check.html",
                {"unknown": True, "too_many": True},
                status=429,
            )
            response["Retry-After"] = str(15 * 60)
            response["Cache-Control"] = "no-store"
            return response
        stay = vouchers.stay_for_code(code)
    except vouchers.BadVoucher:
        ratelimit.hit(request, "voucher", 15 * 60)
        response = TemplateResponse(
            request, "shelter/voucher_check.html", {"unknown": True}, status=404
        )
    else:
        reasons = {
            StayStatus.CANCELLED: _("The stay was cancelled."),
            StayStatus.NO_SHOW: _("The guests did not arrive (no-show)."),
            StayStatus.CHECKED_OUT: _("Already used: the guests have checked out."),
        }
        valid = stay.holds_room
        reason = reasons.get(StayStatus(stay.status), "")
        if valid and services.hotel_today(stay) > stay.check_out_day:
            valid, reason = False, _("Expired: the stay's last night has passed.")
        response = TemplateResponse(
            request,
            "shelter/voucher_check.html",
            {
                "unknown": False,
                "valid": valid,
                "reason": reason,
                "stay": stay,
                "contract": stay.block,
                "hotel": stay.block.hotel,
                "number": vouchers.voucher_number(stay),
                "payer": vouchers.payer_label(stay),
            },
        )
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


# The cost ledger -----------------------------------------------------------------------------


def _filter_choices(user: User, crisis: Crisis) -> dict[str, Any]:
    return {
        "hotels": list(selectors.hotels_for_user(user=user, crisis=crisis)),
        "payers": Payer.choices,
        "operators": list(TourOperator.objects.order_by("name")),
    }


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    user, crisis = _current(request)
    filters, problems = ledgers.parse_filters(request.GET)
    book = ledgers.ledger_build(crisis=crisis, filters=filters)
    query = urlencode({k: v for k, v in filters.as_dict().items() if v})
    return TemplateResponse(
        request,
        "shelter/ledger.html",
        {
            "crisis": crisis,
            "ledger": book,
            "filters": filters.as_dict(),
            "problems": problems,
            "xlsx_url": reverse("ledger_xlsx") + (f"?{query}" if query else ""),
            **_filter_choices(user, crisis),
        },
    )


@login_required
def ledger_xlsx(request: HttpRequest) -> HttpResponse:
    user, crisis = _current(request)
    filters, _problems = ledgers.parse_filters(request.GET)
    file = ledgers.ledger_export(actor=user, crisis=crisis, filters=filters)
    return _download(file.content, file.content_type, file.filename, inline=False)


# Exchange rates ------------------------------------------------------------------------------


class ExchangeRateForm(forms.Form):
    """Carries what was typed; `services.exchange_rate_set` validates."""

    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        help_text=gettext_lazy("ISO code: USD, AZN, AED"),
    )
    rate = forms.CharField(
        label=gettext_lazy("Rate in the home currency"),
        max_length=20,
        help_text=gettext_lazy("What one unit of the currency is worth in the home currency."),
    )
    valid_from = forms.CharField(
        label=gettext_lazy("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.CharField(
        label=gettext_lazy("Source"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("For example: the national bank's rate of the day."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def exchange_rates(request: HttpRequest) -> HttpResponse:
    user, crisis = _current(request)
    form = ExchangeRateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rate = services.exchange_rate_set(actor=user, crisis=crisis, data=form.cleaned_data)
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Recorded: 1 %(currency)s = %(rate)s %(home)s from %(day)s.")
                % {
                    "currency": rate.currency,
                    "rate": ledgers.rate_text(rate.rate),
                    "home": ledgers.home_currency(),
                    "day": rate.valid_from.isoformat(),
                },
            )
            return redirect("exchange_rates")
    rates = [
        (r, ledgers.rate_text(r.rate))
        for r in ExchangeRate.objects.filter(crisis=crisis).select_related("recorded_by")
    ]
    return TemplateResponse(
        request,
        "shelter/exchange_rates.html",
        {
            "crisis": crisis,
            "form": form,
            "rates": rates,
            "home_currency": ledgers.home_currency(),
        },
    )
