"""A duty officer checks people in and boards them at the gate by scanning: online, then with
the network gone (answers from the passenger list on the device, scans queued), then the
network returns: the queue is sent, each scan counts once, and a conflict is shown."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from aman.core.roles import Role
from aman.registry.identity import mrz
from aman.registry.models import Document, Person
from aman.transport import passes, services
from aman.transport.models import Booking, BookingEvent, BookingStatus, GateScan
from tests.conftest import World
from tests.transport.conftest import make_leg, register_household

pytestmark = pytest.mark.browser


def pass_of(booking: Booking) -> str:
    return passes.pass_code(
        booking_id=booking.pk, leg_id=booking.leg_id, person_id=booking.person_id
    )


def zone_lines(booking: Booking) -> list[str]:
    person = Person.objects.get(pk=booking.person_id)
    document = Document.objects.get(person=person)
    return mrz.build_td3(
        surname=person.surname_latin,
        given_names=person.given_names_latin,
        document_number=document.number,
        birth_date=person.birth_date,
        sex=person.sex or "X",
        expiry_date=document.expiry_date,
    )


def scanner_types(page: Page, *lines: str) -> None:
    """What a USB scanner does: types each line and presses Enter."""
    field = page.locator("#gate-input")
    for line in lines:
        field.press_sequentially(line, delay=0)
        field.press("Enter")


def boarded_events(booking: Booking) -> int:
    return BookingEvent.objects.filter(booking=booking, status=BookingStatus.BOARDED).count()


def test_check_in_and_board_online_then_offline_then_sync(
    world: World, page: Page, sign_in: Callable[..., None]
) -> None:
    logistics = world.users[Role.LOGISTICS]
    leg = make_leg(world, capacity=10)
    bookings: list[Booking] = []
    for _ in range(3):
        bookings += services.leg_book(
            actor=logistics, leg=leg, households=[register_household(world, 2)]
        )
    a, b, c, d = bookings[:4]

    sign_in(page, "duty_officer")
    page.goto(f"/transport/legs/{leg.pk}/gate/")
    expect(page.locator("#gate-manifest-info")).to_contain_text("6 bookings")
    expect(page.locator("#gate-online")).to_have_text("Online")
    answer = page.locator("#gate-answer")
    verdict = page.locator("#gate-verdict")

    # Check-in: a boarding pass, then a passport's two lines.
    expect(page.locator("#gate-input")).to_be_focused()
    scanner_types(page, pass_of(a))
    expect(answer).to_have_attribute("data-result", "applied")
    expect(verdict).to_have_text("Checked in.")
    expect(page.locator("#gate-name")).to_have_text(
        f"{a.person.surname_latin} {a.person.given_names_latin}"
    )
    expect(page.locator("#gate-household")).to_contain_text(b.person.reference_code_display)
    scanner_types(page, *zone_lines(b))
    expect(verdict).to_have_text("Checked in.")
    expect(page.locator("#gate-name")).to_contain_text(b.person.surname_latin)
    # The same pass again: already done, nothing doubled.
    scanner_types(page, pass_of(a))
    expect(answer).to_have_attribute("data-result", "already")

    # Boarding, by the typed reference code.
    page.locator("label[for=mode-board]").click()
    scanner_types(page, a.person.reference_code_display.lower())
    expect(answer).to_have_attribute("data-result", "applied")
    expect(verdict).to_have_text("Boarded.")
    a.refresh_from_db()
    assert a.status == BookingStatus.BOARDED

    # The network goes. Meanwhile the logistics officer releases d's seat on the server.
    page.context.set_offline(True)
    expect(page.locator("#gate-online")).to_contain_text("Offline")
    services.booking_close(actor=logistics, booking=d, status="released", note="stays")

    scanner_types(page, pass_of(c))
    expect(verdict).to_have_text("Boarded.")
    expect(page.locator("#gate-details")).to_contain_text("sent when the network returns")
    scanner_types(page, *zone_lines(d))  # the device does not know d was released
    expect(page.locator("#gate-name")).to_contain_text(d.person.surname_latin)
    expect(verdict).to_have_text("Boarded.")
    # A second scan of c on this device: already boarded, from the device's own list.
    scanner_types(page, c.person.reference_code)
    expect(answer).to_have_attribute("data-result", "already")
    expect(verdict).to_contain_text("Already boarded")
    expect(page.locator("#gate-queue")).to_have_attribute("data-count", "3")
    assert boarded_events(c) == 0  # nothing reached the server
    queued = page.evaluate(f"localStorage.getItem('aman.gate.{leg.pk}.queue')")
    assert Document.objects.get(person_id=d.person_id).number not in queued

    # The network returns: the queue is sent, each scan once; d's is a conflict.
    page.context.set_offline(False)
    expect(page.locator("#gate-queue")).to_have_attribute("data-count", "0")
    expect(page.locator("#gate-online")).to_have_text("Online")
    conflicts = page.locator("#gate-conflicts")
    expect(conflicts.locator("li")).to_have_count(1)
    expect(conflicts).to_contain_text(d.person.reference_code_display)
    expect(conflicts).to_contain_text("released on the server meanwhile")

    for booking, status in ((a, "boarded"), (b, "checked_in"), (c, "boarded"), (d, "released")):
        booking.refresh_from_db()
        assert booking.status == status, booking
    assert (boarded_events(a), boarded_events(c), boarded_events(d)) == (1, 1, 0)
    rows = list(GateScan.objects.filter(leg=leg).order_by("id"))
    assert len(rows) == 7  # every scan, once
    assert [r.result for r in rows if r.offline] == ["applied", "conflict", "applied"]
    assert len({r.client_id for r in rows}) == 7

    # The list on the device follows the server again; a reload keeps the conflicts.
    page.reload()
    expect(page.locator("#gate-conflicts li")).to_have_count(1)
    expect(page.locator("#gate-log li")).to_have_count(7)

    # The device has a name, sent with its scans: the leg's page lists the conflict with it.
    device = page.locator("#gate-device")
    expect(device).to_have_text(re.compile(r"^This device: D-[A-Z0-9]{6}$"))
    name = (device.text_content() or "").rsplit(" ", 1)[-1]
    assert all(r.client_id.startswith(f"{name}:") for r in rows)
    page.goto(f"/transport/legs/{leg.pk}/")
    panel = page.locator("#scan-conflicts")
    expect(panel).to_contain_text("Scan conflicts")
    expect(panel.locator("tbody tr")).to_have_count(1)
    row = panel.locator("tbody tr")
    expect(row).to_contain_text(name)
    expect(row).to_contain_text(d.person.reference_code_display)
    expect(row).to_contain_text(world.users[Role.DUTY_OFFICER].username)
    expect(row).to_contain_text("released on the server meanwhile")
    # "find on this leg" shows the released booking among everyone.
    row.get_by_role("link", name="find on this leg").click()
    expect(page.locator(f"#booking-{d.pk}")).to_contain_text("Released")


def test_the_gate_page_opens_again_without_a_network(
    world: World, page: Page, sign_in: Callable[..., None]
) -> None:
    """A phone's browser drops the tab while the network is down: the page opens again from
    the device (service worker), with its passenger list, and boards from it."""
    leg = make_leg(world, capacity=4)
    a, _b = services.leg_book(
        actor=world.users[Role.LOGISTICS], leg=leg, households=[register_household(world, 2)]
    )
    sign_in(page, "duty_officer")
    page.goto(f"/transport/legs/{leg.pk}/gate/")
    expect(page.locator("#gate-manifest-info")).to_contain_text("2 bookings")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now under the worker's control: the page and its files are kept
    expect(page.locator("#gate-online")).to_have_text("Online")
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#gate-manifest-info")).to_contain_text("2 bookings")
    expect(page.locator("#gate-online")).to_contain_text("Offline")
    page.locator("label[for=mode-board]").click()
    scanner_types(page, pass_of(a))
    expect(page.locator("#gate-verdict")).to_have_text("Boarded.")
    expect(page.locator("#gate-queue")).to_have_attribute("data-count", "1")
    page.context.set_offline(False)
    expect(page.locator("#gate-queue")).to_have_attribute("data-count", "0")
    a.refresh_from_db()
    assert a.status == BookingStatus.BOARDED
    # Clearing the device removes the kept page too.
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#gate-clear").click()
    page.wait_for_function(
        "caches.keys().then(k => k.filter(n => n.startsWith('aman-gate-')).length === 0)"
    )


def _qr_video(text: str, path: Path) -> Path:
    """A Y4M clip (what Chromium's fake camera plays) of `text` as a QR code, black on white,
    as a boarding pass held up to the camera."""
    import segno

    qr = segno.make(text, error="m")
    matrix = [list(row) for row in qr.matrix]
    size, scale, width, height = len(matrix), 8, 640, 480
    left, top = (width - size * scale) // 2, (height - size * scale) // 2
    luma = bytearray([235]) * (width * height)  # white (video range)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(scale):
                    start = (top + y * scale + dy) * width + left + x * scale
                    luma[start : start + scale] = bytes([16]) * scale  # black
    chroma = bytes([128]) * (width // 2 * height // 2)
    frame = b"FRAME\n" + bytes(luma) + chroma + chroma
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 5)
    return path


def test_the_camera_reads_a_pass_without_the_browsers_qr_reader(
    world: World, browser: Browser, live_server: object, sign_in: Callable[..., None],
    tmp_path: Path,
) -> None:  # fmt: skip
    """Where the browser has no QR reader of its own (BarcodeDetector: Firefox, Safari,
    Chromium on Linux), the camera button reads the pass with jsQR, shipped with the page."""
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS

    leg = make_leg(world, capacity=4)
    (booking,) = services.leg_book(
        actor=world.users[Role.LOGISTICS], leg=leg, households=[register_household(world, 1)]
    )
    clip = _qr_video(pass_of(booking), tmp_path / "pass.y4m")
    camera = browser.browser_type.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={clip}",
        ],
    )
    try:
        context = camera.new_context(base_url=live_server.url, locale="en-GB")  # type: ignore[attr-defined]
        context.set_default_timeout(TIMEOUT_MS)
        context.grant_permissions(["camera"])
        # As on a browser without the shape-detection API, whatever this Chromium has.
        context.add_init_script("delete window.BarcodeDetector;")
        page = context.new_page()
        sign_in(page, "duty_officer")
        page.goto(f"/transport/legs/{leg.pk}/gate/")
        button = page.locator("#gate-camera")
        expect(button).to_be_visible()
        expect(button).to_have_attribute("data-decoder", "jsqr")
        assert page.evaluate("typeof window.jsQR") == "function"
        button.click()
        expect(page.locator("#gate-video")).to_be_visible()
        expect(page.locator("#gate-log li").first).to_be_visible()
        expect(page.locator("#gate-verdict")).not_to_have_text("Waiting for a scan.")
        button.click()  # stop the camera
        expect(page.locator("#gate-video")).to_be_hidden()
        booking.refresh_from_db()
        assert booking.status == BookingStatus.CHECKED_IN
        scan = GateScan.objects.get(leg=leg, booking=booking)
        assert (scan.kind, scan.action, scan.result) == ("qr", "check_in", "applied")
    finally:
        camera.close()
