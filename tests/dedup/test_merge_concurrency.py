"""Two officers merging overlapping pairs at the same moment, on PostgreSQL: one merge wins,
the other is refused with a clear 409, and the registry is left consistent."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from django.db import connection

from aman.core.roles import Role
from aman.dedup.models import CandidatePair, Merge
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World
from tests.dedup.test_intake_check import register
from tests.dedup.test_merge import GRANDFATHER_AGAIN
from tests.transport.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions are tested on PostgreSQL")


def _merge(client: Any, pair: CandidatePair, keep: str) -> Any:
    return client.post(
        f"/api/duplicates/{pair.pk}/merge",
        data=json.dumps({"keep": keep}),
        content_type="application/json",
    )


def _consistent(merge: Merge) -> None:
    """The merge's absorbed record is part of its survivor, and everything it had is the
    survivor's; the survivor is one of the people."""
    absorbed = Person.all_objects.get(pk=merge.absorbed_id)
    survivor = Person.objects.get(pk=merge.survivor_id)
    assert absorbed.merged_into_id == survivor.pk
    assert not IntakeRecord.people.through.objects.filter(person_id=absorbed.pk).exists()
    assert not absorbed.phones.exists() and not absorbed.documents.exists()
    assert survivor.intake_records.count() >= 2


def test_a_into_b_and_b_into_a_at_once_one_wins(world: World, family: dict[str, Any]) -> None:
    assert register(world, family).status_code == 201
    assert register(world, copy.deepcopy(GRANDFATHER_AGAIN)).status_code == 201
    pair = CandidatePair.objects.get()
    officers = [world.api(Role.OPERATOR), world.api(Role.CRISIS_MANAGER)]
    results = race(
        [
            lambda: _merge(officers[0], pair, "a"),
            lambda: _merge(officers[1], pair, "b"),
        ]
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409], [r.content for r in results]
    lost = next(r for r in results if r.status_code == 409).json()
    assert set(lost) == {"message", "extra"}
    assert lost["message"] in (
        "This pair has already been decided.",
        *(
            f"{p.reference_code_display} has already been merged into another record."
            for p in Person.all_objects.filter(pk__in=[pair.person_a_id, pair.person_b_id])
        ),
    )
    (merge,) = Merge.objects.all()
    _consistent(merge)
    pair.refresh_from_db()
    assert pair.status == "merged"
    assert Person.objects.filter(pk__in=[pair.person_a_id, pair.person_b_id]).count() == 1


def test_a_into_b_and_a_into_c_at_once_one_wins(world: World, family: dict[str, Any]) -> None:
    assert register(world, family).status_code == 201
    assert register(world, copy.deepcopy(GRANDFATHER_AGAIN)).status_code == 201
    third = copy.deepcopy(GRANDFATHER_AGAIN)
    third["members"][0]["phones"] = ["+7 705 000 00 01"]
    assert register(world, third).status_code == 201
    b, c, a = sorted(
        Person.objects.filter(given_names__in=["Нұрлан", "Нурлан"]).values_list("pk", flat=True)
    )[:3]
    # A (registered last) is a possible duplicate of B and of C.
    a_b = CandidatePair.objects.get(person_a=b, person_b=a)
    a_c = CandidatePair.objects.get(person_a=c, person_b=a)
    officers = [world.api(Role.OPERATOR), world.api(Role.CRISIS_MANAGER)]
    results = race(
        [
            lambda: _merge(officers[0], a_b, "a"),  # A into B
            lambda: _merge(officers[1], a_c, "a"),  # A into C
        ]
    )
    assert sorted(r.status_code for r in results) == [201, 409], [r.content for r in results]
    lost = next(r for r in results if r.status_code == 409).json()
    code = Person.all_objects.get(pk=a).reference_code_display
    assert lost["message"] == f"{code} has already been merged into another record."
    (merge,) = Merge.objects.all()
    assert merge.absorbed_id == a and merge.survivor_id in (b, c)
    _consistent(merge)
    # The loser's pair is still open (carried to the winner where it was not there yet).
    loser = a_c if merge.survivor_id == b else a_b
    loser.refresh_from_db()
    assert loser.status == "open"
    # And the merge that won can be undone exactly.
    undo = officers[0].post(f"/api/merges/{merge.pk}/undo")
    assert undo.status_code == 200, undo.content
    assert Person.objects.filter(pk__in=[a, b, c]).count() == 3
