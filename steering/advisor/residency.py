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
_COUNTRY_REGIONS = {
    "aws": {
        "US": ("us-",),
        "CA": ("ca-",),
        "GB": ("eu-west-2",),
        "CH": ("eu-central-2",),
        "JP": ("ap-northeast-1", "ap-northeast-3"),
        "AU": ("ap-southeast-2", "ap-southeast-4"),
        "IN": ("ap-south-",),
    },
    "gcp": {
        "US": ("us-",),
        "CA": ("northamerica-northeast",),
        "GB": ("europe-west2",),
        "CH": ("europe-west6",),
        "JP": ("asia-northeast1", "asia-northeast2"),
        "AU": ("australia-",),
        "IN": ("asia-south",),
    },
    "azure": {
        "US": ("centralus", "eastus", "northcentralus", "southcentralus", "westus", "westcentralus"),
        "CA": ("canada",),
        "GB": ("uk",),
        "CH": ("switzerland",),
        "NO": ("norway",),
        "JP": ("japan",),
        "AU": ("australia",),
        "IN": ("centralindia", "southindia", "westindia"),
    },
}


def residency_area(provider: str, region: str) -> str | None:
    """EU, an ISO country code, or None when the region cannot be placed."""
    provider, region = provider.lower(), region.lower()
    if region in _EU_REGIONS.get(provider, set()):
        return EU
    for country, prefixes in _COUNTRY_REGIONS.get(provider, {}).items():
        if region.startswith(prefixes):
            return country
    return None
