"""Vouchers, the public voucher check, the cost ledger and exchange rates."""

from __future__ import annotations

from django.http import HttpResponse


def _todo(*args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


voucher = voucher_check = ledger = ledger_xlsx = exchange_rates = _todo
