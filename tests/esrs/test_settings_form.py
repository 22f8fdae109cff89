"""The settings form shows what is stored, and a report generated after saving uses it (issue 14 item 3).

The defect: with nothing stored, the form was filled from an unsaved object (legal name = the organisation's
display name, NACE = the model default J62), so the page looked configured while every report said
"Reporting settings have not been entered".
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from reports.esrs import services as report_services
from reports.models import Report, ReportingSettings

URL = reverse("esrs-settings", args=["acme"])
VALID = {
    "legal_name": "Acme Software SE",
    "lei": "5299000J2N45DDNE4Y28",
    "currency": "EUR",
    "fiscal_year_start_month": "1",
    "consolidation_approach": "operational_control",
    "nace_code": "J62.01",
}


def _value(page: bytes, name: str) -> str | None:
    field = BeautifulSoup(page, "html.parser").find("input", attrs={"name": name})
    return field.get("value") if field else None


@pytest.mark.django_db
def test_with_nothing_stored_the_form_shows_no_legal_name_or_nace(org, officer_client) -> None:
    page = officer_client.get(URL)
    assert page.status_code == 200
    assert not _value(page.content, "legal_name") and not _value(page.content, "nace_code")
    assert b"not been saved yet" in page.content


@pytest.mark.django_db
def test_the_form_shows_the_stored_settings(org, officer_client) -> None:
    ReportingSettings.objects.create(organisation=org, legal_name="Acme Holding AG", nace_code="J63")
    page = officer_client.get(URL)
    assert _value(page.content, "legal_name") == "Acme Holding AG" and _value(page.content, "nace_code") == "J63"
    assert b"not been saved yet" not in page.content


@pytest.mark.django_db
def test_a_report_generated_after_saving_uses_the_saved_settings(org, officer, officer_client) -> None:
    response = officer_client.post(URL, VALID)
    assert response.status_code == 302
    report = Report.objects.create(organisation=org, period="2026-Q2", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    stored = Report.objects.get(pk=report.pk).inputs["organisation"]
    assert stored["configured"] is True
    assert (stored["legal_name"], stored["nace"], stored["lei"]) == ("Acme Software SE", "J62.01", VALID["lei"])
    html = report_services.report_web_html(report=Report.objects.get(pk=report.pk), records_url="/")
    assert "Acme Software SE" in html and "have not been entered" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("missing", ["legal_name", "nace_code"])
def test_saving_needs_a_legal_name_and_a_nace_code(org, officer_client, missing) -> None:
    response = officer_client.post(URL, {**VALID, missing: ""})
    assert response.status_code == 400 and b"This field is required" in response.content
    assert not ReportingSettings.objects.exists()


@pytest.mark.django_db
def test_outsiders_and_anonymous_cannot_reach_the_form(org, outsider_client, client) -> None:
    assert outsider_client.get(URL).status_code == 404
    assert client.get(URL).status_code == 302
