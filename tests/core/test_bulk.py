"""update_rows: many rows, each its own values, in one statement (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from aman.core.bulk import insert_rows, update_rows
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


def test_insert_rows_writes_every_field_as_save_would(world: World) -> None:
    from django.utils import timezone

    from aman.geo.models import Country
    from aman.registry.models import Document, NameKey, Person, StatusEvent

    person = Person.objects.create(
        crisis=world.crisis,
        household=Household.objects.create(crisis=world.crisis),
        surname="Жұмабек",
        given_names="Нұрлан",
        reference_code="ZZZZ2222",
        country=Country.objects.get(code="IR"),
    )
    before = timezone.now()
    insert_rows(
        [
            Document(person=person, number="N1234'5678", number_hash="h1", expiry_date=None),
            Document(person=person, kind="id_card", number="ü\\t\n", number_hash="h2"),
        ]
    )
    insert_rows([NameKey(person=person, crisis=world.crisis, key=k) for k in ("nurlan", "zh")])
    insert_rows([StatusEvent(person=person, status="registered", note="tab\there")])
    insert_rows([])
    docs = list(Document.objects.filter(person=person).order_by("number_hash"))
    assert [(d.kind, d.number, d.expiry_date) for d in docs] == [
        ("passport", "N1234'5678", None),
        ("id_card", "ü\\t\n", None),
    ], "defaults, encryption and awkward characters survive"
    assert all(d.created_at >= before for d in docs), "auto_now_add is set"
    assert set(person.name_keys.values_list("key", flat=True)) == {"nurlan", "zh"}
    event = StatusEvent.objects.get(person=person)
    assert event.note == "tab\there" and event.at >= before and event.actor_id is None
