"""Transit permits (the lists of people a crossing's entry state is asked to let through, the
state's answer per person) and the crisis's cost-recovery policy with the printable
undertaking to repay: the logistics officer's pages."""

from __future__ import annotations

import csv
import io
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from aman.core import access
from aman.core.audit import audit_read
from aman.core.cells import formula_safe
from aman.core.errors import ApplicationError
from aman.core.ids import is_id
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.geo.models import Place
from aman.transport import selectors, services, undertakings
from aman.transport import selectors_permits as permits
from aman.transport.forms import service_errors
from aman.transport.models import PermitDecision, PermitList

# Forms -----------------------------------------------------------------------------------------


class CrossingChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        assert isinstance(obj, Place)
        return f"{obj.local_name} — {obj.get_transit_permit_display() or _('Unknown')}"


class PermitBuildForm(forms.Form):
    crossing = CrossingChoiceField(
        label=gettext_lazy("Crossing"),
        queryset=Place.objects.filter(kind=Place.Kind.CROSSING),
        error_messages={"invalid_choice": gettext_lazy("Choose a border crossing.")},
    )
    day = forms.DateField(
        label=gettext_lazy("Day of crossing"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["crossing"]
        assert isinstance(field, CrossingChoiceField)
        field.choices = [("", "—")] + [
            (p.pk, field.label_from_instance(p)) for p in permits.crossing_choices()
        ]


class TransportPolicyForm(forms.Form):
    cost_recovery = forms.BooleanField(
        label=gettext_lazy("People sign an undertaking to repay the cost of their seat"),
        required=False,
    )
    amount_rule = forms.ChoiceField(
        label=gettext_lazy("Amount"),
        choices=[
            ("fare", gettext_lazy("The leg's economy fare")),
            ("fixed", gettext_lazy("A fixed amount")),
        ],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    fixed_amount = forms.DecimalField(
        label=gettext_lazy("Fixed amount"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text=gettext_lazy("Required when the amount is a fixed amount."),
    )
    currency = forms.CharField(
        label=gettext_lazy("Currency"),
        max_length=3,
        min_length=3,
        help_text=gettext_lazy(
            "Three letters (ISO 4217), e.g. KZT. A leg's fare keeps the leg's currency."
        ),
    )
    flights_only = forms.BooleanField(
        label=gettext_lazy("For flights only (not for buses, ferries or trains)"), required=False
    )

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        if not value.isalpha():
            raise forms.ValidationError(_("A three-letter currency code (ISO 4217)."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("cost_recovery")
            and data.get("amount_rule") == "fixed"
            and data.get("fixed_amount") is None
            and "fixed_amount" not in self.errors
        ):
            self.add_error("fixed_amount", _("Required when the amount is a fixed amount."))
        return data


# Helpers ---------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _permit_list(request: HttpRequest, pk: int) -> tuple[User, PermitList]:
    user = _user(request)
    permits.require_permits(user)
    found = permits.permit_list_for_user(user=user, crisis=access.current_crisis(user), pk=pk)
    return user, found


# Transit permits -------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def permit_list(request: HttpRequest) -> HttpResponse:
    """Crossings that want permits × days with legs arriving there; build or refresh a list."""
    user = _user(request)
    permits.require_permits(user)
    crisis = access.current_crisis(user)
    form = PermitBuildForm(
        request.POST if request.method == "POST" else None,
        initial={"day": timezone.localdate()},
    )
    if request.method == "POST" and crisis is not None and form.is_valid():
        try:
            built = services.permit_list_build(
                actor=user,
                crisis=crisis,
                crossing=form.cleaned_data["crossing"],
                day=form.cleaned_data["day"],
            )
        except ApplicationError as exc:
            service_errors(form, exc)
        else:
            crossing = form.cleaned_data["crossing"]
            if crossing.transit_permit != Place.Permit.YES:
                messages.warning(
                    request,
                    _(
                        "The reference data does not say that %(crossing)s wants transit "
                        "permits; the list is kept all the same."
                    )
                    % {"crossing": crossing.local_name},
                )
            count = built.entries.count()
            messages.success(
                request,
                ngettext("The list holds %(n)d person.", "The list holds %(n)d people.", count)
                % {"n": count},
            )
            return redirect("permit_detail", pk=built.pk)
    overview = permits.permit_overview(user=user, crisis=crisis) if crisis else None
    return TemplateResponse(
        request,
        "transport/permit_list.html",
        {"crisis": crisis, "overview": overview, "form": form},
        status=400 if form.errors else 200,
    )


def _answers(request: HttpRequest, permit_list: PermitList) -> tuple[dict[int, str], str]:
    """Entry id → decision from the answers form: the per-person choices that changed, or
    one decision for the ticked people / for everyone / for everyone still pending."""
    post = request.POST
    note = post.get("note", "")
    scope = post.get("scope", "")
    if scope in ("selected", "all", "pending"):
        decision = post.get("bulk_decision", "")
        if not decision:
            raise ApplicationError(_("Choose the answer to record."))
        entries = permit_list.entries.all()
        if scope == "selected":
            chosen = [v for v in post.getlist("entry") if is_id(v)]
            if not chosen:
                raise ApplicationError(_("Tick the people the answer is for."))
            return {int(v): decision for v in chosen}, note
        if scope == "pending":
            entries = entries.filter(decision=PermitDecision.PENDING)
        return {pk: decision for pk in entries.values_list("pk", flat=True)}, note
    current = dict(permit_list.entries.values_list("pk", "decision"))
    answers: dict[int, str] = {}
    for key in post:
        if not key.startswith("decision_"):
            continue
        value = post.get(key, "")
        pk = key.removeprefix("decision_")
        if not is_id(pk):
            raise ApplicationError(_("Not on this list."), {"entries": [pk[:20]]})
        if current.get(int(pk)) != value:
            answers[int(pk)] = value
    return answers, note


@login_required
@require_http_methods(["GET", "POST"])
def permit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One list: its people and the state's answers; refresh, submit, record answers."""
    user, found = _permit_list(request, pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "refresh":
                before = found.entries.count()
                services.permit_list_build(
                    actor=user, crisis=found.crisis, crossing=found.crossing, day=found.day
                )
                added = found.entries.count() - before
                messages.success(
                    request,
                    ngettext(
                        "%(n)d person added to the list.", "%(n)d people added to the list.", added
                    )
                    % {"n": added},
                )
            elif action == "submit":
                services.permit_list_submit(
                    actor=user, permit_list=found, reference=request.POST.get("reference", "")
                )
                messages.success(request, _("The list is recorded as submitted."))
            elif action == "answers":
                answers, note = _answers(request, found)
                if not answers:
                    messages.info(request, _("No answer changed."))
                else:
                    changed = services.permit_answer(
                        actor=user, permit_list=found, answers=answers, note=note
                    )
                    messages.success(
                        request,
                        ngettext("%(n)d answer recorded.", "%(n)d answers recorded.", changed)
                        % {"n": changed},
                    )
            else:
                messages.error(request, _("Unknown action."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("permit_detail", pk=found.pk)
    rows = permits.permit_entries(found)
    audit_read(
        actor=user,
        verb="permit_detail",
        obj=found,
        crisis=found.crisis,
        details={"people": len(rows)},
    )
    booked = permits.booked_people(found.crisis, found.crossing, found.day)
    listed = {r.person.pk for r in rows}
    return TemplateResponse(
        request,
        "transport/permit_detail.html",
        {
            "permit_list": found,
            "rows": rows,
            "blocked": [r for r in rows if r.refused and r.bookings],
            "not_listed": len(set(booked) - listed),
            "decisions": PermitDecision.choices,
            "wants_permits": found.crossing.transit_permit == Place.Permit.YES,
        },
    )


def _cell(value: Any) -> Any:
    """A value a spreadsheet will not run as a formula."""
    return formula_safe(value) if isinstance(value, str) else value


def _export_header() -> list[str]:
    return [
        _("No."),
        _("Surname (as in the passport)"),
        _("Given names (as in the passport)"),
        _("Birth date"),
        _("Sex"),
        _("Nationality"),
        _("Document"),
        _("Document number"),
        _("Issuing state"),
        _("Document expiry"),
        _("Reference code"),
        _("Answer"),
    ]


@login_required
def permit_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """The list as sent to the entry state, with full document numbers (audited)."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    user, found = _permit_list(request, pk)
    rows = [[_cell(v) for v in row] for row in permits.permit_export_rows(found)]
    audit_read(
        actor=user,
        verb="permit_export",
        obj=found,
        crisis=found.crisis,
        export=True,
        details={"format": fmt, "people": len(rows)},
    )
    name = f"permits-{found.crossing.code}-{found.day:%Y-%m-%d}"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(_export_header())
        writer.writerows(rows)
        response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = f"{found.day:%Y-%m-%d}"
        sheet.append(_export_header())
        for row in rows:
            sheet.append(row)
        data = io.BytesIO()
        book.save(data)
        response = HttpResponse(
            data.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


# The crisis's transport policy and the undertaking to repay ---------------------------------------


def _policy_initial(crisis: Crisis) -> dict[str, Any]:
    policy = permits.transport_policy(crisis)
    return {
        "cost_recovery": policy.cost_recovery,
        "amount_rule": policy.amount_rule,
        "fixed_amount": policy.fixed_amount,
        "currency": policy.currency,
        "flights_only": policy.flights_only,
    }


@login_required
@require_http_methods(["GET", "POST"])
def transport_policy(request: HttpRequest) -> HttpResponse:
    """Cost recovery: whether and how much people undertake to repay. Crisis managers change
    it; logistics and duty officers see it."""
    user = _user(request)
    # The gate sees it too: duty officers take the signed undertaking at check-in.
    selectors.require_transport(user, boarding=True)
    can_change = user.has_cap(Cap.CRISIS_MANAGE)
    if request.method == "POST":
        access.require(user, Cap.CRISIS_MANAGE)
    crisis = access.current_crisis(user)
    form = None
    status = 200
    if crisis is not None:
        form = TransportPolicyForm(
            request.POST if request.method == "POST" else None, initial=_policy_initial(crisis)
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.transport_policy_set(actor=user, crisis=crisis, **form.cleaned_data)
            except ApplicationError as exc:
                service_errors(form, exc)
            else:
                messages.success(request, _("The transport policy is saved."))
                return redirect("transport_policy")
        if form.errors:
            status = 400
        if not can_change:
            for field in form.fields.values():
                field.disabled = True
    return TemplateResponse(
        request,
        "transport/transport_policy.html",
        {"crisis": crisis, "form": form, "can_change": can_change},
        status=status,
    )


@login_required
def undertaking_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The undertaking to repay for one booking, in the person's language: the signed one
    as recorded at check-in, or a form with the amount filled in to print and sign."""
    user = _user(request)
    selectors.require_transport(user, boarding=True)
    access.require(user, Cap.PERSONAL_DATA)
    crisis = access.current_crisis(user)
    if crisis is None:
        raise Http404
    booking = selectors.booking_for_user(user=user, crisis=crisis, pk=pk, boarding=True)
    try:
        file = undertakings.undertaking_export(actor=user, booking=booking, crisis=crisis)
    except undertakings.NothingToPrint:
        return TemplateResponse(
            request,
            "transport/undertaking_none.html",
            {"booking": booking, "person": booking.person},
            status=409,
        )
    except ApplicationError as exc:
        return HttpResponse(
            exc.message, status=exc.status_code, content_type="text/plain; charset=utf-8"
        )
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'inline; filename="{file.filename}"'
    response["Cache-Control"] = "no-store"
    return response
