"""The crisis's planning policy (the stability reward and the firm hours): its page and
API with their errors, the plans that use it, and the price of keeping promises that a
re-plan shows."""

from __future__ import annotations

import json

import pytest

from aman.core.models import AuditEntry
from aman.planning.models import Plan, PlanningPolicy, PlanStatus
from tests.planning.world import DAYS, register, situation

pytestmark = pytest.mark.django_db


def _run(client, capture) -> Plan:
    with capture(execute=True):
        response = client.post("/planning/run/", {"days": DAYS, "method": "auto"})
    assert response.status_code == 302
    plan = Plan.objects.latest("pk")
    assert plan.status == PlanStatus.DRAFT, plan.error
    return plan


def test_the_policy_page_shows_the_defaults_refuses_bad_values_and_saves(world) -> None:
    planner = world.client("logistics")  # reads it, cannot change it
    page = planner.get("/planning/policy/").content.decode()
    assert "Only a crisis manager can change this policy." in page and "disabled" in page
    assert (
        planner.post("/planning/policy/", {"stability_reward": "2", "firm_hours": "2"}).status_code
        == 403
    )
    client = world.client("crisis_manager")
    page = client.get("/planning/policy/").content.decode()
    assert 'name="stability_reward"' in page and 'value="1.0"' in page
    assert 'name="firm_hours"' in page and 'value="48"' in page
    assert 'id="policy-link"' in client.get("/planning/").content.decode()

    bad = client.post("/planning/policy/", {"stability_reward": "11", "firm_hours": "-1"})
    assert bad.status_code == 200
    text = bad.content.decode()
    assert 'id="id_stability_reward_errors"' in text and 'id="id_firm_hours_errors"' in text
    assert not PlanningPolicy.objects.exists()

    ok = client.post("/planning/policy/", {"stability_reward": "2.5", "firm_hours": "24"})
    assert ok.status_code == 302 and ok["Location"] == "/planning/policy/"
    policy = PlanningPolicy.objects.get(crisis=world.crisis)
    assert (policy.stability_reward, policy.firm_hours) == (2.5, 24)
    entry = AuditEntry.objects.filter(verb="planning_policy_set").latest("pk")
    assert entry.changes["stability_reward"] == [None, 2.5]
    assert entry.changes["firm_hours"] == [None, 24]
    assert 'value="2.5"' in client.get("/planning/policy/").content.decode()


def test_the_policy_through_the_api(world) -> None:
    api = world.api("crisis_manager")
    path = f"/api/crises/{world.crisis.pk}/planning-policy"
    minutes = {"connection_minutes": 60, "airport_connection_minutes": 120, "crossing_minutes": 60}
    assert api.get(path).json() == {"stability_reward": 1.0, "firm_hours": 48, **minutes}

    def put(body: dict) -> object:
        return api.put(path, data=json.dumps(body), content_type="application/json")

    bad = put({"stability_reward": -1, "firm_hours": 500})
    assert bad.status_code == 400
    body = bad.json()
    assert body["message"].startswith("The planning policy was not saved: stability_reward")
    assert set(body["extra"]["errors"]) == {"stability_reward", "firm_hours"}
    wrong_type = put({"stability_reward": "much", "firm_hours": 12})
    assert wrong_type.status_code == 422 and "message" in wrong_type.json()
    assert not PlanningPolicy.objects.exists()

    assert put({"stability_reward": 0.5, "firm_hours": 12}).json() == {
        "stability_reward": 0.5,
        "firm_hours": 12,
        **minutes,
    }
    assert api.get(path).json() == {"stability_reward": 0.5, "firm_hours": 12, **minutes}
    other = world.api("logistics")
    body = json.dumps({"stability_reward": 0, "firm_hours": 0})
    assert other.put(path, data=body, content_type="application/json").status_code == 403


