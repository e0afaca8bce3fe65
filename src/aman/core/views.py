"""Operator UI for crises, missions, the audit log and API tokens. Thin: forms validate,
services write, the access module decides who sees what."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from aman.core import access, selectors, services
from aman.core.errors import ApplicationError
from aman.core.forms import ApiTokenForm, AuditFilterForm, CrisisForm, MissionForm
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.geo import selectors as geo_selectors
from aman.geo.models import Place


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _apply_error(form: Any, exc: ApplicationError) -> None:
    placed = False
    for field, errors in exc.extra.items():
        if field in form.fields:
            for error in errors if isinstance(errors, list) else [errors]:
                form.add_error(field, str(error))
            placed = True
    if not placed:
        form.add_error(None, exc.message)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database answers, and the broker when one is configured."""
    from django.conf import settings

    checks: dict[str, str] = {}
    ok = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure is a health answer, not a crash
        checks["database"] = f"error: {type(exc).__name__}"
        ok = False
    if settings.CELERY_BROKER_URL:
        from aman.celery import app

        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:
            checks["broker"] = f"error: {type(exc).__name__}"
            ok = False
    else:
        checks["broker"] = "eager (none configured)"
    return JsonResponse(
        {"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"message": _("Not found."), "extra": {"path": request.path}}, status=404
        )
    return render(request, "404.html", status=404)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    crisis = access.current_crisis(user)
    crossings: list[Place] = []
    if crisis is not None:
        countries = list(crisis.affected_countries.all())
        crossings = list(geo_selectors.crossings(countries=countries))
    else:
        countries = []
    return TemplateResponse(
        request,
        "core/home.html",
        {
            "crisis": crisis,
            "countries": countries,
            "crossings": crossings,
            "missions": list(crisis.missions.all()) if crisis else [],
            "crises": selectors.crises_switchable(user=user),
        },
    )


@login_required
@require_GET
def crisis_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    status = request.GET.get("status", "")
    if status not in Crisis.Status.values:
        status = ""
    return TemplateResponse(
        request,
        "core/crisis_list.html",
        {
            "crises": selectors.crises_list(user=user, status=status),
            "status": status,
            "statuses": Crisis.Status.choices,
            "can_manage": user.has_cap(Cap.CRISIS_MANAGE),
        },
    )


@login_required
@require_GET
def crisis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    crisis = access.crisis_for_user(user, pk)
    return TemplateResponse(
        request,
        "core/crisis_detail.html",
        {
            "crisis": crisis,
            "countries": crisis.affected_countries.all(),
            "missions": crisis.missions.all(),
            "can_manage": user.has_cap(Cap.CRISIS_MANAGE),
        },
    )


@login_required
def crisis_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    home = geo_selectors.home_country()
    form = CrisisForm(request.POST or None, initial={"home_country": home.pk if home else None})
    if request.method == "POST" and form.is_valid():
        try:
            crisis = services.crisis_create(actor=user, **form.cleaned_data)
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            services.user_set_current_crisis(actor=user, crisis=crisis)
            messages.success(request, _("Crisis “%(name)s” created.") % {"name": crisis.name})
            return redirect("crisis_detail", pk=crisis.pk)
    return TemplateResponse(request, "core/crisis_form.html", {"form": form, "crisis": None})


@login_required
def crisis_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    crisis = access.crisis_for_user(user, pk)
    form = CrisisForm(request.POST or None, initial=CrisisForm.initial_for(crisis))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not data.get("code"):
            data["code"] = crisis.code
        try:
            services.crisis_update(actor=user, crisis=crisis, **data)
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("Crisis saved."))
            return redirect("crisis_detail", pk=crisis.pk)
    return TemplateResponse(request, "core/crisis_form.html", {"form": form, "crisis": crisis})


def _crisis_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    crisis = access.crisis_for_user(user, pk)
    try:
        if action == "open":
            services.crisis_open(actor=user, crisis=crisis)
            messages.success(request, _("The crisis is open."))
        else:
            services.crisis_close(actor=user, crisis=crisis)
            messages.success(request, _("The crisis is closed."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("crisis_detail", pk=crisis.pk)


@login_required
@require_POST
def crisis_open(request: HttpRequest, pk: int) -> HttpResponse:
    return _crisis_transition(request, pk, "open")


@login_required
@require_POST
def crisis_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _crisis_transition(request, pk, "close")


@login_required
@require_POST
def crisis_switch(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    raw = request.POST.get("crisis", "")
    crisis = access.crisis_for_user(user, int(raw)) if raw.isdigit() else None
    services.user_set_current_crisis(actor=user, crisis=crisis)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("home")
    return redirect(target)


@login_required
@require_GET
def mission_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return TemplateResponse(
        request,
        "core/mission_list.html",
        {
            "missions": access.missions_for_user(user).prefetch_related("area"),
            "can_manage": user.has_cap(Cap.CRISIS_MANAGE),
        },
    )


@login_required
def mission_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    form = MissionForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["area"] = list(data["area"])
        try:
            mission = services.mission_create(actor=user, **data)
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("Mission “%(name)s” created.") % {"name": mission.name})
            return redirect("mission_list")
    return TemplateResponse(request, "core/mission_form.html", {"form": form, "mission": None})


@login_required
def mission_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    mission = access.mission_for_user(user, pk)
    form = MissionForm(request.POST or None, initial=MissionForm.initial_for(mission))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data["area"] = list(data["area"]) or [data["country"]]
        try:
            services.mission_update(actor=user, mission=mission, **data)
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            messages.success(request, _("Mission saved."))
            return redirect("mission_list")
    return TemplateResponse(request, "core/mission_form.html", {"form": form, "mission": mission})


@login_required
@require_GET
def audit_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    access.require(user, Cap.AUDIT_VIEW)
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.audit_entries_filtered(user=user, filters=filters)
    page = Paginator(entries.select_related("crisis"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request, "core/audit_list.html", {"form": form, "page": page, "query": query.urlencode()}
    )


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    tokens = access.api_tokens_for_user(user)
    form = ApiTokenForm(request.POST or None)
    secret = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, secret = services.api_token_create(actor=user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            _apply_error(form, exc)
        else:
            form = ApiTokenForm()
    return TemplateResponse(
        request, "core/token_list.html", {"tokens": tokens, "form": form, "secret": secret}
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    token = access.api_token_for_user(user, pk)
    try:
        services.api_token_revoke(actor=user, token=token)
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("token_list")
