"""One classified billing line → its estimate (methodology 4): component kWh, PUE, factor, embodied apart."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from greenesg.footprint.methodology.cloud.billing_units import unit_is_known
from greenesg.footprint.methodology.cloud.coefficients import (
    coefficients_version,
    load_coefficients,
    pue_for,
    replication_factor,
)
from greenesg.footprint.methodology.cloud.compute import compute_parts
from greenesg.footprint.methodology.cloud.gpu import gpu_parts
from greenesg.footprint.methodology.cloud.lines import BUCKETS, ExtrapolationRatio, LineEstimate, NormalisedBillingLine
from greenesg.footprint.methodology.cloud.memory import memory_energy_kwh, memory_gb_hours
from greenesg.footprint.methodology.cloud.network import network_energy_kwh, network_gb
from greenesg.footprint.methodology.cloud.storage import storage_energy_kwh, storage_tb_hours
from greenesg.footprint.vocabulary import Method


def _bucket_parts(
    line: NormalisedBillingLine, utilisation: float, flags: list[str]
) -> tuple[dict[str, float], float | None] | None:
    """IT kWh per component and embodied kg for a classified line; None if it cannot be modelled."""
    if line.bucket == "compute":
        return compute_parts(line, utilisation, flags)
    if line.bucket == "gpu":
        gpu = gpu_parts(line, utilisation, flags)
        return None if gpu is None else (gpu, None)
    rf = replication_factor(line.provider, line.service, line.usage_type)
    quantity: float | None
    if line.bucket == "memory":
        quantity = memory_gb_hours(line)
        part = None if quantity is None else {"memory": memory_energy_kwh(quantity, pue=1.0, replication=rf)}
    elif line.bucket in ("storage_ssd", "storage_hdd"):
        quantity = storage_tb_hours(line)
        ssd = line.bucket == "storage_ssd"
        part = None if quantity is None else {"storage": storage_energy_kwh(quantity, ssd, pue=1.0, replication=rf)}
    elif line.bucket == "network":
        quantity = network_gb(line)
        part = None if quantity is None else {"network": network_energy_kwh(quantity, pue=1.0)}
    else:
        part = None
    if part is None:
        flags.append("unit_unsupported")
        return None
    return part, None


def estimate_without_energy(line: NormalisedBillingLine, method: str, pue: float, flags: Sequence[str]) -> LineEstimate:
    """An estimate with no figures: an excluded line, or one waiting for (or refused by) extrapolation."""
    return LineEstimate(
        line=line,
        bucket=line.bucket,
        method=method,
        it_kwh=None,
        facility_kwh=None,
        operational_kg=None,
        embodied_kg=None,
        pue=pue,
        flags=tuple(dict.fromkeys(flags)),
        coefficients_version=coefficients_version(),
    )


def estimate_line(
    line: NormalisedBillingLine,
    *,
    region_factor_g_per_kwh: float | None,
    utilisation: float | None = None,
) -> LineEstimate:
    """Model one classified billing line (methodology 4).

    1. unsupported rows are excluded, unknown rows wait for extrapolation (4.8);
    2. IT kWh per component at PUE 1, then facility kWh = IT x provider/region PUE (4.6);
    3. operational kg = facility kWh x grid factor, None with `region_unmapped` when no factor (principle 1.4);
    4. embodied kg kept apart: it never enters a kWh figure (pitfall 4.10.1).
    """
    pue = pue_for(line.provider, line.region)
    if line.bucket == "unsupported":
        return estimate_without_energy(line, "excluded", pue, ["unsupported"])
    if line.bucket not in BUCKETS or line.bucket == "unknown":
        unknown_flags = ["unknown_usage"] if unit_is_known(line) else ["unknown_usage", "unit_unknown"]
        return estimate_without_energy(line, "unestimated", pue, unknown_flags)
    flags: list[str] = []
    if line.amount < 0:
        # A negative usage row (negation, correction) must never create negative energy (issue 3 item 4).
        flags.append("negative_usage")
        line = replace(line, amount=0.0)
    if utilisation is None and line.bucket in ("compute", "gpu"):
        flags.append("default_utilisation")
    u = float(load_coefficients()["default_utilisation"]) if utilisation is None else utilisation
    parts = _bucket_parts(line, u, flags)
    if parts is None:
        return estimate_without_energy(line, "unestimated", pue, flags)
    components, embodied = parts
    it_kwh = sum(components.values())
    return estimate_with_energy(
        line, Method.MODELLED, it_kwh, pue, region_factor_g_per_kwh, flags, components, embodied, None
    )


def estimate_with_energy(
    line: NormalisedBillingLine,
    method: str,
    it_kwh: float,
    pue: float,
    factor: float | None,
    flags: list[str],
    components: dict[str, float],
    embodied: float | None,
    ratio: ExtrapolationRatio | None,
) -> LineEstimate:
    """The estimate of a modelled or extrapolated line: facility kWh and, with a grid factor, operational kg."""
    facility = it_kwh * pue
    if factor is None:
        flags.append("region_unmapped")  # principle 1.4: flagged, never silently averaged
    return LineEstimate(
        line=line,
        bucket=line.bucket,
        method=method,
        it_kwh=it_kwh,
        facility_kwh=facility,
        operational_kg=None if factor is None else facility * factor / 1000,
        embodied_kg=embodied,
        pue=pue,
        components_it_kwh=components,
        flags=tuple(dict.fromkeys(flags)),
        coefficients_version=coefficients_version(),
        extrapolation=ratio,
    )
