"""End-to-end: the operator UI in a real Chromium against the live server.

Each test drives the pages as a person would (forms typed into, buttons clicked, dialogs
accepted) and then checks both what the page shows and what ended up in the database.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import polib
import pytest
from playwright.sync_api import Locator, Page, expect

import aman
from aman.core.models import ApiToken, AuditEntry, Crisis, User
from aman.geo.models import Place, PlaceStatus, PlaceStatusEvent
from tests.conftest import World
from tests.factories import country

pytestmark = pytest.mark.browser

LOCALE_DIR = Path(aman.__file__).resolve().parent / "locale"


def nav_link(page: Page, href: str) -> Locator:
    return page.locator(f"#nav a.nav-link[href='{href}']")


# 1. Signing in ---------------------------------------------------------------------------


def test_login_form_lands_on_the_situation_of_the_current_crisis(
    page: Page, live_server, world: World
) -> None:
    manager = world.users["crisis_manager"]
    manager.current_crisis = world.crisis
    manager.save(update_fields=["current_crisis"])

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill("crisis_manager")
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("main h1")).to_have_text("Iran 2026")
    crossings = page.locator("main table")
    expect(crossings.get_by_role("link", name="Astara", exact=True)).to_be_visible()
    expect(page.locator("#crisis-select")).to_have_value(str(world.crisis.pk))
    assert AuditEntry.objects.filter(verb="login", actor=manager).exists()


def test_login_with_a_wrong_password_shows_the_error_and_stays(
    page: Page, live_server, world: World
) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill("crisis_manager")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.locator(".alert-danger")).to_contain_text("Wrong username or password")
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
    assert "sessionid" not in {c["name"] for c in page.context.cookies()}
    failed = AuditEntry.objects.get(verb="login_failed")
    assert failed.changes == {"username": "crisis_manager"}


# 2. Crisis lifecycle ----------------------------------------------------------------------


def test_crisis_is_created_opened_and_closed_in_the_ui(
    page: Page, sign_in: Callable[..., None], world: World
) -> None:
    sign_in(page, "crisis_manager")
    nav_link(page, "/crises/").click()
    page.get_by_role("link", name="New crisis").click()
    expect(page.locator("main h1")).to_have_text("New crisis")

    page.get_by_label("Name").fill("Caspian evacuation")
    page.locator("#id_affected_countries").select_option(
        [str(country("IR").pk), str(country("IQ").pk)]
    )
    page.get_by_label("Retention (days)").fill("90")
    page.get_by_role("button", name="Save").click()

    crisis = Crisis.objects.get(name="Caspian evacuation")
    expect(page).to_have_url(re.compile(rf"/crises/{crisis.pk}/$"))
    badge = page.locator("main h1 + .badge")
    expect(badge).to_have_text("Draft")
    assert sorted(crisis.affected_countries.values_list("code", flat=True)) == ["IQ", "IR"]
    assert crisis.retention_days == 90
    assert crisis.home_country.code == "KZ"

    page.get_by_role("button", name="Open crisis").click()
    expect(badge).to_have_text("Open")
    expect(page.get_by_role("status")).to_contain_text("The crisis is open.")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Close crisis").click()
    expect(badge).to_have_text("Closed")
    expect(page.get_by_role("button", name="Reopen crisis")).to_be_visible()

    crisis.refresh_from_db()
    assert crisis.status == Crisis.Status.CLOSED
    assert crisis.closed_at is not None
    verbs = set(AuditEntry.objects.filter(crisis=crisis).values_list("verb", flat=True))
    assert {"crisis_create", "crisis_open", "crisis_close"} <= verbs


def test_dismissing_the_close_confirmation_keeps_the_crisis_open(
    page: Page, sign_in: Callable[..., None], world: World
) -> None:
    sign_in(page, "crisis_manager")
    page.goto(f"/crises/{world.crisis.pk}/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Close crisis").click()
    expect(page.locator("main h1 + .badge")).to_have_text("Open")
    world.crisis.refresh_from_db()
    assert world.crisis.status == Crisis.Status.OPEN


def test_crisis_form_shows_a_field_error_for_zero_retention_days(
    page: Page, sign_in: Callable[..., None], world: World
) -> None:
    sign_in(page, "crisis_manager")
    page.goto("/crises/new/")
    page.get_by_label("Name").fill("Never saved")
    page.locator("#id_affected_countries").select_option([str(country("IR").pk)])
    page.get_by_label("Retention (days)").fill("0")
    page.get_by_role("button", name="Save").click()

    expect(page).to_have_url(re.compile(r"/crises/new/$"))
    expect(page.locator("#id_retention_days_errors")).to_be_visible()
    expect(page.locator("#id_retention_days_errors")).to_contain_text("greater than or equal to 1")
    expect(page.get_by_label("Name")).to_have_value("Never saved")
    assert not Crisis.objects.filter(name="Never saved").exists()
    assert Crisis.objects.count() == 2


# 3. Crisis switcher -----------------------------------------------------------------------


def test_crisis_switcher_changes_the_current_crisis(
    page: Page, sign_in: Callable[..., None], world: World
) -> None:
    User.objects.filter(username="operator").update(current_crisis=None)
    sign_in(page, "operator")
    expect(page.locator("main h1")).to_have_text("No crisis selected")

    page.locator("#crisis-select").select_option(str(world.other_crisis.pk))

    expect(page.locator("main h1")).to_have_text("Gulf 2026")
    expect(page.locator("#crisis-select")).to_have_value(str(world.other_crisis.pk))
    user = User.objects.get(username="operator")
    assert user.current_crisis_id == world.other_crisis.pk

    page.locator("#crisis-select").select_option(str(world.crisis.pk))
    expect(page.locator("main h1")).to_have_text("Iran 2026")
    user.refresh_from_db()
    assert user.current_crisis_id == world.crisis.pk


# 4. Language switcher ---------------------------------------------------------------------


def catalogue_msgstr(lang: str, msgid: str) -> str:
    po = polib.pofile(str(LOCALE_DIR / lang / "LC_MESSAGES" / "django.po"))
    entry = po.find(msgid)
    return (
        entry.msgstr
        if entry is not None and not entry.obsolete and "fuzzy" not in entry.flags
        else ""
    )


@pytest.mark.parametrize(("button", "lang"), [("RU", "ru"), ("KK", "kk")])
def test_language_switcher_translates_the_page(
    page: Page, sign_in: Callable[..., None], world: World, button: str, lang: str
) -> None:
    crises = catalogue_msgstr(lang, "Crises")
    assert crises, f"the {lang} catalogue has no translation for 'Crises'"
    assert crises != "Crises"

    sign_in(page, "operator")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(nav_link(page, "/crises/")).to_have_text("Crises")

    page.locator("#language-switcher").get_by_role("button", name=button, exact=True).click()

    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(
        nav_link(page, "/crises/"),
        f"the {lang} catalogue says {crises!r}; is the compiled one current (make translations)?",
    ).to_have_text(crises)
    expect(nav_link(page, "/crises/")).to_be_visible()
    expect(page.locator(f"#language-switcher button[value='{lang}']")).to_have_attribute(
        "aria-current", "true"
    )

    # The choice sticks for the next page too.
    nav_link(page, "/crises/").click()
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("main h1")).to_have_text(crises)


# 5. Role-based navigation -----------------------------------------------------------------


def test_observer_has_no_audit_log(page: Page, sign_in: Callable[..., None], world: World) -> None:
    sign_in(page, "observer")
    expect(nav_link(page, "/crises/")).to_be_visible()
    expect(nav_link(page, "/audit/")).to_have_count(0)
    expect(page.get_by_role("link", name="Audit log")).to_have_count(0)

    response = page.goto("/audit/")
    assert response is not None
    assert response.status == 403
    expect(page.locator("main h1")).to_have_text("Not allowed")
    expect(page.locator("main table")).to_have_count(0)


def test_crisis_manager_browses_and_filters_the_audit_log(
    page: Page, sign_in: Callable[..., None], world: World
) -> None:
    from aman.core import services

    manager = world.users["crisis_manager"]
    services.user_set_current_crisis(actor=manager, crisis=world.crisis)  # an "update" entry
    sign_in(page, "crisis_manager")  # a "login" entry

    nav_link(page, "/audit/").click()
    expect(page.locator("main h1")).to_have_text("Audit log")
    rows = page.locator("main table tbody tr")
    expect(rows.filter(has_text="user_set_current_crisis")).to_have_count(1)
    expect(rows.filter(has_text="logged in")).to_have_count(1)
    total = AuditEntry.objects.count()
    assert total >= 2
    expect(page.get_by_text(f"{total} entries", exact=True)).to_be_visible()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN).count() == 1

    page.get_by_label("Action").select_option("login")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"[?&]action=login(&|$)"))
    expect(page.get_by_label("Action")).to_have_value("login")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("logged in")
    expect(rows.first).to_contain_text("crisis_manager")
    expect(rows.filter(has_text="user_set_current_crisis")).to_have_count(0)
    expect(page.get_by_text("1 entry", exact=True)).to_be_visible()


# 6. Crossing status -----------------------------------------------------------------------


def test_logistics_records_a_crossing_status_and_the_observer_only_reads_it(
    page: Page, new_page: Callable[[], Page], sign_in: Callable[..., None], world: World
) -> None:
    astara = Place.objects.get(kind=Place.Kind.CROSSING, name="Astara")
    assert astara.status == PlaceStatus.OPEN

    sign_in(page, "logistics")
    nav_link(page, "/geo/crossings/").click()
    expect(page.locator("main h1")).to_have_text("Border crossings")
    page.locator("main table").get_by_role("link", name="Astara", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/geo/places/{astara.pk}/$"))
    expect(page.locator("main h1")).to_have_text("Astara")

    page.locator("#id_status").select_option("closed")
    page.get_by_label("Reason").fill("Queue of 2,000 people; border guards stopped processing")
    page.get_by_role("button", name="Record status").click()

    expect(page.locator("#place-status")).to_have_text("Closed")
    history = page.locator("table").filter(has=page.get_by_role("columnheader", name="Recorded by"))
    first = history.locator("tbody tr").first
    expect(first).to_contain_text("Closed")
    expect(first).to_contain_text("Queue of 2,000 people; border guards stopped processing")
    expect(first).to_contain_text("logistics")

    astara.refresh_from_db()
    assert astara.status == PlaceStatus.CLOSED
    event = PlaceStatusEvent.objects.get(place=astara)
    assert event.status == PlaceStatus.CLOSED
    assert event.recorded_by == world.users["logistics"]
    assert AuditEntry.objects.filter(verb="place_status_set", object_id=str(astara.pk)).exists()

    observer = new_page()
    sign_in(observer, "observer")
    observer.goto(f"/geo/places/{astara.pk}/")
    expect(observer.locator("#place-status")).to_have_text("Closed")
    expect(
        observer.get_by_text("Queue of 2,000 people; border guards stopped processing")
    ).to_be_visible()
    expect(observer.get_by_role("heading", name="Status history")).to_be_visible()
    expect(observer.get_by_role("heading", name="Change status")).to_have_count(0)
    expect(observer.get_by_role("button", name="Record status")).to_have_count(0)
    expect(observer.locator("select[name=status]")).to_have_count(0)
    expect(observer.locator("form[action$='/status/']")).to_have_count(0)


# 7. API tokens ----------------------------------------------------------------------------


def api_get(url: str, secret: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_api_token_created_used_and_revoked(
    page: Page, live_server, sign_in: Callable[..., None], world: World
) -> None:
    sign_in(page, "operator")
    page.get_by_role("link", name="API tokens").click()
    expect(page.locator("main h1")).to_have_text("API tokens")

    page.get_by_label("Token name").fill("hotline dialler")
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token").inner_text().strip()
    assert secret.startswith("aman_")
    token = ApiToken.objects.get(user=world.users["operator"], name="hotline dialler")
    assert token.prefix == secret[:12]
    row = page.locator("main table tbody tr").filter(has_text="hotline dialler")
    expect(row).to_contain_text(token.prefix)

    status, body = api_get(f"{live_server.url}/api/me", secret)
    assert status == 200, body
    assert body["username"] == "operator"
    assert body["role"] == "operator"

    row.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button", name="Revoke")).to_have_count(0)
    expect(page.locator("#new-token")).to_have_count(0)
    token.refresh_from_db()
    assert token.revoked_at is not None

    status, body = api_get(f"{live_server.url}/api/me", secret)
    assert status == 401
    assert set(body) == {"message", "extra"}
    assert body["message"]
