"""Seed content of the emission factor registry, as plain dataclasses (no ORM).

A loader (management command or data migration) turns these into EmissionFactorSet and EmissionFactor rows. The
grid sets are read at call time from the data files bundled in the installed codecarbon package
(docs/methodology.md §2.7), so GreenESG recomputes with the very numbers codecarbon used. The cloud-region sets are
GreenESG's own CSV files under ``greenesg/footprint/data/`` (docs/methodology.md §5.1).

Zone keys (EmissionFactor.zone):
- ``FRA``: ISO 3166 alpha-3 country.
- ``USA/california``, ``USA/new york``: ISO3 + codecarbon's lower-case ``region`` value, spaces kept, so that a
  codecarbon row's region column maps to the zone without a lookup table.
- ``SWE/se3``, ``NOR/no1``, ``FIN/fi``: Nordic bidding zones. Finland is one bidding zone; codecarbon accepts
  ``region = "fi"`` for FIN, hence ``FIN/fi`` (it coexists with the OWID country value under ``FIN``).
- ``CHN/cn-bj``: ISO 3166-2 code of the province, lower-case, as keyed in codecarbon's file (the letter codes in
  use since 2017, not the older numeric ``CN-11``). Province names map to codes through
  ``canonical_china_province``.
- ``aws/us-east-1``, ``gcp/europe-west1``, ``azure/westeurope``: provider + region; Azure uses the canonical
  lower-case name without spaces (``canonical_azure_region``).
- ``aws/unknown``, ``gcp/unknown``, ``azure/unknown``: the providers' Unknown means, ``is_fallback_mean=True``.
  Stored for reference only: no lookup returns them (docs/methodology.md §1.4; a missing region is flagged
  ``region_unmapped``).

A zone key appears in one factor set only, so a (zone, vintage) lookup over the active sets is unambiguous.
"""

from __future__ import annotations

import csv
import importlib.metadata
import importlib.resources
import io
import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# codecarbon converts eGRID's lb/MWh with the exact avoirdupois pound (codecarbon.core.units), so using the same
# constant reproduces its implied factor for US states to the last digit (394.769 lb/MWh -> 179.0637 g/kWh).
LB_PER_MWH_TO_G_PER_KWH = 0.45359237

GAS_CO2E = "CO2e"
GAS_CO2 = "CO2"

KIND_GRID_COUNTRY = "grid_country"
KIND_GRID_SUBNATIONAL = "grid_subnational"
KIND_CLOUD_REGION = "cloud_region"

CLOUD_CSV_HEADER = ("zone", "label", "vintage_year", "g_co2e_per_kwh", "source")

_CODECARBON_URL = "https://github.com/mlco2/codecarbon"
_CCF_URL = "https://github.com/cloud-carbon-footprint/cloud-carbon-footprint"
_GOOGLE_URL = "https://github.com/GoogleCloudPlatform/region-carbon-info"

# The same suffixes codecarbon strips before matching a Chinese province name (codecarbon.core.emissions).
_CHINA_SUFFIX = re.compile(r"\s+(autonomous region|municipality|province|sheng|shi|zizhiqu)$")
_AZURE_SEPARATORS = re.compile(r"[\s_\-]+")


@dataclass(frozen=True)
class FactorSeed:
    zone: str
    label: str
    vintage_year: int
    g_co2e_per_kwh: float
    gas_basis: str = GAS_CO2E
    source: str = ""
    is_fallback_mean: bool = False


@dataclass(frozen=True)
class FactorSetSeed:
    name: str
    version: int
    kind: str
    source: str
    source_url: str
    notes: str
    factors: list[FactorSeed] = field(default_factory=list)


def seed_factor_sets() -> list[FactorSetSeed]:
    """Every factor set of the initial registry, grid sets first, then cloud regions."""
    sets = [_owid_countries(), _us_states(), _nordic_zones()]
    china = _china_provinces()
    if china is not None:
        sets.append(china)
    sets.extend([_aws_regions(), _gcp_regions(), _azure_regions()])
    return sets


