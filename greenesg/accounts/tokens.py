"""Project API tokens: shown once, stored as a prefix plus an HMAC, revocable.

Format: ``ges_ci_<prefix>_<secret>``. The prefix is indexed to find the candidate row; the whole
token is compared as HMAC-SHA256 under TOKEN_PEPPER with a constant-time comparison. The readable
``ges_ci_`` start lets secret scanners spot a leaked token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from greenesg.accounts.client_ip import client_ip
from greenesg.accounts.models import ApiToken
from greenesg.accounts.token_limits import bad_token_check, bad_token_record

TOKEN_START = "ges_ci_"  # noqa: S105 - a public prefix, not a secret


def token_digest(raw_token: str) -> str:
    return hmac.new(settings.TOKEN_PEPPER.encode(), raw_token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    raw: str


def new_raw_token() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(30)}"


def split_prefix(raw_token: str) -> str | None:
    if not raw_token.startswith(TOKEN_START):
        return None
    prefix, sep, _ = raw_token[len(TOKEN_START) :].partition("_")
    return prefix if sep and prefix else None


def token_lookup(raw_token: str) -> ApiToken | None:
    """Return the active token for a raw value, or None. Revocation is checked in the DB every time."""
    prefix = split_prefix(raw_token)
    if prefix is None:
        return None
    token = ApiToken.objects.select_related("project__organisation").filter(prefix=prefix).first()
    if token is None or not hmac.compare_digest(token.digest, token_digest(raw_token)):
        return None
    now = timezone.now()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    return token


def token_authenticate(request: HttpRequest, raw_token: str) -> ApiToken | None:
    """Every token check (header or live URL) goes through here: limit bad guesses, look up, audit use.

    Raises DRF's Throttled (429 with Retry-After) when the client address sent too many bad tokens.
    """
    ip = client_ip(request)
    bad_token_check(ip)
    token = token_lookup(raw_token)
    if token is None:
        bad_token_record(ip)
        return None
    # One UPDATE per request with F(): the count stays exact under concurrent CI jobs.
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now(), last_used_ip=ip, use_count=F("use_count") + 1
    )
    return token
