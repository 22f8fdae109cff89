"""Optional live grid-intensity provider (Electricity Maps style), with the factor registry as fallback.

Configured by GRID_INTENSITY_API_URL (e.g. "https://api.electricitymap.org/v3") and GRID_INTENSITY_API_TOKEN,
read through django.conf.settings with defaults, so an unconfigured install simply uses the registry. The call
is `GET {url}/carbon-intensity/latest?dataCenterProvider=aws&dataCenterRegion=us-east-1` with an `auth-token`
header; the answer's `carbonIntensity` is g CO2e/kWh.

A live ranking is all-or-nothing: if the provider fails for any candidate, the whole ranking falls back to the
registry, because a live (hourly) value and an annual average are not comparable in one list.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence

from django.conf import settings

from steering.advice import SOURCE_LIVE, RegionFactor

DEFAULT_TIMEOUT_S = 3.0
MAX_RESPONSE_BYTES = 64 * 1024


class LiveProviderError(Exception):
    """The live provider failed (network, timeout, HTTP error, unexpected body)."""


def live_provider_configured() -> bool:
    return bool(getattr(settings, "GRID_INTENSITY_API_URL", ""))


def live_factors(*, provider: str, regions: Sequence[str]) -> dict[str, RegionFactor]:
    """Current intensity per region from the live provider; raise LiveProviderError on the first failure."""
    base = str(getattr(settings, "GRID_INTENSITY_API_URL", "")).rstrip("/")
    token = str(getattr(settings, "GRID_INTENSITY_API_TOKEN", ""))
    timeout = float(getattr(settings, "GRID_INTENSITY_TIMEOUT_S", DEFAULT_TIMEOUT_S))
    if not base.startswith(("http://", "https://")):
        raise LiveProviderError("GRID_INTENSITY_API_URL must be an http(s) URL")
    factors = {}
    for region in regions:
        query = urllib.parse.urlencode({"dataCenterProvider": provider, "dataCenterRegion": region})
        headers = {"auth-token": token, "Accept": "application/json"}
        request = urllib.request.Request(f"{base}/carbon-intensity/latest?{query}", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (scheme checked)
                body = json.loads(response.read(MAX_RESPONSE_BYTES).decode("utf-8"))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise LiveProviderError(f"{region}: {exc}") from exc
        value = body.get("carbonIntensity") if isinstance(body, dict) else None
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
            raise LiveProviderError(f"{region}: no carbonIntensity in the answer")
        factors[region] = RegionFactor(region, float(value), SOURCE_LIVE, str(body.get("zone") or ""))
    return factors
