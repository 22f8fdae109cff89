"""What the cloud estimator reads and returns: a normalised billing line and its estimate (methodology 3, 4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from greenesg.footprint.methodology.coefficients import METHODOLOGY_VERSION

BUCKETS = ("compute", "memory", "storage_ssd", "storage_hdd", "network", "gpu", "unknown", "unsupported")
PROVIDERS = ("aws", "gcp", "azure")


@dataclass(frozen=True)
class NormalisedBillingLine:
    """One usage row of any billing export, after the reader's row filter and classification (methodology 3)."""

    provider: str
    account: str
    service: str
    usage_type: str
    region: str
    unit: str
    amount: float
    cost: float
    currency: str
    usage_start: datetime
    tags: dict[str, str] = field(default_factory=dict, hash=False)
    machine_type: str = ""
    vcpus: float | None = None
    bucket: str = "unknown"
    source_line: int = 0
    account_name: str = ""
    resource_group: str = ""
    gpu_model: str = ""
    source_format: str = ""


@dataclass(frozen=True)
class ExtrapolationRatio:
    """The ratio an extrapolated row was scaled with (methodology 4.8 step 3)."""

    kwh_per_unit: float
    basis: str  # "cost" (AWS) or "amount" (GCP, Azure)
    key: str  # "service+unit" or "unit"
    source_rows: int


@dataclass(frozen=True)
class LineEstimate:
    line: NormalisedBillingLine
    bucket: str
    method: str  # modelled | extrapolated | unestimated | excluded
    it_kwh: float | None
    facility_kwh: float | None
    operational_kg: float | None
    embodied_kg: float | None
    pue: float
    components_it_kwh: dict[str, float] = field(default_factory=dict, hash=False)
    flags: tuple[str, ...] = ()
    coefficients_version: str = ""
    methodology_version: str = METHODOLOGY_VERSION
    extrapolation: ExtrapolationRatio | None = None


@dataclass(frozen=True)
class ExtrapolationResult:
    estimates: list[LineEstimate]
    unsupported_rows: int
    unsupported_cost: float
    unestimated_rows: int
