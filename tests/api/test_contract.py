"""API contract: schemathesis generates requests from /api/v1/schema/ and runs every check on the answers.

Each operation is exercised with the credential it is meant for: a project token for the CI routes, an
officer's session (with its CSRF token) for the routes that refuse tokens. Path slugs point at the
fixture project, so requests reach the views instead of stopping at a 404. The seed is fixed and the
example count bounded so that the run stays within a minute or two on a small CI machine.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from greenesg.accounts import models
from greenesg.accounts.models import Project
from greenesg.accounts.services import api_token_create
from greenesg.wsgi import application

MAX_EXAMPLES = 12
CSRF_SECRET = "contract" * 4  # 32 characters, the length of an unmasked CSRF secret
# Routes that answer 403 to any project token by design (organisation data, budgets, project reads of ESG data).
SESSION_ONLY = ("/api/v1/esg/", "/esg-scorecard", "/accessibility-reports", "/model-reviews")
SESSION_ONLY_METHODS = {("/budget", "PUT")}
# File uploads: a generated body is random bytes under a random name, never a codecarbon or billing file,
# so "schema-valid → accepted" cannot hold there (their content rules are tested in tests/ingestion).
UPLOADS = {
    ("/api/v1/projects/{org_slug}/{project_slug}/imports", "POST"),
    ("/api/v1/orgs/{org_slug}/billing/imports", "POST"),
}


def _session(user: Any) -> dict[str, str]:
    """A logged-in session as the browser holds it: session cookie and CSRF cookie."""
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return {django_settings.SESSION_COOKIE_NAME: store.session_key, django_settings.CSRF_COOKIE_NAME: CSRF_SECRET}


# The slugs of the `org` and `project` fixtures of tests/conftest.py.
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261203,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "checks": {"enabled": True},
        "parameters": {"path.org_slug": "acme", "path.project_slug": "ml"},
    }
)


@pytest.fixture
def full_token(project: Project, officer: Any) -> str:
    """A token with every scope: the scope checks are covered elsewhere, this run is about the contract."""
    new = api_token_create(project=project, name="contract", created_by=officer)
    if hasattr(new.token, "scopes"):
        new.token.scopes = [value for value, _ in models.TokenScope.choices]
        new.token.save(update_fields=["scopes"])
    return new.raw


@pytest.fixture
def _keep_test_connection() -> Any:
    """Requests go through the real WSGI handler, whose request_finished signal closes a connection not
    in autocommit: that is the test's transaction on PostgreSQL. Django's test Client detaches the
    same handler; do as it does for the length of the test."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def session_cookies(officer: Any) -> dict[str, str]:
    return _session(officer)


# Loaded at collection: the schema is generated from the URLconf and needs no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, config=CONFIG)


def _credential_for(path: str, method: str) -> str:
    if path.startswith("/api/v1/live/"):
        return "none"  # the token is the path segment
    if any(part in path for part in SESSION_ONLY):
        return "session"
    if any(path.endswith(suffix) and method == verb for suffix, verb in SESSION_ONLY_METHODS):
        return "session"
    return "token"


@schema.parametrize()
@hypothesis_settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@pytest.mark.usefixtures("_keep_test_connection")
def test_api_conforms_to_its_schema(case: Any, full_token: str, session_cookies: dict) -> None:
    if "token" in (case.path_parameters or {}):
        case.path_parameters["token"] = full_token
    kind = _credential_for(case.operation.path, case.method.upper())
    headers: dict[str, str] = {}
    if case.cookies:
        case.cookies.pop(django_settings.SESSION_COOKIE_NAME, None)  # a generated value, never a real session
    if kind == "session":
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in session_cookies.items())
        headers["X-CSRFToken"] = CSRF_SECRET
    elif kind == "token":
        headers["Authorization"] = f"Bearer {full_token}"
    if kind != "token" and case.headers:
        case.headers.pop("Authorization", None)  # a generated bearer value would hide the session
    upload = (case.operation.path, case.method.upper()) in UPLOADS
    case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance] if upload else None)
