"""Unknown-usage extrapolation (methodology 4.8): scale by the kWh per cost or amount of modelled lines."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from greenesg.footprint.methodology.cloud.billing_units import billing_unit
from greenesg.footprint.methodology.cloud.coefficients import pue_for
from greenesg.footprint.methodology.cloud.estimator import estimate_with_energy, estimate_without_energy
from greenesg.footprint.methodology.cloud.lines import (
    ExtrapolationRatio,
    ExtrapolationResult,
    LineEstimate,
    NormalisedBillingLine,
)
from greenesg.footprint.vocabulary import Method


def extrapolation_basis(line: NormalisedBillingLine) -> tuple[str, float]:
    """AWS rows scale by cost (the CUR only has a pricing unit); GCP and Azure by usage amount (4.8 step 1)."""
    return ("cost", line.cost) if line.provider == "aws" else ("amount", line.amount)


def _ratio_table(sources: Sequence[LineEstimate]) -> dict[tuple[str, ...], ExtrapolationRatio]:
    """Facility kWh per cost/amount keyed by provider+service+unit and by provider+unit."""
    sums: dict[tuple[str, ...], list[float]] = {}
    for est in sources:
        basis_name, value = extrapolation_basis(est.line)
        if est.method != Method.MODELLED or est.facility_kwh is None or value <= 0:
            continue  # credits and zero-cost rows would distort the ratio
        unit = billing_unit(est.line)
        for key in (("service+unit", est.line.provider, est.line.service, unit), ("unit", est.line.provider, unit)):
            acc = sums.setdefault(key, [0.0, 0.0, 0.0])
            acc[0] += est.facility_kwh
            acc[1] += value
            acc[2] += 1
    return {
        key: ExtrapolationRatio(kwh / basis, "cost" if key[1] == "aws" else "amount", key[0], int(rows))
        for key, (kwh, basis, rows) in sums.items()
        if basis > 0
    }


def _extrapolate_one(
    line: NormalisedBillingLine,
    ratios: Mapping[tuple[str, ...], ExtrapolationRatio],
    factor_for: Callable[[NormalisedBillingLine], float | None] | None,
    carried_flags: Sequence[str],
) -> LineEstimate:
    pue = pue_for(line.provider, line.region)
    _, value = extrapolation_basis(line)
    if value <= 0:
        # Credits/refunds keep their sign in cost but never create negative energy (issue 3 item 4).
        return estimate_without_energy(line, "unestimated", pue, [*carried_flags, "no_extrapolation_basis"])
    unit = billing_unit(line)
    ratio = ratios.get(("service+unit", line.provider, line.service, unit)) or ratios.get(("unit", line.provider, unit))
    if ratio is None:
        # CCF assigns 0 here; we leave the row unestimated so the coverage report shows it (4.8 step 2).
        return estimate_without_energy(line, "unestimated", pue, [*carried_flags, "no_extrapolation_ratio"])
    facility = ratio.kwh_per_unit * value
    factor = factor_for(line) if factor_for else None
    flags = [*carried_flags, "extrapolated"]
    return estimate_with_energy(
        line, Method.EXTRAPOLATED, facility / pue, pue, factor, flags, {"extrapolated": facility / pue}, None, ratio
    )


def extrapolate_unknown(
    estimated: Sequence[LineEstimate],
    unknown: Sequence[NormalisedBillingLine] = (),
    *,
    factor_for: Callable[[NormalisedBillingLine], float | None] | None = None,
) -> ExtrapolationResult:
    """Estimate unknown rows from the kWh-per-cost/amount of modelled rows (methodology 4.8).

    `estimated` may also hold rows `estimate_line` could not model (method "unestimated", e.g. vcpu_unknown):
    they are extrapolated too. Unsupported rows (bucket "unsupported" or method "excluded") are dropped and
    counted. Returns the new estimates for the unknown rows only.
    """
    ratios = _ratio_table(estimated)
    pending: list[tuple[NormalisedBillingLine, tuple[str, ...]]] = [(ln, ()) for ln in unknown]
    pending += [
        (e.line, tuple(f for f in e.flags if f != "unknown_usage")) for e in estimated if e.method == "unestimated"
    ]
    unsupported_rows, unsupported_cost = 0, 0.0
    for e in estimated:
        if e.method == "excluded":
            unsupported_rows, unsupported_cost = unsupported_rows + 1, unsupported_cost + e.line.cost
    out: list[LineEstimate] = []
    for line, carried in pending:
        if line.bucket == "unsupported":
            unsupported_rows, unsupported_cost = unsupported_rows + 1, unsupported_cost + line.cost
            continue
        out.append(_extrapolate_one(line, ratios, factor_for, carried))
    unestimated = sum(1 for e in out if e.method == "unestimated")
    return ExtrapolationResult(out, unsupported_rows, unsupported_cost, unestimated)
