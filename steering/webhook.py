"""Outgoing budget webhooks, guarded against server-side request forgery.

An officer chooses the webhook URL, and the worker that POSTs it sits inside our network: without these checks
the URL reaches loopback services, the cloud metadata endpoint and private hosts, and error texts reveal which
ports answer. So:

- only http(s) URLs without credentials; plain http only where settings.WEBHOOK_ALLOW_HTTP is on (never in
  production); with settings.WEBHOOK_ALLOWED_HOSTS set, only the hosts listed there;
- the host is resolved once and EVERY answer must be a global unicast address (see `address_allowed`), unless
  it lies in an IP network listed in WEBHOOK_ALLOWED_HOSTS, an operator's explicit exception;
- the socket goes to that checked address (the name is not resolved again, so DNS rebinding between check and
  connect changes nothing); https still sends the host name for SNI and verifies the certificate against it;
- a 3xx answer is a failure, never followed;
- the officer sees a short generic status; the reason goes to the log.

`webhook_url_problem` is the save-time check (no DNS: the answer may change before sending anyway);
`webhook_deliver` repeats every check when sending.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import logging
import re
import socket
import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

TIMEOUT_S = 5.0  # each connect, send and read
TOTAL_S = 15.0  # the whole exchange: a receiver trickling bytes just inside TIMEOUT_S would hold a worker for hours
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 ranges that carry an IPv4 address inside (NAT64 well-known and local-use prefixes): through a translator
# they reach whatever IPv4 address is embedded, so they are refused like the embedded address could be.
_EMBEDS_IPV4 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
# Numbers in decimal, octal or hex, one to four parts: what inet_aton (and so the resolver) reads as IPv4.
_LEGACY_IPV4 = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}", re.IGNORECASE)

REFUSED_ADDRESS = "refused: address not allowed"
REFUSED_HOST = "refused: host not on the allow-list"
REFUSED_HTTP = "refused: https required"
REFUSED_URL = "refused: not a valid webhook URL"
FAILED_DNS = "failed: host not found"
FAILED_NETWORK = "failed: no answer"


class WebhookRefused(Exception):
    """A URL or address the webhook may not use: `status` for the notification, `message` for the form."""

    def __init__(self, status: str, message: str, detail: str = "") -> None:
        super().__init__(status)
        self.status, self.message, self.detail = status, message, detail


class _Failed(Exception):
    """The receiver could not be reached or did not answer: `status` is generic, `detail` goes to the log."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(status)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower-case ASCII (IDNA), no brackets, no trailing dot
    port: int
    path: str  # path and query, as sent in the request line


@dataclass(frozen=True)
class WebhookResult:
    delivered: bool
    status: str  # generic text shown to officers: never an exception message


# ---------------------------------------------------------------------------------------------- pure checks


def address_allowed(address: IPAddress) -> bool:
    """True for global unicast addresses only: not loopback, private, shared (100.64/10), link-local, multicast,
    reserved, unspecified, documentation or benchmarking ranges, nor an IPv6 form that embeds an IPv4 address."""
    if isinstance(address, ipaddress.IPv6Address):
        # Mapped (::ffff:a.b.c.d), 6to4 and Teredo forms reach an IPv4 host; no receiver needs them.
        if address.ipv4_mapped or address.sixtofour or address.teredo:
            return False
        if any(address in network for network in _EMBEDS_IPV4) or address.is_site_local:
            return False
    # is_global alone lets multicast and a few special ranges through (e.g. 224.0.0.1 on Python 3.11).
    special = (
        address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
    )
    return address.is_global and not special


@dataclass(frozen=True)
class AllowList:
    names: tuple[str, ...]  # "hooks.example.org" exactly, ".example.org" for its subdomains
    networks: tuple[IPNetwork, ...]

    @classmethod
    def from_settings(cls) -> AllowList:
        names, networks = [], []
        for entry in getattr(settings, "WEBHOOK_ALLOWED_HOSTS", []):
            entry = entry.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.append("." + entry[2:] if entry.startswith("*.") else entry)
        return cls(names=tuple(names), networks=tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.names or self.networks)

    def host_listed(self, host: str) -> bool:
        literal = _numeric_address(host)
        if literal is not None:
            return self.address_listed(literal)
        return any(host == name or (name.startswith(".") and host.endswith(name)) for name in self.names)

    def address_listed(self, address: IPAddress) -> bool:
        return any(address.version == net.version and address in net for net in self.networks)


