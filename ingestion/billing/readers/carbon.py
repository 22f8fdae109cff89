"""Providers' own carbon exports, kept as provider-reported (supplier-specific) figures (docs/methodology.md §6).

Units differ: AWS = metric tonnes (MTCO2e), GCP = kg, Azure REST = kg, Azure MCfS = metric tonnes. Values are
normalised to kg (t x 1,000) and the original value and unit are kept beside them.
"""

from __future__ import annotations

from datetime import datetime

from ingestion.billing.readers.common import ProviderCarbonRecord, RowSink
from ingestion.billing.readers.formats import header_key
from ingestion.billing.readers.identity import canonical_account

KG_PER_UNIT = {"mtco2e": 1000.0, "tco2e": 1000.0, "tonnes": 1000.0, "kgco2e": 1.0, "kg": 1.0}

AWS_METRICS = (
    ("location_based", "total_lbm_emissions"),
    ("market_based", "total_mbm_emissions"),
    ("scope1", "total_scope_1_emissions"),
    ("scope2_location_based", "total_scope_2_lbm_emissions"),
    ("scope2_market_based", "total_scope_2_mbm_emissions"),
    ("scope3_location_based", "total_scope_3_lbm_emissions"),
    ("scope3_market_based", "total_scope_3_mbm_emissions"),
)
GCP_METRICS = (
    ("location_based", "carbon_footprint_total_kgCO2e.location_based"),
    ("market_based", "carbon_footprint_total_kgCO2e.market_based"),
    ("scope1", "carbon_footprint_kgCO2e.scope1"),
    ("scope2_location_based", "carbon_footprint_kgCO2e.scope2.location_based"),
    ("scope2_market_based", "carbon_footprint_kgCO2e.scope2.market_based"),
    ("scope3", "carbon_footprint_kgCO2e.scope3"),
    ("scope2_location_based", "carbon_footprint_kgCO2e.scope2"),  # older tables: one scope 2 value
)


def extra_columns(fmt: str, columns: list[str]) -> dict[str, str]:
    """Metric columns that are not part of detection: logical name -> header, for the given format."""
    by_key = {header_key(c): c for c in columns}
    wanted: list[tuple[str, str]] = []
    if fmt == "aws_carbon":
        for _, base in AWS_METRICS:
            wanted += [(f"{base}_value", f"{base}_value"), (f"{base}_unit", f"{base}_unit")]
    elif fmt == "gcp_carbon":
        wanted = [(alias, alias) for _, alias in GCP_METRICS]
    return {name: by_key[header_key(alias)] for name, alias in wanted if header_key(alias) in by_key}


def _period(sink: RowSink, row: dict[str, str], line: int) -> datetime | None:
    raw = row.get("period_start", "").strip()
    if not raw:
        return None
    if len(raw) == 6 and raw.isdigit():  # GCP usage_month may be written as yyyymm
        raw = f"{raw[:4]}-{raw[4:]}-01"
    return sink.timestamp({"period_start": raw}, "period_start", line)


def _record(provider: str, fmt: str, row: dict[str, str], line: int, **values: object) -> ProviderCarbonRecord:
    return ProviderCarbonRecord(
        provider=provider,
        source_format=fmt,
        account=canonical_account(provider, row.get("account", "")),
        service=row.get("service", ""),
        region=row.get("region", ""),
        source_line=line,
        **values,  # type: ignore[arg-type]
    )


def parse_aws_carbon(row: dict[str, str], line: int, sink: RowSink, fmt: str) -> ProviderCarbonRecord | None:
    kg: dict[str, float] = {}
    original: dict[str, tuple[float, str]] = {}
    for name, base in AWS_METRICS:
        if not row.get(f"{base}_value", "").strip():
            continue  # older files only have the LBM/MBM totals
        value = sink.number(row, f"{base}_value", line)
        unit = row.get(f"{base}_unit", "").strip()
        factor = KG_PER_UNIT.get(unit.lower())
        if factor is None:
            sink.problem(line, f"{base}_unit", "bad_unit", "expected MTCO2e", unit)
        if value is None or factor is None:
            return None
        kg[name], original[name] = value * factor, (value, unit)
    period = _period(sink, row, line)
    if sink.failed:
        return None
    version = row.get("model_version", "")
    return _record("aws", fmt, row, line, period_start=period, model_version=version, kg=kg, original=original)


def parse_gcp_carbon(row: dict[str, str], line: int, sink: RowSink, fmt: str) -> ProviderCarbonRecord | None:
    kg: dict[str, float] = {}
    for name, alias in GCP_METRICS:
        if name in kg or not row.get(alias, "").strip():
            continue
        value = sink.number(row, alias, line)
        if value is not None:
            kg[name] = value
    if "location_based" not in kg and row.get("location_based", "").strip():
        value = sink.number(row, "location_based", line)
        kg["location_based"] = value if value is not None else 0.0
    period = _period(sink, row, line)
    if sink.failed:
        return None
    original = {k: (v, "kgCO2e") for k, v in kg.items()}
    version = row.get("model_version", "")
    return _record("gcp", fmt, row, line, period_start=period, model_version=version, kg=kg, original=original)


def parse_azure_carbon(row: dict[str, str], line: int, sink: RowSink, fmt: str) -> ProviderCarbonRecord | None:
    latest = sink.number(row, "latest", line)
    previous = sink.number(row, "previous", line, required=False)
    period = _period(sink, row, line)
    if latest is None or sink.failed:
        return None
    kg = {"latest_month": latest} | ({"previous_month": previous} if previous is not None else {})
    original = {k: (v, "kgCO2e") for k, v in kg.items()}
    row = {**row, "account": row.get("account", "") or row.get("item", "")}
    return _record("azure", fmt, row, line, period_start=period, model_version="", kg=kg, original=original)


def parse_azure_mcfs(row: dict[str, str], line: int, sink: RowSink, fmt: str) -> ProviderCarbonRecord | None:
    total = sink.number(row, "total", line)
    period = _period(sink, row, line)
    if total is None or sink.failed:
        return None
    scope = row.get("scope", "").strip().lower().replace(" ", "") or "total"
    kg, original = {scope: total * 1000.0}, {scope: (total, "mtCO2e")}
    return _record("azure", fmt, row, line, period_start=period, model_version="", kg=kg, original=original)


CARBON_PARSERS = {
    "aws_carbon": parse_aws_carbon,
    "gcp_carbon": parse_gcp_carbon,
    "azure_carbon": parse_azure_carbon,
    "azure_mcfs": parse_azure_mcfs,
}
