"""Django's Redis cache with its client kept (aman.core.cache), against a real Redis."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import caches
from django.test.utils import override_settings

REDIS = "redis://127.0.0.1:6379/9"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _redis_answers(), reason="needs Redis on 127.0.0.1:6379")


@override_settings(CACHES={"default": {"BACKEND": "aman.core.cache.RedisCache", "LOCATION": REDIS}})
def test_the_redis_cache_keeps_one_client_and_behaves_as_djangos() -> None:
    cache = caches["default"]
    cache.clear()
    assert cache.add("flag", 1, timeout=30) is True
    assert cache.add("flag", 2, timeout=30) is False, "add does not overwrite"
    cache.set("generation", 1234567890123456789, timeout=None)
    cache.set("row", {"name": "Айгүл", "n": [1, 2]}, timeout=5)
    assert cache.get("generation") == 1234567890123456789
    assert cache.get("row") == {"name": "Айгүл", "n": [1, 2]}
    assert cache.get("missing", "default") == "default"
    client = cache._cache.get_client("row")
    assert cache._cache.get_client("generation", write=True) is client, "one client, kept"
    cache.delete("row")
    assert cache.get("row") is None
    cache.clear()


@override_settings(CACHES={"default": {"BACKEND": "aman.core.cache.RedisCache", "LOCATION": REDIS}})
def test_a_fixed_window_counts_in_one_round_trip_and_expires() -> None:
    """The public pages' rate limit (core.ratelimit.take): the count after this one, the
    window's expiry set by the first and kept by the others, read back as Django does."""
    cache = caches["default"]
    cache.clear()
    assert [cache.incr_window("rl:test", 60) for _ in range(3)] == [1, 2, 3]
    assert cache.get("rl:test") == 3, "Django reads the counter"
    client = cache._cache.get_client("rl:test")
    ttl = client.ttl(cache.make_and_validate_key("rl:test"))
    assert 0 < ttl <= 60, "the first count set the window; later ones did not extend it"
    client.persist(cache.make_and_validate_key("rl:test"))  # as if it expired meanwhile
    assert cache.incr_window("rl:test", 30) == 4
    assert 0 < client.ttl(cache.make_and_validate_key("rl:test")) <= 30, "never without expiry"
    cache.clear()
