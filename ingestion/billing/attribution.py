"""Attribution of billing lines to projects (issue 3 item 3): pure rule evaluation, no ORM.

Rules are tried in their stated order (position, then id) and the first rule that matches decides. A rule
names one or more target projects with a percentage each, so a shared resource can be split; a share total
under 100 % leaves the rest in the "Unallocated" bucket (project None), as does a line no rule matches. Nothing
is ever dropped: the shares of one line always add up to exactly 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from ingestion.billing.readers.identity import canonical_account

MATCH_FIELDS = ("account", "account_name", "resource_group", "tag")
UNALLOCATED = None


@dataclass(frozen=True)
class RuleSpec:
    """One attribution rule as plain data; `targets` holds (project id, percent) pairs."""

    id: int
    provider: str  # "" matches any provider
    match_field: str
    match_value: str
    tag_key: str = ""
    targets: tuple[tuple[int, float], ...] = ()


@dataclass(frozen=True)
class Subject:
    """What a rule can look at: the attribution dimensions of one billing line or aggregate."""

    provider: str
    account: str
    account_name: str = ""
    resource_group: str = ""
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Share:
    project_id: int | None  # None = Unallocated
    fraction: float
    rule_id: int | None


def _value_matches(pattern: str, value: str) -> bool:
    # Case-insensitive because providers and people spell the same tag value differently ("Prod", "prod").
    pattern, value = pattern.strip().lower(), value.strip().lower()
    if "*" in pattern or "?" in pattern:
        return fnmatchcase(value, pattern)
    return pattern == value


def _tag_value(tags: Mapping[str, str], key: str) -> str | None:
    wanted = key.strip().lower()
    for tag_key, value in tags.items():
        # Legacy CUR writes `user:team`, CUR 2.0 `user_team`: both answer to the key `team`.
        normalised = tag_key.strip().lower().removeprefix("user:").removeprefix("user_")
        if tag_key.strip().lower() == wanted or normalised == wanted:
            return value
    return None


def rule_matches(rule: RuleSpec, subject: Subject) -> bool:
    if rule.provider and rule.provider.lower() != subject.provider.lower():
        return False
    if rule.match_field == "tag":
        value = _tag_value(subject.tags, rule.tag_key)
        return value is not None and _value_matches(rule.match_value, value)
    if rule.match_field not in MATCH_FIELDS:
        return False
    if rule.match_field == "account":
        # A rule written as "/subscriptions/<GUID>" or with an AWS account's leading zeros dropped still names
        # the account the readers store in its one canonical spelling.
        wanted = canonical_account(subject.provider, rule.match_value)
        return _value_matches(wanted, canonical_account(subject.provider, subject.account))
    return _value_matches(rule.match_value, getattr(subject, rule.match_field))


def shares_for(subject: Subject, rules: Sequence[RuleSpec]) -> list[Share]:
    """The project shares of one subject under the first matching rule; unmatched -> all Unallocated."""
    for rule in rules:
        if not rule_matches(rule, subject) or not rule.targets:
            continue
        shares = [Share(project_id, percent / 100.0, rule.id) for project_id, percent in rule.targets if percent > 0]
        allocated = sum(share.fraction for share in shares)
        if allocated < 1.0 - 1e-9:
            shares.append(Share(UNALLOCATED, 1.0 - allocated, rule.id))
        return shares
    return [Share(UNALLOCATED, 1.0, None)]


def targets_parse(text: str, project_ids: Mapping[str, int]) -> tuple[tuple[int, float], ...]:
    """Parse "ml=60, web=40" or "ml" (100 %) into (project id, percent) pairs; raises ValueError with a reason."""
    pairs: list[tuple[int, float]] = []
    for raw in text.replace(";", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        slug, sep, percent_text = item.partition("=")
        slug = slug.strip()
        if slug not in project_ids:
            raise ValueError(f"no project with the slug {slug!r} in this organisation")
        try:
            percent = float(percent_text.strip().rstrip("%")) if sep else 100.0
        except ValueError as exc:
            raise ValueError(f"{item!r}: the share must be a number of percent") from exc
        if not 0 < percent <= 100:
            raise ValueError(f"{item!r}: a share must be above 0 and at most 100 %")
        if any(existing == project_ids[slug] for existing, _ in pairs):
            raise ValueError(f"project {slug!r} is named twice")
        pairs.append((project_ids[slug], percent))
    if not pairs:
        raise ValueError("name at least one project, e.g. 'ml' or 'ml=60, web=40'")
    if sum(percent for _, percent in pairs) > 100 + 1e-9:
        raise ValueError("the shares add up to more than 100 %")
    return tuple(pairs)


def targets_format(targets: Sequence[tuple[str, float]]) -> str:
    """The inverse of targets_parse for display and edit forms: [(slug, percent)] -> "ml=60, web=40"."""
    return ", ".join(slug if percent == 100 else f"{slug}={percent:g}" for slug, percent in targets)
