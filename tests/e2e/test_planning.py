"""The planner in the browser: the logistics officer runs a plan, reviews it (the
household left over and why), locks the priority household, publishes the plan — its
seats become bookings — and runs a what-if with the flight cancelled."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from aman.planning.models import Plan, PlanLock, PlanStatus
from aman.transport.models import Booking
from tests.conftest import World
from tests.planning.world import DAYS, register, situation

pytestmark = pytest.mark.browser


def test_run_review_lock_publish_and_what_if(
    world: World, new_page: Callable[[], Page], sign_in: Callable[..., None]
) -> None:
    s = situation(world.crisis, households=3, bus_seats=4)
    page = new_page()
    sign_in(page, "logistics")
    page.goto("/")
    page.get_by_role("link", name="Planning").click()
    page.fill("#id_days", str(DAYS))
    page.get_by_role("button", name="Run the planner").click()
    expect(page.locator("#plan-status")).to_have_text("Draft: to review")
    expect(page.locator("#people-safe")).to_have_text("4 / 8")
    plan = Plan.objects.get(crisis=world.crisis)

    # The household left over, and why.
    page.select_option("select[name=show]", "unassigned")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#itineraries")).to_contain_text(
        "no capacity from Tehran before the horizon ends"
    )
    page.select_option("select[name=show]", "assigned")
    page.get_by_role("button", name="Filter").click()

    # Lock the priority household.
    row = page.locator(f"#h-{s.household(0).pk}")
    row.get_by_role("button", name="Lock").click()
    expect(page.locator(".alert-success")).to_contain_text("keeps this itinerary")
    expect(
        page.locator(f"#h-{s.household(0).pk}").get_by_role("button", name="Unlock")
    ).to_be_visible()
    assert PlanLock.objects.filter(household=s.household(0)).exists()

    # Publish, confirming the dialog.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".alert-info")).to_contain_text("is being published")
    expect(page.locator("#plan-status")).to_have_text("Published")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.PUBLISHED
    assert Booking.objects.filter(crisis=world.crisis).count() == 12

    # What if the flight is cancelled?
    page.get_by_role("link", name="Plans").first.click()
    page.get_by_role("link", name="What-if").click()
    page.select_option("#id_cancel_leg", str(s.legs["flight"].pk))
    page.get_by_role("button", name="Run the what-if").click()
    expect(page.locator("#plan-status")).to_have_text("Draft: to review")
    expect(page.locator("#diff")).to_contain_text("2 moved")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)

    # Side by side with the published plan: the two households moved, the flight gone.
    page.get_by_role("link", name="Compare with the current plan").click()
    expect(page.locator("#fig-people-safe")).to_contain_text("4")
    moved = page.locator("#diff-moved tbody tr")
    expect(moved).to_have_count(2)
    expect(moved.first.locator(".steps-a")).to_contain_text("KC 1998")
    expect(moved.first.locator(".steps-b")).not_to_contain_text("KC 1998")
    # And back from the plan list's form: the two plans chosen by default.
    page.get_by_role("link", name="Plans").first.click()
    page.get_by_role("button", name="Compare").click()
    expect(page.locator("#diff-moved tbody tr")).to_have_count(2)


def test_the_planning_policy_and_the_price_of_keeping_promises(
    world: World, new_page: Callable[[], Page], sign_in: Callable[..., None]
) -> None:
    """The officer publishes a plan for two households (four seats), sets the planning
    policy to keep promises at almost any price, a pregnant woman registers, and the
    re-plan's page says what keeping the promises costs, by priority group."""
    situation(world.crisis, households=2, bus_seats=4)
    page = new_page()
    sign_in(page, "crisis_manager")  # the planning policy is the crisis manager's
    page.goto("/planning/")
    page.fill("#id_days", str(DAYS))
    page.get_by_role("button", name="Run the planner").click()
    expect(page.locator("#plan-status")).to_have_text("Draft: to review")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Publish").click()
    expect(page.locator("#plan-status")).to_have_text("Published")

    page.get_by_role("link", name="Plans").first.click()
    page.get_by_role("link", name="Planning policy").click()
    expect(page.locator("#id_stability_reward")).to_have_value("1.0")
    page.fill("#id_stability_reward", "12")
    page.fill("#id_firm_hours", "0")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_stability_reward_errors")).to_contain_text("10")
    page.fill("#id_stability_reward", "10")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Planning policy saved")

    register(
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
    page.get_by_role("link", name="Plans").first.click()
    page.fill("#id_days", str(DAYS))
    page.get_by_role("button", name="Run the planner").click()
    expect(page.locator("#plan-status")).to_have_text("Draft: to review")
    expect(page.locator("#price-of-stability")).to_contain_text("Keeping these promises costs")
    expect(page.locator("#by-priority")).to_contain_text("Safe without promises")
