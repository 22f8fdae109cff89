"""Hostile API inputs answer 400/411/413 in the one error shape, never a server error (issue 10 item 5)."""

from __future__ import annotations

import json

import pytest

from greenesg.accounts import models
from greenesg.accounts.services import api_token_create

pytestmark = pytest.mark.django_db

RUNS = "/api/v1/projects/acme/ml/runs"
SUMMARY = "/api/v1/projects/acme/ml/summary"
IMPORTS = "/api/v1/projects/acme/ml/imports"


@pytest.fixture
def full_token(project, officer) -> str:
    """A token with every scope there is, so these tests reach the parameter checks."""
    new = api_token_create(project=project, name="all scopes", created_by=officer)
    if hasattr(new.token, "scopes"):
        new.token.scopes = [value for value, _ in models.TokenScope.choices]
        new.token.save(update_fields=["scopes"])
    return new.raw


@pytest.fixture
def api(client, full_token):
    client.raise_request_exception = False
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {full_token}"
    return client


def _error(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"])
    return body["error"]


@pytest.mark.parametrize("url", [RUNS, SUMMARY])
@pytest.mark.parametrize(
    "query",
    ["start=9999-12-31", "end=9999-12-31", "start=0001-01-01", "start=", "end=", "start=2026-13-01", "start=%00"],
)
def test_it_rejects_bad_dates_with_a_400(api, url, query):
    _error(api.get(f"{url}?{query}"), 400)


@pytest.mark.parametrize(
    "query", ["page_size=null", "page_size=0", "page_size=-1", "page_size=501", "page=0", "page=x"]
)
def test_it_rejects_bad_paging_with_a_400(api, query):
    _error(api.get(f"{RUNS}?{query}"), 400)


@pytest.mark.parametrize("page", ["99999999999999999999999999999", "9" * 400])
def test_a_page_past_the_end_is_a_404(api, page):
    _error(api.get(f"{IMPORTS}?page={page}"), 404)


@pytest.mark.parametrize("candidates", ["eu-north-1%00", "%00", "a,%00b"])
def test_region_candidates_with_nul_are_a_400(api, candidates):
    _error(api.get(f"/api/v1/advice/regions?provider=aws&candidates={candidates}&live=false"), 400)


def test_an_empty_candidates_list_is_a_400_the_schema_declares(api):
    _error(api.get("/api/v1/advice/regions?provider=aws&candidates=&live=false"), 400)


@pytest.mark.parametrize("duration", ["9" * 401, "-" + "9" * 401, "1e400", "1" + "0" * 30])
def test_a_live_record_with_an_absurd_number_is_a_400(client, full_token, duration):
    client.raise_request_exception = False
    body = '{"run_id": "r1", "duration": %s, "energy_consumed": 0.1}' % duration  # noqa: UP031 - raw JSON number
    response = client.post(f"/api/v1/live/{full_token}", body, content_type="application/json")
    error = _error(response, 400)
    assert "number" in error["message"]


def test_a_live_record_with_a_normal_number_is_accepted(client, full_token):
    body = json.dumps({"run_id": "r1", "duration": 12.5, "energy_consumed": 0.1})
    response = client.post(f"/api/v1/live/{full_token}", body, content_type="application/json")
    assert response.status_code == 201


def test_a_chunked_upload_is_a_411(api):
    body = b"timestamp,run_id\n2026-01-01T00:00:00,r1\n"
    response = api.generic(
        "POST", IMPORTS, body, content_type="text/csv", HTTP_TRANSFER_ENCODING="chunked", CONTENT_LENGTH=""
    )
    error = _error(response, 411)
    assert "Content-Length" in error["message"]


@pytest.mark.parametrize("body", ['{"run_id": "a\\u0000b", "duration": 1}', '{"a\\u0000": 1}'])
def test_a_live_record_with_nul_is_a_400(client, full_token, body):
    # PostgreSQL's jsonb refuses \u0000, so such a record cannot even be queued.
    client.raise_request_exception = False
    response = client.post(f"/api/v1/live/{full_token}", body, content_type="application/json")
    _error(response, 400)
