"""Cloud billing estimation methodology: pure, typed functions (no Django, no ORM).

Every coefficient comes from ``greenesg/footprint/data/cloud_coefficients.json`` (versioned), so a figure can
always name the coefficient set it was computed with. Section numbers refer to
``docs/methodology.md`` ("principle 1.n" is its §1.n, "pitfall 4.10.n" item n of its §4.10).

Three measures are kept apart on purpose (methodology 1.1): energy in kWh, operational kg CO2e and embodied
kg CO2e. Embodied CO2e is never converted to kWh (pitfall 4.10.1).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from statistics import mean, median
from typing import Any

from greenesg.footprint.factor_seed import canonical_azure_region
from greenesg.footprint.methodology import units
from greenesg.footprint.methodology.coefficients import METHODOLOGY_VERSION, PUE, provider_pue
from greenesg.lib.periods import days_in_month

COEFFICIENTS_PATH = Path(__file__).resolve().parent.parent / "data" / "cloud_coefficients.json"

# Pitfall 4.10.4: everything goes through bytes, then to decimal units (GB = 10^9, TB = 10^12).
BYTES_PER_GB = 10**9
BYTES_PER_TB = 10**12
BYTES_PER_GIB = 2**30
BYTES_PER_TIB = 2**40

BUCKETS = ("compute", "memory", "storage_ssd", "storage_hdd", "network", "gpu", "unknown", "unsupported")
PROVIDERS = ("aws", "gcp", "azure")


# Billing units (lower-cased) understood by the estimator; methodology 3.1-3.3.
_GB_MONTH_UNITS = frozenset({"gb-mo", "gb-month", "gb-mp", "gb/month"})
_NETWORK_GB_UNITS = frozenset({"gb", "gigabytes"})


# --------------------------------------------------------------------------------------------------------------
# Data classes
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalisedBillingLine:
    """One usage row of any billing export, after the reader's row filter and classification (methodology 3)."""

    provider: str
    account: str
    service: str
    usage_type: str
    region: str
    unit: str
    amount: float
    cost: float
    currency: str
    usage_start: datetime
    tags: dict[str, str] = field(default_factory=dict, hash=False)
    machine_type: str = ""
    vcpus: float | None = None
    bucket: str = "unknown"
    source_line: int = 0
    account_name: str = ""
    resource_group: str = ""
    gpu_model: str = ""
    source_format: str = ""


@dataclass(frozen=True)
class ExtrapolationRatio:
    """The ratio an extrapolated row was scaled with (methodology 4.8 step 3)."""

    kwh_per_unit: float
    basis: str  # "cost" (AWS) or "amount" (GCP, Azure)
    key: str  # "service+unit" or "unit"
    source_rows: int


@dataclass(frozen=True)
class LineEstimate:
    line: NormalisedBillingLine
    bucket: str
    method: str  # modelled | extrapolated | unestimated | excluded
    it_kwh: float | None
    facility_kwh: float | None
    operational_kg: float | None
    embodied_kg: float | None
    pue: float
    components_it_kwh: dict[str, float] = field(default_factory=dict, hash=False)
    flags: tuple[str, ...] = ()
    coefficients_version: str = ""
    methodology_version: str = METHODOLOGY_VERSION
    extrapolation: ExtrapolationRatio | None = None


@dataclass(frozen=True)
class InstanceSpec:
    provider: str
    name: str
    family: str
    vcpus: float
    memory_gb: float
    gpus: int
    gpu_model: str
    baseline: float | None  # burstable baseline per vCPU (0.2 = 20 %), None when not burstable
    processors: tuple[str, ...]
    largest_vcpus: float
    largest_memory_gb: float
    te_kg: float | None
    embodied_largest_vcpus: float  # TotalR; burstable types use the closest non-burstable family (4.7)


@dataclass(frozen=True)
class CpuWatts:
    w_min: float
    w_max: float
    gb_per_chip: float | None
    fallback: bool


