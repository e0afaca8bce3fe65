"""Every history is append-only, as the audit log and a stay's history are: a person's
journey (`StatusEvent`), a leg's and a booking's (`LegEvent`, `BookingEvent`) and a
crossing's status (`PlaceStatusEvent`). The model refuses changes, so does the database,
and the subject of a history cannot be deleted while it has one. A merge may still refile
a journey under the record it keeps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, connection, models, transaction
from django.db.models import ProtectedError

from aman.core.roles import Role
from aman.geo.models import PlaceStatusEvent
from aman.geo.services import place_status_set
from aman.registry.models import Person, StatusEvent
from aman.transport import services as transport
from aman.transport.models import BookingEvent, LegEvent
from tests.conftest import World
from tests.transport.conftest import make_leg, place, register_household

pytestmark = pytest.mark.django_db


def _journey(world: World) -> StatusEvent:
    household = register_household(world, 1)
    return StatusEvent.objects.filter(person__household=household).latest("id")


def _booking(world: World) -> BookingEvent:
    household = register_household(world, 1)
    leg = make_leg(world, capacity=2)
    (booking,) = transport.leg_book(
        actor=world.users[Role.LOGISTICS], leg=leg, people=list(household.members.all())
    )
    return BookingEvent.objects.filter(booking=booking).latest("id")


def _leg(world: World) -> LegEvent:
    leg = make_leg(world)
    transport.leg_set_status(actor=world.users[Role.LOGISTICS], leg=leg, status="confirmed")
    return LegEvent.objects.filter(leg=leg).latest("id")


def _crossing(world: World) -> PlaceStatusEvent:
    crossing = place("crossing", code="IR-AZ-ASTARA")
    return place_status_set(
        actor=world.users[Role.LOGISTICS], place=crossing, status="closed", reason="Shelling"
    )


HISTORIES: dict[str, tuple[Callable[[World], Any], str, str]] = {
    # name: (an event written by the real service, its table, the subject's field)
    "journey": (_journey, "registry_statusevent", "person"),
    "booking": (_booking, "transport_bookingevent", "booking"),
    "leg": (_leg, "transport_legevent", "leg"),
    "crossing": (_crossing, "geo_placestatusevent", "place"),
}


@pytest.mark.parametrize("history", HISTORIES)
def test_the_model_refuses_changes(world: World, history: str) -> None:
    make, _table, _subject = HISTORIES[history]
    event = make(world)
    model = type(event)
    count = model.objects.count()
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    with pytest.raises(TypeError, match="append-only"):
        model.objects.filter(pk=event.pk).update(status="open")
    with pytest.raises(TypeError, match="append-only"):
        model.objects.all().delete()
    assert model.objects.count() == count
    assert model.objects.get(pk=event.pk).status == event.status


@pytest.mark.parametrize("history", HISTORIES)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET status = 'x'", "DELETE FROM {table}"])
def test_the_database_refuses_changes(world: World, history: str, statement: str) -> None:
    if statement.startswith("DELETE") and connection.vendor == "sqlite":
        pytest.skip("SQLite (embedded demo) refuses deletes in the model layer only")
    make, table, _subject = HISTORIES[history]
    event = make(world)
    with (
        pytest.raises((DatabaseError, IntegrityError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(table=table))
    assert type(event).objects.get(pk=event.pk).status == event.status


@pytest.mark.parametrize("history", HISTORIES)
def test_what_has_a_history_cannot_be_deleted(world: World, history: str) -> None:
    make, _table, subject = HISTORIES[history]
    event = make(world)
    owner: models.Model = getattr(event, subject)
    with pytest.raises(ProtectedError), transaction.atomic():
        owner.delete()
    assert type(owner).objects.filter(pk=owner.pk).exists()


def test_a_journey_may_be_refiled_under_another_record_but_not_rewritten(world: World) -> None:
    """What a merge does (and its undo): the events move to the kept record unchanged."""
    event = _journey(world)
    other = Person.objects.exclude(pk=event.person_id).first()
    assert other is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_statusevent SET person_id = %s WHERE id = %s", [other.pk, event.pk]
        )
    assert StatusEvent.objects.get(pk=event.pk).person_id == other.pk
    with (
        pytest.raises((DatabaseError, IntegrityError), match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE registry_statusevent SET person_id = %s, note = 'forged' WHERE id = %s",
            [event.person_id, event.pk],
        )
    assert StatusEvent.objects.get(pk=event.pk).note == event.note
