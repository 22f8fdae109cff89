"""Count badges in the organisation navigation, cached per member until a row they count changes.

The navigation runs on every organisation page, so its counters ran on every cached dashboard view too: the
approvals badge was a third of the CPU of a cached overview (bench/dashboard_load.py). A member's counts are
cached under the organisation's badge generation, which every save or delete of a source model bumps once its
transaction commits (the same scheme as the dashboards' generation, docs/operations.md §11), so a count is never
older than the last committed change. The generation is read before counting: a count computed from a state a
concurrent write then changes is stored under the old generation and never read again.

Feature apps register their counters from `AppConfig.ready()` (the core never imports them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import models
from django.db.models.signals import post_delete, post_save

from greenesg.accounts.models import Membership
from greenesg.lib.generations import generation_bump_on_commit

# A counter returns 0 for a member it does not concern; keep it to a COUNT query or two (it runs on a cache miss).
BadgeCounter = Callable[[Membership, User], int]

# A bump lost while Redis was away (greenesg/cache.py drops writes) would leave a count stale until the next
# change; the expiry bounds that. Counts are cheap, so a short life costs little.
COUNTS_TIMEOUT_S = 600


@dataclass(frozen=True)
class NavBadge:
    counter: BadgeCounter
    sources: tuple[type[models.Model], ...]


# url name → its badge.
NAV_BADGES: dict[str, NavBadge] = {}


def nav_badge_register(url_name: str, counter: BadgeCounter, *, sources: Iterable[type[models.Model]]) -> None:
    """Show `counter`'s count on the link `url_name`; `sources` are every model whose rows it counts.

    Each source needs an `organisation` foreign key. Saving or deleting one of its rows invalidates the
    organisation's counts; a write that bypasses save() and delete() (QuerySet.update, bulk_create) and changes
    what a counter counts must call `nav_badges_changed` itself.
    """
    badge = NavBadge(counter=counter, sources=tuple(sources))
    NAV_BADGES[url_name] = badge
    for model in badge.sources:
        uid = f"nav-badges:{model._meta.label}"
        post_save.connect(_source_changed, sender=model, dispatch_uid=uid, weak=False)
        post_delete.connect(_source_changed, sender=model, dispatch_uid=uid, weak=False)


def _source_changed(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    nav_badges_changed(instance.organisation_id)


def _generation_key(organisation_id: int) -> str:
    return f"nav-badges:generation:{organisation_id}"


def nav_badges_changed(organisation_id: int) -> None:
    """Make every cached badge count of the organisation stale, once the current transaction commits."""
    generation_bump_on_commit(_generation_key(organisation_id))


def nav_badge_counts(membership: Membership, user: User) -> dict[str, int]:
    """url name → count for this member: one cache read when nothing counted has changed since the last page.

    Keyed by organisation, user and role (counters exclude the member's own items and depend on the role's
    capabilities), so a count is never shown to another member or after a role change.
    """
    if not NAV_BADGES:
        return {}
    generation_key = _generation_key(membership.organisation_id)
    counts_key = f"nav-badges:{membership.organisation_id}:{user.pk}:{membership.role}"
    found = cache.get_many([generation_key, counts_key])
    generation = found.get(generation_key, 0)
    stored = found.get(counts_key)
    if stored is not None and stored[0] == generation:
        return dict(stored[1])
    counts = {name: badge.counter(membership, user) for name, badge in NAV_BADGES.items()}
    cache.set(counts_key, (generation, counts), timeout=COUNTS_TIMEOUT_S)
    return counts
