"""A stay's history (`StayEvent`) is append-only, like the audit log: the model refuses
updates and deletes, and so does the database."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from aman.core.roles import Role
from aman.shelter.models import StayEvent
from aman.shelter.services import household_house
from tests.conftest import World
from tests.shelter.conftest import make_block, make_hotel, register_household, today

pytestmark = pytest.mark.django_db


def _event(world: World) -> StayEvent:
    hotel = make_hotel(world)
    make_block(hotel, world, rooms=1, beds=4)
    (stay,) = household_house(
        actor=world.users[Role.LOGISTICS],
        crisis=world.crisis,
        household=register_household(world, 2),
        hotel=hotel,
        first_night=today(),
        last_night=today(),
    )
    return StayEvent.objects.get(stay=stay)


def test_the_history_refuses_changes_through_the_orm(world: World) -> None:
    event = _event(world)
    event.note = "forged"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        StayEvent.objects.filter(pk=event.pk).update(note="forged")
    with pytest.raises(TypeError):
        StayEvent.objects.all().delete()
    event.refresh_from_db()
    assert event.note == "" and StayEvent.objects.count() == 1


@pytest.mark.parametrize(
    "sql", ["UPDATE shelter_stayevent SET note = 'forged'", "DELETE FROM shelter_stayevent"]
)
def test_the_database_refuses_changes_to_the_history(world: World, sql: str) -> None:
    if sql.startswith("DELETE") and connection.vendor == "sqlite":
        pytest.skip("SQLite (embedded demo) refuses deletes in the model layer only")
    event = _event(world)
    with (
        pytest.raises((DatabaseError, IntegrityError)),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    event.refresh_from_db()
    assert event.note == ""
