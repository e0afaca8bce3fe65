"""The logistics officer prints all the boarding passes of a leg: the print runs in the
background (a thread of the server, as in the embedded demo), the page follows it without
JavaScript and offers the PDF when it is ready: a page per seat held."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.transport import boarding_passes, services
from aman.transport.models import BookingStatus, PassPrint
from tests.conftest import World
from tests.transport.conftest import make_leg, register_household
from tests.transport.pdftext import pdf_pages

pytestmark = pytest.mark.browser


def test_the_officer_prints_a_legs_passes_in_the_background(
    world: World,
    page: Page,
    sign_in: Callable[..., None],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings.AMAN_IMPORTS_RUN = "thread"  # as in the embedded demo: the page answers at once
    settings.AMAN_PASSES_INLINE_MAX = 0  # however few the passes
    monkeypatch.setattr(boarding_passes, "CHUNK", 3)  # progress after every three pages
    # The print waits after its first three pages until the officer has seen them counted.
    seen, render = threading.Event(), boarding_passes.render_passes_pdf

    def watched(passes: Any, progress: Any) -> bytes:
        def told(done: int) -> None:
            progress(done)
            seen.wait(timeout=30)

        return render(passes, told)

    monkeypatch.setattr(boarding_passes, "render_passes_pdf", watched)
    logistics = world.users[Role.LOGISTICS]
    leg = make_leg(world, capacity=12)
    bookings = services.leg_book(
        actor=logistics,
        leg=leg,
        households=[register_household(world, n) for n in (4, 3, 2, 1)],
    )
    services.booking_close(actor=logistics, booking=bookings[-1], status=BookingStatus.RELEASED)
    held = len(bookings) - 1

    sign_in(page, "logistics")
    page.goto(f"/transport/legs/{leg.pk}/")
    page.get_by_role("button", name="Print all boarding passes (PDF)").click()
    expect(page).to_have_url(f"/transport/legs/{leg.pk}/passes/")
    expect(page.get_by_role("heading", name="Boarding passes")).to_be_visible()
    # The page refreshes itself until the print is ready (a meta refresh: no JavaScript).
    expect(page.locator("#print-progress")).to_contain_text(f"3 of {held} pages done")
    expect(page.get_by_role("button", name="Print the passes again")).to_be_disabled()
    seen.set()
    download = page.get_by_role("link", name="Download the PDF")
    expect(download).to_be_visible(timeout=60_000)
    expect(page.locator("#print-ready")).to_contain_text(f"{held} passes ready")
    job = PassPrint.objects.get(leg=leg)
    assert (job.status, job.total, job.done) == ("done", held, held)
    with page.expect_download() as caught:
        download.click()
    content = caught.value.path().read_bytes()
    assert content.startswith(b"%PDF")
    assert pdf_pages(content) == held  # a page per seat held, the released one left out
    entry = AuditEntry.objects.get(verb="boarding_pass", object_id=str(leg.pk))
    assert entry.actor == logistics and entry.changes["print"] == job.pk

    # The leg page tells of the print and leads back to it.
    page.goto(f"/transport/legs/{leg.pk}/")
    page.locator("#pass-print-link").click()
    expect(page.get_by_role("link", name="Download the PDF")).to_be_visible()
