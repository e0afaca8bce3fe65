"""Batch linkage over a whole crisis: the database side of `aman.dedup.linkage`.

`linkage_run_start` queues a run (the page, the API); `linkage_run_execute` reads every
person of the crisis, runs the engine with the thresholds of the crisis's policy (or those
given for the run, kept on it), and keeps what it found as possible duplicates
(`CandidatePair`, found by `batch`) with the match weight, its parts and the cluster, for
officers to review. When the crisis's policy allows it, pairs with the same IIN or document
number at a very high probability are merged without review (`automatic`); names alone are
never merged automatically. `clusters_export` writes one row per intake record with its
source reference, its person and its cluster, for analysis.

A run writes a heartbeat with every progress report. A run whose heartbeat stopped for
`STALLED` (its process was killed: a restart, out of memory), or that no worker took for
`LOST`, is marked failed by `linkage_runs_tidy` — whenever a run is started or looked at —
so it blocks no new run; a run stopped by hand (Ctrl-C on `aman dedup run`) is marked failed
as it stops. A run marked failed while its process still lives stops at its next report.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import IO, Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aman.core.audit import audit_read, audit_write
from aman.core.cells import formula_safe
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import AuditEntry, Crisis, User
from aman.dedup.models import THRESHOLDS, CandidatePair, LinkagePolicy, LinkageRun, Merge
from aman.registry.models import Channel, Document, IntakeRecord, Person, Phone

logger = logging.getLogger(__name__)

# Evidence on which a policy may merge without review.
AUTO_MERGE_EVIDENCE = frozenset({"iin", "document"})
# The run's phases and the part of the progress bar each takes.
LOAD, LINK, SAVE = (0.0, 0.1), (0.1, 0.85), (0.85, 1.0)
# Pairs written per statement batch.
CHUNK = 5_000
# A running run whose heartbeat is older than this has lost its process: the longest
# silence between two reports is one phase of the engine (about a minute at a million
# people on two cores).
STALLED = timedelta(minutes=5)
# A queued run that no worker took for this long was lost from the queue.
LOST = timedelta(minutes=30)


class RunStopped(Exception):
    """The run was marked failed while this process still worked on it (see the module
    docstring): it stops, and leaves the run as it is."""


def policy_for(crisis: Crisis) -> LinkagePolicy:
    return LinkagePolicy.objects.filter(crisis=crisis).first() or LinkagePolicy(crisis=crisis)


def policy_thresholds(policy: LinkagePolicy) -> dict[str, float]:
    """The thresholds of a policy's runs, `{name: probability}` (`THRESHOLDS`)."""
    return {name: float(getattr(policy, name)) for name in THRESHOLDS}


def linkage_thresholds_check(thresholds: dict[str, float]) -> None:
    """Refuse thresholds a run cannot use, naming the one at fault: each is a probability
    strictly between 0 and 1, and 0 < pair ≤ cluster ≤ name-only < 1 — a link that joins
    two records in a cluster is also proposed for review, and the name-only threshold is
    the higher bar for cluster links without the same IIN or document number."""
    for name, label in THRESHOLDS.items():
        value = thresholds[name]
        if not 0 < value < 1:  # also NaN
            raise ApplicationError(
                _(
                    "The %(threshold)s must be a probability above 0 and below 1, such as "
                    "0.95 (not %(value)s)."
                )
                % {"threshold": label, "value": value},
                {name: [value]},
            )
    pair, cluster, name_only = (thresholds[name] for name in THRESHOLDS)
    if cluster < pair:
        raise ApplicationError(
            _(
                "The cluster threshold (%(cluster)s) must be at least the pair threshold "
                "(%(pair)s): a link that joins two records in a cluster is also proposed "
                "for review."
            )
            % {"cluster": cluster, "pair": pair},
            {"cluster_threshold": [cluster], "pair_threshold": [pair]},
        )
    if name_only < cluster:
        raise ApplicationError(
            _(
                "The name-only threshold (%(name_only)s) must be at least the cluster "
                "threshold (%(cluster)s): it is the higher bar for a cluster link without "
                "the same IIN or document number."
            )
            % {"name_only": name_only, "cluster": cluster},
            {"name_only_threshold": [name_only], "cluster_threshold": [cluster]},
        )


