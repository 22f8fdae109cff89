"""Deterministic payloads for bench/soak.py and the totals the ledger must show for them.

Every generator takes a seed or a serial number, so a soak run can be repeated byte for byte and its expected
ledger totals are known before anything is sent. Standard library only: the soak's own virtualenv (locust)
has neither Django nor pandas.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import uuid
from dataclasses import dataclass

# codecarbon 3.3.2's emissions.csv header (tests/fixtures/samples/emissions_codecarbon_3.3.2.csv).
CODECARBON_HEADER = (
    "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,cpu_power,gpu_power,ram_power,"
    "cpu_energy,gpu_energy,ram_energy,energy_consumed,water_consumed,country_name,country_iso_code,region,"
    "cloud_provider,cloud_region,os,python_version,codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,"
    "longitude,latitude,ram_total_size,tracking_mode,cpu_utilization_percent,gpu_utilization_percent,"
    "ram_utilization_percent,ram_used_gb,on_cloud,pue,wue"
)
# The legacy CUR header of tests/fixtures/billing/cur_legacy.csv.
CUR_HEADER = (
    "identity/LineItemId,bill/BillingEntity,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,"
    "lineItem/UsageAccountId,lineItem/ProductCode,lineItem/UsageType,lineItem/Operation,lineItem/UsageAmount,"
    "lineItem/CurrencyCode,lineItem/UnblendedCost,lineItem/BlendedCost,pricing/unit,product/region,"
    "product/instanceType,product/vcpu,resourceTags/user:team,resourceTags/user:env"
)
# Instance type, vCPUs and hourly price in thousandths of a dollar: integer arithmetic keeps the expected
# cost exact, whatever order the ledger adds the rows in.
CUR_INSTANCES = [("m5.xlarge", 4, 192), ("c5.2xlarge", 8, 340), ("t3.small", 2, 21), ("r5.large", 2, 126)]
CUR_REGIONS = ["us-east-1", "eu-west-1", "eu-north-1"]
CUR_TEAMS = ["platform", "ml", "web", "data"]
COUNTRIES = [("France", "FRA"), ("Germany", "DEU"), ("Sweden", "SWE"), ("United States", "USA")]


@dataclass(frozen=True)
class Payload:
    """One body to send and what it adds to the ledger: runs (rows) and their summed duration in seconds."""

    body: bytes
    runs: int
    duration_s: int
    sha256: str


def run_uuid(namespace: str, serial: int) -> str:
    """A stable, unique run id: the same soak seed names the same runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"greenesg-soak/{namespace}/{serial}"))


def _codecarbon_row(rng: random.Random, run_id: str, experiment: str, when: dt.datetime, duration: int) -> str:
    cpu_kwh = duration * rng.uniform(5.0, 40.0) / 3_600_000
    ram_kwh = duration * 20.0 / 3_600_000
    energy = cpu_kwh + ram_kwh
    country, iso = rng.choice(COUNTRIES)
    emissions = energy * 0.05
    fields = [
        when.strftime("%Y-%m-%dT%H:%M:%S"), "soak", run_id, experiment, str(duration), repr(emissions),
        repr(emissions / duration), "10.0", "0.0", "20.0", repr(cpu_kwh), "0.0", repr(ram_kwh), repr(energy), "0.0",
        country, iso, "", "", "", "Linux", "3.11.7", "3.3.2", "4", "Soak CPU", "0", "", "", "", "16.0", "machine",
        "50.0", "0", "10.0", "1.6", "N", "1.0", "0.0",
    ]  # fmt: skip
    return ",".join(fields)


def codecarbon_csv(seed: str, serial: int, runs: int) -> Payload:
    """An emissions.csv of `runs` finished runs (one row each), all new: run ids derive from seed and serial."""
    rng = random.Random(f"{seed}/csv/{serial}")
    base = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=serial)
    lines = [CODECARBON_HEADER]
    total = 0
    for index in range(runs):
        duration = rng.randint(60, 7200)
        total += duration
        run_id = run_uuid(f"{seed}/csv/{serial}", index)
        lines.append(
            _codecarbon_row(rng, run_id, run_uuid(seed, serial % 7), base + dt.timedelta(hours=index), duration)
        )
    body = ("\n".join(lines) + "\n").encode()
    return Payload(body=body, runs=runs, duration_s=total, sha256=hashlib.sha256(body).hexdigest())


def live_duration(flush: int) -> int:
    """codecarbon flushes every 15 s by default; each record is cumulative."""
    return 15 * (flush + 1)


def live_record(seed: str, run_serial: int, flush: int) -> dict[str, object]:
    """The cumulative record codecarbon's HTTP output posts at its `flush`-th flush of a run."""
    duration = live_duration(flush)
    energy = duration * 30.0 / 3_600_000
    return {
        "timestamp": (
            dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=run_serial, seconds=duration)
        ).strftime("%Y-%m-%dT%H:%M:%S"),
        "project_name": "soak-live",
        "run_id": run_uuid(f"{seed}/live", run_serial),
        "experiment_id": run_uuid(seed, 99),
        "duration": duration,
        "emissions": energy * 0.05,
        "energy_consumed": energy,
        "cpu_energy": energy * 0.4,
        "ram_energy": energy * 0.6,
        "country_iso_code": "FRA",
        "country_name": "France",
        "on_cloud": "N",
        "pue": 1.0,
        "codecarbon_version": "3.3.2",
    }


@dataclass(frozen=True)
class CurExport:
    body: bytes  # the CSV, uncompressed: the upload path is what the soak exercises, so it should be big
    lines: int
    cost_milli: int  # summed lineItem/UnblendedCost in thousandths of a dollar
    sha256: str


def cur_export(seed: str, lines: int) -> CurExport:
    """A legacy AWS CUR of `lines` hourly EC2 usage lines in October 2026 (about 175 bytes a line)."""
    rng = random.Random(f"{seed}/cur")
    out = io.StringIO()
    out.write(CUR_HEADER + "\n")
    start = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    cost = 0
    for index in range(lines):
        instance, vcpu, price = rng.choice(CUR_INSTANCES)
        hour = start + dt.timedelta(hours=index % (31 * 24))
        hours = rng.randint(1, 4)
        cost += price * hours
        account = f"1111222233{index % 7:02d}"
        region = CUR_REGIONS[index % len(CUR_REGIONS)]
        out.write(
            f"soak-{index},AWS,Usage,{hour:%Y-%m-%dT%H:%M:%SZ},{hour + dt.timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ},"
            f"{account},AmazonEC2,BoxUsage:{instance},RunInstances,{hours}.0,USD,{price * hours / 1000:.3f},"
            f"{price * hours / 1000:.3f},Hrs,{region},{instance},{vcpu},{CUR_TEAMS[index % 4]},prod\n"
        )
    body = out.getvalue().encode()
    return CurExport(body, lines, cost, hashlib.sha256(body).hexdigest())
