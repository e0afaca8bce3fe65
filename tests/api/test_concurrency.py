"""Concurrent duplicates on PostgreSQL: an idempotent create happens once, and a race on a
unique code is a clear 4xx, never a 500."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from aman.core.models import Crisis
from aman.core.roles import Role
from tests.conftest import World

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions are tested on PostgreSQL")


def race(n: int, request: Callable[[], Any]) -> list[Any]:
    """Run `request` in n threads released at the same moment."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = request()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_concurrent_retries_with_one_key_create_once(world: World) -> None:
    token_client = world.api(Role.CRISIS_MANAGER)
    auth = token_client.defaults["HTTP_AUTHORIZATION"]
    body = json.dumps({"name": "Race 2026", "code": "race-2026", "affected_countries": ["IR"]})

    def create() -> Any:
        return Client(HTTP_AUTHORIZATION=auth).post(
            "/api/crises",
            data=body,
            content_type="application/json",
            headers={"Idempotency-Key": "same-key"},
        )

    responses = race(6, create)
    statuses = sorted(r.status_code for r in responses)
    assert Crisis.objects.filter(code="race-2026").count() == 1
    assert statuses.count(201) >= 1 and set(statuses) <= {201, 409}, statuses
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1
    for r in responses:
        if r.status_code == 409:
            assert "still being processed" in r.json()["message"]


def test_a_race_on_a_unique_code_is_a_clear_error(world: World) -> None:
    auth = world.api(Role.CRISIS_MANAGER).defaults["HTTP_AUTHORIZATION"]
    body = json.dumps({"name": "Clash", "code": "clash", "affected_countries": ["IR"]})

    def create() -> Any:
        return Client(HTTP_AUTHORIZATION=auth).post(
            "/api/crises", data=body, content_type="application/json"
        )

    responses = race(6, create)
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 1 and set(statuses) <= {201, 400, 409}, statuses
    assert all(set(r.json()) == {"message", "extra"} for r in responses if r.status_code != 201)
    assert Crisis.objects.filter(code="clash").count() == 1
