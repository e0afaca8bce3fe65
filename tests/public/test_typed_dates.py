"""A birth date typed where the phone has no date picker: `02.03.1954` is the 2nd of March
in every language; slashes and two-digit years are refused with how to type it, never read
the other way round."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from aman.core.models import Crisis
from aman.core.roles import Role
from aman.registry.models import IntakeRecord, Person
from tests.conftest import World
from tests.public.test_public_pages import MOTHER, form_data
from tests.registry.test_hotline import hotline_data


@pytest.fixture(autouse=True)
def _public(world: World) -> None:
    cache.clear()
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_a_typed_birth_date_is_read_day_first_in_every_language(world: World, lang: str) -> None:
    client = Client(headers={"accept-language": lang})
    client.cookies["django_language"] = lang
    response = client.post(
        "/register/",
        form_data(client, [{**MOTHER, "birth_date": "02.03.1954"}]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Person.objects.get(given_names="Дана").birth_date.isoformat() == "1954-03-02"


@pytest.mark.parametrize("typed", ["02/03/1954", "02.03.54"])
def test_slashes_and_two_digit_years_are_refused_with_how_to_type_it(
    world: World, typed: str
) -> None:
    client = Client(headers={"accept-language": "en"})
    page = client.post("/register/", form_data(client, [{**MOTHER, "birth_date": typed}]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Enter the date as dd.mm.yyyy, for example 02.03.1954." in html
    assert not Person.objects.filter(given_names="Дана").exists()
    kept = IntakeRecord.objects.get(outcome="rejected")
    assert "members.0.birth_date" in kept.rejection_reasons


def test_the_hotline_reads_a_typed_date_day_first(world: World) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client, [{"surname": "Жұмабек", "given_names": "Нұрлан", "birth_date": "02.03.1954"}]
    )
    response = client.post("/people/new/", data, follow=True)
    assert "Registered. Reference codes" in response.content.decode()
    assert Person.objects.get(given_names="Нұрлан").birth_date.isoformat() == "1954-03-02"
    data = hotline_data(
        client, [{"surname": "Омаров", "given_names": "Ерлан", "birth_date": "03/02/1980"}]
    )
    html = client.post("/people/new/", data).content.decode()
    assert "Enter the date as dd.mm.yyyy" in html
    assert not Person.objects.filter(given_names="Ерлан").exists()
