"""Dashboard bodies are rendered once per import and reader scope, and never outlive the data."""

from __future__ import annotations

from unittest import mock

import pytest
from django.test import Client

from greenesg.footprint.ledger import _generation_key
from reports.dashboards import views

pytestmark = pytest.mark.django_db


def _bump(org) -> None:
    from django.core.cache import cache

    cache.set(_generation_key(org.pk), cache.get(_generation_key(org.pk), 0) + 1, timeout=None)


def test_the_overview_body_is_built_once_until_the_next_import(
    officer_client: Client, auditor_client: Client, engineer_client: Client, ledger, org
) -> None:
    with mock.patch.object(views, "_overview_parts", wraps=views._overview_parts) as parts:
        first = officer_client.get("/o/acme/")
        second = officer_client.get("/o/acme/")
        assert first.status_code == second.status_code == 200
        assert parts.call_count == 1
        assert first.content.count(b"tCO2e") == second.content.count(b"tCO2e")
        engineer_client.get("/o/acme/")  # another scope (their projects only): its own body
        assert parts.call_count == 2
        auditor_client.get("/o/acme/")  # another role, whole organisation: its own body too
        assert parts.call_count == 3
        _bump(org)  # an import committed: every cached body is stale at once
        officer_client.get("/o/acme/")
        assert parts.call_count == 4


def test_a_cached_body_keeps_no_csrf_token_of_another_user(officer_client: Client, ledger) -> None:
    body = officer_client.get("/o/acme/").content
    assert b"csrfmiddlewaretoken" not in body.split(b"<main", 1)[1].split(b"</main>", 1)[0]
