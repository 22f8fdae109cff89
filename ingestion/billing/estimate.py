"""Billing lines -> estimates -> per-day aggregates -> ledger row dicts (no ORM: the factor lookup is passed in).

Why lines are summed *before* they are estimated: every formula of docs/methodology.md §4 is linear in the usage
amount (vCPU-hours, GB-months, GB, GB-hours) once the line's resource is fixed, and so is the §4.8
extrapolation in cost or amount. So the methodology runs once per distinct (day, account, service, usage
type, region, unit, bucket, instance, tags …) group instead of once per CUR row: a 1,000,000-row hourly CUR
costs tens of thousands of estimate calls, not a million. Two non-linear rules are kept exact by putting the
sign into the group key: a negative usage amount is clamped to 0 (no negative energy from credits or
corrections), and a row with no positive cost/amount is never extrapolated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from greenesg.footprint.ledger import LedgerRow
from greenesg.footprint.methodology.cloud.coefficients import gcp_multi_region_factor, load_coefficients
from greenesg.footprint.methodology.cloud.estimator import estimate_line
from greenesg.footprint.methodology.cloud.extrapolate import extrapolate_unknown
from greenesg.footprint.methodology.cloud.lines import LineEstimate, NormalisedBillingLine
from greenesg.footprint.methodology.factors import (
    CATEGORY_CLOUD,
    FLAG_MB_FALLBACK,
    MB_BASIS_GRID_FALLBACK,
    SCOPE_3,
    FactorChoice,
    factor_zone_candidates,
    resolve_factor,
)
from greenesg.footprint.vocabulary import Method, Source
from greenesg.lib.periods import month_start
from ingestion.billing.attribution import Share, Subject
from ingestion.billing.readers.columns import LineBatch

# Unestimated and excluded groups stay out of the ledger (LineEstimate.method has those two beyond Method).
LEDGER_METHODS = (Method.MODELLED, Method.EXTRAPOLATED)
FLAG_GCP_MULTI_REGION = "gcp_multi_region_mean"


# ---------------------------------------------------------------------------------------------- factors


@dataclass(frozen=True)
class ResolvedFactor:
    g_per_kwh: float | None
    factor_id: int | None
    version: str
    flags: tuple[str, ...] = ()


FactorResolver = Callable[[str, str, int], ResolvedFactor]


def factor_resolver(lookup: Callable[[str], list[FactorChoice]]) -> FactorResolver:
    """(provider, region, year) -> grid factor, memoised for one import.

    Cloud zones only: a region missing from the registry gets no factor (the estimate then flags
    region_unmapped, docs/methodology.md §1.4) instead of a country or provider-mean fallback. GCP multi- and
    dual-regions use the mean of their member regions (§4.10 item 3), never the sum.
    """

    @lru_cache(maxsize=4096)
    def resolve(provider: str, region: str, year: int) -> ResolvedFactor:
        if provider == "gcp" and region.strip().lower() in load_coefficients()["gcp_multi_regions"]:
            return _gcp_multi_region(region.strip().lower(), year, resolve)
        candidates = factor_zone_candidates(
            on_cloud=True, cloud_provider=provider, cloud_region=region, country_iso="", region=""
        )
        if not candidates:
            return ResolvedFactor(None, None, "", ("no_factor",))
        choice, flags = resolve_factor(candidates, year, lookup)
        if choice is None:
            return ResolvedFactor(None, None, "", tuple(flags))
        return ResolvedFactor(choice.g_co2e_per_kwh, choice.factor_id, choice.version_label, tuple(flags))

    return resolve


def _gcp_multi_region(region: str, year: int, resolve: FactorResolver) -> ResolvedFactor:
    members = load_coefficients()["gcp_multi_regions"][region]
    resolved = {member: resolve("gcp", member, year) for member in members}
    factors = {m: r.g_per_kwh for m, r in resolved.items() if r.g_per_kwh is not None}
    mean = gcp_multi_region_factor(region, factors)
    if mean is None:
        return ResolvedFactor(None, None, "", ("no_factor",))
    versions = sorted({r.version for r in resolved.values() if r.version})
    flags = {flag for r in resolved.values() for flag in r.flags}
    return ResolvedFactor(mean, None, ", ".join(versions), (FLAG_GCP_MULTI_REGION, *sorted(flags)))


# ---------------------------------------------------------------------------------------------- aggregation


@dataclass(frozen=True)
class GroupKey:
    provider: str
    account: str
    account_name: str
    day: dt.date
    service: str
    usage_type: str
    region: str
    unit: str
    bucket: str
    machine_type: str
    vcpus: float | None
    gpu_model: str
    resource_group: str
    currency: str
    tags: tuple[tuple[str, str], ...]
    positive_amount: bool
    positive_cost: bool

    @property
    def month(self) -> dt.date:
        return month_start(self.day)


@dataclass
class GroupSums:
    lines: int = 0
    amount: float = 0.0
    cost: float = 0.0
    first_line: int = 0


@dataclass
class LineAggregator:
    """Sums normalised lines per group while the file streams: memory grows with distinct groups, not rows.

    Keys are plain tuples in GroupKey's field order: building a frozen dataclass per row would cost more
    than the whole aggregation.
    """

    groups: dict[tuple[Any, ...], GroupSums] = field(default_factory=dict)
    source_format: str = ""

    def add(self, lines: Iterable[NormalisedBillingLine]) -> None:
        groups = self.groups
        for line in lines:
            tags = line.tags
            key = (
                line.provider,
                line.account,
                line.account_name,
                line.usage_start.date(),
                line.service,
                line.usage_type,
                line.region,
                line.unit,
                line.bucket,
                line.machine_type,
                line.vcpus,
                line.gpu_model,
                line.resource_group,
                line.currency,
                tuple(sorted(tags.items())) if tags else (),
                line.amount > 0,
                line.cost > 0,
            )
            sums = groups.get(key)
            if sums is None:
                sums = groups[key] = GroupSums(first_line=line.source_line)
                self.source_format = self.source_format or line.source_format
            sums.lines += 1
            sums.amount += line.amount
            sums.cost += line.cost

    def add_batch(self, batch: LineBatch) -> None:
        """`add` for a column batch, without a line object per row; the same keys, sums and summation order."""
        if not batch.size:
            return
        c = batch.columns
        self.source_format = self.source_format or c["source_format"][0]
        days: dict[Any, dt.date] = {}
        tag_keys: dict[int, tuple[tuple[str, str], ...]] = {}
        for start in c["usage_start"]:
            if start not in days:
                days[start] = start.date()
        for tags in c["tags"]:
            if id(tags) not in tag_keys:
                tag_keys[id(tags)] = tuple(sorted(tags.items())) if tags else ()
        keys = zip(
            c["provider"],
            c["account"],
            c["account_name"],
            map(days.__getitem__, c["usage_start"]),
            c["service"],
            c["usage_type"],
            c["region"],
            c["unit"],
            c["bucket"],
            c["machine_type"],
            c["vcpus"],
            c["gpu_model"],
            c["resource_group"],
            c["currency"],
            (tag_keys[id(t)] for t in c["tags"]),
            strict=True,
        )
        groups = self.groups
        for key6, amount, cost, line in zip(keys, c["amount"], c["cost"], c["source_line"], strict=True):
            key = (*key6, amount > 0, cost > 0)
            sums = groups.get(key)
            if sums is None:
                sums = groups[key] = GroupSums(first_line=line)
            sums.lines += 1
            sums.amount += amount
            sums.cost += cost

    def keyed(self) -> list[tuple[GroupKey, GroupSums]]:
        return [(GroupKey(*key), sums) for key, sums in self.groups.items()]


@dataclass(frozen=True)
class GroupEstimate:
    key: GroupKey
    sums: GroupSums
    estimate: LineEstimate
    factor: ResolvedFactor


@dataclass
class EstimatedFile:
    """Estimated groups per delivery unit (provider, account, month) and the file-level coverage counts."""

    deliveries: dict[tuple[str, str, dt.date], list[GroupEstimate]]
    source_format: str
    unsupported_lines: int = 0
    unestimated_lines: int = 0


def _group_line(key: GroupKey, sums: GroupSums, source_format: str) -> NormalisedBillingLine:
    return NormalisedBillingLine(
        provider=key.provider,
        account=key.account,
        service=key.service,
        usage_type=key.usage_type,
        region=key.region,
        unit=key.unit,
        amount=sums.amount,
        cost=sums.cost,
        currency=key.currency,
        usage_start=dt.datetime.combine(key.day, dt.time(), tzinfo=dt.UTC),
        tags=dict(key.tags),
        machine_type=key.machine_type,
        vcpus=key.vcpus,
        bucket=key.bucket,
        source_line=sums.first_line,
        account_name=key.account_name,
        resource_group=key.resource_group,
        gpu_model=key.gpu_model,
        source_format=source_format,
    )


def estimate_groups(aggregator: LineAggregator, *, resolve: FactorResolver) -> EstimatedFile:
    """1. model every group (docs/methodology.md §4); 2. extrapolate the unknown ones from the file's modelled
    groups (4.8); 3. file the groups under their delivery unit (provider, account, month)."""
    lines: list[tuple[GroupKey, GroupSums, NormalisedBillingLine]] = [
        (key, sums, _group_line(key, sums, aggregator.source_format)) for key, sums in aggregator.keyed()
    ]

    def factor_of(line: NormalisedBillingLine) -> ResolvedFactor:
        return resolve(line.provider, line.region, line.usage_start.year)

    estimates = [estimate_line(line, region_factor_g_per_kwh=factor_of(line).g_per_kwh) for _, _, line in lines]
    extrapolated = extrapolate_unknown(estimates, factor_for=lambda line: factor_of(line).g_per_kwh)
    replaced = {id(est.line): est for est in extrapolated.estimates}
    result = EstimatedFile(deliveries={}, source_format=aggregator.source_format)
    for (key, sums, line), first in zip(lines, estimates, strict=True):
        estimate = replaced.get(id(line), first)
        if estimate.method == "excluded":
            result.unsupported_lines += sums.lines
        elif estimate.method == "unestimated":
            result.unestimated_lines += sums.lines
        group = GroupEstimate(key, sums, estimate, factor_of(line))
        result.deliveries.setdefault((key.provider, key.account, key.month), []).append(group)
    return result


def aggregate_fields(group: GroupEstimate) -> dict[str, Any]:
    """Field values of the stored aggregate (BillingAggregate) of one estimated group."""
    est, key, factor = group.estimate, group.key, group.factor
    in_ledger = est.method in LEDGER_METHODS
    flags = list(dict.fromkeys([*est.flags, *(factor.flags if in_ledger else ())]))
    details: dict[str, Any] = {
        "components_it_kwh": est.components_it_kwh,
        "coefficients_version": est.coefficients_version,
        "methodology_version": est.methodology_version,
    }
    if key.vcpus:
        details["vcpus"] = key.vcpus
    if est.extrapolation is not None:
        ratio = est.extrapolation
        details["extrapolation"] = {
            "kwh_per_unit": ratio.kwh_per_unit,
            "basis": ratio.basis,
            "key": ratio.key,
            "source_groups": ratio.source_rows,
        }
    return {
        "day": key.day,
        "service": key.service[:200],
        "usage_type": key.usage_type[:255],
        "region": key.region[:64],
        "unit": key.unit[:32],
        "bucket": key.bucket,
        "machine_type": key.machine_type[:64],
        "resource_group": key.resource_group[:200],
        "tags": dict(key.tags),
        "method": est.method,
        "lines": group.sums.lines,
        "first_line": group.sums.first_line,
        "usage_amount": group.sums.amount,
        "cost": group.sums.cost,
        "currency": key.currency[:3],
        "energy_it_kwh": est.it_kwh or 0.0,
        "energy_facility_kwh": est.facility_kwh or 0.0,
        "kgco2e_location": est.operational_kg,
        "kgco2e_embodied": est.embodied_kg or 0.0,
        "pue": est.pue,
        "factor_id": factor.factor_id if in_ledger and est.operational_kg is not None else None,
        "factor_g_per_kwh": factor.g_per_kwh if in_ledger and est.operational_kg is not None else None,
        "factor_version": factor.version if in_ledger and est.operational_kg is not None else "",
        "flags": flags,
        "details": details,
    }


# ---------------------------------------------------------------------------------------------- ledger rows


class AggregateLike(Protocol):
    """A stored aggregate (BillingAggregate) as the ledger builder reads it."""

    id: int
    day: dt.date
    service: str
    usage_type: str
    region: str
    unit: str
    bucket: str
    machine_type: str
    resource_group: str
    tags: dict[str, str]
    method: str
    lines: int
    first_line: int
    usage_amount: float
    cost: float
    currency: str
    energy_it_kwh: float
    energy_facility_kwh: float
    kgco2e_location: float | None
    kgco2e_embodied: float
    pue: float
    factor_id: int | None
    factor_g_per_kwh: float | None
    factor_version: str
    flags: list[str]
    details: dict[str, Any]


@dataclass(frozen=True)
class DeliveryContext:
    organisation_id: int
    delivery_id: int
    job_id: str
    provider: str
    account: str
    account_name: str


def aggregate_subject(ctx: DeliveryContext, agg: AggregateLike) -> Subject:
    return Subject(ctx.provider, ctx.account, ctx.account_name, agg.resource_group, agg.tags or {})


def ledger_natural_key(delivery_id: int, aggregate_id: int, project_id: int | None) -> str:
    # The delivery id leads, so a restatement deletes exactly its predecessor's rows by prefix.
    return f"bill:{delivery_id}:{aggregate_id}:{project_id if project_id is not None else 'unallocated'}"


def ledger_row(ctx: DeliveryContext, agg: AggregateLike, share: Share) -> LedgerRow:
    """One ledger row: the aggregate scaled by a project's share."""
    f = share.fraction
    kg = None if agg.kgco2e_location is None else agg.kgco2e_location * f
    start = dt.datetime.combine(agg.day, dt.time(), tzinfo=dt.UTC)
    flags = list(agg.flags) + ([FLAG_MB_FALLBACK] if kg is not None else [])
    return LedgerRow(
        organisation_id=ctx.organisation_id,
        project_id=share.project_id,
        natural_key=ledger_natural_key(ctx.delivery_id, agg.id, share.project_id),
        source=Source.BILLING,
        # The period is the usage day, half-open; `day` is that usage day (not the day of the exclusive end),
        # so a month's rows never spill into the next month.
        period_start=start,
        period_end=start + dt.timedelta(days=1),
        day=agg.day,
        experiment="",
        run_id="",
        provider=ctx.provider,
        region=agg.region,
        country_iso="",
        service=agg.service,
        resource_category=agg.bucket,
        usage_amount=agg.usage_amount * f,
        usage_unit=agg.unit,
        duration_s=None,
        energy_it_kwh=agg.energy_it_kwh * f,
        energy_facility_kwh=agg.energy_facility_kwh * f,
        kgco2e_location=kg,
        kgco2e_market=kg,
        kgco2e_embodied=agg.kgco2e_embodied * f,
        water_l=0.0,
        cost=agg.cost * f,
        currency=agg.currency,
        # ESRS E1 AR 51: public cloud is Scope 3 category 1, sub-line 1.1, and never in the E1-5 energy table.
        scope=SCOPE_3,
        category=CATEGORY_CLOUD,
        method=agg.method,
        pue_applied=agg.pue,
        factor_id=agg.factor_id,
        factor_g_per_kwh=agg.factor_g_per_kwh,
        factor_version=agg.factor_version,
        market_factor_g_per_kwh=agg.factor_g_per_kwh if kg is not None else None,
        market_basis=MB_BASIS_GRID_FALLBACK if kg is not None else "",
        flags=sorted(set(flags)),
        in_inventory=True,
        import_job_id=ctx.job_id,
        source_row=agg.first_line,
        attributes=_row_attributes(ctx, agg, share),
    )


