"""Process-local copies of the few rows every surge request reads (the API token's user,
the crisis of a queued registration, the crises open to the public form): each request
would otherwise spend two or three ORM queries, more than the registration it queues.

A copy is used only while the *generation* in Django's shared cache is the one it was
read under. Saving or deleting a user, an API token or a crisis, changing a crisis's
countries or missions, or saving a country moves the generation on (signals below), so a
revoked token or a closed crisis is seen by every process at its next request when
`CACHE_URL` points at Redis (docs/deploy.md). Without a shared cache
(the embedded default, one process) the same holds within the process; and a copy is
never older than `TTL` seconds, whatever the cache says. Updates made with
`QuerySet.update()` send no signal: code that changes these rows that way calls `bump()`.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cachetools import TTLCache
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from aman.core.context import current_origin
from aman.core.models import ApiToken, Crisis, Mission, User
from aman.geo.models import Country

log = logging.getLogger(__name__)

TTL = 30.0
GENERATION_KEY = "aman:hot:generation"
T = TypeVar("T")

_lock = threading.Lock()
_memo = threading.local()  # (the request's Origin, the generation read for it)
_warned_at = 0.0
_entries: TTLCache[tuple[str, Any], tuple[Any, Any]] = TTLCache(maxsize=4096, ttl=TTL)


def generation() -> Any:
    """The shared generation, or None when the shared cache cannot be read (then nothing
    is taken from the local copies). Read once per request (the token and the crisis of
    one request are checked against the same reading)."""
    request = current_origin()  # a new object per request (core.middleware)
    if request.via not in ("api", "web"):  # a task or a command: no memo
        return _read_generation()
    memo = getattr(_memo, "value", None)
    if memo is not None and memo[0] is request:
        return memo[1]
    value = _read_generation()
    _memo.value = (request, value)
    return value


def _read_generation() -> Any:
    try:
        value = cache.get(GENERATION_KEY)
        if value is None:
            value = time.time_ns()
            cache.add(GENERATION_KEY, value, timeout=None)
            value = cache.get(GENERATION_KEY, value)
        return value
    except Exception as exc:  # the cache server is down: read the database every time
        _warn(f"shared cache unreadable ({exc}); reading the database at every request")
        return None


def bump() -> None:
    """Every process drops its copies at its next request."""
    with _lock:
        _entries.clear()
    try:
        cache.set(GENERATION_KEY, time.time_ns(), timeout=None)
    except Exception as exc:
        _warn(f"shared cache unwritable ({exc}); other processes keep copies up to {TTL:.0f} s")


def _warn(message: str) -> None:
    """At most once a minute: in a surge a dead cache would otherwise flood the log."""
    global _warned_at
    now = time.monotonic()
    if now - _warned_at > 60:
        _warned_at = now
        log.warning(message)


def get(kind: str, key: Any, load: Callable[[], T | None]) -> T | None:
    """A private copy of what `load()` returns for (`kind`, `key`), loaded when there is
    no current one. `None` (not found) is not kept."""
    gen = generation()
    if gen is not None:
        with _lock:
            found = _entries.get((kind, key))
        if found is not None and found[0] == gen:
            return copy.copy(found[1])
    value = load()
    if value is not None and gen is not None:
        with _lock:
            _entries[kind, key] = (gen, value)
        return copy.copy(value)
    return value


@receiver(m2m_changed, sender=Crisis.affected_countries.through)
@receiver(m2m_changed, sender=Crisis.missions.through)
@receiver(m2m_changed, sender=Mission.area.through)
@receiver(post_save, sender=Mission)
@receiver(post_save, sender=Country)
@receiver(post_save, sender=User)
@receiver(post_delete, sender=User)
@receiver(post_save, sender=ApiToken)
@receiver(post_delete, sender=ApiToken)
@receiver(post_save, sender=Crisis)
@receiver(post_delete, sender=Crisis)
def _changed(sender: Any, **kwargs: Any) -> None:
    # Now, and again when the change commits: a process that reads the row between the two
    # would otherwise keep the old row under the new generation.
    bump()
    transaction.on_commit(bump)
