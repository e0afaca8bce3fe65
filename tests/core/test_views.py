"""The operator UI for crises, missions and the audit log, through Django's test client."""

from __future__ import annotations

from django.test import Client

from aman.core.models import AuditEntry, Crisis, Mission
from aman.core.roles import Role
from tests.conftest import World
from tests.factories import country


def test_a_new_crisis_becomes_the_managers_current_one(world: World) -> None:
    client = world.client(Role.CRISIS_MANAGER)
    response = client.post(
        "/crises/new/",
        {
            "name": "Yemen 2026",
            "home_country": country("KZ").pk,
            "affected_countries": [country("IR").pk, country("IQ").pk],
            "retention_days": 90,
        },
    )
    crisis = Crisis.objects.get(name="Yemen 2026")
    assert response["Location"] == f"/crises/{crisis.pk}/"
    world.users[Role.CRISIS_MANAGER].refresh_from_db()
    assert world.users[Role.CRISIS_MANAGER].current_crisis == crisis
    page = client.get("/").content.decode()
    assert "Yemen 2026" in page


def test_crisis_form_errors_are_shown_and_nothing_is_saved(world: World) -> None:
    client = world.client(Role.CRISIS_MANAGER)
    response = client.post(
        "/crises/new/", {"name": "", "home_country": country("KZ").pk, "retention_days": 0}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("invalid-feedback") >= 3 and 'aria-invalid="true"' in html
    response = client.post(
        "/crises/new/",
        {
            "name": "Dup",
            "code": world.crisis.code,
            "home_country": country("KZ").pk,
            "affected_countries": [country("IR").pk],
            "retention_days": 10,
        },
    )
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert not Crisis.objects.filter(name__in=["", "Dup"]).exists()


def test_closing_twice_shows_an_error_not_a_crash(world: World) -> None:
    client = world.client(Role.CRISIS_MANAGER)
    client.post(f"/crises/{world.crisis.pk}/close/")
    response = client.post(f"/crises/{world.crisis.pk}/close/", follow=True)
    assert "Only an open crisis can be closed" in response.content.decode()


def test_consul_lists_only_crises_of_their_mission(world: World) -> None:
    html = world.client(Role.CONSUL).get("/crises/").content.decode()
    assert world.crisis.name in html and world.other_crisis.name not in html
    html = world.client(Role.OPERATOR).get("/crises/").content.decode()
    assert world.crisis.name in html and world.other_crisis.name in html


def test_switcher_offers_only_visible_crises(world: World) -> None:
    html = world.client(Role.CONSUL).get("/crises/").content.decode()
    switcher = html[
        html.index('id="crisis-select"') : html.index("</select>", html.index('id="crisis-select"'))
    ]
    assert world.crisis.name in switcher and world.other_crisis.name not in switcher


def test_switching_rejects_foreign_redirects(world: World) -> None:
    response = world.client(Role.OPERATOR).post(
        "/crises/switch/", {"crisis": world.crisis.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_mission_create_defaults_its_area_to_the_host_country(world: World) -> None:
    client = world.client(Role.CRISIS_MANAGER)
    client.post(
        "/missions/new/",
        {"name": "Embassy in Baku", "kind": "embassy", "country": country("AZ").pk},
    )
    mission = Mission.objects.get(name="Embassy in Baku")
    assert list(mission.area.values_list("code", flat=True)) == ["AZ"]
    response = client.post(
        "/missions/new/",
        {"name": "Embassy in Baku", "kind": "embassy", "country": country("AZ").pk},
    )
    assert response.status_code == 200 and "already exists" in response.content.decode()


def test_audit_log_filters(world: World) -> None:
    client = world.client(Role.CRISIS_MANAGER)
    client.post(f"/crises/{world.crisis.pk}/close/")
    client.post(
        "/missions/new/",
        {"name": "Embassy in Ankara", "kind": "embassy", "country": country("TR").pk},
    )
    html = client.get(
        "/audit/", {"action": "create", "object_type": "core.mission"}
    ).content.decode()
    assert "mission_create" in html and "crisis_close" not in html
    html = client.get("/audit/", {"crisis": world.crisis.pk}).content.decode()
    assert "crisis_close" in html and "mission_create" not in html
    assert AuditEntry.objects.filter(verb="crisis_close", via="web", ip="127.0.0.1").exists()


def test_healthz_reports_the_database(client: Client, db: None) -> None:
    body = client.get("/healthz").json()
    assert body == {
        "status": "ok",
        "checks": {"database": "ok", "broker": body["checks"]["broker"]},
    }


def test_pages_answer_in_each_language(world: World) -> None:
    client = world.client(Role.OPERATOR)
    for lang in ("kk", "ru", "en"):
        client.post("/i18n/setlang/", {"language": lang})
        html = client.get("/crises/").content.decode()
        assert f'<html lang="{lang}">' in html


def test_country_choices_follow_the_users_language(world: World) -> None:
    client = world.client(Role.CRISIS_MANAGER)
    client.post("/i18n/setlang/", {"language": "ru"})
    html = client.get("/crises/new/").content.decode()
    select = html[html.index('name="affected_countries"') :]
    names = [part.split(" (")[0] for part in select.split('">')[1:6]]
    assert names == sorted(names), names
    assert "Австралия" in select[: select.index("Казахстан")]


def test_posts_without_a_csrf_token_are_refused(world: World) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[Role.CRISIS_MANAGER])
    assert client.post(f"/crises/{world.crisis.pk}/close/").status_code == 403
    api = client.post(
        "/api/crises",
        data='{"name": "x", "affected_countries": ["IR"]}',
        content_type="application/json",
    )
    assert api.status_code == 403 and set(api.json()) == {"message", "extra"}
    world.crisis.refresh_from_db()
    assert world.crisis.status == "open"


def test_sign_in_is_throttled_after_repeated_failures(world: World, settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    from tests.factories import PASSWORD

    cache.clear()
    settings.AMAN_LOGIN_MAX_FAILURES_PER_USER = 3
    client = Client()
    for _ in range(3):
        assert (
            client.post("/login/", {"username": "operator", "password": "nope"}).status_code == 200
        )
    blocked = client.post("/login/", {"username": "operator", "password": PASSWORD})
    assert blocked.status_code == 200 and "Too many failed sign-ins" in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    assert (
        Client().post("/login/", {"username": "duty_officer", "password": PASSWORD}).status_code
        == 302
    )
    cache.clear()
    assert client.post("/login/", {"username": "operator", "password": PASSWORD}).status_code == 302


def test_a_mistyped_password_in_the_username_field_is_not_logged(world: World) -> None:
    Client().post("/login/", {"username": "Very-Long-Pass-123", "password": "x"})
    entry = AuditEntry.objects.get(action="login_failed")
    assert entry.changes == {"username": "(no such account)"}