def _row_attributes(ctx: DeliveryContext, agg: AggregateLike, share: Share) -> dict[str, Any]:
    return {
        "delivery": ctx.delivery_id,
        "aggregate": agg.id,
        "account": ctx.account,
        "account_name": ctx.account_name,
        "usage_type": agg.usage_type,
        "bucket": agg.bucket,
        "machine_type": agg.machine_type,
        "resource_group": agg.resource_group,
        "tags": agg.tags,
        "lines": agg.lines,
        "share": share.fraction,
        "rule": share.rule_id,
        **agg.details,
    }


def ledger_rows(
    ctx: DeliveryContext, aggregates: Iterable[AggregateLike], shares: Callable[[Subject], Sequence[Share]]
) -> list[LedgerRow]:
    """Ledger rows of one delivery: one per (aggregate, project share); unestimated groups are not written."""
    rows: list[LedgerRow] = []
    for agg in aggregates:
        if agg.method not in LEDGER_METHODS:
            continue
        rows.extend(ledger_row(ctx, agg, share) for share in shares(aggregate_subject(ctx, agg)))
    return rows


# ---------------------------------------------------------------------------------------------- reconciliation


@dataclass(frozen=True)
class OurFigure:
    project_id: int | None
    provider: str
    account: str
    month: dt.date
    service: str
    kg_operational: float
    kg_embodied: float


