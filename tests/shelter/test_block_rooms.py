"""A room block's number of rooms is known night by night: a shrink (or a growth) applies
from a night on — tonight by default, or a later night the officer gives — and the nights
before keep the rooms they had, so capacity, blocked and available, occupancy and the free
rooms always agree with the rooms actually held. Through the API and the pages."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.shelter.models import RoomBlock, RoomBlockRooms, Stay, StayNight
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household, today
from tests.shelter.test_api import errors, fields_422, night, patch, post
from tests.shelter.test_moves import _shrinkable
from tests.shelter.test_rules import house

pytestmark = pytest.mark.django_db


def _text(response: Any) -> str:
    return html.unescape(response.content.decode())


def _taken(block: RoomBlock) -> dict[date, int]:
    out: dict[date, int] = {}
    for n in StayNight.objects.filter(block=block).values_list("night", flat=True):
        out[n] = out.get(n, 0) + 1
    return out


def _api_nights(api: Any, hotel_id: int, first: date, days: int) -> dict[str, dict[str, Any]]:
    got = api.get(f"/api/hotels/{hotel_id}/occupancy?from={first.isoformat()}&days={days}")
    assert got.status_code == 200, got.json()
    return {n["night"]: n for n in got.json()["nights"]}


def _page_nights(client: Any, hotel_id: int, first: date) -> dict[str, tuple[int, int, int]]:
    """The occupancy page's row of the hotel: per night (rooms free, rooms, beds free)."""
    page = _text(client.get(f"/shelter/occupancy/?from={first.isoformat()}&days=14"))
    row = re.search(rf'<tr id="occ-hotel-{hotel_id}">.*?</tr>', page, re.S)
    assert row is not None
    cells = re.findall(
        r'data-night="([\d-]+)" data-rooms-free="(-?\d+)" data-beds-free="(-?\d+)"'
        r".*?(?:/(\d+)</span>|</td>)",
        row.group(0),
        re.S,
    )
    return {n: (int(free), int(rooms or 0), int(beds)) for n, free, beds, rooms in cells}


def test_a_shrink_from_tonight_keeps_the_rooms_of_the_nights_before(world: World) -> None:
    """The review's reproduction: four rooms from two nights ago, shrunk to two from tonight
    once the rooms ahead are moved. Night -2 still has its four rooms (three were held), so
    no night shows more rooms taken than contracted, on the page or in the API."""
    api = world.api(Role.LOGISTICS)
    client = world.client(Role.LOGISTICS)
    w = _shrinkable(world, api)
    hotel, block = w["hotel"], w["block"]
    assert post(api, f"/api/stays/{w['C']}/move", {}).json()["room"] == 2
    shrunk = patch(api, f"/api/blocks/{block.pk}", {"rooms": 2})
    assert shrunk.status_code == 200, shrunk.json()
    body = shrunk.json()

    # Each night's own number of rooms: four until last night, two from tonight.
    assert body["rooms"] == 2
    assert body["rooms_by_night"] == [
        {"first_night": night(-2), "last_night": night(-1), "rooms": 4},
        {"first_night": night(0), "last_night": night(5), "rooms": 2},
    ]
    assert [(c["from_night"], c["rooms"]) for c in body["rooms_history"]] == [
        (night(-2), 4),
        (night(0), 2),
    ]
    # Capacity 4 × 2 + 2 × 6 = 20 room-nights; 10 held (A and C four each, D two).
    taken = _taken(block)
    assert sum(taken.values()) == 10
    assert (body["capacity"], body["blocked"], body["available"]) == (20, 10, 10)
    assert api.get(f"/api/blocks/{block.pk}").json() == body
    summary = api.get(f"/api/hotels/{hotel.pk}").json()["blocks"]
    assert (summary["capacity"], summary["blocked"], summary["available"]) == (20, 10, 10)

    # Every night, in the API and on the page: rooms ≥ taken, nothing free below zero.
    first = today() - timedelta(days=2)
    nights = _api_nights(api, hotel.pk, first, 8)
    assert nights[night(-2)]["rooms"] == 4 and nights[night(-2)]["rooms_taken"] == 3
    assert nights[night(-2)]["rooms_free"] == 1 and nights[night(-2)]["beds_free"] == 4
    assert nights[night(0)]["rooms"] == 2 and nights[night(0)]["rooms_free"] == 0
    page = _page_nights(client, hotel.pk, first)
    for i in range(8):
        day = first + timedelta(days=i)
        n = nights[day.isoformat()]
        assert n["rooms"] >= n["rooms_taken"] == taken.get(day, 0), n
        assert n["rooms_free"] >= 0 and n["beds_free"] >= 0, n
        assert page[day.isoformat()] == (n["rooms_free"], n["rooms"], n["beds_free"])
    assert page[night(-2)] == (1, 4, 4)

    # The hotel's page: the block's rooms by runs of nights, and what tonight has free.
    detail = _text(client.get(f"/shelter/hotels/{hotel.pk}/"))
    row = re.search(rf'<tr id="block-{block.pk}">.*?</tr>', detail, re.S)
    assert row is not None
    rooms_cell = re.search(r'class="text-end block-rooms">(.*?)</td>', row.group(0), re.S)
    assert rooms_cell is not None
    assert re.findall(r"<div>(\d+)", rooms_cell.group(1)) == ["4", "2"]
    assert re.search(r'<td class="text-end fw-semibold tonight-free">0</td>', row.group(0))
    assert '>20</td><td class="text-end">10</td><td class="text-end">10</td>' in row.group(0)

    # The block's page: its nights by number of rooms and the changes recorded.
    edit = _text(client.get(f"/shelter/blocks/{block.pk}/edit/"))
    runs = re.search(r'<ul[^>]*id="rooms-runs">(.*?)</ul>', edit, re.S)
    assert runs is not None
    assert f"Nights {night(-2)} to {night(-1)}: 4 rooms" in runs.group(1)
    assert f"Nights {night(0)} to {night(5)}: 2 rooms" in runs.group(1)
    history = re.search(r'<table[^>]*id="rooms-changes">.*?</table>', edit, re.S)
    assert history is not None
    assert re.findall(r"<tr><td>([\d-]+)</td><td[^>]*>(\d+)</td>", history.group(0)) == [
        (night(-2), "4"),
        (night(0), "2"),
    ]
    entry = AuditEntry.objects.filter(verb="block_update", object_id=str(block.pk)).latest("id")
    assert entry.changes["rooms"] == [4, 2] and entry.changes["rooms_from"] == night(0)


