"""Batch linkage over a whole crisis: the database side of `aman.dedup.linkage`.

`linkage_run_start` queues a run (the page, the API); `linkage_run_execute` reads every
person of the crisis, runs the engine, and keeps what it found as possible duplicates
(`CandidatePair`, found by `batch`) with the match weight, its parts and the cluster, for
officers to review. When the crisis's policy allows it, pairs with the same IIN or document
number at a very high probability are merged without review (`automatic`); names alone are
never merged automatically. `clusters_export` writes one row per intake record with its
source reference, its person and its cluster, for analysis.
"""

from __future__ import annotations

import csv
import logging
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import IO, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aman.core.audit import audit_read, audit_write
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import AuditEntry, Crisis, User
from aman.dedup.models import CandidatePair, LinkagePolicy, LinkageRun, Merge
from aman.registry.models import Document, IntakeRecord, Person, Phone

logger = logging.getLogger(__name__)

# Evidence on which a policy may merge without review.
AUTO_MERGE_EVIDENCE = frozenset({"iin", "document"})
# The run's phases and the part of the progress bar each takes.
LOAD, LINK, SAVE = (0.0, 0.1), (0.1, 0.85), (0.85, 1.0)
# Pairs written per statement batch.
CHUNK = 5_000
# A queued or running run older than this has lost its process (a million people take
# about two minutes).
STALE_AFTER = timedelta(hours=2)


def policy_for(crisis: Crisis) -> LinkagePolicy:
    return LinkagePolicy.objects.filter(crisis=crisis).first() or LinkagePolicy(crisis=crisis)


@transaction.atomic
def linkage_policy_set(
    *, actor: User | None, crisis: Crisis, auto_merge: bool, auto_merge_probability: float
) -> LinkagePolicy:
    """Whether batch runs may merge exact-identifier pairs without review, and from which
    match probability (0.9–1)."""
    if not 0.9 <= auto_merge_probability <= 1:
        raise ApplicationError(
            _("The probability must be between 0.9 and 1."),
            {"auto_merge_probability": [auto_merge_probability]},
        )
    policy, created = LinkagePolicy.objects.select_for_update().get_or_create(crisis=crisis)
    before = [policy.auto_merge, policy.auto_merge_probability]
    policy.auto_merge = auto_merge
    policy.auto_merge_probability = auto_merge_probability
    policy.updated_by = actor
    policy.save()
    audit_write(
        actor=actor,
        verb="linkage_policy_set",
        obj=policy,
        crisis=crisis,
        changes={
            "auto_merge": [None if created else before[0], auto_merge],
            "auto_merge_probability": [None if created else before[1], auto_merge_probability],
        },
    )
    return policy


