"""The client's address, the one answer used by login lock-out (axes), token-use audit and the bad-token limiter.

Behind the TLS proxy every connection comes from the proxy, so REMOTE_ADDR names the proxy, not the client.
The proxy appends the address it saw to X-Forwarded-For; whatever stands to the left of that entry was
written by the client and may be forged. So with TRUSTED_PROXY_COUNT proxies in front of us, the client is
the entry that many places from the right. Without BEHIND_TLS_PROXY the header is ignored entirely: the
app is then reached directly and any client could send one.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = _valid(request.META.get("REMOTE_ADDR"))
    if not getattr(settings, "BEHIND_TLS_PROXY", False):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    count = max(1, int(getattr(settings, "TRUSTED_PROXY_COUNT", 1)))
    if len(forwarded) < count:
        return remote  # the proxy did not add its entry: do not guess
    return _valid(forwarded[-count]) or remote
