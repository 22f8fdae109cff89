"""AWS CUR rows (legacy CSV and CUR 2.0): row filter and classification per docs/methodology.md §3.1."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from greenesg.footprint.methodology.cloud import NormalisedBillingLine, instance_spec
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
from ingestion.billing.readers.common import RowSink, parse_json_object, parse_number
from ingestion.billing.readers.identity import canonical_account

# 3.1 row filter: only usage; fees, tax, credits, refunds, RI/SP fees and negations are dropped (and counted).
KEEP_LINE_ITEM_TYPES = frozenset({"Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"})

COMPUTE_HOUR_UNITS = frozenset({"Hrs", "Hours", "hours"})
COMPUTE_OTHER_UNITS = frozenset({"vCPU-Hours", "DPU-Hour", "ACU-Hr"})
SERVERLESS_UNITS = frozenset({"seconds", "Second", "Lambda-GB-Second"})
STORAGE_UNITS = frozenset({"GB-Mo", "GB-Month", "GB-Mp", "GB-month", "GB-Hours"})
NETWORK_UNITS = frozenset({"GB", "GigaBytes"})

ALWAYS_UNKNOWN = (
    "AmazonEKS-Hours",
    "NatGateway",
    "LoadBalancerUsage",
    "VpcEndpoint",
    "TransitGateway-Hours",
    "VPN-Usage",
    "DataScanned",
    "Airflow",
    "Aurora:ServerlessV2Usage",
    "IdleAddress",
    "AdditionalAddress",
    "PublicIPv4",
    "BuildDuration",
)
UNSUPPORTED_PATTERNS = ("HostBoxUsage", "ECS-EC2-", "EMR-EKS-EC2-")
SSD_USAGE_SUFFIXES = (
    "VolumeUsage.gp2",
    "VolumeUsage.gp3",
    "VolumeUsage.io1",
    "VolumeUsage.io2",
    "VolumeUsage.piops",
    "GP2-Storage",
    "GP3-Storage",
    "Aurora:StorageUsage",
)
SSD_USAGE_CONTAINS = ("RDS:GP3-Storage", "dc2", "ra3", "RMS:")
HDD_USAGE_PATTERNS = (
    "VolumeUsage.st1",
    "VolumeUsage.sc1",
    "SnapshotUsage",
    "TimedStorage-ByteHrs",
    "TimedStorage-",
    "Glacier",
    "-SIA-",
    "-ZIA-",
    "-GDA-",
    "-INT-",
    "BackupUsage",
)
SSD_SERVICES = frozenset(
    {
        "AmazonDynamoDB",
        "AmazonEFS",
        "AmazonDocDB",
        "AmazonES",
        "AmazonOpenSearchService",
        "AmazonKinesis",
        "AmazonFSx",
        "AmazonNeptune",
        "AmazonSageMaker",
    }
)
NETWORK_PATTERNS = ("DataTransfer-Out-Bytes", "AWS-Out-Bytes", "DataTransfer-Regional-Bytes", "TransitGateway-Bytes")

_PREFIX_RE = re.compile(r"^(?:db|cache|dax|dms|ml|mq|KernelGateway-ml|\w*Kafka)\.")
_INSTANCE_RE = re.compile(r"^[a-z][a-z0-9-]*\.(?:nano|micro|small|medium|large|\d*xlarge|metal[\w-]*)$")


@lru_cache(maxsize=8192)
def instance_type(usage_type: str, product_instance_type: str = "") -> str:
    """Part after the last ':' with service prefixes (db., cache., ml. ...) stripped (3.1)."""
    candidate = product_instance_type.strip() or usage_type.rsplit(":", 1)[-1]
    candidate = _PREFIX_RE.sub("", candidate.strip())
    return candidate if _INSTANCE_RE.match(candidate) else ""


@lru_cache(maxsize=8192)
def classify_aws(service: str, usage_type: str, unit: str, machine_type: str) -> str:
    """Bucket by pricing unit, then usage type (3.1); unknown rows are extrapolated later (4.8)."""
    if unit == "Dollar" or any(p in usage_type for p in UNSUPPORTED_PATTERNS):
        return "unsupported"
    if any(p in usage_type for p in ALWAYS_UNKNOWN):
        return "unknown"
    if unit in COMPUTE_HOUR_UNITS:
        return "compute" if machine_type else "unknown"
    if unit in COMPUTE_OTHER_UNITS or unit in SERVERLESS_UNITS:
        return "compute"
    if unit == "GB-Hours" and "Fargate-GB-Hours" in usage_type:
        return "memory"  # Fargate bills task memory in GB-hours
    if unit in STORAGE_UNITS:
        return _aws_storage_bucket(service, usage_type)
    if unit in NETWORK_UNITS:
        egress = any(p in usage_type for p in NETWORK_PATTERNS)
        return "network" if egress and service != "AmazonCloudFront" else "unknown"
    return "unknown"


def _aws_storage_bucket(service: str, usage_type: str) -> str:
    # CCF assigns 0 to storage it cannot type; GreenESG keeps it as unknown for extrapolation (3.1).
    if usage_type.endswith(SSD_USAGE_SUFFIXES) or any(p in usage_type for p in SSD_USAGE_CONTAINS):
        return "storage_ssd"
    if usage_type.endswith("VolumeUsage") or any(p in usage_type for p in HDD_USAGE_PATTERNS):
        return "storage_hdd"  # plain EBS:VolumeUsage is magnetic
    backup = "Backup" in usage_type or "Snapshot" in usage_type
    if service in SSD_SERVICES and not backup:
        return "storage_ssd"
    return "unknown"


def _vcpus(row: dict[str, str], machine_type: str) -> float | None:
    """product/vcpu when present (#783: often absent), else the instance table."""
    product = row.get("product", "")
    raw = row.get("vcpu", "") or (parse_json_object(product).get("vcpu", "") if product else "")
    return _vcpus_cached(raw, machine_type)


@lru_cache(maxsize=8192)
def _vcpus_cached(raw: str, machine_type: str) -> float | None:
    value = parse_number(raw) if raw else None
    if value:
        return value
    spec = instance_spec("aws", machine_type) if machine_type else None
    return spec.vcpus if spec else None


def _tags(row: dict[str, str], column_tags: dict[str, str]) -> dict[str, str]:
    tags = dict(column_tags)
    for key, value in parse_json_object(row.get("tags", "")).items():
        if value:
            tags[key.removeprefix("user_")] = value  # CUR 2.0 map keys are `user_<key>`
    return tags


def parse_aws_row(
    row: dict[str, str], column_tags: dict[str, str], line: int, sink: RowSink, fmt: str
) -> NormalisedBillingLine | str | None:
    """A normalised line, a filter reason (str) or None when the row has a problem (recorded in sink)."""
    item_type = row.get("line_item_type", "").strip()
    if item_type not in KEEP_LINE_ITEM_TYPES:
        return f"line_item_type:{item_type or 'blank'}"
    amount = sink.number(row, "amount", line)
    cost = sink.number(row, "cost", line)
    start = sink.timestamp(row, "usage_start", line)
    if amount is None or cost is None or start is None:
        return None
    usage_type, unit, service = row.get("usage_type", ""), row.get("unit", "").strip(), row.get("service", "")
    machine = instance_type(usage_type, row.get("instance_type", ""))
    return NormalisedBillingLine(
        provider="aws",
        account=canonical_account("aws", row.get("account", "")),
        service=service,
        usage_type=usage_type,
        region=row.get("region", "").strip(),
        unit=unit,
        amount=amount,
        cost=cost,
        currency=row.get("currency", "") or "USD",
        usage_start=start,
        tags=_tags(row, column_tags),
        machine_type=machine,
        vcpus=_vcpus(row, machine),
        bucket=classify_aws(service, usage_type, unit, machine),
        source_line=line,
        account_name=row.get("account_name", ""),
        source_format=fmt,
    )


# ---- column-wise path (same output as parse_aws_row, computed once per column or per distinct value) ----------


def _resource(
    service: str, usage_type: str, unit: str, product_instance_type: str, vcpu: str, product: str
) -> tuple[str, float | None, str]:
    """(machine type, vCPUs, bucket) of one distinct resource description."""
    machine = instance_type(usage_type, product_instance_type)
    vcpus = _vcpus({"vcpu": vcpu, "product": product}, machine)
    return machine, vcpus, classify_aws(service, usage_type, unit, machine)


def _tag_builder(keys: list[str]) -> Callable[..., dict[str, str]]:
    def build(json_cell: str, *values: str) -> dict[str, str]:
        return _tags({"tags": json_cell}, {k: v for k, v in zip(keys, values, strict=True) if v})

    return build


def parse_aws_chunk(chunk: Chunk, first_line: int, fmt: str) -> FastResult:
    """Column-wise parse_aws_row for one chunk; rows with a bad number or date are left to parse_aws_row."""
    item = chunk.stripped("line_item_type")
    kept, reasons = split_rows(item.isin(KEEP_LINE_ITEM_TYPES), "line_item_type:" + item.where(item != "", "blank"))
    rows = chunk.take(kept)
    parsed: dict[str, list[Any]] = {
        "amount": numbers(rows.col("amount")),
        "cost": numbers(rows.col("cost")),
        "usage_start": timestamps(rows.col("usage_start")),
    }
    rows, positions, values, slow = split_parsed(rows, kept, parsed)
    unit = rows.stripped("unit")
    usage = rows.col("usage_type")
    cols = (rows.col("service"), usage, unit, rows.col("instance_type"), rows.col("vcpu"), rows.col("product"))
    machine, vcpus, bucket = _unzip3(per_distinct(_resource, *cols), len(rows))
    tags = per_distinct(_tag_builder([k for k, _ in chunk.tags]), rows.col("tags"), *rows.tag_series())
    currency = rows.col("currency")
    fields_ = {
        **values,
        "provider": "aws",
        "account": per_distinct(partial(canonical_account, "aws"), rows.col("account")),
        "service": rows.text("service"),
        "usage_type": texts(usage),
        "region": texts(rows.stripped("region")),
        "unit": texts(unit),
        "currency": texts(currency.where(currency != "", "USD")),
        "tags": tags,
        "machine_type": machine,
        "vcpus": vcpus,
        "bucket": bucket,
        "account_name": rows.text("account_name"),
    }
    return FastResult(reasons, build_batch(positions, first_line, fields_, fmt), slow)


def _unzip3(triples: list[tuple[str, float | None, str]], n: int) -> tuple[list[Any], list[Any], list[Any]]:
    if not n:
        return [], [], []
    first, second, third = zip(*triples, strict=True)
    return list(first), list(second), list(third)
