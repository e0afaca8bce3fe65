"""A hotline operator registers a caller's family with the keyboard only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from aman.registry.models import Person
from tests.conftest import World

pytestmark = pytest.mark.browser


def test_an_operator_registers_a_family_with_the_keyboard(
    world: World, page: Page, sign_in: Callable[..., None]
) -> None:
    sign_in(page, "operator")
    page.goto("/people/")
    page.get_by_role("link", name="New registration").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/people/new/")
    expect(page.locator("input[name='m-0-surname']")).to_be_focused()
    page.keyboard.type("Төлеуова")
    page.keyboard.press("Tab")
    page.keyboard.type("Сәуле")
    page.keyboard.press("Tab")  # patronymic
    page.keyboard.press("Tab")  # birth date
    page.keyboard.type("03121955")  # the browser (en-US) reads month, day, year
    page.locator("input[name='m-0-medical_need']").check()
    page.locator("button[name='add_member']").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("input[name='m-1-surname']")
    page.locator("input[name='m-1-surname']").focus()
    page.keyboard.type("Төлеуов")
    page.keyboard.press("Tab")
    page.keyboard.type("Арман")
    # A family member of another citizenship: the citizenship is the field after the
    # eligibility, filled in with the home country until typed over.
    page.locator("select[name='m-1-eligibility']").focus()
    page.locator("select[name='m-1-eligibility']").select_option("family_member")
    page.keyboard.press("Tab")
    expect(page.locator("input[name='m-1-nationality']")).to_be_focused()
    expect(page.locator("input[name='m-1-nationality']")).to_have_value("Kazakhstan")
    page.keyboard.press("Control+A")
    page.keyboard.type("Iran")
    page.select_option("select[name='country']", "IR")
    page.locator("input[name='city']").fill("Isfahan")
    page.locator("input[name='phone']").fill("+7 701 999 88 77")
    page.locator("input[name='consent']").check()
    page.locator("input[name='city']").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text("Registered. Reference codes")
    saule = Person.objects.get(given_names="Сәуле")
    assert saule.birth_date is not None and saule.birth_date.isoformat() == "1955-03-12"
    assert saule.household is not None and saule.household.members.count() == 2
    assert saule.reference_code_display in page.locator(".alert-success").inner_text()
    arman = Person.objects.get(given_names="Арман")
    assert (saule.nationalities, arman.eligibility, arman.nationalities) == (
        ["KZ"],
        "family_member",
        ["IR"],
    )
    expect(page.locator("input[name='m-0-surname']")).to_have_value("")
