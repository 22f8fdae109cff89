"""Reads for engineers: my projects, experiment comparison and "the same run in region X".

The what-if uses the same factor registry and zone rule as the import (`factor_lookup` and the
methodology's `resolve_factor`), so "run it in gcp/europe-north1" answers with exactly the factor an
import would have chosen for a run there in that year. Facility energy is kept as measured: a different
region of the same provider has the same PUE in our coefficients, and the page says so.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Max, Sum

from greenesg.accounts.access import OrgAccess
from greenesg.accounts.models import Project
from greenesg.footprint.factor_seed import canonical_azure_region
from greenesg.footprint.factors import factor_lookup
from greenesg.footprint.methodology.codecarbon import resolve_factor
from greenesg.footprint.models import EmissionFactor, FactorSetStatus, LedgerEntry
from greenesg.lib.residency import SAME, residency_allows
from reports.dashboards import aggregation
from reports.dashboards.cache import dashboard_cached
from reports.dashboards.filters import DashboardFilter, InvalidFilter
from reports.dashboards.places import region_display
from reports.dashboards.selectors.footprint import day_filtered

MAX_COMPARED = 6
ALTERNATIVES = 6
_ZONE = re.compile(r"^[A-Za-z0-9_./-]{2,80}$")


def my_projects(*, access: OrgAccess, flt: DashboardFilter) -> list[dict[str, Any]]:
    """The reader's projects (engineers: memberships; officers and auditors: all) with run totals."""
    projects = list(access.visible_projects().order_by("name", "slug"))
    ids = [p.id for p in projects]

    def compute() -> dict[int, dict[str, Any]]:
        queryset = day_filtered(LedgerEntry.objects.filter(project_id__in=ids, source=aggregation.RUN_SOURCE), flt)
        rows = queryset.values("project_id").annotate(
            runs=Count("id"),
            energy_kwh_facility=Sum("energy_facility_kwh"),
            kgco2e_location=Sum("kgco2e_location"),
            last_end=Max("period_end"),
        )
        return {row["project_id"]: row for row in rows.order_by()}

    key = f"mine:{access.membership.pk}:{flt.cache_part}"
    totals = dashboard_cached(access.organisation.id, key, compute) if ids else {}
    return [{"project": p, **totals.get(p.id, {"runs": 0})} for p in projects]


def experiment_compare(*, project: Project, flt: DashboardFilter, names: list[str]) -> list[dict[str, Any]]:
    """Side by side per experiment: runs, totals, means per run, hardware and regions seen."""
    if len(names) > MAX_COMPARED:
        raise InvalidFilter(f"compare at most {MAX_COMPARED} experiments at once, not {len(names)}.")
    runs = day_filtered(LedgerEntry.objects.filter(project=project, source=aggregation.RUN_SOURCE), flt)
    result = []
    for name in names:
        queryset = runs.filter(experiment=name)
        # Aliases differ from field names: Django refuses an Avg over a name already bound to a Sum.
        raw = queryset.aggregate(
            n=Count("id"),
            t_kwh=Sum("energy_facility_kwh"),
            t_kg=Sum("kgco2e_location"),
            t_kg_market=Sum("kgco2e_market"),
            a_kwh=Avg("energy_facility_kwh"),
            a_kg=Avg("kgco2e_location"),
            a_duration=Avg("duration_s"),
            last=Max("period_end"),
        )
        names_map = {
            "n": "runs",
            "t_kwh": "energy_kwh_facility",
            "t_kg": "kgco2e_location",
            "t_kg_market": "kgco2e_market",
            "a_kwh": "mean_kwh",
            "a_kg": "mean_kg",
            "a_duration": "mean_duration_s",
            "last": "last_end",
        }
        stats = {names_map[key]: value for key, value in raw.items()}
        if not stats["runs"]:
            raise InvalidFilter(f"no runs of experiment {aggregation.experiment_label(name)!r} in this period.")
        # Hardware and region of the latest 200 runs: enough to name what the experiment ran on.
        recent = list(
            queryset.order_by("-period_end").values_list(
                "machine__attributes", "attributes", "provider", "region", "country_iso"
            )[:200]
        )
        result.append({"experiment": name, "label": aggregation.experiment_label(name), **stats, **_hardware(recent)})
    return result


def _hardware(rows: list[tuple[Any, Any, str, str, str]]) -> dict[str, str]:
    def common(values: list[str]) -> str:
        values = [v for v in values if v]
        return ", ".join(f"{v} ({n})" if n > 1 else v for v, n in Counter(values).most_common(2)) or "–"

    # The machine's description; rows imported before machine profiles existed hold it in their own attributes.
    attributes = [
        machine if isinstance(machine, dict) else own if isinstance(own, dict) else {} for machine, own, *_ in rows
    ]
    gpus = [f"{a.get('gpu_count') or ''}× {a['gpu_model']}".strip("× ") for a in attributes if a.get("gpu_model")]
    places = [region_display(p, r, c) for _, _, p, r, c in rows]
    return {
        "cpu": common([str(a.get("cpu_model") or "") for a in attributes]),
        "gpu": common(gpus),
        "where": common(places),
    }


