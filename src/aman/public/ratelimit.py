"""Fixed-window counters per client address in the cache (Redis in production, shared by
every web process). Public pages use them against floods and code guessing."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

from aman.core.crypto import keyed_hash
from aman.core.middleware import client_ip


def _key(request: HttpRequest, scope: str) -> str:
    return f"rl:{scope}:{keyed_hash('ip', client_ip(request) or 'unknown')}"


def exceeded(request: HttpRequest, scope: str, limit: int) -> bool:
    return int(cache.get(_key(request, scope)) or 0) >= limit


def hit(request: HttpRequest, scope: str, window: int) -> None:
    key = _key(request, scope)
    if not cache.add(key, 1, timeout=window):
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=window)
