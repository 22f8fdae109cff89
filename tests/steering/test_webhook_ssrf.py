"""Budget webhook SSRF (issue 10, item 2): internal addresses are refused for every resolved IP, the checked IP is
the one connected to, redirects are not followed, and the officer sees a generic status, never the raw error.

Local listeners stand in for internal services: a refused case passes only if the listener saw no request. A spy
on socket.connect records every outgoing connection and refuses non-loopback ones, so no test touches the network.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from greenesg.accounts.models import Project
from steering import budget, services
from steering.models import BudgetNotification, ProjectSteering
from tests.steering.conftest import add_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry")]
NOV = budget.period_parse("2026-11")
PUBLIC_IP = "93.184.215.14"  # a global unicast address; the connect spy refuses it, nothing leaves the machine

Answer = Callable[[], tuple[int, dict[str, str]]]


# ---------------------------------------------------------------------------------------------- fixtures


@dataclass
class Listener:
    host: str
    port: int
    scheme: str = "http"
    requests: list[dict[str, Any]] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


class _Server6(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _handler(listener: Listener, answer: Answer, slow: float = 0.0) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            listener.requests.append({"method": self.command, "path": self.path, "headers": headers, "body": body})
            status, extra = answer()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            if not slow:
                self.end_headers()
                return
            for byte in b"".join(self._headers_buffer):
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(slow)

        do_GET = do_POST

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def listen() -> Iterator[Callable[..., Listener]]:
    """Start a threaded HTTP(S) listener on a loopback address; `answer()` gives the status and extra headers."""
    servers: list[ThreadingHTTPServer] = []

    def start(
        host: str = "127.0.0.1",
        answer: Answer = lambda: (204, {}),
        port: int = 0,
        tls: ssl.SSLContext | None = None,
        slow: float = 0.0,
    ) -> Listener:
        listener = Listener(host=host, port=0, scheme="https" if tls else "http")
        cls = _Server6 if ":" in host else ThreadingHTTPServer
        server = cls((host, port), _handler(listener, answer, slow))
        if tls is not None:
            tls.sni_callback = lambda sock, name, ctx: listener.server_names.append(name)
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        listener.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return listener

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _reaches_this_machine(host: str) -> bool:
    address = ipaddress.ip_address(host.split("%")[0])
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or address.is_unspecified or bool(mapped and mapped.is_loopback)


@pytest.fixture(autouse=True)
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every outgoing connect, in order. Only this machine is reachable; anything else is refused here."""
    attempts: list[tuple[str, int]] = []
    real_connect = socket.socket.connect

    def spy(sock: socket.socket, address: Any) -> None:
        attempts.append((address[0], address[1]))
        if not _reaches_this_machine(address[0]):
            raise ConnectionRefusedError(111, "refused by the test's connect spy")
        real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return attempts


@dataclass
class FakeDns:
    answers: dict[str, list[list[str]] | OSError] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """getaddrinfo with made-up names. Each lookup of a name takes the next answer (the last one repeats)."""
    fake = FakeDns()
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in fake.answers:
            return real(host, port, *args, **kwargs)
        fake.lookups.append(name)
        answers = fake.answers[name]
        if isinstance(answers, OSError):
            raise answers
        addresses = answers.pop(0) if len(answers) > 1 else answers[0]
        number = int(port or 0)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, number, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (a, number))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return fake


def _notify(project: Project, url: str) -> BudgetNotification:
    """Cross the 50 % threshold of a fresh budget with `url` as the project's webhook."""
    ProjectSteering.objects.update_or_create(project=project, defaults={"webhook_url": url})
    services.budget_set(project=project, period=NOV, kg=1.0, actor=None, actor_label="test")
    add_run(project, day=dt.date(2026, 11, 2), kg=0.6)
    services.budget_check_after_import(project_id=project.pk)
    return BudgetNotification.objects.get()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------- refused at send time


