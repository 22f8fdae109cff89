"""Billing units and unit conversions (methodology 3.3; pitfall 4.10.4: through bytes, to decimal units)."""

from __future__ import annotations

import re
from datetime import datetime

from greenesg.footprint.methodology import units
from greenesg.footprint.methodology.cloud.lines import NormalisedBillingLine
from greenesg.lib.periods import days_in_month

# Pitfall 4.10.4: everything goes through bytes, then to decimal units (GB = 10^9, TB = 10^12).
BYTES_PER_GB = 10**9
BYTES_PER_TB = 10**12
BYTES_PER_GIB = 2**30
BYTES_PER_TIB = 2**40


def bytes_to_gb(n_bytes: float) -> float:
    return n_bytes / BYTES_PER_GB


def bytes_to_tb(n_bytes: float) -> float:
    return n_bytes / BYTES_PER_TB


def gib_to_gb(gib: float) -> float:
    return bytes_to_gb(gib * BYTES_PER_GIB)


def tib_to_tb(tib: float) -> float:
    return bytes_to_tb(tib * BYTES_PER_TIB)


def hours_in_month(moment: datetime) -> int:
    return 24 * days_in_month(moment.year, moment.month)


def gb_month_to_tb_hours(gb_months: float, moment: datetime) -> float:
    """Methodology 4.4: GB-Month -> TB-h = GB / 1000 x 24 x days in the month of the usage."""
    return gb_months / 1000 * hours_in_month(moment)


# Azure's canonical units (units.parse_unit) in the spelling the component estimators below match on.
_AZURE_UNIT_SPELLING = {
    units.HOUR: "hours",
    units.MONTH: "/month",
    units.DAY: "/day",
    units.GB_MONTH: "gb/month",
    units.TB_MONTH: "tb/month",
    units.GB: "gb",
    units.TB: "tb",
    units.GB_SECOND: "gb seconds",
    units.GB_HOUR: "gb hours",
}


def billing_unit(line: NormalisedBillingLine) -> str:
    """Lower-cased unit; Azure's many spellings ("10 GB/Month", "1/Month", "Units/Month") reduced to one. The
    pack number is informational unless the reader unpacked it (methodology 3.3 'Pack sizes': CCF uses Quantity
    unscaled, and so do we by default)."""
    unit = line.unit.strip().lower()
    if line.provider != "azure":
        return unit
    parsed = units.parse_unit(unit)
    return _AZURE_UNIT_SPELLING[parsed.unit] if parsed else re.sub(r"^\d+\s*", "", unit)


def unit_is_known(line: NormalisedBillingLine) -> bool:
    """False for an Azure unit outside the spelling table: such a row is flagged, never read as zero usage."""
    return line.provider != "azure" or units.parse_unit(line.unit) is not None
