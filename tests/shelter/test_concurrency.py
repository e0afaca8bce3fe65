"""The last room cannot be given twice: concurrent transactions on PostgreSQL, each thread
with its own connection, released at the same moment."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from aman.core.errors import Conflict
from aman.core.roles import Role
from aman.registry.models import Household, Person
from aman.shelter import services
from aman.shelter.models import Hotel, RoomBlock, Stay, StayNight
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household, today
from tests.transport.test_concurrency import race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks and concurrent transactions are tested on PostgreSQL")


def one_room_left(world: World, nights: int = 3) -> tuple[Hotel, RoomBlock]:
    """A hotel whose only block has two family rooms, one already given."""
    hotel = make_hotel(world)
    block = make_block(hotel, world, rooms=2)
    services.household_house(
        actor=world.users[Role.LOGISTICS],
        crisis=world.crisis,
        household=register_household(world, 3),
        hotel=hotel,
        first_night=today(),
        last_night=today() + timedelta(days=nights - 1),
    )
    return hotel, block


def assert_one_household_per_room_and_night(block: RoomBlock, nights: int) -> None:
    per_night = dict(
        StayNight.objects.filter(block=block)
        .values_list("night")
        .annotate(n=Count("id"))
        .values_list("night", "n")
    )
    assert per_night == {today() + timedelta(days=i): block.rooms for i in range(nights)}
    assert (
        StayNight.objects.filter(block=block).values("room", "night").distinct().count()
        == block.rooms * nights
    )


def test_two_officers_cannot_give_the_last_room_twice(world: World) -> None:
    house = partial(services.household_house, crisis=world.crisis, first_night=today())
    officers = [world.users[Role.LOGISTICS], world.users[Role.CRISIS_MANAGER]]
    for round_ in range(4):
        hotel, block = one_room_left(world)
        households = [register_household(world, 3), register_household(world, 2)]
        members = [list(Person.objects.filter(household=h)) for h in households]
        last = today() + timedelta(days=2)
        if round_ % 2 == 0:
            # The service chooses the rooms of the hotel.
            calls = [
                partial(house, actor=o, household=h, hotel=hotel, last_night=last)
                for o, h in zip(officers, households, strict=True)
            ]
        else:
            # Each officer names the room block and its guests.
            calls = [
                partial(house, actor=o, rooms=[(block, p)], last_night=last)
                for o, p in zip(officers, members, strict=True)
            ]
        results = race(calls)
        won = [r for r in results if isinstance(r, list)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(won) == 1 and len(lost) == 1, (round_, results)
        assert "free" in lost[0].message
        assert Stay.objects.filter(block=block).count() == 2
        assert_one_household_per_room_and_night(block, 3)
        # The loser's household has no stay at all: all or nothing.
        loser = households[results.index(lost[0])]
        assert not Stay.objects.filter(household=loser).exists()


def test_the_database_refuses_a_second_household_in_a_room_for_a_night(world: World) -> None:
    hotel, block = one_room_left(world)
    (second,) = services.household_house(
        actor=None,
        crisis=world.crisis,
        household=register_household(world, 2),
        hotel=hotel,
        first_night=today(),
        last_night=today(),
    )
    taken = StayNight.objects.filter(block=block).exclude(stay=second).first()
    assert taken is not None and taken.room != second.room
    with (
        pytest.raises(IntegrityError, match="stay_night_one_household_per_room"),
        transaction.atomic(),
    ):
        StayNight.objects.create(
            stay=second,
            block=block,
            room=taken.room,
            night=taken.night,
            rate=block.rate,
            currency=block.currency,
        )
    assert StayNight.objects.filter(block=block, room=taken.room, night=taken.night).count() == 1

    # Two raw inserts at once, past every service check: one gets through.
    free_night = today() + timedelta(days=5)
    stays = list(Stay.objects.filter(block=block))

    def insert(stay: Stay) -> int:
        return StayNight.objects.create(
            stay=stay,
            block=block,
            room=1,
            night=free_night,
            rate=block.rate,
            currency=block.currency,
        ).pk

    results = race([lambda s=s: insert(s) for s in stays])
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert sum(isinstance(r, IntegrityError) for r in results) == 1, results
    assert StayNight.objects.filter(block=block, room=1, night=free_night).count() == 1


def test_a_plan_and_an_officer_on_the_last_room(world: World) -> None:
    for _round in range(3):
        hotel, block = one_room_left(world, nights=2)
        planned, walk_in = register_household(world, 3), register_household(world, 3)
        last = today() + timedelta(days=1)
        results = race(
            [
                partial(
                    services.stays_from_plan,
                    actor=None,
                    crisis=world.crisis,
                    items=[services.PlanNights(planned, hotel, today(), last)],
                    plan_ref="plan-race",
                ),
                partial(
                    services.household_house,
                    actor=world.users[Role.LOGISTICS],
                    crisis=world.crisis,
                    household=walk_in,
                    hotel=hotel,
                    first_night=today(),
                    last_night=last,
                ),
            ]
        )
        won = [r for r in results if isinstance(r, list)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(won) == 1 and len(lost) == 1, results
        assert_one_household_per_room_and_night(block, 2)
        winner = planned if isinstance(results[0], list) else walk_in
        assert Stay.objects.filter(block=block, household=winner).count() == 1
        assert Household.objects.filter(stays__block=block).count() == 2


def test_extending_a_stay_and_housing_another_household_on_that_night(world: World) -> None:
    """Both lock the block first: one of them gets the room for the night."""
    logistics = world.users[Role.LOGISTICS]
    for _round in range(3):
        hotel = make_hotel(world)
        block = make_block(hotel, world, rooms=1)
        (stay,) = services.household_house(
            actor=logistics,
            crisis=world.crisis,
            household=register_household(world, 2),
            hotel=hotel,
            first_night=today(),
            last_night=today() + timedelta(days=1),
        )
        newcomer = register_household(world, 2)
        results = race(
            [
                lambda stay=stay: services.stay_change_nights(
                    actor=logistics, stay=stay, last_night=today() + timedelta(days=2)
                ),
                lambda h=newcomer, hotel=hotel: services.household_house(
                    actor=world.users[Role.CRISIS_MANAGER],
                    crisis=world.crisis,
                    household=h,
                    hotel=hotel,
                    first_night=today() + timedelta(days=2),
                    last_night=today() + timedelta(days=3),
                ),
            ]
        )
        assert sum(isinstance(r, Conflict) for r in results) == 1, results
        assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
        night = today() + timedelta(days=2)
        assert StayNight.objects.filter(block=block, night=night).count() == 1


def test_one_household_is_not_housed_twice_at_once_nor_deadlocked(world: World) -> None:
    """Two officers house the same household in two hotels at the same moment: its members
    are locked first, so the second sees the first one's rooms. And a check-in (guests →
    block → stay) beside housing the same guests again (guests → blocks) queues instead of
    deadlocking."""
    logistics, manager = world.users[Role.LOGISTICS], world.users[Role.CRISIS_MANAGER]
    for _round in range(3):
        hotels = [make_hotel(world), make_hotel(world)]
        for hotel in hotels:
            make_block(hotel, world, rooms=2)
        household = register_household(world, 3)
        results = race(
            [
                lambda o=o, hotel=hotel, h=household: services.household_house(
                    actor=o,
                    crisis=world.crisis,
                    household=h,
                    hotel=hotel,
                    first_night=today(),
                    last_night=today() + timedelta(days=1),
                )
                for o, hotel in zip((logistics, manager), hotels, strict=True)
            ]
        )
        assert sum(isinstance(r, list) for r in results) == 1, results
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(lost) == 1 and "Already housed" in lost[0].message
        assert Stay.objects.filter(household=household).count() == 1

        (stay,) = Stay.objects.filter(household=household)
        results = race(
            [
                lambda stay=stay: services.stay_set_status(
                    actor=logistics, stay=stay, status="checked_in", room_number="7"
                ),
                lambda h=household, hotel=hotels[1]: services.household_house(
                    actor=manager,
                    crisis=world.crisis,
                    household=h,
                    hotel=hotel,
                    first_night=today() + timedelta(days=2),
                    last_night=today() + timedelta(days=2),
                ),
            ]
        )
        assert not [r for r in results if isinstance(r, Exception)], results
        stay.refresh_from_db()
        assert stay.status == "checked_in"
        assert Stay.objects.filter(household=household).count() == 2


def _house(world: World, hotel: Hotel, size: int = 2, nights: int = 2) -> Stay:
    (stay,) = services.household_house(
        actor=world.users[Role.LOGISTICS],
        crisis=world.crisis,
        household=register_household(world, size),
        hotel=hotel,
        first_night=today(),
        last_night=today() + timedelta(days=nights - 1),
    )
    return stay


def test_two_moves_into_the_last_free_room(world: World) -> None:
    """Two officers move two households into the one free room of a block at the same
    moment: the block is locked, so the second sees the room taken."""
    officers = [world.users[Role.LOGISTICS], world.users[Role.CRISIS_MANAGER]]
    for _round in range(3):
        hotel = make_hotel(world)
        block = make_block(hotel, world, rooms=3)
        stays = [_house(world, hotel), _house(world, hotel)]
        free = ({1, 2, 3} - {s.room for s in stays}).pop()
        results = race(
            [
                lambda o=o, s=s, free=free: services.stay_move(actor=o, stay=s, room=free)
                for o, s in zip(officers, stays, strict=True)
            ]
        )
        moved = [r for r in results if isinstance(r, Stay)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(moved) == 1 and len(lost) == 1, results
        assert f"Room {free} of the block is held" in lost[0].message
        per_room_night = (
            StayNight.objects.filter(block=block)
            .values("room", "night")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
        )
        assert not per_room_night.exists()
        assert StayNight.objects.filter(block=block, room=free).count() == 2  # two nights


def test_a_move_and_a_new_household_on_the_last_free_room(world: World) -> None:
    """An officer moves a household into the last free room while another houses a new
    household in the same block: whoever locks the block first has the free room — the
    newcomer then gets the room the move left, or the move is refused — never one room
    twice on a night."""
    for _round in range(4):
        hotel = make_hotel(world)
        block = make_block(hotel, world, rooms=2)
        stay = _house(world, hotel)
        old = stay.room
        free = ({1, 2} - {old}).pop()
        newcomer = register_household(world, 2)
        moved, housed = race(
            [
                lambda s=stay, free=free: services.stay_move(
                    actor=world.users[Role.LOGISTICS], stay=s, room=free
                ),
                lambda h=newcomer, hotel=hotel: services.household_house(
                    actor=world.users[Role.CRISIS_MANAGER],
                    crisis=world.crisis,
                    household=h,
                    hotel=hotel,
                    first_night=today(),
                    last_night=today() + timedelta(days=1),
                ),
            ]
        )
        assert isinstance(housed, list), housed  # a room was free for it either way
        (theirs,) = housed
        if isinstance(moved, Stay):
            assert (moved.room, theirs.room) == (free, old)
        else:
            assert isinstance(moved, Conflict), moved
            assert f"Room {free} of the block is held" in moved.message
            assert theirs.room == free
        assert not (
            StayNight.objects.filter(block=block)
            .values("room", "night")
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .exists()
        )
        assert StayNight.objects.filter(block=block).count() == 4


def test_two_check_ins_into_one_hotel_room_number(world: World) -> None:
    """Two officers check two households into the same hotel room number at the same
    moment, in two blocks of one hotel: the hotel is locked, the second is refused."""
    officers = [world.users[Role.LOGISTICS], world.users[Role.CRISIS_MANAGER]]
    for n in range(3):
        hotel = make_hotel(world)
        make_block(hotel, world, rooms=1)
        make_block(hotel, world, rooms=1, room_type="double", beds=2)
        stays = [_house(world, hotel, size=2), _house(world, hotel, size=2)]
        assert stays[0].block_id != stays[1].block_id
        number = f"30{n}"
        results = race(
            [
                lambda o=o, s=s, number=number: services.stay_set_status(
                    actor=o, stay=s, status="checked_in", room_number=number
                )
                for o, s in zip(officers, stays, strict=True)
            ]
        )
        done = [r for r in results if isinstance(r, Stay)]
        lost = [r for r in results if isinstance(r, Conflict)]
        assert len(done) == 1 and len(lost) == 1, results
        assert f"Hotel room {number} is given to another household" in lost[0].message
        assert Stay.objects.filter(block__hotel=hotel, room_number=number).count() == 1
        assert Stay.objects.filter(block__hotel=hotel, status="checked_in").count() == 1


def test_a_shrink_and_a_new_household_on_the_last_free_room(world: World) -> None:
    """An officer shrinks the block to one room from tonight while another houses a new
    household in its last free room: both lock the block, so one of them wins — never a
    household in a room the block no longer has on a night."""
    from aman.core.errors import ApplicationError

    outcomes = set()
    for _round in range(4):
        hotel, block = one_room_left(world)
        newcomer = register_household(world, 2)
        shrunk, housed = race(
            [
                lambda b=block: services.block_update(
                    actor=world.users[Role.LOGISTICS], block=b, data={"rooms": 1}
                ),
                lambda h=newcomer, hotel=hotel: services.household_house(
                    actor=world.users[Role.CRISIS_MANAGER],
                    crisis=world.crisis,
                    household=h,
                    hotel=hotel,
                    first_night=today(),
                    last_night=today() + timedelta(days=1),
                ),
            ]
        )
        if isinstance(shrunk, RoomBlock):
            assert isinstance(housed, ApplicationError), housed
            outcomes.add("shrunk")
        else:
            assert isinstance(shrunk, Conflict) and "room 2: stay" in shrunk.message, shrunk
            assert isinstance(housed, list) and [s.room for s in housed] == [2], housed
            outcomes.add("housed")
        block.refresh_from_db()
        counts = block.room_counts()
        for night, room in StayNight.objects.filter(block=block).values_list("night", "room"):
            assert room <= counts.on(night), (night, room)
    assert outcomes
