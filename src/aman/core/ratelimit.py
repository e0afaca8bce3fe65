"""Fixed-window counters in the cache (Redis in production, shared by every web process):
public pages use them per client address against floods and code guessing, sign-in per
address and per username against password guessing."""

from __future__ import annotations

import math
import time

from django.core.cache import cache
from django.http import HttpRequest

from aman.core.crypto import keyed_hash
from aman.core.middleware import client_ip


def count(key: str) -> int:
    return int(cache.get(key) or 0)


def increment(key: str, window: int) -> None:
    if not cache.add(key, 1, timeout=window):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)


def increment_count(key: str, window: int) -> int:
    """`increment`, returning the count: one round trip on Redis (`core.cache`)."""
    counter = getattr(cache, "incr_window", None)
    if counter is not None:
        return int(counter(key, window))
    increment(key, window)
    return count(key)


def _key(request: HttpRequest, scope: str) -> str:
    return f"rl:{scope}:{keyed_hash('ip', client_ip(request) or 'unknown')}"


def exceeded(request: HttpRequest, scope: str, limit: int) -> bool:
    return count(_key(request, scope)) >= limit


def hit(request: HttpRequest, scope: str, window: int) -> None:
    increment(_key(request, scope), window)


def take(request: HttpRequest, scope: str, limit: int, window: int) -> bool:
    """Count this request against the client's limit and say whether it is within it, in
    one round trip (where checking and counting apart took two): the busiest pages. The
    first request of a window also notes when the window ends (`retry_after`)."""
    key = _key(request, scope)
    n = increment_count(key, window)
    if n == 1:
        cache.set(f"{key}:until", time.time() + window, timeout=window)
    return n <= limit


def retry_after(request: HttpRequest, scope: str, window: int) -> int:
    """Seconds until the client's current window of `scope` ends and `take` counts afresh:
    what a refused client is told to wait (the whole window when its end is not known)."""
    until = cache.get(f"{_key(request, scope)}:until")
    if until is None:
        return window
    return max(1, min(window, math.ceil(float(until) - time.time())))
