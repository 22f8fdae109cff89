"""Dashboards while the Redis cache is down: the page is computed instead of cached, never a 500."""

from __future__ import annotations

import pytest
from django.urls import reverse

from greenesg.cache import cache_outage_reset

from .test_views import ORG_TOTALS, _kpis

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every cache call raises ConnectionError


@pytest.fixture
def redis_cache_down(settings):
    settings.CACHES = {"default": {"BACKEND": "greenesg.cache.DegradingRedisCache", "LOCATION": DEAD_REDIS}}
    cache_outage_reset()
    yield
    cache_outage_reset()


def test_the_overview_is_computed_while_the_cache_is_down(ledger, officer_client, redis_cache_down):
    response = officer_client.get(reverse("org-overview", args=["acme"]))

    assert response.status_code == 200
    assert _kpis(response) == pytest.approx(ORG_TOTALS)


def test_the_project_page_and_its_api_answer_while_the_cache_is_down(
    ledger, officer_client, project_token, client, redis_cache_down
):
    assert officer_client.get(reverse("project-detail", args=["acme", "ml"])).status_code == 200
    url = reverse("api-project-summary", args=["acme", "ml"])
    response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {project_token}")
    assert response.status_code == 200, response.content


def test_an_outsider_still_gets_404_while_the_cache_is_down(ledger, outsider_client, redis_cache_down):
    assert outsider_client.get(reverse("org-overview", args=["acme"])).status_code == 404
