"""The passport Latin name (and the passport's issuing state) on the hotline and public
forms: kept as given, never transliterated over."""

from __future__ import annotations

from django.test import Client

from aman.core.models import Crisis
from aman.core.roles import Role
from aman.registry.models import Person
from tests.conftest import World
from tests.public.test_public_pages import MOTHER, form_data
from tests.registry.test_hotline import hotline_data


def test_the_hotline_takes_the_latin_name_and_the_issuing_state(world: World) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client,
        [
            {
                "surname": "Қасымов",
                "given_names": "Бауыржан",
                "passport": "n 1234 5678",
                "passport_issuing_state": "kaz",
                "surname_latin": "Kassymov",
                "given_names_latin": "Baurzhan",
            },
            {
                "surname": "Қасымова",
                "given_names": "Мадина",
                "surname_latin": "kassymova",
                "given_names_latin": "madina",
            },
        ],
    )
    assert client.post("/people/new/", data).status_code == 302
    father = Person.objects.get(given_names="Бауыржан")
    passport = father.documents.get()
    assert (passport.issuing_state, passport.surname_latin) == ("KAZ", "KASSYMOV")
    assert (father.surname_latin, father.given_names_latin) == ("KASSYMOV", "BAURZHAN")
    assert father.latin_from_document
    daughter = Person.objects.get(given_names="Мадина")
    assert (daughter.surname_latin, daughter.latin_from_document) == ("KASSYMOVA", True)
    # Not transliterated over when the native name is corrected.
    from aman.registry.services import person_update

    person_update(actor=None, person=daughter, payload={"surname": "Қасым"})
    assert Person.objects.get(pk=daughter.pk).surname_latin == "KASSYMOVA"


def test_the_hotline_refuses_a_latin_name_in_another_script(world: World) -> None:
    client = world.client(Role.OPERATOR)
    data = hotline_data(
        client,
        [
            {
                "surname": "Қасымов",
                "given_names": "Бауыржан",
                "surname_latin": "Қасымов",
                "passport": "N12345678",
                "passport_issuing_state": "QQQ",
            }
        ],
    )
    page = client.post("/people/new/", data).content.decode()
    assert 'id="id_m-0-surname_latin_errors"' in page and "Latin letters" in page
    data["m-0-surname_latin"] = "KASSYMOV"
    page = client.post("/people/new/", data).content.decode()
    assert 'id="id_m-0-passport_issuing_state_errors"' in page
    assert "Unknown issuing state" in page
    assert not Person.objects.filter(given_names="Бауыржан").exists()


def test_the_public_form_takes_the_name_as_in_the_passport(world: World) -> None:
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)
    from django.core.cache import cache

    cache.clear()
    client = Client()
    page = client.get("/register/").content.decode()
    assert "Surname as in the passport (Latin letters)" in page
    data = form_data(client, [{**MOTHER, "surname_latin": "Seyitova", "given_names_latin": "Дана"}])
    page = client.post("/register/", data).content.decode()
    assert "Latin letters" in page
    assert not Person.objects.filter(given_names="Дана").exists()
    data["m-0-given_names_latin"] = "Dana"
    assert client.post("/register/", data).status_code == 302
    dana = Person.objects.get(given_names="Дана")
    assert (dana.surname_latin, dana.given_names_latin) == ("SEYITOVA", "DANA")
    assert dana.documents.get().surname_latin == "SEYITOVA"