# What a crisis manager sets of the policy.
POLICY_FIELDS = ("auto_merge", "auto_merge_probability", *THRESHOLDS)


@transaction.atomic
def linkage_policy_set(
    *,
    actor: User | None,
    crisis: Crisis,
    auto_merge: bool | None = None,
    auto_merge_probability: float | None = None,
    pair_threshold: float | None = None,
    cluster_threshold: float | None = None,
    name_only_threshold: float | None = None,
) -> LinkagePolicy:
    """The crisis's duplicates policy: whether batch runs may merge exact-identifier pairs
    without review, and from which match probability (0.9–1); the thresholds of its runs
    (`linkage_thresholds_check`). A value left out (None) stays as it is. Audited with what
    changed."""
    given: dict[str, Any] = {
        name: value
        for name, value in {
            "auto_merge": auto_merge,
            "auto_merge_probability": auto_merge_probability,
            "pair_threshold": pair_threshold,
            "cluster_threshold": cluster_threshold,
            "name_only_threshold": name_only_threshold,
        }.items()
        if value is not None
    }
    probability = given.get("auto_merge_probability")
    if probability is not None and not 0.9 <= probability <= 1:
        raise ApplicationError(
            _("The probability must be between 0.9 and 1."),
            {"auto_merge_probability": [probability]},
        )
    policy, created = LinkagePolicy.objects.select_for_update().get_or_create(crisis=crisis)
    linkage_thresholds_check(
        {
            **policy_thresholds(policy),
            **{name: float(value) for name, value in given.items() if name in THRESHOLDS},
        }
    )
    # Every value of a policy made now; else those that change.
    changes = {
        name: [None if created else getattr(policy, name), given.get(name, getattr(policy, name))]
        for name in POLICY_FIELDS
        if created or (name in given and getattr(policy, name) != given[name])
    }
    if not changes:
        return policy  # nothing changed: nothing written
    for name, value in given.items():
        setattr(policy, name, value)
    policy.updated_by = actor
    policy.save()
    audit_write(actor=actor, verb="linkage_policy_set", obj=policy, crisis=crisis, changes=changes)
    return policy


def linkage_run_start(
    *,
    actor: User | None,
    crisis: Crisis,
    dispatch: bool = True,
    thresholds: dict[str, float | None] | None = None,
) -> LinkageRun:
    """Queue a linkage run over the crisis (one at a time: 409 while one is queued or
    running). It uses the thresholds of the crisis's policy, except those given in
    `thresholds` for this run only (`aman dedup run --pair-threshold …`), checked together
    (`linkage_thresholds_check`); the run keeps the ones it uses."""
    overrides = {name: float(v) for name, v in (thresholds or {}).items() if v is not None}
    unknown = sorted(set(overrides) - set(THRESHOLDS))
    if unknown:
        raise ApplicationError(
            _("Unknown thresholds: %(names)s.") % {"names": ", ".join(unknown)},
            {"thresholds": unknown},
        )
    used = {**policy_thresholds(policy_for(crisis)), **overrides}
    linkage_thresholds_check(used)
    with transaction.atomic():
        Crisis.objects.select_for_update().filter(pk=crisis.pk).first()
        # A run whose process died (a restart, a lost worker) does not block the next one.
        linkage_runs_tidy(crisis)
        busy = LinkageRun.objects.filter(
            crisis=crisis, status__in=(LinkageRun.Status.QUEUED, LinkageRun.Status.RUNNING)
        ).first()
        if busy is not None:
            raise Conflict(
                _("A linkage run of this crisis is already under way."), {"run": busy.pk}
            )
        run = LinkageRun.objects.create(
            crisis=crisis, created_by=actor, heartbeat_at=timezone.now(), thresholds=used
        )
        audit_write(
            actor=actor,
            verb="linkage_run_start",
            obj=run,
            crisis=crisis,
            action=AuditEntry.Action.CREATE,
            changes={
                "status": [None, run.status],
                "thresholds": [None, used],
                **({"thresholds_given": [None, sorted(overrides)]} if overrides else {}),
            },
        )
        if dispatch:
            from aman.dedup.tasks import linkage_run

            transaction.on_commit(lambda: linkage_run.dispatch(run.pk))
    return run


