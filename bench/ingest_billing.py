"""Benchmark: whole billing imports against the raw speed of parsing and bulk-loading the same files.

    python bench/ingest_billing.py [--sizes 100000,1000000] [--formats cur,gcp,azure,focus] [--seed-rows 20000]

Runs on the configured database (DATABASE_URL; PostgreSQL for the COPY figures; migrate first). Generates a
realistic file per format and size: a legacy CUR (.csv.gz: hourly EC2, EBS, S3, data transfer, Lambda, NAT
gateway, tax and credit rows over one month, several accounts and team tags), a GCP billing export, an Azure cost
export and a FOCUS 1.0 export. Every measurement runs in its own child process, which reports its time and peak
RSS (ru_maxrss):
- import: store -> parse -> estimate -> ledger committed -> rollups, into an organisation that already has
  data (an import of `--seed-rows` rows of January, untimed, in the same child);
- raw: pandas.read_csv in chunks of 50,000 (all text) + COPY of every row into a scratch table;
- floor: the file itself (gunzipped while streaming) into `COPY ... FROM STDIN (FORMAT csv, HEADER)`.
Printed per line: rows/s, peak RSS, and import / raw and import / floor as speed ratios (1.0 = as fast).
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

from demo.focus_columns import FOCUS_COLUMNS  # noqa: E402  (no Django import: safe before django.setup())

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


def _cur_row(rng: random.Random, n: int, hour: int, resource: int, month: int = 3) -> list[str]:
    product, usage, unit, amount, price, instance, vcpu = CUR_RESOURCES[resource % len(CUR_RESOURCES)]
    kind = "Usage" if rng.random() > 0.02 else rng.choice(["Tax", "Credit", "Fee", "DiscountedUsage"])
    qty = amount * rng.uniform(0.5, 1.5)
    cost = qty * price * (-1 if kind == "Credit" else 1)
    start = f"2025-{month:02d}-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z"
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


def write_cur(path: Path, rows: int, seed: int = 1, month: int = 3) -> None:
    """An hourly month: `rows` line items spread over 744 hours and as many resources as needed."""
    rng = random.Random(seed)
    per_hour = max(rows // 744, 1)
    with gzip.open(path, "wt", newline="", encoding="utf-8", compresslevel=3) as handle:
        writer = csv.writer(handle)
        writer.writerow(CUR_HEADER)
        for n in range(rows):
            writer.writerow(_cur_row(rng, n, (n // per_hour) % 744, n % per_hour, month))


def write_gcp(path: Path, rows: int, seed: int = 2, month: int = 3) -> None:
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
                    f"2025-{month:02d}-{1 + hour // 24:02d} {hour % 24:02d}:00:00 UTC",
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


def write_azure(path: Path, rows: int, seed: int = 3, month: int = 3) -> None:
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
                    f"{month:02d}/{day:02d}/2025",
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


def write_focus(path: Path, rows: int, seed: int = 4, month: int = 3) -> None:
    """FinOps FOCUS 1.0 as AWS emits it (x_UsageType/x_ServiceCode), hourly over one month."""
    rng = random.Random(seed)
    header = list(FOCUS_COLUMNS)
    per_hour = max(rows // 744, 1)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for n in range(rows):
            hour, resource = (n // per_hour) % 744, n % per_hour
            product, usage, unit, amount, price, _, _ = CUR_RESOURCES[resource % len(CUR_RESOURCES)]
            category = "Usage" if rng.random() > 0.02 else rng.choice(["Tax", "Credit", "Purchase"])
            qty = amount * rng.uniform(0.5, 1.5)
            start = f"2025-{month:02d}-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z"
            team = TEAMS[resource % len(TEAMS)]
            writer.writerow(
                [
                    f"{qty * price:.8f}",
                    "999988887777",
                    "USD",
                    category,
                    "",
                    f"{usage} {unit}",
                    start,
                    start,
                    f"{qty:.6f}",
                    unit,
                    f"{qty * price:.8f}",
                    "AWS",
                    "AWS",
                    REGIONS.get(usage[:4], "us-east-1"),
                    "Compute",
                    product,
                    f"SKU{resource % 50}",
                    ACCOUNTS[resource % len(ACCOUNTS)],
                    "prod",
                    json.dumps({"team": team}) if team else "{}",
                    usage,
                    product,
                ]
            )


WRITERS = {
    "cur": ("AWS CUR (legacy, gz)", "cur-{rows}.csv.gz", write_cur),
    "gcp": ("GCP billing export", "gcp_billing-{rows}.csv", write_gcp),
    "azure": ("Azure cost export", "azure_cost-{rows}.csv", write_azure),
    "focus": ("FOCUS 1.0 (AWS)", "focus-{rows}.csv", write_focus),
}


# ---------------------------------------------------------------------------------------------- measuring


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    """User + system CPU seconds of this process (not the database server's): robust to a busy shared CPU."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _import(org: object, path: Path) -> object:
    from ingestion import storage
    from ingestion.billing.pipeline import billing_job_submit
    from ingestion.process import import_job_process

    stored = storage.store_path(path)
    job = billing_job_submit(organisation=org, origin="cli", stored=stored, original_name=path.name, enqueue=False).job  # type: ignore[arg-type]
    import_job_process(job_id=str(job.pk))
    job.refresh_from_db()
    return job


def child_import(path: str, seed: str) -> dict[str, object]:
    """One import into an organisation that already holds an import of the month before (seed, untimed)."""
    from greenesg.accounts.models import Organisation

    org = Organisation.objects.create(slug=f"bench-{uuid.uuid4().hex[:10]}", name="Billing benchmark")
    if seed:
        _import(org, Path(seed))
    started, cpu = time.perf_counter(), _cpu_s()
    job = _import(org, Path(path))
    elapsed = time.perf_counter() - started
    return {
        "elapsed": elapsed,
        "cpu": _cpu_s() - cpu,
        "status": job.status,  # type: ignore[attr-defined]
        "rows": job.rows_read,  # type: ignore[attr-defined]
        "ledger_rows": job.records_new,  # type: ignore[attr-defined]
        "error": job.error_message,  # type: ignore[attr-defined]
    }


def child_raw(path: str) -> dict[str, object]:
    """pandas.read_csv (chunks of 50,000, all text) + COPY / executemany of every row into a scratch table."""
    import pandas as pd
    from django.db import connection, transaction

    table = f"bench_raw_{uuid.uuid4().hex[:8]}"
    started, cpu = time.perf_counter(), _cpu_s()
    with transaction.atomic(), connection.cursor() as cursor:
        first = True
        for frame in pd.read_csv(path, dtype=str, keep_default_na=False, chunksize=50_000):
            columns = [f'"{c}"' for c in frame.columns]
            if first:
                cursor.execute(f"CREATE TABLE {table} ({', '.join(c + ' text' for c in columns)})")
                first = False
            rows = frame.itertuples(index=False, name=None)
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows))
    elapsed, cpu = time.perf_counter() - started, _cpu_s() - cpu
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")
    return {"elapsed": elapsed, "cpu": cpu}


