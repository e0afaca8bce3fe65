"""Migration 0004 gives every block that exists one change of its rooms: its number of rooms
from its first night, recorded when and by whom the block was made — so that its capacity,
occupancy and free rooms read the same before and after the upgrade."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from aman.core.roles import Role
from aman.shelter import selectors
from aman.shelter.models import RoomBlock, RoomBlockRooms
from tests.conftest import World
from tests.migrations import migrate as _migrate
from tests.migrations import migrate_to_the_latest as _migrate_to_the_latest
from tests.shelter.conftest import hotel_today, make_block, make_hotel

BEFORE = ("shelter", "0003_stay_night_price")
AFTER = ("shelter", "0004_block_rooms_history")


@pytest.mark.django_db(transaction=True)
def test_every_block_gets_its_rooms_from_its_first_night(world: World) -> None:
    baku = make_hotel(world)
    today = hotel_today(baku)
    made = [
        make_block(baku, world, rooms=4, first_night=today - timedelta(days=3)),
        make_block(baku, world, rooms=7, first_night=today + timedelta(days=2)),
    ]
    capacity = [b.capacity for b in selectors.block_use(made)]
    (occupancy,) = selectors.occupancy([baku], today - timedelta(days=3), 10)
    try:
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
        assert RoomBlockRooms._meta.db_table not in tables
    finally:
        _migrate(AFTER)
        _migrate_to_the_latest()
    rows = list(RoomBlockRooms.objects.order_by("block_id").select_related("block"))
    assert [(r.block_id, r.from_night, r.rooms) for r in rows] == [
        (b.pk, b.first_night, b.rooms) for b in made
    ]
    assert all(r.recorded_at == r.block.created_at for r in rows)
    assert all(r.recorded_by == world.users[Role.LOGISTICS] for r in rows)
    blocks = list(RoomBlock.objects.filter(pk__in=[b.pk for b in made]).order_by("pk"))
    assert [u.capacity for u in selectors.block_use(blocks)] == capacity
    (again,) = selectors.occupancy([baku], today - timedelta(days=3), 10)
    assert again.nights == occupancy.nights


@pytest.mark.django_db(transaction=True)
def test_a_block_shrunk_before_the_upgrade_keeps_the_rooms_its_past_nights_held(
    world: World,
) -> None:
    """Before the history, a shrink checked only the nights from tonight on: a block of
    four rooms could become three while room 4 was held on nights already past. The
    migration gives those nights their four rooms, so that no night shows more rooms taken
    than it has."""
    from tests.shelter.test_moves import _shrinkable

    w = _shrinkable(world, world.api(Role.LOGISTICS))  # room 4 held on nights -2 and -1 only
    block, hotel = w["block"], w["hotel"]
    today = hotel_today(hotel)
    try:
        _migrate(BEFORE)
        with connection.cursor() as cursor:  # the shrink as the code before allowed it
            cursor.execute(
                f"UPDATE {RoomBlock._meta.db_table} SET rooms = 3 WHERE id = %s", [block.pk]
            )
    finally:
        _migrate(AFTER)
        _migrate_to_the_latest()
    changes = list(RoomBlockRooms.objects.filter(block=block).order_by("pk"))
    assert [(c.from_night, c.rooms) for c in changes] == [
        (today - timedelta(days=2), 4),
        (today, 3),
    ]
    (use,) = selectors.block_use([RoomBlock.objects.get(pk=block.pk)])
    assert use.capacity >= use.blocked
    (occupancy,) = selectors.occupancy([hotel], today - timedelta(days=2), 8)
    for n in occupancy.nights:
        assert n.rooms_taken <= n.rooms and n.rooms_free >= 0, n
    assert [n.rooms for n in occupancy.nights] == [4, 4, 3, 3, 3, 3, 3, 3]
