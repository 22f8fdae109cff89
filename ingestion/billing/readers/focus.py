"""FinOps FOCUS 1.0-1.2 rows: one reader for any provider that emits the open specification.

When the provider's own usage-type columns are present (AWS `x_UsageType`, `x_ServiceCode`), rows go through the
native classifier so a FOCUS file and a CUR of the same month classify alike; otherwise a generic rule on
ConsumedUnit and the description applies (the same buckets, docs/methodology.md §3.4).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import fields
from functools import lru_cache
from typing import Any

from greenesg.footprint.methodology.cloud import NormalisedBillingLine, azure_canonical_region
from ingestion.billing.readers.aws import classify_aws, instance_type
from ingestion.billing.readers.azure import classify_azure
from ingestion.billing.readers.azure import usage_type as azure_usage_type
from ingestion.billing.readers.azure import vm_size as azure_vm
from ingestion.billing.readers.columns import (
    Chunk,
    FastResult,
    build_batch,
    numbers,
    per_distinct,
    split_parsed,
    split_rows,
    timestamps,
)
from ingestion.billing.readers.common import ReadReport, RowSink, parse_json_object, parse_number
from ingestion.billing.readers.identity import canonical_account

# FOCUS ChargeCategory: Usage, Purchase, Tax, Credit, Adjustment; ChargeClass "Correction" restates history.
KEEP_CHARGE_CATEGORY = "usage"

_PROVIDERS = (
    ("amazon", "aws"),
    ("aws", "aws"),
    ("microsoft", "azure"),
    ("azure", "azure"),
    ("google", "gcp"),
    ("gcp", "gcp"),
)
_HOUR_RE = re.compile(r"^(hrs|hours?|instance.?hours?|\d+ hours?)$", re.IGNORECASE)
_VCPU_HOUR_RE = re.compile(r"^vcpu.?hours?$", re.IGNORECASE)
_STORAGE_RE = re.compile(r"^(gb|gib).?(mo|month|months)$|^gb.?hours?$", re.IGNORECASE)
_NETWORK_RE = re.compile(r"^(gb|gib|gigabytes?)$", re.IGNORECASE)
_EGRESS_RE = re.compile(r"egress|data ?transfer.?out|-out-bytes|internet", re.IGNORECASE)
_SSD_RE = re.compile(r"ssd|gp2|gp3|io1|io2|premium|\b[PE]\d{1,2}\b", re.IGNORECASE)
_HDD_RE = re.compile(r"hdd|st1|sc1|snapshot|glacier|archive|backup|cold|standard_lrs|\bS\d{1,2}\b", re.IGNORECASE)
_MACHINE_RE = re.compile(r"([a-z][a-z0-9]*\.(?:nano|micro|small|medium|large|\d*xlarge|metal))|(Standard_\w+)")


def provider_key(name: str) -> str:
    lower = name.strip().lower()
    return next((key for needle, key in _PROVIDERS if needle in lower), lower or "unknown")


@lru_cache(maxsize=8192)
def classify_focus(unit: str, text: str, machine_type: str) -> str:
    """Generic FOCUS classification by ConsumedUnit, then the charge description / SKU meter."""
    if _VCPU_HOUR_RE.match(unit):
        return "compute"
    if _HOUR_RE.match(unit):
        return "compute" if machine_type else "unknown"
    if _STORAGE_RE.match(unit):
        if _SSD_RE.search(text):
            return "storage_ssd"
        return "storage_hdd" if _HDD_RE.search(text) else "unknown"
    if _NETWORK_RE.match(unit):
        return "network" if _EGRESS_RE.search(text) else "unknown"
    return "unknown"


def _machine(row: dict[str, str], text: str) -> str:
    explicit = row.get("instance_type", "").strip()
    if explicit:
        return instance_type(explicit) or explicit
    match = _MACHINE_RE.search(text)
    return (match.group(1) or match.group(2)) if match else ""


def _azure_native(row: dict[str, str]) -> dict[str, object] | None:
    """Microsoft's FOCUS rows with its x_Sku* extension columns, mapped as the native Azure export is mapped.

    The meter category and name drive the Azure classifier, x_SkuDetails is the native AdditionalInfo JSON (VM
    size, vCPUs), and ConsumedQuantity is already in the distinct unit (hours, GB-months), so it is never scaled
    by the pack size of x_PricingUnitDescription (docs/methodology.md §3.3, §3.4).
    """
    meter_name = row.get("azure_meter", "").strip()
    if not meter_name and not row.get("additional_info", "").strip():
        return None
    service = row.get("azure_meter_category", "").strip() or row.get("service", "").strip()
    meter = azure_usage_type(meter_name or row.get("sku_meter", ""))
    unit = row.get("unit", "").strip() or row.get("pricing_unit_description", "").strip()
    machine, vcpus = azure_vm(row)
    return {
        "service": service,
        "usage_type": meter,
        "unit": unit,
        "machine_type": machine,
        "vcpus": vcpus,
        "bucket": classify_azure(service, meter, unit),
    }


def _bucket(provider: str, row: dict[str, str], unit: str, machine: str) -> str:
    usage = row.get("aws_usage_type", "")
    if provider == "aws" and usage:
        return classify_aws(row.get("aws_service_code", ""), usage, unit, instance_type(usage, machine))
    text = " ".join(filter(None, (row.get("sku_meter", ""), row.get("description", ""), row.get("service", ""))))
    return classify_focus(unit, text, machine)


def parse_focus_row(
    row: dict[str, str], column_tags: dict[str, str], line: int, sink: RowSink, fmt: str
) -> NormalisedBillingLine | str | None:
    category = row.get("charge_category", "").strip()
    if category.lower() != KEEP_CHARGE_CATEGORY:
        return f"charge_category:{category or 'blank'}"
    if row.get("charge_class", "").strip().lower() == "correction":
        return "charge_class:Correction"
    amount = sink.number(row, "amount", line, required=False)
    cost = sink.number(row, "cost", line)
    start = sink.timestamp(row, "usage_start", line)
    if sink.failed or cost is None or start is None:
        return None
    provider = provider_key(row.get("provider", ""))
    unit = row.get("unit", "").strip()
    description = row.get("aws_usage_type", "") or row.get("sku_meter", "") or row.get("description", "")
    machine = _machine(row, description)
    region = row.get("region", "").strip()
    vcpus = parse_number(row.get("vcpu", "")) if row.get("vcpu", "").strip() else None
    fields: dict[str, object] = {
        "service": row.get("aws_service_code", "") or row.get("service", ""),
        "usage_type": description,
        "unit": unit,
        "machine_type": machine,
        "vcpus": vcpus,
        "bucket": _bucket(provider, row, unit, machine),
    }
    if provider == "azure":
        fields.update(_azure_native(row) or {})
    return NormalisedBillingLine(
        provider=provider,
        account=canonical_account(provider, row.get("account", "")),
        region=azure_canonical_region(region) if provider == "azure" else region.lower(),
        amount=amount or 0.0,  # ConsumedQuantity may be null on usage rows: no usage, cost still counted
        cost=cost,
        currency=row.get("currency", ""),
        usage_start=start,
        tags={**parse_json_object(row.get("tags", "")), **column_tags},
        source_line=line,
        account_name=row.get("account_name", ""),
        resource_group=row.get("resource_group", "").strip(),
        source_format=fmt,
        **fields,  # type: ignore[arg-type]
    )


# ---- column-wise path (same output as parse_focus_row, computed once per column or per distinct value) --------

# Every field of a line except these comes from the row's descriptive cells only: it is computed once per distinct
# combination of those cells by parse_focus_row itself (with neutral stand-ins for the per-row values), so the
# column-wise path cannot drift from the row parser.
_PER_ROW = ("amount", "cost", "usage_start", "source_line", "source_format", "tags")
_STAND_INS = {"charge_category": "Usage", "charge_class": "", "amount": "0", "cost": "0", "usage_start": "2024-01-01"}


def _resource_builder(names: list[str], fmt: str) -> Callable[..., tuple[Any, ...]]:
    sink = RowSink(ReadReport(""), {})
    kept = [f.name for f in fields(NormalisedBillingLine) if f.name not in _PER_ROW]

    def build(*cells: str) -> tuple[Any, ...]:
        line = parse_focus_row({**dict(zip(names, cells, strict=True)), **_STAND_INS}, {}, 0, sink, fmt)
        assert isinstance(line, NormalisedBillingLine)  # the stand-ins always parse
        return (*(getattr(line, name) for name in kept), line.tags)

    return build


def parse_focus_chunk(chunk: Chunk, first_line: int, fmt: str) -> FastResult:
    """Column-wise parse_focus_row for one chunk; rows with a bad number or date are left to parse_focus_row."""
    category = chunk.stripped("charge_category")
    usage = category.str.lower() == KEEP_CHARGE_CATEGORY
    correction = chunk.stripped("charge_class").str.lower() == "correction"
    reasons = ("charge_category:" + category.where(category != "", "blank")).where(~usage, "charge_class:Correction")
    kept, reasons_ = split_rows(usage & ~correction, reasons)
    rows = chunk.take(kept)
    amount = rows.stripped("amount")
    parsed: dict[str, list[Any]] = {
        "amount": numbers(amount.where(amount != "", "0")),  # ConsumedQuantity may be blank on usage rows
        "cost": numbers(rows.col("cost")),
        "usage_start": timestamps(rows.col("usage_start")),
    }
    rows, positions, values, slow = split_parsed(rows, kept, parsed)
    values["amount"] = [a or 0.0 for a in values["amount"]]
    names = [n for n in chunk.mapping if n not in _STAND_INS]
    resources = per_distinct(_resource_builder(names, fmt), *(rows.col(n) for n in names)) if names else []
    kept_names = [f.name for f in fields(NormalisedBillingLine) if f.name not in _PER_ROW]
    columns: list[list[Any]] = [list(c) for c in zip(*resources, strict=True)] or [[] for _ in [*kept_names, "tags"]]
    fields_: dict[str, Any] = {**values, **dict(zip([*kept_names, "tags"], columns, strict=True))}
    return FastResult(reasons_, build_batch(positions, first_line, fields_, fmt), slow)
