"""The planner's pages: the crisis's locks (listed, unlocked, hidden on what-ifs), and the
place filter over the households with and without an itinerary."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from aman.core.models import AuditEntry
from aman.planning.models import Plan, PlanLock
from aman.registry.models import Household
from aman.transport.services import leg_set_status
from tests.planning.test_pages import _publish, _run
from tests.planning.world import DAYS, register, situation

pytestmark = pytest.mark.django_db


def test_locks_page_lists_and_unlocks(world, django_capture_on_commit_callbacks) -> None:
    s = situation(world.crisis, households=3, bus_seats=4)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)
    first = s.household(0)
    client.post(f"/planning/{plan.pk}/lock/{first.pk}/", {"action": "lock"})
    lock = PlanLock.objects.get(household=first)

    # The plan list links the count to the locks page (no plan published yet).
    listing = client.get("/planning/").content.decode()
    assert re.search(r'href="/planning/locks/"[^>]*>1 household locked<', listing)

    page = client.get("/planning/locks/").content.decode()
    row = page[page.index(f'id="lock-{first.pk}"') :]
    row = row[: row.index("</tr>")]
    assert f"H{first.pk}" in row and first.contact.reference_code in row
    assert '<td class="text-end">2</td>' in row  # two people travel
    assert f'<td class="text-end">{first.priority}</td>' in row and first.priority > 0
    assert str(s.legs["bus1"]) in row and "crosses at Norduz" in row  # the steps in brief
    assert world.users["logistics"].username in row
    assert timezone.localtime(lock.locked_at).strftime("%Y-%m-%d") in row  # as the page shows it
    assert f'href="/planning/{plan.pk}/"' in row
    assert "Ахметов" not in page, "no more personal data than the plan pages show"
    assert AuditEntry.objects.filter(verb="plan_locks_view").exists()

    # The lock can no longer be kept (its bus is cancelled) and the household stays
    # unplanned: the plan's list without an itinerary offers Unlock, as the locks page does.
    leg_set_status(actor=None, leg=s.legs["bus1"], status="cancelled", note="breakdown")
    second = _run(client, django_capture_on_commit_callbacks)
    assert f"hh{first.pk}" in {u["household"] for u in second.result["unassigned"]}
    left = client.get(f"/planning/{second.pk}/?show=unassigned").content.decode()
    row = left[left.index(f'id="h-{first.pk}"') :]
    row = row[: row.index("</tr>")]
    assert f'action="/planning/{second.pk}/lock/{first.pk}/"' in row and "Unlock" in row
    assert f'id="lock-{first.pk}"' in client.get("/planning/locks/").content.decode()

    response = client.post(f"/planning/locks/{first.pk}/unlock/")
    assert response.status_code == 302 and response["Location"] == "/planning/locks/"
    assert not PlanLock.objects.filter(household=first).exists()
    entry = AuditEntry.objects.filter(verb="plan_unlock").latest("pk")
    assert entry.actor == world.users["logistics"] and entry.object_id == str(first.pk)
    page = client.get("/planning/locks/").content.decode()
    assert f"Household H{first.pk} unlocked." in page and "No household is locked." in page
    # Again: refused with the service's words; a household of another crisis is not found.
    again = client.post(f"/planning/locks/{first.pk}/unlock/", follow=True).content.decode()
    assert "is not locked" in again
    other = Household.objects.create(crisis=world.other_crisis)
    assert client.post(f"/planning/locks/{other.pk}/unlock/").status_code == 404
    assert client.get("/planning/locks/").status_code == 200


def test_what_if_offers_no_lock(world, django_capture_on_commit_callbacks) -> None:
    s = situation(world.crisis, households=2, bus_seats=10)
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)
    client.post(f"/planning/{plan.pk}/lock/{s.household(0).pk}/", {"action": "lock"})
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert 'value="lock"' in page and 'value="unlock"' in page
    _publish(client, django_capture_on_commit_callbacks, plan)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/planning/what-if/", {"days": DAYS, "cancel_leg": s.legs["flight"].pk})
    what_if = Plan.objects.latest("pk")
    assert what_if.kind == Plan.Kind.WHAT_IF and what_if.result["itineraries"]
    page = client.get(f"/planning/{what_if.pk}/").content.decode()
    assert f'id="h-{s.household(0).pk}"' in page
    assert "/lock/" not in page and 'value="lock"' not in page and 'value="unlock"' not in page


def test_place_filter_over_households_without_an_itinerary(
    world, django_capture_on_commit_callbacks
) -> None:
    from aman.geo.models import Place

    s = situation(world.crisis, households=2, bus_seats=10)
    members = [{"surname": "Каримов", "given_names": "Ерлан", "birth_date": "1980-03-03"}]
    isfahan_household = register(world.crisis, members, city="Isfahan")
    client = world.client("logistics")
    plan = _run(client, django_capture_on_commit_callbacks)
    located = {h["id"]: h["location"] for h in plan.scenario["households"]}
    isfahan = located[f"hh{isfahan_household.pk}"]
    tehran = located[f"hh{s.household(0).pk}"]
    assert isfahan != tehran
    assert Place.objects.get(kind="city", name="Isfahan").name == "Isfahan"

    # Nobody gets out of Isfahan, yet the city can be chosen.
    page = client.get(f"/planning/{plan.pk}/").content.decode()
    assert f'<option value="{isfahan}">Isfahan</option>' in page
    assert f'<option value="{tehran}">Tehran</option>' in page
    # Without an itinerary, from Isfahan: only that household; from Tehran: none.
    only = client.get(f"/planning/{plan.pk}/?show=unassigned&place={isfahan}").content.decode()
    assert only.count('id="h-') == 1 and f'id="h-{isfahan_household.pk}"' in only
    assert "no route from Isfahan" in only
    none = client.get(f"/planning/{plan.pk}/?show=unassigned&place={tehran}").content.decode()
    assert 'id="h-' not in none
    # With an itinerary, by where the household is.
    out = client.get(f"/planning/{plan.pk}/?place={tehran}").content.decode()
    assert out.count('id="h-') == 2
    assert 'id="h-' not in client.get(f"/planning/{plan.pk}/?place={isfahan}").content.decode()
