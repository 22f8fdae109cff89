"""Cloud billing and provider carbon readers (pure: no Django, no ORM).

Public API:
- `read_billing_lines(path, ...)` / `iter_billing_chunks(path, ...)`: AWS CUR legacy and 2.0, GCP billing export,
  Azure cost export, FOCUS 1.0-1.2 -> `NormalisedBillingLine`; `iter_billing_batches` gives the same lines as
  columns (`LineBatch`), which the import sums without building an object per row;
- `read_provider_carbon(path, ...)`: AWS CARBON_EMISSIONS, GCP carbon_footprint, Azure carbon optimization and
  MCfS -> `ProviderCarbonRecord` in kg;
- `detect_billing_format(columns)` / `detect_file_format(path)`;
- `BillingFileError` (structural, whole file rejected), `RowProblem` and `ReadReport` (row-level).
"""

from __future__ import annotations

from greenesg.footprint.methodology.cloud import NormalisedBillingLine
from ingestion.billing.readers.columns import LineBatch
from ingestion.billing.readers.common import BillingFileError, ProviderCarbonRecord, ReadReport, RowProblem
from ingestion.billing.readers.formats import FORMATS, detect_billing_format
from ingestion.billing.readers.reader import (
    ReaderOptions,
    detect_file_format,
    iter_billing_batches,
    iter_billing_chunks,
    read_billing_lines,
    read_provider_carbon,
)
from ingestion.billing.readers.source import DEFAULT_MAX_BYTES, DEFAULT_MAX_RATIO, Limits

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_RATIO",
    "FORMATS",
    "BillingFileError",
    "LineBatch",
    "Limits",
    "NormalisedBillingLine",
    "ProviderCarbonRecord",
    "ReadReport",
    "ReaderOptions",
    "RowProblem",
    "detect_billing_format",
    "detect_file_format",
    "iter_billing_batches",
    "iter_billing_chunks",
    "read_billing_lines",
    "read_provider_carbon",
]
