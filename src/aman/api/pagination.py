"""Pagination for lists that can be very long (a million people): the count stops at a cap,
so a page never costs a count of every match."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Schema
from ninja.pagination import LimitOffsetPagination

from aman.core.paging import capped_count


class CappedLimitOffsetPagination(LimitOffsetPagination):
    class Output(Schema):
        items: list[Any]
        count: int
        count_exact: bool

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        offset = pagination.offset
        limit: int = min(pagination.limit, self.max_limit)
        count, exact = capped_count(queryset)
        return {
            self.items_attribute: queryset[offset : offset + limit],
            "count": count,
            "count_exact": exact,
        }
