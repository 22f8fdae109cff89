"""Token use is audited (when, how often, from where); repeated bad tokens from one client get 429."""

from __future__ import annotations

import pytest

from greenesg.accounts.models import ApiToken
from greenesg.accounts.services import api_token_create

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/projects/acme/ml/imports"
SUMMARY = "/api/v1/projects/acme/ml/summary"
PROXY = "10.0.0.1"


@pytest.fixture
def read_token(project, officer) -> str:
    return api_token_create(project=project, name="reader", created_by=officer, scopes={"read"}).raw


@pytest.fixture
def limits(settings):
    settings.BAD_TOKEN_LIMIT = 3
    settings.BAD_TOKEN_WINDOW_SECONDS = 300
    return settings


def _get(client, raw: str, ip: str = "192.0.2.10", **extra):
    return client.get(SUMMARY, HTTP_AUTHORIZATION=f"Bearer {raw}", REMOTE_ADDR=ip, **extra)


def test_each_use_counts_and_records_time_and_client_address(client, read_token):
    for _ in range(3):
        assert _get(client, read_token).status_code == 200
    token = ApiToken.objects.get()
    assert token.use_count == 3 and token.last_used_at is not None and token.last_used_ip == "192.0.2.10"


def test_behind_the_proxy_the_audited_address_is_the_forwarded_client(client, read_token, settings):
    settings.BEHIND_TLS_PROXY = True
    _get(client, read_token, ip=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert ApiToken.objects.get().last_used_ip == "198.51.100.7"


def test_the_tokens_page_shows_use_count_and_address(officer_client, client, read_token):
    _get(client, read_token)
    _get(client, read_token)
    page = officer_client.get("/o/acme/p/ml/tokens/").content.decode()
    assert "192.0.2.10" in page and ">2<" in page


def _error(response) -> dict:
    return response.json()["error"]


def test_repeated_bad_tokens_from_one_client_get_429_with_retry_after(client, read_token, limits):
    for _ in range(3):
        assert _get(client, "ges_ci_abc_wrong").status_code == 401
    blocked = _get(client, "ges_ci_abc_wrong")
    assert blocked.status_code == 429 and _error(blocked)["code"] == "throttled"
    assert 0 < int(blocked["Retry-After"]) <= 300
    # The block is per client address: it covers that client's good token too, but not another client.
    assert _get(client, read_token).status_code == 429
    assert _get(client, read_token, ip="192.0.2.99").status_code == 200


def test_behind_the_proxy_bad_tokens_are_counted_per_forwarded_client(client, read_token, limits):
    limits.BEHIND_TLS_PROXY = True
    for _ in range(4):
        _get(client, "ges_ci_abc_wrong", ip=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert _get(client, "ges_ci_abc_wrong", ip=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    assert _get(client, read_token, ip=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 200


def test_bad_tokens_in_the_live_url_are_limited_too(client, limits):
    record = {"run_id": "r1", "duration": 5.0}
    for _ in range(3):
        response = client.post("/api/v1/live/ges_ci_abc_wrong", data=record, content_type="application/json")
        assert response.status_code == 404
    blocked = client.post("/api/v1/live/ges_ci_abc_wrong", data=record, content_type="application/json")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0


def test_a_good_token_does_not_count_as_a_failure(client, read_token, limits):
    for _ in range(5):
        assert _get(client, read_token).status_code == 200
    assert _get(client, "ges_ci_abc_wrong").status_code == 401


class _DownCache:
    """Every call fails, as a Redis cache does when the server is unreachable."""

    def __getattr__(self, name: str):
        def down(*args, **kwargs):
            raise ConnectionError("cache unreachable")

        return down


def test_the_limiter_fails_open_when_the_cache_is_down(client, read_token, limits, monkeypatch):
    monkeypatch.setattr("greenesg.accounts.token_limits.cache", _DownCache())
    for _ in range(5):
        assert _get(client, "ges_ci_abc_wrong").status_code == 401
    # The import list touches no cache of its own, so this isolates the limiter.
    assert client.get(IMPORTS, HTTP_AUTHORIZATION=f"Bearer {read_token}").status_code == 200