@pytest.mark.parametrize(
    ("url", "listener_host"),
    [
        ("http://127.0.0.1:{port}/hook", "127.0.0.1"),
        ("http://localhost:{port}/hook", "127.0.0.1"),
        ("http://[::1]:{port}/hook", "::1"),
        ("http://0.0.0.0:{port}/hook", "127.0.0.1"),
        ("http://[::ffff:127.0.0.1]:{port}/hook", "127.0.0.1"),
        ("http://2130706433:{port}/hook", "127.0.0.1"),  # 127.0.0.1 written as one decimal number
        ("http://hooks.test:{port}/hook", "127.0.0.1"),  # a name whose DNS answer is loopback
        ("http://mixed.test:{port}/hook", "127.0.0.1"),  # one public and one loopback answer
        ("http://10.0.0.1:{port}/hook", None),
        ("http://169.254.169.254/latest/meta-data/", None),
        ("http://100.64.0.1:{port}/hook", None),
        ("http://224.0.0.1:{port}/hook", None),
        ("http://[fd00::1]:{port}/hook", None),
        ("http://[64:ff9b::7f00:1]:{port}/hook", None),  # NAT64 form of 127.0.0.1
    ],
)
def test_internal_addresses_are_refused_and_never_contacted(
    project: Project, listen, dns: FakeDns, connects: list, url: str, listener_host: str | None
) -> None:
    listener = listen(host=listener_host) if listener_host else None
    dns.answers["hooks.test"] = [["127.0.0.1"]]
    dns.answers["mixed.test"] = [[PUBLIC_IP, "127.0.0.1"]]
    note = _notify(project, url.format(port=listener.port if listener else _free_port()))
    assert note.webhook_status == "refused: address not allowed"
    assert note.status == "failed"
    assert connects == []
    assert listener is None or listener.requests == []


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_not_followed(project: Project, listen, settings, connects: list, code: int) -> None:
    inside = listen()
    outside = listen(answer=lambda: (code, {"Location": f"http://localhost:{inside.port}/latest/meta-data/"}))
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.0/8"]  # the redirecting listener stands in for a public receiver
    note = _notify(project, outside.url + "/hook")
    assert len(outside.requests) == 1
    assert inside.requests == []
    assert note.webhook_status == f"failed: HTTP {code} (redirects are not followed)"
    assert note.status == "failed"
    assert connects == [("127.0.0.1", outside.port)]


def test_http_is_refused_when_only_https_is_allowed(project: Project, listen, settings, connects: list) -> None:
    hook = listen()
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_ALLOW_HTTP = False
    note = _notify(project, hook.url + "/hook")
    assert note.webhook_status == "refused: https required"
    assert hook.requests == [] and connects == []


def test_the_allow_list_limits_the_hosts(project: Project, dns: FakeDns, settings, connects: list) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.org", ".chat.example.org"]
    dns.answers["other.example.net"] = [[PUBLIC_IP]]
    note = _notify(project, "https://other.example.net/hook")
    assert note.webhook_status == "refused: host not on the allow-list"
    assert connects == [] and dns.lookups == []


def test_an_allow_listed_name_still_gets_the_address_check(
    project: Project, dns: FakeDns, settings, connects: list
) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = [".chat.example.org"]
    dns.answers["team.chat.example.org"] = [["169.254.169.254"]]
    note = _notify(project, "https://team.chat.example.org/hook")
    assert note.webhook_status == "refused: address not allowed"
    assert connects == []


def test_an_allow_listed_subdomain_is_posted_to_the_resolved_address(
    project: Project, dns: FakeDns, settings, connects: list
) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = [".chat.example.org"]
    dns.answers["team.chat.example.org"] = [[PUBLIC_IP]]
    note = _notify(project, "https://team.chat.example.org/hook")
    assert connects == [(PUBLIC_IP, 443)]  # the spy refuses it: the officer sees a generic failure
    assert note.webhook_status == "failed: no answer"


# ---------------------------------------------------------------------------------------------- generic status


def test_a_closed_port_shows_a_generic_status(project: Project, settings, caplog) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    note = _notify(project, f"http://127.0.0.1:{_free_port()}/hook")
    assert note.webhook_status == "failed: no answer"
    assert note.status == "failed"
    assert "Errno" not in note.webhook_status and "refused" not in note.webhook_status
    assert "Connection refused" in caplog.text  # the detail is for the operators' log


