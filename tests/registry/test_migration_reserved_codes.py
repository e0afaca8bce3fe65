"""Migration 0016 gives the codes of the registrations already queued or refused by the
background run their rows, so that after the upgrade the status page finds them by code
as it finds those queued since."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from aman.registry.models import IntakeRecord, ReservedCode
from tests.conftest import World
from tests.migrations import migrate as _migrate
from tests.migrations import migrate_to_the_latest as _migrate_to_the_latest

BEFORE = ("registry", "0015_household_available_from")
AFTER = ("registry", "0016_reserved_codes")


def _record(world: World, outcome: str, codes: list[str], birth_dates: list[str]) -> IntakeRecord:
    return IntakeRecord.objects.create(
        crisis=world.crisis,
        channel="public_web",
        outcome=outcome,
        payload={
            "members": [
                {"surname": "Сейітова", "given_names": "Дана", "birth_date": b} for b in birth_dates
            ]
        },
        reference_codes=codes,
        rejection_reasons={"location.country": "Unknown country QQ."}
        if outcome == "rejected"
        else {},
    )


@pytest.mark.django_db(transaction=True)
def test_the_codes_queued_or_refused_before_the_upgrade_are_found_after_it(
    world: World,
) -> None:
    cache.clear()
    try:
        _migrate(BEFORE)
        pending = _record(world, "pending", ["PPPP2222", "PPPP3333"], ["1988-02-29", "2016-06-01"])
        refused = _record(world, "rejected", ["RRRR2222"], ["1970-01-02"])
        _record(world, "accepted", ["AAAA2222"], ["1970-01-02"])
        _record(world, "rejected", [], ["1970-01-02"])  # refused at once: no codes
    finally:
        _migrate(AFTER)
        _migrate_to_the_latest()
    rows = sorted(ReservedCode.objects.values_list("code", "record_id"))
    assert rows == [
        ("PPPP2222", pending.pk),
        ("PPPP3333", pending.pk),
        ("RRRR2222", refused.pk),
    ], "the codes of the records the status page reads; an accepted one's are its people's"
    client = Client()
    page = client.post("/status/", {"reference_code": "pppp-3333", "birth_date": "2016-06-01"})
    assert "It is being processed" in page.content.decode()
    page = client.post("/status/", {"reference_code": "RRRR2222", "birth_date": "1970-01-02"})
    assert "Unknown country QQ." in page.content.decode()
