"""The status page's updates through Django's test client: an answer to "do you want to
leave?" moves the status as the planner needs it, a new place keeps what it should (the
city, the household) and drops what belonged to the old place, and updates are
rate-limited."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from aman.core.models import AuditEntry, Crisis
from aman.core.roles import Role
from aman.geo.models import Place
from aman.planning.services import leaving_members
from aman.registry.models import IntakeRecord, Person, StatusEvent
from aman.registry.services import person_set_status, registration_submit
from tests.conftest import World


@pytest.fixture(autouse=True)
def _public(world: World) -> None:
    cache.clear()
    Crisis.objects.filter(pk=world.crisis.pk).update(public_registration=True)


def _family(world: World, *, location: dict[str, Any] | None = None, n: int = 2) -> list[Person]:
    members = [
        {"surname": "Сейітова", "given_names": "Дана", "birth_date": "1988-02-29", "sex": "F"},
        {"surname": "Сейітов", "given_names": "Ерлан", "birth_date": "2016-06-01", "sex": "M"},
        {"surname": "Сейітов", "given_names": "Асқар", "birth_date": "1985-01-01", "sex": "M"},
    ][:n]
    record = registration_submit(
        crisis=world.crisis,
        channel="api",
        payload={
            "members": members,
            "location": location or {"country": "IR", "city": "Tehran", "address": "Hotel Azadi"},
            "consent": True,
        },
    )
    return list(record.people.order_by("id"))


def _signed_in(person: Person) -> Client:
    client = Client()
    response = client.post(
        "/status/",
        {"reference_code": person.reference_code, "birth_date": person.birth_date.isoformat()},
    )
    assert response["Location"] == "/status/me/"
    return client


def _checked(response: Any) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_a_declined_person_who_wants_to_leave_is_registered_again_and_planned(
    world: World,
) -> None:
    dana, _son = _family(world)
    person_set_status(actor=None, person=dana, status="declined")
    client = _signed_in(dana)
    page = _checked(client.get("/status/me/"))
    # Their wish on record is still "leave": the question is shown unanswered, so that a
    # save of something else does not register them again.
    assert 'value="leave" checked' not in page and "Declined the offer" in page
    _checked(client.post("/status/me/", {"phone": "+98 912 345 6789"}))
    dana.refresh_from_db()
    assert dana.status == "declined"
    assert dana not in leaving_members([dana.household_id])[dana.household_id]
    page = _checked(client.post("/status/me/", {"intent": "leave"}))
    dana.refresh_from_db()
    assert dana.status == "registered" and dana.intent == "leave"
    assert "You are registered again" in page and "Registered" in page
    event = StatusEvent.objects.filter(person=dana).first()
    assert event is not None and (event.previous, event.status) == ("declined", "registered")
    assert event.note == "Said on the status page that they want to leave."
    assert dana in leaving_members([dana.household_id])[dana.household_id]
    entry = AuditEntry.objects.filter(verb="person_set_status", object_id=str(dana.pk)).latest("id")
    assert entry.changes == {"status": ["declined", "registered"]} and entry.actor is None


def test_a_person_who_stays_is_staying_and_leaves_the_plan(world: World) -> None:
    dana, _son = _family(world)
    client = _signed_in(dana)
    page = _checked(client.post("/status/me/", {"intent": "stay"}))
    dana.refresh_from_db()
    assert (dana.status, dana.intent) == ("staying", "stay")
    assert "you are staying" in page
    assert dana not in leaving_members([dana.household_id]).get(dana.household_id, [])
    # Saving again (the answer now preselected) changes nothing more.
    _checked(client.post("/status/me/", {"intent": "stay", "needs_note": "insulin"}))
    assert StatusEvent.objects.filter(person=dana).count() == 2  # registered, staying
    # …and a change of mind registers them again.
    _checked(client.post("/status/me/", {"intent": "leave"}))
    dana.refresh_from_db()
    assert dana.status == "registered"


def test_staying_with_a_place_on_an_evacuation_says_to_call(world: World) -> None:
    dana, _son = _family(world)
    person_set_status(actor=None, person=dana, status="assigned")
    page = _checked(_signed_in(dana).post("/status/me/", {"intent": "stay"}))
    dana.refresh_from_db()
    assert (dana.status, dana.intent) == ("assigned", "stay")
    assert "You already have a place on an evacuation" in page


def test_an_officer_changing_the_intent_moves_the_status_too(world: World) -> None:
    dana, _son = _family(world)
    person_set_status(actor=None, person=dana, status="declined")
    api = world.api(Role.OPERATOR)
    patch = api.patch(f"/api/people/{dana.pk}", {"intent": "stay"}, content_type="application/json")
    assert patch.status_code == 200 and patch.json()["status"] == "staying"
    patch = api.patch(
        f"/api/people/{dana.pk}", {"intent": "leave"}, content_type="application/json"
    )
    assert patch.status_code == 200 and patch.json()["status"] == "registered"
    event = StatusEvent.objects.filter(person=dana).first()
    assert event is not None and event.actor == world.users[Role.OPERATOR]
    assert event.note == "An officer recorded that the person wants to leave."


def test_a_typed_city_of_the_reference_data_is_that_city(world: World) -> None:
    tehran = Place.objects.get(kind="city", country__code="IR", name="Tehran")
    dana, son = _family(world, location={"country": "IR", "city": " tehrán ", "address": "Azadi"})
    assert (dana.city_id, dana.address) == (tehran.pk, "Azadi")
    assert son.city_id == tehran.pk
    # The intake record keeps what was sent.
    assert dana.intake_records.get().payload["location"]["city"] == " tehrán "


def test_only_an_address_keeps_the_typed_city(world: World) -> None:
    dana, _son = _family(
        world, location={"country": "IR", "city": "Pardis Town", "address": "Hotel Azadi"}
    )
    assert dana.city_id is None and dana.address == "Pardis Town, Hotel Azadi"
    _checked(_signed_in(dana).post("/status/me/", {"address": "Hotel Espinas"}))
    dana.refresh_from_db()
    assert dana.address == "Pardis Town, Hotel Espinas" and dana.city_id is None


def test_only_an_address_keeps_the_chosen_city_and_drops_the_old_coordinates(
    world: World,
) -> None:
    tehran = Place.objects.get(kind="city", country__code="IR", name="Tehran")
    dana, _son = _family(
        world,
        location={
            "country": "IR",
            "city_id": tehran.pk,
            "address": "Hotel Azadi",
            "latitude": 35.78,
            "longitude": 51.38,
        },
    )
    page = _checked(_signed_in(dana).post("/status/me/", {"address": "Hotel Espinas"}))
    dana.refresh_from_db()
    assert (dana.city_id, dana.address) == (tehran.pk, "Hotel Espinas")
    assert (dana.latitude, dana.longitude) == (None, None)
    assert "Where we have you: <strong>Tehran, Hotel Espinas</strong>" in page


def test_a_new_city_replaces_the_city_and_the_old_place(world: World) -> None:
    tehran = Place.objects.get(kind="city", country__code="IR", name="Tehran")
    dana, _son = _family(
        world,
        location={
            "country": "IR",
            "city_id": tehran.pk,
            "address": "Hotel Azadi",
            "latitude": 35.78,
            "longitude": 51.38,
        },
    )
    client = _signed_in(dana)
    _checked(client.post("/status/me/", {"city": "tabriz"}))
    dana.refresh_from_db()
    assert dana.city is not None and dana.city.name == "Tabriz"
    assert (dana.address, dana.latitude, dana.longitude) == ("", None, None)
    # The Russian name is read the same way; the same city again with an address keeps it.
    _checked(client.post("/status/me/", {"city": "Тебриз", "address": "Hotel Gostaresh"}))
    dana.refresh_from_db()
    assert dana.city is not None and dana.city.name == "Tabriz"
    assert dana.address == "Hotel Gostaresh"
    # A city not in the reference data is kept typed, in front of the address.
    _checked(client.post("/status/me/", {"city": "Kandovan", "address": "Guest house 4"}))
    dana.refresh_from_db()
    assert (dana.city_id, dana.address) == (None, "Kandovan, Guest house 4")
    updates = IntakeRecord.objects.filter(kind="update").order_by("id")
    assert [r.payload.get("city") for r in updates] == ["tabriz", "Тебриз", "Kandovan"]


def test_the_place_is_the_whole_households_unless_unticked(world: World) -> None:
    dana, son, husband = _family(world, n=3)
    person_set_status(actor=None, person=husband, status="crossed_border")
    client = _signed_in(dana)
    page = _checked(client.get("/status/me/"))
    assert re.search(r'<input type="checkbox" name="household"[^>]* checked>', page)
    page = _checked(client.post("/status/me/", {"city": "Tabriz", "household": "on"}))
    assert "also recorded for 1 other person of your household" in page
    for person in (dana, son, husband):
        person.refresh_from_db()
    assert dana.city == son.city and son.city is not None and son.city.name == "Tabriz"
    assert husband.city.name == "Tehran" and husband.address == "Hotel Azadi", "out already"
    record = IntakeRecord.objects.filter(kind="update").get()
    assert record.payload["household"] is True
    assert set(record.people.all()) == {dana, son}
    entries = AuditEntry.objects.filter(verb="person_update_self").order_by("id")
    assert [e.object_id for e in entries] == [str(son.pk), str(dana.pk)]
    # Unticked: only the person's own place.
    _checked(client.post("/status/me/", {"address": "Hotel Gostaresh"}))
    son.refresh_from_db()
    dana.refresh_from_db()
    assert dana.address == "Hotel Gostaresh" and son.address == ""
    assert IntakeRecord.objects.filter(kind="update").latest("id").payload["household"] is False


def test_someone_alone_is_not_asked_about_a_household(world: World) -> None:
    [dana] = _family(world, n=1)
    page = _checked(_signed_in(dana).get("/status/me/"))
    assert 'name="household"' not in page


def test_updates_are_rate_limited_per_address(world: World, settings: Any) -> None:
    settings.AMAN_PUBLIC_UPDATES_PER_HOUR = 2
    dana, _son = _family(world)
    client = _signed_in(dana)
    for note in ("one", "two"):
        _checked(client.post("/status/me/", {"needs_note": note}))
    response = client.post("/status/me/", {"needs_note": "three"})
    assert response.status_code == 429
    assert "Too many updates came from your connection" in response.content.decode()
    assert IntakeRecord.objects.filter(kind="update").count() == 2
    assert client.get("/status/me/").status_code == 200, "reading the page is not limited"


def test_a_refused_update_is_kept_as_the_persons_rejected_update(world: World) -> None:
    dana, son = _family(world)
    client = _signed_in(dana)
    page = _checked(
        client.post("/status/me/", {"email": "dana@", "needs_note": "insulin", "city": "Tabriz"})
    )
    assert 'class="error"' in page and 'value="dana@"' in page
    kept = IntakeRecord.objects.get(outcome="rejected")
    assert kept.kind == "update" and kept.channel == "public_web"
    assert kept.source_ref == dana.reference_code and kept.country_id == dana.country_id
    assert set(kept.rejection_reasons) == {"email"}
    assert kept.payload == {"email": "dana@", "needs_note": "insulin", "city": "Tabriz"}
    assert not kept.people.exists() and son.reference_code not in str(kept.payload)
    dana.refresh_from_db()
    assert dana.needs_note != "insulin", "nothing of a refused update is applied"
    assert AuditEntry.objects.filter(verb="intake_reject", object_id=str(kept.pk)).exists()


def _countries_offered(page: str) -> list[str]:
    select = page.split('<select name="country"', 1)[1].split("</select>", 1)[0]
    return re.findall(r'<option value="(\w+)"', select)


def test_someone_who_crossed_into_a_neighbouring_country_says_so(world: World) -> None:
    """From Tehran into Azerbaijan (not an affected country): the country and the city
    change — the city read in the new country — for the household too, and the update is
    an intake record of the person, audited, listed on the person page."""
    tehran = Place.objects.get(kind="city", country__code="IR", name="Tehran")
    baku = Place.objects.get(kind="city", country__code="AZ", name="Baku")
    dana, son = _family(
        world,
        location={
            "country": "IR",
            "city_id": tehran.pk,
            "address": "Hotel Azadi",
            "latitude": 35.78,
            "longitude": 51.38,
        },
    )
    client = _signed_in(dana)
    page = _checked(client.get("/status/me/"))
    # The affected countries, the countries beyond their crossings, the missions' countries;
    # not the home country. The person's own comes chosen.
    offered = _countries_offered(page)
    assert {"IR", "IQ", "AZ", "AM", "TR", "TM", "AE"} <= set(offered) and "KZ" not in offered
    assert '<option value="IR" selected>' in page
    page = _checked(
        client.post(
            "/status/me/",
            {"country": "AZ", "city": "Баку", "address": "Hotel Central", "household": "on"},
        )
    )
    assert "Where we have you: <strong>Baku, Hotel Central</strong>, Azerbaijan" in page
    assert '<option value="AZ" selected>' in page
    for person in (dana, son):
        person.refresh_from_db()
        assert person.country.code == "AZ" and person.city == baku
        assert (person.address, person.latitude, person.longitude) == ("Hotel Central", None, None)
    record = IntakeRecord.objects.get(kind="update")
    assert record.outcome == "accepted" and record.channel == "public_web"
    assert {k: record.payload[k] for k in ("country", "city", "address", "household")} == {
        "country": "AZ",
        "city": "Баку",
        "address": "Hotel Central",
        "household": True,
    }
    assert set(record.people.all()) == {dana, son}
    entry = AuditEntry.objects.filter(verb="person_update_self", object_id=str(dana.pk)).get()
    assert entry.changes["fields"] == [None, ["country", "location"]]
    assert entry.changes["intake_record"] == [None, record.pk]
    assert AuditEntry.objects.filter(verb="person_update_self", object_id=str(son.pk)).exists()
    # The operator sees where the person is now, and the update among their intake records.
    world.users[Role.OPERATOR].refresh_from_db()
    detail = world.client(Role.OPERATOR).get(f"/people/{dana.pk}/").content.decode()
    assert "Azerbaijan, Baku — Hotel Central" in detail
    records = detail.split('id="intake-records"', 1)[1].split("</ol>", 1)[0]
    assert "· update · AZ, Баку, Hotel Central</li>" in records
    assert "· registration · IR, Hotel Azadi</li>" in records


def test_another_country_without_a_city_leaves_no_city_of_the_old_one(world: World) -> None:
    tehran = Place.objects.get(kind="city", country__code="IR", name="Tehran")
    [dana] = _family(
        world, n=1, location={"country": "IR", "city_id": tehran.pk, "address": "Hotel Azadi"}
    )
    client = _signed_in(dana)
    page = _checked(client.post("/status/me/", {"country": "TR"}))
    dana.refresh_from_db()
    assert (dana.country.code, dana.city_id, dana.address) == ("TR", None, "")
    assert "Where we have you: <strong>Türkiye</strong>" in page
    # A city typed in the new country is read there: Tabriz is a city of Iran, not of
    # Azerbaijan, so it is kept as typed, in front of the address.
    _checked(client.post("/status/me/", {"country": "AZ", "city": "Tabriz", "address": "Camp 2"}))
    dana.refresh_from_db()
    assert (dana.country.code, dana.city_id, dana.address) == ("AZ", None, "Tabriz, Camp 2")
    # The country sent again as it is (the form always sends it) moves nothing.
    _checked(client.post("/status/me/", {"country": "AZ", "needs_note": "insulin"}))
    dana.refresh_from_db()
    assert (dana.country.code, dana.address, dana.needs_note) == ("AZ", "Tabriz, Camp 2", "insulin")
    last = IntakeRecord.objects.filter(kind="update").latest("id")
    assert "country" not in last.payload
    assert IntakeRecord.objects.filter(kind="update", outcome="accepted").count() == 3


def test_a_country_further_away_is_chosen_from_the_whole_list(world: World) -> None:
    [dana] = _family(world, n=1)
    client = _signed_in(dana)
    page = _checked(client.get("/status/me/"))
    assert "RU" not in _countries_offered(page)
    assert '<a href="?countries=all">My country is not in the list</a>' in page
    # Not offered on the short list: refused like any bad choice, and kept as refused.
    page = _checked(client.post("/status/me/", {"country": "RU", "city": "Moscow"}))
    assert "Select a valid choice" in page
    kept = IntakeRecord.objects.get(kind="update", outcome="rejected")
    assert kept.payload == {"country": "RU", "city": "Moscow"}
    dana.refresh_from_db()
    assert dana.country.code == "IR"
    # The whole list (a link, no JavaScript): every country but the home country.
    page = _checked(client.get("/status/me/?countries=all"))
    offered = _countries_offered(page)
    assert "RU" in offered and "KZ" not in offered and len(offered) > 200
    assert "My country is not in the list" not in page
    _checked(client.post("/status/me/?countries=all", {"country": "RU", "city": "Moscow"}))
    dana.refresh_from_db()
    assert (dana.country.code, dana.city_id, dana.address) == ("RU", None, "Moscow")
    # Back on the short page, the person's own country is offered, chosen.
    page = _checked(client.get("/status/me/"))
    assert '<option value="RU" selected>' in page


def test_an_unknown_country_is_refused_by_the_service_and_kept(world: World) -> None:
    from aman.registry.services import RegistrationRejected, person_update_self

    [dana] = _family(world, n=1)
    with pytest.raises(RegistrationRejected) as refused:
        person_update_self(person=dana, payload={"country": "XX", "city": "Nowhere"})
    assert [p.field for p in refused.value.problems] == ["country"]
    kept = IntakeRecord.objects.get(kind="update", outcome="rejected")
    assert kept.rejection_reasons == {"country": "Unknown country XX."}
    dana.refresh_from_db()
    assert dana.country.code == "IR"
