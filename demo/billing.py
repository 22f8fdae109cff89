"""Demo billing exports of the three clouds and a FOCUS file, with the attribution rules that map them.

Each export is generated deterministically in the shape its reader accepts (the columns of the samples under
tests/fixtures/billing/) and imported through the real pipeline (job, parse, estimate, attribute, publish), so
the billing dashboard, coverage and the double-counting rule all have data. The rules map most lines to demo
projects by label, account, resource group and tag; the GCP data lake, the Azure sandbox and a fifth of the
shared AWS account match no project, so the "Unallocated" bucket is visible too.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from demo.focus_columns import FOCUS_COLUMNS
from greenesg.accounts.models import Organisation, Project
from ingestion import storage
from ingestion.models import JobOrigin
from ingestion.process import import_job_process

GIB = 1024**3
DAY_S = 86_400


def _csv(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _rng(name: str) -> random.Random:
    return random.Random(f"demo-billing-{name}")  # noqa: S311 - deterministic demo data, not a secret


def _days(first: dt.date, days: int) -> Iterator[dt.date]:
    return (first + dt.timedelta(days=offset) for offset in range(days))


def _running_hours(day: dt.date, weekday: float, weekend: float, rng: random.Random) -> float:
    return min(24.0, (weekday if day.weekday() < 5 else weekend) * rng.uniform(0.85, 1.15))


# ---------------------------------------------------------------------------------------------- GCP

GCP_COLUMNS = (
    "billing_account_id",
    "service.id",
    "service.description",
    "sku.id",
    "sku.description",
    "usage_start_time",
    "usage_end_time",
    "project.id",
    "project.name",
    "labels",
    "location.location",
    "location.region",
    "cost",
    "currency",
    "usage.amount",
    "usage.unit",
    "cost_type",
    "machine_spec",
)
GCP_BILLING_ACCOUNT = "01D3M0-5EED00-C0FFEE"
COMPUTE_ENGINE = ("6F81-5844-456A", "Compute Engine")
CLOUD_STORAGE = ("95FF-2EF5-5EA1", "Cloud Storage")


@dataclass(frozen=True)
class GcpProject:
    project_id: str
    name: str
    team: str  # the `team` label the attribution rules look at
    region: str
    machine: str = ""  # "" for a project without VMs
    vcpus: int = 0
    ram_gib: int = 0
    ssd_gib: int = 0
    bucket_tib: float = 0.0
    egress_gib: float = 0.0
    weekday_hours: float = 24.0
    weekend_hours: float = 24.0


GCP_PROJECTS = (
    GcpProject("demo-recsys-prod", "Recsys Prod", "personalisation", "europe-west1", "n2-standard-8", 16, 64),
    GcpProject(
        "demo-ml-train",
        "ML Train",
        "data-science",
        "europe-west1",
        "n2-highmem-16",
        16,
        128,
        ssd_gib=500,
        weekday_hours=14.0,
        weekend_hours=4.0,
    ),
    # Nobody has claimed the data lake yet: no rule matches it, so it stays unallocated.
    GcpProject("demo-data-lake", "Data Lake", "analytics", "us-central1", bucket_tib=12.0, egress_gib=40.0),
)


def _gcp_row(
    day: dt.date, project: GcpProject, service: tuple[str, str], sku: str, usage: tuple[float, str], cost: float
) -> dict[str, Any]:
    return {
        "billing_account_id": GCP_BILLING_ACCOUNT,
        "service.id": service[0],
        "service.description": service[1],
        "sku.id": f"{zlib.crc32(sku.encode()) % 65536:04X}-DEMO",
        "sku.description": sku,
        "usage_start_time": f"{day} 00:00:00 UTC",
        "usage_end_time": f"{day + dt.timedelta(days=1)} 00:00:00 UTC",
        "project.id": project.project_id,
        "project.name": project.name,
        "labels": json.dumps([{"key": "team", "value": project.team}]),
        "location.location": project.region,
        "location.region": project.region,
        "cost": f"{cost:.4f}",
        "currency": "EUR",
        "usage.amount": f"{usage[0]:.0f}",
        "usage.unit": usage[1],
        "cost_type": "regular",
        "machine_spec": project.machine if "Instance" in sku else "",
    }


GcpUsage = tuple[tuple[str, str], str, tuple[float, str], float]  # service, SKU, (amount, unit), cost


def _gcp_usage(day: dt.date, project: GcpProject, rng: random.Random) -> list[GcpUsage]:
    """One day of a project: cores and RAM for the hours its machines ran, disks, buckets, egress.

    Prices are round list prices (EUR), illustrative only: the methodology estimates energy from usage, not cost.
    """
    area = "EMEA" if project.region.startswith("europe") else "Americas"
    usage: list[GcpUsage] = []
    if project.machine:
        hours = _running_hours(day, project.weekday_hours, project.weekend_hours, rng)
        family = project.machine.split("-")[0].upper()
        core_s, ram_byte_s = project.vcpus * hours * 3600, project.ram_gib * GIB * hours * 3600
        usage.append(
            (
                COMPUTE_ENGINE,
                f"{family} Instance Core running in {area}",
                (core_s, "seconds"),
                project.vcpus * hours * 0.0331,
            )
        )
        usage.append(
            (
                COMPUTE_ENGINE,
                f"{family} Instance Ram running in {area}",
                (ram_byte_s, "byte-seconds"),
                project.ram_gib * hours * 0.0044,
            )
        )
    if project.ssd_gib:
        ssd = (project.ssd_gib * GIB * DAY_S, "byte-seconds")
        usage.append((COMPUTE_ENGINE, "SSD backed PD Capacity", ssd, project.ssd_gib * 0.17 / 30))
    if project.bucket_tib:
        gib = project.bucket_tib * 1024
        usage.append(
            (CLOUD_STORAGE, "Standard Storage US Multi-region", (gib * GIB * DAY_S, "byte-seconds"), gib * 0.026 / 30)
        )
    if project.egress_gib:
        gib = project.egress_gib * rng.uniform(0.5, 1.5)
        usage.append(
            (COMPUTE_ENGINE, "Network Internet Egress from Americas to EMEA", (gib * GIB, "bytes"), gib * 0.12)
        )
    return usage


def gcp_export(first: dt.date, days: int) -> bytes:
    """A GCP billing export (BigQuery, flattened to CSV): one row per project, SKU and day."""
    rng = _rng("gcp")
    rows = (
        _gcp_row(day, p, *usage)
        for day in _days(first, days)
        for p in GCP_PROJECTS
        for usage in _gcp_usage(day, p, rng)
    )
    return _csv(GCP_COLUMNS, rows)


# ---------------------------------------------------------------------------------------------- Azure

AZURE_COLUMNS = (
    "InvoiceSectionName",
    "AccountName",
    "SubscriptionId",
    "SubscriptionName",
    "ResourceGroup",
    "ResourceLocation",
    "Date",
    "ProductName",
    "MeterCategory",
    "MeterSubCategory",
    "MeterId",
    "MeterName",
    "MeterRegion",
    "UnitOfMeasure",
    "Quantity",
    "EffectivePrice",
    "CostInBillingCurrency",
    "BillingCurrency",
    "ChargeType",
    "PricingModel",
    "AdditionalInfo",
    "Tags",
)
AZURE_SUBSCRIPTION = ("5d3e6f10-0000-4000-8000-00000000d3e0", "Demo-Research")


@dataclass(frozen=True)
class AzureGroup:
    resource_group: str
    location: str
    vm_size: str  # Standard_D8ads_v5
    series: str  # the meter subcategory, "Dadsv5 Series"
    vcpus: int
    vms: int
    weekday_hours: float
    weekend_hours: float
    disk_tier: str  # "P10" premium SSD managed disk per VM


AZURE_GROUPS = (
    # The research lab's cloud burst capacity next to its own racks: matched by resource group.
    AzureGroup("rg-research-burst", "swedencentral", "Standard_D8ads_v5", "Dadsv5 Series", 8, 2, 10.0, 2.0, "P10"),
    # A sandbox nobody owns: no rule, so it stays unallocated.
    AzureGroup("rg-sandbox", "westeurope", "Standard_D2ads_v5", "Dadsv5 Series", 2, 1, 24.0, 24.0, "P10"),
)


def _azure_row(
    day: dt.date,
    group: AzureGroup,
    meter: tuple[str, str, str, str, str],
    quantity: float,
    price: float,
    info: dict[str, Any],
) -> dict[str, Any]:
    product, category, subcategory, name, unit = meter
    return {
        "InvoiceSectionName": "Default",
        "AccountName": "Demo Software GmbH",
        "SubscriptionId": AZURE_SUBSCRIPTION[0],
        "SubscriptionName": AZURE_SUBSCRIPTION[1],
        "ResourceGroup": group.resource_group,
        "ResourceLocation": group.location,
        "Date": day.strftime("%m/%d/%Y"),  # EA exports write US dates
        "ProductName": product,
        "MeterCategory": category,
        "MeterSubCategory": subcategory,
        "MeterId": f"{zlib.crc32(name.encode()):08x}",
        "MeterName": name,
        "MeterRegion": "Sweden Central" if group.location == "swedencentral" else "EU West",
        "UnitOfMeasure": unit,
        "Quantity": f"{quantity:.4f}",
        "EffectivePrice": f"{price:.4f}",
        "CostInBillingCurrency": f"{quantity * price:.4f}",
        "BillingCurrency": "EUR",
        "ChargeType": "Usage",
        "PricingModel": "OnDemand",
        "AdditionalInfo": json.dumps(info) if info else "",
        "Tags": json.dumps({"env": group.resource_group.removeprefix("rg-")}),
    }


def _azure_day(day: dt.date, group: AzureGroup, rng: random.Random) -> Iterator[dict[str, Any]]:
    size = group.vm_size.removeprefix("Standard_").replace("_", " ")  # "D8ads v5"
    vm = (f"Virtual Machines {group.series}", "Virtual Machines", group.series, size, "1 Hour")
    hours = group.vms * _running_hours(day, group.weekday_hours, group.weekend_hours, rng)
    info = {"UsageType": "ComputeHR", "ServiceType": group.vm_size, "VCPUs": group.vcpus}
    yield _azure_row(day, group, vm, hours, 0.0515 * group.vcpus, info)
    disk = (
        "Premium SSD Managed Disks",
        "Storage",
        "Premium SSD Managed Disks",
        f"{group.disk_tier} LRS Disk",
        "1 /Month",
    )
    yield _azure_row(day, group, disk, group.vms / 30, 19.71, {})


def azure_export(first: dt.date, days: int) -> bytes:
    """An Azure Cost Management export (EA layout): one row per resource group, meter and day."""
    rng = _rng("azure")
    return _csv(
        AZURE_COLUMNS, (row for day in _days(first, days) for g in AZURE_GROUPS for row in _azure_day(day, g, rng))
    )


# ---------------------------------------------------------------------------------------------- FOCUS

FOCUS_PAYER = "999988887777"
WEB_ACCOUNT = ("210987654321", "web-prod")
SHARED_ACCOUNT = ("345678901234", "shared-services")


@dataclass(frozen=True)
class FocusLine:
    account: tuple[str, str]
    team: str
    usage_type: str  # AWS usage type, so FOCUS rows classify as a CUR of the same month would
    unit: str
    per_day: float
    price: float
    description: str
    service: tuple[str, str] = ("AmazonEC2", "Amazon Elastic Compute Cloud")


FOCUS_LINES = (
    FocusLine(
        WEB_ACCOUNT,
        "platform",
        "USE1-BoxUsage:c5.2xlarge",
        "Hrs",
        72.0,
        0.34,
        "$0.34 per On Demand Linux c5.2xlarge Instance Hour",
    ),
    FocusLine(
        WEB_ACCOUNT,
        "platform",
        "USE1-EBS:VolumeUsage.gp3",
        "GB-Mo",
        1500 / 30,
        0.08,
        "$0.08 per GB-month of General Purpose (gp3) provisioned storage",
    ),
    FocusLine(
        SHARED_ACCOUNT,
        "shared",
        "USE1-BoxUsage:m5.xlarge",
        "Hrs",
        48.0,
        0.192,
        "$0.192 per On Demand Linux m5.xlarge Instance Hour",
    ),
)


def _focus_row(day: dt.date, line: FocusLine, quantity: float) -> dict[str, Any]:
    cost = f"{quantity * line.price:.4f}"
    return {
        "BilledCost": cost,
        "BillingAccountId": FOCUS_PAYER,
        "BillingCurrency": "USD",
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargeDescription": line.description,
        "ChargePeriodStart": f"{day}T00:00:00Z",
        "ChargePeriodEnd": f"{day + dt.timedelta(days=1)}T00:00:00Z",
        "ConsumedQuantity": f"{quantity:.4f}",
        "ConsumedUnit": line.unit,
        "EffectiveCost": cost,
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "RegionId": "us-east-1",
        "ServiceCategory": "Compute" if line.unit == "Hrs" else "Storage",
        "ServiceName": line.service[1],
        "SkuId": f"DEMO{zlib.crc32(line.usage_type.encode()) % 100_000:05d}",
        "SubAccountId": line.account[0],
        "SubAccountName": line.account[1],
        "Tags": json.dumps({"team": line.team}),
        "x_UsageType": line.usage_type,
        "x_ServiceCode": line.service[0],
    }


def focus_export(first: dt.date, days: int) -> bytes:
    """A FOCUS 1.0 cost and usage file from AWS: one row per line and day, and the month's tax row (dropped)."""
    rng = _rng("focus")
    rows = []
    for day in _days(first, days):
        rows += [_focus_row(day, line, line.per_day * rng.uniform(0.9, 1.1)) for line in FOCUS_LINES]
        if day.day == 1:
            tax = _focus_row(day, FOCUS_LINES[0], 0.0) | {"ChargeCategory": "Tax", "BilledCost": "41.20"}
            rows.append(
                tax | {"ChargeDescription": "Tax", "ConsumedQuantity": "", "ConsumedUnit": "", "x_UsageType": ""}
            )
    return _csv(FOCUS_COLUMNS, rows)


