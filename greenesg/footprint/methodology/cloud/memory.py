"""Memory energy (methodology 4.3): VM RAM beyond what SPECpower includes, and billed GB-hours."""

from __future__ import annotations

import math

from greenesg.footprint.methodology.cloud.billing_units import billing_unit, bytes_to_gb
from greenesg.footprint.methodology.cloud.coefficients import load_coefficients
from greenesg.footprint.methodology.cloud.lines import NormalisedBillingLine


def memory_energy_kwh(gb_hours: float, pue: float, replication: float = 1.0) -> float:
    return gb_hours * float(load_coefficients()["memory_kwh_per_gb_hour"]) * pue * replication


def aws_excess_memory_gb_hours(
    instance_memory_gb: float,
    largest_vcpus: float,
    largest_memory_gb: float,
    gb_per_chip: float | None,
    hours: float,
    *,
    burstable: bool = False,
) -> float:
    """Methodology 4.3: only RAM beyond what SPECpower already includes (AWS and Azure VMs).

    chips = ceil(largest vCPUs / 96); excess = largest RAM / chips - GB per chip;
    GB-h = excess x (instance RAM / largest RAM) x hours; nothing if excess <= 0 or burstable.
    """
    if burstable or gb_per_chip is None or largest_memory_gb <= 0:
        return 0.0
    chips = math.ceil(largest_vcpus / float(load_coefficients()["memory_chip_vcpus"]))
    excess = largest_memory_gb / chips - gb_per_chip
    if excess <= 0:
        return 0.0
    return excess * (instance_memory_gb / largest_memory_gb) * hours


def memory_gb_hours(line: NormalisedBillingLine) -> float | None:
    unit = billing_unit(line)
    if unit == "byte-seconds":
        return bytes_to_gb(line.amount) / 3600
    if unit in ("gb second", "gb seconds", "gb-second", "gb-seconds"):
        return line.amount / 3600
    if unit in ("gb hour", "gb hours", "gb-hours", "gb-hour"):
        return line.amount
    return None
