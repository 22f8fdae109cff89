"""Network energy (methodology 4.5): kWh per GB transferred, never replicated."""

from __future__ import annotations

from greenesg.footprint.methodology.cloud.billing_units import billing_unit, bytes_to_gb
from greenesg.footprint.methodology.cloud.coefficients import load_coefficients
from greenesg.footprint.methodology.cloud.lines import NormalisedBillingLine

# Billing units (lower-cased) read as GB transferred; methodology 3.1-3.3.
_NETWORK_GB_UNITS = frozenset({"gb", "gigabytes"})


def network_energy_kwh(gb: float, pue: float) -> float:
    """Methodology 4.5: no replication factor for network."""
    return gb * float(load_coefficients()["network_kwh_per_gb"]) * pue


def network_gb(line: NormalisedBillingLine) -> float | None:
    unit = billing_unit(line)
    if unit in _NETWORK_GB_UNITS:
        return line.amount
    if unit == "tb":
        return line.amount * 1000
    if unit == "bytes":
        return bytes_to_gb(line.amount)
    return None
