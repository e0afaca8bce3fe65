"""Access-matrix rows (see tests/shelter/access.py): vouchers, the public voucher check, the
cost ledger and exchange rates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.shelter.access import EVERY_ROLE, SHELTER


def voucher_stay(w: Any) -> int:
    """The person in Iran housed in a hotel of the world's crisis (created once)."""
    from django.utils import timezone

    from aman.registry.models import Person
    from aman.shelter.models import Stay
    from aman.shelter.services import block_create, hotel_create, household_house

    stay = Stay.objects.filter(crisis=w.crisis, source_ref="matrix-voucher").first()
    if stay is None:
        hotel = hotel_create(
            actor=None,
            crisis=w.crisis,
            data={"name": "Matrix Hotel", "country": "AZ", "address": "Baku"},
        )
        today = timezone.localdate()
        block_create(
            actor=None,
            hotel=hotel,
            data={
                "room_type": "double",
                "rooms": 2,
                "first_night": today,
                "last_night": today + timedelta(days=5),
                "rate": "60",
                "currency": "USD",
                "payer": "state",
            },
        )
        (stay,) = household_house(
            actor=None,
            crisis=w.crisis,
            people=[Person.objects.get(pk=w.people["IR"])],
            hotel=hotel,
            first_night=today,
            last_night=today + timedelta(days=1),
            source_ref="matrix-voucher",
        )
    return stay.pk


def voucher_code(w: Any) -> str:
    from aman.shelter.models import Stay
    from aman.shelter.vouchers import voucher_code as code

    return code(Stay.objects.get(pk=voucher_stay(w)))


ROWS: list[dict[str, Any]] = [
    {
        "name": "stay_voucher",
        "method": "get",
        "path": lambda w: f"/shelter/stays/{voucher_stay(w)}/voucher.png",
        "allowed": SHELTER,
    },
    {
        "name": "stay_voucher",
        "method": "get",
        "path": lambda w: f"/shelter/stays/{voucher_stay(w)}/voucher.pdf",
        "allowed": SHELTER,
    },
    {
        # Public: a hotel's front desk, no account.
        "name": "voucher_check",
        "method": "get",
        "path": lambda w: f"/voucher/{voucher_code(w)}/",
        "allowed": EVERY_ROLE,
        "anonymous": 200,
    },
    {"name": "ledger", "method": "get", "path": lambda w: "/shelter/ledger/", "allowed": SHELTER},
    {
        "name": "ledger_xlsx",
        "method": "get",
        "path": lambda w: "/shelter/ledger.xlsx",
        "allowed": SHELTER,
    },
    {
        "name": "exchange_rates",
        "method": "get",
        "path": lambda w: "/shelter/rates/",
        "allowed": SHELTER,
    },
    {
        "name": "exchange_rates",
        "method": "post",
        "path": lambda w: "/shelter/rates/",
        "allowed": SHELTER,
        "ok": 302,
        "data": lambda w: {"currency": "USD", "rate": "470.5", "valid_from": "2026-03-01"},
    },
]
