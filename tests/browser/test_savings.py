"""The efficiency advisor in a real browser: an engineer goes from a recommendation on the project page to its
evidence and marks it done; the officer sees it in the organisation's savings, largest first (issue 16)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from greenesg.accounts.models import Project
from steering.models import Recommendation, RecommendationStatus
from steering.recommendations import recommendations_refresh
from tests.steering.conftest import add_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What codecarbon records of the machine; the run pages show it.
RUN_ATTRIBUTES = {
    "cpu_model": "AMD EPYC 7763 64-Core Processor",
    "gpu_model": "",
    "cpu_count": 16,
    "gpu_count": 0,
    "ram_total_size_gb": 64.0,
    "codecarbon_version": "3.3.2",
    "os": "Linux",
    "python_version": "3.11.7",
    "tracking_mode": "machine",
}


@pytest.fixture
def idle_project(project: Project, officer, engineer) -> Project:
    for i in range(4):
        entry = add_run(project, day=dt.date(2026, 11, 1) + dt.timedelta(days=i), kg=2.0, kwh=5.0)
        entry.experiment = "nightly-etl"
        entry.attributes = {
            **RUN_ATTRIBUTES,
            "cpu_utilization_percent": 3.0,
            "cpu_energy_kwh": 4.0,
            "ram_energy_kwh": 1.0,
        }
        entry.save()
    recommendations_refresh(project=project)
    return project


def test_engineer_follows_a_recommendation_to_its_evidence_and_marks_it_done(
    open_as: Any, live_server: Any, idle_project: Project
) -> None:
    watch = open_as("erin")
    page = watch.page
    page.goto(live_server.url + reverse("project-detail", args=["acme", "ml"]))
    page.click('.page-head a:has-text("Savings")')
    card = page.locator("article.recommendation").first
    assert "runs of nightly-etl were idle" in card.inner_text()
    watch.shot("engineer-savings")
    card.locator("summary").click()
    card.locator(".evidence a").first.click()  # the evidence: a ledger record of an idle run
    page.wait_for_load_state()
    assert "/o/acme/p/ml/records/" in page.url
    watch.shot("engineer-savings-evidence")
    page.go_back()
    page.fill("article.recommendation input[name=reason]", "Jobs now start from the queue")
    page.click("article.recommendation button[value=done]")
    page.wait_for_load_state()
    assert "Marked done" in page.content()
    assert Recommendation.objects.get().status == RecommendationStatus.DONE
    watch.assert_clean()


def test_officer_sees_the_organisation_savings_at_phone_size(open_as: Any, live_server: Any, idle_project: Project):
    watch = open_as("olivia")
    page = watch.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + reverse("steering-org-recommendations", args=["acme"]))
    assert "could save" in page.inner_text("header.page-head")
    assert page.locator("article.recommendation").count() == 1
    # No sideways scrolling at phone size.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    watch.shot("officer-savings-phone")
    watch.assert_clean()
