"""Any two plans of a crisis side by side, on the page and through the API: their figures,
and per household how B differs from A (added, lost with B's reason, moved with both
itineraries in words, unchanged) — against what the plans hold, not what was told."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import TestCase

from aman.core.models import AuditEntry
from aman.geo.models import Place
from aman.planning import services, views
from aman.planning.models import Plan, PlanStatus
from aman.transport.services import leg_update
from tests.planning.world import START, Situation, situation

pytestmark = pytest.mark.django_db


def run(crisis, **kwargs: Any) -> Plan:
    with TestCase.captureOnCommitCallbacks(execute=True):
        plan = services.plan_start(actor=None, crisis=crisis, start=START, **kwargs)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT, plan.error
    return plan


def kinds(a: Plan, b: Plan) -> dict[str, str]:
    return {key: entry["kind"] for key, entry in services.compare_plans(a, b).items()}


def _norduz() -> Place:
    return Place.objects.get(code="IR-AM-NORDUZ")


class Plans:
    """A hand-made crisis whose differences are known exactly. Three households of two,
    four seats on the only bus out of Tehran: the first plan (published) brings two out
    (the priority household and one other) and leaves one without, for want of seats.
    Then: a what-if closing the Norduz crossing, the only way out (both lose their
    itinerary, no route); a what-if cancelling the flight home (both keep their bus and
    crossing but not the flight: moved); and, the bus enlarged to six seats, a plan that
    brings the third out too (added; the other two unchanged)."""

    def __init__(self, s: Situation) -> None:
        crisis = s.crisis
        self.s = s
        self.first = run(crisis)
        self.out = [f"hh{h.pk}" for h in s.households if services.itinerary_of(self.first, h.pk)]
        self.left = next(f"hh{h.pk}" for h in s.households if f"hh{h.pk}" not in self.out)
        assert f"hh{s.household(0).pk}" in self.out and len(self.out) == 2
        services.plan_publish(actor=None, plan=self.first)
        self.first.refresh_from_db()
        self.closed = run(
            crisis,
            kind=Plan.Kind.WHAT_IF,
            changes=[{"type": "close_crossing", "crossing": _norduz().pk}],
        )
        self.no_flight = run(
            crisis,
            kind=Plan.Kind.WHAT_IF,
            changes=[{"type": "cancel_leg", "leg": s.legs["flight"].pk}],
        )
        leg_update(actor=None, leg=s.legs["bus1"], data={"capacity": 6})
        self.bigger = run(crisis)


@pytest.fixture
def plans(world) -> Plans:
    return Plans(situation(world.crisis, households=3, bus_seats=4))


def test_the_differences_are_known_exactly(plans: Plans) -> None:
    out, left = plans.out, plans.left
    # The crossing closed: the two brought out lose their itinerary, and B says why; the
    # household without one in either plan is not a difference.
    closed = services.compare_plans(plans.first, plans.closed)
    assert {k: e["kind"] for k, e in closed.items()} == {h: "lost" for h in out}
    for key in out:
        assert closed[key]["reason"]["code"] == "no_route"
        assert closed[key]["a"]["household"] == key and closed[key]["b"] is None
    # The flight cancelled: the same two still cross, without the flight home.
    assert kinds(plans.first, plans.no_flight) == {h: "moved" for h in out}
    # Six seats: the third household is added, the two others keep theirs.
    assert kinds(plans.first, plans.bigger) == {**{h: "unchanged" for h in out}, left: "added"}
    # The other way round: the third loses its itinerary, for want of seats in A.
    back = services.compare_plans(plans.bigger, plans.first)
    assert {k: e["kind"] for k, e in back.items()} == {
        **{h: "unchanged" for h in out},
        left: "lost",
    }
    assert back[left]["reason"]["code"] == "no_capacity"
    # Two what-ifs against each other, in the order of the households' ids.
    assert kinds(plans.closed, plans.no_flight) == {h: "added" for h in out}
    assert list(kinds(plans.bigger, plans.closed)) == sorted([*out, left], key=lambda k: int(k[2:]))


def test_against_its_base_it_agrees_with_the_diff(plans: Plans) -> None:
    """Against the plan it started from, the comparison of two plans says what the diff
    of a re-plan says (the diff judges against what was told; here nothing moved)."""
    diff = views._diff(plans.bigger)
    assert diff is not None
    compared = kinds(plans.first, plans.bigger)
    assert sorted(diff["kept"]) == sorted(
        f"H{k[2:]}" for k, kind in compared.items() if kind == "unchanged"
    )
    assert [h for h, _w, _c in diff["added"]] == [
        f"H{k[2:]}" for k, kind in compared.items() if kind == "added"
    ]


def test_only_what_is_still_to_come_is_compared(plans: Plans) -> None:
    """From the later plan's start on: a step that differs before it is past for both."""
    later = Plan.objects.get(pk=plans.bigger.pk)
    key = plans.out[0]
    item = next(i for i in later.result["itineraries"] if i["household"] == key)
    first_leg = next(s for s in item["steps"] if s["type"] == "leg")
    first_leg["leg"] = "leg999999"  # as if another bus had taken it there
    assert kinds(plans.first, later)[key] == "moved"
    later.scenario = {**later.scenario, "start": first_leg["arrival"]}
    assert kinds(plans.first, later)[key] == "unchanged"


