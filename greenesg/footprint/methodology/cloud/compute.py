"""Compute energy (methodology 3.1-3.2, 4.1-4.3): vCPU-hours per provider, VM memory and GPUs, embodied."""

from __future__ import annotations

from dataclasses import dataclass

from greenesg.footprint.methodology.cloud.coefficients import (
    InstanceSpec,
    average_watts,
    cpu_watts,
    instance_spec,
    load_coefficients,
    replication_factor,
)
from greenesg.footprint.methodology.cloud.embodied import gcp_reserved_instance_hours, line_embodied_kg
from greenesg.footprint.methodology.cloud.gpu import gpu_energy_kwh, gpu_watts
from greenesg.footprint.methodology.cloud.lines import NormalisedBillingLine
from greenesg.footprint.methodology.cloud.memory import aws_excess_memory_gb_hours, memory_energy_kwh


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


def compute_parts(
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
    return parts, line_embodied_kg(usage.spec, usage.instance_hours, usage.vcpus, flags)
