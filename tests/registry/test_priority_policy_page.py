"""The priority policy page: everyone working the crisis reads it (counts only), crisis
managers change it, and saving recomputes everyone."""

from __future__ import annotations

import re
from typing import Any

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Household, Person, PriorityPolicy
from aman.registry.services import registration_submit
from tests.conftest import World

DEFAULTS = {
    "mode": "weights",
    "elderly_min_age": "60",
    "child_max_age": "17",
    "weight_unaccompanied_minor": "5",
    "weight_pregnant": "4",
    "weight_medical_need": "4",
    "weight_disability": "3",
    "weight_reduced_mobility": "3",
    "weight_elderly": "2",
    "weight_child": "2",
    "weight_woman": "1",
}


def _priorities() -> dict[str, int]:
    return dict(Person.objects.values_list("given_names", "priority"))


def test_a_crisis_manager_changes_the_policy_and_everyone_is_recomputed(
    world: World, family: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    registration_submit(crisis=world.crisis, channel="hotline", payload=family)
    before = _priorities()
    assert before["Нұрлан"] == 6 and before["Айгүл"] == 5  # medical + elderly; pregnant + woman
    client = world.client(Role.CRISIS_MANAGER)
    page = client.get("/people/policy/").content.decode()
    assert 'id="priority-policy-form"' in page
    assert re.search(r'<input type="radio" name="mode" value="weights"[^>]* checked', page)
    assert not re.search(r'<input type="radio" name="mode" value="strict"[^>]* checked', page)
    assert 'name="weight_pregnant"' in page and 'id="priority-counts"' in page
    assert 'id="priority-policy-link"' in client.get("/people/").content.decode()

    bad = client.post("/people/policy/", {**DEFAULTS, "weight_pregnant": "25", "mode": "x"})
    assert bad.status_code == 200
    text = bad.content.decode()
    assert 'id="id_weight_pregnant_errors"' in text
    assert "Select a valid choice. x is not one of the available choices." in text
    assert not PriorityPolicy.objects.exists() and _priorities() == before

    # Strict order, the elderly from 75, women no longer a group.
    data = {**DEFAULTS, "mode": "strict", "elderly_min_age": "75", "weight_woman": ""}
    with django_capture_on_commit_callbacks() as recompute:
        ok = client.post("/people/policy/", data)
    assert ok.status_code == 302 and ok["Location"] == "/people/policy/"
    # Saved; everyone is recomputed in the background: the page says how far it is.
    assert _priorities() == before
    running = client.get("/people/policy/").content.decode()
    assert 'id="recompute"' in running and "Recomputing everyone's priority" in running
    assert "0 of 5 people" in running and 'hx-trigger="every 3s"' in running
    # The progress alone, as htmx polls it.
    polled = client.get("/people/policy/", headers={"HX-Request": "true"}).content.decode()
    assert polled.startswith('<div id="recompute"') and "0 of 5 people" in polled
    for callback in recompute:
        callback()
    policy = PriorityPolicy.objects.get(crisis=world.crisis)
    assert policy.recomputed_at is not None
    changed = sum(1 for k, v in _priorities().items() if before[k] != v)
    assert changed >= 2  # the grandfather and the mother at least
    assert (policy.recompute_done, policy.recompute_changed) == (5, changed)
    assert policy.mode == "strict"
    assert {r["group"] for r in policy.rules} == set(
        k[len("weight_") :] for k in DEFAULTS if k.startswith("weight_")
    ) - {"woman"}
    assert next(r for r in policy.rules if r["group"] == "elderly")["min_age"] == 75
    after = _priorities()
    assert after["Нұрлан"] == 4 and after["Айгүл"] == 4  # the highest group's weight
    assert AuditEntry.objects.filter(verb="priority_policy_set").count() == 1
    recomputed = AuditEntry.objects.get(verb="priority_recompute")
    assert recomputed.changes == {"people_changed": [None, changed]}
    shown = client.get("/people/policy/").content.decode()
    assert 'value="75"' in shown and "Last changed" in shown
    # Counts: people by their own priority, each household once, by its own.
    table = shown[shown.index('id="priority-counts"') :]
    rows = re.findall(
        r'<tr><td><a [^>]*>(\d+)</a></td><td class="text-end">(\d+)</td>'
        r'<td class="text-end">(\d+)</td></tr>',
        table,
    )
    assert sum(int(r[1]) for r in rows) == Person.objects.filter(crisis=world.crisis).count()
    households = Household.objects.filter(crisis=world.crisis)
    assert sum(int(r[2]) for r in rows) == households.count()
    top = households.get(members__given_names="Нұрлан").priority
    assert any(int(r[0]) == top and int(r[2]) >= 1 for r in rows)
    assert f"{changed} people's priority changed" in shown and "hx-trigger" not in shown


def test_others_read_the_policy_and_cannot_change_it(world: World) -> None:
    client = world.client(Role.OBSERVER)
    page = client.get("/people/policy/").content.decode()
    assert "Only a crisis manager can change this policy." in page
    assert "disabled" in page and "Save and recompute" not in page
    assert client.post("/people/policy/", DEFAULTS).status_code == 403
    assert not PriorityPolicy.objects.exists()


def test_a_policy_without_any_group_is_refused_with_the_reason(world: World) -> None:
    client = world.client(Role.CRISIS_MANAGER)
    empty = {k: ("" if k.startswith("weight_") else v) for k, v in DEFAULTS.items()}
    response = client.post("/people/policy/", empty)
    assert response.status_code == 200
    assert "A policy names at least one group." in response.content.decode()
    assert not PriorityPolicy.objects.exists()


def test_a_second_change_before_the_first_recompute_ends_supersedes_it(
    world: World, family: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    """Two changes in a row: the first run sees the newer one and stops without writing;
    the second recomputes everyone under the policy that holds."""
    registration_submit(crisis=world.crisis, channel="hotline", payload=family)
    client = world.client(Role.CRISIS_MANAGER)
    with django_capture_on_commit_callbacks() as first:
        client.post("/people/policy/", {**DEFAULTS, "mode": "strict"})
    with django_capture_on_commit_callbacks() as second:
        client.post("/people/policy/", {**DEFAULTS, "weight_medical_need": "10"})
    before = _priorities()
    for callback in first:
        callback()
    assert _priorities() == before  # superseded: nothing written
    assert not AuditEntry.objects.filter(verb="priority_recompute").exists()
    for callback in second:
        callback()
    assert _priorities()["Нұрлан"] == 12  # medical need 10 + elderly 2, weights
    policy = PriorityPolicy.objects.get(crisis=world.crisis)
    assert policy.mode == "weights" and policy.recomputed_at is not None
    assert AuditEntry.objects.filter(verb="priority_recompute").count() == 1


def test_people_registered_before_it_runs_are_counted_and_get_the_new_policy(
    world: World, family: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    registration_submit(crisis=world.crisis, channel="hotline", payload=family)
    client = world.client(Role.CRISIS_MANAGER)
    with django_capture_on_commit_callbacks() as recompute:
        client.post("/people/policy/", {**DEFAULTS, "weight_medical_need": "10"})
    total = PriorityPolicy.objects.get(crisis=world.crisis).recompute_total
    late = {**family, "members": family["members"][:1], "contact_index": 0}
    late["members"] = [{**late["members"][0], "surname": "Кейін", "given_names": "Бекзат"}]
    registration_submit(crisis=world.crisis, channel="hotline", payload=late)
    assert _priorities()["Бекзат"] == 12  # registered under the new policy at once
    for callback in recompute:
        callback()
    policy = PriorityPolicy.objects.get(crisis=world.crisis)
    assert policy.recompute_done == policy.recompute_total == total + 1
    assert _priorities()["Нұрлан"] == 12
