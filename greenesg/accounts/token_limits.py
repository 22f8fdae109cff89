"""Repeated bad tokens from one client address are answered 429 for the rest of a fixed window.

The counter lives in the cache under one key per (address, window), so windows need no expiry
bookkeeping and every cache backend behaves the same. If the cache is unreachable the limiter lets
requests through: refusing every CI upload because Redis is down would be worse than not counting.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions

log = logging.getLogger(__name__)


def _window() -> tuple[int, float]:
    seconds = max(1, int(settings.BAD_TOKEN_WINDOW_SECONDS))
    now = time.time()
    return seconds, now


def _key(ip: str, seconds: int, now: float) -> str:
    return f"bad-token:{ip}:{int(now // seconds)}"


def bad_token_check(ip: str | None) -> None:
    """Raise 429 (with Retry-After) when this address used up its bad tokens for the current window."""
    if not ip:
        return
    seconds, now = _window()
    try:
        failures = cache.get(_key(ip, seconds, now)) or 0
    except Exception:  # noqa: BLE001 - any cache failure: fail open, never a 500
        log.warning("bad-token limiter: cache unavailable, not limiting", exc_info=True)
        return
    if failures >= settings.BAD_TOKEN_LIMIT:
        window_end = (int(now // seconds) + 1) * seconds
        raise exceptions.Throttled(wait=max(1, math.ceil(window_end - now)), detail="Too many invalid tokens.")


def bad_token_record(ip: str | None) -> None:
    if not ip:
        return
    seconds, now = _window()
    key = _key(ip, seconds, now)
    try:
        cache.add(key, 0, timeout=seconds + 5)
        cache.incr(key)
    except ValueError:
        pass  # expired between add and incr: the next failure starts the count again
    except Exception:  # noqa: BLE001 - fail open, as above
        log.warning("bad-token limiter: cache unavailable, failure not counted", exc_info=True)
