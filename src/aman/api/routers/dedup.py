"""Possible duplicates: the review queue and an officer's decision."""

from datetime import datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from aman.api.files import binary_openapi, file_response
from aman.api.routers.registry import ERRORS, _crisis, _user
from aman.api.schemas import PersonOut
from aman.core import access
from aman.core.audit import audit_read
from aman.core.errors import ApplicationError
from aman.core.roles import Cap
from aman.dedup import batch, merging, selectors, services
from aman.dedup.merging import GROUPS
from aman.dedup.models import CandidatePair, LinkageRun, Merge

router = Router(tags=["duplicates"])
# The most pairs one page holds (django-ninja's own limit).
LIMIT = LimitOffsetPagination().max_limit


class CandidatePairOut(Schema):
    id: int
    status: str
    score: int
    evidence: list[str]
    evidence_text: str
    found_by: str
    created_at: datetime
    match_weight: float | None = Field(
        None,
        description="batch linkage: log2 of how much likelier the records' agreement is "
        "between two records of one person than between strangers (none for pairs found "
        "at registration)",
    )
    explanation: list[str] = Field(
        description="the match weight's parts in words, strongest first, as the review "
        "page shows them"
    )
    cluster: int | None = Field(
        None, description="the linkage cluster the pair belongs to (filter with ?cluster=)"
    )
    person_a: PersonOut
    person_b: PersonOut

    @staticmethod
    def resolve_evidence_text(obj: CandidatePair) -> str:
        return obj.evidence_text()

    @staticmethod
    def resolve_explanation(obj: CandidatePair) -> list[str]:
        return [str(part) for part in obj.explanation_text()]


class CandidateFilter(Schema):
    crisis: int | None = None
    status: CandidatePair.Status = CandidatePair.Status.OPEN
    cluster: int | None = None


@router.get(
    "/duplicates",
    response=list[CandidatePairOut],
    summary="Possible duplicates, strongest first (person_a was registered first)",
    description="Every page read is audited (`candidate_list`), with the people it shows.",
)
@paginate(LimitOffsetPagination, pass_parameter="page")
def candidate_list(request: HttpRequest, filters: Query[CandidateFilter], **kwargs: Any) -> Any:
    user = _user(request)
    crisis = _crisis(user, filters.crisis)
    pairs = selectors.candidates_for_user(user=user, crisis=crisis, status=filters.status)
    if filters.cluster is not None:
        pairs = pairs.filter(cluster=filters.cluster)
    # The page the paginator will answer with: both people of each pair are read.
    page = kwargs.get("page")
    offset = page.offset if page is not None else 0
    limit = min(page.limit, LIMIT) if page is not None else LIMIT
    shown = list(pairs[offset : offset + limit].values_list("person_a", "person_b"))
    audit_read(
        actor=user,
        verb="candidate_list",
        object_type="dedup.candidatepair",
        crisis=crisis,
        details={
            "status": filters.status,
            **({"cluster": filters.cluster} if filters.cluster is not None else {}),
            "offset": offset,
            "shown": len(shown),
            "people": sorted({p for pair in shown for p in pair}),
        },
    )
    return pairs


def _pair(request: HttpRequest, pair_id: int) -> tuple[Any, CandidatePair]:
    """The user and a pair they may decide on (both people visible, neither merged away)."""
    user = _user(request)
    access.require(user, Cap.MERGE)
    crisis_id = CandidatePair.objects.filter(pk=pair_id).values_list("crisis_id", flat=True).first()
    if crisis_id is None:
        raise Http404
    crisis = access.crisis_for_user(user, crisis_id)
    pair = (
        selectors.candidates_for_user(user=user, crisis=crisis, status=None)
        .filter(pk=pair_id)
        .first()
    )
    if pair is None:
        raise Http404
    return user, pair


@router.post(
    "/duplicates/{pair_id}/reject",
    response={200: CandidatePairOut, **ERRORS},
    summary="Not the same person: the pair is closed and never proposed again",
)
def candidate_reject(request: HttpRequest, pair_id: int) -> Any:
    user, pair = _pair(request, pair_id)
    services.candidate_reject(actor=user, pair=pair)
    pair.refresh_from_db()
    return pair


