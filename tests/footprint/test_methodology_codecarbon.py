from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pytest

from greenesg.footprint.factor_seed import seed_factor_sets
from greenesg.footprint.methodology.codecarbon import (
    FactorChoice,
    choose_pue,
    decide_scope,
    estimate_run,
    factor_zone_candidates,
    resolve_factor,
)
from greenesg.footprint.methodology.coefficients import METHODOLOGY_VERSION, PUE, PUE_TABLES, provider_pue

Lookup = Callable[[str], list[FactorChoice]]

# Last rows of the runs in tests/fixtures/samples/emissions_codecarbon_3.3.2.csv.
FRA_ENERGY, FRA_EMISSIONS = 3.832985876131817e-05, 2.1479669551255092e-06
DEU_ENERGY, DEU_EMISSIONS, DEU_WATER = 3.2457385887821166e-05, 1.2364641153965474e-05, 5.842329459807809e-05
GCP_ENERGY, GCP_EMISSIONS = 1.5317844494689398e-05, 1.8687770283521064e-06
CAL_ENERGY, CAL_EMISSIONS = 7.5194089286584315e-06, 1.3464569917495736e-06


@pytest.fixture(scope="module")
def registry() -> Lookup:
    """The seed sets as an in-memory registry, the way the ORM lookup will serve them."""
    by_zone: dict[str, list[FactorChoice]] = defaultdict(list)
    for factor_set in seed_factor_sets():
        for factor in factor_set.factors:
            label = f"{factor_set.name}@v{factor_set.version}"
            by_zone[factor.zone].append(
                FactorChoice(None, factor.zone, factor.vintage_year, factor.g_co2e_per_kwh, label)
            )
    return lambda zone: list(by_zone.get(zone, []))


def _table(rows: dict[str, list[tuple[int, float]]]) -> Lookup:
    choices = {
        zone: [FactorChoice(i, zone, year, value, "test@v1") for i, (year, value) in enumerate(vintages)]
        for zone, vintages in rows.items()
    }
    return lambda zone: choices.get(zone, [])


def _run(registry: Lookup, **overrides: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "energy_consumed_kwh": FRA_ENERGY,
        "codecarbon_pue": 1.0,
        "water_l": 0.0,
        "codecarbon_emissions_kg": FRA_EMISSIONS,
        "on_cloud": False,
        "infrastructure": "auto",
        "cloud_provider": "",
        "cloud_region": "",
        "country_iso": "FRA",
        "region": "",
        "site_pue": 1.0,
        "year": 2026,
        "lookup": registry,
    }
    arguments.update(overrides)
    return arguments


# --- scope ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_cloud", "infrastructure", "expected"),
    [
        (True, "auto", (3, "1.1")),
        (False, "auto", (2, "")),
        (True, "own", (2, "")),  # the asset register wins over codecarbon's detection
        (False, "cloud", (3, "1.1")),
    ],
)
def test_it_decides_scope_from_the_asset_register(on_cloud: bool, infrastructure: str, expected: tuple) -> None:
    assert decide_scope(on_cloud=on_cloud, infrastructure=infrastructure) == expected


def test_it_rejects_an_unknown_infrastructure() -> None:
    with pytest.raises(ValueError, match="colocation"):
        decide_scope(on_cloud=False, infrastructure="colocation")


# --- PUE -----------------------------------------------------------------------------------------------------------


