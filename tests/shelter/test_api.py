"""The shelter API: tour operators, hotels, room blocks, stays, suggestions, plans, exchange
rates; every refusal in the {"message", "extra"} shape, and nothing written when refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from aman.core.models import AuditEntry
from aman.core.roles import Role
from aman.registry.models import Household, Person
from aman.shelter.models import (
    ExchangeRate,
    Hotel,
    RoomBlock,
    Stay,
    StayEvent,
    StayNight,
    TourOperator,
)
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household, today

pytestmark = pytest.mark.django_db


def post(client: Any, url: str, body: Any, **headers: str) -> Any:
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def patch(client: Any, url: str, body: Any) -> Any:
    return client.patch(url, data=json.dumps(body), content_type="application/json")


def night(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


def codes(household: Household) -> list[str]:
    return list(
        Person.objects.filter(household=household)
        .order_by("id")
        .values_list("reference_code", flat=True)
    )


def errors(response: Any) -> Any:
    return response.json()["extra"]["errors"]


def fields_422(response: Any) -> set[str]:
    assert response.status_code == 422, response.content
    return {e["field"] for e in errors(response)}


def hotel_body(**over: Any) -> dict[str, Any]:
    return {
        "name": "Hotel Shah Palace",
        "country": "AZ",
        "address": "Baku, Old City",
        "latitude": 40.366,
        "longitude": 49.837,
        "phone": "+994 12 497 04 04",
        **over,
    }


def block_body(**over: Any) -> dict[str, Any]:
    return {
        "room_type": "family",
        "beds": 4,
        "rooms": 2,
        "first_night": night(0),
        "last_night": night(6),
        "rate": "90.00",
        "currency": "USD",
        "meals": "breakfast",
        "payer": "state",
        **over,
    }


# Tour operators and hotels ------------------------------------------------------------------


def test_tour_operators_and_hotels(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    made = post(api, "/api/tour-operators", {"name": "Kompas Tour", "phone": "+7 727 258 00 00"})
    assert made.status_code == 201 and made.json()["name"] == "Kompas Tour"
    again = post(api, "/api/tour-operators", {"name": "kompas tour"})
    assert again.status_code == 400 and errors(again)["name"]
    unknown_list = post(api, "/api/tour-operators", {"name": "X", "import_source": "nope"})
    assert unknown_list.status_code == 400 and errors(unknown_list)["import_source"]
    assert TourOperator.objects.count() == 1
    assert [t["name"] for t in api.get("/api/tour-operators").json()] == ["Kompas Tour"]

    body = hotel_body(tour_operator="Kompas Tour")
    first = post(api, "/api/hotels", body, **{"Idempotency-Key": "h1"})
    retry = post(api, "/api/hotels", body, **{"Idempotency-Key": "h1"})
    assert first.status_code == 201 == retry.status_code
    assert first.json()["id"] == retry.json()["id"] and Hotel.objects.count() == 1
    out = first.json()
    hotel = Hotel.objects.get(pk=out["id"])
    assert (out["name"], out["country"], out["place_id"], out["timezone"]) == (
        "Hotel Shah Palace",
        "AZ",
        hotel.place_id,
        "Asia/Baku",
    )
    assert out["tour_operator"]["name"] == "Kompas Tour"
    assert out["blocks"] == {
        "blocks": 0,
        "rooms": 0,
        "capacity": 0,
        "blocked": 0,
        "available": 0,
        "first_night": None,
        "last_night": None,
    }
    listed = api.get("/api/hotels").json()
    assert [h["id"] for h in listed["items"]] == [hotel.pk] and listed["count"] == 1
    assert api.get(f"/api/hotels?crisis={world.other_crisis.pk}").json()["items"] == []

    changed = patch(api, f"/api/hotels/{hotel.pk}", {"phone": "+994 12 000 11 22"})
    assert changed.status_code == 200
    assert (changed.json()["phone"], changed.json()["name"], changed.json()["address"]) == (
        "+994 12 000 11 22",
        "Hotel Shah Palace",
        "Baku, Old City",
    )
    assert AuditEntry.objects.filter(verb="hotel_update", object_id=str(hotel.pk)).exists()
    assert api.get(f"/api/hotels/{hotel.pk}").json()["phone"] == "+994 12 000 11 22"
    assert patch(api, f"/api/hotels/{hotel.pk}", {}).status_code == 400
    assert api.get("/api/hotels/999999").status_code == 404


def test_bad_hotels_are_refused_and_nothing_is_created(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    nameless = post(api, "/api/hotels", hotel_body(name=""))
    assert nameless.status_code == 400 and errors(nameless)["name"]
    assert "name" in nameless.json()["message"]
    nowhere = post(api, "/api/hotels", hotel_body(country="ZZ"))
    assert nowhere.status_code == 400 and list(errors(nowhere)) == ["country"]
    pole = post(api, "/api/hotels", hotel_body(latitude=95))
    assert pole.status_code == 400 and list(errors(pole)) == ["latitude"]
    assert fields_422(post(api, "/api/hotels", hotel_body(latitude="north"))) == {"latitude"}
    no_operator = post(api, "/api/hotels", hotel_body(tour_operator="Nobody Travel"))
    assert no_operator.status_code == 400 and errors(no_operator)["tour_operator"]
    assert Hotel.objects.count() == 0
    hotel = make_hotel(world)
    cleared = patch(api, f"/api/hotels/{hotel.pk}", {"name": "  "})
    assert cleared.status_code == 400 and errors(cleared)["name"]
    hotel.refresh_from_db()
    assert hotel.place.name.startswith("Hotel Caspian")


# Room blocks ---------------------------------------------------------------------------------


def test_blocks_are_contracted_and_refused_with_reasons(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    url = f"/api/hotels/{hotel.pk}/blocks"
    made = post(api, url, block_body(), **{"Idempotency-Key": "b1"})
    assert made.status_code == 201
    out = made.json()
    assert (out["capacity"], out["blocked"], out["available"], out["nights"]) == (14, 0, 14, 7)
    assert post(api, url, block_body(), **{"Idempotency-Key": "b1"}).json()["id"] == out["id"]

    backwards = post(api, url, block_body(first_night=night(3), last_night=night(1)))
    assert backwards.status_code == 400 and list(errors(backwards)) == ["last_night"]
    negative = post(api, url, block_body(rate="-5"))
    assert negative.status_code == 400 and list(errors(negative)) == ["rate"]
    assert fields_422(post(api, url, block_body(payer="the bank"))) == {"payer"}
    operatorless = post(api, url, block_body(payer="tour_operator"))
    assert operatorless.status_code == 400 and list(errors(operatorless)) == ["tour_operator"]
    no_rooms = post(api, url, block_body(rooms=0))
    assert no_rooms.status_code == 400 and list(errors(no_rooms)) == ["rooms"]
    bad_money = post(api, url, block_body(currency="dollars"))
    assert bad_money.status_code == 400 and list(errors(bad_money)) == ["currency"]
    assert RoomBlock.objects.count() == 1

    # Twin rooms take their beds from the type when none are given.
    twin = post(api, url, block_body(room_type="twin", beds=None, rooms=1))
    assert twin.status_code == 201 and twin.json()["beds"] == 2
    listed = api.get(url).json()
    assert [b["id"] for b in listed] == [out["id"], twin.json()["id"]]
    assert api.get(f"/api/hotels/{hotel.pk}").json()["blocks"]["capacity"] == 21


def test_a_block_cannot_shrink_below_a_room_in_use(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    block = make_block(hotel, world, rooms=3)
    for _ in range(2):
        housed = post(
            api,
            "/api/stays",
            {
                "household": register_household(world, 3).pk,
                "hotel": hotel.pk,
                "first_night": night(0),
                "last_night": night(1),
            },
        )
        assert housed.status_code == 201, housed.content
    shrink = patch(api, f"/api/blocks/{block.pk}", {"rooms": 1})
    assert shrink.status_code == 409 and list(errors(shrink)) == ["rooms"]
    later = patch(api, f"/api/blocks/{block.pk}", {"first_night": night(1)})
    assert later.status_code == 409 and list(errors(later)) == ["first_night"]
    block.refresh_from_db()
    assert (block.rooms, block.first_night) == (3, today())
    ok = patch(api, f"/api/blocks/{block.pk}", {"rooms": 2, "rate": "75.5"})
    assert ok.status_code == 200
    assert (ok.json()["rooms"], ok.json()["rate"], ok.json()["blocked"]) == (2, "75.50", 4)
    assert ok.json()["available"] == 2 * 7 - 4
    assert patch(api, f"/api/blocks/{block.pk}", {}).status_code == 400
    summary = api.get(f"/api/hotels/{hotel.pk}").json()["blocks"]
    assert (summary["blocked"], summary["available"]) == (4, 10)


def test_occupancy_night_by_night(world: World) -> None:
    api = world.api(Role.CRISIS_MANAGER)
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=2, first_night=today(), last_night=today() + timedelta(2))
    household = register_household(world, 3)
    post(
        api,
        "/api/stays",
        {
            "household": household.pk,
            "hotel": hotel.pk,
            "first_night": night(1),
            "last_night": night(1),
        },
    )
    got = api.get(f"/api/hotels/{hotel.pk}/occupancy?from={night(0)}&days=4")
    assert got.status_code == 200, got.content
    nights = got.json()["nights"]
    assert [n["night"] for n in nights] == [night(i) for i in range(4)]
    assert [n["rooms"] for n in nights] == [2, 2, 2, 0]
    assert [n["rooms_taken"] for n in nights] == [0, 1, 0, 0]
    assert [n["rooms_free"] for n in nights] == [2, 1, 2, 0]
    assert [n["adults"] + n["children"] for n in nights] == [0, 3, 0, 0]
    assert [(n["arrivals"], n["departures"]) for n in nights] == [(0, 0), (1, 0), (0, 1), (0, 0)]
    assert fields_422(api.get(f"/api/hotels/{hotel.pk}/occupancy?days=61")) == {"days"}
    assert fields_422(api.get(f"/api/hotels/{hotel.pk}/occupancy?days=0")) == {"days"}
    assert len(api.get(f"/api/hotels/{hotel.pk}/occupancy").json()["nights"]) == 14


# Stays ---------------------------------------------------------------------------------------


def stay_body(**over: Any) -> dict[str, Any]:
    return {"first_night": night(0), "last_night": night(2), **over}


def test_a_refused_room_is_named_by_its_place_in_rooms(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    family = make_block(hotel, world, rooms=1)
    double = make_block(hotel, world, room_type="double", beds=2, rooms=1)
    people = codes(register_household(world, 3))
    housed = post(
        api,
        "/api/stays",
        stay_body(
            rooms=[
                {"block": family.pk, "guests": people[:1]},
                {"block": double.pk, "guests": people[1:]},
            ]
        ),
    )
    assert housed.status_code == 201
    taken = post(
        api,
        "/api/stays",
        stay_body(rooms=[{"block": family.pk, "guests": codes(register_household(world, 2))}]),
    )
    assert taken.status_code == 409 and list(errors(taken)) == ["rooms.0.block"]
    too_many = post(
        api,
        "/api/stays",
        stay_body(
            first_night=night(3),
            last_night=night(3),
            rooms=[{"block": double.pk, "guests": codes(register_household(world, 3))}],
        ),
    )
    assert too_many.status_code == 409 and list(errors(too_many)) == ["rooms.0.guests"]


def test_house_a_household_in_the_rooms_that_suit_it(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    family = make_block(hotel, world, rooms=1)
    make_block(hotel, world, room_type="double", beds=2, rooms=2)
    household = register_household(world, 5)
    people = codes(household)

    made = post(
        api,
        "/api/stays",
        stay_body(household=household.pk, hotel=hotel.pk),
        **{"Idempotency-Key": "s1"},
    )
    assert made.status_code == 201, made.content
    stays = made.json()
    assert len(stays) == 2 and sorted(c for s in stays for c in s["guests"]) == sorted(people)
    assert {s["hotel_id"] for s in stays} == {hotel.pk} and len({s["group"] for s in stays}) == 1
    assert {s["source"] for s in stays} == {"api"} and {s["status"] for s in stays} == {"planned"}
    assert StayNight.objects.count() == 2 * 3

    retry = post(
        api,
        "/api/stays",
        stay_body(household=household.pk, hotel=hotel.pk),
        **{"Idempotency-Key": "s1"},
    )
    assert retry.status_code == 201 and [s["id"] for s in retry.json()] == [s["id"] for s in stays]
    assert Stay.objects.count() == 2

    twice = post(
        api,
        "/api/stays",
        stay_body(
            household=household.pk, hotel=hotel.pk, first_night=night(2), last_night=night(3)
        ),
    )
    assert twice.status_code == 409 and twice.json()["extra"]["already"] == sorted(people)

    # The family room is taken: three people now need two doubles, and only one is left.
    other = register_household(world, 3)
    too_few = post(api, "/api/stays", stay_body(household=other.pk, hotel=hotel.pk))
    assert too_few.status_code == 409 and too_few.json()["extra"] == {"hotel": hotel.pk}
    assert Stay.objects.count() == 2 and StayNight.objects.count() == 6

    # Explicit rooms: a couple in the last double.
    couple = register_household(world, 2)
    pair = codes(couple)
    double = RoomBlock.objects.get(hotel=hotel, room_type="double")
    explicit = post(
        api,
        "/api/stays",
        stay_body(rooms=[{"block": double.pk, "guests": [pair[0].lower(), pair[1]]}]),
    )
    assert explicit.status_code == 201, explicit.content
    assert explicit.json()[0]["block_id"] == double.pk
    assert sorted(explicit.json()[0]["guests"]) == sorted(pair)
    assert explicit.json()[0]["household_id"] == couple.pk
    assert family.pk not in {s["block_id"] for s in explicit.json()}


def test_a_household_stays_together_unless_a_reason_is_given(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    make_block(hotel, world, room_type="double", beds=2, rooms=3)
    household = register_household(world, 3)
    people = codes(household)
    part = post(api, "/api/stays", stay_body(people=people[:2], hotel=hotel.pk))
    assert part.status_code == 409 and part.json()["extra"] == {"missing": people[2:]}
    assert people[2] in part.json()["message"] and Stay.objects.count() == 0
    split = post(
        api, "/api/stays", stay_body(people=people[:2], hotel=hotel.pk, split_reason="visa")
    )
    assert split.status_code == 201 and sorted(split.json()[0]["guests"]) == sorted(people[:2])
    assert split.json()[0]["split_reason"] == "visa"

    # Someone of another household cannot be slipped into this one's rooms.
    stranger = codes(register_household(world, 1))
    mixed = post(
        api,
        "/api/stays",
        stay_body(household=household.pk, people=stranger, hotel=hotel.pk, split_reason="x"),
    )
    assert mixed.status_code == 400 and stranger[0] in mixed.json()["message"]
    assert list(errors(mixed)) == ["people"]

    unknown = post(api, "/api/stays", stay_body(people=["ZZZZZZZZ"], hotel=hotel.pk))
    assert unknown.status_code == 400 and unknown.json()["extra"]["people"] == ["ZZZZZZZZ"]
    assert list(errors(unknown)) == ["people"]
    nowhere = post(api, "/api/stays", stay_body(household=register_household(world, 1).pk))
    assert nowhere.status_code == 400
    no_hotel = post(api, "/api/stays", stay_body(household=household.pk, hotel=999999))
    assert no_hotel.status_code == 400 and list(errors(no_hotel)) == ["hotel"]
    no_block = post(api, "/api/stays", stay_body(rooms=[{"block": 999999, "guests": people[2:]}]))
    assert no_block.status_code == 400 and no_block.json()["extra"]["blocks"] == [999999]
    backwards = post(
        api, "/api/stays", stay_body(household=household.pk, hotel=hotel.pk, last_night=night(-1))
    )
    assert backwards.status_code == 400 and list(errors(backwards)) == ["last_night"]
    bad_payer = post(
        api, "/api/stays", stay_body(household=household.pk, hotel=hotel.pk, payer="x")
    )
    assert fields_422(bad_payer) == {"payer"}
    assert Stay.objects.count() == 1


def test_stay_status_nights_and_history(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    block = make_block(hotel, world, rooms=1)
    first = register_household(world, 2)
    second = register_household(world, 2)
    (stay,) = post(
        api, "/api/stays", stay_body(household=first.pk, hotel=hotel.pk, last_night=night(1))
    ).json()
    (later,) = post(
        api,
        "/api/stays",
        stay_body(household=second.pk, hotel=hotel.pk, first_night=night(2), last_night=night(3)),
    ).json()
    assert later["room"] == stay["room"] == 1

    taken = post(api, f"/api/stays/{stay['id']}/nights", {"last_night": night(2)})
    assert taken.status_code == 409 and list(errors(taken)) == ["last_night"]
    past_block = post(api, f"/api/stays/{later['id']}/nights", {"last_night": night(7)})
    assert past_block.status_code == 409 and list(errors(past_block)) == ["last_night"]
    assert StayNight.objects.filter(stay_id=stay["id"]).count() == 2
    longer = post(
        api, f"/api/stays/{later['id']}/nights", {"last_night": night(5), "note": "flight moved"}
    )
    assert longer.status_code == 200 and longer.json()["last_night"] == night(5)
    assert StayNight.objects.filter(stay_id=later["id"]).count() == 4

    in_ = post(
        api, f"/api/stays/{stay['id']}/status", {"status": "checked_in", "room_number": "204"}
    )
    assert in_.status_code == 200 and in_.json()["room_number"] == "204"
    out = post(api, f"/api/stays/{stay['id']}/status", {"status": "checked_out"})
    assert out.status_code == 200 and out.json()["status"] == "checked_out"
    back = post(api, f"/api/stays/{stay['id']}/status", {"status": "checked_in"})
    assert back.status_code == 409 and back.json()["extra"]["current"] == "checked_out"
    nonsense = post(api, f"/api/stays/{stay['id']}/status", {"status": "asleep"})
    assert fields_422(nonsense) == {"status"}

    silent = post(api, f"/api/stays/{later['id']}/status", {"status": "cancelled"})
    assert silent.status_code == 400 and list(errors(silent)) == ["note"]
    assert Stay.objects.get(pk=later["id"]).status == "planned"
    cancelled = post(
        api, f"/api/stays/{later['id']}/status", {"status": "cancelled", "note": "went by land"}
    )
    assert (
        cancelled.status_code == 200 and not StayNight.objects.filter(stay_id=later["id"]).exists()
    )
    assert StayNight.objects.filter(block=block).count() == (
        StayNight.objects.filter(stay_id=stay["id"]).count()
    )

    detail = api.get(f"/api/stays/{stay['id']}")
    assert detail.status_code == 200
    got = detail.json()
    assert [p["reference_code"] for p in got["people"]] and {
        p["reference_code"] for p in got["people"]
    } == set(codes(first))
    assert {p["surname"] for p in got["people"]} <= {"Ахметов", "Ахметова"}
    assert [e["status"] for e in got["events"]] == ["planned", "checked_in", "checked_out"]
    assert got["events"][1]["actor"] == "logistics" and got["hotel"] == str(hotel)
    assert StayEvent.objects.filter(stay_id=later["id"], note="went by land").exists()
    assert AuditEntry.objects.filter(
        verb="stay_detail", action="read", object_id=str(stay["id"])
    ).exists()
    assert api.get("/api/stays/999999").status_code == 404


def test_stays_are_listed_with_filters_and_the_read_is_audited(world: World) -> None:
    api = world.api(Role.CRISIS_MANAGER)
    hotel = make_hotel(world)
    other_hotel = make_hotel(world)
    make_block(hotel, world, rooms=2)
    make_block(other_hotel, world, rooms=2)
    a, b = register_household(world, 2), register_household(world, 2)
    (sa,) = post(api, "/api/stays", stay_body(household=a.pk, hotel=hotel.pk)).json()
    (sb,) = post(
        api,
        "/api/stays",
        stay_body(household=b.pk, hotel=other_hotel.pk, first_night=night(3), last_night=night(4)),
    ).json()
    everything = api.get("/api/stays").json()
    assert [s["id"] for s in everything["items"]] == [sa["id"], sb["id"]]
    assert everything["items"][0]["guests"] == sorted(codes(a))
    assert [s["id"] for s in api.get(f"/api/stays?hotel={other_hotel.pk}").json()["items"]] == [
        sb["id"]
    ]
    assert [s["id"] for s in api.get(f"/api/stays?night={night(1)}").json()["items"]] == [sa["id"]]
    assert [s["id"] for s in api.get(f"/api/stays?household={b.pk}").json()["items"]] == [sb["id"]]
    assert api.get("/api/stays?status=checked_in").json()["items"] == []
    assert fields_422(api.get("/api/stays?status=asleep")) == {"status"}
    assert AuditEntry.objects.filter(verb="stay_list", action="read").count() == 5


# Suggestions and plans -----------------------------------------------------------------------


def test_suggest_writes_nothing(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    near = make_hotel(world, latitude=40.4, longitude=49.85)
    make_block(near, world, rooms=1)
    big, small = register_household(world, 4), register_household(world, 2)
    audit_before_id = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    got = post(
        api,
        "/api/stays/suggest",
        {"households": [big.pk, small.pk], "first_night": night(0), "last_night": night(2)},
    )
    assert got.status_code == 200, got.content
    by_household = {s["household"]: s for s in got.json()}
    assert set(by_household) == {big.pk, small.pk}
    placed = [s for s in got.json() if s["hotel"]]
    assert len(placed) == 1 and placed[0]["hotel"]["id"] == near.pk
    assert sorted(placed[0]["rooms"][0]["guests"]) == sorted(
        codes(Household.objects.get(pk=placed[0]["household"]))
    )
    assert placed[0]["rooms"][0]["room_type"] == "family"
    unplaced = [s for s in got.json() if not s["hotel"]]
    assert unplaced[0]["reason"] and unplaced[0]["rooms"] == []
    assert Stay.objects.count() == 0 == StayNight.objects.count()
    # Only the read of the guests' reference codes is written down.
    new = AuditEntry.objects.filter(pk__gt=audit_before_id)
    assert list(new.values_list("verb", "action")) == [("shelter_suggest", "read")]

    unknown = post(
        api,
        "/api/stays/suggest",
        {
            "households": [big.pk, 999999],
            "hotels": [888888],
            "first_night": night(0),
            "last_night": night(1),
        },
    )
    assert unknown.status_code == 400 and set(errors(unknown)) == {"households", "hotels"}
    assert unknown.json()["extra"]["households"] == [999999]
    backwards = post(
        api,
        "/api/stays/suggest",
        {"households": [big.pk], "first_night": night(2), "last_night": night(0)},
    )
    assert backwards.status_code == 422
    assert (
        post(
            api,
            "/api/stays/suggest",
            {"households": [], "first_night": night(0), "last_night": night(0)},
        ).status_code
        == 422
    )


def test_a_plan_takes_its_hotel_nights_once_and_all_or_nothing(world: World) -> None:
    api = world.api(Role.LOGISTICS)
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=2)
    one, two, three = (register_household(world, 3) for _ in range(3))

    def item(h: Household, first: int = 0, last: int = 1) -> dict[str, Any]:
        return {
            "household": h.pk,
            "hotel": hotel.pk,
            "first_night": night(first),
            "last_night": night(last),
        }

    plan = {"plan_ref": "plan-7", "items": [item(one), item(two)]}
    made = post(api, "/api/stays/from-plan", plan)
    assert made.status_code == 201, made.content
    assert sorted(s["household_id"] for s in made.json()) == sorted([one.pk, two.pk])
    assert {(s["source"], s["source_ref"]) for s in made.json()} == {("plan", "plan-7")}
    again = post(api, "/api/stays/from-plan", plan)
    assert again.status_code == 201 and again.json() == []
    assert Stay.objects.count() == 2 and StayNight.objects.count() == 4

    # The third household finds no room on the first nights: nothing of this plan is taken.
    full = post(
        api,
        "/api/stays/from-plan",
        {"plan_ref": "plan-8", "items": [item(three, 3, 4), item(three, 0, 1)]},
    )
    assert full.status_code == 409
    assert Stay.objects.count() == 2 and StayNight.objects.count() == 4

    unknown = post(
        api,
        "/api/stays/from-plan",
        {"plan_ref": "plan-9", "items": [{**item(three), "household": 999999}]},
    )
    assert unknown.status_code == 400 and list(errors(unknown)) == ["items.0.household"]
    assert fields_422(post(api, "/api/stays/from-plan", {"plan_ref": "", "items": []})) == {
        "plan_ref"
    }
    backwards = post(api, "/api/stays/from-plan", {"plan_ref": "p", "items": [item(three, 2, 1)]})
    assert backwards.status_code == 422
    assert Stay.objects.count() == 2


# Exchange rates ------------------------------------------------------------------------------


def test_exchange_rates(world: World) -> None:
    api = world.api(Role.CRISIS_MANAGER)
    body = {"currency": "usd", "rate": "512.30", "valid_from": "2026-03-01", "source": "NBK"}
    made = post(api, "/api/exchange-rates", body)
    assert made.status_code == 201 and made.json()["currency"] == "USD"
    assert made.json()["rate"] == "512.300000" and made.json()["recorded_by"] == "crisis_manager"
    corrected = post(api, "/api/exchange-rates", {**body, "rate": "515"})
    assert corrected.status_code == 201 and ExchangeRate.objects.get().rate == 515
    bad = post(api, "/api/exchange-rates", {**body, "currency": "dollars"})
    assert bad.status_code == 400 and list(errors(bad)) == ["currency"]
    negative = post(api, "/api/exchange-rates", {**body, "currency": "AZN", "rate": "-1"})
    assert negative.status_code == 400 and list(errors(negative)) == ["rate"]
    assert fields_422(post(api, "/api/exchange-rates", {**body, "valid_from": "March"})) == {
        "valid_from"
    }
    assert ExchangeRate.objects.count() == 1
    listed = api.get("/api/exchange-rates").json()
    assert [(r["currency"], r["rate"]) for r in listed] == [("USD", "515.000000")]
    assert api.get(f"/api/exchange-rates?crisis={world.other_crisis.pk}").json() == []


# Access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", [Role.CONSUL, Role.OPERATOR, Role.DUTY_OFFICER])
def test_only_shelter_roles_reach_the_api(world: World, persona: str) -> None:
    hotel = make_hotel(world)
    household = register_household(world, 2)
    api = world.api(persona)
    assert api.get("/api/hotels").status_code == 403
    assert api.get(f"/api/hotels/{hotel.pk}").status_code == 403
    assert api.get("/api/stays").status_code == 403
    refused = post(api, "/api/stays", stay_body(household=household.pk, hotel=hotel.pk))
    assert refused.status_code == 403 and refused.json()["message"]
    assert post(api, "/api/hotels", hotel_body()).status_code == 403
    assert Hotel.objects.count() == 1 and Stay.objects.count() == 0


def test_observer_and_anonymous_are_refused(world: World) -> None:
    anonymous = world.api("anonymous")
    assert anonymous.get("/api/hotels").status_code == 401
    assert post(anonymous, "/api/hotels", hotel_body()).status_code == 401
    observer = world.api(Role.OBSERVER)
    assert observer.get("/api/hotels").status_code == 403
    assert (
        post(
            observer,
            "/api/stays/suggest",
            {"households": [1], "first_night": night(0), "last_night": night(0)},
        ).status_code
        == 403
    )
    assert Hotel.objects.count() == 0
