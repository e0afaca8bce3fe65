"""The people list and the person page in the operator UI."""

from __future__ import annotations

from typing import Any

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Person
from aman.registry.services import registration_submit
from tests.conftest import World


def test_people_list_filters_and_searches(world: World, family: dict[str, Any]) -> None:
    registration_submit(crisis=world.crisis, channel="hotline", payload=family)
    client = world.client(Role.OPERATOR)
    html = client.get("/people/", {"q": "Нұрлан"}).content.decode()
    assert "NURLAN" in html and "Сейітов" not in html
    html = client.get("/people/", {"min_priority": 5}).content.decode()
    assert "AIGUL" in html and "NURLAN" in html and "ALIKHAN" not in html
    html = client.get("/people/", {"country": "IQ"}).content.decode()
    assert "Сейітов" in html and "Жұмабек" not in html
    assert AuditEntry.objects.filter(verb="people_search").count() == 1
    listed = AuditEntry.objects.filter(verb="people_list").order_by("id")
    assert [e.changes["filters"] for e in listed] == [["min_priority"], ["country"]]
    assert "Нұрлан" not in str(list(AuditEntry.objects.values_list("changes", flat=True)))


def test_person_page_shows_the_household_and_journey_and_is_audited(
    world: World, family: dict[str, Any]
) -> None:
    record = registration_submit(crisis=world.crisis, channel="hotline", payload=family)
    nurlan = record.people.get(given_names="Нұрлан")
    client = world.client(Role.CONSUL)
    html = client.get(f"/people/{nurlan.pk}/").content.decode()
    assert "N12345678" in html and "+77011234567" in html
    assert "Жұмабекова Айгүл" in html and "insulin" in html
    assert "medical need" in html
    response = client.post(
        f"/people/{nurlan.pk}/status/", {"status": "verified", "note": "called back"}
    )
    assert response.status_code == 302
    html = client.get(f"/people/{nurlan.pk}/").content.decode()
    assert "called back" in html
    assert Person.objects.get(pk=nurlan.pk).status == "verified"
    assert AuditEntry.objects.filter(verb="person_detail", object_id=str(nurlan.pk)).count() == 2


def test_a_senseless_step_is_refused_with_a_message(world: World, family: dict[str, Any]) -> None:
    pk = world.people["IR"]
    client = world.client(Role.OPERATOR)
    client.post(f"/people/{pk}/status/", {"status": "arrived_home"})
    response = client.post(f"/people/{pk}/status/", {"status": "boarded"}, follow=True)
    assert (
        "Choose a status" in response.content.decode()
        or "cannot go from" in response.content.decode()
    )
    assert Person.objects.get(pk=pk).status == "arrived_home"


def test_people_list_filters_by_mission_area(world: World) -> None:
    client = world.client(Role.OPERATOR)
    html = client.get("/people/", {"mission": world.tehran.pk}).content.decode()
    assert html.count("Сейітов") == 1  # the person in Iran, not the one in Iraq
    assert world.tehran.name in html


def test_a_local_number_of_an_affected_country_finds_its_person(
    world: World, family: dict[str, Any]
) -> None:
    """A person registered with an Iranian SIM (+98) is found by the number as a caller
    reads it from their phone, without the country code."""
    family["members"][0]["phones"] = ["+98 912 345 6789"]
    registration_submit(crisis=world.crisis, channel="hotline", payload=family)
    client = world.client(Role.OPERATOR)
    html = client.get("/people/", {"q": "0912 345 6789"}).content.decode()
    assert "NURLAN" in html and "AIGUL" not in html
    html = client.get("/people/", {"q": "+989123456789"}).content.decode()
    assert "NURLAN" in html
    # The home country's reading still works.
    family["members"][0]["phones"] = ["8 701 999 88 77"]
    family["members"][0]["surname"] = "Омаров"
    family["members"][0]["documents"] = []
    registration_submit(crisis=world.crisis, channel="hotline", payload=family)
    html = client.get("/people/", {"q": "8 701 999 88 77"}).content.decode()
    assert "Омаров" in html or "OMAROV" in html


def test_people_list_filters_by_a_typed_city(world: World, family: dict[str, Any]) -> None:
    """The API's `city_id` filter, on the page as a city typed in any of its names."""
    registration_submit(crisis=world.crisis, channel="hotline", payload=family)
    assert Person.objects.filter(city__name="Tehran").count() == 3
    client = world.client(Role.OPERATOR)
    for typed in ("Tehran", "Тегеран", "tehran"):
        html = client.get("/people/", {"city": typed}).content.decode()
        assert "NURLAN" in html and "AIGUL" in html, typed
    html = client.get("/people/", {"city": "Shiraz"}).content.decode()
    assert "NURLAN" not in html
    html = client.get("/people/", {"city": "Atlantis"}).content.decode()
    assert "No city of that name in the crisis&#x27;s countries: IQ, IR." in html
    assert "NURLAN" not in html