def test_pue_table_is_versioned() -> None:
    assert METHODOLOGY_VERSION == "2026.1"
    assert PUE_TABLES["2026.1"] is PUE
    assert dict(PUE.provider_default) == {"aws": 1.135, "gcp": 1.10, "azure": 1.185}
    assert PUE.own_site_unknown == 1.58
    assert provider_pue("GCP", "europe-west1") == 1.09
    assert provider_pue("gcp", "europe-west9") == 1.10
    assert provider_pue("ovh", "gra") is None


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # codecarbon was told a PUE: keep it, whatever the scope.
        ({"codecarbon_pue": 1.4, "scope": 2, "provider": "", "cloud_region": "", "site_pue": 1.2}, (1.4, [])),
        ({"codecarbon_pue": 1.2, "scope": 3, "provider": "aws", "cloud_region": "", "site_pue": None}, (1.2, [])),
        (
            {"codecarbon_pue": 1.0, "scope": 3, "provider": "gcp", "cloud_region": "europe-west1", "site_pue": None},
            (1.09, ["pue_provider_default"]),
        ),
        (
            {"codecarbon_pue": 1.0, "scope": 3, "provider": "gcp", "cloud_region": "us-west1", "site_pue": None},
            (1.10, ["pue_provider_default"]),
        ),
        (
            {"codecarbon_pue": 1.0, "scope": 3, "provider": "aws", "cloud_region": "us-east-1", "site_pue": None},
            (1.135, ["pue_provider_default"]),
        ),
        (
            {"codecarbon_pue": 1.0, "scope": 3, "provider": "azure", "cloud_region": "westeurope", "site_pue": 1.3},
            (1.185, ["pue_provider_default"]),
        ),
        (
            {"codecarbon_pue": 1.0, "scope": 3, "provider": "", "cloud_region": "", "site_pue": None},
            (1.58, ["pue_provider_unknown"]),
        ),
        ({"codecarbon_pue": 1.0, "scope": 2, "provider": "", "cloud_region": "", "site_pue": 1.3}, (1.3, [])),
        (
            {"codecarbon_pue": 1.0, "scope": 2, "provider": "", "cloud_region": "", "site_pue": None},
            (1.58, ["pue_site_assumed"]),
        ),
        (
            {"codecarbon_pue": 0.8, "scope": 2, "provider": "", "cloud_region": "", "site_pue": 1.2},
            (1.2, ["pue_codecarbon_ignored"]),
        ),
    ],
)
def test_it_chooses_the_pue(kwargs: dict, expected: tuple[float, list[str]]) -> None:
    assert choose_pue(**kwargs) == expected


def test_it_rejects_a_site_pue_below_one() -> None:
    with pytest.raises(ValueError):
        choose_pue(codecarbon_pue=1.0, scope=2, provider="", cloud_region="", site_pue=0.9)


# --- zone candidates -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"on_cloud": True, "cloud_provider": "gcp", "cloud_region": "europe-west1", "country_iso": "BEL"},
            ["gcp/europe-west1", "BEL"],
        ),
        (
            {"on_cloud": True, "cloud_provider": "AWS", "cloud_region": "US-East-1", "country_iso": "usa"},
            ["aws/us-east-1", "USA"],
        ),
        (
            {"on_cloud": True, "cloud_provider": "azure", "cloud_region": "EuropeWest", "country_iso": "NLD"},
            ["azure/westeurope", "NLD"],
        ),
        (
            {"on_cloud": True, "cloud_provider": "azure", "cloud_region": "Atlantis", "country_iso": "NLD"},
            ["azure/atlantis", "NLD"],
        ),
        ({"on_cloud": True, "cloud_provider": "", "cloud_region": "", "country_iso": "DEU"}, ["DEU"]),
        ({"on_cloud": False, "country_iso": "USA", "region": "california"}, ["USA/california", "USA"]),
        ({"on_cloud": False, "country_iso": "USA", "region": "New  York"}, ["USA/new york", "USA"]),
        ({"on_cloud": False, "country_iso": "SWE", "region": "SE3"}, ["SWE/se3", "SWE"]),
        ({"on_cloud": False, "country_iso": "FIN", "region": "fi"}, ["FIN/fi", "FIN"]),
        ({"on_cloud": False, "country_iso": "CHN", "region": "Inner Mongolia"}, ["CHN/cn-nm", "CHN"]),
        ({"on_cloud": False, "country_iso": "FRA", "region": ""}, ["FRA"]),
        ({"on_cloud": False, "country_iso": "", "region": ""}, []),
    ],
)
def test_it_lists_zone_candidates_most_specific_first(kwargs: dict, expected: list[str]) -> None:
    arguments = {"cloud_provider": "", "cloud_region": "", "region": "", **kwargs}
    assert factor_zone_candidates(**arguments) == expected


# --- factor resolution ---------------------------------------------------------------------------------------------


def test_it_prefers_the_vintage_of_the_year() -> None:
    lookup = _table({"FRA": [(2022, 60.0), (2023, 56.0), (2024, 40.0)]})
    choice, flags = resolve_factor(["FRA"], 2023, lookup)
    assert (choice.vintage_year, choice.g_co2e_per_kwh, flags) == (2023, 56.0, [])


def test_it_uses_the_latest_earlier_vintage_as_a_proxy() -> None:
    lookup = _table({"FRA": [(2021, 60.0), (2023, 56.0), (2030, 10.0)]})
    choice, flags = resolve_factor(["FRA"], 2026, lookup)
    assert (choice.vintage_year, flags) == (2023, ["proxy_vintage"])