def linkage_run_start(*, actor: User | None, crisis: Crisis, dispatch: bool = True) -> LinkageRun:
    """Queue a linkage run over the crisis (one at a time: 409 while one is queued or
    running)."""
    with transaction.atomic():
        Crisis.objects.select_for_update().filter(pk=crisis.pk).first()
        # A run whose process died (a restart, a lost worker) does not block the next one.
        LinkageRun.objects.filter(
            crisis=crisis,
            status__in=(LinkageRun.Status.QUEUED, LinkageRun.Status.RUNNING),
            created_at__lt=timezone.now() - STALE_AFTER,
        ).update(
            status=LinkageRun.Status.FAILED,
            error=_("Interrupted: no result after %(hours)s hours.")
            % {"hours": int(STALE_AFTER.total_seconds() // 3600)},
            finished_at=timezone.now(),
        )
        busy = LinkageRun.objects.filter(
            crisis=crisis, status__in=(LinkageRun.Status.QUEUED, LinkageRun.Status.RUNNING)
        ).first()
        if busy is not None:
            raise Conflict(
                _("A linkage run of this crisis is already under way."), {"run": busy.pk}
            )
        run = LinkageRun.objects.create(crisis=crisis, created_by=actor)
        audit_write(
            actor=actor,
            verb="linkage_run_start",
            obj=run,
            crisis=crisis,
            action=AuditEntry.Action.CREATE,
            changes={"status": [None, run.status]},
        )
        if dispatch:
            from aman.dedup.tasks import linkage_run

            transaction.on_commit(lambda: linkage_run.dispatch(run.pk))
    return run


class _Progress:
    """Writes a run's phase and progress to its row, at most every half second."""

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
        LinkageRun.objects.filter(pk=self.run_id).update(phase=phase, progress=round(overall, 4))
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
    on the run, where the officer sees it. `echo(phase, fraction)` hears the progress as
    the run's row records it (at most every half second, and at each new phase)."""
    from aman.dedup.linkage import Settings, link

    run = LinkageRun.objects.select_related("crisis", "created_by").get(pk=run_id)
    if run.status not in (LinkageRun.Status.QUEUED, LinkageRun.Status.RUNNING):
        return run
    LinkageRun.objects.filter(pk=run.pk).update(
        status=LinkageRun.Status.RUNNING, started_at=timezone.now(), phase="load", progress=0
    )
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
            result = link(
                records,
                settings=Settings(),
                exclude_pairs=excluded,
                progress=lambda phase, fraction: progress(phase, fraction, LINK),
            )
        started = time.perf_counter()
        progress("save", 0.0, SAVE)
        found, new = _keep_pairs(run, list(result.pairs) if result else [], result)
        merged = _auto_merge(run, result.pairs if result else [])
        seconds["save"] = time.perf_counter() - started
        stats = {**(result.stats if result else {}), "django_seconds": seconds}
        LinkageRun.objects.filter(pk=run.pk).update(
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
            finished_at=timezone.now(),
        )
    except Exception as exc:
        logger.exception("linkage run %s failed", run.pk)
        LinkageRun.objects.filter(pk=run.pk).update(
            status=LinkageRun.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
    run.refresh_from_db()
    audit_write(
        actor=run.created_by,
        verb="linkage_run_finish",
        obj=run,
        crisis=run.crisis,
        changes={
            "status": [LinkageRun.Status.RUNNING, run.status],
            "pairs_new": [None, run.pairs_new],
            "auto_merged": [None, run.auto_merged],
        },
    )
    return run


def _json_ready(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


def _keep_pairs(run: LinkageRun, pairs: list[Any], result: Any) -> tuple[int, int]:
    """Keep the run's pairs, in chunks: new ones to review; known open ones get the run's
    weight, explanation and cluster; decided ones stay decided. Returns (found, new)."""
    clusters = result.clusters if result else {}
    known: dict[tuple[int, int], int | None] = {}  # (a, b) → id if open, else None
    open_statuses = (CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED)
    for pk, a, b, status in (
        CandidatePair.objects.filter(crisis=run.crisis)
        .values_list("pk", "person_a", "person_b", "status")
        .iterator(chunk_size=20_000)
    ):
        known[(a, b)] = pk if status in open_statuses else None
    created = 0
    for start in range(0, len(pairs), CHUNK):
        new, update = [], []
        for p in pairs[start : start + CHUNK]:
            cluster = clusters.get(p.a)
            fields = {
                "run": run,
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
                    CandidatePair(
                        crisis=run.crisis,
                        person_a_id=p.a,
                        person_b_id=p.b,
                        score=max(1, min(100, round(p.match_probability * 100))),
                        evidence=list(p.evidence),
                        found_by=CandidatePair.FoundBy.BATCH,
                        **fields,
                    )
                )
            elif known[(p.a, p.b)] is not None:
                update.append(CandidatePair(pk=known[(p.a, p.b)], **fields))
        with transaction.atomic():
            CandidatePair.objects.bulk_create(new, ignore_conflicts=True)
            CandidatePair.objects.bulk_update(
                update, ["run", "match_weight", "explanation", "cluster"], batch_size=500
            )
        created += len(new)
    if created:
        audit_write(
            actor=run.created_by,
            verb="candidates_record",
            action=AuditEntry.Action.CREATE,
            object_type="dedup.candidatepair",
            crisis=run.crisis,
            changes={"pairs": [None, created], "run": [None, run.pk]},
        )
    return len(pairs), created


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
    "source",
    "source_ref",
    "import_batch",
    "row_number",
    "person",
    "reference_code",
    "registered_as",
    "cluster",
]


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
    for link_id, record_id, person_id, received_at, channel, source, ref, batch, row, refs in (
        through.objects.filter(intakerecord__crisis=crisis)
        .order_by("intakerecord_id", "pk")
        .values_list(
            "pk",
            "intakerecord_id",
            "person_id",
            "intakerecord__received_at",
            "intakerecord__channel",
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
                source,
                ref,
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
