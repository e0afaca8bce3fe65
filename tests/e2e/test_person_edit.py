"""An officer corrects a mistyped passport number and phone on the edit page, with the
keyboard, and finds the person by the corrected number and by a new surname."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from aman.registry.models import Person
from aman.registry.services import registration_submit
from tests.conftest import World

pytestmark = pytest.mark.browser


def test_an_officer_corrects_a_passport_and_a_phone(
    world: World, page: Page, sign_in: Callable[..., None]
) -> None:
    record = registration_submit(
        crisis=world.crisis,
        channel="hotline",
        payload={
            "members": [
                {
                    "surname": "Төлеуова",
                    "given_names": "Сәуле",
                    "birth_date": "1955-03-12",
                    "documents": [{"number": "N11112222", "issuing_state": "KAZ"}],
                    "phones": ["+7 701 999 88 77"],
                }
            ],
            "location": {"country": "IR", "city": "Isfahan"},
            "consent": True,
        },
    )
    saule = record.people.get()
    sign_in(page, "operator")
    page.goto(f"/people/{saule.pk}/")
    page.get_by_role("link", name="Edit").click()
    page.wait_for_url(f"**/people/{saule.pk}/edit/")
    surname = page.locator("input[name='surname']")
    expect(surname).to_be_focused()
    surname.fill("Төлеубаева")
    page.locator("input[name='doc-0-number']").fill("N11112233")
    page.locator("input[name='doc-0-surname_latin']").fill("Toleubayeva")
    page.locator("input[name='ph-0-number']").fill("+7 702 111 22 33")
    page.locator("input[name='ph-1-number']").fill("555")  # kept, flagged not valid
    page.locator("input[name='ph-1-number']").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/people/{saule.pk}/")
    expect(page.locator(".alert-success")).to_contain_text("Changes saved.")
    documents = page.locator("#documents")
    expect(documents).to_contain_text("N11112233")
    expect(documents).to_contain_text("TOLEUBAYEVA")
    expect(page.get_by_text("+77021112233")).to_be_visible()
    expect(page.get_by_text("not a valid number")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("Төлеубаева")
    # Search by the corrected passport number, and by the new surname.
    for query in ("N11112233", "Төлеубаева Сәуле", "toleubayeva"):
        page.goto("/people/")
        page.fill("input[name='q']", query)
        page.keyboard.press("Enter")
        expect(page.get_by_role("link", name="Төлеубаева Сәуле")).to_be_visible()
    page.goto("/people/")
    page.fill("input[name='q']", "N11112222")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Төлеубаева Сәуле")).to_have_count(0)
    assert Person.objects.get(pk=saule.pk).documents.get().number == "N11112233"


def test_a_mistake_is_shown_on_its_field(
    world: World, page: Page, sign_in: Callable[..., None]
) -> None:
    pk = world.people["IR"]
    sign_in(page, "operator")
    page.goto(f"/people/{pk}/edit/")
    page.locator("input[name='doc-0-number']").fill("N98765432")
    page.locator("input[name='doc-0-issuing_state']").fill("QQQ")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#id_doc-0-issuing_state_errors")).to_contain_text("Unknown issuing state")
    expect(page.locator("input[name='doc-0-number']")).to_have_value("N98765432")
    assert not Person.objects.get(pk=pk).documents.exists()
