"""Display names for where a run or billing line ran: `europe-west1 (Belgium)`, `Own hardware (FR)`.

Pure (no Django): the place comes from the labels of the cloud factor tables shipped with the factor
registry (greenesg/footprint/data/cloud_*.csv), so the dashboards name a region as the registry does.
AWS and Azure labels carry the place in parentheses ("US East (N. Virginia)"); Google's label is the place.
"""

from __future__ import annotations

import csv
import functools
import importlib.resources
import io

CLOUD_TABLES = ("cloud_aws_ccf_2022.csv", "cloud_azure_ccf_2022.csv", "cloud_gcp_google.csv")
# One label wherever a row has no cloud region: codecarbon on own or controlled hardware (Scope 2).
OWN_HARDWARE = "Own hardware"


def place_of(label: str) -> str:
    """The place named by a registry label: the text in its last parentheses, or the whole label."""
    label = label.strip()
    if label.endswith(")") and "(" in label:
        return label[label.rindex("(") + 1 : -1].strip()
    return label


@functools.cache
def region_places() -> dict[str, str]:
    """{"gcp/europe-west1": "Belgium", …} for every cloud zone of the shipped factor tables."""
    places: dict[str, str] = {}
    data = importlib.resources.files("greenesg.footprint").joinpath("data")
    for name in CLOUD_TABLES:
        text = data.joinpath(name).read_text(encoding="utf-8")
        for row in csv.DictReader(io.StringIO(text)):
            place = place_of(row.get("label") or "")
            if place:
                places.setdefault(row["zone"].strip().lower(), place)
    return places


def region_display(provider: str | None, region: str | None, country_iso: str | None = None) -> str:
    """How a page names a location: `europe-west1 (Belgium)`, `aws/unknown-1`, or `Own hardware (FR)`."""
    provider, region, country = (provider or "").strip(), (region or "").strip(), (country_iso or "").strip()
    if not region:
        if provider:
            return provider + (f" ({country})" if country else "")
        return OWN_HARDWARE + (f" ({country})" if country else "")
    place = region_places().get(f"{provider.lower()}/{region.lower()}") if provider else None
    if place:
        return f"{region} ({place})"
    return f"{provider}/{region}" if provider else region