def test_a_shrink_from_a_later_night_and_its_refusals(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    block = make_block(
        hotel, world, rooms=4, first_night=today(), last_night=today() + timedelta(6)
    )
    for _i in range(3):
        house(api, register_household(world, 1), hotel, 0, 1)  # rooms 1, 2, 3
    (long,) = house(api, register_household(world, 1), hotel, 0, 4)  # room 4
    assert Stay.objects.get(pk=long).room == 4
    url = f"/api/blocks/{block.pk}"

    # Room 4 is held until night 4: two rooms from night 2 are refused, naming it.
    refused = patch(api, url, {"rooms": 2, "rooms_from": night(2)})
    assert refused.status_code == 409, refused.json()
    assert [(h["room"], h["stay"]) for h in refused.json()["extra"]["held"]] == [(4, long)]
    assert f"from the night of {night(2)}" in refused.json()["message"]
    assert f"room 4: stay {long}" in refused.json()["message"] and errors(refused)["rooms"]
    assert RoomBlockRooms.objects.filter(block=block).count() == 1

    # Other dates refused, each on its field.
    past = patch(api, url, {"rooms": 2, "rooms_from": night(-1)})
    assert past.status_code == 400 and "tonight" in errors(past)["rooms_from"][0]
    after = patch(api, url, {"rooms": 2, "rooms_from": night(7)})
    assert after.status_code == 400 and errors(after)["rooms_from"]
    alone = patch(api, url, {"rooms_from": night(5)})
    assert alone.status_code == 400 and errors(alone)["rooms_from"]
    assert fields_422(patch(api, url, {"rooms": 2, "rooms_from": "soon"})) == {"rooms_from"}
    assert RoomBlockRooms.objects.filter(block=block).count() == 1

    # From night 5 on, after room 4's last night: nights 0 to 4 keep their four rooms.
    shrunk = patch(api, url, {"rooms": 2, "rooms_from": night(5)})
    assert shrunk.status_code == 200, shrunk.json()
    assert shrunk.json()["rooms_by_night"] == [
        {"first_night": night(0), "last_night": night(4), "rooms": 4},
        {"first_night": night(5), "last_night": night(6), "rooms": 2},
    ]
    assert shrunk.json()["capacity"] == 4 * 5 + 2 * 2
    nights = _api_nights(api, hotel.pk, today(), 7)
    assert [nights[night(i)]["rooms"] for i in range(7)] == [4, 4, 4, 4, 4, 2, 2]

    # Room 4 does not run into night 5; a new household gets a room every night has.
    longer = post(api, f"/api/stays/{long}/nights", {"last_night": night(5)})
    assert longer.status_code == 409, longer.json()
    assert "Room 4 of the block is not contracted" in longer.json()["message"]
    assert errors(longer)["last_night"]
    assert Stay.objects.get(pk=long).last_night.isoformat() == night(4)
    (late,) = house(api, register_household(world, 1), hotel, 4, 5)
    assert Stay.objects.get(pk=late).room == 1
    # A room above two is not offered for a move that runs into night 5.
    beyond = post(api, f"/api/stays/{late}/move", {"room": 3})
    assert beyond.status_code == 400 and errors(beyond)["room"]

    # The same number again changes nothing; four rooms again from tonight on is recorded.
    assert patch(api, url, {"rooms": 2, "rooms_from": night(6)}).status_code == 200
    assert RoomBlockRooms.objects.filter(block=block).count() == 2
    grown = patch(api, url, {"rooms": 4}).json()
    assert [(c["from_night"], c["rooms"]) for c in grown["rooms_history"]] == [
        (night(0), 4),
        (night(5), 2),
        (night(0), 4),
    ]
    assert grown["rooms_by_night"] == [
        {"first_night": night(0), "last_night": night(6), "rooms": 4}
    ]
    assert grown["capacity"] == 28


def test_the_block_page_changes_the_rooms_from_a_night(world: World) -> None:
    client = world.client(Role.LOGISTICS)
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    block = make_block(
        hotel, world, rooms=3, first_night=today(), last_night=today() + timedelta(6)
    )
    (held,) = house(api, register_household(world, 1), hotel, 0, 3)
    move = post(api, f"/api/stays/{held}/move", {"room": 3})
    assert move.status_code == 200, move.json()
    form = {
        "room_type": "family",
        "beds": "4",
        "rooms": "2",
        "rooms_from": night(2),
        "first_night": block.first_night.isoformat(),
        "last_night": block.last_night.isoformat(),
        "rate": "80.00",
        "currency": "USD",
        "meals": "breakfast",
        "payer": "state",
        "contract_ref": "AZ-2026-001",
    }
    url = f"/shelter/blocks/{block.pk}/edit/"
    assert 'name="rooms_from"' in _text(client.get(url))
    assert 'name="rooms_from"' not in _text(client.get(f"/shelter/hotels/{hotel.pk}/blocks/new/"))

    refused = _text(client.post(url, form))
    assert 'id="id_rooms_errors"' in refused
    held_section = re.search(r'<section[^>]*id="rooms-held".*?</section>', refused, re.S)
    assert held_section is not None and f"Room 3: stay {held}" in held_section.group(0)
    past = _text(client.post(url, {**form, "rooms_from": night(-1)}))
    assert 'id="id_rooms_from_errors"' in past and "tonight" in past

    # From night 4 on, when room 3 is free: the nights before keep three rooms.
    done = client.post(url, {**form, "rooms_from": night(4)})
    assert done.status_code == 302, _text(done)
    assert [
        (r.from_night.isoformat(), r.rooms) for r in RoomBlockRooms.objects.filter(block=block)
    ] == [(night(0), 3), (night(4), 2)]
    page = _text(client.get(url))
    assert f"Nights {night(0)} to {night(3)}: 3 rooms" in page
    assert f"Nights {night(4)} to {night(6)}: 2 rooms" in page
    # The same night, the number unchanged: nothing new is recorded.
    assert client.post(url, {**form, "rooms_from": night(5)}).status_code == 302
    assert RoomBlockRooms.objects.filter(block=block).count() == 2


def test_the_rooms_history_is_append_only(world: World) -> None:
    from django.db import DatabaseError, IntegrityError, connection, transaction

    hotel = make_hotel(world)
    block = make_block(hotel, world, rooms=3)
    (change,) = RoomBlockRooms.objects.filter(block=block)
    assert (change.from_night, change.rooms) == (block.first_night, 3)
    assert change.recorded_by == world.users[Role.LOGISTICS]
    change.rooms = 9
    with pytest.raises(TypeError):
        change.save()
    with pytest.raises(TypeError):
        RoomBlockRooms.objects.filter(pk=change.pk).update(rooms=9)
    with (
        pytest.raises((DatabaseError, IntegrityError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE shelter_roomblockrooms SET rooms = 9")
    change.refresh_from_db()
    assert change.rooms == 3


def test_an_ended_block_takes_its_rooms_back_unchanged_with_another_field(world: World) -> None:
    """A client that reads a block and writes it back with one field changed sends the
    rooms as they are: on a block whose nights are all past that is no change of rooms."""
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    block = make_block(
        hotel, world, rooms=3, first_night=today() - timedelta(6), last_night=today() - timedelta(2)
    )
    url = f"/api/blocks/{block.pk}"
    kept = patch(api, url, {"rooms": 3, "contract_ref": "C-2026-17"})
    assert kept.status_code == 200, kept.json()
    assert kept.json()["contract_ref"] == "C-2026-17"
    assert RoomBlockRooms.objects.filter(block=block).count() == 1
    changed = patch(api, url, {"rooms": 2})
    assert changed.status_code == 400 and "is past" in errors(changed)["rooms"][0]
