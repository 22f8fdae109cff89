"""Generation counters in the cache: bump one number to make every entry cached under it stale at once.

The dashboards (greenesg.footprint.ledger.dashboard_generation_bump) and the navigation badges
(greenesg.accounts.nav_badges) key their entries by an organisation's generation, so nothing has to be deleted key
by key (docs/operations.md §11).
"""

from __future__ import annotations

from django.core.cache import cache
from django.db import transaction


def generation(key: str) -> int:
    return int(cache.get(key, 0))


def generation_bump_on_commit(key: str) -> None:
    """Increment the counter once the current transaction commits (at once outside a transaction)."""

    def bump() -> None:
        cache.add(key, 0, timeout=None)
        try:
            cache.incr(key)
        except ValueError:  # evicted between add and incr, or Redis away (greenesg/cache.py)
            cache.set(key, 1, timeout=None)

    transaction.on_commit(bump)
