"""One spelling per provider account, whatever export format delivered it.

A newer delivery of the same (provider, account, month) replaces the earlier one. That only holds across formats
if the account is written the same way in each: Azure's cost export gives a subscription GUID while its FOCUS
export gives `/subscriptions/<GUID>`; a CUR opened and saved in a spreadsheet loses the leading zeros of a 12-digit
AWS account; GCP project ids are case-insensitive and may come as `projects/<id>`.
"""

from __future__ import annotations

import re
from functools import lru_cache

_AZURE_SUBSCRIPTION_RE = re.compile(
    r"^/?subscriptions/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:/.*)?$", re.IGNORECASE
)
_GUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_AWS_ACCOUNT_RE = re.compile(r"^\d{1,12}$")


@lru_cache(maxsize=4096)
def canonical_account(provider: str, raw: str) -> str:
    """The account as GreenESG stores it: Azure subscription GUID lower-case, AWS 12 digits, GCP project id."""
    value = (raw or "").strip()
    if provider == "azure":
        match = _AZURE_SUBSCRIPTION_RE.match(value)
        if match:
            return match.group(1).lower()
        return value.lower() if _GUID_RE.match(value) else value
    if provider == "aws":
        return value.zfill(12) if _AWS_ACCOUNT_RE.match(value) else value
    if provider == "gcp":
        return value.removeprefix("projects/").lower()
    return value
