"""AWS CUR rows (legacy CSV and CUR 2.0): row filter and classification per methodology 3.1."""

from __future__ import annotations

import re
from functools import lru_cache

from greenesg.footprint.methodology.cloud import NormalisedBillingLine, instance_spec
from ingestion.readers.billing.common import RowSink, parse_json_object, parse_number

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
        account=row.get("account", ""),
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
