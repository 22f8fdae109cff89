"""Azure cost-management export rows: row filter and classification per docs/methodology.md §3.3."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from greenesg.footprint.methodology import units
from greenesg.footprint.methodology.cloud import NormalisedBillingLine, azure_canonical_region, instance_spec
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

STORAGE_UNITS = frozenset({units.MONTH, units.DAY, units.GB_MONTH, units.TB_MONTH})
NETWORK_UNITS = frozenset({units.GB, units.TB})
MEMORY_UNITS = frozenset({units.GB_SECOND, units.GB_HOUR})

_PACK_TEXT_RE = re.compile(r"^\d+(?:\.\d+)?\s*(.*)$")

MEMORY_METERS = ("Memory Duration", "Execution Time", "C1 Cache Instance")
UNKNOWN_SERVICES = (
    "Azure Bastion",
    "Load Balancer",
    "VPN Gateway",
    "Azure Front Door Service",
    "Azure Databricks",
    "Azure Data Factory v2",
    "API Management",
    "Advanced Data Security",
    "Virtual Machines Licenses",
)
UNKNOWN_METERS = ("Server - Free", "Requests", "Custom Domain")
UNSUPPORTED_METERS = ("Rulesets", "Rules", "Policies", "Kafka Surcharge", "License")
SSD_METER_RE = re.compile(r"\b[PE]\d{1,2}\b|LRS|ZRS|GRS|Data Stored|DTU", re.IGNORECASE)
HDD_METER_RE = re.compile(r"\bS\d{1,2}\b")
NETWORK_METERS = ("Data Transfer Out", "Egress", "Geo-Replication")


def usage_type(meter_name: str) -> str:
    """MeterName with ' Spot' and anything after '/' stripped (3.3)."""
    return meter_name.split("/", 1)[0].replace(" Spot", "").strip()


@lru_cache(maxsize=8192)
def classify_azure(service: str, meter: str, unit: str) -> str:
    # Unknown services first: a Load Balancer "LB Rules" meter is usage to extrapolate, not a fee (3.3).
    if service in UNKNOWN_SERVICES:
        return "unknown"
    if any(p in meter for p in UNSUPPORTED_METERS):
        return "unsupported"
    if any(p in meter for p in UNKNOWN_METERS):
        return "unknown"
    # Units by the one spelling table: "1 Hour", "10 Hours", "Hours", "1/Month", "1 /Month", "Units/Month" ...
    parsed = units.parse_unit(unit)
    kind = parsed.unit if parsed else ""
    if kind == units.HOUR:
        return "memory" if any(p in meter for p in MEMORY_METERS) else "compute"
    if kind in MEMORY_UNITS:
        return "memory"
    if kind in STORAGE_UNITS:
        if HDD_METER_RE.search(meter):
            return "storage_hdd"
        return "storage_ssd" if SSD_METER_RE.search(meter) else "unknown"
    if kind in NETWORK_UNITS:
        egress = any(p in meter for p in NETWORK_METERS) and "To Any" not in meter
        return "network" if egress else "unknown"
    return "unknown"


def unpack(amount: float, unit: str) -> tuple[float, str]:
    """'10 Hours' -> (amount x 10, '1 Hours'). Used only with azure_quantity_in_packs (3.3 'Pack sizes')."""
    parsed = units.parse_unit(unit)
    match = _PACK_TEXT_RE.match(unit.strip())
    if parsed is None or not match:
        return amount, unit
    return amount * parsed.pack, f"1 {match.group(1)}".strip()


def vm_size(row: dict[str, str]) -> tuple[str, float | None]:
    """VM size and vCPUs from AdditionalInfo: better than parsing the meter name (3.3)."""
    info = parse_json_object(row.get("additional_info", ""))
    size = info.get("ServiceType", "").strip()
    vcpus = parse_number(info.get("VCPUs", "") or info.get("vCores", "") or "") if info else None
    if not vcpus and size:
        spec = instance_spec("azure", size)
        vcpus = spec.vcpus if spec else None
    return size, vcpus or None


def parse_azure_row(
    row: dict[str, str],
    column_tags: dict[str, str],
    line: int,
    sink: RowSink,
    fmt: str,
    *,
    quantity_in_packs: bool = False,
) -> NormalisedBillingLine | str | None:
    charge_type = row.get("charge_type", "Usage").strip() or "Usage"
    if charge_type.lower() != "usage":
        return f"charge_type:{charge_type}"
    amount = sink.number(row, "amount", line)
    cost = sink.number(row, "cost", line)
    start = sink.timestamp(row, "usage_start", line)
    if amount is None or cost is None or start is None:
        return None
    unit = row.get("unit", "").strip()
    if quantity_in_packs:
        amount, unit = unpack(amount, unit)
    service, meter = row.get("service", "").strip(), usage_type(row.get("meter", ""))
    machine, vcpus = vm_size(row)
    return NormalisedBillingLine(
        provider="azure",
        account=canonical_account("azure", row.get("account", "")),
        service=service,
        usage_type=meter,
        region=azure_canonical_region(row.get("region", "") or row.get("meter_region", "")),
        unit=unit,
        amount=amount,
        cost=cost,
        currency=row.get("currency", ""),
        usage_start=start,
        tags={**parse_json_object(row.get("tags", "")), **column_tags},
        machine_type=machine,
        vcpus=vcpus,
        bucket=classify_azure(service, meter, unit),
        source_line=line,
        account_name=row.get("account_name", ""),
        resource_group=row.get("resource_group", ""),
        source_format=fmt,
    )


# ---- column-wise path (same output as parse_azure_row, computed once per column or per distinct value) --------


def _tag_builder(keys: list[str]) -> Callable[..., dict[str, str]]:
    def build(json_cell: str, *values: str) -> dict[str, str]:
        return {**parse_json_object(json_cell), **{k: v for k, v in zip(keys, values, strict=True) if v}}

    return build


def _region(region: str, meter_region: str) -> str:
    return azure_canonical_region(region or meter_region)


def _charge_types(chunk: Chunk) -> pd.Series:
    if not chunk.has("charge_type"):
        return chunk.constant("Usage")  # no ChargeType column: every row is usage
    charge = chunk.stripped("charge_type")
    return charge.where(charge != "", "Usage")


def _unpacked(amounts: list[float], units: list[str]) -> tuple[list[float], list[str]]:
    pairs = [unpack(amount, unit) for amount, unit in zip(amounts, units, strict=True)]
    return [amount for amount, _ in pairs], [unit for _, unit in pairs]


def parse_azure_chunk(chunk: Chunk, first_line: int, fmt: str, *, quantity_in_packs: bool = False) -> FastResult:
    """Column-wise parse_azure_row for one chunk; rows with a bad number or date are left to parse_azure_row."""
    charge = _charge_types(chunk)
    kept, reasons = split_rows(charge.str.lower() == "usage", "charge_type:" + charge)
    rows = chunk.take(kept)
    parsed: dict[str, list[Any]] = {
        "amount": numbers(rows.col("amount")),
        "cost": numbers(rows.col("cost")),
        "usage_start": timestamps(rows.col("usage_start")),
    }
    rows, positions, values, slow = split_parsed(rows, kept, parsed)
    units: list[str] = texts(rows.stripped("unit"))
    if quantity_in_packs:
        values["amount"], units = _unpacked(values["amount"], units)
    service, meter = rows.stripped("service"), per_distinct(usage_type, rows.col("meter"))
    vm = per_distinct(lambda info: vm_size({"additional_info": info}), rows.col("additional_info"))
    fields_ = {
        **values,
        "provider": "azure",
        "account": per_distinct(partial(canonical_account, "azure"), rows.col("account")),
        "service": texts(service),
        "usage_type": meter,
        "region": per_distinct(_region, rows.col("region"), rows.col("meter_region")),
        "unit": units,
        "currency": rows.text("currency"),
        "tags": per_distinct(_tag_builder([k for k, _ in chunk.tags]), rows.col("tags"), *rows.tag_series()),
        "machine_type": [size for size, _ in vm],
        "vcpus": [vcpus for _, vcpus in vm],
        "bucket": per_distinct(classify_azure, service, meter, units),
        "account_name": rows.text("account_name"),
        "resource_group": rows.text("resource_group"),
    }
    return FastResult(reasons, build_batch(positions, first_line, fields_, fmt), slow)