@dataclass(frozen=True)
class ExtrapolationResult:
    estimates: list[LineEstimate]
    unsupported_rows: int
    unsupported_cost: float
    unestimated_rows: int


# --------------------------------------------------------------------------------------------------------------
# Coefficient access
# --------------------------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def load_coefficients(path: str | None = None) -> dict[str, Any]:
    """The versioned coefficient set; cached because it is read for every line."""
    data: dict[str, Any] = json.loads(Path(path or COEFFICIENTS_PATH).read_text(encoding="utf-8"))
    if "version" not in data:
        raise ValueError("cloud coefficient file has no 'version' key")
    return data


def coefficients_version() -> str:
    return str(load_coefficients()["version"])


def pue_for(provider: str, region: str = "") -> float:
    """Methodology 4.6 via the shared PUE table: GCP per region, other providers one fleet value."""
    pue = provider_pue(provider, region)
    return PUE.own_site_unknown if pue is None else pue


def family_key(provider: str, machine_type: str) -> str:
    """`m5.xlarge` -> `aws:m5`, `n2-standard-4` -> `gcp:n2`, `Standard_D4ads_v5` -> `azure:dv5`."""
    name = machine_type.strip().lower()
    if provider == "aws":
        return f"aws:{name.split('.', 1)[0]}"
    if provider == "gcp":
        return f"gcp:{name.split('-', 1)[0]}"
    match = re.match(r"standard_([a-z]+)\d+[a-z]*(?:_v(\d+))?", name)
    if not match:
        return f"azure:{name}"
    return f"azure:{match.group(1)}v{match.group(2) or '1'}"


@lru_cache(maxsize=4096)
def instance_spec(provider: str, machine_type: str) -> InstanceSpec | None:
    """Instance table lookup (methodology 3.1, 4.3, 4.7); None when the size is not in the table."""
    coeffs = load_coefficients()
    name = machine_type.strip().lower() if provider == "azure" else machine_type.strip()
    row = coeffs["instance_types"].get(provider, {}).get(name)
    if row is None:
        return None
    fam_key = family_key(provider, name)
    fam = coeffs["families"].get(fam_key, {})
    # Burstable types borrow embodied data from the closest non-burstable family (4.7).
    emb_key = fam.get("embodied_family", fam_key)
    te = coeffs["embodied_te_kg"].get(emb_key)
    emb_fam = coeffs["families"].get(emb_key, fam)
    return InstanceSpec(
        provider=provider,
        name=name,
        family=fam_key,
        vcpus=float(row["vcpus"]),
        memory_gb=float(row["memory_gb"]),
        gpus=int(row.get("gpus", 0)),
        gpu_model=str(fam.get("gpu", "")),
        baseline=row.get("baseline"),
        processors=tuple(fam.get("processors", ())),
        largest_vcpus=float(fam.get("largest_vcpus", row["vcpus"])),
        largest_memory_gb=float(fam.get("largest_memory_gb", row["memory_gb"])),
        te_kg=None if te is None else float(te),
        embodied_largest_vcpus=float(emb_fam.get("largest_vcpus", fam.get("largest_vcpus", row["vcpus"]))),
    )


@lru_cache(maxsize=1024)
def cpu_watts(provider: str, processors: tuple[str, ...]) -> CpuWatts:
    """Methodology 4.1: mean over possible processors (median with Sandy/Ivy Bridge), else provider fallback."""
    coeffs = load_coefficients()
    table = coeffs["cpu_watts_per_vcpu"]
    known = [table[p] for p in processors if p in table]
    if not known:
        fb = coeffs["cpu_fallback_per_vcpu"][provider]
        return CpuWatts(fb["min"], fb["max"], fb["gb_per_chip"], fallback=True)
    agg = median if any(p in coeffs["median_processors"] for p in processors) else mean
    return CpuWatts(
        w_min=agg([r["min"] for r in known]),
        w_max=agg([r["max"] for r in known]),
        gb_per_chip=agg([r["gb_per_chip"] for r in known]),
        fallback=False,
    )


