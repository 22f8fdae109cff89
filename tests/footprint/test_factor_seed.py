from __future__ import annotations

import csv
import importlib.resources
import io
import json
import math

import pytest

from greenesg.footprint.factor_seed import (
    CLOUD_CSV_HEADER,
    LB_PER_MWH_TO_G_PER_KWH,
    FactorSetSeed,
    canonical_azure_region,
    canonical_china_province,
    seed_factor_sets,
)


@pytest.fixture(scope="module")
def sets() -> dict[str, FactorSetSeed]:
    return {factor_set.name: factor_set for factor_set in seed_factor_sets()}


def _by_zone(factor_set: FactorSetSeed, vintage: int | None = None) -> dict[str, float]:
    return {
        factor.zone: factor.g_co2e_per_kwh
        for factor in factor_set.factors
        if vintage is None or factor.vintage_year == vintage
    }


def _codecarbon_json(path: str) -> dict:
    return json.loads(importlib.resources.files("codecarbon").joinpath(path).read_text(encoding="utf-8"))


def test_it_seeds_every_expected_set_once(sets: dict[str, FactorSetSeed]) -> None:
    assert list(sets) == [
        "grid-country-owid",
        "grid-us-states-egrid2023",
        "grid-nordic-entsoe-2025",
        "grid-china-provinces-2023",
        "cloud-aws-ccf-2022",
        "cloud-gcp-google",
        "cloud-azure-ccf-2022",
    ]
    assert {factor_set.version for factor_set in sets.values()} == {1}
    assert sets["grid-country-owid"].kind == "grid_country"
    assert sets["grid-us-states-egrid2023"].kind == "grid_subnational"
    assert sets["cloud-gcp-google"].kind == "cloud_region"


def test_it_keeps_zone_and_vintage_unique_across_all_sets(sets: dict[str, FactorSetSeed]) -> None:
    # One zone lives in one set only, so a (zone, vintage) lookup over active sets is unambiguous.
    owner: dict[str, str] = {}
    keys = set()
    for factor_set in sets.values():
        for factor in factor_set.factors:
            assert owner.setdefault(factor.zone, factor_set.name) == factor_set.name
            assert (factor.zone, factor.vintage_year) not in keys
            keys.add((factor.zone, factor.vintage_year))


def test_every_factor_is_a_finite_non_negative_intensity(sets: dict[str, FactorSetSeed]) -> None:
    for factor_set in sets.values():
        for factor in factor_set.factors:
            assert math.isfinite(factor.g_co2e_per_kwh) and 0 <= factor.g_co2e_per_kwh < 1400, factor
            assert 2009 <= factor.vintage_year <= 2025, factor
            assert factor.zone == factor.zone.strip() and factor.source, factor
            assert len(factor.zone) <= 80 and len(factor.source) <= 300 and len(factor.label) <= 200


def test_owid_set_holds_every_country_of_codecarbon_with_its_own_year(sets: dict[str, FactorSetSeed]) -> None:
    owid = sets["grid-country-owid"]
    raw = _codecarbon_json("data/private_infra/global_energy_mix.json")
    assert len(owid.factors) == sum(1 for entry in raw.values() if entry.get("carbon_intensity") is not None)
    assert len(owid.factors) == 213
    fra = next(factor for factor in owid.factors if factor.zone == "FRA")
    assert (fra.g_co2e_per_kwh, fra.vintage_year, fra.label) == (56.039, 2023, "France")
    values = _by_zone(owid)
    assert values["DEU"] == 380.95
    assert values["POL"] == pytest.approx(661.93, abs=0.01)
    assert owid.source == "Our World in Data energy dataset, as bundled in codecarbon 3.3.2 (global_energy_mix.json)"


def test_us_states_are_converted_from_lb_per_mwh(sets: dict[str, FactorSetSeed]) -> None:
    states = sets["grid-us-states-egrid2023"]
    values = _by_zone(states)
    assert values["USA/california"] == pytest.approx(394.769 * 0.45359237)
    assert values["USA/california"] == pytest.approx(179.06, abs=0.01)
    assert values["USA/new york"] == pytest.approx(466.62 * LB_PER_MWH_TO_G_PER_KWH, abs=0.01)
    # 50 states + DC; the file's "_unit"/"_source" keys and the national "usa" rate are not zones.
    assert len(values) == 51
    assert not any(zone.startswith("USA/_") or zone == "USA/usa" for zone in values)
    assert {factor.vintage_year for factor in states.factors} == {2023}


def test_nordic_zones_use_bidding_zone_keys(sets: dict[str, FactorSetSeed]) -> None:
    nordic = sets["grid-nordic-entsoe-2025"]
    values = _by_zone(nordic, 2025)
    assert len(values) == len(nordic.factors) == 10
    assert values["SWE/se3"] == 27.0
    assert values["NOR/no4"] == 51.7
    assert values["FIN/fi"] == 72.0


def test_china_provinces_are_co2_only(sets: dict[str, FactorSetSeed]) -> None:
    china = sets["grid-china-provinces-2023"]
    values = _by_zone(china, 2023)
    assert len(values) == 30
    assert values["CHN/cn-bj"] == 555.4
    assert values["CHN/cn-gd"] == 441.9
    assert {factor.gas_basis for factor in china.factors} == {"CO2"}
    assert all(factor.gas_basis == "CO2e" for factor in sets["grid-country-owid"].factors)


