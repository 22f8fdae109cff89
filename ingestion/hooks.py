"""Work other apps want done after an import, registered by them so that ingestion imports no feature app.

A feature app appends a callable in its AppConfig.ready (steering: the budget check). The pipeline calls
`after_import_on_commit` inside its publishing transaction; the hooks run once that transaction commits,
when the imported rows are visible to everyone, and never when it rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction


@dataclass(frozen=True)
class ImportPublished:
    organisation_id: int
    # The project whose rows the import changed. A billing import publishes one event per project it touched,
    # and one with None for its unallocated lines (no project: a hook about projects has nothing to do).
    project_id: int | None
    kind: str


AfterImportHook = Callable[[ImportPublished], None]

after_import_hooks: list[AfterImportHook] = []


def after_import_register(hook: AfterImportHook) -> None:
    """Add a hook once (AppConfig.ready can run more than once in tests and management commands)."""
    if hook not in after_import_hooks:
        after_import_hooks.append(hook)


def after_import_on_commit(event: ImportPublished) -> None:
    for hook in after_import_hooks:
        transaction.on_commit(lambda hook=hook: hook(event))  # type: ignore[misc]