# ---------------------------------------------------------------------------------------- rules and import


@dataclass(frozen=True)
class DemoRule:
    provider: str
    match_field: str
    match_value: str
    targets: tuple[tuple[str, float], ...]  # (project slug, percent); under 100 % leaves the rest unallocated
    note: str
    tag_key: str = ""


DEMO_RULES = (
    DemoRule("gcp", "tag", "personalisation", (("recommender", 100.0),), "GCP label team=personalisation", "team"),
    DemoRule("gcp", "account", "demo-ml-train", (("ml-training", 100.0),), "GCP project of the training jobs"),
    DemoRule("azure", "resource_group", "rg-research-burst", (("research-lab", 100.0),), "Research burst capacity"),
    DemoRule("aws", "tag", "platform", (("web-platform", 100.0),), "AWS tag team=platform", "team"),
    # Shared services serve two teams; a fifth (monitoring, security tooling) is nobody's yet.
    DemoRule(
        "aws",
        "account",
        SHARED_ACCOUNT[0],
        (("web-platform", 50.0), ("recommender", 30.0)),
        "Shared services account, split by usage estimate",
    ),
)


def demo_rules_create(org: Organisation) -> int:
    """The demo's attribution rules, each through the audited service; a rule already there is left alone."""
    from ingestion.billing.rules import attribution_rule_create
    from ingestion.models import AttributionRule

    projects = dict(Project.objects.filter(organisation=org).values_list("slug", "pk"))
    created = 0
    for rule in DEMO_RULES:
        if AttributionRule.objects.filter(
            organisation=org, provider=rule.provider, match_field=rule.match_field, match_value=rule.match_value
        ).exists():
            continue
        data = {
            "provider": rule.provider,
            "match_field": rule.match_field,
            "tag_key": rule.tag_key,
            "match_value": rule.match_value,
            "note": f"{rule.note} (demo)",
            "targets": tuple((projects[slug], percent) for slug, percent in rule.targets),
        }
        attribution_rule_create(organisation=org, actor=None, data=data)
        created += 1
    return created


def billing_import(org: Organisation, content: bytes, name: str) -> str:
    """Import one export through the billing pipeline; the same bytes a second time are found, not re-imported."""
    from ingestion.billing.pipeline import billing_job_submit

    submission = billing_job_submit(
        organisation=org,
        origin=JobOrigin.DEMO,
        stored=storage.store_chunks([content]),
        original_name=name,
        enqueue=False,
    )
    if submission.created:
        import_job_process(job_id=str(submission.job.pk))
    job = submission.job
    job.refresh_from_db()
    return f"{name}: {job.status}, {job.records_accepted} lines" + ("" if submission.created else " (already loaded)")
