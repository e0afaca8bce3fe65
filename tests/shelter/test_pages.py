"""The shelter pages through the Django test client: hotels, room blocks, assignment
(suggest + confirm, and the room taken meanwhile), stays' status and nights, occupancy, the
daily list and its CSV, and who may see them."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Household, ImportSource, Person
from aman.shelter.models import Hotel, RoomBlock, Stay, StayNight, StayStatus, TourOperator
from aman.shelter.services import household_house
from aman.shelter.views import hotel_today
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household

pytestmark = pytest.mark.django_db

LOGISTICS = Role.LOGISTICS


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _members(household: Household) -> list[Person]:
    return list(Person.objects.filter(household=household).order_by("id"))


def _passport(person: Person) -> str:
    latin = f"{person.surname_latin} {person.given_names_latin}".strip()
    return latin or f"{person.surname} {person.given_names}"


def _day(hotel: Hotel, days: int = 0) -> str:
    return (hotel_today(hotel) + timedelta(days=days)).isoformat()


# Hotels -----------------------------------------------------------------------------------------


def test_create_a_hotel_on_the_page_and_see_its_errors(world: World) -> None:
    client = world.client(LOGISTICS)
    operator = TourOperator.objects.create(name="Kompas Tour")
    page = client.get("/shelter/hotels/new/")
    assert page.status_code == 200 and 'list="countries"' in page.content.decode()

    missing = client.post("/shelter/hotels/new/", {"country": "AZ"})
    assert missing.status_code == 200
    assert 'id="id_name_errors"' in missing.content.decode()
    bad = client.post("/shelter/hotels/new/", {"name": "Hotel Absheron", "country": "XX"})
    assert bad.status_code == 200
    assert "A country (ISO code)." in _text(bad)
    assert 'id="id_country_errors"' in bad.content.decode()
    assert not Hotel.objects.exists()

    response = client.post(
        "/shelter/hotels/new/",
        {
            "name": "Hotel Absheron",
            "country": "az",
            "address": "Azadlig Square 1, Baku",
            "latitude": "40.3725",
            "longitude": "49.8533",
            "phone": "+994 12 498 00 00",
            "tour_operator": str(operator.pk),
        },
    )
    hotel = Hotel.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/shelter/hotels/{hotel.pk}/"
    assert hotel.place.name == "Hotel Absheron" and hotel.place.country.code == "AZ"
    assert hotel.tour_operator == operator and hotel.crisis == world.crisis
    assert hotel.place.timezone == "Asia/Baku"

    # Changing one field keeps the others.
    edit = client.post(
        f"/shelter/hotels/{hotel.pk}/edit/",
        {**{k: v for k, v in _hotel_initial(hotel).items()}, "phone": "+994 12 111 11 11"},
    )
    assert edit.status_code == 302
    hotel.refresh_from_db()
    assert hotel.phone == "+994 12 111 11 11" and hotel.place.name == "Hotel Absheron"

    listing = _text(client.get("/shelter/"))
    assert "Hotel Absheron" in listing and "Kompas Tour" in listing
    for url in ("/shelter/ledger/", "/shelter/rates/", "/shelter/assign/", "/shelter/occupancy/"):
        assert url in listing


def _hotel_initial(hotel: Hotel) -> dict[str, str]:
    from aman.shelter.forms import HotelForm

    return {k: "" if v is None else str(v) for k, v in HotelForm.initial_for(hotel).items()}


def test_hotel_list_counts_rooms_and_beds_free_tonight(world: World, logistics: Any) -> None:
    hotel = make_hotel(world, name="Hotel Caspian Tonight")
    make_block(hotel, world, rooms=3, beds=4, first_night=hotel_today(hotel))
    make_block(hotel, world, room_type="double", beds=2, rooms=2, first_night=hotel_today(hotel))
    household = register_household(world, 3)
    household_house(
        actor=logistics,
        crisis=world.crisis,
        household=household,
        hotel=hotel,
        first_night=_day(hotel),
        last_night=_day(hotel, 1),
    )
    page = world.client(LOGISTICS).get("/shelter/")
    row = re.search(rf'<tr id="hotel-{hotel.pk}".*?</tr>', page.content.decode(), re.S)
    assert row is not None
    cells = [c.strip() for c in re.findall(r'<td class="text-end[^"]*">(\d+)</td>', row.group(0))]
    # 5 rooms, 1 taken (a family room for 3), 4 free; beds free: 2×4 + 2×2 = 12.
    assert cells == ["5", "1", "4", "12"]


# Room blocks ------------------------------------------------------------------------------------


def _block_form(hotel: Hotel, **overrides: Any) -> dict[str, Any]:
    data = {
        "room_type": "family",
        "beds": "",
        "rooms": "4",
        "first_night": _day(hotel),
        "last_night": _day(hotel, 6),
        "rate": "95,50",
        "currency": "azn",
        "meals": "breakfast",
        "payer": "state",
        "tour_operator": "",
        "contract_ref": "AZ-2026-17",
        "notes": "",
    }
    data.update(overrides)
    return data


def test_add_rooms_to_a_hotel_and_see_the_errors(world: World, logistics: Any) -> None:
    hotel = make_hotel(world)
    client = world.client(LOGISTICS)
    assert client.get(f"/shelter/hotels/{hotel.pk}/blocks/new/").status_code == 200

    bad = client.post(
        f"/shelter/hotels/{hotel.pk}/blocks/new/",
        _block_form(hotel, first_night=_day(hotel, 3), last_night=_day(hotel, 1)),
    )
    assert bad.status_code == 200
    assert "Before the first night." in _text(bad)
    assert 'id="id_last_night_errors"' in bad.content.decode()
    operator_missing = client.post(
        f"/shelter/hotels/{hotel.pk}/blocks/new/", _block_form(hotel, payer="tour_operator")
    )
    assert operator_missing.status_code == 200
    assert "required when a tour operator pays" in _text(operator_missing)
    assert not RoomBlock.objects.exists()

    ok = client.post(f"/shelter/hotels/{hotel.pk}/blocks/new/", _block_form(hotel))
    assert ok.status_code == 302
    block = RoomBlock.objects.get()
    assert (block.beds, block.rooms, block.currency, str(block.rate)) == (4, 4, "AZN", "95.50")

    detail = client.get(f"/shelter/hotels/{hotel.pk}/")
    assert detail.status_code == 200
    row = re.search(rf'<tr id="block-{block.pk}">.*?</tr>', detail.content.decode(), re.S)
    assert row is not None and "28" in row.group(0)  # 4 rooms × 7 nights

    # A room in use cannot be taken away: house two households, then shrink to one room.
    for _i in range(2):
        household_house(
            actor=logistics,
            crisis=world.crisis,
            household=register_household(world, 3),
            hotel=hotel,
            first_night=_day(hotel),
            last_night=_day(hotel, 1),
        )
    shrink = client.post(
        f"/shelter/blocks/{block.pk}/edit/", {**_block_form(hotel), "beds": "4", "rooms": "1"}
    )
    assert shrink.status_code == 200
    assert "Rooms above this number are held" in _text(shrink)
    assert 'id="rooms-held"' in _text(shrink)
    block.refresh_from_db()
    assert block.rooms == 4
    grow = client.post(
        f"/shelter/blocks/{block.pk}/edit/", {**_block_form(hotel), "beds": "4", "rooms": "6"}
    )
    assert grow.status_code == 302
    block.refresh_from_db()
    assert block.rooms == 6


def test_tour_operators_with_their_lists(world: World) -> None:
    source = ImportSource.objects.create(name="Kompas lists", kind=ImportSource.Kind.TOUR_OPERATOR)
    ImportSource.objects.create(name="Embassy list", kind=ImportSource.Kind.EMBASSY)
    client = world.client(LOGISTICS)
    page = client.get("/shelter/operators/")
    assert page.status_code == 200
    assert "Kompas lists" in page.content.decode()
    assert "Embassy list" not in page.content.decode()
    bad = client.post("/shelter/operators/", {"name": ""})
    assert bad.status_code == 200 and not TourOperator.objects.exists()
    ok = client.post(
        "/shelter/operators/",
        {"name": "Kompas Tour", "phone": "+7 727 258 00 00", "import_source": "Kompas lists"},
    )
    assert ok.status_code == 302
    operator = TourOperator.objects.get()
    assert operator.import_source == source
    make_hotel(world, tour_operator=operator.pk)
    listing = _text(client.get("/shelter/operators/"))
    row = re.search(rf'<tr id="operator-{operator.pk}">.*?</tr>', listing, re.S)
    assert row is not None and "Kompas lists" in row.group(0) and ">1</td>" in row.group(0)
    again = client.post("/shelter/operators/", {"name": "kompas tour"})
    assert again.status_code == 200 and "A tour operator of this name exists." in _text(again)


# Assignment -------------------------------------------------------------------------------------


def _suggest(client: Any, households: list[Household], first: str, last: str) -> Any:
    return client.get(
        "/shelter/assign/",
        {
            "households": " ".join(f"H{h.pk}" for h in households),
            "first_night": first,
            "last_night": last,
            "suggest": "1",
        },
    )


def _confirm_data(page: Any, first: str, last: str) -> dict[str, Any]:
    """What the browser posts back: the ticked households and their rooms."""
    text = page.content.decode()
    form = re.search(r'<form method="post" id="confirm-form">.*?</form>', text, re.S)
    assert form is not None
    data: dict[str, Any] = {"first_night": first, "last_night": last, "action": "confirm"}
    data["house"] = re.findall(r'name="house" value="(\d+)"[^>]*checked', form.group(0))
    for name, value in re.findall(r'name="(room-\d+)" value="([^"]+)"', form.group(0)):
        data.setdefault(name, []).append(value)
    return data


def test_suggest_and_confirm_rooms_for_waiting_households(world: World) -> None:
    hotel = make_hotel(world)
    family = make_block(hotel, world, rooms=1, beds=4, first_night=hotel_today(hotel))
    double = make_block(
        hotel, world, room_type="double", beds=2, rooms=2, rate="50", first_night=hotel_today(hotel)
    )
    five = register_household(world, 5)
    two = register_household(world, 2)
    client = world.client(LOGISTICS)
    first, last = _day(hotel), _day(hotel, 2)

    waiting = client.get("/shelter/assign/")
    assert waiting.status_code == 200
    assert f'id="waiting-{five.pk}"' in waiting.content.decode()

    page = _suggest(client, [five, two], first, last)
    assert page.status_code == 200
    text = _text(page)
    assert f'id="suggestion-{five.pk}"' in text and f'id="suggestion-{two.pk}"' in text
    data = _confirm_data(page, first, last)
    assert sorted(data["house"]) == sorted([str(five.pk), str(two.pk)])
    # The household of five: the family room and a double (fewest rooms, then fewest beds
    # empty); the couple: the other double.
    assert len(data[f"room-{five.pk}"]) == 2 and len(data[f"room-{two.pk}"]) == 1
    assert Stay.objects.count() == 0  # suggesting writes nothing

    done = client.post("/shelter/assign/", data)
    assert done.status_code == 200
    assert "2 households housed" in _text(done)
    stays = Stay.objects.filter(household=five)
    assert sorted(s.block_id for s in stays) == sorted([family.pk, double.pk])
    assert {p.pk for s in stays for p in s.guests.all()} == {p.pk for p in _members(five)}
    assert Stay.objects.filter(household=two, block=double).count() == 1
    # 3 rooms × 3 nights.
    assert StayNight.objects.count() == 9
    assert all(s.status == StayStatus.PLANNED for s in Stay.objects.all())
    for stay in Stay.objects.all():
        assert f"/shelter/stays/{stay.pk}/" in done.content.decode()

    # Confirming the same suggestion again houses nobody twice.
    again = client.post("/shelter/assign/", data)
    assert "Already housed" in _text(again)
    assert Stay.objects.count() == 3


def test_a_room_taken_meanwhile_fails_that_household_only(world: World, logistics: Any) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=1, beds=4, first_night=hotel_today(hotel))
    double = make_block(
        hotel, world, room_type="double", beds=2, rooms=1, rate="50", first_night=hotel_today(hotel)
    )
    three = register_household(world, 3)
    couple = register_household(world, 2)
    other = register_household(world, 2)
    client = world.client(LOGISTICS)
    first, last = _day(hotel), _day(hotel, 1)
    page = _suggest(client, [three, couple], first, last)
    data = _confirm_data(page, first, last)
    assert len(data[f"room-{couple.pk}"]) == 1
    assert data[f"room-{couple.pk}"][0].startswith(f"{double.pk}:")

    # Another officer gives the only double room to another couple in the meantime.
    household_house(
        actor=logistics,
        crisis=world.crisis,
        household=other,
        rooms=[(double, _members(other))],
        first_night=first,
        last_night=last,
    )
    done = client.post("/shelter/assign/", data)
    assert done.status_code == 200
    text = _text(done)
    assert "1 household housed" in text
    failed = re.search(rf'<li id="failed-H{couple.pk}">(.*?)</li>', text, re.S)
    assert failed is not None and "No room of this block is free" in failed.group(1)
    assert Stay.objects.filter(household=three).count() == 1
    assert not Stay.objects.filter(household=couple).exists()
    assert Stay.objects.filter(household=other).count() == 1


def test_no_hotel_for_a_household_says_why(world: World) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world, room_type="double", beds=2, rooms=1, first_night=hotel_today(hotel))
    big = register_household(world, 4)
    page = _suggest(world.client(LOGISTICS), [big], _day(hotel), _day(hotel, 1))
    text = _text(page)
    assert "no hotel has free rooms for the whole household on these nights" in text
    assert 'id="confirm"' not in text


def test_house_one_household_by_hand(world: World) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=2, beds=4, first_night=hotel_today(hotel))
    household = register_household(world, 3)
    client = world.client(LOGISTICS)
    form = {
        "action": "manual",
        "household": _members(household)[0].reference_code_display,
        "hotel": str(hotel.pk),
        "first_night": _day(hotel),
        "last_night": _day(hotel, 2),
        "payer": "person",
        "people": "",
        "split_reason": "",
    }
    bad = client.post("/shelter/assign/", {**form, "last_night": _day(hotel, -1)})
    assert bad.status_code == 200 and "Before the first night." in _text(bad)
    # Only some members need a reason.
    partial = client.post(
        "/shelter/assign/", {**form, "people": _members(household)[0].reference_code}
    )
    assert partial.status_code == 200 and "A household stays together" in _text(partial)
    assert not Stay.objects.exists()
    done = client.post("/shelter/assign/", form)
    stay = Stay.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/shelter/stays/{stay.pk}/"
    assert stay.payer == "person" and stay.guests.count() == 3


# Stays ------------------------------------------------------------------------------------------


def _house(world: World, hotel: Hotel, size: int, first: int, last: int) -> Stay:
    """A household of `size` in one room of the hotel, nights counted from its today."""
    (stay,) = household_house(
        actor=world.users[LOGISTICS],
        crisis=world.crisis,
        household=register_household(world, size),
        hotel=hotel,
        first_night=_day(hotel, first),
        last_night=_day(hotel, last),
    )
    return stay


def test_check_in_check_out_and_cancel_on_the_stay_page(world: World) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=2, beds=4, first_night=hotel_today(hotel))
    stay = _house(world, hotel, 3, 0, 2)
    client = world.client(LOGISTICS)
    page = client.get(f"/shelter/stays/{stay.pk}/")
    assert page.status_code == 200
    text = _text(page)
    for person in _members(stay.household):  # type: ignore[arg-type]
        assert person.reference_code_display in text
    assert f"/shelter/stays/{stay.pk}/voucher.pdf" in text
    assert f"/shelter/stays/{stay.pk}/voucher.png" in text
    assert AuditEntry.objects.filter(verb="stay_detail", object_id=str(stay.pk)).exists()

    refused = client.post(f"/shelter/stays/{stay.pk}/status/", {"status": "cancelled"}, follow=True)
    assert "Say why the stay is cancelled." in _text(refused)
    stay.refresh_from_db()
    assert stay.status == StayStatus.PLANNED

    checked_in = client.post(
        f"/shelter/stays/{stay.pk}/status/", {"status": "checked_in", "room_number": "512"}
    )
    assert checked_in.status_code == 302
    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_IN and stay.room_number == "512"
    # A checked-in stay cannot be cancelled.
    client.post(f"/shelter/stays/{stay.pk}/status/", {"status": "cancelled", "note": "x"})
    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_IN

    client.post(f"/shelter/stays/{stay.pk}/status/", {"status": "checked_out"})
    stay.refresh_from_db()
    assert stay.status == StayStatus.CHECKED_OUT
    # Checked out on the first day: the first night was used, the rest given back.
    assert stay.last_night == stay.first_night
    assert StayNight.objects.filter(stay=stay).count() == 1
    history = _text(client.get(f"/shelter/stays/{stay.pk}/"))
    assert "Checked in" in history and "Checked out" in history

    other = _house(world, hotel, 2, 1, 2)
    cancelled = client.post(
        f"/shelter/stays/{other.pk}/status/", {"status": "cancelled", "note": "flight earlier"}
    )
    assert cancelled.status_code == 302
    other.refresh_from_db()
    assert other.status == StayStatus.CANCELLED
    assert not StayNight.objects.filter(stay=other).exists()
    assert other.events.filter(note="flight earlier").exists()


def test_change_the_last_night(world: World) -> None:
    hotel = make_hotel(world)
    block = make_block(hotel, world, rooms=1, beds=4, first_night=hotel_today(hotel))
    first = _house(world, hotel, 2, 0, 1)
    later = _house(world, hotel, 2, 3, 4)
    client = world.client(LOGISTICS)

    # Into the nights the only room is given to the later household: refused.
    refused = client.post(
        f"/shelter/stays/{first.pk}/nights/", {"last_night": _day(hotel, 3)}, follow=True
    )
    assert "is taken on one of the added nights" in _text(refused)
    first.refresh_from_db()
    assert first.last_night.isoformat() == _day(hotel, 1)

    ok = client.post(f"/shelter/stays/{first.pk}/nights/", {"last_night": _day(hotel, 2)})
    assert ok.status_code == 302
    first.refresh_from_db()
    assert first.last_night.isoformat() == _day(hotel, 2)
    assert StayNight.objects.filter(stay=first).count() == 3

    past_block = client.post(
        f"/shelter/stays/{later.pk}/nights/", {"last_night": _day(hotel, 9)}, follow=True
    )
    assert "The block's last night is" in _text(past_block)
    shorter = client.post(f"/shelter/stays/{later.pk}/nights/", {"last_night": _day(hotel, 3)})
    assert shorter.status_code == 302
    assert StayNight.objects.filter(stay=later).count() == 1
    assert StayNight.objects.filter(block=block).count() == 4


def test_stay_list_filters_and_pages(world: World) -> None:
    hotel = make_hotel(world)
    second = make_hotel(world, name="Hotel Second")
    make_block(hotel, world, rooms=3, beds=4, first_night=hotel_today(hotel))
    make_block(second, world, rooms=1, beds=4, first_night=hotel_today(second))
    a = _house(world, hotel, 2, 0, 1)
    b = _house(world, hotel, 2, 3, 4)
    c = _house(world, second, 2, 0, 1)
    client = world.client(LOGISTICS)
    page = _text(client.get("/shelter/stays/"))
    assert all(f'id="stay-{s.pk}"' in page for s in (a, b, c))
    by_hotel = _text(client.get("/shelter/stays/", {"hotel": hotel.pk}))
    assert f'id="stay-{c.pk}"' not in by_hotel and f'id="stay-{a.pk}"' in by_hotel
    by_night = _text(client.get("/shelter/stays/", {"night": _day(hotel, 3)}))
    assert f'id="stay-{b.pk}"' in by_night and f'id="stay-{a.pk}"' not in by_night
    by_status = _text(client.get("/shelter/stays/", {"status": "checked_in"}))
    assert "No stays." in by_status
    odd = client.get("/shelter/stays/", {"hotel": "x", "night": "soon", "page": "99"})
    assert odd.status_code == 200
    name = _passport(a.guests.first())  # type: ignore[arg-type]
    assert name in page


# Occupancy, the daily list ----------------------------------------------------------------------


def _cell(text: str, hotel: Hotel, night: str) -> dict[str, int]:
    row = re.search(rf'<tr id="occ-hotel-{hotel.pk}">.*?</tr>', text, re.S)
    assert row is not None
    cell = re.search(rf'<td [^>]*data-night="{night}"[^>]*>', row.group(0))
    assert cell is not None
    return {k: int(v) for k, v in re.findall(r'data-([a-z-]+)="(\d+)"', cell.group(0))}


def test_occupancy_per_hotel_and_night(world: World, logistics: Any) -> None:
    hotel = make_hotel(world)
    block = make_block(hotel, world, rooms=2, beds=4, first_night=hotel_today(hotel))
    make_block(hotel, world, room_type="double", beds=2, rooms=1, first_night=hotel_today(hotel))
    _house(world, hotel, 3, 0, 1)
    household = register_household(world, 2)
    household_house(
        actor=logistics,
        crisis=world.crisis,
        household=household,
        rooms=[(block, _members(household))],
        first_night=_day(hotel, 1),
        last_night=_day(hotel, 2),
    )
    start = hotel_today(hotel)
    page = world.client(LOGISTICS).get("/shelter/occupancy/", {"from": start.isoformat()})
    assert page.status_code == 200
    text = page.content.decode()
    tonight = _cell(text, hotel, _day(hotel))
    assert tonight == {
        "rooms-free": 2,
        "beds-free": 6,
        "adults": 3,
        "children": 0,
        "arrivals": 1,
        "departures": 0,
    }
    full = _cell(text, hotel, _day(hotel, 1))
    assert full["rooms-free"] == 1 and full["adults"] == 5
    third = _cell(text, hotel, _day(hotel, 2))
    assert third["departures"] == 1 and third["rooms-free"] == 2 and third["arrivals"] == 0
    fourth = _cell(text, hotel, _day(hotel, 3))
    assert fourth["departures"] == 1 and fourth["rooms-free"] == 3
    row = re.search(rf'<tr id="occ-hotel-{hotel.pk}">.*?</tr>', text, re.S)
    assert row is not None and row.group(0).count("data-night=") == 7  # 7 nights by default
    fortnight = world.client(LOGISTICS).get(
        "/shelter/occupancy/", {"from": start.isoformat(), "days": "14"}
    )
    assert f'data-night="{_day(hotel, 13)}"' in fortnight.content.decode()


def test_a_full_night_is_marked(world: World) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=1, beds=4, first_night=hotel_today(hotel))
    _house(world, hotel, 2, 0, 0)
    text = world.client(LOGISTICS).get("/shelter/occupancy/", {"from": _day(hotel)}).content
    cell = re.search(
        rf'<td class="([^"]*)" data-night="{_day(hotel)}" data-rooms-free="0"', text.decode()
    )
    assert cell is not None and "table-danger" in cell.group(1)


def test_daily_list_and_csv_name_the_guests_as_in_their_passports(world: World) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=3, beds=4, first_night=hotel_today(hotel) - timedelta(days=3))
    arriving = _house(world, hotel, 2, 0, 2)
    staying = _house(world, hotel, 2, -2, 1)
    leaving = _house(world, hotel, 2, -3, -1)
    gone = _house(world, hotel, 2, -3, -2)
    client = world.client(LOGISTICS)
    before = AuditEntry.objects.count()
    page = client.get(f"/shelter/hotels/{hotel.pk}/day/")
    assert page.status_code == 200
    text = _text(page)
    sections = {
        key: re.search(rf'<section id="{key}".*?</section>', text, re.S).group(0)  # type: ignore[union-attr]
        for key in ("arrivals", "in-house", "departures")
    }
    for key, stay in (("arrivals", arriving), ("in-house", staying), ("departures", leaving)):
        for person in stay.guests.all():
            assert person.surname_latin, "registration gives passport Latin names"
            assert _passport(person) in sections[key]
            assert person.reference_code_display in sections[key]
    for person in gone.guests.all():
        assert person.reference_code_display not in text
    assert "@media print" in text
    entry = AuditEntry.objects.filter(verb="hotel_daily_list").get()
    assert entry.action == AuditEntry.Action.READ and entry.object_id == str(hotel.pk)

    response = client.get(f"/shelter/hotels/{hotel.pk}/day.csv", {"day": _day(hotel)})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert len(rows) == 1 + 3
    names = " ".join(r[3] for r in rows[1:])
    for stay in (arriving, staying, leaving):
        for person in stay.guests.all():
            assert _passport(person) in names
    export = AuditEntry.objects.filter(verb="hotel_daily_list_export").get()
    assert export.action == AuditEntry.Action.EXPORT
    assert AuditEntry.objects.count() == before + 2

    # Another day: tomorrow the arriving household is in the hotel.
    tomorrow = _text(client.get(f"/shelter/hotels/{hotel.pk}/day/", {"day": _day(hotel, 1)}))
    in_house = re.search(r'<section id="in-house".*?</section>', tomorrow, re.S)
    assert in_house is not None
    assert _passport(arriving.guests.first()) in in_house.group(0)  # type: ignore[arg-type]


def test_hotel_page_shows_blocks_occupancy_and_guests(world: World) -> None:
    hotel = make_hotel(world)
    block = make_block(hotel, world, rooms=2, beds=4, first_night=hotel_today(hotel))
    stay = _house(world, hotel, 3, 0, 1)
    page = world.client(LOGISTICS).get(f"/shelter/hotels/{hotel.pk}/")
    text = _text(page)
    row = re.search(rf'<tr id="block-{block.pk}">.*?</tr>', text, re.S)
    assert row is not None
    tonight = re.search(r'class="text-end fw-semibold tonight-free">(\d+)<', row.group(0))
    assert tonight is not None and tonight.group(1) == "1"
    assert f"/shelter/blocks/{block.pk}/edit/" in text
    for person in stay.guests.all():
        assert _passport(person) in text
    assert AuditEntry.objects.filter(verb="hotel_detail", object_id=str(hotel.pk)).exists()


# Who may -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", [Role.CONSUL, Role.OPERATOR, Role.OBSERVER, Role.DUTY_OFFICER])
def test_other_roles_get_403(world: World, persona: str) -> None:
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=1, beds=4, first_night=hotel_today(hotel))
    stay = _house(world, hotel, 2, 0, 1)
    client = world.client(persona)
    for url in (
        "/shelter/",
        f"/shelter/hotels/{hotel.pk}/",
        f"/shelter/hotels/{hotel.pk}/day/",
        f"/shelter/hotels/{hotel.pk}/day.csv",
        f"/shelter/stays/{stay.pk}/",
        "/shelter/assign/",
        "/shelter/occupancy/",
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(
            f"/shelter/stays/{stay.pk}/status/", {"status": "cancelled", "note": "x"}
        ).status_code
        == 403
    )
    stay.refresh_from_db()
    assert stay.status == StayStatus.PLANNED
    assert world.client("anonymous").get("/shelter/").status_code == 302


def test_another_crisis_hotel_is_not_found(world: World) -> None:
    hotel = make_hotel(world)
    Hotel.objects.filter(pk=hotel.pk).update(crisis=world.other_crisis)
    assert world.client(LOGISTICS).get(f"/shelter/hotels/{hotel.pk}/").status_code == 404
