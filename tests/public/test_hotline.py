"""The Ministry's hotline on the public pages, through Django's test client: the number of
the crisis the person is in, as a `tel:` link written for reading, wherever a page tells
people to call it; every open crisis's on a page that has no crisis; and the words as they
were, with no link, when a crisis has no number."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from aman.core.models import Crisis
from aman.core.roles import Role
from aman.core.services import crisis_close, crisis_update
from aman.registry.models import Person
from aman.registry.services import registration_submit
from tests.conftest import World
from tests.public.test_public_pages import MOTHER, SON, form_data

HOTLINE = 'href="tel:+77172720000">+7 7172 72 00 00</a> (24/7)'
GULF = 'href="tel:+97142222222">+971 4 222 2222</a>'


@pytest.fixture(autouse=True)
def _public(world: World) -> None:
    cache.clear()
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)


def _hotline(world: World, crisis: Crisis, phone: str, note: str = "") -> None:
    crisis_update(
        actor=world.users[Role.CRISIS_MANAGER],
        crisis=crisis,
        hotline_phone=phone,
        hotline_note=note,
    )


def _person(world: World) -> Person:
    record = registration_submit(
        crisis=world.crisis,
        channel="api",
        payload={
            "members": [{"surname": "Сейітова", "given_names": "Дана", "birth_date": "1988-02-29"}],
            "location": {"country": "IR", "city": "Tehran", "address": "Hotel Azadi"},
            "consent": True,
        },
    )
    return record.people.get()


def _signed_in(person: Person, **headers: Any) -> Client:
    client = Client(**headers)
    response = client.post(
        "/status/",
        {"reference_code": person.reference_code, "birth_date": person.birth_date.isoformat()},
    )
    assert response["Location"] == "/status/me/"
    return client


@pytest.mark.parametrize(
    ("lang", "label"), [("kk", "Жедел желі"), ("ru", "Горячая линия"), ("en", "Hotline")]
)
def test_the_status_page_gives_the_hotline_of_the_persons_crisis_in_each_language(
    world: World, lang: str, label: str
) -> None:
    _hotline(world, world.crisis, "8 7172 72 00 00", "24/7")
    _hotline(world, world.other_crisis, "+971 4 222 2222")
    page = _signed_in(_person(world), HTTP_ACCEPT_LANGUAGE=lang).get("/status/me/")
    html = page.content.decode()
    assert page.status_code == 200 and f'<html lang="{lang}">' in html
    assert f'<p class="hotline">{label}: <a {HOTLINE}</p>' in html
    assert GULF not in html, "only the person's own crisis"
    assert "Iran 2026" not in html, "one crisis: no name"
    assert len(page.content) < 30_000 and "<script" not in html


def test_the_done_page_gives_the_hotline_of_the_crisis_registered_in(world: World) -> None:
    _hotline(world, world.crisis, "+7 7172 72 00 00", "24/7")
    _hotline(world, world.other_crisis, "+971 4 222 2222")
    client = Client()
    assert client.post("/register/", form_data(client, [MOTHER])).status_code == 302
    done = client.get("/register/done/").content.decode()
    assert re.search(r"<code>[A-Z0-9]{4}-[A-Z0-9]{4}</code>", done)
    assert HOTLINE in done and GULF not in done


def test_over_the_limit_the_form_gives_the_chosen_crisis_hotline(
    world: World, settings: Any
) -> None:
    settings.AMAN_PUBLIC_REGISTRATIONS_PER_HOUR = 1
    _hotline(world, world.crisis, "+7 7172 72 00 00", "24/7")
    client = Client()
    assert client.post("/register/", form_data(client, [MOTHER])).status_code == 302
    over = client.post("/register/", form_data(client, [SON]))
    page = over.content.decode()
    assert over.status_code == 429
    assert "call the Ministry&#x27;s hotline, which can register you by phone" in page
    assert HOTLINE in page


def test_without_a_number_the_words_stay_and_there_is_no_link(world: World, settings: Any) -> None:
    settings.AMAN_PUBLIC_UPDATES_PER_HOUR = 0
    client = _signed_in(_person(world))
    status = client.get("/status/me/").content.decode()
    assert "tel:" not in status and 'class="hotline"' not in status
    over = client.post("/status/me/", {"needs_note": "insulin"})
    page = over.content.decode()
    assert over.status_code == 429 and "or call the Ministry&#x27;s hotline." in page
    assert "tel:" not in page
    # A number given later shows at once (the crisis is read again after a change).
    _hotline(world, world.crisis, "+7 7172 72 00 00", "24/7")
    assert HOTLINE in client.get("/status/me/").content.decode()


def test_a_page_without_a_crisis_lists_every_open_crisis_and_names_them_when_several(
    world: World, settings: Any
) -> None:
    """The status look-up has no crisis: over its limit, it gives every open crisis's
    number (a crisis registering by telephone only counts too), with the crisis's name when
    more than one crisis is open."""
    settings.AMAN_PUBLIC_LOOKUPS_PER_15_MINUTES = 0
    _hotline(world, world.crisis, "+7 7172 72 00 00", "24/7")
    _hotline(world, world.other_crisis, "+971 4 222 2222")

    def lookup() -> str:
        client = Client()
        response = client.post(
            "/status/", {"reference_code": "AAAABBBB", "birth_date": "1980-01-01"}
        )
        assert response.status_code == 429
        return response.content.decode()

    page = lookup()
    assert f"<li>Gulf 2026: <a {GULF}</li>" in page
    assert f"<li>Iran 2026: <a {HOTLINE}</li>" in page
    crisis_close(actor=None, crisis=world.other_crisis)
    page = lookup()
    assert f'<p class="hotline">Hotline: <a {HOTLINE}</p>' in page
    assert "Iran 2026" not in page and GULF not in page


def test_registration_closed_gives_the_hotline_of_a_crisis_still_open(world: World) -> None:
    """No crisis takes registrations on the form, but one is open (by telephone): the page
    saying "call the hotline" gives its number."""
    Crisis.objects.update(public_registration=False)
    crisis_close(actor=None, crisis=world.other_crisis)
    _hotline(world, world.crisis, "+7 7172 72 00 00", "24/7")
    page = Client().get("/register/").content.decode()
    assert "Registration is not open" in page and HOTLINE in page
    crisis_close(actor=None, crisis=world.crisis)
    page = Client().get("/register/").content.decode()
    assert "Registration is not open" in page and "tel:" not in page


def test_a_closed_crisis_no_longer_gives_its_number_to_its_people(world: World) -> None:
    _hotline(world, world.crisis, "+7 7172 72 00 00", "24/7")
    client = _signed_in(_person(world))
    assert HOTLINE in client.get("/status/me/").content.decode()
    crisis_close(actor=None, crisis=world.crisis)
    assert "tel:" not in client.get("/status/me/").content.decode()
