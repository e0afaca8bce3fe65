"""A queued registration reads the token's user and the crisis from process-local copies
(core.hot); a change made anywhere is seen at the next request."""

from __future__ import annotations

import json
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from aman.core import hot
from aman.core.models import ApiToken, Crisis, User
from aman.core.roles import Role
from aman.core.services import crisis_close
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World

ASYNC = {"Prefer": "respond-async"}


def queue(client: Client, world: World, body: Any, key: str) -> Any:
    return client.post(
        f"/api/registrations?crisis={world.crisis.pk}",
        data=json.dumps(body),
        content_type="application/json",
        headers={**ASYNC, "Idempotency-Key": key},
    )


def tables_read(queries: list[dict[str, Any]]) -> list[str]:
    return [
        q["sql"].split(" FROM ", 1)[1].split()[0].strip('"')
        for q in queries
        if q["sql"].startswith("SELECT") and " FROM " in q["sql"]
    ]


def test_a_queued_registration_reads_neither_token_nor_crisis_again(
    world: World, family: dict[str, Any]
) -> None:
    client = world.api(Role.OPERATOR)
    assert queue(client, world, family, "warm").status_code == 202
    with CaptureQueriesContext(connection) as first:
        assert queue(client, world, family, "hot-1").status_code == 202
    statements = [q["sql"] for q in first.captured_queries if not q["sql"].startswith("SAVEPOINT")]
    statements = [q for q in statements if not q.startswith("RELEASE")]
    # The record and its codes' rows: one statement on PostgreSQL, two on SQLite.
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2), statements
    insert = statements[0]
    assert 'INSERT INTO "registry_intakerecord"' in insert, insert
    assert 'NOT EXISTS (SELECT 1 FROM "registry_person"' in insert, "the codes are checked"
    assert 'INSERT INTO "registry_reservedcode"' in statements[-1], statements
    assert IntakeRecord.objects.filter(outcome="pending").count() == 2


def test_a_reserved_code_a_person_already_has_is_drawn_again(
    world: World, family: dict[str, Any], monkeypatch: Any
) -> None:
    from aman.registry import services

    client = world.api(Role.OPERATOR)
    taken = queue(client, world, family, "first").json()["reference_codes"][0]
    services.registrations_process_pending()
    assert Person.objects.filter(reference_code=taken).exists()
    draws = iter([taken, "22222222", "33333333", "44444444", "55555555", "66666666"])
    monkeypatch.setattr(services, "new_reference_code", lambda: next(draws))
    again = queue(client, world, family, "second")
    assert again.status_code == 202, again.content
    codes = again.json()["reference_codes"]
    assert taken not in codes and len(set(codes)) == 3
    record = IntakeRecord.objects.get(pk=again.json()["intake_record"])
    assert record.reference_codes == codes and record.outcome == "pending"


def test_a_token_revoked_by_another_process_is_refused_at_the_next_request(
    world: World, family: dict[str, Any]
) -> None:
    client = world.api(Role.OPERATOR)
    assert queue(client, world, family, "a").status_code == 202
    # Another process revokes the token: this process's copy is not told directly (the
    # row changes without a signal here), only the shared generation moves on.
    ApiToken.objects.update(revoked_at=timezone.now())
    assert queue(client, world, family, "b").status_code == 202, "the copy, until told"
    cache.set(hot.GENERATION_KEY, "another process's change", timeout=None)
    refused = queue(client, world, family, "c")
    assert refused.status_code == 401
    assert set(refused.json()) == {"message", "extra"}
    assert not IntakeRecord.objects.filter(idempotency_key="c").exists()


def test_a_deactivated_user_and_a_closed_crisis_are_seen_at_once(
    world: World, family: dict[str, Any]
) -> None:
    operator = world.api(Role.OPERATOR)
    coordinator = world.api(Role.CRISIS_MANAGER)
    assert queue(operator, world, family, "o-1").status_code == 202
    assert queue(coordinator, world, family, "c-1").status_code == 202
    user = User.objects.get(pk=world.users[Role.OPERATOR].pk)
    user.is_active = False
    user.save()
    assert queue(operator, world, family, "o-2").status_code == 401
    crisis_close(actor=None, crisis=world.crisis)
    closed = queue(coordinator, world, family, "c-2")
    assert closed.status_code == 400, closed.content
    assert "not open" in closed.json()["message"]
    assert Crisis.objects.get(pk=world.crisis.pk).status == Crisis.Status.CLOSED


@override_settings(
    CACHES={
        "default": {
            "BACKEND": "aman.core.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens: the cache is down
        }
    }
)
def test_with_the_shared_cache_down_every_request_reads_the_database(
    world: World, family: dict[str, Any]
) -> None:
    client = world.api(Role.OPERATOR)
    assert queue(client, world, family, "down-1").status_code == 202
    with CaptureQueriesContext(connection) as second:
        assert queue(client, world, family, "down-2").status_code == 202
    read = tables_read(second.captured_queries)
    assert "core_apitoken" in read and "core_crisis" in read, read