def test_it_uses_the_earliest_later_vintage_when_none_is_earlier() -> None:
    lookup = _table({"FRA": [(2024, 40.0), (2023, 56.0)]})
    choice, flags = resolve_factor(["FRA"], 2019, lookup)
    assert (choice.vintage_year, flags) == (2023, ["future_vintage"])


def test_it_reports_no_factor() -> None:
    assert resolve_factor(["XXX/a", "XXX"], 2024, _table({})) == (None, ["no_factor"])
    assert resolve_factor([], 2024, _table({})) == (None, ["no_factor"])


def test_a_cloud_fallback_to_the_country_is_flagged_region_unmapped() -> None:
    lookup = _table({"BEL": [(2023, 138.1)]})
    choice, flags = resolve_factor(["gcp/europe-west99", "BEL"], 2023, lookup)
    assert (choice.zone, flags) == ("BEL", ["region_unmapped"])


def test_an_on_prem_fallback_to_the_country_is_not_flagged() -> None:
    lookup = _table({"CAN": [(2022, 110.0)]})
    choice, flags = resolve_factor(["CAN/ontario", "CAN"], 2022, lookup)
    assert (choice.zone, flags) == ("CAN", [])


def test_it_never_picks_the_provider_unknown_mean(registry: Lookup) -> None:
    candidates = factor_zone_candidates(
        on_cloud=True, cloud_provider="aws", cloud_region="ap-south-2", country_iso="IND", region=""
    )
    choice, flags = resolve_factor(candidates, 2024, registry)
    assert choice.zone == "IND"
    assert flags[0] == "region_unmapped"


# --- whole runs (values of the codecarbon 3.3.2 sample) ------------------------------------------------------------


def test_fra_run_on_own_hardware(registry: Lookup) -> None:
    result = estimate_run(**_run(registry))
    assert (result.scope, result.category, result.method) == (2, "", "measured")
    assert result.energy_it_kwh == result.energy_facility_kwh == FRA_ENERGY
    assert result.pue_applied == 1.0
    assert (result.factor.zone, result.factor.vintage_year, result.factor.version_label) == (
        "FRA",
        2023,
        "grid-country-owid@v1",
    )
    assert result.kgco2e_location == pytest.approx(3.832985876131817e-05 * 56.039 / 1000, rel=1e-12)
    assert result.kgco2e_market == result.kgco2e_location
    assert result.market_basis == "mb_fallback_grid_average"
    assert result.flags == ("proxy_vintage", "mb_fallback_grid_average")
    assert result.codecarbon_kg == FRA_EMISSIONS
    assert result.implied_factor_g_per_kwh == pytest.approx(56.04, abs=0.01)


def test_deu_run_keeps_codecarbon_pue(registry: Lookup) -> None:
    result = estimate_run(
        **_run(
            registry,
            energy_consumed_kwh=DEU_ENERGY,
            codecarbon_pue=1.4,
            water_l=DEU_WATER,
            codecarbon_emissions_kg=DEU_EMISSIONS,
            country_iso="DEU",
            site_pue=None,
            year=2023,
        )
    )
    assert result.energy_it_kwh == pytest.approx(DEU_ENERGY / 1.4, rel=1e-12)
    assert result.energy_facility_kwh == pytest.approx(DEU_ENERGY, rel=1e-12)
    assert result.pue_applied == 1.4
    assert result.kgco2e_location == pytest.approx(DEU_ENERGY * 380.95 / 1000, rel=1e-12)
    assert result.water_l == DEU_WATER
    assert result.flags == ("mb_fallback_grid_average",)
    assert result.implied_factor_g_per_kwh == pytest.approx(380.95, abs=0.01)


def test_gcp_run_gets_the_region_pue_and_a_proxy_2024_factor(registry: Lookup) -> None:
    result = estimate_run(
        **_run(
            registry,
            energy_consumed_kwh=GCP_ENERGY,
            codecarbon_emissions_kg=GCP_EMISSIONS,
            on_cloud=True,
            cloud_provider="gcp",
            cloud_region="europe-west1",
            country_iso="BEL",
            site_pue=None,
        )
    )
    assert (result.scope, result.category) == (3, "1.1")
    assert result.pue_applied == 1.09
    assert result.energy_it_kwh == GCP_ENERGY
    assert result.energy_facility_kwh == pytest.approx(GCP_ENERGY * 1.09, rel=1e-12)
    assert (result.factor.zone, result.factor.vintage_year, result.factor.g_co2e_per_kwh) == (
        "gcp/europe-west1",
        2024,
        103.37,
    )
    assert result.kgco2e_location == pytest.approx(GCP_ENERGY * 1.09 * 103.37 / 1000, rel=1e-12)
    assert result.flags == ("proxy_vintage", "pue_provider_default", "mb_fallback_grid_average")
    # codecarbon used impact.csv's 122 g/kWh: kept for audit only.
    assert result.implied_factor_g_per_kwh == pytest.approx(122.0, abs=0.01)


