"""The planner's rows of the access matrix (tests/test_access_matrix.py), as keyword dicts
of its `Route`. Running and reviewing plans, locks and bus pools: logistics and the crisis
manager; publishing: the same (DESIGN: logistics officers publish plans, crisis managers
sign them off)."""

from __future__ import annotations

from typing import Any

from aman.core.roles import Role

R = Role
PLANNERS = {R.CRISIS_MANAGER, R.LOGISTICS, "superuser"}
MANAGERS = {R.CRISIS_MANAGER, "superuser"}  # the planning policy: promises against priority


def world_plan(w: Any) -> int:
    """A plan of the world's crisis (running: its solve waits for the commit that a
    test's transaction never makes)."""
    from aman.planning.models import Plan
    from aman.planning.services import plan_start

    plan = Plan.objects.filter(crisis=w.crisis).first()
    if plan is None:
        plan = plan_start(actor=None, crisis=w.crisis, days=2)
    return plan.pk


def world_household(w: Any) -> int:
    from aman.registry.models import Person

    household_id = Person.objects.get(pk=w.people["IR"]).household_id
    assert household_id is not None
    return household_id


def pool_form(w: Any) -> dict[str, Any]:
    from django.utils import timezone

    today = timezone.localdate()
    return {
        "origin": "IR-AZ-ASTARA",
        "destination": "GYD",
        "buses_per_day": 3,
        "seats": 45,
        "travel_hours": 5,
        "departures": "08:00,14:00",
        "first_day": today.isoformat(),
        "last_day": today.isoformat(),
    }


def world_pool(w: Any, *, other: bool = False) -> int:
    """A bus pool of the world's crisis (Tehran to Astara), or of the other crisis (Dubai
    to its airport)."""
    from django.utils import timezone

    from aman.geo.models import Place
    from aman.planning.models import BusPool

    crisis = w.other_crisis if other else w.crisis
    pool = BusPool.objects.filter(crisis=crisis).first()
    if pool is None:
        today = timezone.localdate()
        if other:
            ends = Place.objects.get(kind="city", name="Dubai"), Place.objects.get(iata="DXB")
        else:
            ends = (
                Place.objects.get(kind="city", name="Tehran"),
                Place.objects.get(code="IR-AZ-ASTARA"),
            )
        pool = BusPool.objects.create(
            crisis=crisis,
            origin=ends[0],
            destination=ends[1],
            buses_per_day=2,
            seats=40,
            travel_minutes=600,
            departures="07:00",
            first_day=today,
            last_day=today,
        )
    return pool.pk


def pool_json(w: Any) -> dict[str, Any]:
    form = pool_form(w)
    return {
        **{k: v for k, v in form.items() if k != "travel_hours"},
        "travel_minutes": 300,
        "departures": form["departures"].split(","),
    }


ROWS: list[dict[str, Any]] = [
    dict(name="plan_list", method="get", path=lambda w: "/planning/", allowed=PLANNERS),
    dict(
        name="plan_run",
        method="post",
        path=lambda w: "/planning/run/",
        allowed=PLANNERS,
        ok=302,
        data=lambda w: {"days": 2, "method": "greedy"},
    ),
    dict(name="plan_what_if", method="get", path=lambda w: "/planning/what-if/", allowed=PLANNERS),
    dict(name="pool_list", method="get", path=lambda w: "/planning/pools/", allowed=PLANNERS),
    dict(
        name="pool_list",
        method="post",
        path=lambda w: "/planning/pools/",
        allowed=PLANNERS,
        ok=302,
        data=pool_form,
    ),
    dict(
        name="pool_list",
        method="post",
        path=lambda w: "/planning/pools/",
        allowed=PLANNERS,
        ok=302,
        data=lambda w: {"delete": world_pool(w)},
    ),
    dict(
        name="pool_edit",
        method="get",
        path=lambda w: f"/planning/pools/{world_pool(w)}/",
        allowed=PLANNERS,
    ),
    dict(
        name="pool_edit",
        method="post",
        path=lambda w: f"/planning/pools/{world_pool(w)}/",
        allowed=PLANNERS,
        ok=302,
        data=pool_form,
    ),
    # Another crisis than the officer's current one: not there.
    dict(
        name="pool_edit",
        method="get",
        path=lambda w: f"/planning/pools/{world_pool(w, other=True)}/",
        allowed=PLANNERS,
        ok=404,
    ),
    dict(
        name="pool_list",
        method="post",
        path=lambda w: "/planning/pools/",
        allowed=PLANNERS,
        ok=404,
        data=lambda w: {"delete": world_pool(w, other=True)},
    ),
    dict(
        name="planning_policy",
        method="get",
        path=lambda w: "/planning/policy/",
        allowed=PLANNERS,
    ),
    dict(
        name="planning_policy",
        method="post",
        path=lambda w: "/planning/policy/",
        allowed=MANAGERS,
        ok=302,
        data=lambda w: {"stability_reward": "1.5", "firm_hours": "24"},
    ),
    dict(name="plan_compare", method="get", path=lambda w: "/planning/compare/", allowed=PLANNERS),
    # A running plan has no result to compare (and twice the same plan): the allowed are
    # told so (400) after the access check.
    dict(
        name="plan_compare",
        method="get",
        path=lambda w: f"/planning/compare/?a={world_plan(w)}&b={world_plan(w)}",
        allowed=PLANNERS,
        ok=400,
    ),
    dict(name="lock_list", method="get", path=lambda w: "/planning/locks/", allowed=PLANNERS),
    # Nothing is locked: the allowed are told so and sent back to the page.
    dict(
        name="lock_unlock",
        method="post",
        path=lambda w: f"/planning/locks/{world_household(w)}/unlock/",
        allowed=PLANNERS,
        ok=302,
    ),
    dict(
        name="plan_detail",
        method="get",
        path=lambda w: f"/planning/{world_plan(w)}/",
        allowed=PLANNERS,
    ),
    dict(
        name="plan_publish",
        method="post",
        path=lambda w: f"/planning/{world_plan(w)}/publish/",
        allowed=PLANNERS,
        ok=302,
    ),
    dict(
        name="plan_discard",
        method="post",
        path=lambda w: f"/planning/{world_plan(w)}/discard/",
        allowed=PLANNERS,
        ok=302,
    ),
    dict(
        name="plan_lock",
        method="post",
        path=lambda w: f"/planning/{world_plan(w)}/lock/{world_household(w)}/",
        allowed=PLANNERS,
        ok=302,
        data=lambda w: {"action": "lock"},
    ),
]


