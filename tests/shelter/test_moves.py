"""A block shrinks when only its rooms ahead are in the way and a stay moves to another room
of its block; a household in several rooms is told which room is checked in; a hotel room
number is never given to two households on one night; a split's reason is in the history and
the audit log; the hotel's guest list comes a page at a time. Through the API and the pages."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.shelter import views
from aman.shelter.models import RoomBlock, Stay, StayEvent, StayNight, StayStatus
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household, today
from tests.shelter.test_api import errors, night, patch, post
from tests.shelter.test_rules import house

pytestmark = pytest.mark.django_db


def rooms_of(stay_id: int) -> dict[str, int]:
    return {
        n.isoformat(): r
        for n, r in StayNight.objects.filter(stay_id=stay_id).values_list("night", "room")
    }


def _shrinkable(world: World, api: Any) -> dict[str, Any]:
    """Four rooms from two nights ago: A in room 1 and C (checked in, hotel room 103) in
    room 3 hold rooms from tonight on; B (room 2) was a no-show; D (room 4) left before
    tonight, its past nights are still on record in room 4."""
    hotel = make_hotel(world)
    block = make_block(
        hotel,
        world,
        rooms=4,
        first_night=today() - timedelta(days=2),
        last_night=today() + timedelta(days=5),
    )
    a, b, c, d = ([*house(api, register_household(world, 1), hotel, -2, 1)] for _i in range(4))
    ids = {"A": a[0], "B": b[0], "C": c[0], "D": d[0]}
    assert [Stay.objects.get(pk=ids[k]).room for k in "ABCD"] == [1, 2, 3, 4]
    assert post(api, f"/api/stays/{ids['D']}/nights", {"last_night": night(-1)}).status_code == 200
    assert post(api, f"/api/stays/{ids['B']}/status", {"status": "no_show"}).status_code == 200
    checked = post(
        api, f"/api/stays/{ids['C']}/status", {"status": "checked_in", "room_number": "103"}
    )
    assert checked.status_code == 200, checked.json()
    return {"hotel": hotel, "block": block, **ids}


def test_a_block_shrinks_once_the_rooms_ahead_are_moved(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    w = _shrinkable(world, api)
    block, c = w["block"], w["C"]

    # Room 4's past nights stand in no one's way; room 3, held from tonight on, does.
    refused = patch(api, f"/api/blocks/{block.pk}", {"rooms": 2})
    assert refused.status_code == 409, refused.json()
    body = refused.json()
    assert [h["room"] for h in body["extra"]["held"]] == [3]
    assert body["extra"]["held"][0]["stay"] == c
    assert f"room 3: stay {c}" in body["message"] and "Move those stays" in body["message"]
    assert "given to a household" not in body["message"]
    assert errors(refused)["rooms"]
    block.refresh_from_db()
    assert block.rooms == 4

    # Move C to the lowest room free for its nights ahead: room 2 (B's no-show freed it).
    before = rooms_of(c)
    moved = post(api, f"/api/stays/{c}/move", {"note": "the hotel takes rooms back"})
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["room"], moved.json()["room_number"]) == (2, "103")
    after = rooms_of(c)
    assert {k: v for k, v in after.items() if k < night(0)} == {
        night(-2): 3,
        night(-1): 3,
    }, "nights already past keep the room they were spent in"
    assert {k: v for k, v in after.items() if k >= night(0)} == {night(0): 2, night(1): 2}
    assert set(after) == set(before)
    event = StayEvent.objects.filter(stay_id=c).latest("id")
    assert "moved from room 3 to room 2" in event.note and "the hotel takes rooms back" in (
        event.note
    )
    assert event.status == StayStatus.CHECKED_IN
    entry = AuditEntry.objects.filter(verb="stay_move", object_id=str(c)).get()
    assert entry.changes["room"] == [3, 2] and entry.changes["nights_moved"] == 2

    shrunk = patch(api, f"/api/blocks/{block.pk}", {"rooms": 2})
    assert shrunk.status_code == 200, shrunk.json()
    block.refresh_from_db()
    assert block.rooms == 2


def test_a_move_never_gives_a_room_twice_and_names_the_free_ones(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    w = _shrinkable(world, api)
    a, b, c = w["A"], w["B"], w["C"]
    taken = post(api, f"/api/stays/{a}/move", {"room": 3})
    assert taken.status_code == 409, taken.json()
    assert taken.json()["extra"]["free"] == [2, 4]
    assert "Room 3 of the block is held" in taken.json()["message"]
    assert rooms_of(a)[night(0)] == 1

    same = post(api, f"/api/stays/{a}/move", {"room": 1})
    assert same.status_code == 400 and errors(same)["room"]
    outside = post(api, f"/api/stays/{a}/move", {"room": 9})
    assert outside.status_code == 400 and errors(outside)["room"]
    gone = post(api, f"/api/stays/{b}/move", {})
    assert gone.status_code == 409 and "planned or checked-in" in gone.json()["message"]

    # Room 4 is free ahead (D left); a new hotel room number is checked and kept.
    moved = post(api, f"/api/stays/{c}/move", {"room": 4, "room_number": "204"})
    assert moved.status_code == 200, moved.json()
    assert Stay.objects.get(pk=c).room_number == "204"
    assert not AuditEntry.objects.filter(verb="stay_move", object_id=str(a)).exists()


def test_the_pages_name_the_rooms_in_the_way_and_move_a_stay(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    client = world.client(Role.LOGISTICS)
    w = _shrinkable(world, api)
    block, c = w["block"], w["C"]
    form = {
        "room_type": "family",
        "beds": "4",
        "rooms": "2",
        "first_night": block.first_night.isoformat(),
        "last_night": block.last_night.isoformat(),
        "rate": "80.00",
        "currency": "USD",
        "meals": "breakfast",
        "payer": "state",
        "contract_ref": "AZ-2026-001",
    }
    refused = client.post(f"/shelter/blocks/{block.pk}/edit/", form)
    assert refused.status_code == 200
    page = html.unescape(refused.content.decode())
    held = re.search(r'<section[^>]*id="rooms-held".*?</section>', page, re.S)
    assert held is not None and f'href="/shelter/stays/{c}/"' in held.group(0)
    assert f"Room 3: stay {c}" in held.group(0)
    assert RoomBlock.objects.get(pk=block.pk).rooms == 4

    stay_page = html.unescape(client.get(f"/shelter/stays/{c}/").content.decode())
    move = re.search(r'<form[^>]*id="move-form".*?</form>', stay_page, re.S)
    assert move is not None
    assert re.findall(r'<option value="(\d+)"', move.group(0)) == ["2", "4"]

    done = client.post(f"/shelter/stays/{c}/move/", {"room": "2", "room_number": ""})
    assert done.status_code == 302
    assert Stay.objects.get(pk=c).room == 2
    shown = html.unescape(client.get(f"/shelter/stays/{c}/").content.decode())
    assert "The stay is now in room 2 of the block." in shown
    assert "moved from room 3 to room 2" in shown
    assert client.post(f"/shelter/blocks/{block.pk}/edit/", form).status_code == 302
    assert RoomBlock.objects.get(pk=block.pk).rooms == 2

    # Ending a stay asks first (the household's other rooms go with it unless split).
    alone = html.unescape(client.get(f"/shelter/stays/{w['A']}/").content.decode())
    no_show = re.search(r'<form[^>]*id="action-no_show"[^>]*>', alone)
    assert no_show is not None and 'onsubmit="return confirm(this.dataset.confirm)"' in (
        no_show.group(0)
    )
    assert 'data-confirm="Record a no-show? Every night of the stay goes back to the block."' in (
        no_show.group(0)
    )


def _family_in_two_rooms(world: World, api: Any) -> tuple[int, int]:
    hotel = make_hotel(world)
    make_block(hotel, world, room_type="double", beds=2, rooms=4)
    first, second = house(api, register_household(world, 4), hotel, 0, 2)
    return first, second


def test_a_no_show_beside_a_checked_in_room_says_which_and_how(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    first, second = _family_in_two_rooms(world, api)
    page = html.unescape(
        world.client(Role.LOGISTICS).get(f"/shelter/stays/{second}/").content.decode()
    )
    cancel = re.search(r'<form[^>]*id="action-cancelled"[^>]*>', page)
    assert cancel is not None and "every room of the household is cancelled" in cancel.group(0)
    checked = post(api, f"/api/stays/{first}/status", {"status": "checked_in", "room_number": "7"})
    assert checked.status_code == 200
    room = Stay.objects.get(pk=first).room

    refused = post(api, f"/api/stays/{second}/status", {"status": "no_show"})
    assert refused.status_code == 409
    message = refused.json()["message"]
    assert f"room {room} of the block (hotel room 7, stay {first})" in message
    assert "this room only" in message and "cannot go from" not in message
    assert errors(refused)["split_reason"]
    assert Stay.objects.get(pk=second).status == StayStatus.PLANNED

    alone = post(
        api,
        f"/api/stays/{second}/status",
        {"status": "no_show", "split_reason": "two of them flew on earlier"},
    )
    assert alone.status_code == 200, alone.json()
    assert Stay.objects.get(pk=second).status == StayStatus.NO_SHOW
    assert Stay.objects.get(pk=first).status == StayStatus.CHECKED_IN
    # The reason is in the stay's history and in the audit log, with what it replaced.
    notes = list(StayEvent.objects.filter(stay_id=second).values_list("note", flat=True))
    assert "this room alone: two of them flew on earlier" in notes
    entry = AuditEntry.objects.filter(verb="stay_split", object_id=str(second)).get()
    assert entry.changes["split_reason"] == [None, "two of them flew on earlier"]


def test_a_split_change_of_nights_is_kept_in_history_and_audit(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    first, second = _family_in_two_rooms(world, api)
    post(api, f"/api/stays/{second}/nights", {"last_night": night(1), "split_reason": "visa"})
    again = post(
        api, f"/api/stays/{second}/nights", {"last_night": night(0), "split_reason": "tickets"}
    )
    assert again.status_code == 200, again.json()
    entries = AuditEntry.objects.filter(verb="stay_split", object_id=str(second)).order_by("id")
    assert [e.changes["split_reason"] for e in entries] == [[None, "visa"], ["visa", "tickets"]]
    notes = list(StayEvent.objects.filter(stay_id=second).values_list("note", flat=True))
    assert "this room alone: visa" in notes and "this room alone: tickets" in notes
    assert Stay.objects.get(pk=first).last_night == today() + timedelta(days=2)


def test_a_hotel_room_number_goes_to_one_household_a_night(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    other_hotel = make_hotel(world)
    make_block(hotel, world, rooms=3)
    make_block(other_hotel, world, rooms=3)
    (one,) = house(api, register_household(world, 1), hotel, 0, 2)
    (two,) = house(api, register_household(world, 1), hotel, 1, 3)
    (elsewhere,) = house(api, register_household(world, 1), other_hotel, 0, 2)
    ok = post(api, f"/api/stays/{one}/status", {"status": "checked_in", "room_number": "101"})
    assert ok.status_code == 200

    clash = post(api, f"/api/stays/{two}/status", {"status": "checked_in", "room_number": "101 "})
    assert clash.status_code == 409, clash.json()
    assert f"stay {one}" in clash.json()["message"]
    assert clash.json()["extra"]["stay"] == one and errors(clash)["room_number"]
    assert Stay.objects.get(pk=two).status == StayStatus.PLANNED

    assert (
        post(
            api, f"/api/stays/{two}/status", {"status": "checked_in", "room_number": "102"}
        ).status_code
        == 200
    )
    # Another hotel's room 101 is another room.
    assert (
        post(
            api,
            f"/api/stays/{elsewhere}/status",
            {"status": "checked_in", "room_number": "101"},
        ).status_code
        == 200
    )
    # A move to another household's number is refused the same way.
    moved = post(api, f"/api/stays/{two}/move", {"room_number": "101"})
    assert moved.status_code == 409 and f"stay {one}" in moved.json()["message"]
    assert Stay.objects.get(pk=two).room_number == "102"


def test_the_hotels_guest_list_comes_a_page_at_a_time(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = world.api(Role.LOGISTICS)
    client = world.client(Role.LOGISTICS)
    monkeypatch.setattr(views, "STAYS_PER_PAGE", 2)
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=3)
    stays = [house(api, register_household(world, 1), hotel, 0, 1)[0] for _i in range(3)]

    def shown(page: str) -> list[int]:
        text = client.get(f"/shelter/hotels/{hotel.pk}/{page}").content.decode()
        table = re.search(r'<table[^>]*id="stays".*?</table>', text, re.S)
        assert table is not None
        return [int(n) for n in re.findall(r'<tr id="stay-(\d+)"', table.group(0))]

    first = client.get(f"/shelter/hotels/{hotel.pk}/").content.decode()
    assert "3 rooms" in first and "1–2 shown" in first
    assert 'href="?page=2"' in first
    assert shown("") + shown("?page=2") == stays