@router.post(
    "/duplicates/{pair_id}/defer",
    response={200: CandidatePairOut, **ERRORS},
    summary="Decide later: the pair leaves the queue for the deferred list",
)
def candidate_defer(request: HttpRequest, pair_id: int) -> Any:
    user, pair = _pair(request, pair_id)
    services.candidate_defer(actor=user, pair=pair)
    pair.refresh_from_db()
    return pair


class ClusterDecisionOut(Schema):
    cluster: int
    status: str = Field(description="what the pairs are now: rejected or deferred")
    pairs: list[int] = Field(description="the pairs decided (ids)")


class ClusterQuery(Schema):
    crisis: int | None = None


def _cluster(
    request: HttpRequest, cluster: int, crisis_id: int | None, decide: Any, status: str
) -> Any:
    user = _user(request)
    access.require(user, Cap.MERGE)
    crisis = _crisis(user, crisis_id)
    pairs = selectors.cluster_pairs(user=user, crisis=crisis, cluster=cluster)
    decided = decide(actor=user, crisis=crisis, cluster=cluster, pairs=pairs)
    return {"cluster": cluster, "status": status, "pairs": [p.pk for p in decided]}


@router.post(
    "/duplicates/clusters/{cluster}/reject",
    response={200: ClusterDecisionOut, **ERRORS},
    summary="None of a cluster's records is the same person: every pair of it still to "
    "decide (that you may see) is closed and never proposed again (409 when none is left)",
    description="There is no merge of a whole cluster: merge its pairs one by one "
    "(POST /api/duplicates/{id}/merge), each an officer's decision.",
)
def cluster_reject(request: HttpRequest, cluster: int, query: Query[ClusterQuery]) -> Any:
    return _cluster(
        request, cluster, query.crisis, services.cluster_reject, CandidatePair.Status.REJECTED
    )


@router.post(
    "/duplicates/clusters/{cluster}/defer",
    response={200: ClusterDecisionOut, **ERRORS},
    summary="Decide later on a whole cluster: its open pairs (that you may see) go to the "
    "deferred list (409 when none is open)",
)
def cluster_defer(request: HttpRequest, cluster: int, query: Query[ClusterQuery]) -> Any:
    return _cluster(
        request, cluster, query.crisis, services.cluster_defer, CandidatePair.Status.DEFERRED
    )


class MergeIn(Schema):
    keep: Literal["a", "b"] = Field(
        "a", description="whose record is kept: a (registered first) or b"
    )
    choose: dict[str, Literal["survivor", "absorbed"]] = Field(
        default_factory=dict,
        description="for groups in conflict, which record's value is kept "
        "(groups: " + ", ".join(GROUPS) + ")",
    )


class MergeChoiceOut(Schema):
    group: str
    source: str = Field(validation_alias="from")
    rule: str
    conflict: bool


class UndoRowOut(Schema):
    relation: str = Field(description="the moved rows' relation, e.g. registry.phone.person")
    id: int
    outcome: str = Field(
        description="restored (removed since the merge: made again as it was), reverted "
        "(corrected since: put back as at the merge), as_now (changed since: went back as "
        "it is now), left (no longer the kept record's: left where it is)"
    )
    text: str = Field(description="the row and what was done, in words")


class MergeOut(Schema):
    id: int
    crisis_id: int
    survivor_id: int
    absorbed_id: int
    pair_id: int | None
    automatic: bool
    merged_at: datetime
    merged_by: str | None
    undone_at: datetime | None
    undone_by: str | None
    choices: list[MergeChoiceOut]
    moved: dict[str, int]
    kept_on_undo: list[str]
    rows_on_undo: list[UndoRowOut]

    @staticmethod
    def resolve_merged_by(obj: Merge) -> str | None:
        return obj.merged_by.username if obj.merged_by else None

    @staticmethod
    def resolve_undone_by(obj: Merge) -> str | None:
        return obj.undone_by.username if obj.undone_by else None

    @staticmethod
    def resolve_rows_on_undo(obj: Merge) -> list[dict[str, Any]]:
        texts = selectors.unmerge_notes(obj)
        return [{**row, "text": text} for row, text in zip(obj.rows_on_undo, texts, strict=True)]

    @staticmethod
    def resolve_moved(obj: Merge) -> dict[str, int]:
        return {key: len(ids) for key, ids in obj.moved.items()}