def test_a_re_plan_under_the_policy_shows_what_keeping_the_promises_costs(
    world, django_capture_on_commit_callbacks
) -> None:
    """Four seats on the first bus: the published plan tells the priority household and
    one other. A pregnant woman registers after. At a high reward the
    re-plan keeps both promises and says that owing nobody anything the newcomer would
    have gone instead; at reward 0 it goes, and the promise cost nothing."""
    capture = django_capture_on_commit_callbacks
    s = situation(world.crisis, households=2, bus_seats=4)
    client = world.client("crisis_manager")
    first = _run(client, capture)
    with capture(execute=True):
        client.post(f"/planning/{first.pk}/publish/")
    first.refresh_from_db()
    assert first.status == PlanStatus.PUBLISHED and first.people_safe == 4
    told = {f"hh{h.pk}" for h in s.households}
    newcomer = register(
        world.crisis,
        [
            {
                "surname": "Сейітова",
                "given_names": "Жанар",
                "birth_date": "1994-05-05",
                "sex": "F",
                "pregnant": True,
            }
        ],
    )
    client.post("/planning/policy/", {"stability_reward": "10", "firm_hours": "0"})

    kept = _run(client, capture)
    assert kept.scenario["policy"]["stability_reward"] == 10.0
    assert kept.scenario["policy"]["firm_hours"] == 0
    assert {i["household"] for i in kept.result["itineraries"]} == told
    other = kept.result["stability"]["without_promises"]
    assert f"hh{newcomer.pk}" not in told and other["share"] > 0
    page = client.get(f"/planning/{kept.pk}/").content.decode()
    assert 'id="price-of-stability"' in page and "Keeping these promises costs" in page
    assert "Safe without promises" in page
    by_priority = {r["priority"]: r["safe"] for r in other["summary"]["by_priority"]}
    newcomer_priority = next(
        h["priority"] for h in kept.scenario["households"] if h["id"] == f"hh{newcomer.pk}"
    )
    assert by_priority[newcomer_priority] >= 1  # the newcomer would have gone

    client.post("/planning/policy/", {"stability_reward": "0", "firm_hours": "0"})
    free = _run(client, capture)
    assert f"hh{newcomer.pk}" in {i["household"] for i in free.result["itineraries"]}
    assert "without_promises" not in free.result["stability"]  # a reward of 0 costs nothing
    assert 'id="price-of-stability"' not in client.get(f"/planning/{free.pk}/").content.decode()


def test_the_minutes_between_steps_are_the_crisis_centres(world) -> None:
    """The minimum connections and the time to pass a crossing are set on the policy page
    and through the API, refused out of range, audited, and written into the scenario the
    planner reads."""
    from aman.planning import inputs

    api = world.api("crisis_manager")
    path = f"/api/crises/{world.crisis.pk}/planning-policy"

    def put(body: dict) -> object:
        return api.put(path, data=json.dumps(body), content_type="application/json")

    bad = put({"stability_reward": 1, "firm_hours": 48, "crossing_minutes": 2000})
    assert bad.status_code == 400
    assert bad.json()["extra"]["errors"] == {"crossing_minutes": ["Whole minutes from 0 to 1440."]}
    ok = put({"stability_reward": 1, "firm_hours": 48, "crossing_minutes": 240})
    assert ok.status_code == 200 and ok.json()["crossing_minutes"] == 240
    assert ok.json()["airport_connection_minutes"] == 120  # left out: as it was
    client = world.client("crisis_manager")
    page = client.post(
        "/planning/policy/",
        {
            "stability_reward": "1",
            "firm_hours": "48",
            "connection_minutes": "45",
            "airport_connection_minutes": "180",
            "crossing_minutes": "240",
        },
    )
    assert page.status_code == 302
    policy = PlanningPolicy.objects.get(crisis=world.crisis)
    assert (
        policy.connection_minutes,
        policy.airport_connection_minutes,
        policy.crossing_minutes,
    ) == (45, 180, 240)
    entry = AuditEntry.objects.filter(verb="planning_policy_set").latest("id")
    assert entry.changes["airport_connection_minutes"] == [120, 180]
    refused = client.post(
        "/planning/policy/",
        {"stability_reward": "1", "firm_hours": "48", "connection_minutes": "-5"},
    )
    assert 'id="id_connection_minutes_errors"' in refused.content.decode()
    situation(world.crisis, households=1, bus_seats=5)
    data = inputs.export(world.crisis).data
    assert data["connection_minutes"] == {"default": 45, "airport": 180, "crossing": 0}
    assert data["crossings"] and all(c["minutes"] == 240 for c in data["crossings"])
