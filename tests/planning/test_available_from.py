"""A household's earliest availability from the registry (`Household.available_from`) is
the planner's: the scenario's `available_from` is the later of it and the arrival of the
last leg the household boarded, and nothing is planned for the household before then."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from aman.planning import services
from aman.planning.models import PlanStatus
from aman.transport.models import Booking
from aman.transport.services import booking_board, leg_set_status
from tests.planning.world import DAYS, START, at, situation

pytestmark = pytest.mark.django_db


def post(client, path: str, body: dict, method: str = "post"):
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


def test_a_household_available_later_is_not_planned_before(
    world, django_capture_on_commit_callbacks
) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    late, other = s.household(0), s.household(1)
    # Set where households are edited (the registry's API), after the only bus leaves.
    response = post(
        world.api("operator"),
        f"/api/households/{late.pk}",
        {"available_from": at(3).isoformat()},
        method="patch",
    )
    assert response.status_code == 200, response.content
    api = world.api("logistics")
    with django_capture_on_commit_callbacks(execute=True):
        started = post(api, "/api/plans", {"days": DAYS}).json()
    scenario = api.get(f"/api/plans/{started['id']}/scenario").json()
    households = {h["id"]: h for h in scenario["households"]}
    assert datetime.fromisoformat(households[f"hh{late.pk}"]["available_from"]) == at(3)
    assert "available_from" not in households[f"hh{other.pk}"]
    result = api.get(f"/api/plans/{started['id']}").json()["result"]
    planned = {i["household"] for i in result["itineraries"]}
    assert f"hh{other.pk}" in planned and f"hh{late.pk}" not in planned
    reasons = {u["household"]: u["reason"]["code"] for u in result["unassigned"]}
    assert reasons[f"hh{late.pk}"] == "no_route"


def test_the_later_of_the_household_and_its_last_boarded_leg(world, tmp_path: Path) -> None:
    """Both households rode the first bus (due at the crossing at +14 h): one can set out
    again only at +20 h, the other's own availability (+5 h) is earlier than the bus."""
    s = situation(world.crisis, households=2, bus_seats=10)
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = services.plan_start(actor=None, crisis=world.crisis, start=START, days=DAYS)
    first.refresh_from_db()
    assert first.status == PlanStatus.DRAFT, first.error
    services.plan_publish(actor=None, plan=first)
    bus1 = s.legs["bus1"]
    leg_set_status(actor=None, leg=bus1, status="confirmed")
    leg_set_status(actor=None, leg=bus1, status="boarding")
    for booking in Booking.objects.filter(leg=bus1):
        booking_board(actor=None, booking=booking)
    leg_set_status(actor=None, leg=bus1, status="departed", at=START + timedelta(hours=2))
    client = world.client("operator")
    for household, hours in ((s.household(0), 20), (s.household(1), 5)):
        person = household.members.order_by("pk").first()
        assert person is not None
        response = client.post(
            f"/people/{person.pk}/household/",
            {
                "action": "available",
                # The form's clock is the crisis centre's (the server's).
                "available_from": timezone.localtime(at(hours)).strftime("%Y-%m-%dT%H:%M"),
            },
        )
        assert response.status_code == 302
    target = tmp_path / "scenario.json"
    call_command(
        "plan",
        "export-scenario",
        "--crisis",
        str(world.crisis.pk),
        "--out",
        str(target),
        "--start",
        (START + timedelta(hours=3)).isoformat(),
        stdout=StringIO(),
    )
    households = {h["id"]: h for h in json.loads(target.read_text())["households"]}
    available = {
        k: datetime.fromisoformat(households[k]["available_from"])
        for k in (f"hh{s.household(0).pk}", f"hh{s.household(1).pk}")
    }
    assert available == {f"hh{s.household(0).pk}": at(20), f"hh{s.household(1).pk}": at(14)}
