"""Methodology coefficients shared by every estimator (codecarbon runs, cloud billing).

One table per methodology version: a result records METHODOLOGY_VERSION, so a later change of a coefficient is a
new version and a signed report can be reproduced with the values it used. Numbers and sources:
docs/methodology.md §4.6 (PUE) and §2.4 (plausible implied factors).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

METHODOLOGY_VERSION = "2026.1"


@dataclass(frozen=True)
class PueTable:
    """Power usage effectiveness (facility kWh / IT kWh) by provider, with per-region overrides."""

    provider_default: Mapping[str, float]
    provider_region: Mapping[str, Mapping[str, float]]
    # Uptime Institute survey average: used for own sites whose PUE nobody entered.
    own_site_unknown: float


PUE_TABLES: Mapping[str, PueTable] = MappingProxyType(
    {
        "2026.1": PueTable(
            provider_default=MappingProxyType(
                {
                    "aws": 1.135,  # CCF's conservative estimate.
                    "gcp": 1.10,  # Google fleet default, where no regional trailing-12-month figure is listed.
                    # Fleet-wide TTM from a Microsoft statement, as in CCF's code (its docs still say 1.125).
                    "azure": 1.185,
                }
            ),
            provider_region=MappingProxyType(
                {
                    # Google's trailing-12-month PUE per region.
                    "gcp": MappingProxyType(
                        {
                            "us-east4": 1.08,
                            "us-central1": 1.11,
                            "us-central2": 1.11,
                            "europe-west1": 1.09,
                            "europe-west4": 1.07,
                            "europe-north1": 1.09,
                            "asia-east1": 1.12,
                            "asia-southeast1": 1.13,
                        }
                    ),
                }
            ),
            own_site_unknown=1.58,
        ),
    }
)

PUE: PueTable = PUE_TABLES[METHODOLOGY_VERSION]

# codecarbon rows whose emissions / energy_consumed fall outside this range are suspect (docs/methodology.md §2.4:
# 0-1.2 kg/kWh). It is a flag to look at, not a rejection: a few real grids exceed it (OWID Turkmenistan 1306).
IMPLIED_FACTOR_MIN_G_PER_KWH = 0.0
IMPLIED_FACTOR_MAX_G_PER_KWH = 1200.0


def provider_pue(provider: str, region: str = "", *, version: str = METHODOLOGY_VERSION) -> float | None:
    """PUE of a cloud provider's region, else the provider default; None for a provider we have no figure for."""
    table = PUE_TABLES[version]
    key = provider.strip().lower()
    regional = table.provider_region.get(key, {}).get(region.strip().lower())
    if regional is not None:
        return regional
    return table.provider_default.get(key)