@dataclass(frozen=True)
class TheirFigure:
    provider: str
    account: str
    month: dt.date
    service: str
    kg: float
    has_scope3: bool


@dataclass
class ReconciliationRow:
    project_id: int | None
    provider: str
    month: dt.date
    ours_operational: float = 0.0
    ours_embodied: float = 0.0
    provider_kg: float | None = None
    compared_ours: float = 0.0
    driver: str = ""
    service_gaps: dict[str, float] = field(default_factory=dict)

    @property
    def gap_kg(self) -> float | None:
        return None if self.provider_kg is None else self.compared_ours - self.provider_kg

    @property
    def gap_percent(self) -> float | None:
        if self.provider_kg is None or self.provider_kg == 0:
            return None
        return (self.compared_ours - self.provider_kg) / self.provider_kg * 100.0


def reconcile(ours: Sequence[OurFigure], theirs: Sequence[TheirFigure]) -> list[ReconciliationRow]:
    """Our estimate next to the provider-reported figure per (project, provider, month).

    Provider figures exist per account, not per project: each account-month's figure is allocated to projects
    in proportion to our estimate for that account-month (the attribution rules cannot see inside the
    provider's number). Our embodied emissions are compared only where the provider reports Scope 3.
    """
    account_total: dict[tuple[str, str, dt.date], float] = {}
    for f in ours:
        key = (f.provider, f.account, f.month)
        account_total[key] = account_total.get(key, 0.0) + f.kg_operational + f.kg_embodied
    their_by_account: dict[tuple[str, str, dt.date], list[TheirFigure]] = {}
    for t in theirs:
        their_by_account.setdefault((t.provider, t.account, t.month), []).append(t)
    rows: dict[tuple[int | None, str, dt.date], ReconciliationRow] = {}
    for f in ours:
        row = rows.setdefault((f.project_id, f.provider, f.month), ReconciliationRow(f.project_id, f.provider, f.month))
        figures = their_by_account.get((f.provider, f.account, f.month), [])
        scope3 = any(t.has_scope3 for t in figures)
        row.ours_operational += f.kg_operational
        row.ours_embodied += f.kg_embodied
        row.compared_ours += f.kg_operational + (f.kg_embodied if scope3 or not figures else 0.0)
        row.service_gaps[f.service] = (
            row.service_gaps.get(f.service, 0.0) + f.kg_operational + (f.kg_embodied if scope3 else 0.0)
        )
    _allocate_provider(rows, ours, their_by_account, account_total)
    for row in rows.values():
        row.driver = gap_driver(row)
    return sorted(rows.values(), key=lambda r: (r.month, r.provider, r.project_id is None, r.project_id or 0))