@dataclass(frozen=True)
class WhatIf:
    zone: str
    label: str
    vintage_year: int
    g_per_kwh: float
    version: str
    kgco2e: float
    delta_kg: float
    flags: tuple[str, ...]


def zone_choices() -> list[tuple[str, str]]:
    """Every zone of the active factor sets (cloud regions and grids) for the what-if picker."""

    def compute() -> list[tuple[str, str]]:
        rows = (
            EmissionFactor.objects.filter(factor_set__status=FactorSetStatus.ACTIVE, is_fallback_mean=False)
            .values_list("zone", "label")
            .order_by("zone")
            .distinct()
        )
        seen: dict[str, str] = {}
        for zone, label in rows:
            seen.setdefault(zone, label)
        return list(seen.items())

    return dashboard_cached(0, "zones", compute)


def _estimate(entry: LedgerEntry, zone: str, choice: Any, flags: list[str]) -> WhatIf:
    kg = entry.energy_facility_kwh * choice.g_co2e_per_kwh / 1000.0
    return WhatIf(
        zone=zone,
        label=dict(zone_choices()).get(zone, ""),
        vintage_year=choice.vintage_year,
        g_per_kwh=choice.g_co2e_per_kwh,
        version=choice.version_label,
        kgco2e=kg,
        delta_kg=kg - (entry.kgco2e_location or 0.0),
        flags=tuple(flags),
    )


def _zone_factors(prefix: str, year: int, organisation_id: int) -> list[tuple[str, Any, list[str]]]:
    """(zone, factor, flags) of every zone of a provider (or every grid) for a year, lowest first.

    Resolved once per (provider, year) and cached: the registry changes only with a new factor set.
    """

    def compute() -> list[tuple[str, Any, list[str]]]:
        lookup = factor_lookup(organisation_id)
        pool = [z for z, _ in zone_choices() if (z.startswith(prefix) if prefix else "/" not in z)]
        found = []
        for zone in pool:
            choice, flags = resolve_factor([zone], year, lookup)
            if choice is not None:
                found.append((zone, choice, flags))
        return sorted(found, key=lambda item: (item[1].g_co2e_per_kwh, item[0]))

    # Per organisation: its own factor sets override the global ones (docs/methodology.md §5).
    return dashboard_cached(organisation_id, f"zone-factors:{prefix or 'grid'}:{year}", compute)


def run_what_if(*, entry: LedgerEntry, zone: str | None) -> tuple[WhatIf | None, list[WhatIf]]:
    """(the chosen zone's estimate, the lowest-carbon zones of the run's provider and residency area, or of the
    site country's grids on premises).

    Raises InvalidFilter for a zone that is not in the registry.
    """
    chosen = None
    year = entry.period_end.year
    if zone:
        if not _ZONE.match(zone) or zone not in dict(zone_choices()):
            raise InvalidFilter(f"zone must be a zone of the factor registry, such as aws/eu-north-1, not {zone!r}.")
        choice, flags = resolve_factor([zone], year, factor_lookup(entry.organisation_id))
        chosen = _estimate(entry, zone, choice, flags) if choice is not None else None
    prefix = _alternative_prefix(entry)
    pool = _zone_factors(prefix, year, entry.organisation_id) if prefix else []
    best = [item for item in pool if _may_move(entry, item[0])][:ALTERNATIVES]
    return chosen, [_estimate(entry, z, choice, flags) for z, choice, flags in best]


def _alternative_prefix(entry: LedgerEntry) -> str | None:
    """Where alternatives come from: the cloud provider's regions; on premises, the site country's sub-national
    grids (US states, Nordic bidding zones). A cloud record without a provider gets none: the world's cleanest
    grids (CAF, LSO, BTN, …) are no advice for a cloud run, and we cannot tell whose regions it could move to.
    """
    if entry.provider:
        return f"{entry.provider.strip().lower()}/"
    if entry.scope == 2 and entry.country_iso:
        return f"{entry.country_iso.strip().upper()}/"
    return None


def _region_name(provider: str, region: str) -> str:
    name = region.strip().lower()
    return (canonical_azure_region(name) or "".join(name.split())) if provider == "azure" else name


def _may_move(entry: LedgerEntry, zone: str) -> bool:
    """Another zone than the record's own, and for cloud records one in the same residency area: advice never
    crosses a border by accident, so a region we cannot place gets no alternatives (steering/advisor/residency)."""
    head, _, name = zone.partition("/")
    if not entry.provider:
        return name != " ".join(entry.region.lower().split())
    here = _region_name(head, entry.region)
    return name != here and residency_allows(SAME, provider=head, current=here, candidate=name)
