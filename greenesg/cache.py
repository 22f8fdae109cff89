"""Django's Redis cache, degraded to "no cache" while Redis is unreachable.

Everything we cache (dashboard aggregates and their generation number, throttle counters, the bad-token
limiter) can be recomputed or skipped, so a Redis outage must cost time, never a 500 (docs/operations.md
§11). While Redis fails, reads miss, writes are dropped and ``incr`` answers as for a missing key
(ValueError, the documented cache contract). After a failure the cache is not asked again for
``RETRY_AFTER_SECONDS``: a request computing a dashboard makes dozens of cache calls, and each failing
one costs redis-py's reconnect attempts (about 0.3 s against a refused port, a connect timeout against an
unreachable host).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_AFTER_SECONDS = 5.0

# Django builds one cache object per thread; the outage is per server, so its clock is shared.
_down_until: dict[str, float] = {}
_lock = threading.Lock()


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client, keeping one redis-py client per connection pool.

    Django builds a new ``redis.Redis`` for every cache call, and each one copies redis-py's table of about 170
    response callbacks: 0.4-0.7 ms of CPU of a cached project page, which makes about 9 cache calls (measured with
    the two trees alternated). A ``redis.Redis`` is safe to share (each command borrows a connection from the
    pool), and the pools it wraps already live as long as this object, so the clients can too.
    """

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own get_client, less the construction; its pool helper and client class are not in the stubs.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class DegradingRedisCache(RedisCache):
    """RedisCache whose errors turn into cache misses (settings.CACHES when CACHE_URL is redis://)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        # An unreachable host must not hold a request for the OS connect timeout (minutes).
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 2)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = ReusedClientRedisCacheClient
        self._server_key = str(server)

    def _degrade(self, call: Callable[[], T], fallback: Callable[[], T]) -> T:
        if time.monotonic() < _down_until.get(self._server_key, 0.0):
            return fallback()
        try:
            return call()
        except RedisError:
            with _lock:
                first = time.monotonic() >= _down_until.get(self._server_key, 0.0)
                _down_until[self._server_key] = time.monotonic() + RETRY_AFTER_SECONDS
            if first:
                log.warning("cache unavailable, computing without it for %.0f s", RETRY_AFTER_SECONDS, exc_info=True)
            return fallback()

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._degrade(lambda: super(DegradingRedisCache, self).add(key, value, timeout, version), _false)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._degrade(lambda: super(DegradingRedisCache, self).get(key, default, version), lambda: default)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._degrade(lambda: super(DegradingRedisCache, self).set(key, value, timeout, version), _none)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._degrade(lambda: super(DegradingRedisCache, self).touch(key, timeout, version), _false)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._degrade(lambda: super(DegradingRedisCache, self).delete(key, version), _false)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._degrade(lambda: super(DegradingRedisCache, self).get_many(keys, version), dict)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._degrade(lambda: super(DegradingRedisCache, self).has_key(key, version), _false)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        def missing() -> int:
            raise ValueError(f"Key '{key}' not found (cache unavailable)")

        return self._degrade(lambda: super(DegradingRedisCache, self).incr(key, delta, version), missing)

    def set_many(self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list:
        return self._degrade(
            lambda: super(DegradingRedisCache, self).set_many(data, timeout, version), lambda: list(data)
        )

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._degrade(lambda: super(DegradingRedisCache, self).delete_many(keys, version), _none)

    def clear(self) -> None:
        self._degrade(lambda: super(DegradingRedisCache, self).clear(), _none)


def _false() -> bool:
    return False


def _none() -> None:
    return None


def cache_outage_reset() -> None:
    """Forget a recorded outage (tests; an operator never needs it, the pause ends by itself)."""
    with _lock:
        _down_until.clear()
