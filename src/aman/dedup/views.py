"""Officers' decisions on possible duplicates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.models import User
from aman.core.roles import Cap
from aman.dedup import selectors as dedup_selectors
from aman.dedup import services
from aman.dedup.models import CandidatePair
from aman.registry import selectors


@login_required
def candidate_list(request: HttpRequest) -> HttpResponse:
    """The review queue: possible duplicates side by side, strongest first."""
    user = request.user
    assert isinstance(user, User)
    access.require(user, Cap.PERSONAL_DATA)
    crisis = access.current_crisis(user)
    status = request.GET.get("status") or CandidatePair.Status.OPEN
    if status not in CandidatePair.Status.values:
        status = CandidatePair.Status.OPEN
    page = None
    if crisis is not None:
        pairs = dedup_selectors.candidates_for_user(user=user, crisis=crisis, status=status)
        page = Paginator(pairs, 20).get_page(request.GET.get("page"))
        for pair in page.object_list:
            pair.rows = dedup_selectors.side_by_side(pair)
        audit_read(
            actor=user,
            verb="candidate_list",
            object_type="dedup.candidatepair",
            crisis=crisis,
            details={"status": status, "page": page.number, "shown": len(page.object_list)},
        )
    return TemplateResponse(
        request,
        "dedup/candidate_list.html",
        {
            "crisis": crisis,
            "page": page,
            "status": status,
            "statuses": CandidatePair.Status.choices,
            "can_decide": user.has_cap(Cap.REGISTER),
        },
    )


@login_required
@require_POST
def candidate_reject(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    access.require(user, Cap.REGISTER)
    pair = CandidatePair.objects.select_related("crisis").filter(pk=pk).first()
    if pair is None:
        raise Http404
    crisis = access.crisis_for_user(user, pair.crisis_id)
    # Both people must be visible to the user (a consul: in their mission's countries).
    visible = selectors.people_for_user(user=user, crisis=crisis).filter(
        pk__in=[pair.person_a_id, pair.person_b_id]
    )
    if visible.count() != 2:
        raise Http404
    try:
        services.candidate_reject(actor=user, pair=pair)
        messages.success(
            request, _("Recorded: not the same person. The pair is not proposed again.")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "person_detail", *([] if target else [pair.person_a_id]))