def gpu_watts(model: str) -> tuple[float, float] | None:
    """(idle W, 100 % W) for a GPU model named anywhere in `model` (methodology 4.2)."""
    table = load_coefficients()["gpu_watts"]
    # Longest names first so "A100" is not read as "A10G" and "P40" not as "P4".
    for name in sorted(table, key=len, reverse=True):
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", model, flags=re.IGNORECASE):
            return float(table[name]["idle"]), float(table[name]["max"])
    return None


@lru_cache(maxsize=8192)
def replication_factor(provider: str, service: str, usage_type: str) -> float:
    """Methodology 4.4: first matching rule wins; anything not listed is 1."""
    rules = load_coefficients()["replication"].get(provider, [])
    svc = service.strip().lower()
    for rule in rules:
        if rule["service"].lower() != svc:
            continue
        if any(part in usage_type for part in rule["usage_contains"]):
            return float(rule["factor"])
    return 1.0


def gcp_multi_region_factor(region: str, factors: Mapping[str, float]) -> float | None:
    """Pitfall 4.10.3: a GCP multi/dual-region factor is the MEAN of its member regions, never their sum.

    Returns None (caller flags region_unmapped) if the region is not a multi-region or a member lacks a factor.
    """
    members = load_coefficients()["gcp_multi_regions"].get(region.strip().lower())
    if not members or any(m not in factors for m in members):
        return None
    return mean(factors[m] for m in members)


def azure_canonical_region(name: str) -> str:
    """Azure region spellings differ between sources (3.3): `West US 2`, `uswest2` -> `westus2`.

    One alias table serves the registry and the billing readers (factor_seed); a name it does not know
    passes through squashed, and the factor lookup then flags it `region_unmapped`.
    """
    key = re.sub(r"[\s_-]", "", name.strip().lower())
    return canonical_azure_region(key) or key


# --------------------------------------------------------------------------------------------------------------
# Unit conversions (pitfall 4.10.4: through bytes, to decimal units)
# --------------------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------------------
# Energy and embodied formulas (methodology 4, all return kWh or kg)
# --------------------------------------------------------------------------------------------------------------


def average_watts(w_min: float, w_max: float, utilisation: float) -> float:
    """W-bar = Wmin + u x (Wmax - Wmin) (methodology 4, 4.2)."""
    return w_min + utilisation * (w_max - w_min)


def compute_energy_kwh(
    vcpu_hours: float,
    watts_min: float,
    watts_max: float,
    utilisation: float = 0.5,
    *,
    pue: float,
    replication: float = 1.0,
) -> float:
    return vcpu_hours * average_watts(watts_min, watts_max, utilisation) * pue * replication / 1000


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


def storage_energy_kwh(tb_hours: float, ssd: bool, pue: float, replication: float = 1.0) -> float:
    wh = load_coefficients()["storage_wh_per_tb_hour"]["ssd" if ssd else "hdd"]
    return tb_hours * float(wh) * pue * replication / 1000


def network_energy_kwh(gb: float, pue: float) -> float:
    """Methodology 4.5: no replication factor for network."""
    return gb * float(load_coefficients()["network_kwh_per_gb"]) * pue


def embodied_kg(te_kg: float, reserved_instance_hours: float, vcpus: float, largest_vcpus: float) -> float:
    """SCI M = TE x (TR / EL) x (RR / TotalR) (methodology 4.7).

    TR must be in instance-hours (pitfall 4.10.2); use `gcp_reserved_instance_hours` for GCP vCPU-seconds.
    """
    lifespan = float(load_coefficients()["embodied_lifespan_hours"])
    return te_kg * (reserved_instance_hours / lifespan) * (vcpus / largest_vcpus)


