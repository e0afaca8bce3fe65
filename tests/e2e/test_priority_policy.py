"""The crisis manager changes the priority policy in the browser; everyone is recomputed."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from aman.registry.models import Person, PriorityPolicy
from aman.registry.services import registration_submit
from tests.conftest import World
from tests.registry.conftest import FAMILY

pytestmark = pytest.mark.browser


def test_a_crisis_manager_raises_the_age_of_the_elderly(
    world: World, page: Page, sign_in: Callable[..., None]
) -> None:
    registration_submit(crisis=world.crisis, channel="hotline", payload=copy.deepcopy(FAMILY))
    grandfather = Person.objects.get(given_names="Нұрлан")
    assert grandfather.priority == 6  # medical need 4 + elderly 2 (72 years old)
    sign_in(page, "crisis_manager")
    page.goto("/people/")
    page.get_by_role("link", name="Priority policy").click()
    expect(page.locator("#priority-counts")).to_contain_text("6")
    page.fill("#id_weight_pregnant", "25")
    page.get_by_role("button", name="Save and recompute").click()
    expect(page.locator("#id_weight_pregnant_errors")).to_be_visible()
    page.fill("#id_weight_pregnant", "4")
    page.fill("#id_elderly_min_age", "75")
    page.get_by_role("button", name="Save and recompute").click()
    expect(page.locator(".alert-success")).to_contain_text("Priority policy saved")
    # Recomputed here at once (tests run background work inline); the page says so.
    expect(page.locator("#recompute")).to_contain_text("priority changed")
    expect(page.locator("#id_elderly_min_age")).to_have_value("75")
    grandfather.refresh_from_db()
    assert grandfather.priority == 4  # no longer elderly at 75
    assert PriorityPolicy.objects.get(crisis=world.crisis).recomputed_at is not None
