"""Django's Redis cache backend, keeping its Redis client.

Django builds a new `redis.Redis` for every cache operation (registering some 170
response callbacks each time), which costs three times the round trip itself: in a
registration surge every request reads the cache two or three times (rate limits, the
hot copies' generation, the intake run's flag). A client per connection pool is kept
instead; redis-py's clients are thread-safe and its pools reconnect after a fork.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class KeptClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient

    def incr_window(self, key: str, window: int) -> int:
        """Count one more in a fixed window of `window` seconds and return the count, in
        one round trip (the rate limits of the public pages): the key is created with its
        expiry when absent, as one MULTI/EXEC: INCR, then EXPIRE NX (a key that expired
        between two commands is created again by INCR and still gets its expiry)."""
        redis_key = self.make_and_validate_key(key)
        client = self._cache.get_client(redis_key, write=True)
        pipe = client.pipeline(transaction=True)
        pipe.incr(redis_key)
        pipe.expire(redis_key, window, nx=True)
        return int(pipe.execute()[0])
