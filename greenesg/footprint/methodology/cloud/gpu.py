"""GPU energy (methodology 4.2): idle and full-load watts per model, on the shared power curve."""

from __future__ import annotations

import re

from greenesg.footprint.methodology.cloud.coefficients import average_watts, load_coefficients, replication_factor
from greenesg.footprint.methodology.cloud.lines import NormalisedBillingLine


def gpu_watts(model: str) -> tuple[float, float] | None:
    """(idle W, 100 % W) for a GPU model named anywhere in `model` (methodology 4.2)."""
    table = load_coefficients()["gpu_watts"]
    # Longest names first so "A100" is not read as "A10G" and "P40" not as "P4".
    for name in sorted(table, key=len, reverse=True):
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", model, flags=re.IGNORECASE):
            return float(table[name]["idle"]), float(table[name]["max"])
    return None


def gpu_energy_kwh(
    gpu_hours: float,
    idle_watts: float,
    max_watts: float,
    utilisation: float = 0.5,
    *,
    pue: float,
    replication: float = 1.0,
) -> float:
    return gpu_hours * average_watts(idle_watts, max_watts, utilisation) * pue * replication / 1000


def gpu_parts(line: NormalisedBillingLine, utilisation: float, flags: list[str]) -> dict[str, float] | None:
    """GCP GPU SKUs bill GPU-seconds; the model is read from the SKU text (3.2)."""
    watts = gpu_watts(line.gpu_model or line.usage_type)
    if watts is None:
        flags.append("gpu_unknown")
        return None
    rf = replication_factor(line.provider, line.service, line.usage_type)
    return {"gpu": gpu_energy_kwh(line.amount / 3600, watts[0], watts[1], utilisation, pue=1.0, replication=rf)}