def test_a_household_left_out_of_b_is_not_planned(plans: Plans) -> None:
    later = Plan.objects.get(pk=plans.bigger.pk)
    key = plans.out[1]
    later.scenario = {
        **later.scenario,
        "households": [h for h in later.scenario["households"] if h["id"] != key],
    }
    later.result = {
        **later.result,
        "itineraries": [i for i in later.result["itineraries"] if i["household"] != key],
    }
    compared = services.compare_plans(plans.first, later)
    assert compared[key]["kind"] == "not_planned" and "reason" not in compared[key]


# The page ------------------------------------------------------------------------------------


def _compare(client, a: Plan | str, b: Plan | str, **more: str):
    query = {"a": getattr(a, "pk", a), "b": getattr(b, "pk", b), **more}
    return client.get("/planning/compare/", query)


def test_the_page_sets_two_plans_side_by_side(world, plans: Plans) -> None:
    client = world.client("logistics")
    response = _compare(client, plans.first, plans.closed)
    assert response.status_code == 200
    page = response.content.decode()
    # Both plans: number, kind and title, status, and their figures.
    head = page[page.index('id="figures"') : page.index("</thead>")]
    assert "A: " in head and f">{plans.first}</a>" in head and "Published" in head
    assert f">What-if {plans.closed.number}</a>" in head and "Norduz closed" in head
    row = re.search(r'<tr id="fig-people-safe">(.*?)</tr>', page, re.S)
    assert row and re.findall(r">(-?\+?\d+)<", row.group(1)) == ["4", "0", "-4"]
    assert 'id="fig-unassigned"' in page and 'id="fig-hotel-nights"' in page
    assert 'id="fig-gap"' in page
    assert 'id="by-priority"' in page and 'id="by-day"' in page and 'id="curve"' in page
    # The households: the two brought out in A lose theirs, with B's reason in words;
    # A's steps in words, times on the clock of the place (the detail page's).
    assert "0 households added, 0 moved, 2 lose their itinerary, 0 unchanged." in page
    lost = page[page.index('id="diff-lost"') :]
    for key in plans.out:
        cells = re.search(rf'<tr id="h-{key[2:]}">(.*?)</tr>', lost, re.S)
        assert cells, key
        assert f"H{key[2:]}" in cells.group(1)
        assert "no route from Tehran before the horizon ends" in cells.group(1)
        assert "crosses at Norduz" in cells.group(1)
    assert "Ахмет" not in page, "no personal names on the planning pages"
    entry = AuditEntry.objects.get(verb="plan_compare")
    assert entry.action == "read" and entry.object_id == str(plans.first.pk)
    assert entry.changes["b"] == plans.closed.pk and entry.changes["kind"] == "lost"
    assert sorted(entry.changes["households"]) == sorted(int(k[2:]) for k in plans.out)


def test_moved_households_show_both_itineraries(world, plans: Plans) -> None:
    page = _compare(world.client("logistics"), plans.first, plans.no_flight).content.decode()
    assert 'id="diff-moved"' in page and "Moved (2)" in page
    for key in plans.out:
        cells = re.search(rf'<tr id="h-{key[2:]}">(.*?)</tr>', page, re.S)
        assert cells
        steps_a = re.search(r'class="steps-a">(.*?)</td>', cells.group(1), re.S)
        steps_b = re.search(r'class="steps-b">(.*?)</td>', cells.group(1), re.S)
        assert steps_a and steps_b
        assert "KC 1998" in steps_a.group(1) and "KC 1998" not in steps_b.group(1)
        assert "crosses at Norduz" in steps_b.group(1)


