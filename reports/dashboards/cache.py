"""The dashboard cache: aggregates keyed under the organisation's dashboard generation.

The last step of every import bumps the generation (greenesg.footprint.ledger.dashboard_generation_bump), so a
cached aggregate never outlives the data it was computed from (docs/operations.md §11).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from django.core.cache import cache

from greenesg.footprint.ledger import dashboard_generation

T = TypeVar("T")
CACHE_SECONDS = 24 * 3600  # the generation key does the invalidating; this only bounds the cache size


def dashboard_cached(organisation_id: int, key: str, compute: Callable[[], T], *, namespace: str = "reports") -> T:
    """`compute()` once per (organisation, key, generation); `namespace` keeps the pages' keys apart."""
    # get_or_set returns the cached or the freshly computed value: compute()'s T (the stub says Any | None).
    return cast(
        T,
        cache.get_or_set(
            f"{namespace}:{organisation_id}:{key}",
            compute,
            CACHE_SECONDS,
            version=dashboard_generation(organisation_id),
        ),
    )