# --- codecarbon bundled data -------------------------------------------------------------------------------------


def _codecarbon_version() -> str:
    return importlib.metadata.version("codecarbon")


def _codecarbon_json(relative_path: str) -> Any | None:
    """A JSON file of the installed codecarbon package, or None when this release does not ship it."""
    resource = importlib.resources.files("codecarbon").joinpath(relative_path)
    if not resource.is_file():
        return None
    return json.loads(resource.read_text(encoding="utf-8"))


def _required_codecarbon_json(relative_path: str) -> Any:
    data = _codecarbon_json(relative_path)
    if data is None:
        raise FileNotFoundError(f"codecarbon {_codecarbon_version()} has no {relative_path}")
    return data


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _owid_countries() -> FactorSetSeed:
    data = _required_codecarbon_json("data/private_infra/global_energy_mix.json")
    source = (
        f"Our World in Data energy dataset, as bundled in codecarbon {_codecarbon_version()} (global_energy_mix.json)"
    )
    factors = [
        FactorSeed(
            zone=iso3.upper(),
            label=str(entry.get("country_name", iso3)),
            vintage_year=int(entry["year"]),
            g_co2e_per_kwh=float(entry["carbon_intensity"]),
            source=source,
        )
        for iso3, entry in sorted(data.items())
        if isinstance(entry, dict) and _is_number(entry.get("carbon_intensity")) and entry.get("year")
    ]
    notes = (
        "Annual location-based grid averages per country, g CO2e/kWh (OWID, derived from Ember; life-cycle basis). "
        "Data years differ by country (mostly 2022 and 2023, a few older): vintage_year is each entry's own year. "
        "Entries without carbon_intensity are skipped."
    )
    return FactorSetSeed(
        "grid-country-owid", 1, KIND_GRID_COUNTRY, source, "https://ourworldindata.org/energy", notes, factors
    )


def _us_states() -> FactorSetSeed:
    relative = "data/private_infra/2023/usa_emissions.json"
    data = _required_codecarbon_json(relative)
    meta = data.get("_source", {})
    source = f"EPA eGRID2023 STC2ERTA (CO2e output rate), as bundled in codecarbon {_codecarbon_version()}"
    factors: list[FactorSeed] = []
    for state, entry in sorted(data.items()):
        # "_unit"/"_source" describe the file; "usa" is eGRID's national rate, left out because the country zone
        # USA already has its (OWID) factor and a zone must come from one set only.
        if state.startswith("_") or state == "usa" or not isinstance(entry, dict):
            continue
        if not _is_number(entry.get("emissions")):
            continue
        lb_per_mwh = float(entry["emissions"])
        factors.append(
            FactorSeed(
                zone=f"USA/{' '.join(state.lower().split())}",
                label=state.title(),
                vintage_year=int(meta.get("year", 2023)),
                g_co2e_per_kwh=lb_per_mwh * LB_PER_MWH_TO_G_PER_KWH,
                source=f"{source}: {lb_per_mwh} lb/MWh x {LB_PER_MWH_TO_G_PER_KWH}",
            )
        )
    notes = (
        "US state rates from eGRID2023 field STC2ERTA (direct combustion CO2e per MWh generated in the state), "
        "converted from lb/MWh to g/kWh. Zone keys use codecarbon's lower-case state names (spaces kept)."
    )
    url = str(meta.get("url", "https://www.epa.gov/egrid"))
    return FactorSetSeed("grid-us-states-egrid2023", 1, KIND_GRID_SUBNATIONAL, source, url, notes, factors)