def test_the_tabs_filter_and_page(world, plans: Plans, monkeypatch) -> None:
    client = world.client("logistics")
    # The first tab with households by default; each tab only its own.
    page = _compare(client, plans.first, plans.bigger).content.decode()
    assert 'id="diff-added"' in page and "1 households added, 0 moved" in page
    assert re.findall(r'<tr id="h-(\d+)">', page) == [plans.left[2:]]
    page = _compare(client, plans.first, plans.bigger, kind="lost").content.decode()
    assert 'id="diff-lost"' in page and '<tr id="h-' not in page and "None." in page
    # An unknown tab falls back to the first with households.
    page = _compare(client, plans.first, plans.bigger, kind="nonsense").content.decode()
    assert 'id="diff-added"' in page
    # Paged, the filter kept from page to page.
    monkeypatch.setattr(views, "COMPARE_PAGE", 1)
    first = _compare(client, plans.first, plans.closed).content.decode()
    assert "Page 1 of 2" in first
    assert re.search(
        rf"a={plans.first.pk}&(amp;)?b={plans.closed.pk}&(amp;)?kind=lost&(amp;)?page=2", first
    )
    second = _compare(client, plans.first, plans.closed, page="2").content.decode()
    shown = re.findall(r'<tr id="h-(\d+)">', first) + re.findall(r'<tr id="h-(\d+)">', second)
    assert sorted(shown) == sorted(k[2:] for k in plans.out)


def test_superseded_and_discarded_plans_can_be_compared(world, plans: Plans) -> None:
    services.plan_publish(actor=None, plan=plans.bigger)
    services.plan_discard(actor=None, plan=plans.closed)
    client = world.client("crisis_manager")
    page = _compare(client, plans.first, plans.closed).content.decode()
    assert "Superseded" in page and "Discarded" in page and 'id="diff-lost"' in page


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"a": "x", "b": "1"}, "Choose two plans to compare."),
        ({"a": "1"}, "Choose two plans to compare."),
        ({"a": "1" * 30, "b": "2"}, "Choose two plans to compare."),
        ("same", "Choose two different plans to compare."),
        ("running", "has no result to compare: it is running."),
        ("failed", "has no result to compare: it is failed."),
    ],
)
def test_bad_choices_are_said_plainly(world, plans: Plans, query, says) -> None:
    client = world.client("logistics")
    if query == "same":
        query = {"a": plans.first.pk, "b": plans.first.pk}
    elif query in ("running", "failed"):
        other = Plan.objects.create(
            crisis=world.crisis, number=99, status=query, scenario=plans.first.scenario
        )
        query = {"a": plans.first.pk, "b": other.pk}
    response = client.get("/planning/compare/", query)
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="problem"' in page and says in page
    assert 'id="compare-form"' in page, "the choice can be made again at once"
    assert not AuditEntry.objects.filter(verb="plan_compare").exists()


def test_another_crisiss_plan_is_not_found(world, plans: Plans) -> None:
    other = Plan.objects.create(
        crisis=world.other_crisis,
        number=1,
        status=PlanStatus.DRAFT,
        scenario=plans.first.scenario,
        result=plans.first.result,
    )
    client = world.client("logistics")
    assert _compare(client, plans.first, other).status_code == 404
    assert _compare(client, other, plans.first).status_code == 404
    assert _compare(client, plans.first, "987654").status_code == 404


def test_without_a_choice_the_page_offers_one(world, plans: Plans) -> None:
    page = world.client("logistics").get("/planning/compare/").content.decode()
    assert 'id="compare-form"' in page and 'id="choose"' in page and 'id="figures"' not in page


def test_the_entry_points(world, plans: Plans) -> None:
    client = world.client("logistics")
    # The plan list: two selects of the plans with a result, the newest against the
    # published plan by default; a running plan is not offered.
    running = Plan.objects.create(crisis=world.crisis, number=99, scenario={})
    page = client.get("/planning/").content.decode()
    found = re.search(r'<form[^>]*action="/planning/compare/"[^>]*>.*?</form>', page, re.S)
    assert found and 'id="compare-form"' in found.group(0)
    form = found.group(0)
    assert re.search(rf'<option value="{plans.first.pk}" selected>', form)
    assert re.search(rf'<option value="{plans.bigger.pk}" selected>', form)
    assert f'value="{running.pk}"' not in form
    # A draft plan: compare with the published one.
    page = client.get(f"/planning/{plans.bigger.pk}/").content.decode()
    link = f"/planning/compare/?a={plans.first.pk}&amp;b={plans.bigger.pk}"
    assert f'href="{link}" id="compare-link">Compare with the published plan<' in page
    # A what-if: with the current plan.
    page = client.get(f"/planning/{plans.closed.pk}/").content.decode()
    link = f"/planning/compare/?a={plans.first.pk}&amp;b={plans.closed.pk}"
    assert f'href="{link}" id="compare-link">Compare with the current plan<' in page
    # The published plan itself: nothing to compare it with.
    assert 'id="compare-link"' not in client.get(f"/planning/{plans.first.pk}/").content.decode()


