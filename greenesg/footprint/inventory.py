"""Double counting: where codecarbon and billing describe the same project, provider and month, the inventory
counts one of them (the project's `inventory_source`, billing by default) and keeps the other for coverage.

The rule belongs to the ledger, not to an importer: both import pipelines and the project settings page
call it after their writes (docs/methodology.md §8.1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Min, Q
from django.db.models.functions import TruncMonth

from greenesg.accounts.models import InventorySource, Organisation, Project
from greenesg.footprint import ledger
from greenesg.footprint.models import LedgerEntry, Source
from greenesg.lib.periods import month_end

# Billing rows that codecarbon can also measure (CPU, GPU, RAM of the machines): the double-counting rule and
# the coverage figure compare codecarbon energy with these categories only (storage and network are never
# measured by codecarbon, so they stay in the inventory whichever source a project chooses).
COMPUTE_CATEGORIES = ("compute", "memory", "gpu")


def inventory_apply(
    *, organisation_id: int, project_ids: Iterable[int | None] | None = None, months: Iterable[dt.date] | None = None
) -> set[int]:
    """Apply each project's `inventory_source` where codecarbon and billing cover the same provider and month.

    With "billing" (the default) the project's codecarbon rows of that provider and month leave the inventory,
    but only when that month has billed compute, memory or GPU (a bill of storage or network alone does not
    describe the measured energy, so the runs stay); with "codecarbon" its billed compute, memory and GPU rows
    do (storage and network are never measured, so they stay) (docs/methodology.md §8.1). Excluded rows are kept
    (in_inventory=False) for the coverage figure. Call it after any import or a change of a project's setting;
    returns the projects whose rows changed, for the rollup refresh.
    """
    projects = Project.objects.filter(organisation_id=organisation_id)
    if project_ids is not None:
        projects = projects.filter(pk__in=[p for p in project_ids if p is not None])
    month_list = sorted(set(months)) if months is not None else None
    touched: set[int] = set()
    for project in projects:
        for provider, month in _billing_months(project, month_list):
            if _apply_one(project, provider, month):
                touched.add(project.pk)
    return touched


def _billing_months(project: Project, months: list[dt.date] | None) -> list[tuple[str, dt.date]]:
    rows = LedgerEntry.objects.filter(project=project, source=Source.BILLING)
    if months is not None:
        rows = rows.filter(day__gte=months[0], day__lte=month_end(months[-1]))
    pairs = rows.annotate(month=TruncMonth("day")).values_list("provider", "month").distinct()
    return [
        (provider, month if isinstance(month, dt.date) else month.date())
        for provider, month in pairs
        if months is None or (month if isinstance(month, dt.date) else month.date()) in months
    ]


def _apply_one(project: Project, provider: str, month: dt.date) -> bool:
    window = Q(project=project, day__gte=month, day__lte=month_end(month))
    measured = LedgerEntry.objects.filter(
        window, source__in=[Source.CODECARBON, Source.CODECARBON_TASK], provider__iexact=provider
    )
    billed = LedgerEntry.objects.filter(window, source=Source.BILLING, provider=provider)
    if not measured.filter(source=Source.CODECARBON).exists():
        return False
    billed_compute = billed.filter(resource_category__in=COMPUTE_CATEGORIES)
    if project.inventory_source == InventorySource.CODECARBON:
        changed = billed_compute.filter(in_inventory=True).update(in_inventory=False)
        changed += (
            billed.exclude(resource_category__in=COMPUTE_CATEGORIES)
            .filter(in_inventory=False)
            .update(in_inventory=True)
        )
        changed += measured.filter(source=Source.CODECARBON, in_inventory=False).update(in_inventory=True)
        changed += measured.filter(source=Source.CODECARBON_TASK, in_inventory=False).update(in_inventory=True)
        # Task rows cover the same energy as their run: the run rule applies again after the restore above.
        ledger.task_rows_exclude_counted_runs(organisation_id=project.organisation_id, project_ids=[project.pk])
        return changed > 0
    changed = billed.filter(in_inventory=False).update(in_inventory=True)
    if not billed_compute.exists():
        # Only billed compute describes the energy codecarbon measured; storage or network bills do not, so the
        # runs stay in the inventory beside them (docs/methodology.md §8.1).
        changed += measured.filter(source=Source.CODECARBON, in_inventory=False).update(in_inventory=True)
        changed += measured.filter(source=Source.CODECARBON_TASK, in_inventory=False).update(in_inventory=True)
        ledger.task_rows_exclude_counted_runs(organisation_id=project.organisation_id, project_ids=[project.pk])
        return changed > 0
    changed += measured.filter(in_inventory=True).update(in_inventory=False)
    return changed > 0


def inventory_refresh(*, organisation: Organisation, project: Project | None = None) -> None:
    """Re-apply the double-counting rule (e.g. after a codecarbon import or a change of inventory_source)."""
    with transaction.atomic():
        ids = None if project is None else [project.pk]
        touched = inventory_apply(organisation_id=organisation.pk, project_ids=ids)
        if not touched:
            return
        bounds = LedgerEntry.objects.filter(organisation=organisation, project_id__in=touched).aggregate(
            first=Min("day")
        )
        last = (
            LedgerEntry.objects.filter(organisation=organisation, project_id__in=touched)
            .order_by("-day")
            .values_list("day", flat=True)
            .first()
        )
        if bounds["first"] is None or last is None:
            return
        ledger.rollup_refresh(
            organisation_id=organisation.pk, project_ids=touched, first_day=bounds["first"], last_day=last
        )
        ledger.dashboard_generation_bump(organisation.pk)
