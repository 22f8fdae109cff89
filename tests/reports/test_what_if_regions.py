"""The "same run elsewhere" panel of a record: alternatives only from the run's provider and residency area,
never the world's cleanest country grids (CAF, LSO, BTN, …) for a cloud run."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint.models import LedgerEntry
from greenesg.lib.residency import residency_area
from reports.dashboards import engineer

from .conftest import utc

pytestmark = pytest.mark.django_db


def _cloud_run(
    make_entry: Callable[..., LedgerEntry], org: Organisation, project: Project, key: str, provider: str, region: str
) -> LedgerEntry:
    return make_entry(
        org,
        project,
        key,
        end=utc(2025, 3, 1, 12),
        scope=3,
        category="1.1",
        provider=provider,
        region=region,
        country_iso="",
        energy_it_kwh=10.0,
        energy_facility_kwh=10.0,
        kgco2e_location=3.11,
        kgco2e_market=3.11,
    )


def _alternatives(entry: LedgerEntry) -> list[str]:
    return [alt.zone for alt in engineer.run_what_if(entry=entry, zone=None)[1]]


@pytest.mark.parametrize(
    ("provider", "region", "area"),
    [
        ("aws", "eu-central-1", "EU"),
        ("aws", "us-east-1", "US"),
        ("gcp", "asia-south1", "IN"),  # Delhi only: Singapore (asia-southeast1) is not India
        ("gcp", "europe-west3", "EU"),
        ("azure", "West Europe", "EU"),
        ("AWS", "eu-west-1", "EU"),
    ],
)
def test_alternatives_share_the_provider_and_residency_area(
    make_entry: Callable[..., LedgerEntry], org: Organisation, project: Project, provider: str, region: str, area: str
) -> None:
    zones = _alternatives(_cloud_run(make_entry, org, project, "c1", provider, region))
    assert zones, "a placeable region has same-area alternatives in the seeded registry"
    for zone in zones:
        head, _, name = zone.partition("/")
        assert head == provider.lower()
        assert residency_area(head, name) == area
        assert name not in (region.lower(), "westeurope")


def test_london_gets_no_eu_region_and_an_unplaced_region_gets_none(
    make_entry: Callable[..., LedgerEntry], org: Organisation, project: Project
) -> None:
    assert (
        _alternatives(_cloud_run(make_entry, org, project, "c2", "aws", "eu-west-2")) == []
    )  # the only AWS region in GB
    assert _alternatives(_cloud_run(make_entry, org, project, "c3", "aws", "xx-mars-1")) == []


def test_a_cloud_record_without_provider_gets_no_country_grids(
    officer_client: Client, make_entry: Callable[..., LedgerEntry], org: Organisation, project: Project
) -> None:
    # A cloud run whose provider codecarbon did not detect: it used to be offered CAF, LSO, BTN, …
    entry = _cloud_run(make_entry, org, project, "c5", "", "")
    response = officer_client.get(reverse("ledger-detail", args=["acme", "ml", entry.pk]))
    assert response.status_code == 200
    assert response.context["alternatives"] == []
    assert "names no provider" in response.content.decode()


def test_on_premises_alternatives_stay_in_the_site_country(
    make_entry: Callable[..., LedgerEntry], org: Organisation, project: Project
) -> None:
    site = make_entry(
        org, project, "p1", end=utc(2025, 3, 1, 12), country_iso="USA", region="Texas", energy_facility_kwh=1.0
    )
    zones = _alternatives(site)
    assert zones and all(z.startswith("USA/") for z in zones) and "USA/texas" not in zones
    abroad = make_entry(org, project, "p2", end=utc(2025, 3, 1, 12), country_iso="FRA", energy_facility_kwh=1.0)
    assert _alternatives(abroad) == []  # France has no sub-national grids in the registry


def test_the_page_lists_only_same_area_regions(
    officer_client: Client, make_entry: Callable[..., LedgerEntry], org: Organisation, project: Project
) -> None:
    entry = _cloud_run(make_entry, org, project, "c4", "aws", "eu-central-1")
    response = officer_client.get(reverse("ledger-detail", args=["acme", "ml", entry.pk]))
    zones = [alt.zone for alt in response.context["alternatives"]]
    assert zones[0] == "aws/eu-north-1"
    assert {residency_area("aws", z.partition("/")[2]) for z in zones} == {"EU"}
    assert response.context["alternatives"][0].kgco2e == pytest.approx(10.0 * 8.8 / 1000)