def linkage_runs_tidy(crisis: Crisis) -> int:
    """Mark failed the crisis's runs that lost their process: running without a heartbeat
    for `STALLED`, or queued and taken by no worker for `LOST`. Each is audited as a
    finished run; returns how many."""
    now = timezone.now()
    lost = list(
        LinkageRun.objects.filter(crisis=crisis).filter(
            Q(status=LinkageRun.Status.RUNNING, heartbeat_at__lt=now - STALLED)
            | Q(
                status=LinkageRun.Status.RUNNING,
                heartbeat_at__isnull=True,
                created_at__lt=now - STALLED,
            )
            | Q(status=LinkageRun.Status.QUEUED, created_at__lt=now - LOST)
        )
    )
    for run in lost:
        if run.status == LinkageRun.Status.RUNNING:
            failure = "stalled"
            detail = f"no heartbeat since {run.heartbeat_at or run.created_at:%Y-%m-%d %H:%M:%S}"
        else:
            failure, detail = "lost", f"queued at {run.created_at:%Y-%m-%d %H:%M:%S}, never started"
        if _fail(run.pk, run.status, failure, detail):
            logger.warning("linkage run %s marked failed: %s", run.pk, detail)
    return len(lost)


def _fail(run_id: int, status: str, failure: str, detail: str) -> bool:
    """Mark a run failed if it is still in `status`; audited as a finished run."""
    done = LinkageRun.objects.filter(pk=run_id, status=status).update(
        status=LinkageRun.Status.FAILED,
        failure=failure,
        error_detail=detail[:2000],
        finished_at=timezone.now(),
    )
    if done:
        run = LinkageRun.objects.select_related("crisis", "created_by").get(pk=run_id)
        _audit_finish(run, status)
    return bool(done)


def linkage_run_abandon(run_id: int, detail: str = "interrupted") -> bool:
    """Mark a run that its process gives up on (Ctrl-C, a stop signal) failed, whether it
    was still queued or already running; False when it had finished already."""
    return any(
        _fail(run_id, status, "interrupted", detail)
        for status in (LinkageRun.Status.QUEUED, LinkageRun.Status.RUNNING)
    )


class _Progress:
    """Writes a run's phase, progress and heartbeat to its row, at most every half second;
    raises `RunStopped` when the run is no longer running (marked failed meanwhile)."""

    def __init__(self, run: LinkageRun, echo: Callable[[str, float], None] | None = None) -> None:
        self.run_id = run.pk
        self.last = 0.0
        self.phase = ""
        self.echo = echo  # also told (the command line prints it)

    def __call__(self, phase: str, fraction: float, span: tuple[float, float] = (0, 1)) -> None:
        overall = span[0] + (span[1] - span[0]) * max(0.0, min(1.0, fraction))
        now = time.monotonic()
        if phase == self.phase and now - self.last < 0.5:
            return
        self.phase, self.last = phase, now
        alive = LinkageRun.objects.filter(pk=self.run_id, status=LinkageRun.Status.RUNNING).update(
            phase=phase, progress=round(overall, 4), heartbeat_at=timezone.now()
        )
        if not alive:
            raise RunStopped(self.run_id)
        if self.echo is not None:
            self.echo(phase, overall)