def gcp_reserved_instance_hours(vcpu_seconds: float, vcpus: float) -> float:
    """GCP bills vCPU-seconds, so TR = seconds / 3600 / vCPUs (4.7); AWS/Azure rows are instance-hours already."""
    return vcpu_seconds / 3600 / vcpus


# --------------------------------------------------------------------------------------------------------------
# Per-line estimation
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ComputeUsage:
    vcpu_hours: float
    instance_hours: float | None  # embodied TR in instance-hours; None for serverless (no reservation)
    spec: InstanceSpec | None
    vcpus: float | None
    processors: tuple[str, ...] = ()


def _aws_compute_usage(line: NormalisedBillingLine, flags: list[str]) -> _ComputeUsage | None:
    """vCPU-hours for AWS rows (methodology 3.1 'vCPU-hours')."""
    serverless = load_coefficients()["serverless"]
    unit, amount = line.unit.strip().lower(), line.amount
    if unit in ("vcpu-hours", "vcpu-hour"):  # Fargate bills vCPU-hours directly
        return _ComputeUsage(amount, None, None, None)
    if unit == "dpu-hour":  # Glue: 4 vCPU per DPU-hour
        return _ComputeUsage(amount * serverless["glue_vcpu_per_dpu"], None, None, None)
    if unit == "acu-hr":  # Aurora Serverless v1: ACU-h / 4
        return _ComputeUsage(amount / serverless["aurora_serverless_v1_acu_per_vcpu"], None, None, None)
    if unit == "lambda-gb-second":
        # Pitfall 4.10.7: GB-s / 3600 implies 1 vCPU per GB; kept for comparability but flagged.
        flags.append("lambda_vcpu_per_gb")
        processors = ("graviton2",) if "arm" in line.usage_type.lower() else ()
        return _ComputeUsage(amount / 3600, None, None, None, processors)
    if unit in ("seconds", "second"):  # Redshift and other per-second compute
        return _ComputeUsage(amount / 3600, None, None, None)
    return _instance_compute_usage(line, flags, burstable_rule=True)


def _instance_compute_usage(
    line: NormalisedBillingLine, flags: list[str], *, burstable_rule: bool
) -> _ComputeUsage | None:
    """Instance-hour rows (AWS BoxUsage, Azure VM hours): vCPU-h = hours x vCPUs; TR = hours (4.7)."""
    spec = instance_spec(line.provider, line.machine_type) if line.machine_type else None
    vcpus = line.vcpus if line.vcpus else (spec.vcpus if spec else None)
    if not vcpus:
        # Pitfall 4.10.8: CCF silently assumes 1 vCPU; we flag and leave the row to extrapolation (4.8).
        flags.append("vcpu_unknown")
        return None
    effective = vcpus
    if burstable_rule and spec is not None and spec.baseline is not None:
        # Burstable: vCPUs x (baseline / 50 %), e.g. t3.small 2 x 20/50 = 0.8 vCPU (3.1).
        effective = vcpus * spec.baseline / load_coefficients()["default_utilisation"]
        flags.append("burstable_baseline")
    return _ComputeUsage(line.amount * effective, line.amount, spec, vcpus, spec.processors if spec else ())


def _gcp_compute_usage(line: NormalisedBillingLine, flags: list[str]) -> _ComputeUsage | None:
    """GCP bills vCPU-seconds: vCPU-h = s / 3600; cluster-fee and Composer rows use fixed vCPUs (3.2)."""
    serverless = load_coefficients()["serverless"]
    hours = line.amount / 3600
    if "kubernetes clusters" in line.usage_type.lower():
        return _ComputeUsage(hours * serverless["gke_cluster_vcpus"], None, None, None)
    if "composer" in line.service.lower():
        return _ComputeUsage(hours * serverless["composer_environment_vcpus"], None, None, None)
    spec = instance_spec("gcp", line.machine_type) if line.machine_type else None
    vcpus = line.vcpus if line.vcpus else (spec.vcpus if spec else None)
    instance_hours = gcp_reserved_instance_hours(line.amount, vcpus) if vcpus else None
    return _ComputeUsage(hours, instance_hours, spec, vcpus, spec.processors if spec else ())


