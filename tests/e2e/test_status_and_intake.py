"""In a real browser: a citizen who declined a place says on a phone, without JavaScript,
that they want to leave after all and that the family moved hotel; an operator finds a
refused registration among the submissions and registers it after correction."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from aman.core.models import Crisis
from aman.core.roles import Role
from aman.registry.models import IntakeRecord, Person
from aman.registry.services import person_set_status, registration_submit
from tests.conftest import World
from tests.e2e.conftest import TIMEOUT_MS
from tests.registry.conftest import FAMILY

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone_page(browser: Browser, live_server: object) -> Iterator[Page]:
    """A small phone's screen with JavaScript off, as on a bad connection."""
    context = browser.new_context(
        base_url=live_server.url,  # type: ignore[attr-defined]
        locale="en-GB",
        viewport=PHONE,
        java_script_enabled=False,
    )
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


def test_a_declined_family_says_it_wants_to_leave_and_moved_hotel_on_a_phone(
    world: World, phone_page: Page
) -> None:
    cache.clear()
    record = registration_submit(
        crisis=world.crisis,
        channel="hotline",
        payload={
            "members": [
                {"surname": "Сейітова", "given_names": "Дана", "birth_date": "1988-02-29"},
                {"surname": "Сейітов", "given_names": "Ерлан", "birth_date": "2016-06-01"},
            ],
            "location": {"country": "IR", "city": "Tehran", "address": "Hotel Azadi"},
            "consent": True,
        },
    )
    dana, erlan = record.people.order_by("id")
    person_set_status(actor=None, person=dana, status="declined")
    page = phone_page
    # Without JavaScript this Chromium does not always report the document loaded: wait
    # for the response, then for the fields.
    page.goto("/status/", wait_until="commit")
    page.wait_for_selector("input[name=reference_code]")
    page.fill("input[name=reference_code]", dana.reference_code_display)
    page.fill("input[name=birth_date]", "1988-02-29")
    page.locator("button[type=submit]").click()
    page.wait_for_url("**/status/me/", wait_until="commit")
    expect(page.locator("p.status")).to_contain_text("Declined the offer")
    expect(page.get_by_text("Where we have you")).to_contain_text("Tehran, Hotel Azadi")
    household = page.locator("input[name=household]")
    expect(household).to_be_checked()
    expect(page.locator("input[name=intent][value=leave]")).not_to_be_checked()
    page.check("input[name=intent][value=leave]")
    page.fill("input[name=address]", "Hotel Espinas")
    save = page.get_by_role("button", name="Save")
    save.scroll_into_view_if_needed()
    box = save.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    save.click()
    expect(page.locator("p.status")).to_contain_text("Registered")
    expect(page.get_by_text("You are registered again")).to_be_visible()
    expect(page.get_by_text("also recorded for 1 other person")).to_be_visible()
    expect(page.get_by_text("Where we have you")).to_contain_text("Tehran, Hotel Espinas")
    dana.refresh_from_db()
    erlan.refresh_from_db()
    # Tehran, typed at registration, is the reference data's city: the address is the hotel.
    assert (dana.status, dana.city.name, dana.address) == ("registered", "Tehran", "Hotel Espinas")
    assert (erlan.city_id, erlan.address) == (dana.city_id, "Hotel Espinas")
    update = IntakeRecord.objects.get(kind="update")
    assert set(update.people.all()) == {dana, erlan}


def test_an_operator_registers_a_refused_submission_after_correction(
    world: World, page: Page, sign_in: Callable[..., None]
) -> None:
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)
    body = copy.deepcopy(FAMILY)
    body["members"] = body["members"][:1]
    body["members"][0]["iin"] = "123"
    api = world.api(Role.OPERATOR)
    refused = api.post(
        f"/api/registrations?crisis={world.crisis.pk}",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert refused.status_code == 400
    sign_in(page, "operator")
    page.goto("/people/")
    page.get_by_role("link", name="Submissions").click()
    page.select_option("select[name=outcome]", "rejected")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#intake-records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("members.0.iin")
    rows.first.locator("a").first.click()
    expect(page.locator("#intake-payload")).to_contain_text("N12345678")
    page.get_by_role("link", name="Register it after correction").click()
    expect(page.locator("input[name='m-0-surname']")).to_have_value("Жұмабек")
    expect(page.locator("input[name='m-0-iin']")).to_have_value("123")
    page.locator("input[name='m-0-iin']").fill("")
    page.locator("input[name='city']").fill("Tehran")
    page.locator("input[name='consent']").check()
    page.get_by_role("button", name="Save registration").click()
    expect(page.locator(".alert-success")).to_contain_text("Registered. Reference codes")
    nurlan = Person.objects.get(given_names="Нұрлан")
    assert nurlan.medical_need and nurlan.documents.get().number == "N12345678"
