"""Billing test helpers: small CUR files written on the fly, and a synchronous import."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from greenesg.accounts.models import Organisation
from ingestion import storage
from ingestion.billing.pipeline import billing_job_submit
from ingestion.models import ImportJob, JobOrigin
from ingestion.process import import_job_process

CUR_HEADER = [
    "identity/LineItemId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageAccountId",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "pricing/unit",
    "product/region",
    "product/instanceType",
    "product/vcpu",
    "resourceTags/user:team",
]
ACCOUNT = "111122223333"


def cur_row(
    usage_type: str = "USE1-BoxUsage:m5.xlarge",
    amount: float = 1.0,
    cost: float = 0.192,
    *,
    day: str = "2024-01-01",
    hour: int = 0,
    account: str = ACCOUNT,
    team: str = "",
    unit: str = "Hrs",
    line_type: str = "Usage",
    region: str = "us-east-1",
    service: str = "AmazonEC2",
) -> dict[str, str]:
    instance = usage_type.rsplit(":", 1)[-1] if "BoxUsage" in usage_type else ""
    return {
        "identity/LineItemId": f"id-{usage_type}-{hour}",
        "lineItem/LineItemType": line_type,
        "lineItem/UsageStartDate": f"{day}T{hour:02d}:00:00Z",
        "lineItem/UsageAccountId": account,
        "lineItem/ProductCode": service,
        "lineItem/UsageType": usage_type,
        "lineItem/UsageAmount": str(amount),
        "lineItem/CurrencyCode": "USD",
        "lineItem/UnblendedCost": str(cost),
        "pricing/unit": unit,
        "product/region": region,
        "product/instanceType": instance,
        "product/vcpu": "",
        "resourceTags/user:team": team,
    }


def cur_text(rows: Sequence[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CUR_HEADER, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.fixture
def write_cur(tmp_path: Path) -> Iterator[object]:
    counter = iter(range(1000))

    def write(rows: Sequence[dict[str, str]], name: str | None = None) -> Path:
        path = tmp_path / (name or f"cur-{next(counter)}.csv")
        path.write_text(cur_text(rows), encoding="utf-8")
        return path

    yield write


def import_file(organisation: Organisation, path: Path, *, name: str | None = None) -> ImportJob:
    """Store, submit and process synchronously, like the CLI; returns the refreshed job."""
    stored = storage.store_path(path)
    submission = billing_job_submit(
        organisation=organisation, origin=JobOrigin.CLI, stored=stored, original_name=name or path.name, enqueue=False
    )
    import_job_process(job_id=str(submission.job.pk))
    submission.job.refresh_from_db()
    return submission.job


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Generation bumps run on commit, which test transactions never reach: start each test with no cache.
    from django.core.cache import cache

    cache.clear()