def _numeric_address(host: str) -> IPAddress | None:
    """The address a numeric host stands for, including the legacy IPv4 forms the resolver also accepts
    ("2130706433", "0x7f.1", "0177.0.0.1"); no DNS."""
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        pass
    if not _LEGACY_IPV4.fullmatch(host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def target_parse(url: str) -> Target:
    """Split and check a webhook URL without touching the network; raise WebhookRefused when it may not be used."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = (parts.hostname or "").rstrip(".").encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as exc:
        raise WebhookRefused(REFUSED_URL, "Enter a valid http(s) URL.", str(exc)) from exc
    allow_http = getattr(settings, "WEBHOOK_ALLOW_HTTP", False)
    if parts.scheme not in ({"http", "https"} if allow_http else {"https"}):
        if parts.scheme == "http":
            raise WebhookRefused(REFUSED_HTTP, "The webhook URL must use https.", "plain http is off")
        raise WebhookRefused(REFUSED_URL, "Enter a valid http(s) URL.", f"scheme {parts.scheme!r}")
    if not host or parts.username is not None or parts.password is not None:
        detail = "credentials in the URL" if host else "no host"
        raise WebhookRefused(REFUSED_URL, "Enter an http(s) URL with a host and no user name or password.", detail)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host.lower(), port or (443 if parts.scheme == "https" else 80), path)


def _refuse_address(address: IPAddress, allowed: AllowList) -> None:
    if not (address_allowed(address) or allowed.address_listed(address)):
        raise WebhookRefused(
            REFUSED_ADDRESS,
            "Webhooks cannot go to loopback, private, link-local or other internal addresses.",
            f"address {address} is not global unicast",
        )


def target_check(target: Target) -> AllowList:
    """The checks that need no DNS: the allow-list, a literal address, names that always mean this machine."""
    allowed = AllowList.from_settings()
    if allowed and not allowed.host_listed(target.host):
        message = "This host is not on the server's webhook allow-list (WEBHOOK_ALLOWED_HOSTS)."
        raise WebhookRefused(REFUSED_HOST, message, f"host {target.host} not listed")
    literal = _numeric_address(target.host)
    if literal is not None:
        _refuse_address(literal, allowed)
    elif target.host == "localhost" or target.host.endswith(".localhost"):
        _refuse_address(ipaddress.ip_address("127.0.0.1"), allowed)
    return allowed


def webhook_url_problem(url: str) -> str | None:
    """Why an officer may not save this webhook URL (a form message), or None."""
    try:
        target_check(target_parse(url))
    except WebhookRefused as exc:
        return exc.message
    return None


# ---------------------------------------------------------------------------------------------- sending


def tls_context() -> ssl.SSLContext:
    # The system trust store, certificate and host name verification on (tests swap in their own CA here).
    return ssl.create_default_context()


def _addresses_resolve(target: Target, allowed: AllowList) -> list[IPAddress]:
    """Resolve once; refuse when ANY answer is internal, so a name cannot mix a public and a private address."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise _Failed(FAILED_DNS, f"lookup of {target.host} failed: {exc}") from exc
    # An IPv4 or IPv6 socket address starts with the host as text (the stub allows other families).
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
    for address in addresses:
        _refuse_address(address, allowed)
    if not addresses:
        raise _Failed(FAILED_DNS, f"no address for {target.host}")
    return addresses


def _connection(target: Target, address: IPAddress, timeout: float) -> http.client.HTTPConnection:
    """A connection whose socket goes to `address`; Host header, SNI and certificate check use the name."""
    if target.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=tls_context()
        )
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def pinned(_address: Any, timeout: Any, source_address: Any = None) -> socket.socket:
        return socket.create_connection((str(address), target.port), timeout, source_address)

    # http.client opens its socket through this attribute; both connect() methods (plain and TLS) use it.
    conn._create_connection = pinned  # type: ignore[attr-defined]
    return conn


def _connect(target: Target, addresses: list[IPAddress], timeout: float) -> http.client.HTTPConnection:
    """Connect to the first checked address that answers (all of them passed the address check)."""
    error: OSError | None = None
    for address in addresses:
        conn = _connection(target, address, timeout)
        try:
            conn.connect()
            return conn
        except OSError as exc:
            conn.close()
            error = exc
    raise _Failed(FAILED_NETWORK, f"no connection to {target.host}: {error}")


def _cut_off(conn: http.client.HTTPConnection) -> None:
    # Shut the plain socket down (under TLS too): the blocked read in the sending thread then sees the end.
    if conn.sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(conn.sock, socket.SHUT_RDWR)


def _post(target: Target, addresses: list[IPAddress], body: bytes, timeout: float) -> int:
    conn = _connect(target, addresses, timeout)
    # Connecting is bounded by `timeout` per address; from here on the whole exchange is bounded by TOTAL_S.
    watchdog = threading.Timer(TOTAL_S, _cut_off, args=(conn,))
    watchdog.daemon = True
    watchdog.start()
    headers = {"Content-Type": "application/json", "User-Agent": "GreenESG"}
    try:
        # http.client never follows redirects: a 3xx comes back as a status like any other.
        conn.request("POST", target.path, body=body, headers=headers)
        return conn.getresponse().status
    except (OSError, http.client.HTTPException) as exc:
        raise _Failed(FAILED_NETWORK, f"no answer from {target.host}: {exc!r}") from exc
    finally:
        watchdog.cancel()
        conn.close()


def _status_text(code: int) -> WebhookResult:
    if 200 <= code < 300:
        return WebhookResult(delivered=True, status=f"delivered (HTTP {code})")
    if 300 <= code < 400:
        return WebhookResult(delivered=False, status=f"failed: HTTP {code} (redirects are not followed)")
    return WebhookResult(delivered=False, status=f"failed: HTTP {code}")


def webhook_deliver(*, url: str, payload: dict[str, Any], timeout: float = TIMEOUT_S) -> WebhookResult:
    """POST `payload` as JSON to `url` after every check above; never raises for network or policy reasons."""
    host = "?"
    try:
        target = target_parse(url)
        host = target.host
        addresses = _addresses_resolve(target, target_check(target))
        code = _post(target, addresses, json.dumps(payload).encode(), timeout)
    except (WebhookRefused, _Failed) as exc:
        # The URL path often holds the receiver's secret: log the host and the reason only.
        logger.warning("webhook to %s not delivered (%s): %s", host, exc.status, exc.detail)
        return WebhookResult(delivered=False, status=exc.status)
    result = _status_text(code)
    if not result.delivered:
        logger.warning("webhook to %s answered HTTP %s", host, code)
    return result
