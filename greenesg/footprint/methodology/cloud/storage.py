"""Storage energy (methodology 4.4): allocated capacity in TB-hours, SSD or HDD, times replication."""

from __future__ import annotations

import re

from greenesg.footprint.methodology.cloud.billing_units import (
    billing_unit,
    bytes_to_tb,
    gb_month_to_tb_hours,
    hours_in_month,
)
from greenesg.footprint.methodology.cloud.coefficients import load_coefficients
from greenesg.footprint.methodology.cloud.lines import NormalisedBillingLine

# Billing units (lower-cased) read as capacity over a month; methodology 3.1-3.3.
_GB_MONTH_UNITS = frozenset({"gb-mo", "gb-month", "gb-mp", "gb/month"})


def storage_energy_kwh(tb_hours: float, ssd: bool, pue: float, replication: float = 1.0) -> float:
    wh = load_coefficients()["storage_wh_per_tb_hour"]["ssd" if ssd else "hdd"]
    return tb_hours * float(wh) * pue * replication / 1000


def storage_tb_hours(line: NormalisedBillingLine) -> float | None:
    """Allocated capacity in TB-h (4.4); None for units the estimator does not know."""
    unit = billing_unit(line)
    if unit in _GB_MONTH_UNITS:
        return gb_month_to_tb_hours(line.amount, line.usage_start)
    if unit == "tb/month":
        return gb_month_to_tb_hours(line.amount * 1000, line.usage_start)
    if unit in ("gb-hours", "gb-hour"):
        return line.amount / 1000
    if unit == "byte-seconds":
        return bytes_to_tb(line.amount) / 3600
    if unit in ("/month", "/day"):
        return _azure_disk_tb_hours(line, per_day=unit == "/day")
    return None


def _azure_disk_tb_hours(line: NormalisedBillingLine, *, per_day: bool) -> float | None:
    """Azure managed disks are billed per disk-month (or day): size from the tier in the meter name (3.3)."""
    sizes = load_coefficients()["azure_managed_disk_gb"]
    match = re.search(r"\b([PES]\d{1,2})\b", line.usage_type)
    if not match or match.group(1) not in sizes:
        return None
    size_tb = sizes[match.group(1)] / 1000
    hours = line.amount * 24 if per_day else line.amount * hours_in_month(line.usage_start)
    return size_tb * hours
