"""Benchmark: whole billing imports against the raw speed of parsing and bulk-loading the same files.

    python bench/ingest_billing.py [--sizes 100000,1000000] [--side-rows 100000]

Runs on the configured database (DATABASE_URL; SQLite by default; migrate first). Generates a realistic
legacy CUR (.csv.gz: hourly EC2, EBS, S3, data transfer, Lambda, NAT gateway, tax and credit rows over one
month, several accounts and team tags) of each size, plus a GCP billing export and an Azure cost export.
Each import runs in a child process (store -> parse -> estimate -> ledger committed -> rollups), which
reports its time and peak RSS (ru_maxrss); the raw path (pandas.read_csv in chunks + COPY on PostgreSQL or
executemany on SQLite into a scratch table) is measured on the same file in the same run.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenesg.settings")

CUR_HEADER = [
    "identity/LineItemId",
    "bill/PayerAccountId",
    "lineItem/LineItemType",
    "lineItem/UsageStartDate",
    "lineItem/UsageEndDate",
    "lineItem/UsageAccountId",
    "lineItem/ProductCode",
    "lineItem/UsageType",
    "lineItem/Operation",
    "lineItem/ResourceId",
    "lineItem/UsageAmount",
    "lineItem/CurrencyCode",
    "lineItem/UnblendedCost",
    "lineItem/BlendedCost",
    "pricing/unit",
    "product/region",
    "product/instanceType",
    "product/vcpu",
    "resourceTags/user:team",
    "resourceTags/user:env",
]
# (product, usage type, unit, amount per hour, price per unit, instance type, vcpu)
CUR_RESOURCES = [
    ("AmazonEC2", "USE1-BoxUsage:m5.xlarge", "Hrs", 1.0, 0.192, "m5.xlarge", "4"),
    ("AmazonEC2", "USE1-BoxUsage:m5.2xlarge", "Hrs", 1.0, 0.384, "m5.2xlarge", "8"),
    ("AmazonEC2", "USE1-BoxUsage:c5.large", "Hrs", 1.0, 0.085, "c5.large", "2"),
    ("AmazonEC2", "USE1-BoxUsage:t3.small", "Hrs", 1.0, 0.0208, "t3.small", "2"),
    ("AmazonEC2", "EUC1-BoxUsage:r5.xlarge", "Hrs", 1.0, 0.304, "r5.xlarge", "4"),
    ("AmazonEC2", "USE1-BoxUsage:g4dn.xlarge", "Hrs", 1.0, 0.526, "g4dn.xlarge", "4"),
    ("AmazonEC2", "USE1-EBS:VolumeUsage.gp3", "GB-Mo", 0.14, 0.08, "", ""),
    ("AmazonS3", "USE1-TimedStorage-ByteHrs", "GB-Mo", 2.5, 0.023, "", ""),
    ("AmazonEC2", "USE1-DataTransfer-Out-Bytes", "GB", 0.8, 0.09, "", ""),
    ("AWSLambda", "USE1-Lambda-GB-Second", "Lambda-GB-Second", 3600.0, 0.0000166667, "", ""),
    ("AmazonEC2", "USE1-NatGateway-Hours", "Hrs", 1.0, 0.045, "", ""),
    ("AmazonRDS", "USE1-InstanceUsage:db.m5.large", "Hrs", 1.0, 0.171, "db.m5.large", "2"),
]
REGIONS = {"USE1": "us-east-1", "EUC1": "eu-central-1"}
ACCOUNTS = ["111122223333", "222233334444", "333344445555", "444455556666"]
TEAMS = ["search", "ml", "web", "data", "platform", "payments", ""]


def _cur_row(rng: random.Random, n: int, hour: int, resource: int) -> list[str]:
    product, usage, unit, amount, price, instance, vcpu = CUR_RESOURCES[resource % len(CUR_RESOURCES)]
    kind = "Usage" if rng.random() > 0.02 else rng.choice(["Tax", "Credit", "Fee", "DiscountedUsage"])
    qty = amount * rng.uniform(0.5, 1.5)
    cost = qty * price * (-1 if kind == "Credit" else 1)
    start = f"2025-03-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z"
    team = TEAMS[resource % len(TEAMS)]
    return [
        f"li-{n}",
        "999988887777",
        kind,
        start,
        start,
        ACCOUNTS[resource % len(ACCOUNTS)],
        product,
        usage,
        "RunInstances",
        f"i-{resource:08x}",
        f"{qty:.6f}",
        "USD",
        f"{cost:.8f}",
        f"{cost:.8f}",
        unit,
        REGIONS[usage[:4]] if usage[:4] in REGIONS else "us-east-1",
        instance,
        vcpu,
        team,
        "prod",
    ]


def write_cur(path: Path, rows: int, seed: int = 1) -> None:
    """An hourly month: `rows` line items spread over 744 hours and as many resources as needed."""
    rng = random.Random(seed)
    per_hour = max(rows // 744, 1)
    with gzip.open(path, "wt", newline="", encoding="utf-8", compresslevel=3) as handle:
        writer = csv.writer(handle)
        writer.writerow(CUR_HEADER)
        for n in range(rows):
            writer.writerow(_cur_row(rng, n, (n // per_hour) % 744, n % per_hour))


def write_gcp(path: Path, rows: int, seed: int = 2) -> None:
    rng = random.Random(seed)
    header = [
        "billing_account_id",
        "service.description",
        "sku.description",
        "usage_start_time",
        "project.id",
        "project.name",
        "labels",
        "location.region",
        "cost",
        "currency",
        "usage.amount",
        "usage.unit",
        "cost_type",
        "machine_spec",
    ]
    skus = [
        ("Compute Engine", "N2 Instance Core running in Americas", "seconds", 3600 * 4, "us-central1"),
        ("Compute Engine", "N2 Instance Ram running in Americas", "byte-seconds", 3600 * 16e9, "us-central1"),
        ("Cloud Storage", "Standard Storage US Multi-region", "byte-seconds", 3600 * 1e12, "us"),
        ("Compute Engine", "Network Internet Egress from EMEA to Americas", "bytes", 5e9, "europe-west1"),
        ("BigQuery", "Analysis", "bytes", 1e12, "europe-west1"),
    ]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            service, sku, unit, amount, region = skus[n % len(skus)]
            hour = (n // 50) % 744
            writer.writerow(
                [
                    "0A1B2C",
                    service,
                    sku,
                    f"2025-03-{1 + hour // 24:02d} {hour % 24:02d}:00:00 UTC",
                    f"proj-{n % 7}",
                    f"Project {n % 7}",
                    json.dumps([{"key": "team", "value": TEAMS[n % 6]}]),
                    region,
                    f"{rng.uniform(0.01, 0.5):.6f}",
                    "USD",
                    f"{amount * rng.uniform(0.5, 1.5):.1f}",
                    unit,
                    "regular",
                    "n2-standard-4" if "N2" in sku else "",
                ]
            )


def write_azure(path: Path, rows: int, seed: int = 3) -> None:
    rng = random.Random(seed)
    header = [
        "SubscriptionId",
        "SubscriptionName",
        "ResourceGroup",
        "ResourceLocation",
        "Date",
        "MeterCategory",
        "MeterName",
        "UnitOfMeasure",
        "Quantity",
        "CostInBillingCurrency",
        "BillingCurrency",
        "ChargeType",
        "AdditionalInfo",
        "Tags",
    ]
    meters = [
        ("Virtual Machines", "D4ads v5", "1 Hour", 1.0, '{"ServiceType":"Standard_D4ads_v5","VCPUs":4}'),
        ("Storage", "P10 LRS Disk", "1 /Month", 0.0014, ""),
        ("Bandwidth", "Standard Data Transfer Out", "1 GB", 2.0, ""),
        ("Azure Front Door Service", "Requests", "10K", 3.0, ""),
    ]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            category, meter, unit, qty, info = meters[n % len(meters)]
            day = 1 + (n // 200) % 31
            writer.writerow(
                [
                    f"sub-{n % 3}",
                    f"Sub {n % 3}",
                    f"rg-{TEAMS[n % 6] or 'shared'}",
                    "westeurope",
                    f"03/{day:02d}/2025",
                    category,
                    meter,
                    unit,
                    f"{qty * rng.uniform(0.5, 1.5):.5f}",
                    f"{rng.uniform(0.01, 1):.5f}",
                    "EUR",
                    "Usage",
                    info,
                    f'{{"team": "{TEAMS[n % 6]}"}}',
                ]
            )


# ---------------------------------------------------------------------------------------------- measuring


def child_import(path: str) -> None:
    """Child process: one import into a fresh organisation; prints JSON with time and peak RSS."""
    import resource

    import django

    django.setup()
    from greenesg.accounts.models import Organisation
    from ingestion import storage
    from ingestion.billing.pipeline import billing_job_submit
    from ingestion.process import import_job_process

    org = Organisation.objects.create(slug=f"bench-{uuid.uuid4().hex[:10]}", name="Billing benchmark")
    started = time.perf_counter()
    stored = storage.store_path(Path(path))
    job = billing_job_submit(
        organisation=org, origin="cli", stored=stored, original_name=Path(path).name, enqueue=False
    ).job
    import_job_process(job_id=str(job.pk))
    elapsed = time.perf_counter() - started
    job.refresh_from_db()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "elapsed": elapsed,
                "status": job.status,
                "rows": job.rows_read,
                "ledger_rows": job.records_new,
                "error": job.error_message,
                "peak_mb": peak_kb / 1024,
            }
        )
    )


def timed_import(path: Path) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--child", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed_raw_load(path: Path) -> float:
    """pandas.read_csv (chunks of 50,000, all text) + COPY / executemany of every row into a scratch table."""
    import django

    django.setup()
    import pandas as pd
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_raw")
        first = True
        for frame in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=50_000):
            columns = [f'"{c}"' for c in frame.columns]
            if first:
                cursor.execute(f"CREATE TABLE bench_raw ({', '.join(c + ' text' for c in columns)})")
                first = False
            rows = frame.itertuples(index=False, name=None)
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY bench_raw ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO bench_raw ({', '.join(columns)}) VALUES ({marks})", list(rows))
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_raw")
    return elapsed


def report(label: str, rows: int, path: Path) -> None:
    raw = timed_raw_load(path)
    result = timed_import(path)
    elapsed = float(result["elapsed"])  # type: ignore[arg-type]
    print(
        f"{label:<22} {rows:>9,} rows {path.stat().st_size / 1e6:7.1f} MB | import {elapsed:7.2f} s "
        f"{rows / elapsed:9,.0f} rows/s, peak RSS {result['peak_mb']:6.0f} MB, {result['status']}, "
        f"{result['ledger_rows']:,} ledger rows | raw {raw:6.2f} s {rows / raw:9,.0f} rows/s | "
        f"ratio {raw / elapsed:.2f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000", help="CUR sizes in rows, comma-separated")
    parser.add_argument("--side-rows", type=int, default=100_000, help="rows of the GCP and Azure files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_import(args.child)
        return
    import django

    django.setup()
    from django.db import connection

    print(f"database: {connection.vendor}; import in a child process (peak RSS = its ru_maxrss)")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(folder) / f"cur-{size}.csv.gz"
            write_cur(path, size)
            report("AWS CUR (legacy, gz)", size, path)
        gcp, azure = Path(folder) / "gcp_billing.csv", Path(folder) / "azure_cost.csv"
        write_gcp(gcp, args.side_rows)
        report("GCP billing export", args.side_rows, gcp)
        write_azure(azure, args.side_rows)
        report("Azure cost export", args.side_rows, azure)


if __name__ == "__main__":
    main()
