"""A bus pool changed or deleted while a plan using it is being published, on PostgreSQL:
one waits for the other, and either the plan is refused (the pool changed since) or its
trips became legs that the change then kept — never a trip left to be planned again
from a pool that is no longer what the plan saw."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from aman.geo.models import Place
from aman.planning import pool_legs, services, tasks
from aman.planning.models import BusPool, Plan
from aman.transport.models import Leg
from tests.conftest import World
from tests.planning.world import DAYS, situation
from tests.transport.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions are tested on PostgreSQL")


@pytest.mark.parametrize("write", ["update", "delete"])
def test_a_pool_written_while_its_plan_is_published(world: World, monkeypatch, write) -> None:
    monkeypatch.setattr(tasks.plan_solve, "dispatch", lambda plan_id: None)
    s = situation(world.crisis, households=3, bus_seats=2)
    day = s.legs["bus1"].departure_planned.astimezone(ZoneInfo("Asia/Tehran")).date()
    pool = services.pool_create(
        actor=None,
        crisis=world.crisis,
        data={
            "origin": Place.objects.get(kind="city", name="Tehran"),
            "destination": "IR-AM-NORDUZ",
            "buses_per_day": 1,
            "seats": 4,
            "travel_minutes": 720,
            "departures": ["07:00"],
            "first_day": day,
            "last_day": day,
        },
    )
    plan = services.plan_start(actor=None, crisis=world.crisis, days=DAYS)
    plan = services.plan_solve(plan.pk)
    assert plan.result and plan.result["pool_trips"]

    def change() -> Any:
        if write == "delete":
            return services.pool_delete(actor=None, pool=pool)
        return services.pool_update(actor=None, pool=pool, data={"buses_per_day": 2})

    published, written = race([lambda: services.plan_publish(actor=None, plan=plan), change])
    assert not isinstance(written, Exception), written
    if isinstance(published, Exception):
        assert isinstance(published, services.Refused), published
        assert published.code == ("pool_deleted" if write == "delete" else "pool_changed")
        assert not Leg.objects.filter(crisis=world.crisis, source="plan").exists()
    else:
        assert isinstance(published, Plan)
        made = Leg.objects.get(crisis=world.crisis, source="plan")
        assert made.source_ref.startswith(f"kept{made.pk}x1:pool{pool.pk}@")
        assert made.seats_taken > 0
    assert not pool_legs.legs_of_pool(pool).exists()
    assert BusPool.objects.filter(pk=pool.pk).exists() == (write == "update")
