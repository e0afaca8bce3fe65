from datetime import timedelta

import pytest

from aman.core.errors import ApplicationError, Conflict
from aman.shelter.models import StayNight, StayStatus
from aman.shelter.selectors import occupancy, suggest_rooms
from aman.shelter.services import household_house, stay_set_status
from tests.shelter.conftest import make_block, make_hotel, register_household, today

pytestmark = pytest.mark.django_db


def test_smoke(world, logistics):
    hotel = make_hotel(world)
    block = make_block(hotel, world, rooms=2)
    double = make_block(hotel, world, room_type="double", beds=None, rooms=2, rate="50")
    assert double.beds == 2
    h1 = register_household(world, 5)
    h2 = register_household(world, 2)
    sugg = suggest_rooms(
        user=logistics, crisis=world.crisis, households=[h1, h2],
        first=today(), last=today() + timedelta(days=2),
    )
    assert [len(s.rooms) for s in sugg] == [2, 1] or [len(s.rooms) for s in sugg] == [1, 2]
    stays = household_house(
        actor=logistics, crisis=world.crisis, household=h1, hotel=hotel,
        first_night=today(), last_night=today() + timedelta(days=2),
    )
    assert len(stays) == 2
    assert StayNight.objects.count() == 6
    with pytest.raises(Conflict):
        household_house(
            actor=logistics, crisis=world.crisis, household=h1, hotel=hotel,
            first_night=today(), last_night=today() + timedelta(days=2),
        )
    with pytest.raises(ApplicationError):
        household_house(
            actor=logistics, crisis=world.crisis, household=h2, hotel=hotel,
            first_night=today() + timedelta(days=3), last_night=today(),
        )
    s = stay_set_status(actor=logistics, stay=stays[0], status=StayStatus.CHECKED_IN, room_number="204")
    s = stay_set_status(actor=logistics, stay=s, status=StayStatus.CHECKED_OUT)
    assert s.last_night == today()
    occ = occupancy([hotel], today(), 3)
    print(occ)
    assert occ[0].nights[0].rooms == 4