def _compute_usage(line: NormalisedBillingLine, flags: list[str]) -> _ComputeUsage | None:
    if line.provider == "aws":
        return _aws_compute_usage(line, flags)
    if line.provider == "gcp":
        return _gcp_compute_usage(line, flags)
    return _instance_compute_usage(line, flags, burstable_rule=False)


def _compute_parts(
    line: NormalisedBillingLine, utilisation: float, flags: list[str]
) -> tuple[dict[str, float], float | None] | None:
    """IT kWh of compute (+ VM memory, + GPU) and embodied kg for one compute row (4.1-4.3, 4.7)."""
    usage = _compute_usage(line, flags)
    if usage is None:
        return None
    rf = replication_factor(line.provider, line.service, line.usage_type)
    watts = cpu_watts(line.provider, usage.processors)
    if watts.fallback:
        flags.append("processor_unknown")
    parts = {
        "compute": compute_energy_kwh(usage.vcpu_hours, watts.w_min, watts.w_max, utilisation, pue=1.0, replication=rf)
    }
    spec = usage.spec
    if spec is not None and usage.instance_hours is not None and line.provider in ("aws", "azure"):
        gb_h = aws_excess_memory_gb_hours(
            spec.memory_gb,
            spec.largest_vcpus,
            spec.largest_memory_gb,
            watts.gb_per_chip,
            usage.instance_hours,
            burstable=spec.baseline is not None,
        )
        parts["memory"] = memory_energy_kwh(gb_h, pue=1.0, replication=rf)
        if spec.gpus:
            idle, peak = gpu_watts(spec.gpu_model) or (0.0, 0.0)
            parts["gpu"] = gpu_energy_kwh(usage.instance_hours * spec.gpus, idle, peak, utilisation, pue=1.0)
    return parts, _line_embodied(usage, flags)


def _line_embodied(usage: _ComputeUsage, flags: list[str]) -> float | None:
    """Embodied kg for compute with a reservation; serverless and unknown families are a recorded gap (4.7)."""
    spec = usage.spec
    if spec is None or spec.te_kg is None or usage.instance_hours is None or not usage.vcpus:
        flags.append("embodied_unknown")
        return None
    return embodied_kg(spec.te_kg, usage.instance_hours, usage.vcpus, spec.embodied_largest_vcpus)


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


def _storage_tb_hours(line: NormalisedBillingLine) -> float | None:
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


def _memory_gb_hours(line: NormalisedBillingLine) -> float | None:
    unit = billing_unit(line)
    if unit == "byte-seconds":
        return bytes_to_gb(line.amount) / 3600
    if unit in ("gb second", "gb seconds", "gb-second", "gb-seconds"):
        return line.amount / 3600
    if unit in ("gb hour", "gb hours", "gb-hours", "gb-hour"):
        return line.amount
    return None


def _network_gb(line: NormalisedBillingLine) -> float | None:
    unit = billing_unit(line)
    if unit in _NETWORK_GB_UNITS:
        return line.amount
    if unit == "tb":
        return line.amount * 1000
    if unit == "bytes":
        return bytes_to_gb(line.amount)
    return None


def _gpu_parts(line: NormalisedBillingLine, utilisation: float, flags: list[str]) -> dict[str, float] | None:
    """GCP GPU SKUs bill GPU-seconds; the model is read from the SKU text (3.2)."""
    watts = gpu_watts(line.gpu_model or line.usage_type)
    if watts is None:
        flags.append("gpu_unknown")
        return None
    rf = replication_factor(line.provider, line.service, line.usage_type)
    return {"gpu": gpu_energy_kwh(line.amount / 3600, watts[0], watts[1], utilisation, pue=1.0, replication=rf)}


