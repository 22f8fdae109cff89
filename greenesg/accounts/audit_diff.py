"""What an audit-log entry changed, as `field: old → new` lines (pure: no Django, no ORM).

Entries store whole `before`/`after` snapshots as JSON. An auditor wants the difference, not two blobs to
compare by eye, and never a Python dict repr (`{'a': 1}` is neither JSON nor readable in a spreadsheet).
Nested objects are compared key by key under a dotted path (`scopes.ingest`), so one changed setting inside
a nested block reads as one line; lists are compared whole and rendered compactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

ABSENT = "–"  # the field did not exist on that side (created, removed, or not snapshotted)
ARROW = "→"


class _Missing:
    """Marks a key that one side does not have, as distinct from a stored JSON null."""


_MISSING = _Missing()


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.field}: {self.old} {ARROW} {self.new}"


def compact(value: Any, *, limit: int | None = None) -> str:
    """One value in a short, unambiguous form: text as is, null as `null`, containers as compact JSON."""
    if isinstance(value, _Missing):
        return ABSENT
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        # An empty string must not look like an absent field.
        text = value if value else '""'
    elif isinstance(value, int | float):
        text = str(value)
    else:
        # default=str: snapshots are JSON already; this only guards against a stray date or Decimal.
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), sort_keys=True, default=str)
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)] + "…"
    return text


def _walk(path: str, old: Any, new: Any, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        # Alphabetical: PostgreSQL's jsonb does not keep the order a snapshot was written in, SQLite does, and the
        # same entry must read the same on both.
        keys = sorted({*old, *new}, key=str)
        for key in keys:
            _walk(f"{path}.{key}" if path else str(key), old.get(key, _MISSING), new.get(key, _MISSING), out)
        return
    if isinstance(old, dict) and isinstance(new, _Missing) and path:
        for key, value in sorted(old.items(), key=lambda item: str(item[0])):
            _walk(f"{path}.{key}", value, _MISSING, out)
        return
    if isinstance(new, dict) and isinstance(old, _Missing) and path:
        for key, value in sorted(new.items(), key=lambda item: str(item[0])):
            _walk(f"{path}.{key}", _MISSING, value, out)
        return
    # 1 == 1.0 == True in Python; an audit trail must still show a bool that became a number.
    if type(old) is type(new) and old == new:
        return
    out.append((path or "value", old, new))


def field_changes(before: Any, after: Any, *, limit: int | None = None) -> list[FieldChange]:
    """The fields that differ between two snapshots; unchanged fields are left out.

    `None` for a whole side means "no snapshot" (a create has no before, a delete no after), so every
    field of the other side is listed against `–`. A snapshot that is not an object is one field, `value`.
    """
    old = _MISSING if before is None else before
    new = _MISSING if after is None else after
    if isinstance(old, _Missing) and isinstance(new, _Missing):
        return []
    if isinstance(old, _Missing) and isinstance(new, dict):
        old = {}
    if isinstance(new, _Missing) and isinstance(old, dict):
        new = {}
    raw: list[tuple[str, Any, Any]] = []
    _walk("", old, new, raw)
    return [FieldChange(path, compact(o, limit=limit), compact(n, limit=limit)) for path, o, n in raw]


def changes_text(before: Any, after: Any) -> str:
    """All changes on one line (for CSV cells), separated by `; `, values never truncated."""
    return "; ".join(str(change) for change in field_changes(before, after))


def snapshot_text(snapshot: Any) -> str:
    """A stored snapshot as compact JSON (never a Python repr); empty when there is none."""
    if snapshot is None:
        return ""
    return json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)