@router.post(
    "/duplicates/{pair_id}/merge",
    response={201: MergeOut, **ERRORS},
    summary="The same person: merge the two records (undo with POST /api/merges/{id}/undo)",
)
def candidate_merge(request: HttpRequest, pair_id: int, body: MergeIn | None = None) -> Any:
    user, pair = _pair(request, pair_id)
    body = body or MergeIn(keep="a")
    unknown = sorted(set(body.choose) - set(GROUPS))
    if unknown:
        raise ApplicationError(
            _("Unknown field groups: %(groups)s.") % {"groups": ", ".join(unknown)},
            {"choose": unknown},
        )
    merge = services.candidate_merge(
        actor=user, pair=pair, keep=body.keep, chosen=dict(body.choose)
    )
    return Status(201, merge)


class MergeFilter(Schema):
    crisis: int | None = None
    in_force: bool | None = None


@router.get(
    "/merges",
    response=list[MergeOut],
    summary="Merges of a crisis, newest first",
    description="Every page read is audited (`merge_list`), with the merges and people it shows.",
)
@paginate(LimitOffsetPagination, pass_parameter="page")
def merge_list(request: HttpRequest, filters: Query[MergeFilter], **kwargs: Any) -> Any:
    user = _user(request)
    crisis = _crisis(user, filters.crisis)
    access.require(user, Cap.PERSONAL_DATA)
    qs = Merge.objects.filter(crisis=crisis).select_related("merged_by", "undone_by")
    scope = access.country_scope(user)
    if scope is not None:
        qs = qs.filter(survivor__country__in=scope, absorbed__country__in=scope)
    if filters.in_force is not None:
        qs = qs.filter(undone_at__isnull=filters.in_force)
    qs = qs.order_by("-merged_at", "-id")
    # The page answered: its merges name people, and rows_on_undo their (masked) document
    # and phone numbers — a read of personal data.
    page = kwargs.get("page")
    offset = page.offset if page is not None else 0
    limit = min(page.limit, LIMIT) if page is not None else LIMIT
    shown = list(qs[offset : offset + limit].values_list("pk", "survivor_id", "absorbed_id"))
    audit_read(
        actor=user,
        verb="merge_list",
        object_type="dedup.merge",
        crisis=crisis,
        details={
            **({"in_force": filters.in_force} if filters.in_force is not None else {}),
            "offset": offset,
            "shown": len(shown),
            "merges": [pk for pk, _s, _a in shown],
            "people": sorted({p for _pk, *pair in shown for p in pair}),
        },
    )
    return qs


@router.post(
    "/merges/{merge_id}/undo",
    response={200: MergeOut, **ERRORS},
    summary="Undo a merge (409 while a later merge of these people is in force); moved rows "
    "changed since are listed in rows_on_undo",
)
def merge_undo(request: HttpRequest, merge_id: int) -> Any:
    user = _user(request)
    access.require(user, Cap.MERGE)
    merge = Merge.objects.filter(pk=merge_id).first()
    if merge is None:
        raise Http404
    selectors.require_both_visible(
        user=user, crisis_id=merge.crisis_id, people=(merge.survivor_id, merge.absorbed_id)
    )
    merge = merging.person_unmerge(actor=user, merge=merge)
    return Merge.objects.select_related("merged_by", "undone_by").get(pk=merge.pk)


class LinkageRunOut(Schema):
    id: int
    crisis_id: int
    status: str
    phase: str
    progress: float
    records: int
    pairs_found: int
    pairs_new: int
    clusters: int
    auto_merged: int
    failure: str = Field(
        description="why a failed run failed: error, interrupted, stalled (its process "
        "stopped giving signs of life), lost (no worker took it); empty otherwise"
    )
    error: str = Field(description="why a failed run failed, in words")
    thresholds: dict[str, float] = Field(
        description="the thresholds the run uses (pair_threshold, cluster_threshold, "
        "name_only_threshold): the policy's when it was started, or those given for the run"
    )
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_error(obj: LinkageRun) -> str:
        return obj.failure_text


class CrisisQuery(Schema):
    crisis: int | None = None


