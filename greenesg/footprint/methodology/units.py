"""Billing units as providers spell them, reduced to (pack size, canonical unit).

Azure writes one unit many ways: "1 Hour", "10 Hours", "100 Hours", "1 /Month", "1/Month", "1 GB/Month",
"10 GB/Month", "50000 GB Seconds"; Microsoft's FOCUS export spells the same units without a pack ("Hours",
"GB/Month", "Units/Month"). Exact string matches miss some of these and leave real usage unestimated, so every
spelling goes through one table here. A unit the table does not know is reported as unknown (None), which the
estimator flags (`unit_unknown`) and counts in coverage: it is never read as zero usage.

The pack size is information only: Azure cost exports give Quantity in the distinct unit (hours, GB-months), so
the estimator uses Quantity unscaled unless an import option says the export counts packs (docs/methodology.md
§3.3, pack sizes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Canonical units, as the estimator names them.
HOUR = "hour"
MONTH = "month"  # one item (a disk, an IP address) for a month
DAY = "day"  # one item for a day
GB_MONTH = "gb-month"
TB_MONTH = "tb-month"
GB = "gb"
TB = "tb"
GB_SECOND = "gb-second"
GB_HOUR = "gb-hour"

# Spellings of the unit after the pack number, compared lower-cased with spaces folded. "units/month" is how
# Microsoft's FOCUS export names a per-item month ("1 /Month" in the native export).
_SPELLINGS: dict[str, str] = {
    "hour": HOUR,
    "hours": HOUR,
    "hr": HOUR,
    "hrs": HOUR,
    "/month": MONTH,
    "/ month": MONTH,
    "units/month": MONTH,
    "unit/month": MONTH,
    "/day": DAY,
    "units/day": DAY,
    "unit/day": DAY,
    "gb/month": GB_MONTH,
    "gb-month": GB_MONTH,
    "gb-mo": GB_MONTH,
    "gb month": GB_MONTH,
    "gib/month": GB_MONTH,
    "tb/month": TB_MONTH,
    "tb-month": TB_MONTH,
    "gb": GB,
    "gib": GB,
    "gigabytes": GB,
    "tb": TB,
    "gb second": GB_SECOND,
    "gb seconds": GB_SECOND,
    "gb-second": GB_SECOND,
    "gb-seconds": GB_SECOND,
    "gb hour": GB_HOUR,
    "gb hours": GB_HOUR,
    "gb-hour": GB_HOUR,
    "gb-hours": GB_HOUR,
}

_PACK_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)?\s*(.*?)\s*$")


@dataclass(frozen=True)
class PackUnit:
    pack: float  # "10 Hours" -> 10; 1 when the spelling has no number
    unit: str  # one of the canonical units above


@lru_cache(maxsize=4096)
def parse_unit(text: str) -> PackUnit | None:
    """'10 Hours' -> PackUnit(10, 'hour'); '1/Month' -> PackUnit(1, 'month'); None for a unit we do not know."""
    match = _PACK_RE.match(text or "")
    if match is None:
        return None
    number, rest = match.groups()
    canonical = _SPELLINGS.get(re.sub(r"\s+", " ", rest.lower()))
    if canonical is None:
        return None
    pack = float(number) if number else 1.0
    return PackUnit(pack, canonical) if pack > 0 else None