def test_an_unknown_host_shows_a_generic_status(project: Project, dns: FakeDns) -> None:
    dns.answers["nowhere.example.org"] = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    note = _notify(project, "https://nowhere.example.org/hook")
    assert note.webhook_status == "failed: host not found"


def test_an_error_answer_shows_only_its_status_code(project: Project, listen, settings) -> None:
    hook = listen(answer=lambda: (500, {"X-Debug": "stack trace"}))
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    note = _notify(project, hook.url + "/hook")
    assert note.webhook_status == "failed: HTTP 500"
    assert len(hook.requests) == 1


# ---------------------------------------------------------------------------------------------- delivery


def test_an_allowed_receiver_gets_the_json_post(project: Project, listen, settings, connects: list) -> None:
    hook = listen(answer=lambda: (204, {}))
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    note = _notify(project, hook.url + "/hook?channel=budget")
    assert note.webhook_status == "delivered (HTTP 204)"
    assert note.status == "done"
    (request,) = hook.requests
    assert request["method"] == "POST" and request["path"] == "/hook?channel=budget"
    assert request["headers"]["host"] == f"127.0.0.1:{hook.port}"
    assert request["headers"]["content-type"] == "application/json"
    assert json.loads(request["body"])["threshold_percent"] == 50
    assert connects == [("127.0.0.1", hook.port)]


@pytest.mark.parametrize("tls", [False, True])
def test_a_receiver_that_trickles_its_answer_is_cut_off(
    project: Project, listen, dns: FakeDns, settings, monkeypatch, tmp_path: Path, tls: bool
) -> None:
    from steering import webhook

    server_tls = None
    if tls:
        cert_path, key_path = _certificate(tmp_path, "hooks.test")
        server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_tls.load_cert_chain(cert_path, key_path)
        monkeypatch.setattr(webhook, "tls_context", lambda: ssl.create_default_context(cafile=str(cert_path)))
    # The answer's head goes out one byte every 0.2 s: each read ends well inside the per-read timeout.
    hook = listen(answer=lambda: (200, {"X-Slow": "a" * 40}), slow=0.2, tls=server_tls)
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.test", "127.0.0.1"]
    dns.answers["hooks.test"] = [["127.0.0.1"]]
    monkeypatch.setattr(webhook, "TOTAL_S", 1.0, raising=False)
    started = time.monotonic()
    note = _notify(project, f"{hook.scheme}://hooks.test:{hook.port}/hook")
    assert time.monotonic() - started < 4
    assert note.webhook_status == "failed: no answer"


def _listener_pair(listen) -> tuple[Listener, Listener]:
    # The same port on two loopback addresses: the checked one and the one a rebinding DNS answer points to.
    for _ in range(20):
        checked = listen(host="127.0.0.2")
        try:
            return checked, listen(host="127.0.0.1", port=checked.port)
        except OSError:
            continue
    pytest.skip("no port free on both 127.0.0.1 and 127.0.0.2")


def test_the_checked_address_is_the_one_connected_to(project: Project, listen, dns: FakeDns, settings) -> None:
    checked, rebound = _listener_pair(listen)
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.test", "127.0.0.2"]
    dns.answers["hooks.test"] = [["127.0.0.2"], ["127.0.0.1"]]  # a second lookup would be rebound to 127.0.0.1
    note = _notify(project, f"http://hooks.test:{checked.port}/hook")
    assert note.webhook_status == "delivered (HTTP 204)"
    assert dns.lookups == ["hooks.test"]
    assert rebound.requests == []
    assert checked.requests[0]["headers"]["host"] == f"hooks.test:{checked.port}"