@router.post(
    "/duplicates/runs",
    response={202: LinkageRunOut, **ERRORS},
    summary="Start a batch linkage over the crisis (409 while one is under way)",
)
def linkage_run_create(request: HttpRequest, query: Query[CrisisQuery]) -> Any:
    user = _user(request)
    access.require(user, Cap.MERGE)
    crisis = _crisis(user, query.crisis)
    run = batch.linkage_run_start(actor=user, crisis=crisis)
    return Status(202, LinkageRun.objects.get(pk=run.pk))


@router.get(
    "/duplicates/runs/{run_id}",
    response={200: LinkageRunOut, **ERRORS},
    summary="A linkage run: its progress, then what it found",
)
def linkage_run_detail(request: HttpRequest, run_id: int) -> Any:
    user = _user(request)
    access.require(user, Cap.PERSONAL_DATA)
    run = LinkageRun.objects.filter(pk=run_id).first()
    if run is None:
        raise Http404
    crisis = access.crisis_for_user(user, run.crisis_id)
    batch.linkage_runs_tidy(crisis)  # a run that lost its process says so
    run.refresh_from_db()
    return run


class LinkagePolicyOut(Schema):
    auto_merge: bool
    auto_merge_probability: float
    pair_threshold: float = Field(
        description="a pair at or above this match probability is proposed for review"
    )
    cluster_threshold: float = Field(
        description="a link at or above this match probability joins two records in a cluster"
    )
    name_only_threshold: float = Field(
        description="the higher match probability a cluster link needs without the same IIN "
        "or document number"
    )


class LinkagePolicyIn(Schema):
    auto_merge: bool | None = Field(None, description="left out: unchanged")
    auto_merge_probability: float | None = Field(
        None, ge=0.9, le=1, description="0.9–1; left out: unchanged"
    )
    pair_threshold: float | None = Field(None, description="above 0, below 1; left out: unchanged")
    cluster_threshold: float | None = Field(
        None, description="at least pair_threshold, below 1; left out: unchanged"
    )
    name_only_threshold: float | None = Field(
        None, description="at least cluster_threshold, below 1; left out: unchanged"
    )


@router.get(
    "/duplicates/policy",
    response={200: LinkagePolicyOut, **ERRORS},
    summary="The crisis's duplicates policy: automatic merging on exact identifiers, and the "
    "thresholds of its whole-crisis searches",
)
def linkage_policy_get(request: HttpRequest, query: Query[CrisisQuery]) -> Any:
    user = _user(request)
    crisis = _crisis(user, query.crisis)
    return batch.policy_for(crisis)


@router.put(
    "/duplicates/policy",
    response={200: LinkagePolicyOut, **ERRORS},
    summary="Set the crisis's duplicates policy (crisis managers); fields left out stay as "
    "they are",
    description="Thresholds are match probabilities: 0 < pair_threshold ≤ cluster_threshold "
    "≤ name_only_threshold < 1, refused otherwise (400, naming the threshold in `extra`). "
    "The next run uses them.",
)
def linkage_policy_put(
    request: HttpRequest, query: Query[CrisisQuery], body: LinkagePolicyIn
) -> Any:
    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    crisis = _crisis(user, query.crisis)
    return batch.linkage_policy_set(
        actor=user,
        crisis=crisis,
        auto_merge=body.auto_merge,
        auto_merge_probability=body.auto_merge_probability,
        pair_threshold=body.pair_threshold,
        cluster_threshold=body.cluster_threshold,
        name_only_threshold=body.name_only_threshold,
    )


@router.get(
    "/duplicates/clusters.csv",
    response={200: None, **ERRORS},
    openapi_extra=binary_openapi("text/csv"),
    summary="The clusters as CSV (crisis managers): one row per intake record and person, "
    "with the source's own reference, the person it belongs to now and the cluster; no names",
)
def clusters_export(request: HttpRequest, crisis: int | None = None) -> Any:
    import io

    user = _user(request)
    access.require(user, Cap.CRISIS_MANAGE)
    found = _crisis(user, crisis)
    out = io.StringIO()
    batch.clusters_export(actor=user, crisis=found, out=out)
    return file_response(
        out.getvalue().encode(), "text/csv; charset=utf-8", f"clusters-{found.code}.csv"
    )
