"""GCP billing export rows: row filter and classification per docs/methodology.md §3.2."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from greenesg.footprint.methodology.cloud import NormalisedBillingLine, gpu_watts, instance_spec
from ingestion.billing.readers.columns import (
    Chunk,
    FastResult,
    build_batch,
    numbers,
    per_distinct,
    split_parsed,
    split_rows,
    texts,
    timestamps,
)
from ingestion.billing.readers.common import RowSink, parse_json_object
from ingestion.billing.readers.identity import canonical_account

KEEP_UNITS = frozenset({"seconds", "byte-seconds", "bytes", "requests"})
# 3.2 keeps everything but rounding errors; tax and adjustment rows are credits/charges, not usage.
DROP_COST_TYPES = frozenset({"rounding_error", "tax", "adjustment"})

CPU_KEYWORDS = ("Core", "CORE", "vCPU", "VCPU", "CPU", "DCU", "Kubernetes Clusters")
MEMORY_KEYWORDS = ("RAM", "Ram", "Memory")
NETWORK_KEYWORDS = ("Egress", "egress", "data delivery", "network traffic", "Download")
UNKNOWN_SERVICES = (
    "Cloud DNS",
    "Key Management Service",
    "Cloud Spanner",
    "Cloud Run",
    "Cloud Build",
    "Cloud TPU",
    "Machine Learning Engine",
    "ML Engine",
    "Vision",
    "Speech",
    "Stackdriver",
    "Secret Manager",
    "Support",
)
UNKNOWN_SKUS = (
    "Frontend Instances",
    "Backend Instances",
    "Pod mCPU Requests",
    "Pod Memory Requests",
    "Filestore",
    "NAT Gateway",
    "Cloud SQL: Backups",
    "Backup",
    "Backlog",
)
UNSUPPORTED_SKUS = (
    "Fee",
    "Billing",
    "Reattribution",
    "Cache Fill",
    "External IP Charge",
    "Static Ip",
    "Vpn Tunnel",
    "Service Charge",
)
_MACHINE_VCPU_RE = re.compile(r"^[a-z0-9]+-(?:standard|highmem|highcpu|highgpu|megamem|ultramem)-(\d+)")


@lru_cache(maxsize=8192)
def classify_gcp(service: str, sku: str, unit: str) -> str:
    if any(p in sku for p in UNSUPPORTED_SKUS):
        return "unsupported"
    if any(p in service for p in UNKNOWN_SERVICES) or any(p in sku for p in UNKNOWN_SKUS):
        return "unknown"
    has_cpu = any(k in sku for k in CPU_KEYWORDS)
    if unit == "seconds":
        if "GPU" in sku:
            return "gpu"
        return "compute" if has_cpu else "unknown"
    if unit == "byte-seconds":
        if any(k in sku for k in MEMORY_KEYWORDS) and not has_cpu:
            return "memory"
        return "storage_ssd" if "SSD" in sku else "storage_hdd"
    if unit == "bytes":
        return "network" if any(k in sku for k in NETWORK_KEYWORDS) else "unknown"
    return "unknown"


def machine_vcpus(machine_type: str) -> float | None:
    """vCPUs from the instance table, else from the standard naming (`n2-standard-4` -> 4)."""
    spec = instance_spec("gcp", machine_type) if machine_type else None
    if spec:
        return spec.vcpus
    match = _MACHINE_VCPU_RE.match(machine_type)
    return float(match.group(1)) if match else None


def _gpu_model(sku: str) -> str:
    return sku if "GPU" in sku and gpu_watts(sku) else ""


def _labels(row: dict[str, str], column_tags: dict[str, str]) -> dict[str, str]:
    tags = {f"project:{k}": v for k, v in parse_json_object(row.get("project_labels", "")).items()}
    tags.update(parse_json_object(row.get("labels", "")))
    tags.update(column_tags)
    return tags


def parse_gcp_row(
    row: dict[str, str], column_tags: dict[str, str], line: int, sink: RowSink, fmt: str
) -> NormalisedBillingLine | str | None:
    cost_type = row.get("cost_type", "").strip().lower()
    if cost_type in DROP_COST_TYPES:
        return f"cost_type:{cost_type}"
    unit = row.get("unit", "").strip()
    if unit not in KEEP_UNITS:
        return f"usage_unit:{unit or 'blank'}"
    amount = sink.number(row, "amount", line)
    cost = sink.number(row, "cost", line)
    start = sink.timestamp(row, "usage_start", line)
    if amount is None or cost is None or start is None:
        return None
    service, sku = row.get("service", ""), row.get("usage_type", "")
    machine = row.get("machine_spec", "").strip()
    return NormalisedBillingLine(
        provider="gcp",
        account=canonical_account("gcp", row.get("account", "")),
        service=service,
        usage_type=sku,
        region=(row.get("region", "") or row.get("location", "")).strip().lower(),
        unit=unit,
        amount=amount,
        cost=cost,
        currency=row.get("currency", ""),
        usage_start=start,
        tags=_labels(row, column_tags),
        machine_type=machine,
        vcpus=machine_vcpus(machine),
        bucket=classify_gcp(service, sku, unit),
        source_line=line,
        account_name=row.get("account_name", ""),
        gpu_model=_gpu_model(sku),
        source_format=fmt,
    )


# ---- column-wise path (same output as parse_gcp_row, computed once per column or per distinct value) ----------


def _label_builder(keys: list[str]) -> Callable[..., dict[str, str]]:
    def build(project_labels: str, labels: str, *values: str) -> dict[str, str]:
        column_tags = {k: v for k, v in zip(keys, values, strict=True) if v}
        return _labels({"project_labels": project_labels, "labels": labels}, column_tags)

    return build


def _region(region: str, location: str) -> str:
    return (region or location).strip().lower()


def parse_gcp_chunk(chunk: Chunk, first_line: int, fmt: str) -> FastResult:
    """Column-wise parse_gcp_row for one chunk; rows with a bad number or date are left to parse_gcp_row."""
    cost_type, unit = chunk.stripped("cost_type").str.lower(), chunk.stripped("unit")
    dropped = cost_type.isin(DROP_COST_TYPES)
    reasons = ("cost_type:" + cost_type).where(dropped, "usage_unit:" + unit.where(unit != "", "blank"))
    kept, reasons_ = split_rows(~dropped & unit.isin(KEEP_UNITS), reasons)
    rows = chunk.take(kept)
    parsed: dict[str, list[Any]] = {
        "amount": numbers(rows.col("amount")),
        "cost": numbers(rows.col("cost")),
        "usage_start": timestamps(rows.col("usage_start")),
    }
    rows, positions, values, slow = split_parsed(rows, kept, parsed)
    service, sku, unit = rows.col("service"), rows.col("usage_type"), rows.stripped("unit")
    machine = rows.stripped("machine_spec")
    labels = _label_builder([k for k, _ in chunk.tags])
    fields_ = {
        **values,
        "provider": "gcp",
        "account": per_distinct(partial(canonical_account, "gcp"), rows.col("account")),
        "service": texts(service),
        "usage_type": texts(sku),
        "region": per_distinct(_region, rows.col("region"), rows.col("location")),
        "unit": texts(unit),
        "currency": rows.text("currency"),
        "tags": per_distinct(labels, rows.col("project_labels"), rows.col("labels"), *rows.tag_series()),
        "machine_type": texts(machine),
        "vcpus": per_distinct(machine_vcpus, machine),
        "bucket": per_distinct(classify_gcp, service, sku, unit),
        "account_name": rows.text("account_name"),
        "gpu_model": per_distinct(_gpu_model, sku),
    }
    return FastResult(reasons_, build_batch(positions, first_line, fields_, fmt), slow)