def _nordic_zones() -> FactorSetSeed:
    data = _required_codecarbon_json("data/private_infra/nordic_emissions.json")
    source = f"ENTSO-E A75 generation per type x per-source factors, as bundled in codecarbon {_codecarbon_version()}"
    country_of = {"SE": "SWE", "NO": "NOR", "FI": "FIN"}
    factors: list[FactorSeed] = []
    for key, entry in sorted(data["data"].items()):
        country = country_of.get(key[:2].upper())
        if country is None or not _is_number(entry.get("emission_factor")):
            continue
        detail = f"; coverage {entry['coverage']}" if entry.get("coverage") else ""
        factors.append(
            FactorSeed(
                zone=f"{country}/{key.lower()}",
                label=str(entry.get("description", key)),
                vintage_year=int(entry.get("year", 2025)),
                g_co2e_per_kwh=float(entry["emission_factor"]),
                source=f"{source}{detail}",
            )
        )
    notes = (
        "Nordic bidding zones, full year 2025, production-based (not consumption-based) and a lower bound where "
        "coverage is below 100 % (unfactored 'Other'/'Waste' generation counted at 0). FI is codecarbon's earlier "
        "value carried forward and labelled 2025 in the file. Metadata: " + str(data.get("metadata", {}).get("source"))
    )
    return FactorSetSeed("grid-nordic-entsoe-2025", 1, KIND_GRID_SUBNATIONAL, source, _CODECARBON_URL, notes, factors)


def _china_provinces() -> FactorSetSeed | None:
    data = _codecarbon_json("data/private_infra/2023/china_provincial_emissions.json")
    if data is None:
        return None  # Releases before 3.3.2 do not ship provincial factors.
    meta = data.get("metadata", {})
    source = f"MEE/NBS Announcement {meta.get('announcement', '2025 No. 47')}, as bundled in codecarbon"
    source = f"{source} {_codecarbon_version()}"
    factors = [
        FactorSeed(
            zone=f"CHN/{code.lower()}",
            label=str(entry.get("description", code)),
            vintage_year=int(entry.get("year", meta.get("year", 2023))),
            g_co2e_per_kwh=float(entry["emission_factor"]),
            # CO2 only, direct: not comparable with the CO2e sets, so the basis is stored on every factor.
            gas_basis=GAS_CO2,
            source=source,
        )
        for code, entry in sorted(data["data"].items())
        if _is_number(entry.get("emission_factor"))
    ]
    notes = (
        "Official provincial average electricity CO2 factors for 2023, g CO2/kWh, CO2 ONLY (no CH4/N2O, no "
        "life-cycle), accounting for inter-provincial transfers. Tibet, Hong Kong, Macao and Taiwan are not "
        "published and resolve to the country factor."
    )
    url = str(meta.get("source_url", ""))
    return FactorSetSeed("grid-china-provinces-2023", 1, KIND_GRID_SUBNATIONAL, source, url, notes, factors)


# --- GreenESG cloud-region tables --------------------------------------------------------------------------------


def _data_text(filename: str) -> str:
    return importlib.resources.files("greenesg.footprint").joinpath("data", filename).read_text(encoding="utf-8")


def _data_rows(filename: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_data_text(filename))))


def _cloud_factors(filename: str) -> list[FactorSeed]:
    return [
        FactorSeed(
            zone=row["zone"],
            label=row["label"],
            vintage_year=int(row["vintage_year"]),
            g_co2e_per_kwh=float(row["g_co2e_per_kwh"]),
            source=row["source"],
            # docs/methodology.md §1.4: the Unknown mean is stored but never applied without the region_unmapped flag.
            is_fallback_mean=row["zone"].endswith("/unknown"),
        )
        for row in _data_rows(filename)
    ]


_EGRID_EEA_CF_NOTES = (
    "See docs/methodology.md §5.1. eGRID2020 rows use the NERC-region rates at full precision (SERC 379.069, RFC "
    "410.608, WECC 322.167, MRO 426.254, TRE 373.231 g/kWh; tables often round them), vintage 2020. EEA rows: "
    "EEA 'CO2 emission intensity' dataset v9 (mid-2022), vintage 2020, because a mid-2022 release holds final "
    "inventory-based values up to 2020 and early estimates only for 2021; restate in a new set version if shown "
    "otherwise. carbonfootprint.com rows: March 2022 report v1.1, 2021 electricity, vintage 2021. The Unknown mean "
    "is CCF's average of the June 2022 refresh (#739), vintage 2021 by convention; fallback only."
)