def test_gcp_run_of_2022_uses_the_2021_vintage(registry: Lookup) -> None:
    result = estimate_run(
        **_run(registry, on_cloud=True, cloud_provider="gcp", cloud_region="europe-west1", country_iso="BEL", year=2022)
    )
    assert (result.factor.vintage_year, result.factor.g_co2e_per_kwh) == (2021, 110.0)


def test_california_run_uses_the_state_factor(registry: Lookup) -> None:
    result = estimate_run(
        **_run(
            registry,
            energy_consumed_kwh=CAL_ENERGY,
            codecarbon_emissions_kg=CAL_EMISSIONS,
            country_iso="USA",
            region="california",
            site_pue=None,
            year=2023,
        )
    )
    assert result.factor.zone == "USA/california"
    assert result.pue_applied == 1.58
    assert result.kgco2e_location == pytest.approx(CAL_ENERGY * 1.58 * 394.769 * 0.45359237 / 1000, rel=1e-12)
    assert result.flags == ("pue_site_assumed", "mb_fallback_grid_average")
    assert result.implied_factor_g_per_kwh == pytest.approx(179.06, abs=0.01)


def test_unmapped_cloud_region_falls_back_to_the_country_with_a_flag(registry: Lookup) -> None:
    result = estimate_run(
        **_run(registry, on_cloud=True, cloud_provider="azure", cloud_region="Poland Central", country_iso="POL")
    )
    assert result.factor.zone == "POL"
    assert "region_unmapped" in result.flags
    assert result.kgco2e_location == pytest.approx(FRA_ENERGY * 1.185 * result.factor.g_co2e_per_kwh / 1000)


def test_azure_alias_reaches_the_region_factor(registry: Lookup) -> None:
    result = estimate_run(
        **_run(registry, on_cloud=True, cloud_provider="azure", cloud_region="EuropeWest", country_iso="NLD", year=2020)
    )
    assert (result.factor.zone, result.factor.g_co2e_per_kwh, result.flags) == (
        "azure/westeurope",
        328.4,
        ("pue_provider_default", "mb_fallback_grid_average"),
    )


def test_cloud_by_asset_register_without_codecarbon_region_is_flagged(registry: Lookup) -> None:
    result = estimate_run(**_run(registry, infrastructure="cloud", site_pue=None))
    assert (result.scope, result.factor.zone) == (3, "FRA")
    assert result.flags[:2] == ("proxy_vintage", "region_unmapped")
    assert "pue_provider_unknown" in result.flags


def test_no_factor_leaves_emissions_empty(registry: Lookup) -> None:
    result = estimate_run(**_run(registry, country_iso="XXX"))
    assert result.factor is None
    assert result.kgco2e_location is None and result.kgco2e_market is None
    assert result.market_basis == ""
    assert result.flags == ("no_factor",)
    assert result.energy_facility_kwh == FRA_ENERGY


def test_no_factor_on_cloud_is_also_region_unmapped() -> None:
    result = estimate_run(**_run(_table({}), on_cloud=True, cloud_provider="aws", cloud_region="eu-south-2"))
    assert result.flags == ("no_factor", "region_unmapped", "pue_provider_default")


def test_implausible_implied_factor_is_flagged(registry: Lookup) -> None:
    result = estimate_run(**_run(registry, codecarbon_emissions_kg=FRA_ENERGY * 1.3))
    assert result.implied_factor_g_per_kwh == pytest.approx(1300.0)
    assert "implied_factor_out_of_range" in result.flags
    assert estimate_run(**_run(registry, codecarbon_emissions_kg=None)).implied_factor_g_per_kwh is None
    assert estimate_run(**_run(registry, energy_consumed_kwh=0.0)).implied_factor_g_per_kwh is None


@pytest.mark.parametrize(("energy", "pue"), [(-1.0, 1.0), (float("nan"), 1.0), (1.0, 0.0)])
def test_it_rejects_unusable_inputs(registry: Lookup, energy: float, pue: float) -> None:
    with pytest.raises(ValueError):
        estimate_run(**_run(registry, energy_consumed_kwh=energy, codecarbon_pue=pue))
