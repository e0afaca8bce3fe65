"""A bus pool changed or deleted after a published plan made its trips into legs: the legs
stay legs with their bookings (the next plan plans them as legs, the households told them
keep them, the pool runs only its other buses on their day), and a plan started before
the change is not published."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from aman.core.models import AuditEntry
from aman.geo.models import Place
from aman.planning import inputs, services
from aman.planning.models import Plan, PlanStatus
from aman.transport.models import Leg, LegStatus
from tests.planning.test_pages import _publish, _run
from tests.planning.world import situation

pytestmark = pytest.mark.django_db


def send(client, method: str, path: str, body: dict):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def published_pool_leg(world, capture) -> tuple[dict, Leg, dict[int, set[int]]]:
    """A pool Tehran → Norduz (one bus of 4 a day) added through the API, planned and
    published: its trip is a leg; who rides it (household → people)."""
    s = situation(world.crisis, households=3, bus_seats=2)
    day = s.legs["bus1"].departure_planned.astimezone(ZoneInfo("Asia/Tehran")).date()
    response = send(
        world.api("logistics"),
        "post",
        "/api/pools",
        {
            "origin": str(Place.objects.get(kind="city", name="Tehran").pk),
            "destination": "IR-AM-NORDUZ",
            "buses_per_day": 1,
            "seats": 4,
            "travel_minutes": 720,
            "departures": ["07:00"],
            "first_day": day.isoformat(),
            "last_day": day.isoformat(),
        },
    )
    assert response.status_code == 201, response.content
    client = world.client("logistics")
    plan = _run(client, capture)
    assert plan.result["pool_trips"], "the pool's bus carries what the leg cannot"
    _publish(client, capture, plan)
    leg = world.crisis.legs.get(source="plan")
    riders: dict[int, set[int]] = {}
    for b in leg.bookings.all():
        riders.setdefault(b.household_id, set()).add(b.person_id)
    assert riders
    return response.json(), leg, riders


def test_changing_a_pool_keeps_its_legs_as_legs(world, django_capture_on_commit_callbacks) -> None:
    capture = django_capture_on_commit_callbacks
    pool, leg, riders = published_pool_leg(world, capture)
    ref = leg.source_ref
    assert ref.startswith(f"pool{pool['id']}@")
    client = world.client("logistics")
    page = client.get(f"/planning/pools/{pool['id']}/").content.decode()
    assert 'id="pool-legs"' in page and "of 4 seats taken" in page
    stale = _run(client, capture)  # started before the change

    changed = send(
        world.api("logistics"), "patch", f"/api/pools/{pool['id']}", {"buses_per_day": 2}
    )
    assert changed.status_code == 200, changed.content
    leg.refresh_from_db()
    assert leg.source_ref == f"kept{leg.pk}x1:{ref}" and leg.status == LegStatus.PLANNED
    assert leg.capacity == 4 and leg.seats_taken == sum(len(p) for p in riders.values())
    entry = AuditEntry.objects.get(verb="pool_update")
    assert entry.changes["legs_kept"] == [leg.pk]
    assert entry.changes["buses_per_day"] == [1, 2]

    # The plan started before is not published: it planned the trip as the pool's.
    page = _publish(client, capture, stale)
    stale.refresh_from_db()
    assert stale.status == PlanStatus.DRAFT
    assert "A bus pool of the plan was changed since" in services.error_text(stale)

    # The next plan: the leg is a leg, told to those on it; the pool runs its other bus.
    again = _run(client, capture)
    scenario = again.scenario
    assert f"leg{leg.pk}" in {x["id"] for x in scenario["legs"]}
    (out,) = scenario["bus_pools"]
    day = leg.departure_planned.astimezone(ZoneInfo("Asia/Tehran")).date().isoformat()
    assert out["buses_per_day"] == 2 and out["buses_by_day"] == {day: 1}
    told = {h["id"]: h.get("notified") for h in scenario["households"]}
    for hid in riders:
        assert {"type": "leg", "leg": f"leg{leg.pk}"} in told[f"hh{hid}"]
        assert not any(s["type"] == "pool" for s in told[f"hh{hid}"])
    assert again.result["stability"]["changed"] == 0
    _publish(client, capture, again)
    again.refresh_from_db()
    assert again.status == PlanStatus.PUBLISHED, again.error
    leg.refresh_from_db()
    assert leg.status == LegStatus.PLANNED
    kept = {}
    for b in leg.bookings.filter(status="offered"):
        kept.setdefault(b.household_id, set()).add(b.person_id)
    assert kept == riders
    # Nothing made the same trip a second time.
    assert not Leg.objects.filter(crisis=world.crisis, source_ref=ref).exists()


def test_deleting_a_pool_keeps_its_legs(world, django_capture_on_commit_callbacks) -> None:
    capture = django_capture_on_commit_callbacks
    pool, leg, riders = published_pool_leg(world, capture)
    ref = leg.source_ref
    response = world.api("logistics").delete(f"/api/pools/{pool['id']}")
    assert response.status_code == 204
    leg.refresh_from_db()
    assert leg.source_ref == f"kept{leg.pk}x1:{ref}" and leg.status == LegStatus.PLANNED
    assert AuditEntry.objects.get(verb="pool_delete").changes == {"legs_kept": [leg.pk]}

    exported = inputs.export(world.crisis, days=4, published=services.published_plan(world.crisis))
    assert exported.data["bus_pools"] == []
    assert f"leg{leg.pk}" in {x["id"] for x in exported.data["legs"]}
    client = world.client("logistics")
    again = _run(client, capture)
    assert again.result["stability"]["changed"] == 0
    _publish(client, capture, again)
    again.refresh_from_db()
    assert again.status == PlanStatus.PUBLISHED, again.error
    kept = {}
    for b in leg.bookings.filter(status="offered"):
        kept.setdefault(b.household_id, set()).add(b.person_id)
    assert kept == riders
    assert Plan.objects.filter(status=PlanStatus.SUPERSEDED).count() == 1


def test_a_pool_trip_cancelled_by_an_officer_is_planned_again_as_a_new_leg(
    world, django_capture_on_commit_callbacks
) -> None:
    """The bus of a pool trip cancelled at the transport desk (it broke down): the next
    plan may plan the pool's trip again, and publishing makes it a new leg — the cancelled
    one keeps its history and no longer holds the trip's reference."""
    capture = django_capture_on_commit_callbacks
    _pool, leg, _riders = published_pool_leg(world, capture)
    ref = leg.source_ref
    cancelled = send(
        world.api("logistics"),
        "post",
        f"/api/legs/{leg.pk}/status",
        {"status": "cancelled", "note": "the bus broke down"},
    )
    assert cancelled.status_code == 200, cancelled.content
    client = world.client("logistics")
    plan = _run(client, capture)
    assert plan.result["pool_trips"], "the pool's bus is planned again"
    _publish(client, capture, plan)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED, services.error_text(plan)
    leg.refresh_from_db()
    assert leg.status == LegStatus.CANCELLED and leg.source_ref == f"{ref}~{leg.pk}"
    again = Leg.objects.get(crisis=world.crisis, source_ref=ref)
    assert again.pk != leg.pk and again.status == LegStatus.PLANNED
    assert again.bookings.exists()
