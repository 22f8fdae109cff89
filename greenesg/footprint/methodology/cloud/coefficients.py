"""Access to the versioned cloud coefficient set (``greenesg/footprint/data/cloud_coefficients.json``).

Instance sizes, CPU power per vCPU, replication and multi-region tables, and the power curve that CPU and GPU
coefficients share. Every figure can name the coefficient set it was computed with (``coefficients_version``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from statistics import mean, median
from typing import Any

from greenesg.footprint.factor_seed import canonical_azure_region
from greenesg.footprint.methodology.coefficients import PUE, provider_pue

COEFFICIENTS_PATH = Path(__file__).resolve().parents[2] / "data" / "cloud_coefficients.json"


@dataclass(frozen=True)
class InstanceSpec:
    provider: str
    name: str
    family: str
    vcpus: float
    memory_gb: float
    gpus: int
    gpu_model: str
    baseline: float | None  # burstable baseline per vCPU (0.2 = 20 %), None when not burstable
    processors: tuple[str, ...]
    largest_vcpus: float
    largest_memory_gb: float
    te_kg: float | None
    embodied_largest_vcpus: float  # TotalR; burstable types use the closest non-burstable family (4.7)


@dataclass(frozen=True)
class CpuWatts:
    w_min: float
    w_max: float
    gb_per_chip: float | None
    fallback: bool


@lru_cache(maxsize=4)
def load_coefficients(path: str | None = None) -> dict[str, Any]:
    """The versioned coefficient set; cached because it is read for every line."""
    data: dict[str, Any] = json.loads(Path(path or COEFFICIENTS_PATH).read_text(encoding="utf-8"))
    if "version" not in data:
        raise ValueError("cloud coefficient file has no 'version' key")
    return data


def coefficients_version() -> str:
    return str(load_coefficients()["version"])


def pue_for(provider: str, region: str = "") -> float:
    """Methodology 4.6 via the shared PUE table: GCP per region, other providers one fleet value."""
    pue = provider_pue(provider, region)
    return PUE.own_site_unknown if pue is None else pue


def family_key(provider: str, machine_type: str) -> str:
    """`m5.xlarge` -> `aws:m5`, `n2-standard-4` -> `gcp:n2`, `Standard_D4ads_v5` -> `azure:dv5`."""
    name = machine_type.strip().lower()
    if provider == "aws":
        return f"aws:{name.split('.', 1)[0]}"
    if provider == "gcp":
        return f"gcp:{name.split('-', 1)[0]}"
    match = re.match(r"standard_([a-z]+)\d+[a-z]*(?:_v(\d+))?", name)
    if not match:
        return f"azure:{name}"
    return f"azure:{match.group(1)}v{match.group(2) or '1'}"


@lru_cache(maxsize=4096)
def instance_spec(provider: str, machine_type: str) -> InstanceSpec | None:
    """Instance table lookup (methodology 3.1, 4.3, 4.7); None when the size is not in the table."""
    coeffs = load_coefficients()
    name = machine_type.strip().lower() if provider == "azure" else machine_type.strip()
    row = coeffs["instance_types"].get(provider, {}).get(name)
    if row is None:
        return None
    fam_key = family_key(provider, name)
    fam = coeffs["families"].get(fam_key, {})
    # Burstable types borrow embodied data from the closest non-burstable family (4.7).
    emb_key = fam.get("embodied_family", fam_key)
    te = coeffs["embodied_te_kg"].get(emb_key)
    emb_fam = coeffs["families"].get(emb_key, fam)
    return InstanceSpec(
        provider=provider,
        name=name,
        family=fam_key,
        vcpus=float(row["vcpus"]),
        memory_gb=float(row["memory_gb"]),
        gpus=int(row.get("gpus", 0)),
        gpu_model=str(fam.get("gpu", "")),
        baseline=row.get("baseline"),
        processors=tuple(fam.get("processors", ())),
        largest_vcpus=float(fam.get("largest_vcpus", row["vcpus"])),
        largest_memory_gb=float(fam.get("largest_memory_gb", row["memory_gb"])),
        te_kg=None if te is None else float(te),
        embodied_largest_vcpus=float(emb_fam.get("largest_vcpus", fam.get("largest_vcpus", row["vcpus"]))),
    )


@lru_cache(maxsize=1024)
def cpu_watts(provider: str, processors: tuple[str, ...]) -> CpuWatts:
    """Methodology 4.1: mean over possible processors (median with Sandy/Ivy Bridge), else provider fallback."""
    coeffs = load_coefficients()
    table = coeffs["cpu_watts_per_vcpu"]
    known = [table[p] for p in processors if p in table]
    if not known:
        fb = coeffs["cpu_fallback_per_vcpu"][provider]
        return CpuWatts(fb["min"], fb["max"], fb["gb_per_chip"], fallback=True)
    agg = median if any(p in coeffs["median_processors"] for p in processors) else mean
    return CpuWatts(
        w_min=agg([r["min"] for r in known]),
        w_max=agg([r["max"] for r in known]),
        gb_per_chip=agg([r["gb_per_chip"] for r in known]),
        fallback=False,
    )


@lru_cache(maxsize=8192)
def replication_factor(provider: str, service: str, usage_type: str) -> float:
    """Methodology 4.4: first matching rule wins; anything not listed is 1."""
    rules = load_coefficients()["replication"].get(provider, [])
    svc = service.strip().lower()
    for rule in rules:
        if rule["service"].lower() != svc:
            continue
        if any(part in usage_type for part in rule["usage_contains"]):
            return float(rule["factor"])
    return 1.0


def gcp_multi_region_factor(region: str, factors: Mapping[str, float]) -> float | None:
    """Pitfall 4.10.3: a GCP multi/dual-region factor is the MEAN of its member regions, never their sum.

    Returns None (caller flags region_unmapped) if the region is not a multi-region or a member lacks a factor.
    """
    members = load_coefficients()["gcp_multi_regions"].get(region.strip().lower())
    if not members or any(m not in factors for m in members):
        return None
    return mean(factors[m] for m in members)


def azure_canonical_region(name: str) -> str:
    """Azure region spellings differ between sources (3.3): `West US 2`, `uswest2` -> `westus2`.

    One alias table serves the registry and the billing readers (factor_seed); a name it does not know
    passes through squashed, and the factor lookup then flags it `region_unmapped`.
    """
    key = re.sub(r"[\s_-]", "", name.strip().lower())
    return canonical_azure_region(key) or key


def average_watts(w_min: float, w_max: float, utilisation: float) -> float:
    """W-bar = Wmin + u x (Wmax - Wmin) (methodology 4, 4.2)."""
    return w_min + utilisation * (w_max - w_min)