def A(name: str, path: Any = None, **kw: Any) -> dict[str, Any]:
    method, template = name.split(" ", 1)
    return {
        "name": name,
        "method": method.lower(),
        "path": path or (lambda w: template),
        "allowed": PLANNERS,
        "anonymous": 401,
        "api": True,
        **kw,
    }


API_ROWS: list[dict[str, Any]] = [
    A("GET /api/plans"),
    A("POST /api/plans", ok=202, data=lambda w: {"days": 2, "method": "greedy"}),
    A("GET /api/plans/{plan_id}", lambda w: f"/api/plans/{world_plan(w)}"),
    A("GET /api/plans/{plan_id}/scenario", lambda w: f"/api/plans/{world_plan(w)}/scenario"),
    # A running plan cannot be published: the allowed get 409 (after the access check).
    A(
        "POST /api/plans/{plan_id}/publish",
        lambda w: f"/api/plans/{world_plan(w)}/publish",
        ok=409,
    ),
    A("POST /api/plans/{plan_id}/discard", lambda w: f"/api/plans/{world_plan(w)}/discard"),
    A("GET /api/plans/{plan_id}/changes", lambda w: f"/api/plans/{world_plan(w)}/changes"),
    # Twice the same (running) plan: the allowed are told so (400) after the access check.
    A(
        "GET /api/plans/{a}/compare/{b}",
        lambda w: f"/api/plans/{world_plan(w)}/compare/{world_plan(w)}",
        ok=400,
    ),
    # A running plan has no itinerary to lock, and nothing is locked: the allowed get 409.
    A(
        "POST /api/plans/{plan_id}/households/{household_id}/lock",
        lambda w: f"/api/plans/{world_plan(w)}/households/{world_household(w)}/lock",
        ok=409,
    ),
    A(
        "POST /api/plans/{plan_id}/households/{household_id}/unlock",
        lambda w: f"/api/plans/{world_plan(w)}/households/{world_household(w)}/unlock",
        ok=409,
    ),
    A("GET /api/pools"),
    A("POST /api/pools", ok=201, data=pool_json),
    A("GET /api/pools/{pool_id}", lambda w: f"/api/pools/{world_pool(w)}"),
    A(
        "PATCH /api/pools/{pool_id}",
        lambda w: f"/api/pools/{world_pool(w)}",
        data=lambda w: {"seats": 45},
    ),
    A("DELETE /api/pools/{pool_id}", lambda w: f"/api/pools/{world_pool(w)}", ok=204),
    # Another crisis's pool (the current crisis is the world's): not there.
    A("GET /api/pools/{pool_id}", lambda w: f"/api/pools/{world_pool(w, other=True)}", ok=404),
    A(
        "PATCH /api/pools/{pool_id}",
        lambda w: f"/api/pools/{world_pool(w, other=True)}",
        data=lambda w: {"seats": 45},
        ok=404,
    ),
    A(
        "DELETE /api/pools/{pool_id}",
        lambda w: f"/api/pools/{world_pool(w, other=True)}",
        ok=404,
    ),
    A(
        "GET /api/crises/{crisis_id}/planning-policy",
        lambda w: f"/api/crises/{w.crisis.pk}/planning-policy",
    ),
    A(
        "PUT /api/crises/{crisis_id}/planning-policy",
        lambda w: f"/api/crises/{w.crisis.pk}/planning-policy",
        data=lambda w: {"stability_reward": 0.5, "firm_hours": 24},
        allowed=MANAGERS,
    ),
]


def planning_rows(*, api: bool = False) -> list[dict[str, Any]]:
    return list(API_ROWS if api else ROWS)