def _aws_regions() -> FactorSetSeed:
    source = "Cloud Carbon Footprint AWS region factors (June 2022 refresh): EPA eGRID2020, EEA v9, carbonfootprint.com"
    factors = _cloud_factors("cloud_aws_ccf_2022.csv")
    return FactorSetSeed("cloud-aws-ccf-2022", 1, KIND_CLOUD_REGION, source, _CCF_URL, _EGRID_EEA_CF_NOTES, factors)


def _gcp_regions() -> FactorSetSeed:
    source = "Google Cloud region carbon data, GoogleCloudPlatform/region-carbon-info yearly 2021 and 2024"
    notes = (
        "Location-based grid intensity per region, data years 2021 (2021.csv as revised Oct 2022) and 2024. Google's "
        "2021 figures are used, not CCF's code values (us-central1 394, not 456; Montreal 0, not 28; us-central2 has "
        "no 2021 value). The 'with CFE' variant is a market-style adjustment and is deliberately not stored here. "
        "us-east4 and us-east5 share one row in the reference table and carry the same values. gcp/unknown is CCF's "
        "Unknown mean (317.1), fallback only."
    )
    factors = _cloud_factors("cloud_gcp_google.csv")
    return FactorSetSeed("cloud-gcp-google", 1, KIND_CLOUD_REGION, source, _GOOGLE_URL, notes, factors)


def _azure_regions() -> FactorSetSeed:
    source = (
        "Cloud Carbon Footprint Azure region factors (June 2022 refresh): EPA eGRID2020, EEA v9, carbonfootprint.com"
    )
    factors = _cloud_factors("cloud_azure_ccf_2022.csv")
    notes = _EGRID_EEA_CF_NOTES + " Regions that share a value (e.g. 'East US, East US 2') get one row each."
    return FactorSetSeed("cloud-azure-ccf-2022", 1, KIND_CLOUD_REGION, source, _CCF_URL, notes, factors)


# --- Region names ------------------------------------------------------------------------------------------------


def _squash_azure(name: str) -> str:
    return _AZURE_SEPARATORS.sub("", name).lower()


@lru_cache(maxsize=1)
def _azure_names() -> dict[str, str]:
    """Squashed name -> canonical region: every factor-table region, every alias and every alias target."""
    names: dict[str, str] = {}
    for row in _data_rows("cloud_azure_ccf_2022.csv"):
        region = row["zone"].split("/", 1)[1]
        if region != "unknown":
            names[region] = region
    for row in _data_rows("azure_region_aliases.csv"):
        names[row["region"]] = row["region"]
        names[_squash_azure(row["alias"])] = row["region"]
    return names


def canonical_azure_region(name: str) -> str | None:
    """``"West Europe"``, ``"EuropeWest"``, ``"EU West"`` -> ``"westeurope"``; None for a name we do not know.

    Azure sources spell regions differently (cost exports, legacy meter regions, CCF). Case, spaces, hyphens and
    underscores are ignored, so display names need no alias row. An unknown name must end as ``region_unmapped``
    (docs/methodology.md §1.4), never as a guess.
    """
    squashed = _squash_azure(name or "")
    if not squashed:
        return None
    return _azure_names().get(squashed)


@lru_cache(maxsize=1)
def _china_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for row in _data_rows("china_province_aliases.csv"):
        names[row["alias"]] = row["code"]
        names[row["code"]] = row["code"]
    return names


def canonical_china_province(name: str) -> str | None:
    """codecarbon's region for a Chinese host (``"Inner Mongolia"``, ``"guangdong province"``) -> ``"cn-nm"``.

    Matching mirrors codecarbon: case-insensitive, whitespace collapsed, a trailing "province", "municipality",
    "autonomous region" (and pinyin forms) ignored, otherwise exact. Tibet, Hong Kong, Macao and Taiwan have no
    provincial factor and return None.
    """
    cleaned = _CHINA_SUFFIX.sub("", " ".join((name or "").lower().split()))
    return _china_names().get(cleaned) if cleaned else None
