"""Residency areas and the any / same jurisdiction / EU-only filter of the region advice (pure)."""

from __future__ import annotations

import pytest

from greenesg.lib.residency import ANY, EU, EU_ONLY, SAME, residency_allows, residency_area


@pytest.mark.parametrize(
    ("provider", "region", "area"),
    [
        ("gcp", "asia-southeast1", "SG"),  # was read as India: "asia-south" is a prefix of "asia-southeast1"
        ("gcp", "asia-south1", "IN"),
        ("gcp", "asia-south2", "IN"),
        ("aws", "ap-southeast-1", "SG"),
        ("aws", "sa-east-1", "BR"),
        ("aws", "me-central-1", "AE"),
        ("gcp", "me-west1", "IL"),
        ("gcp", "northamerica-south1", "MX"),
        ("azure", "koreacentral", "KR"),
        ("azure", "southeastasia", "SG"),
        ("azure", "eastasia", "HK"),
        ("azure", "West Europe", EU),  # the display name of a cost export
        ("AWS", " eu-north-1 ", EU),
        ("aws", "xx-mars-1", None),
        ("oracle", "eu-frankfurt-1", None),
    ],
)
def test_residency_area(provider: str, region: str, area: str | None) -> None:
    assert residency_area(provider, region) == area


def test_eu_only_excludes_london_and_zurich() -> None:
    assert residency_allows(EU_ONLY, provider="aws", current="eu-central-1", candidate="eu-north-1")
    assert not residency_allows(EU_ONLY, provider="aws", current="eu-central-1", candidate="eu-west-2")
    assert not residency_allows(EU_ONLY, provider="gcp", current="europe-west1", candidate="europe-west6")


def test_same_jurisdiction_keeps_the_same_country_only() -> None:
    assert residency_allows(SAME, provider="aws", current="us-east-1", candidate="us-west-2")
    assert not residency_allows(SAME, provider="aws", current="us-east-1", candidate="ca-central-1")
    assert not residency_allows(SAME, provider="azure", current="uksouth", candidate="westeurope")
    assert residency_allows(SAME, provider="azure", current="uksouth", candidate="ukwest")
    # The EU is one jurisdiction for data residency.
    assert residency_allows(SAME, provider="gcp", current="europe-west3", candidate="europe-north1")


def test_unknown_regions_pass_only_any() -> None:
    assert not residency_allows(SAME, provider="aws", current="xx-mars-1", candidate="xx-mars-1")
    assert not residency_allows(EU_ONLY, provider="aws", current="eu-west-1", candidate="xx-mars-1")
    assert residency_allows(ANY, provider="aws", current="xx-mars-1", candidate="ca-central-1")


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="residency must be one of"):
        residency_allows("nearby", provider="aws", current="eu-west-1", candidate="eu-west-3")
