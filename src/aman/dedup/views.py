"""Officers' decisions on possible duplicates."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.models import Crisis, User
from aman.core.roles import Cap
from aman.dedup import batch, merging, services
from aman.dedup import selectors as dedup_selectors
from aman.dedup.models import THRESHOLDS, CandidatePair, Merge
from aman.registry.models import Person


@login_required
def candidate_list(request: HttpRequest) -> HttpResponse:
    """The review queue: possible duplicates side by side, strongest first."""
    user = request.user
    assert isinstance(user, User)
    access.require(user, Cap.PERSONAL_DATA)
    crisis = access.current_crisis(user)
    if request.htmx and crisis is not None:  # type: ignore[attr-defined]
        # The run's progress, polled while it runs: counts only, no personal data.
        run = batch.latest_run(crisis)
        return TemplateResponse(
            request,
            "dedup/_linkage_run.html",
            {
                "run": run,
                "running": run is not None and run.active,
                "polled": True,
                "can_decide": user.has_cap(Cap.MERGE),
                "can_manage": user.has_cap(Cap.CRISIS_MANAGE),
            },
        )
    status = request.GET.get("status") or CandidatePair.Status.OPEN
    if status not in CandidatePair.Status.values:
        status = CandidatePair.Status.OPEN
    page = None
    cluster = request.GET.get("cluster", "")
    run = policy = None
    cluster_people: list[Person] = []
    cluster_rows: list[dict[str, object]] = []
    cluster_undecided: dict[str, int] = {}
    if crisis is not None:
        pairs = dedup_selectors.candidates_for_user(user=user, crisis=crisis, status=status)
        if cluster.isdigit():
            pairs = pairs.filter(cluster=int(cluster))
            # Every record of the cluster side by side, whatever its pairs' status.
            everyone = dedup_selectors.candidates_for_user(
                user=user, crisis=crisis, status=None
            ).filter(cluster=int(cluster))
            cluster_people = dedup_selectors.cluster_people(everyone)
            cluster_rows = dedup_selectors.compare_many(cluster_people)
            cluster_undecided = dedup_selectors.undecided_in(everyone)
        run = batch.latest_run(crisis)
        policy = batch.policy_for(crisis)
        page = Paginator(pairs, 20).get_page(request.GET.get("page"))
        people: set[int] = {p.pk for p in cluster_people}
        for pair in page.object_list:
            pair.rows = dedup_selectors.side_by_side(pair)
            people.update((pair.person_a_id, pair.person_b_id))
        audit_read(
            actor=user,
            verb="candidate_list",
            object_type="dedup.candidatepair",
            crisis=crisis,
            details={
                "status": status,
                "page": page.number,
                "shown": len(page.object_list),
                "people": sorted(people),
                **(
                    {"cluster": int(cluster), "cluster_people": len(cluster_people)}
                    if cluster_people
                    else {}
                ),
            },
        )
    return TemplateResponse(
        request,
        "dedup/candidate_list.html",
        {
            "crisis": crisis,
            "page": page,
            "status": status,
            "statuses": CandidatePair.Status.choices,
            "can_decide": user.has_cap(Cap.MERGE),
            "can_manage": user.has_cap(Cap.CRISIS_MANAGE),
            "cluster": cluster if cluster.isdigit() else "",
            "cluster_people": cluster_people,
            "cluster_rows": cluster_rows,
            "cluster_more": len(cluster_people) >= dedup_selectors.CLUSTER_COLUMNS,
            "cluster_undecided": cluster_undecided,
            "run": run,
            "running": run is not None and run.active,
            "policy": policy,
        },
    )


def _current(request: HttpRequest, cap: str) -> tuple[User, Crisis | None]:
    """The user, who must hold `cap`, and their current crisis (None: none chosen)."""
    user = request.user
    assert isinstance(user, User)
    access.require(user, cap)
    return user, access.current_crisis(user)


@login_required
@require_POST
def linkage_run_create(request: HttpRequest) -> HttpResponse:
    """Start a batch linkage over the current crisis; the queue page shows its progress."""
    user, crisis = _current(request, Cap.MERGE)
    if crisis is None:
        return redirect("candidate_list")
    try:
        batch.linkage_run_start(actor=user, crisis=crisis)
        messages.success(
            request,
            _("Looking for duplicates among everyone registered. This page shows the progress."),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("candidate_list")


@login_required
@require_POST
def linkage_policy(request: HttpRequest) -> HttpResponse:
    """The crisis's duplicates policy, from the queue page: automatic merging and the
    thresholds of its linkage runs. A value the form does not send stays as it is."""
    user, crisis = _current(request, Cap.CRISIS_MANAGE)
    if crisis is None:
        return redirect("candidate_list")
    numbers: dict[str, float] = {}
    labels = {
        "auto_merge_probability": _("probability needed to merge automatically"),
        **THRESHOLDS,
    }
    for name, label in labels.items():
        if name not in request.POST:
            continue
        raw = request.POST[name].replace(",", ".").strip()
        try:
            numbers[name] = float(raw)
        except ValueError:
            messages.error(
                request,
                _("The %(field)s must be a number, such as 0.95 (not “%(value)s”).")
                % {"field": label, "value": raw[:20]},
            )
            return redirect("candidate_list")
    try:
        batch.linkage_policy_set(
            actor=user,
            crisis=crisis,
            auto_merge=request.POST.get("auto_merge") == "on",
            **numbers,
        )
        messages.success(request, _("The duplicates policy is saved."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("candidate_list")


@login_required
def clusters_export(request: HttpRequest) -> HttpResponse:
    """The clusters of the current crisis as CSV: one row per intake record (no names)."""
    import io

    user, crisis = _current(request, Cap.CRISIS_MANAGE)
    if crisis is None:
        return redirect("candidate_list")
    out = io.StringIO()
    batch.clusters_export(actor=user, crisis=crisis, out=out)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="clusters-{crisis.code}.csv"'
    return response


@login_required
@require_POST
def cluster_reject(request: HttpRequest, cluster: int) -> HttpResponse:
    """Every pair of a cluster still to decide (that the officer may see): not the same
    person."""
    return _decide_cluster(request, cluster, services.cluster_reject)


@login_required
@require_POST
def cluster_defer(request: HttpRequest, cluster: int) -> HttpResponse:
    """Every open pair of a cluster (that the officer may see): decide later."""
    return _decide_cluster(request, cluster, services.cluster_defer)


def _decide_cluster(request: HttpRequest, cluster: int, decide: Any) -> HttpResponse:
    user, crisis = _current(request, Cap.MERGE)
    target = f"{reverse('candidate_list')}?cluster={cluster}"
    if crisis is None:
        return redirect("candidate_list")
    pairs = dedup_selectors.cluster_pairs(user=user, crisis=crisis, cluster=cluster)
    try:
        decided = decide(actor=user, crisis=crisis, cluster=cluster, pairs=pairs)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(target)
    if decide is services.cluster_reject:
        text = ngettext(
            "Recorded for cluster %(cluster)d: %(n)d pair closed as not the same person; "
            "it is not proposed again.",
            "Recorded for cluster %(cluster)d: %(n)d pairs closed as not the same person; "
            "they are not proposed again.",
            len(decided),
        )
    else:
        text = ngettext(
            "Put aside: %(n)d pair of cluster %(cluster)d is in the “Later” list.",
            "Put aside: %(n)d pairs of cluster %(cluster)d are in the “Later” list.",
            len(decided),
        )
    messages.success(request, text % {"n": len(decided), "cluster": cluster})
    return redirect(target)


def _decidable_pair(user: User, pk: int) -> CandidatePair:
    """A pair the user may decide on: both people visible to them (a consul: in their
    mission's countries), neither merged into someone else since."""
    access.require(user, Cap.MERGE)
    pair = CandidatePair.objects.select_related("crisis").filter(pk=pk).first()
    if pair is None:
        raise Http404
    dedup_selectors.require_both_visible(
        user=user, crisis_id=pair.crisis_id, people=(pair.person_a_id, pair.person_b_id)
    )
    return pair


def _back(request: HttpRequest, pair: CandidatePair) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = ""
    return redirect(target or "person_detail", *([] if target else [pair.person_a_id]))


@login_required
@require_POST
def candidate_reject(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    pair = _decidable_pair(user, pk)
    try:
        services.candidate_reject(actor=user, pair=pair)
        messages.success(
            request, _("Recorded: not the same person. The pair is not proposed again.")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(request, pair)


@login_required
@require_POST
def candidate_defer(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    pair = _decidable_pair(user, pk)
    try:
        services.candidate_defer(actor=user, pair=pair)
        messages.success(request, _("Put aside: the pair is in the “Later” list."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(request, pair)


@login_required
def candidate_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """The merge page: which record is kept, what is taken from each, conflicts to choose;
    saving merges (and the person page offers the undo)."""
    user = request.user
    assert isinstance(user, User)
    pair = _decidable_pair(user, pk)
    data = request.POST if request.method == "POST" else request.GET
    keep = "b" if data.get("keep") == "b" else "a"
    a, b = pair.person_a, pair.person_b
    survivor, absorbed = (a, b) if keep == "a" else (b, a)
    chosen = {
        key.removeprefix("choose_"): value
        for key, value in data.items()
        if key.startswith("choose_") and value in ("survivor", "absorbed")
    }
    error = None
    if request.method == "POST":
        try:
            merge = services.candidate_merge(actor=user, pair=pair, keep=keep, chosen=chosen)
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(
                request,
                _("Merged: %(absorbed)s is now part of this record. The merge can be undone below.")
                % {"absorbed": merge.absorbed.reference_code_display},
            )
            return redirect("person_detail", merge.survivor_id)
    audit_read(actor=user, verb="candidate_merge_page", obj=pair, crisis=pair.crisis)
    return TemplateResponse(
        request,
        "dedup/merge.html",
        {
            "pair": pair,
            "keep": keep,
            "survivor": survivor,
            "absorbed": absorbed,
            "rows": dedup_selectors.merge_plan(survivor=survivor, absorbed=absorbed, chosen=chosen),
            "compared": dedup_selectors.compare(survivor, absorbed),
            "error": error,
            # What would refuse the merge, shown before the officer tries it.
            "conflicts": merging.merge_conflicts(survivor, absorbed),
            "household_conflicts": merging.household_conflicts(survivor, absorbed, chosen),
            "households": dedup_selectors.merge_households(
                survivor=survivor, absorbed=absorbed, chosen=chosen
            ),
            "decided": pair.status in (CandidatePair.Status.MERGED, CandidatePair.Status.REJECTED),
        },
        status=409 if error else 200,
    )


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    access.require(user, Cap.MERGE)
    merge = Merge.objects.select_related("crisis").filter(pk=pk).first()
    if merge is None:
        raise Http404
    dedup_selectors.require_both_visible(
        user=user, crisis_id=merge.crisis_id, people=(merge.survivor_id, merge.absorbed_id)
    )
    try:
        merge = merging.person_unmerge(actor=user, merge=merge)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("person_detail", merge.survivor_id)
    text = _("The merge is undone: %(code)s is a record of its own again.") % {
        "code": merge.absorbed.reference_code_display
    }
    if merge.kept_on_undo:
        text += " " + _("Changed since the merge and kept: %(fields)s.") % {
            "fields": ", ".join(
                str(getattr(Person._meta.get_field(f), "verbose_name", f))
                for f in merge.kept_on_undo
            )
        }
    notes = dedup_selectors.unmerge_notes(merge)
    if notes:
        text += " " + _("Changed since the merge: %(rows)s.") % {"rows": "; ".join(notes)}
    messages.success(request, text)
    return redirect("person_detail", merge.absorbed_id)
