"""Writes of the duplicate check: recording possible duplicates, an officer's decision."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aman.core.audit import audit_write, audit_write_many
from aman.core.errors import ApplicationError, Conflict
from aman.core.models import AuditEntry, Crisis, User
from aman.dedup.matching import Match, Probe, find
from aman.dedup.models import CandidatePair, Merge


def candidates_record(
    *,
    actor: User | None,
    crisis: Crisis,
    probes: list[Probe],
    records: list[Any] | None = None,
) -> int:
    """Find and keep the possible duplicates of people just registered (`probes` carry
    their ids; `records[i]` is the intake record of probe i). A pair already known, or
    already decided, is not proposed again. Returns how many new pairs were kept."""
    matches: list[Match] = find(crisis.pk, probes)
    pairs: dict[tuple[int, int], CandidatePair] = {}
    for m in matches:
        own = probes[m.probe].person_id
        assert own is not None
        a, b = sorted((own, m.person_id))
        known = pairs.get((a, b))
        if known is not None:
            known.evidence = sorted(set(known.evidence) | set(m.evidence))
            known.score = max(known.score, m.score)
            continue
        pairs[a, b] = CandidatePair(
            crisis=crisis,
            person_a_id=a,
            person_b_id=b,
            score=m.score,
            evidence=m.evidence,
            intake_record=records[m.probe] if records else None,
        )
    if not pairs:
        return 0
    created = CandidatePair.objects.bulk_create(pairs.values(), ignore_conflicts=True)
    audit_write(
        actor=actor,
        verb="candidates_record",
        action=AuditEntry.Action.CREATE,
        object_type="dedup.candidatepair",
        crisis=crisis,
        changes={"pairs": [None, [[p.person_a_id, p.person_b_id] for p in created]]},
    )
    return len(created)


def candidate_defer(*, actor: User, pair: CandidatePair) -> CandidatePair:
    """An officer cannot decide yet (the caller is to be asked again): the pair leaves the
    queue for the *Later* list and can still be merged or rejected from there."""
    return _decide(
        actor, pair, CandidatePair.Status.DEFERRED, (CandidatePair.Status.OPEN,), "candidate_defer"
    )


def candidate_merge(
    *, actor: User, pair: CandidatePair, keep: str = "a", chosen: dict[str, str] | None = None
) -> Merge:
    """Merge the two people of a pair: `keep` says whose record survives ("a", the one
    registered first, by default); `chosen` the officer's choices in conflicts."""
    from aman.dedup.merging import person_merge
    from aman.registry.models import Person

    if keep not in ("a", "b"):
        raise ApplicationError(_("Keep either record a or record b."), {"keep": [keep]})
    a = Person.all_objects.get(pk=pair.person_a_id)
    b = Person.all_objects.get(pk=pair.person_b_id)
    survivor, absorbed = (a, b) if keep == "a" else (b, a)
    return person_merge(actor=actor, survivor=survivor, absorbed=absorbed, pair=pair, chosen=chosen)


def candidate_reject(*, actor: User, pair: CandidatePair) -> CandidatePair:
    """An officer says the two are not the same person: the pair is never proposed again."""
    return _decide(
        actor,
        pair,
        CandidatePair.Status.REJECTED,
        (CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED),
        "candidate_reject",
    )


@transaction.atomic
def _decide(
    actor: User, pair: CandidatePair, status: str, allowed_from: tuple[str, ...], verb: str
) -> CandidatePair:
    """Record an officer's decision on a pair still in one of `allowed_from` (409 else)."""
    pair = CandidatePair.objects.select_for_update().get(pk=pair.pk)
    if pair.status not in allowed_from:
        raise Conflict(_("This pair has already been decided."), {"status": pair.status})
    before = pair.status
    pair.status = status
    pair.decided_by = actor
    pair.decided_at = timezone.now()
    pair.save(update_fields=["status", "decided_by", "decided_at"])
    audit_write(
        actor=actor, verb=verb, obj=pair, crisis=pair.crisis, changes={"status": [before, status]}
    )
    return pair


def cluster_reject(
    *, actor: User, crisis: Crisis, cluster: int, pairs: list[int]
) -> list[CandidatePair]:
    """An officer says the records of a cluster are all different people: every pair of
    `pairs` (the cluster's pairs the officer may see) still open or put off is closed as
    not the same person, and never proposed again. 409 when none is left to decide."""
    return _decide_cluster(
        actor,
        crisis,
        cluster,
        pairs,
        CandidatePair.Status.REJECTED,
        (CandidatePair.Status.OPEN, CandidatePair.Status.DEFERRED),
        "cluster_reject",
    )


def cluster_defer(
    *, actor: User, crisis: Crisis, cluster: int, pairs: list[int]
) -> list[CandidatePair]:
    """An officer cannot decide on a cluster yet: its open pairs (of `pairs`) go to the
    *Later* list. 409 when none is open. (Merging is never done for a whole cluster: each
    merge is an officer's decision on one pair.)"""
    return _decide_cluster(
        actor,
        crisis,
        cluster,
        pairs,
        CandidatePair.Status.DEFERRED,
        (CandidatePair.Status.OPEN,),
        "cluster_defer",
    )


@transaction.atomic
def _decide_cluster(
    actor: User,
    crisis: Crisis,
    cluster: int,
    pairs: list[int],
    status: str,
    allowed_from: tuple[str, ...],
    verb: str,
) -> list[CandidatePair]:
    """Decide every pair of `pairs` that is in the cluster and in one of `allowed_from`,
    one audit entry per pair."""
    decided = list(
        CandidatePair.objects.select_for_update()
        .filter(crisis=crisis, cluster=cluster, pk__in=pairs, status__in=allowed_from)
        .order_by("pk")
    )
    if not decided:
        raise Conflict(_("Nothing is left to decide in this cluster."), {"cluster": cluster})
    now = timezone.now()
    before = {pair.pk: pair.status for pair in decided}
    for pair in decided:
        pair.status, pair.decided_by, pair.decided_at = status, actor, now
    CandidatePair.objects.bulk_update(decided, ["status", "decided_by", "decided_at"])
    audit_write_many(
        [
            {
                "actor": actor,
                "verb": verb,
                "obj": pair,
                "crisis": crisis,
                "changes": {"status": [before[pair.pk], status], "cluster": cluster},
            }
            for pair in decided
        ]
    )
    return decided
