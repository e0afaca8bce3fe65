"""An operator is warned of a caller already registered, saves anyway, and an officer
closes the pair in the review queue."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from aman.dedup.models import CandidatePair
from aman.registry.models import Person
from tests.conftest import World

pytestmark = pytest.mark.browser


def test_the_operator_is_warned_then_the_pair_is_reviewed(
    world: World, page: Page, sign_in: Callable[..., None]
) -> None:
    CandidatePair.objects.all().delete()  # the world's own pair; this test counts its own
    sign_in(page, "operator")
    page.goto("/people/new/")
    # `Сейітов Марат`, born 1980-05-05, is registered (in the world); the caller says
    # `Сеитов Марат` with the same birth date.
    page.locator("input[name='m-0-surname']").fill("Сеитов")
    page.locator("input[name='m-0-given_names']").fill("Марат")
    page.locator("input[name='m-0-birth_date']").fill("1980-05-05")
    page.select_option("select[name='country']", "IR")
    page.locator("input[name='city']").fill("Tehran")
    page.locator("input[name='consent']").check()
    page.get_by_role("button", name="Save registration").click()
    warning = page.locator("#possible-duplicates")
    expect(warning).to_contain_text("Possibly already registered")
    expect(warning).to_contain_text("the same names and birth date")
    assert not Person.objects.filter(surname="Сеитов").exists()
    page.get_by_role("button", name="Not the same: save as new").click()
    expect(page.locator(".alert-success")).to_contain_text("Registered. Reference codes")
    assert Person.objects.filter(surname="Сеитов").count() == 1
    page.get_by_role("link", name="Duplicates").click()
    page.wait_for_url("**/people/duplicates/")
    pairs = page.locator("section.card")
    expect(pairs).to_have_count(2)  # the caller is like both world people
    expect(pairs.first.locator("tr.table-warning").first).to_be_visible()
    pairs.first.get_by_role("button", name="Not the same person").click()
    expect(page.locator(".alert-success, .alert-info").first).to_contain_text("not the same person")
    expect(page.locator("section.card")).to_have_count(1)
    assert CandidatePair.objects.filter(status="rejected").count() == 1


def test_an_officer_merges_two_records_then_undoes_the_merge(
    world: World, page: Page, sign_in: Callable[..., None]
) -> None:
    """The world's two `Сейітов Марат` (one in Iran, one in Iraq) are one man who moved."""
    iran, iraq = world.people["IR"], world.people["IQ"]
    Person.objects.filter(pk=iraq).update(address="Najaf, Hotel Qasr")
    sign_in(page, "operator")
    page.goto("/people/duplicates/")
    pair = page.locator("section.card").first
    expect(pair).to_contain_text("the same names and birth date")
    pair.get_by_role("link", name="Same person: merge…").click()
    expect(page.locator("#merge-plan")).to_be_visible()
    # Where he is differs: a conflict; the later report (Iraq) is proposed, and kept.
    location = page.locator("#group-location")
    expect(location).to_have_class("table-warning")
    expect(location.locator("input[value='absorbed']")).to_be_checked()
    page.get_by_role("button", name="Merge").click()
    expect(page.locator(".alert-success")).to_contain_text("is now part of this record")
    expect(page.locator("#merged-records")).to_contain_text("Records merged into this one")
    assert Person.objects.get(pk=iran).address == "Najaf, Hotel Qasr"
    assert not Person.objects.filter(pk=iraq).exists()
    page.get_by_role("button", name="Undo the merge").click()
    expect(page.locator(".alert-success")).to_contain_text("is a record of its own again")
    assert Person.objects.get(pk=iran).address == ""
    assert Person.objects.filter(pk=iraq).exists()
    assert CandidatePair.objects.get().status == "open"