def linkage_records(crisis: Crisis) -> list[dict[str, Any]]:
    """Every person of the crisis in the engine's input schema (identifiers as keyed
    hashes only)."""
    documents: dict[int, list[str]] = {}
    for person_id, number_hash in (
        Document.objects.filter(person__crisis=crisis, person__merged_into__isnull=True)
        .values_list("person_id", "number_hash")
        .iterator(chunk_size=20_000)
    ):
        documents.setdefault(person_id, []).append(number_hash)
    phones: dict[int, list[str]] = {}
    for person_id, number_hash in (
        Phone.objects.filter(person__crisis=crisis, person__merged_into__isnull=True)
        .values_list("person_id", "number_hash")
        .iterator(chunk_size=20_000)
    ):
        phones.setdefault(person_id, []).append(number_hash)
    fields = (
        "pk",
        "household_id",
        "surname",
        "given_names",
        "surname_latin",
        "given_names_latin",
        "birth_date",
        "sex",
        "iin_hash",
        "city_id",
    )
    return [
        {
            "unique_id": pk,
            "household_id": household,
            "surname": surname,
            "given_names": given,
            "surname_latin": surname_latin,
            "given_names_latin": given_latin,
            "birth_date": birth_date,
            "sex": sex,
            "iin_hash": iin,
            "document_hashes": documents.get(pk, []),
            "phone_hashes": phones.get(pk, []),
            "city_id": city,
        }
        for (
            pk,
            household,
            surname,
            given,
            surname_latin,
            given_latin,
            birth_date,
            sex,
            iin,
            city,
        ) in Person.objects.filter(crisis=crisis)
        .order_by("pk")
        .values_list(*fields)
        .iterator(chunk_size=20_000)
    ]


def _follow(merged_into: dict[int, int | None], pk: int) -> int:
    """The person a record is part of now, given every merged record's survivor."""
    seen = 0
    while seen < 50:
        survivor = merged_into.get(pk)
        if survivor is None:
            break
        pk, seen = survivor, seen + 1
    return pk


def rejected_pairs(crisis: Crisis) -> set[tuple[int, int]]:
    """Pairs officers said are not the same person, as pairs of the people they are part
    of now (a rejection of a record merged since holds for the person it was merged into)."""
    survivors = dict(
        Person.all_objects.filter(crisis=crisis, merged_into__isnull=False).values_list(
            "pk", "merged_into"
        )
    )

    out = set()
    for a, b in CandidatePair.objects.filter(
        crisis=crisis, status=CandidatePair.Status.REJECTED
    ).values_list("person_a", "person_b"):
        x, y = sorted((_follow(survivors, a), _follow(survivors, b)))
        if x != y:
            out.add((x, y))
    return out


def linkage_run_execute(
    run_id: int, echo: Callable[[str, float], None] | None = None
) -> LinkageRun:
    """Run a queued linkage: read, link, keep the pairs, merge by policy. A failure is kept
    on the run, where the officer sees it in words (`failure`) and the administrator the
    exception (`error_detail`, and the log). A run stopped by hand or by a signal
    (KeyboardInterrupt, SystemExit) is marked failed before the exception goes on.
    `echo(phase, fraction)` hears the progress as the run's row records it (at most every
    half second, and at each new phase)."""
    from aman.dedup.linkage import Settings, link

    now = timezone.now()
    # Claim the run: queued, or running with a heartbeat lost (a redelivered task).
    claimed = (
        LinkageRun.objects.filter(pk=run_id)
        .filter(
            Q(status=LinkageRun.Status.QUEUED)
            | Q(status=LinkageRun.Status.RUNNING, heartbeat_at__lt=now - STALLED)
        )
        .update(
            status=LinkageRun.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            phase="load",
            progress=0,
        )
    )
    run = LinkageRun.objects.select_related("crisis", "created_by").get(pk=run_id)
    if not claimed:  # done, failed, or running elsewhere
        return run
    progress = _Progress(run, echo)
    seconds: dict[str, float] = {}
    try:
        started = time.perf_counter()
        records = linkage_records(run.crisis)
        excluded = rejected_pairs(run.crisis)
        seconds["load"] = time.perf_counter() - started
        progress("load", 1.0, LOAD)
        if len(records) < 2:
            result = None
        else:
            # The thresholds kept when the run was started (a run queued before they were
            # kept: the policy's now).
            used = run.thresholds or policy_thresholds(policy_for(run.crisis))
            result = link(
                records,
                settings=Settings(
                    pair_threshold=float(used["pair_threshold"]),
                    cluster_threshold=float(used["cluster_threshold"]),
                    name_only_threshold=float(used["name_only_threshold"]),
                ),
                exclude_pairs=excluded,
                progress=lambda phase, fraction: progress(phase, fraction, LINK),
            )
        started = time.perf_counter()
        progress("save", 0.0, SAVE)
        found, new = _keep_pairs(run, list(result.pairs) if result else [], result, progress)
        merged = _auto_merge(run, result.pairs if result else [])
        seconds["save"] = time.perf_counter() - started
        stats = {**(result.stats if result else {}), "django_seconds": seconds}
        finished = LinkageRun.objects.filter(pk=run.pk, status=LinkageRun.Status.RUNNING).update(
            status=LinkageRun.Status.DONE,
            phase="done",
            progress=1.0,
            records=len(records),
            pairs_found=found,
            pairs_new=new,
            clusters=len(set(result.clusters.values())) if result else 0,
            auto_merged=merged,
            stats=_json_ready(stats),
            model=_json_ready(result.model) if result else {},
            heartbeat_at=timezone.now(),
            finished_at=timezone.now(),
        )
        if not finished:
            raise RunStopped(run.pk)
    except RunStopped:
        logger.warning("linkage run %s was marked failed while it ran; it stops", run.pk)
        run.refresh_from_db()
        return run
    except Exception as exc:
        logger.exception("linkage run %s failed", run.pk)
        # DuckDB answers Ctrl-C during a query with its own exception.
        failure = "interrupted" if type(exc).__name__ == "InterruptException" else "error"
        _fail(run.pk, LinkageRun.Status.RUNNING, failure, f"{type(exc).__name__}: {exc}")
        run.refresh_from_db()
        return run
    except BaseException as exc:  # Ctrl-C, a stop signal: the run is over, say so
        logger.warning("linkage run %s interrupted (%s)", run.pk, type(exc).__name__)
        _fail(run.pk, LinkageRun.Status.RUNNING, "interrupted", f"{type(exc).__name__}")
        raise
    run.refresh_from_db()
    _audit_finish(run, LinkageRun.Status.RUNNING)
    return run