def _bucket_parts(
    line: NormalisedBillingLine, utilisation: float, flags: list[str]
) -> tuple[dict[str, float], float | None] | None:
    """IT kWh per component and embodied kg for a classified line; None if it cannot be modelled."""
    if line.bucket == "compute":
        return _compute_parts(line, utilisation, flags)
    if line.bucket == "gpu":
        gpu = _gpu_parts(line, utilisation, flags)
        return None if gpu is None else (gpu, None)
    rf = replication_factor(line.provider, line.service, line.usage_type)
    quantity: float | None
    if line.bucket == "memory":
        quantity = _memory_gb_hours(line)
        part = None if quantity is None else {"memory": memory_energy_kwh(quantity, pue=1.0, replication=rf)}
    elif line.bucket in ("storage_ssd", "storage_hdd"):
        quantity = _storage_tb_hours(line)
        ssd = line.bucket == "storage_ssd"
        part = None if quantity is None else {"storage": storage_energy_kwh(quantity, ssd, pue=1.0, replication=rf)}
    elif line.bucket == "network":
        quantity = _network_gb(line)
        part = None if quantity is None else {"network": network_energy_kwh(quantity, pue=1.0)}
    else:
        part = None
    if part is None:
        flags.append("unit_unsupported")
        return None
    return part, None


def _unestimated(line: NormalisedBillingLine, method: str, pue: float, flags: Sequence[str]) -> LineEstimate:
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
        return _unestimated(line, "excluded", pue, ["unsupported"])
    if line.bucket not in BUCKETS or line.bucket == "unknown":
        unknown_flags = ["unknown_usage"] if unit_is_known(line) else ["unknown_usage", "unit_unknown"]
        return _unestimated(line, "unestimated", pue, unknown_flags)
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
        return _unestimated(line, "unestimated", pue, flags)
    components, embodied = parts
    it_kwh = sum(components.values())
    return _finish(line, "modelled", it_kwh, pue, region_factor_g_per_kwh, flags, components, embodied, None)


def _finish(
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


# --------------------------------------------------------------------------------------------------------------
# Unknown-row extrapolation (methodology 4.8)
# --------------------------------------------------------------------------------------------------------------


def extrapolation_basis(line: NormalisedBillingLine) -> tuple[str, float]:
    """AWS rows scale by cost (the CUR only has a pricing unit); GCP and Azure by usage amount (4.8 step 1)."""
    return ("cost", line.cost) if line.provider == "aws" else ("amount", line.amount)


def _ratio_table(sources: Sequence[LineEstimate]) -> dict[tuple[str, ...], ExtrapolationRatio]:
    """Facility kWh per cost/amount keyed by provider+service+unit and by provider+unit."""
    sums: dict[tuple[str, ...], list[float]] = {}
    for est in sources:
        basis_name, value = extrapolation_basis(est.line)
        if est.method != "modelled" or est.facility_kwh is None or value <= 0:
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
        return _unestimated(line, "unestimated", pue, [*carried_flags, "no_extrapolation_basis"])
    unit = billing_unit(line)
    ratio = ratios.get(("service+unit", line.provider, line.service, unit)) or ratios.get(("unit", line.provider, unit))
    if ratio is None:
        # CCF assigns 0 here; we leave the row unestimated so the coverage report shows it (4.8 step 2).
        return _unestimated(line, "unestimated", pue, [*carried_flags, "no_extrapolation_ratio"])
    facility = ratio.kwh_per_unit * value
    factor = factor_for(line) if factor_for else None
    flags = [*carried_flags, "extrapolated"]
    return _finish(
        line, "extrapolated", facility / pue, pue, factor, flags, {"extrapolated": facility / pue}, None, ratio
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
