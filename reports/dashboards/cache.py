"""The dashboard cache: aggregates keyed under the organisation's dashboard generation.

The last step of every import bumps the generation (greenesg.footprint.ledger.dashboard_generation_bump), so a
cached aggregate never outlives the data it was computed from (docs/operations.md §11).

Single flight: right after an import every key is missing at once, and each viewer used to recompute the same
aggregate and re-render the same page body. Now the first caller takes a short lock (`cache.add`, atomic in
Redis, locmem and the file cache) and fills the key; the others poll for its value for up to WAIT_SECONDS, then
go ahead themselves, so a slow or dead lock holder costs a waiter at most that long.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar, cast

from django.core.cache import cache

from greenesg.footprint.ledger import dashboard_generation

T = TypeVar("T")
CACHE_SECONDS = 24 * 3600  # the generation key does the invalidating; this only bounds the cache size
LOCK_SECONDS = 30  # a crashed holder's lock expires on its own
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.05
_MISSING = object()


@contextmanager
def cache_filling(key: str, *, version: int | None = None) -> Iterator[None]:
    """Around code that fills `cache[key]` on a miss: only one caller at a time runs it while the others wait.

    On return from the wait the key is usually filled, so the waiter's own code finds it; if the holder was
    slow or failed (the lock is gone, or WAIT_SECONDS passed) the waiter runs the code itself.
    """
    if cache.get(key, _MISSING, version=version) is not _MISSING:
        yield
        return
    lock = f"lock:{key}"
    if cache.add(lock, 1, LOCK_SECONDS, version=version):
        try:
            yield
        finally:
            cache.delete(lock, version=version)
        return
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if cache.get(key, _MISSING, version=version) is not _MISSING:
            break
        if cache.get(lock, version=version) is None:
            break  # the holder is done or failed (or the cache is down): no point waiting
        time.sleep(POLL_SECONDS)
    yield


def single_flight(key: str, compute: Callable[[], T], *, version: int | None = None) -> T:
    """`cache[key]`, computed by one caller at a time: concurrent misses wait briefly for that caller's value."""
    value = cache.get(key, _MISSING, version=version)
    if value is not _MISSING:
        return cast(T, value)
    with cache_filling(key, version=version):
        value = cache.get(key, _MISSING, version=version)
        if value is not _MISSING:
            return cast(T, value)
        value = compute()
        cache.set(key, value, CACHE_SECONDS, version=version)
        return value


def dashboard_cached(organisation_id: int, key: str, compute: Callable[[], T], *, namespace: str = "reports") -> T:
    """`compute()` once per (organisation, key, generation); `namespace` keeps the pages' keys apart."""
    return single_flight(f"{namespace}:{organisation_id}:{key}", compute, version=dashboard_generation(organisation_id))
