"""Other activities (office electricity, heating fuel, travel, hardware …) → one ledger row each.

The activity arrives as plain values (the footprint core imports no reports model): emissions come either
from a registry factor applied to a kWh/MWh quantity, or as stated by the supplier, and the row carries the
evidence's SHA-256 and the import's file and row as lineage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from greenesg.footprint.ledger import LedgerRow
from greenesg.footprint.methodology.factors import MB_BASIS_GRID_FALLBACK
from greenesg.footprint.vocabulary import Method, Source

# Quantity units whose amount is energy, and their kWh per unit; any other unit needs a stated kgCO2e.
ENERGY_UNITS = {"kwh": 1.0, "mwh": 1000.0}
FLAG_EVIDENCE_MISSING = "evidence_missing"


class ActivityUnpriced(ValueError):
    """An activity with neither a stated kgCO2e nor a registry factor for a kWh or MWh quantity."""


@dataclass(frozen=True)
class ActivityFactor:
    """The registry factor an activity names, as the ledger records it."""

    factor_id: int
    g_co2e_per_kwh: float
    version_label: str


@dataclass(frozen=True)
class OtherActivityValues:
    """What the ledger needs of an other activity (reports.models.OtherActivity), as plain values."""

    activity_id: int | None
    organisation_id: int
    project_id: int | None
    natural_key: str
    description: str
    scope: int
    category: str
    quantity: float
    unit: str
    energy_kwh: float | None
    fuel_type: str
    country_iso: str
    factor: ActivityFactor | None
    stated_kgco2e: float | None
    stated_source: str
    evidence_name: str
    evidence_sha256: str
    period_start: dt.date
    period_end: dt.date
    import_name: str
    import_sha256: str
    import_row: int | None


def _emissions(activity: OtherActivityValues, per_kwh: float | None, energy: float) -> tuple[float, str, list[str]]:
    """(kg CO2e, method, flags): a stated figure wins; else a registry factor on a kWh/MWh quantity."""
    if activity.stated_kgco2e is not None:
        if activity.evidence_sha256:
            return activity.stated_kgco2e, Method.SUPPLIER_SPECIFIC, []
        return activity.stated_kgco2e, Method.MODELLED, [FLAG_EVIDENCE_MISSING]
    if activity.factor is not None and per_kwh:
        return energy * activity.factor.g_co2e_per_kwh / 1000.0, Method.MODELLED, []
    raise ActivityUnpriced("An activity needs a stated kgCO2e or a registry factor with a kWh or MWh quantity.")


def other_activity_ledger_row(activity: OtherActivityValues) -> LedgerRow:
    """The ledger row of an activity: emissions from a registry factor (kWh) or as stated, with lineage."""
    per_kwh = ENERGY_UNITS.get(activity.unit.strip().lower())
    energy = activity.quantity * per_kwh if per_kwh else (activity.energy_kwh or 0.0)
    kg, method, flags = _emissions(activity, per_kwh, energy)
    start = dt.datetime.combine(activity.period_start, dt.time(0, 0), tzinfo=dt.UTC)
    # The ledger's period rule: the UTC day of period_end decides the reporting period.
    end = dt.datetime.combine(activity.period_end, dt.time(23, 59, 59), tzinfo=dt.UTC)
    # Without contractual instruments a Scope 2 market-based figure is the grid average, said by its basis.
    market_basis = MB_BASIS_GRID_FALLBACK if activity.scope == 2 and activity.stated_kgco2e is None else ""
    fuel = activity.fuel_type if activity.scope == 1 and activity.fuel_type else ""
    # The factor is lineage only when it produced the figure, not beside a stated one.
    factor = activity.factor if activity.stated_kgco2e is None else None
    # E1-5 counts energy of Scope 1 and 2 only.
    own_energy = energy if activity.scope in (1, 2) else 0.0
    return LedgerRow(
        organisation_id=activity.organisation_id,
        project_id=activity.project_id,
        natural_key=activity.natural_key,
        source=Source.OTHER,
        period_start=start,
        period_end=end,
        day=activity.period_end,
        experiment="",
        run_id="",
        provider="",
        region="",
        country_iso=activity.country_iso.upper(),
        service=activity.description[:200],
        resource_category=f"fuel:{fuel}" if fuel else "",
        usage_amount=activity.quantity,
        usage_unit=activity.unit[:32],
        duration_s=(end - start).total_seconds(),
        energy_it_kwh=own_energy,
        energy_facility_kwh=own_energy,
        kgco2e_location=kg,
        kgco2e_market=kg,
        kgco2e_embodied=0.0,
        water_l=0.0,
        cost=None,
        currency="",
        scope=activity.scope,
        category=activity.category if activity.scope == 3 else "",
        method=method,
        pue_applied=1.0,
        factor_id=factor.factor_id if factor is not None else None,
        factor_g_per_kwh=factor.g_co2e_per_kwh if factor is not None else None,
        factor_version=factor.version_label if factor is not None else "",
        market_factor_g_per_kwh=None,
        market_basis=market_basis,
        flags=flags,
        in_inventory=True,
        import_job_id=None,
        source_row=activity.import_row,
        attributes={
            "other_activity_id": activity.activity_id,
            "description": activity.description,
            "stated_source": activity.stated_source,
            "evidence_name": activity.evidence_name,
            "evidence_sha256": activity.evidence_sha256,
            "import_name": activity.import_name,
            "import_sha256": activity.import_sha256,
        },
    )
