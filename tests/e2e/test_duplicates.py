"""An operator is warned of a caller already registered, saves anyway, and an officer
closes the pair in the review queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

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


def test_a_running_search_shows_its_progress_without_reloading_the_page(
    world: World, browser: Browser, live_server: Any, sign_in: Callable[..., None], page: Page
) -> None:
    """The progress is polled in place: the officer keeps their place (and what they were
    typing), and reading it writes no audit row; without JavaScript, a link refreshes."""
    from django.utils import timezone

    from aman.core.models import AuditEntry
    from aman.dedup.models import LinkageRun

    run = LinkageRun.objects.create(
        crisis=world.crisis,
        status="running",
        phase="predict",
        progress=0.4,
        heartbeat_at=timezone.now(),
    )
    sign_in(page, "operator")
    page.goto("/people/duplicates/")
    progress = page.locator("#linkage-run")
    expect(progress).to_contain_text("40% · scoring candidate pairs")
    expect(
        page.get_by_role("button", name="Find duplicates among everyone registered")
    ).to_have_count(0)
    page.evaluate("window.stillHere = true")
    reads = AuditEntry.objects.filter(verb="candidate_list").count()
    LinkageRun.objects.filter(pk=run.pk).update(
        progress=0.9, phase="save", heartbeat_at=timezone.now()
    )
    expect(progress).to_contain_text("90% · keeping the pairs for review")
    LinkageRun.objects.filter(pk=run.pk).update(
        status="done", phase="done", progress=1, records=12, pairs_found=4, pairs_new=3
    )
    expect(progress).to_contain_text("12 people, 4 possible duplicate pairs (3 new)")
    expect(
        page.get_by_role("button", name="Find duplicates among everyone registered")
    ).to_be_visible()
    assert page.evaluate("window.stillHere") is True, "the page was not reloaded"
    assert AuditEntry.objects.filter(verb="candidate_list").count() == reads
    page.get_by_role("link", name="Show the pairs it found").click()
    expect(page.locator("section.card").first).to_contain_text("the same names and birth date")
    # Without JavaScript: a plain link to see the progress again.
    LinkageRun.objects.filter(pk=run.pk).update(status="running", progress=0.5)
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    try:
        plain = context.new_page()
        sign_in(plain, "operator")
        plain.goto("/people/duplicates/")
        expect(plain.locator("#linkage-run")).to_contain_text("50%")
        LinkageRun.objects.filter(pk=run.pk).update(progress=0.75, phase="cluster")
        plain.get_by_role("link", name="Refresh to see the progress").click()
        expect(plain.locator("#linkage-run")).to_contain_text("75% · building clusters")
    finally:
        context.close()