# ---------------------------------------------------------------------------------------------- https


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.mark.parametrize(("cert_name", "delivered"), [("hooks.test", True), ("other.test", False)])
def test_https_connects_to_the_checked_address_and_verifies_the_host_name(
    project: Project, listen, dns: FakeDns, settings, monkeypatch, tmp_path: Path, cert_name: str, delivered: bool
) -> None:
    from steering import webhook

    cert_path, key_path = _certificate(tmp_path, cert_name)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_path, key_path)
    hook = listen(tls=server_tls)
    monkeypatch.setattr(webhook, "tls_context", lambda: ssl.create_default_context(cafile=str(cert_path)))
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.test", "127.0.0.1"]
    settings.WEBHOOK_ALLOW_HTTP = False
    dns.answers["hooks.test"] = [["127.0.0.1"]]
    note = _notify(project, f"https://hooks.test:{hook.port}/hook")
    assert hook.server_names == ["hooks.test"]  # SNI carries the name although the socket went to the IP
    if delivered:
        assert note.webhook_status == "delivered (HTTP 204)"
        assert hook.requests[0]["headers"]["host"] == f"hooks.test:{hook.port}"
    else:
        assert note.webhook_status == "failed: no answer"
        assert hook.requests == []


# ---------------------------------------------------------------------------------------------- pure checks


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.0.9",
        "0.0.0.0",  # noqa: S104 (an address to refuse, nothing binds to it)
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "192.0.0.170",
        "192.0.2.1",
        "198.18.0.1",
        "224.0.0.1",
        "233.1.1.1",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:127.0.0.1",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:7f00:1::1",
        "2001::1",
        "2001:db8::1",
        "fe80::1%eth0",
        "fc00::1",
        "fec0::1",
        "ff02::1",
    ],
)
def test_the_address_check_refuses_internal_and_special_addresses(address: str) -> None:
    from steering import webhook

    assert not webhook.address_allowed(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", PUBLIC_IP, "2606:4700:4700::1111"])
def test_the_address_check_allows_global_unicast(address: str) -> None:
    from steering import webhook

    assert webhook.address_allowed(ipaddress.ip_address(address))


# ---------------------------------------------------------------------------------------------- saving the URL


SETTINGS_PAGE = "/o/acme/p/ml/budget/settings/"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://api.localhost/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/hook",
    ],
)
def test_saving_an_internal_webhook_address_is_refused(officer_client: Client, project: Project, url: str) -> None:
    response = officer_client.post(SETTINGS_PAGE, {"webhook_url": url, "functional_unit": ""})
    assert response.status_code == 400
    assert "internal addresses" in response.content.decode()
    assert not ProjectSteering.objects.filter(project=project).exists()


def test_saving_an_http_webhook_is_refused_when_only_https_is_allowed(
    officer_client: Client, project: Project, settings
) -> None:
    settings.WEBHOOK_ALLOW_HTTP = False
    response = officer_client.post(SETTINGS_PAGE, {"webhook_url": "http://hooks.example.org/x"})
    assert response.status_code == 400 and "must use https" in response.content.decode()
    response = officer_client.post(SETTINGS_PAGE, {"webhook_url": "https://hooks.example.org/x"})
    assert response.status_code == 302


def test_saving_a_host_off_the_allow_list_is_refused(officer_client: Client, project: Project, settings) -> None:
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.slack.com"]
    response = officer_client.post(SETTINGS_PAGE, {"webhook_url": "https://hooks.example.org/x"})
    assert response.status_code == 400 and "allow-list" in response.content.decode()
    response = officer_client.post(SETTINGS_PAGE, {"webhook_url": "https://hooks.slack.com/services/T0/B0/x"})
    assert response.status_code == 302
    assert ProjectSteering.objects.get(project=project).webhook_url.startswith("https://hooks.slack.com/")


# ---------------------------------------------------------------------------------------------- settings


def test_production_refuses_plain_http_webhooks(tmp_path: Path) -> None:
    from tests.test_settings import SETUP, STRONG_KEY, _run

    env = {"GREENESG_MODE": "production", "SECRET_KEY": STRONG_KEY, "GREENESG_VAR_DIR": str(tmp_path)}
    result = _run(SETUP, WEBHOOK_ALLOW_HTTP="1", **env)
    assert result.returncode != 0 and "WEBHOOK_ALLOW_HTTP must be off" in result.stderr
    show = SETUP + "; from django.conf import settings as s; print(s.WEBHOOK_ALLOW_HTTP, s.WEBHOOK_ALLOWED_HOSTS)"
    result = _run(show, WEBHOOK_ALLOWED_HOSTS="hooks.slack.com, .chat.example.org", **env)
    assert result.stdout.strip() == "False ['hooks.slack.com', '.chat.example.org']"