def _allocate_provider(
    rows: dict[tuple[int | None, str, dt.date], ReconciliationRow],
    ours: Sequence[OurFigure],
    their_by_account: Mapping[tuple[str, str, dt.date], list[TheirFigure]],
    account_total: Mapping[tuple[str, str, dt.date], float],
) -> None:
    project_share: dict[tuple[int | None, str, str, dt.date], float] = {}
    for f in ours:
        key = (f.project_id, f.provider, f.account, f.month)
        project_share[key] = project_share.get(key, 0.0) + f.kg_operational + f.kg_embodied
    for (project_id, provider, account, month), kg in project_share.items():
        figures = their_by_account.get((provider, account, month))
        total = account_total[(provider, account, month)]
        if not figures or total <= 0:
            continue
        share = kg / total
        row = rows[(project_id, provider, month)]
        row.provider_kg = (row.provider_kg or 0.0) + share * sum(t.kg for t in figures)
        for t in figures:
            if t.service:
                row.service_gaps[t.service] = row.service_gaps.get(t.service, 0.0) - share * t.kg


def gap_driver(row: ReconciliationRow) -> str:
    """The main driver of a gap in words: the service whose difference explains most of it."""
    if row.provider_kg is None:
        return "no provider-reported figure for this account and month"
    gap = row.gap_kg or 0.0
    if abs(gap) < 1e-9:
        return "no gap"
    if not row.service_gaps or all(abs(v) < 1e-12 for v in row.service_gaps.values()):
        return "provider figure has no service breakdown"
    service, diff = max(row.service_gaps.items(), key=lambda item: abs(item[1]))
    direction = "higher" if diff > 0 else "lower"
    share = min(abs(diff / gap), 9.99) if gap else 0.0
    return f"{service or 'unnamed service'}: our estimate {abs(diff):.3g} kg {direction} ({share:.0%} of the gap)"


def coverage_ratio(measured_kwh: float, billed_compute_kwh: float) -> float | None:
    """Share of the billed compute energy that codecarbon measured (None when nothing compute was billed)."""
    if billed_compute_kwh <= 0:
        return None
    return measured_kwh / billed_compute_kwh
