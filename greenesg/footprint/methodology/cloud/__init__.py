"""Cloud billing estimation methodology: pure, typed functions (no Django, no ORM), one module per resource.

Every coefficient comes from ``greenesg/footprint/data/cloud_coefficients.json`` (versioned), so a figure can
always name the coefficient set it was computed with. Section numbers refer to
``docs/methodology.md`` ("principle 1.n" is its §1.n, "pitfall 4.10.n" item n of its §4.10).

Three measures are kept apart on purpose (methodology 1.1): energy in kWh, operational kg CO2e and embodied
kg CO2e. Embodied CO2e is never converted to kWh (pitfall 4.10.1).

Modules: ``lines`` (the normalised billing line and its estimate), ``coefficients`` (coefficient access),
``billing_units`` (units and conversions), one per resource (``compute``, ``memory``, ``storage``,
``network``, ``gpu``, ``embodied``), ``estimator`` (one line → its estimate) and ``extrapolate`` (4.8).
The names below are the package's public API, so callers need not know which module holds what.
"""

from __future__ import annotations

from greenesg.footprint.methodology.cloud.billing_units import (
    BYTES_PER_GB,
    BYTES_PER_GIB,
    BYTES_PER_TB,
    BYTES_PER_TIB,
    billing_unit,
    bytes_to_gb,
    bytes_to_tb,
    gb_month_to_tb_hours,
    gib_to_gb,
    hours_in_month,
    tib_to_tb,
    unit_is_known,
)
from greenesg.footprint.methodology.cloud.coefficients import (
    COEFFICIENTS_PATH,
    CpuWatts,
    InstanceSpec,
    average_watts,
    azure_canonical_region,
    coefficients_version,
    cpu_watts,
    family_key,
    gcp_multi_region_factor,
    instance_spec,
    load_coefficients,
    pue_for,
    replication_factor,
)
from greenesg.footprint.methodology.cloud.compute import compute_energy_kwh
from greenesg.footprint.methodology.cloud.embodied import embodied_kg, gcp_reserved_instance_hours
from greenesg.footprint.methodology.cloud.estimator import estimate_line
from greenesg.footprint.methodology.cloud.extrapolate import extrapolate_unknown, extrapolation_basis
from greenesg.footprint.methodology.cloud.gpu import gpu_energy_kwh, gpu_watts
from greenesg.footprint.methodology.cloud.lines import (
    BUCKETS,
    PROVIDERS,
    ExtrapolationRatio,
    ExtrapolationResult,
    LineEstimate,
    NormalisedBillingLine,
)
from greenesg.footprint.methodology.cloud.memory import aws_excess_memory_gb_hours, memory_energy_kwh
from greenesg.footprint.methodology.cloud.network import network_energy_kwh
from greenesg.footprint.methodology.cloud.storage import storage_energy_kwh

__all__ = [
    "BUCKETS",
    "BYTES_PER_GB",
    "BYTES_PER_GIB",
    "BYTES_PER_TB",
    "BYTES_PER_TIB",
    "COEFFICIENTS_PATH",
    "PROVIDERS",
    "CpuWatts",
    "ExtrapolationRatio",
    "ExtrapolationResult",
    "InstanceSpec",
    "LineEstimate",
    "NormalisedBillingLine",
    "average_watts",
    "aws_excess_memory_gb_hours",
    "azure_canonical_region",
    "billing_unit",
    "bytes_to_gb",
    "bytes_to_tb",
    "coefficients_version",
    "compute_energy_kwh",
    "cpu_watts",
    "embodied_kg",
    "estimate_line",
    "extrapolate_unknown",
    "extrapolation_basis",
    "family_key",
    "gb_month_to_tb_hours",
    "gcp_multi_region_factor",
    "gcp_reserved_instance_hours",
    "gib_to_gb",
    "gpu_energy_kwh",
    "gpu_watts",
    "hours_in_month",
    "instance_spec",
    "load_coefficients",
    "memory_energy_kwh",
    "network_energy_kwh",
    "pue_for",
    "replication_factor",
    "storage_energy_kwh",
    "tib_to_tb",
    "unit_is_known",
]
