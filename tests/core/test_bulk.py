"""update_rows: many rows, each its own values, in one statement (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from aman.core.bulk import update_rows
from aman.registry.models import Household, IntakeRecord
from tests.conftest import World


def test_each_row_gets_its_own_values_json_and_nulls_included(world: World) -> None:
    households = Household.objects.bulk_create([Household(crisis=world.crisis) for _ in range(3)])
    records = IntakeRecord.objects.bulk_create(
        [
            IntakeRecord(crisis=world.crisis, channel="api", payload={"n": n}, source="t")
            for n in range(3)
        ]
    )
    untouched = IntakeRecord.objects.create(
        crisis=world.crisis, channel="api", payload={}, source="t", source_ref="keep"
    )
    values: list[tuple[Any, str, list[str]]] = [
        (households[0], "a-1", ["AAAA2222"]),
        (None, "", []),
        (households[2], "ü'; DROP TABLE x; --", ["BBBB3333", "CCCC4444"]),
    ]
    for record, (household, ref, codes) in zip(records, values, strict=True):
        record.household, record.source_ref, record.reference_codes = household, ref, codes
        record.outcome = IntakeRecord.Outcome.ACCEPTED
    with CaptureQueriesContext(connection) as ctx:
        assert update_rows(records, ["outcome", "household", "source_ref", "reference_codes"]) == 3
    assert len([q for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]) == 1
    for record, (household, ref, codes) in zip(records, values, strict=True):
        stored = IntakeRecord.objects.get(pk=record.pk)
        assert (stored.household_id, stored.source_ref, stored.reference_codes) == (
            household.pk if household else None,
            ref,
            codes,
        )
        assert stored.outcome == "accepted" and stored.payload == record.payload
    assert IntakeRecord.objects.get(pk=untouched.pk).source_ref == "keep"
    assert update_rows([], ["outcome"]) == 0
