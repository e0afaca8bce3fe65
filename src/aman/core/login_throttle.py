"""Slow down password guessing: after too many failed sign-ins from one address or for one
username within a window, sign-in is refused until the window passes. Counters live in the
cache (Redis in production, so every web process shares them)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from aman.core import ratelimit
from aman.core.crypto import keyed_hash
from aman.core.middleware import client_ip


def _keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    ip = client_ip(request) or "unknown"
    return [
        (f"login-fail:ip:{keyed_hash('ip', ip)}", settings.AMAN_LOGIN_MAX_FAILURES_PER_IP),
        (
            f"login-fail:user:{keyed_hash('username', username.lower())}",
            settings.AMAN_LOGIN_MAX_FAILURES_PER_USER,
        ),
    ]


def record_failure(request: HttpRequest, username: str) -> None:
    for key, _limit in _keys(request, username):
        ratelimit.increment(key, settings.AMAN_LOGIN_WINDOW_SECONDS)


def is_blocked(request: HttpRequest, username: str) -> bool:
    return any(ratelimit.count(key) >= limit for key, limit in _keys(request, username))
