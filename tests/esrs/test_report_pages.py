"""Report list and detail pages (issue 14 item 5): PDF first with a first-page preview, headline figures from the
stored facts, sizes in KB/MB, a fiscal period picker, month and currency selects in the settings."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from reports.esrs import periods
from reports.esrs import preview as report_preview
from reports.esrs import services as report_services
from reports.models import Report, ReportArtifact, ReportingSettings

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _generated(acme, officer, period: str = "2026-Q2") -> Report:
    report = Report.objects.create(organisation=acme, period=period, created_by=officer)
    report_services.report_generate(report_id=report.pk)
    return Report.objects.get(pk=report.pk)


@pytest.mark.django_db
def test_the_preview_is_the_first_pdf_page_as_png_served_with_its_type(acme, officer, officer_client) -> None:
    report = _generated(acme, officer)
    artifact = report.artifacts.get(format="preview")
    response = officer_client.get(reverse("esrs-report-download", args=["acme", report.pk, "preview"]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(PNG_MAGIC)
    assert hashlib.sha256(response.content).hexdigest() == artifact.sha256 == response["X-Content-SHA256"]
    assert artifact.path.endswith(f"/{report.pk}/v1/preview.png")


@pytest.mark.django_db
def test_signing_replaces_the_draft_preview_with_the_signed_first_page(acme, officer) -> None:
    report = _generated(acme, officer)
    draft = report.artifacts.get(format="preview")
    signed = report_services.report_sign(report=report, user=officer)
    preview = signed.artifacts.get(format="preview")
    assert preview.sha256 != draft.sha256 and "-signed/" in preview.path
    assert report_services.artifact_verify(preview).startswith(PNG_MAGIC)
    assert signed.manifest_sha256 == report_services.manifest_sha256(signed)


@pytest.mark.django_db
def test_without_poppler_there_is_no_preview_and_the_page_says_so(acme, officer, officer_client, monkeypatch) -> None:
    monkeypatch.setattr(report_preview.shutil, "which", lambda name: None)
    report = _generated(acme, officer)
    assert not report.artifacts.filter(format="preview").exists()
    assert report.artifacts.filter(format="pdf").exists()
    page = officer_client.get(reverse("esrs-report-detail", args=["acme", report.pk]))
    assert page.status_code == 200 and b"pdftoppm from poppler-utils is not installed" in page.content
    assert b"<img" not in page.content


@pytest.mark.django_db
def test_the_detail_page_shows_the_pdf_first_with_headline_figures_and_sizes(acme, officer, officer_client) -> None:
    report = _generated(acme, officer)
    response = officer_client.get(reverse("esrs-report-detail", args=["acme", report.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    pdf_url = reverse("esrs-report-download", args=["acme", report.pk, "pdf"])
    assert html.index(pdf_url) < html.index("Exports and evidence")
    soup = BeautifulSoup(html, "html.parser")
    img = soup.select_one("#report-preview img")
    assert img is not None and img["src"] == reverse("esrs-report-download", args=["acme", report.pk, "preview"])
    facts = report.facts["facts"]
    shown = {kpi.dt.get_text(): kpi.dd.get_text(" ", strip=True) for kpi in soup.select("#report-headline .kpi")}
    # Stored facts, at the report's 3 decimals with grouped thousands.
    location = facts["e1_6.total_location.N"]["value"]
    assert shown["Total GHG emissions, location-based"] == f"{location:,.3f} tCO2e"
    assert shown["Total GHG emissions, market-based"] == f"{facts['e1_6.total_market.N']['value']:,.3f} tCO2e"
    assert shown["Total energy consumption"] == f"{facts['e1_5.total.N']['value']:,.3f} MWh"
    # Sizes are human-readable, the exact byte count is the cell's title.
    pdf = report.artifacts.get(format="pdf")
    assert f"{pdf.size / 1024:.1f}\xa0KB" in html or f"{pdf.size / 1024**2:.1f}\xa0MB" in html
    inputs = report.artifacts.get(format="inputs")
    cell = soup.find("td", attrs={"title": f"{inputs.size} bytes"})
    assert cell is not None and cell.get_text().endswith(("bytes", "KB", "MB"))
    assert b"Size (bytes)" not in response.content


@pytest.mark.django_db
def test_a_report_without_facts_shows_no_headline(acme, officer, officer_client) -> None:
    report = Report.objects.create(organisation=acme, period="2026-Q3", created_by=officer)  # queued, not generated
    response = officer_client.get(reverse("esrs-report-detail", args=["acme", report.pk]))
    assert response.status_code == 200 and b'id="report-headline"' not in response.content


@pytest.mark.django_db
def test_the_preview_is_scoped_like_every_document(acme, officer, client, outsider_client, engineer_client) -> None:
    report = _generated(acme, officer)
    url = reverse("esrs-report-download", args=["acme", report.pk, "preview"])
    assert outsider_client.get(url).status_code == 404
    assert engineer_client.get(url).status_code == 404
    anonymous = client.get(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]


# ------------------------------------------------------------------------------------------ period picker


def test_the_picker_offers_fiscal_quarters_ytd_and_years_newest_first() -> None:
    groups = periods.period_choices(dt.date(2026, 12, 3), fiscal_start_month=4)
    assert [title for title, _ in groups] == ["Fiscal year 2026", "Fiscal year 2025", "Fiscal year 2024"]
    assert groups[0][1] == [
        ("2026", "Fiscal year 2026: Apr 2026 – Mar 2027 (in progress)"),
        ("2026-YTD", "Year to date 2026 (Q1–Q2): Apr–Sep 2026"),
        ("2026-Q3", "Q3 2026: Oct–Dec 2026 (in progress)"),
        ("2026-Q2", "Q2 2026: Jul–Sep 2026"),
        ("2026-Q1", "Q1 2026: Apr–Jun 2026"),
    ]
    # A complete year has no separate YTD (it would equal the year); its Q4 runs into the next calendar year.
    assert [value for value, _ in groups[1][1]] == ["2025", "2025-Q4", "2025-Q3", "2025-Q2", "2025-Q1"]
    assert ("2025-Q4", "Q4 2025: Jan–Mar 2026") in groups[1][1]


def test_every_offered_period_parses_back_to_the_same_period() -> None:
    today = dt.date(2026, 5, 20)
    for _, options in periods.period_choices(today, fiscal_start_month=7):
        for value, _label in options:
            assert periods.period_parse(value, fiscal_start_month=7, today=today).key == value


@pytest.mark.django_db
def test_the_report_list_offers_the_organisations_fiscal_periods(acme, officer_client) -> None:
    ReportingSettings.objects.filter(organisation=acme).update(fiscal_year_start_month=4)
    response = officer_client.get(reverse("esrs-reports", args=["acme"]))
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    select = soup.find("select", attrs={"name": "period"})
    assert select is not None
    today = dt.datetime.now(dt.UTC).date()
    fiscal_year = today.year if today.month >= 4 else today.year - 1
    groups = [group["label"] for group in select.find_all("optgroup")]
    assert groups[0] == f"Fiscal year {fiscal_year}"
    first_quarter = select.find("option", attrs={"value": f"{fiscal_year}-Q1"})
    assert first_quarter is not None and first_quarter.get_text().startswith(f"Q1 {fiscal_year}: Apr–Jun {fiscal_year}")
    closed_year, closed_quarter = periods.last_closed_quarter(today, fiscal_start_month=4)
    selected = select.find("option", selected=True)
    assert selected is not None and selected["value"] == f"{closed_year}-Q{closed_quarter}"


@pytest.mark.django_db
def test_the_server_still_validates_the_period(acme, officer_client) -> None:
    response = officer_client.post(reverse("esrs-reports", args=["acme"]), {"period": "2026-Q9"})
    assert response.status_code == 400 and not Report.objects.exists()
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find(attrs={"role": "alert"}) is not None


@pytest.mark.django_db
def test_a_period_from_the_picker_creates_the_report(acme, officer_client, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        response = officer_client.post(reverse("esrs-reports", args=["acme"]), {"period": "2025-Q4"})
    report = Report.objects.get(organisation=acme)
    assert response.status_code == 302 and report.period == "2025-Q4"


# ------------------------------------------------------------------------------------------ settings


SETTINGS = {
    "legal_name": "Acme SE",
    "lei": "",
    "currency": "CHF",
    "fiscal_year_start_month": "4",
    "consolidation_approach": "operational_control",
    "nace_code": "J62",
}


@pytest.mark.django_db
def test_settings_offer_month_names_and_currencies(org, officer_client) -> None:
    response = officer_client.get(reverse("esrs-settings", args=["acme"]))
    soup = BeautifulSoup(response.content, "html.parser")
    months = soup.find("select", attrs={"name": "fiscal_year_start_month"})
    assert [(o["value"], o.get_text()) for o in months.find_all("option")][3] == ("4", "April")
    assert len(months.find_all("option")) == 12
    currency = soup.find("select", attrs={"name": "currency"})
    assert currency.find("option", selected=True)["value"] == "EUR"
    saved = officer_client.post(reverse("esrs-settings", args=["acme"]), SETTINGS)
    assert saved.status_code == 302
    stored = ReportingSettings.objects.get(organisation=org)
    assert (stored.fiscal_year_start_month, stored.currency) == (4, "CHF")


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("fiscal_year_start_month", "13"), ("currency", "XYZ")])
def test_settings_refuse_values_outside_the_choices(org, officer_client, field, value) -> None:
    response = officer_client.post(reverse("esrs-settings", args=["acme"]), {**SETTINGS, field: value})
    assert response.status_code == 400 and not ReportingSettings.objects.exists()
    soup = BeautifulSoup(response.content, "html.parser")
    box = soup.find(attrs={"name": field}).find_parent(class_="field")
    assert "invalid" in box["class"] and box.find(attrs={"role": "alert"}) is not None


@pytest.mark.django_db
def test_a_stored_currency_outside_the_list_stays_selectable(org, officer_client) -> None:
    ReportingSettings.objects.create(organisation=org, legal_name="Acme SE", nace_code="J62", currency="BRL")
    response = officer_client.get(reverse("esrs-settings", args=["acme"]))
    soup = BeautifulSoup(response.content, "html.parser")
    assert soup.find("select", attrs={"name": "currency"}).find("option", selected=True)["value"] == "BRL"
    assert (
        officer_client.post(reverse("esrs-settings", args=["acme"]), {**SETTINGS, "currency": "BRL"}).status_code == 302
    )


@pytest.mark.django_db
def test_preview_artifacts_keep_the_artifact_table_valid(acme, officer) -> None:
    report = _generated(acme, officer)
    assert ReportArtifact.objects.filter(report=report, format="preview").count() == 1
    report_services.report_generate(report_id=report.pk)  # a second delivery adds nothing
    assert ReportArtifact.objects.filter(report=report, format="preview").count() == 1
