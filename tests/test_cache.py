"""greenesg.cache.DegradingRedisCache: an unreachable Redis is a cache miss, never an error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from greenesg.cache import DegradingRedisCache, cache_outage_reset

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def dead_cache() -> DegradingRedisCache:
    cache_outage_reset()
    yield DegradingRedisCache(DEAD_REDIS, {})
    cache_outage_reset()


def test_reads_miss_and_writes_are_dropped(dead_cache: DegradingRedisCache) -> None:
    assert dead_cache.get("k", "default") == "default"
    assert dead_cache.add("k", 1) is False
    assert dead_cache.set("k", 1) is None
    assert dead_cache.get_many(["a", "b"]) == {}
    assert dead_cache.set_many({"a": 1}) == ["a"]  # reported as not stored
    assert dead_cache.get_or_set("k", lambda: 42) == 42
    with pytest.raises(ValueError):  # as for a missing key: callers already handle that
        dead_cache.incr("k")


def test_after_a_failure_redis_is_left_alone_for_a_while(dead_cache: DegradingRedisCache) -> None:
    dead_cache.get("k")  # pays redis-py's reconnect attempts once
    started = time.monotonic()
    for _ in range(50):
        dead_cache.get("k")
    assert time.monotonic() - started < 0.2  # a dashboard's many cache calls cost nothing more


def test_a_redis_cache_url_configures_the_degrading_cache(tmp_path: Path) -> None:
    from tests.test_settings import SETUP, _run

    code = SETUP + "; from django.core.cache import cache; print(cache.get_or_set('k', lambda: 42))"
    result = _run(code, CACHE_URL=DEAD_REDIS, GREENESG_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr  # Django's own RedisCache raised ConnectionError here
    assert result.stdout.split()[-1] == "42"


@pytest.fixture
def live_cache(live_redis_url: str) -> DegradingRedisCache:
    cache_outage_reset()
    live = DegradingRedisCache(live_redis_url, {"KEY_PREFIX": "test-cache-client"})
    yield live
    live.delete_many(["a", "b", "n"])


def test_every_cache_call_shares_one_redis_client(live_cache: DegradingRedisCache) -> None:
    # Django builds a redis.Redis per call (copying redis-py's response-callback table each time): about 0.2 ms
    # per call, 1.5-2 ms of a cached dashboard page. One client per connection pool serves them all.
    built: list[dict] = []
    make = live_cache._cache._client
    live_cache._cache._client = lambda **options: built.append(options) or make(**options)
    live_cache.set("a", {"kgco2e": 1.5})
    live_cache.set_many({"b": [1, 2]})
    live_cache.set("n", 1)
    assert live_cache.get("a") == {"kgco2e": 1.5}
    assert live_cache.get_many(["a", "b", "missing"]) == {"a": {"kgco2e": 1.5}, "b": [1, 2]}
    assert live_cache.incr("n", 2) == 3
    assert live_cache.delete("a") is True
    assert live_cache.get("a", "gone") == "gone"
    assert len(built) == 1