def test_a_what_if_without_a_published_plan_compares_with_its_base(world, plans: Plans) -> None:
    Plan.objects.filter(pk=plans.first.pk).update(status=PlanStatus.SUPERSEDED)
    page = world.client("logistics").get(f"/planning/{plans.no_flight.pk}/").content.decode()
    link = f"/planning/compare/?a={plans.first.pk}&amp;b={plans.no_flight.pk}"
    assert f'href="{link}" id="compare-link">Compare with the current plan<' in page


# The API -------------------------------------------------------------------------------------


def test_the_api_compares_two_plans(world, plans: Plans) -> None:
    api = world.api("logistics")
    response = api.get(f"/api/plans/{plans.bigger.pk}/compare/{plans.first.pk}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"a", "b", "since", "counts", "count", "items"}
    assert body["a"]["id"] == plans.bigger.pk and body["b"]["id"] == plans.first.pk
    assert (body["a"]["people_safe"], body["b"]["people_safe"]) == (6, 4)
    # The world's two people without a city have no route in either.
    assert (body["a"]["unassigned"], body["b"]["unassigned"]) == (2, 3)
    assert body["b"]["status"] == "published" and body["a"]["kind"] == "plan"
    assert body["a"]["by_day"][-1]["total"] == 6 and body["a"]["by_priority"]
    assert body["counts"] == {
        "lost": 1,
        "moved": 0,
        "added": 0,
        "not_planned": 0,
        "unchanged": 2,
    }
    assert body["count"] == 3 and len(body["items"]) == 3
    lost = next(i for i in body["items"] if i["kind"] == "lost")
    assert lost["household"] == int(plans.left[2:])
    assert lost["b"] is None and lost["a"]["steps"] and lost["reason"]["code"] == "no_capacity"
    # Filtered and paged.
    only = api.get(f"/api/plans/{plans.bigger.pk}/compare/{plans.first.pk}?kind=unchanged&limit=1")
    page = only.json()
    assert page["count"] == 2 and len(page["items"]) == 1
    assert page["items"][0]["kind"] == "unchanged"
    rest = api.get(
        f"/api/plans/{plans.bigger.pk}/compare/{plans.first.pk}?kind=unchanged&limit=1&offset=1"
    ).json()
    assert rest["items"][0]["household"] != page["items"][0]["household"]
    entry = AuditEntry.objects.filter(verb="plan_compare").latest("pk")
    assert entry.changes == {
        "a": plans.bigger.pk,
        "b": plans.first.pk,
        "kind": "unchanged",
        "households": [rest["items"][0]["household"]],
    }


def test_the_api_says_what_is_wrong(world, plans: Plans) -> None:
    api = world.api("logistics")
    running = Plan.objects.create(crisis=world.crisis, number=99, scenario={})
    other = Plan.objects.create(
        crisis=world.other_crisis,
        number=1,
        status=PlanStatus.DRAFT,
        scenario=plans.first.scenario,
        result=plans.first.result,
    )
    first = plans.first.pk
    for path, status, says in (
        (f"/api/plans/{first}/compare/{first}", 400, "Choose two different plans"),
        (f"/api/plans/{first}/compare/{running.pk}", 400, "has no result to compare"),
        (f"/api/plans/{first}/compare/{other.pk}", 400, "of different crises"),
        (f"/api/plans/{first}/compare/987654", 404, "Not found."),
        (f"/api/plans/{first}/compare/{plans.closed.pk}?kind=gone", 400, "Unknown kind"),
        (f"/api/plans/{first}/compare/{plans.closed.pk}?limit=0", 422, "limit"),
    ):
        response = api.get(path)
        assert response.status_code == status, (path, response.content)
        body = response.json()
        assert set(body) == {"message", "extra"} and says in body["message"], body
    # The consul, who may not plan, is refused before anything is read.
    assert (
        world.api("consul").get(f"/api/plans/{first}/compare/{plans.closed.pk}").status_code == 403
    )
    assert not AuditEntry.objects.filter(verb="plan_compare").exists()
