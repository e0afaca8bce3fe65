"""Hotels, room blocks, stays, assignment, occupancy: the logistics officer's pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse


def _todo(*args: object, **kwargs: object) -> HttpResponse:
    raise NotImplementedError


hotel_list = hotel_create = hotel_detail = hotel_edit = block_create = hotel_day = _todo
hotel_day_csv = block_edit = tour_operator_list = occupancy = stay_list = stay_detail = _todo
stay_status = stay_nights = assign = _todo
_ = HttpRequest
