"""Login lock-out per (user name, client address), the client address behind the TLS proxy, officer unlock."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from greenesg.accounts.models import AuditLog

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"
ATTACKER = "203.0.113.9"
ERIN_HOME = "198.51.100.7"
MEMBERS = "/o/acme/members/"
UNLOCK = "/o/acme/members/unlock/"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    return settings


@pytest.fixture
def behind_proxy(axes_on):
    axes_on.BEHIND_TLS_PROXY = True
    return axes_on


def _login(password: str, forwarded: str | None = None, *, remote: str = PROXY, username: str = "erin"):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post("/login/", {"username": username, "password": password}, **extra)


def _lock_erin_from(forwarded: str | None, *, remote: str = PROXY) -> None:
    for _ in range(5):
        _login("wrong", forwarded, remote=remote)


def test_behind_the_proxy_only_the_attackers_address_is_locked(behind_proxy, engineer):
    _lock_erin_from(ATTACKER)
    assert _login("pw-erin", ATTACKER).status_code == 429
    assert _login("pw-erin", ERIN_HOME).status_code == 302  # erin, from her own address, still gets in


def test_spoofed_leading_forwarded_entries_do_not_change_the_address(behind_proxy, engineer):
    # The proxy appends the address it saw; anything to the left of it was written by the client.
    _lock_erin_from(f"1.1.1.1, {ATTACKER}")
    assert _login("pw-erin", f"8.8.8.8, {ATTACKER}").status_code == 429


def test_without_the_proxy_setting_forwarded_headers_are_ignored(axes_on, engineer):
    _lock_erin_from(None, remote=ATTACKER)
    assert _login("pw-erin", ERIN_HOME, remote=ATTACKER).status_code == 429


@pytest.mark.parametrize(
    ("behind", "remote", "forwarded", "expected"),
    [
        (False, "192.0.2.1", "198.51.100.7", "192.0.2.1"),
        (True, PROXY, "198.51.100.7", "198.51.100.7"),
        (True, PROXY, "6.6.6.6, 198.51.100.7", "198.51.100.7"),
        (True, PROXY, "", PROXY),
        (True, PROXY, "not-an-address", PROXY),
        (True, PROXY, " 2001:db8::1 ", "2001:db8::1"),
    ],
)
def test_client_ip(settings, behind, remote, forwarded, expected):
    from greenesg.accounts.client_ip import client_ip

    settings.BEHIND_TLS_PROXY = behind
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_client_ip_with_two_proxies(settings):
    from greenesg.accounts.client_ip import client_ip

    settings.BEHIND_TLS_PROXY = True
    settings.TRUSTED_PROXY_COUNT = 2
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7, 10.0.0.2")
    assert client_ip(request) == "198.51.100.7"


def test_an_officer_sees_and_lifts_a_members_lockout(behind_proxy, engineer, officer_client):
    _lock_erin_from(ATTACKER)
    page = officer_client.get(MEMBERS).content.decode()
    assert "Locked out" in page and ATTACKER in page
    attempt = AccessAttempt.objects.get(username="erin")

    response = officer_client.post(UNLOCK, {"attempt": attempt.pk})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="erin").exists()
    entry = AuditLog.objects.get(action="lockout.reset")
    assert entry.before == {"username": "erin", "ip_address": ATTACKER, "failures": 5}
    assert _login("pw-erin", ATTACKER).status_code == 302


def test_only_officers_unlock(behind_proxy, engineer, auditor, auditor_client, engineer_client):
    _lock_erin_from(ATTACKER)
    attempt = AccessAttempt.objects.get(username="erin")
    assert auditor_client.post(UNLOCK, {"attempt": attempt.pk}).status_code == 403
    assert engineer_client.post(UNLOCK, {"attempt": attempt.pk}).status_code == 403
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()


def test_officers_cannot_see_or_unlock_people_outside_their_organisation(
    behind_proxy, engineer, outsider, officer_client, outsider_client
):
    _lock_erin_from(ATTACKER)
    for _ in range(5):
        _login("wrong", ATTACKER, username="oscar")
    oscar_attempt = AccessAttempt.objects.get(username="oscar")
    assert "oscar" not in officer_client.get(MEMBERS).content.decode()
    assert officer_client.post(UNLOCK, {"attempt": oscar_attempt.pk}).status_code == 404
    erin_attempt = AccessAttempt.objects.get(username="erin")
    assert outsider_client.post(UNLOCK, {"attempt": erin_attempt.pk}).status_code == 404
    assert AccessAttempt.objects.count() == 2
