"""Sessions kept in the database and read through the cache, whose copy lives a few minutes only.

Reading the session row was one of the three queries of every page, a tenth of the CPU of a cached dashboard
(bench/dashboard_load.py): Django's `cached_db` store reads it from Redis instead and keeps the database as the
record. Its copy in the cache would live as long as the session (10 hours), and a logout's delete from the cache
is dropped while Redis is unreachable (greenesg/cache.py turns errors into misses, and skips Redis for 5 s after
one): a copy that survived such an outage would keep a logged-out session alive. Capped at
`CACHE_SECONDS`, such a copy expires within minutes, after which the database, which the logout did reach,
decides.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore
from django.core.cache import BaseCache, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT

CACHE_SECONDS = 300


class _CappedCache:
    """The session cache with every entry's life capped at CACHE_SECONDS (everything else passes through)."""

    def __init__(self, cache: BaseCache) -> None:
        self._cache = cache

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._cache.set(key, value, _capped(timeout), version=version)

    async def aset(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        await self._cache.aset(key, value, _capped(timeout), version=version)

    def __contains__(self, key: str) -> bool:
        return key in self._cache

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cache, name)


def _capped(timeout: Any) -> int:
    return CACHE_SECONDS if timeout is None or timeout is DEFAULT_TIMEOUT else min(int(timeout), CACHE_SECONDS)


class SessionStore(CachedDBStore):
    """settings.SESSION_ENGINE = "greenesg.accounts.sessions"."""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._cache = _CappedCache(caches[settings.SESSION_CACHE_ALIAS])
