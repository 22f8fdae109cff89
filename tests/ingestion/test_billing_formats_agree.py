"""One account-month read from two formats must give the same lines: Azure's native export and its FOCUS export.

The FOCUS fixture is the same usage as `azure_ea.csv`, written with Microsoft's FocusCost 1.0 columns: the
x_Sku* extension columns, `/subscriptions/<GUID>` as SubAccountId, distinct units in ConsumedUnit.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from greenesg.footprint.methodology import units
from greenesg.footprint.methodology.cloud import NormalisedBillingLine, estimate_line
from ingestion.billing.readers import read_billing_lines
from ingestion.billing.readers.azure import classify_azure
from ingestion.billing.readers.identity import canonical_account

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "billing"
SUBSCRIPTION = "0f4a1c2e-0000-4000-8000-000000000001"


def read(name: str) -> list[NormalisedBillingLine]:
    return list(read_billing_lines(FIXTURES / name))


def test_azure_focus_rows_classify_like_the_native_export() -> None:
    native, focus = read("azure_ea.csv"), read("focus_azure_microsoft.csv")

    def shape(line: NormalisedBillingLine) -> tuple:
        return (line.bucket, line.machine_type, line.vcpus, line.amount, line.account, line.region, line.usage_type)

    assert [shape(ln) for ln in focus] == [shape(ln) for ln in native]
    assert [ln.bucket for ln in focus] == ["compute", "storage_ssd", "network", "unknown"]


def test_azure_focus_energy_equals_the_native_export() -> None:
    native, focus = read("azure_ea.csv"), read("focus_azure_microsoft.csv")

    def kwh(line: NormalisedBillingLine) -> float | None:
        return estimate_line(line, region_factor_g_per_kwh=400.0).facility_kwh

    assert [kwh(ln) for ln in focus] == [pytest.approx(kwh(ln)) if kwh(ln) is not None else None for ln in native]
    assert kwh(focus[0]) > 0 and kwh(focus[1]) > 0 and kwh(focus[2]) > 0


def test_azure_focus_keeps_the_resource_group_and_the_subscription_guid() -> None:
    vm = read("focus_azure_microsoft.csv")[0]

    assert (vm.account, vm.resource_group, vm.machine_type, vm.vcpus) == (
        SUBSCRIPTION,
        "rg-web",
        "Standard_D4ads_v5",
        4,
    )


@pytest.mark.parametrize(
    ("provider", "raw", "expected"),
    [
        ("azure", "/subscriptions/0F4A1C2E-0000-4000-8000-000000000001", SUBSCRIPTION),
        ("azure", "/subscriptions/0f4a1c2e-0000-4000-8000-000000000001/resourceGroups/rg-web", SUBSCRIPTION),
        ("azure", "0F4A1C2E-0000-4000-8000-000000000001", SUBSCRIPTION),
        ("azure", "Acme-Prod", "Acme-Prod"),  # a subscription name (old exports) is kept as written
        ("aws", "12345678901", "012345678901"),  # a spreadsheet dropped the leading zero
        ("aws", " 111122223333 ", "111122223333"),
        ("gcp", "projects/Acme-Prod-1", "acme-prod-1"),
        ("gcp", "acme-prod", "acme-prod"),
    ],
)
def test_accounts_have_one_spelling_per_provider(provider: str, raw: str, expected: str) -> None:
    assert canonical_account(provider, raw) == expected


@pytest.mark.parametrize(
    ("spelling", "pack", "unit"),
    [
        ("1 Hour", 1, units.HOUR),
        ("10 Hours", 10, units.HOUR),
        ("100 Hours", 100, units.HOUR),
        ("Hours", 1, units.HOUR),
        ("1 /Month", 1, units.MONTH),
        ("1/Month", 1, units.MONTH),
        ("100 /Month", 100, units.MONTH),
        ("Units/Month", 1, units.MONTH),
        ("10 /Day", 10, units.DAY),
        ("1 GB/Month", 1, units.GB_MONTH),
        ("10 GB/Month", 10, units.GB_MONTH),
        ("1 TB/Month", 1, units.TB_MONTH),
        ("200 GB", 200, units.GB),
        ("1 TB", 1, units.TB),
        ("50000 GB Seconds", 50000, units.GB_SECOND),
        ("1000 GB Hours", 1000, units.GB_HOUR),
    ],
)
def test_every_azure_unit_spelling_has_one_meaning(spelling: str, pack: float, unit: str) -> None:
    assert units.parse_unit(spelling) == units.PackUnit(pack, unit)


@pytest.mark.parametrize("spelling", ["1/Month", "1 /Month", "Units/Month", "100 /Month"])
def test_a_managed_disk_is_storage_whatever_the_unit_spelling(spelling: str) -> None:
    assert classify_azure("Storage", "P10 LRS Disk", spelling) == "storage_ssd"


def test_an_unknown_unit_is_flagged_never_zero() -> None:
    line = read("azure_ea.csv")[0]
    odd = NormalisedBillingLine(**{**line.__dict__, "unit": "1 Widget/Month", "bucket": "unknown"})

    estimate = estimate_line(odd, region_factor_g_per_kwh=400.0)

    assert "unit_unknown" in estimate.flags and estimate.method == "unestimated"
    assert units.parse_unit("1 Widget/Month") is None
