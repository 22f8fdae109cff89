"""Sessions are read through the cache (greenesg/accounts/sessions.py): no session query on a page, and the
cached copy lives minutes, so one that missed a logout's delete (Redis unreachable) does not outlive it long."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from greenesg.accounts import sessions

pytestmark = pytest.mark.django_db


def test_a_page_reads_the_session_from_the_cache(officer_client: Client, org) -> None:
    assert officer_client.get("/o/acme/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert officer_client.get("/o/acme/").status_code == 200
    assert not [q for q in queries.captured_queries if "django_session" in q["sql"]]


def test_the_cached_copy_lives_minutes_not_the_sessions_ten_hours(officer: User, org, monkeypatch) -> None:
    lives: list[Any] = []
    backend = type(caches["default"])  # the tests' locmem class
    real_set = backend.set

    def recording_set(self: Any, key: str, value: Any, timeout: Any = None, version: int | None = None) -> None:
        if key.startswith("django.contrib.sessions"):
            lives.append(timeout)
        real_set(self, key, value, timeout, version=version)

    monkeypatch.setattr(backend, "set", recording_set)
    client = Client()
    client.force_login(officer)  # saves the session: database, then the cache
    caches["default"].clear()
    assert client.get("/o/acme/").status_code == 200  # a miss: read from the database, cached again
    assert lives and all(0 < life <= sessions.CACHE_SECONDS for life in lives), lives


def test_logging_out_ends_the_session_for_its_cookie(officer: User, org) -> None:
    client = Client()
    client.force_login(officer)
    cookie = client.cookies.output()
    assert client.get("/o/acme/").status_code == 200
    client.post("/logout/")
    thief = Client()
    thief.cookies.load(cookie.split(": ", 1)[1])
    assert thief.get("/o/acme/").status_code == 302
