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