def _audit_finish(run: LinkageRun, before: str) -> None:
    audit_write(
        actor=run.created_by,
        verb="linkage_run_finish",
        obj=run,
        crisis=run.crisis,
        changes={
            "status": [before, run.status],
            **({"failure": [None, run.failure]} if run.failure else {}),
            "pairs_new": [None, run.pairs_new],
            "auto_merged": [None, run.auto_merged],
        },
    )


def _json_ready(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


def _keep_pairs(
    run: LinkageRun, pairs: list[Any], result: Any, progress: _Progress | None = None
) -> tuple[int, int]:
    """Keep the run's pairs, in chunks: new ones to review; known open (or deferred) ones
    take the run's scoring — strength, evidence, weight, explanation, cluster, found by the
    batch — whoever found them first; decided ones keep their decision and their scoring.
    A cluster number is the latest run's: pairs this run did not put in a cluster lose the
    one an earlier run gave them. Returns (found, new)."""
    clusters = result.clusters if result else {}
    known: dict[tuple[int, int], int | None] = {}  # (a, b) → id if open, else None
    open_statuses = (CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED)
    for pk, a, b, status in (
        CandidatePair.objects.filter(crisis=run.crisis)
        .values_list("pk", "person_a", "person_b", "status")
        .iterator(chunk_size=20_000)
    ):
        known[(a, b)] = pk if status in open_statuses else None
    created = refreshed = 0
    for start in range(0, len(pairs), CHUNK):
        new, update = [], []
        for p in pairs[start : start + CHUNK]:
            cluster = clusters.get(p.a)
            fields = {
                "run": run,
                "score": max(1, min(100, round(p.match_probability * 100))),
                "evidence": list(p.evidence),
                "found_by": CandidatePair.FoundBy.BATCH,
                "match_weight": round(p.match_weight, 3),
                "explanation": {
                    "levels": p.levels,
                    "weights": {k: round(v, 3) for k, v in p.weights.items()},
                    "probability": round(p.match_probability, 6),
                },
                "cluster": cluster if clusters.get(p.b) == cluster else None,
            }
            if (p.a, p.b) not in known:
                new.append(
                    CandidatePair(crisis=run.crisis, person_a_id=p.a, person_b_id=p.b, **fields)
                )
            elif known[(p.a, p.b)] is not None:
                update.append(CandidatePair(pk=known[(p.a, p.b)], **fields))
        with transaction.atomic():
            CandidatePair.objects.bulk_create(new, ignore_conflicts=True)
            CandidatePair.objects.bulk_update(update, list(RESCORED), batch_size=500)
        created += len(new)
        refreshed += len(update)
        if progress is not None:
            progress("save", (start + CHUNK) / len(pairs), SAVE)
    # Cluster numbers of earlier runs, on pairs this run did not confirm, would mix into
    # this run's clusters (`?cluster=`): cleared, whatever the pair's status.
    stale = CandidatePair.objects.filter(crisis=run.crisis, cluster__isnull=False).exclude(run=run)
    cleared = stale.update(cluster=None)
    if created or refreshed or cleared:
        audit_write(
            actor=run.created_by,
            verb="candidates_record",
            action=AuditEntry.Action.CREATE,
            object_type="dedup.candidatepair",
            crisis=run.crisis,
            changes={
                "pairs": [None, created],
                "rescored": [None, refreshed],
                "clusters_cleared": [None, cleared],
                "run": [None, run.pk],
            },
        )
    return len(pairs), created


# What a run writes on an open pair it finds again.
RESCORED = (
    "run",
    "score",
    "evidence",
    "found_by",
    "match_weight",
    "explanation",
    "cluster",
)


def _auto_merge(run: LinkageRun, pairs: Iterable[Any]) -> int:
    """Merge, without review, the pairs the crisis's policy allows: the same IIN or
    document number at the policy's probability or above. Never on names alone; never two
    people an officer has decided on (not the same person, or a merge of them undone)."""
    from aman.dedup.merging import person_merge

    policy = policy_for(run.crisis)
    if not policy.auto_merge:
        return 0
    wanted = [
        p
        for p in pairs
        if AUTO_MERGE_EVIDENCE & set(p.evidence)
        and p.match_probability >= policy.auto_merge_probability
    ]
    if not wanted:
        return 0
    # Pairs an officer has decided on, and merges undone: an officer's word stands.
    decided = set(
        CandidatePair.objects.filter(crisis=run.crisis)
        .exclude(status__in=(CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED))
        .values_list("person_a", "person_b")
    )
    for a, b in Merge.objects.filter(crisis=run.crisis, undone_at__isnull=False).values_list(
        "survivor", "absorbed"
    ):
        decided.add((min(a, b), max(a, b)))
    # Who each record is part of now, kept up to date with the merges made here.
    survivors: dict[int, int | None] = dict(
        Person.all_objects.filter(crisis=run.crisis, merged_into__isnull=False).values_list(
            "pk", "merged_into"
        )
    )
    merged = 0
    for p in wanted:
        a, b = sorted((_follow(survivors, p.a), _follow(survivors, p.b)))
        if a == b or (p.a, p.b) in decided or (a, b) in decided:
            continue
        pair = CandidatePair.objects.filter(person_a_id=a, person_b_id=b).first()
        try:
            person_merge(
                actor=None,
                survivor=Person.objects.get(pk=a),
                absorbed=Person.objects.get(pk=b),
                pair=pair,
                automatic=True,
            )
        except (ApplicationError, Person.DoesNotExist) as exc:
            logger.info("pair %s ~ %s not merged automatically: %s", a, b, exc)
            continue
        survivors[b] = a
        merged += 1
    return merged


def latest_run(crisis: Crisis) -> LinkageRun | None:
    """The crisis's latest run, a run that lost its process marked failed first (so that
    the page offers a new one)."""
    linkage_runs_tidy(crisis)
    return LinkageRun.objects.filter(crisis=crisis).order_by("-created_at", "-id").first()


def cluster_of_people(crisis: Crisis) -> dict[int, int]:
    """Each person's cluster: the people one person is made of (merges in force) and the
    clusters of the latest finished run, joined; a cluster is named by its smallest person
    id. People in no cluster are left out."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: int, y: int) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    for absorbed, survivor in Merge.objects.filter(
        crisis=crisis, undone_at__isnull=True
    ).values_list("absorbed_id", "survivor_id"):
        union(absorbed, survivor)
    run = (
        LinkageRun.objects.filter(crisis=crisis, status=LinkageRun.Status.DONE)
        .order_by("-finished_at", "-id")
        .first()
    )
    if run is not None:
        for a, b in (
            CandidatePair.objects.filter(crisis=crisis, run=run, cluster__isnull=False)
            .exclude(status=CandidatePair.Status.REJECTED)
            .values_list("person_a", "person_b")
        ):
            union(a, b)
    return {x: find(x) for x in parent}


EXPORT_COLUMNS = [
    "intake_record",
    "received_at",
    "channel",
    "kind",
    "source",
    "source_ref",
    "import_batch",
    "row_number",
    "person",
    "reference_code",
    "registered_as",
    "cluster",
]


def intake_kind(channel: str, kind: str) -> str:
    """What an intake record was, for the export: `registration`, `import` (a row of an
    imported list), `correction` (an officer's, in the UI or through the API) or
    `status_update` (the person's own, on the public status page)."""
    if kind == "registration":
        return "import" if channel == Channel.IMPORT else "registration"
    if channel == Channel.PUBLIC_WEB:
        return "status_update"
    return "correction"


def clusters_export(*, actor: User | None, crisis: Crisis, out: IO[str]) -> int:
    """One CSV row per accepted intake record of the crisis: its source and the source's own
    reference, the person it belongs to now (and the record it registered, when that one was
    merged since), and the person's cluster. No names or identifiers. Returns the rows
    written; the export is audited."""
    clusters = cluster_of_people(crisis)
    people = dict(Person.all_objects.filter(crisis=crisis).values_list("pk", "reference_code"))
    merged_into = dict(
        Person.all_objects.filter(crisis=crisis, merged_into__isnull=False).values_list(
            "pk", "merged_into"
        )
    )
    registered_as: dict[int, int] = {}
    for merge in Merge.objects.filter(crisis=crisis, undone_at__isnull=True).only(
        "absorbed_id", "moved"
    ):
        key = f"{IntakeRecord.people.through._meta.label_lower}.person"
        for through_id in merge.moved.get(key, []):
            registered_as[through_id] = merge.absorbed_id

    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    through = IntakeRecord.people.through
    rows = 0
    # A record's links were written in the order of its members (the pk), so the n-th is
    # the n-th member: an import's household keeps each member's own reference and row.
    last_record, index = None, 0
    for (
        link_id,
        record_id,
        person_id,
        received_at,
        channel,
        kind,
        source,
        ref,
        batch,
        row,
        refs,
    ) in (
        through.objects.filter(intakerecord__crisis=crisis)
        .order_by("intakerecord_id", "pk")
        .values_list(
            "pk",
            "intakerecord_id",
            "person_id",
            "intakerecord__received_at",
            "intakerecord__channel",
            "intakerecord__kind",
            "intakerecord__source",
            "intakerecord__source_ref",
            "intakerecord__batch_id",
            "intakerecord__row_number",
            "intakerecord__member_refs",
        )
        .iterator(chunk_size=20_000)
    ):
        index = index + 1 if record_id == last_record else 0
        last_record = record_id
        if refs and index < len(refs):
            ref, row = refs[index][0] or ref, refs[index][1] or row
        person = _follow(merged_into, person_id)
        original = registered_as.get(link_id, person_id)
        writer.writerow(
            [
                record_id,
                received_at.isoformat() if received_at else "",
                channel,
                intake_kind(channel, kind),
                # Free text from the sources (an imported list's references): never a
                # formula in the analyst's spreadsheet.
                formula_safe(source or ""),
                formula_safe(ref or ""),
                batch or "",
                row or "",
                person,
                people.get(person, ""),
                people.get(original, "") if original != person else "",
                clusters.get(person, ""),
            ]
        )
        rows += 1
    audit_read(
        actor=actor,
        verb="clusters_export",
        object_type="registry.intakerecord",
        crisis=crisis,
        export=True,
        details={"rows": rows},
    )
    return rows