def test_aws_table_matches_the_reference(sets: dict[str, FactorSetSeed]) -> None:
    aws = sets["cloud-aws-ccf-2022"]
    values = _by_zone(aws)
    assert len(values) == 27 + 1
    # eGRID2020 NERC rates at full precision (docs/methodology.md §5.1), not the rounded 379.1 / 410.6 / 322.2.
    assert values["aws/us-east-1"] == 379.069
    assert values["aws/us-east-1"] == pytest.approx(379.1, abs=0.05)
    assert values["aws/us-gov-west-1"] == values["aws/us-west-2"] == 322.167
    assert values["aws/eu-central-1"] == 311.0
    assert values["aws/eu-north-1"] == 8.8
    assert values["aws/cn-northwest-1"] == values["aws/cn-north-1"] == 537.4
    assert values["aws/ap-northeast-3"] == 465.8
    vintages = {factor.zone: factor.vintage_year for factor in aws.factors}
    assert (vintages["aws/us-east-1"], vintages["aws/eu-west-3"], vintages["aws/ap-south-1"]) == (2020, 2020, 2021)


def test_gcp_set_holds_google_2021_and_2024_values(sets: dict[str, FactorSetSeed]) -> None:
    gcp = sets["cloud-gcp-google"]
    y2021, y2024 = _by_zone(gcp, 2021), _by_zone(gcp, 2024)
    assert len(y2021) == 34 + 1  # 34 regions + the Unknown mean
    assert len(y2024) == 35 + 9  # regions of both years + the nine "only in 2024"
    assert y2021["gcp/us-central1"] == 394  # Google's figure, not CCF's 456 (docs/methodology.md §4.10 item 6)
    assert "gcp/us-central2" not in y2021
    assert y2021["gcp/northamerica-northeast1"] == 0
    assert (y2021["gcp/europe-west1"], y2024["gcp/europe-west1"]) == (110, 103.37)
    assert y2024["gcp/us-east5"] == y2024["gcp/us-east4"] == 323.05
    assert y2024["gcp/europe-north2"] == 2.73
    assert y2021["gcp/unknown"] == 317.1


def test_azure_set_has_one_canonical_row_per_region(sets: dict[str, FactorSetSeed]) -> None:
    azure = sets["cloud-azure-ccf-2022"]
    values = _by_zone(azure)
    assert len(values) == 41 + 1
    assert values["azure/eastus"] == values["azure/eastus2"] == 379.069
    assert values["azure/westcentralus"] == 322.167
    assert values["azure/westeurope"] == 328.4
    assert values["azure/switzerlandwest"] == 11.52
    assert values["azure/australiasoutheast"] == 960.0
    for zone in values:
        region = zone.split("/", 1)[1]
        assert region == "unknown" or canonical_azure_region(region) == region


def test_only_the_unknown_means_are_fallbacks(sets: dict[str, FactorSetSeed]) -> None:
    fallbacks = {
        factor.zone: factor.g_co2e_per_kwh
        for factor_set in sets.values()
        for factor in factor_set.factors
        if factor.is_fallback_mean
    }
    assert fallbacks == {"aws/unknown": 392.8, "gcp/unknown": 317.1, "azure/unknown": 351.3}


@pytest.mark.parametrize("filename", ["cloud_aws_ccf_2022.csv", "cloud_gcp_google.csv", "cloud_azure_ccf_2022.csv"])
def test_cloud_csv_files_have_the_documented_header(filename: str) -> None:
    text = importlib.resources.files("greenesg.footprint").joinpath("data", filename).read_text(encoding="utf-8")
    assert tuple(next(csv.reader(io.StringIO(text)))) == CLOUD_CSV_HEADER


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("uswest2", "westus2"),
        ("EuropeWest", "westeurope"),
        ("uaen", "uaenorth"),
        ("West Europe", "westeurope"),
        ("EU West", "westeurope"),
        ("East US 2", "eastus2"),
        ("eastus", "eastus"),
        ("FranceCentral", "francecentral"),
        ("AP Southeast", "southeastasia"),
        ("Poland Central", "polandcentral"),  # a real region without a factor: canonical, then region_unmapped
        ("Atlantis North", None),
        ("", None),
    ],
)
def test_it_canonicalises_azure_region_names(name: str, expected: str | None) -> None:
    assert canonical_azure_region(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("beijing", "cn-bj"),
        ("Inner Mongolia", "cn-nm"),
        ("Guangdong Province", "cn-gd"),
        ("xinjiang uyghur autonomous region", "cn-xj"),
        ("CN-SH", "cn-sh"),
        ("tibet", None),
        ("", None),
    ],
)
def test_it_maps_chinese_province_names_to_codes(name: str, expected: str | None) -> None:
    assert canonical_china_province(name) == expected


def test_china_aliases_agree_with_codecarbon() -> None:
    raw = _codecarbon_json("data/private_infra/2023/china_provincial_emissions.json")
    for code, entry in raw["data"].items():
        for name in entry["names"]:
            assert canonical_china_province(name) == code.lower()
