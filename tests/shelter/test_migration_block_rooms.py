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