def child_floor(path: str) -> dict[str, object]:
    """The floor: the file (gunzipped while streaming) straight into COPY ... FORMAT csv, no parsing in Python."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        return {"elapsed": None}
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:  # type: ignore[operator]
        header = next(csv.reader([handle.readline()]))
    table = f"bench_floor_{uuid.uuid4().hex[:8]}"
    columns = ", ".join('"' + c.replace('"', '""') + '"' for c in header)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {table} ({', '.join(f'c{i} text' for i in range(len(header)))})")
        with (
            opener(path, "rb") as raw,
            cursor.cursor.copy(  # type: ignore[operator]
                f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy,
        ):
            while block := raw.read(1 << 20):
                copy.write(block)
    elapsed = time.perf_counter() - started
    del columns
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {table}")
    return {"elapsed": elapsed}


CHILDREN = {"import": child_import, "raw": child_raw, "floor": child_floor}


def run_child(kind: str, *args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, *args], capture_output=True, text=True, check=False
    )
    if out.returncode:
        raise SystemExit(f"{kind} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(label: str, rows: int, path: Path, seed: Path | None) -> None:
    raw = run_child("raw", str(path))
    floor = run_child("floor", str(path))
    result = run_child("import", str(path), str(seed or ""))
    elapsed = float(result["elapsed"])  # type: ignore[arg-type]
    raw_s = float(raw["elapsed"])  # type: ignore[arg-type]
    cpu_ratio = float(raw["cpu"]) / float(result["cpu"])  # type: ignore[arg-type]
    floor_s = floor["elapsed"]
    floor_text = (
        f"floor {float(floor_s):5.2f} s ratio {float(floor_s) / elapsed:.2f} RSS {floor['peak_mb']:4.0f} MB"
        if floor_s is not None
        else "floor n/a (SQLite)"
    )
    print(
        f"{label:<21} {rows:>9,} rows {path.stat().st_size / 1e6:6.1f} MB | import {elapsed:6.2f} s "
        f"{rows / elapsed:8,.0f} rows/s RSS {result['peak_mb']:4.0f} MB {result['status']} "
        f"{result['ledger_rows']:,} ledger rows | raw {raw_s:6.2f} s ratio {raw_s / elapsed:.2f} "
        f"(client CPU {cpu_ratio:.2f}) RSS {raw['peak_mb']:4.0f} MB | {floor_text} | load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100000,1000000", help="file sizes in rows, comma-separated")
    parser.add_argument("--formats", default="cur,gcp,azure,focus", help="of " + ",".join(WRITERS))
    parser.add_argument("--seed-rows", type=int, default=20_000, help="rows imported first (another month)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    import django

    django.setup()
    if args.child:
        result = CHILDREN[args.child[0]](*args.child[1:])
        print(json.dumps({**result, "peak_mb": _peak_mb()}))
        return
    from django.db import connection

    print(f"database: {connection.vendor}; each measurement in its own child process (peak RSS = its ru_maxrss)")
    with tempfile.TemporaryDirectory() as folder:
        for key in args.formats.split(","):
            label, pattern, write = WRITERS[key]
            seed = None
            if args.seed_rows:
                seed = Path(folder) / ("seed-" + pattern.format(rows=args.seed_rows))
                write(seed, args.seed_rows, seed=9, month=1)  # type: ignore[operator]
            for size in (int(s) for s in args.sizes.split(",")):
                path = Path(folder) / pattern.format(rows=size)
                write(path, size)  # type: ignore[operator]
                report(label, size, path, seed)
                path.unlink()


if __name__ == "__main__":
    main()
