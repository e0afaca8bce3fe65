"""Counting long lists without counting everything: a search among a million people
matches tens of thousands, and an exact count of them costs more than the page itself."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet

COUNT_CAP = 1_000


def capped_count(queryset: QuerySet[Any], cap: int | None = None) -> tuple[int, bool]:
    """(count, exact): the number of rows, or the cap (`COUNT_CAP`) and False when there
    are more."""
    cap = COUNT_CAP if cap is None else cap
    n = queryset.order_by()[: cap + 1].count()
    return (n, True) if n <= cap else (cap, False)


class CappedPaginator(Paginator):
    """A paginator whose count stops at `COUNT_CAP` (`count_exact` says whether it did)."""

    @cached_property
    def _capped(self) -> tuple[int, bool]:
        assert isinstance(self.object_list, QuerySet)
        return capped_count(self.object_list)

    @cached_property
    def count(self) -> int:
        return self._capped[0]

    @property
    def count_exact(self) -> bool:
        return self._capped[1]
