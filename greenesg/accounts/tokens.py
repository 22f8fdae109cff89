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
from django.utils import timezone

from greenesg.accounts.models import ApiToken

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
    # One cheap UPDATE, at most once a minute per token, so a busy CI does not write on every call.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
