"""Where a cloud region keeps its data: the residency area advice may move work within (never out of).

EU regions form one area (GDPR lets data move between member states); every other region is its own country.
A region we cannot place gets no alternatives: advice must never suggest crossing a border by accident.
"""

from __future__ import annotations

EU = "EU"

_EU_REGIONS = {
    "aws": {"eu-west-1", "eu-west-3", "eu-central-1", "eu-south-1", "eu-north-1", "eu-south-2"},
    "gcp": {
        "europe-west1",
        "europe-west3",
        "europe-west4",
        "europe-west8",
        "europe-west9",
        "europe-west10",
        "europe-west12",
        "europe-north1",
        "europe-north2",
        "europe-southwest1",
        "europe-central2",
    },
    "azure": {
        "northeurope",
        "westeurope",
        "francecentral",
        "francesouth",
        "germanywestcentral",
        "germanynorth",
        "swedencentral",
        "italynorth",
        "polandcentral",
        "spaincentral",
    },
}
# Prefixes are matched with str.startswith, so each must not also start a region of another country: GCP's
# "asia-south" would swallow asia-southeast1 (Singapore), hence the numbered Mumbai/Delhi names.
_COUNTRY_REGIONS = {
    "aws": {
        "US": ("us-",),
        "CA": ("ca-",),
        "BR": ("sa-east-1",),
        "GB": ("eu-west-2",),
        "CH": ("eu-central-2",),
        "JP": ("ap-northeast-1", "ap-northeast-3"),
        "KR": ("ap-northeast-2",),
        "SG": ("ap-southeast-1",),
        "ID": ("ap-southeast-3",),
        "HK": ("ap-east-1",),
        "AU": ("ap-southeast-2", "ap-southeast-4"),
        "IN": ("ap-south-",),
        "ZA": ("af-south-1",),
        "BH": ("me-south-1",),
        "AE": ("me-central-1",),
        "CN": ("cn-",),
    },
    "gcp": {
        "US": ("us-",),
        "CA": ("northamerica-northeast",),
        "MX": ("northamerica-south1",),
        "BR": ("southamerica-east1",),
        "CL": ("southamerica-west1",),
        "GB": ("europe-west2",),
        "CH": ("europe-west6",),
        "JP": ("asia-northeast1", "asia-northeast2"),
        "KR": ("asia-northeast3",),
        "TW": ("asia-east1",),
        "HK": ("asia-east2",),
        "SG": ("asia-southeast1",),
        "ID": ("asia-southeast2",),
        "AU": ("australia-",),
        "IN": ("asia-south1", "asia-south2"),
        "ZA": ("africa-south1",),
        "QA": ("me-central1",),
        "SA": ("me-central2",),
        "IL": ("me-west1",),
    },
    "azure": {
        "US": ("centralus", "eastus", "northcentralus", "southcentralus", "westus", "westcentralus"),
        "CA": ("canada",),
        "BR": ("brazil",),
        "GB": ("uk",),
        "CH": ("switzerland",),
        "NO": ("norway",),
        "JP": ("japan",),
        "KR": ("korea",),
        "SG": ("southeastasia",),
        "HK": ("eastasia",),
        "AU": ("australia",),
        "IN": ("centralindia", "southindia", "westindia"),
        "AE": ("uae",),
        "ZA": ("southafrica",),
    },
}

ANY = "any"
SAME = "same"
EU_ONLY = "eu"
RESIDENCY_CHOICES = ((ANY, "Any region"), (SAME, "Same jurisdiction"), (EU_ONLY, "EU only"))


def residency_area(provider: str, region: str) -> str | None:
    """EU, an ISO country code, or None when the region cannot be placed."""
    provider, region = provider.strip().lower(), region.strip().lower()
    if provider == "azure":
        region = "".join(region.split())  # display names such as "West Europe" → westeurope
    if region in _EU_REGIONS.get(provider, set()):
        return EU
    for country, prefixes in _COUNTRY_REGIONS.get(provider, {}).items():
        if region.startswith(prefixes):
            return country
    return None


def residency_allows(mode: str, *, provider: str, current: str, candidate: str) -> bool:
    """Whether advice may propose moving from `current` to `candidate` under a residency filter.

    any: every region; same: only the current region's area (EU counts as one jurisdiction); eu: only EU regions.
    A region that cannot be placed passes only "any": a filter must never let an unknown place through.
    """
    if mode == ANY:
        return True
    area = residency_area(provider, candidate)
    if mode == EU_ONLY:
        return area == EU
    if mode == SAME:
        return area is not None and area == residency_area(provider, current)
    raise ValueError(f"residency must be one of {', '.join(m for m, _ in RESIDENCY_CHOICES)}, not {mode!r}")
