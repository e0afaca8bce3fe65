"""Migration 0003 gives every night booked before it the price of its block, so that the
ledger of an existing database reads the same before and after the upgrade."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from aman.shelter import ledger as ledgers
from aman.shelter.models import StayNight
from aman.shelter.services import household_house
from tests.conftest import World
from tests.migrations import migrate as _migrate
from tests.migrations import migrate_to_the_latest as _migrate_to_the_latest
from tests.shelter.conftest import hotel_today, make_block, make_hotel, register_household

BEFORE = ("shelter", "0002_stay_event_append_only")
AFTER = ("shelter", "0003_stay_night_price")


@pytest.mark.django_db(transaction=True)
def test_the_nights_booked_before_the_upgrade_get_their_blocks_price(world: World) -> None:
    baku = make_hotel(world)
    dubai = make_hotel(world, country="AE", latitude=25.27, longitude=55.30)
    today = hotel_today(baku)
    usd = make_block(baku, world, first_night=today - timedelta(days=3), rate="80.00")
    aed = make_block(dubai, world, rate="350.25", currency="AED", first_night=today)
    for hotel, first, last in ((baku, -3, 1), (dubai, 0, 2)):
        household_house(
            actor=None,
            crisis=world.crisis,
            household=register_household(world, 2),
            hotel=hotel,
            first_night=today + timedelta(days=first),
            last_night=today + timedelta(days=last),
        )
    book = ledgers.ledger_build(crisis=world.crisis)
    expected = sorted((x.night, x.currency, x.rate, x.room_nights) for x in book.lines)
    rows = StayNight.objects.count()
    try:
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            table = connection.introspection.get_table_description(cursor, StayNight._meta.db_table)
        columns = [c.name for c in table]
        assert "rate" not in columns and "currency" not in columns
    finally:
        _migrate(AFTER)
        _migrate_to_the_latest()
    assert StayNight.objects.count() == rows
    prices = {
        (block_id, rate, currency)
        for block_id, rate, currency in StayNight.objects.values_list("block", "rate", "currency")
    }
    assert prices == {(usd.pk, Decimal("80.00"), "USD"), (aed.pk, Decimal("350.25"), "AED")}
    book = ledgers.ledger_build(crisis=world.crisis)
    assert sorted((x.night, x.currency, x.rate, x.room_nights) for x in book.lines) == expected
