"""Access per role: officers generate and sign, auditors download signed reports, others see nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.esrs import services as report_services
from reports.models import OtherActivity, Report, ReportingSettings, ReportStatus


@pytest.fixture
def signed(acme, officer) -> Report:
    report = Report.objects.create(organisation=acme, period="2026-Q2", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    return report_services.report_sign(report=Report.objects.get(pk=report.pk), user=officer)


@pytest.fixture
def ready(acme, officer) -> Report:
    report = Report.objects.create(organisation=acme, period="2026-Q1", created_by=officer)
    report_services.report_generate(report_id=report.pk)
    return Report.objects.get(pk=report.pk)


@pytest.mark.django_db
def test_officer_generates_and_signs(acme, officer_client, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(reverse("esrs-reports", args=["acme"]), {"period": "2026-Q3"})
    report = Report.objects.get(organisation=acme, period="2026-Q3")
    assert response.status_code == 302 and response["Location"].endswith(f"/esrs/{report.pk}/")
    assert report.status == ReportStatus.READY
    page = officer_client.get(reverse("esrs-report-detail", args=["acme", report.pk]))
    assert page.status_code == 200 and b"Sign off" in page.content
    confirmation = officer_client.get(reverse("esrs-report-sign", args=["acme", report.pk]))
    assert confirmation.status_code == 200 and b"Still open" in confirmation.content
    unconfirmed = officer_client.post(reverse("esrs-report-sign", args=["acme", report.pk]))
    report.refresh_from_db()
    assert unconfirmed.status_code == 400 and report.status == ReportStatus.READY
    officer_client.post(reverse("esrs-report-sign", args=["acme", report.pk]), {"confirm": "yes"})
    report.refresh_from_db()
    assert report.status == ReportStatus.SIGNED
    download = officer_client.get(reverse("esrs-report-download", args=["acme", report.pk, "pdf"]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content.startswith(b"%PDF")


@pytest.mark.django_db
def test_a_bad_period_is_a_form_error(acme, officer_client) -> None:
    response = officer_client.post(reverse("esrs-reports", args=["acme"]), {"period": "Q3-2026"})
    assert response.status_code == 400 and b"2026-Q3" in response.content
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_auditor_downloads_signed_reports_and_lineage_only(signed, ready, auditor_client) -> None:
    listing = auditor_client.get(reverse("esrs-reports", args=["acme"]))
    assert listing.status_code == 200
    assert f"/esrs/{signed.pk}/".encode() in listing.content and f"/esrs/{ready.pk}/".encode() not in listing.content
    for fmt in ("pdf", "lineage", "ixbrl", "json", "inputs"):
        response = auditor_client.get(reverse("esrs-report-download", args=["acme", signed.pk, fmt]))
        assert response.status_code == 200, fmt
    assert auditor_client.get(reverse("esrs-report-detail", args=["acme", ready.pk])).status_code == 404
    assert auditor_client.get(reverse("esrs-report-download", args=["acme", ready.pk, "pdf"])).status_code == 404
    assert auditor_client.post(reverse("esrs-reports", args=["acme"]), {"period": "2026-Q3"}).status_code == 403
    assert auditor_client.post(reverse("esrs-report-sign", args=["acme", ready.pk])).status_code == 403
    assert auditor_client.get(reverse("esrs-settings", args=["acme"])).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["engineer_client", "outsider_client"])
def test_engineers_and_outsiders_see_nothing(signed, persona, request) -> None:
    client = request.getfixturevalue(persona)
    for url in (
        reverse("esrs-reports", args=["acme"]),
        reverse("esrs-report-detail", args=["acme", signed.pk]),
        reverse("esrs-report-download", args=["acme", signed.pk, "pdf"]),
        reverse("esrs-settings", args=["acme"]),
        reverse("esrs-settings-section", args=["acme", "other"]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("esrs-report-sign", args=["acme", signed.pk])).status_code == 404


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(signed, client) -> None:
    response = client.get(reverse("esrs-report-detail", args=["acme", signed.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db
def test_officer_edits_settings_and_adds_an_activity_with_evidence(org, officer_client, settings) -> None:
    response = officer_client.post(
        reverse("esrs-settings", args=["acme"]),
        {
            "legal_name": "Acme SE",
            "lei": "5299000J2N45DDNE4Y28",
            "currency": "EUR",
            "fiscal_year_start_month": 4,
            "consolidation_approach": "operational_control",
            "nace_code": "J62",
        },
    )
    assert response.status_code == 302
    assert ReportingSettings.objects.get(organisation=org).fiscal_year_start_month == 4
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = officer_client.post(
        reverse("esrs-settings-section", args=["acme", "other"]),
        {
            "description": "Laptops",
            "scope": 3,
            "category": "2",
            "quantity": 12,
            "unit": "unit",
            "period_start": "2026-05-01",
            "period_end": "2026-05-31",
            "stated_kgco2e": 3600,
            "stated_source": "Supplier PCF",
            "evidence_file": SimpleUploadedFile("pcf.pdf", b"%PDF pcf"),
        },
    )
    assert response.status_code == 302, response.content[:2000]
    activity = OtherActivity.objects.get(organisation=org)
    assert activity.evidence_sha256 and activity.evidence.path.startswith(str(settings.MEDIA_ROOT))
    missing = officer_client.post(
        reverse("esrs-settings-section", args=["acme", "other"]),
        {
            "description": "x",
            "scope": 3,
            "category": "6",
            "quantity": 1,
            "unit": "trip",
            "period_start": "2026-05-01",
            "period_end": "2026-05-31",
            "stated_kgco2e": 10,
            "stated_source": "y",
        },
    )
    assert missing.status_code == 400 and b"evidence" in missing.content


@pytest.mark.django_db
def test_screening_needs_a_reason_for_exclusions(org, officer_client) -> None:
    data = {"form-TOTAL_FORMS": 15, "form-INITIAL_FORMS": 15}
    for i in range(15):
        data[f"form-{i}-category"] = str(i + 1)
        data[f"form-{i}-included"] = "on" if i == 0 else ""
        data[f"form-{i}-reason"] = "" if i in (0, 4) else "Not relevant"
    response = officer_client.post(reverse("esrs-screening", args=["acme"]), data)
    assert response.status_code == 400 and b"needs a reason" in response.content
    data["form-4-reason"] = "No material waste"
    assert officer_client.post(reverse("esrs-screening", args=["acme"]), data).status_code == 302
    assert org.scope3_screening.filter(included=True).count() == 1


@pytest.mark.django_db
def test_the_web_view_links_each_e1_6_figure_to_its_ledger_rows(signed, officer_client, auditor_client) -> None:
    from bs4 import BeautifulSoup

    page = officer_client.get(reverse("esrs-report-view", args=["acme", signed.pk]))

    assert page.status_code == 200
    table = BeautifulSoup(page.content, "html.parser").select_one("#table-e1_6")
    links = [a["href"] for a in table.select("a")]
    window = signed.inputs["windows"]["N"]
    assert f"/o/acme/records/?start={window['start']}&end={window['end']}&scope=scope1" in links
    assert any("scope=scope3.cat1.1" in link for link in links)
    followed = officer_client.get(links[0])
    assert followed.status_code == 200
    assert auditor_client.get(reverse("esrs-report-view", args=["acme", signed.pk])).status_code == 200


@pytest.mark.django_db
def test_the_web_view_loads_only_static_files_that_exist(signed, officer_client) -> None:
    # The template is shared with the PDF, whose WeasyPrint resolves "favicon.svg" against the static folder; a
    # browser resolved it against the page (/o/acme/esrs/<pk>/view/favicon.svg) and logged a 404.
    from bs4 import BeautifulSoup
    from django.conf import settings
    from django.contrib.staticfiles import finders

    page = BeautifulSoup(
        officer_client.get(reverse("esrs-report-view", args=["acme", signed.pk])).content, "html.parser"
    )
    urls = [el["src"] for el in page.select("img[src], script[src]")] + [el["href"] for el in page.select("link[href]")]
    files = [url for url in urls if not url.startswith("data:")]

    assert "/static/favicon.svg" in files and "/static/js/table_scroll.js" in files
    for url in files:
        assert url.startswith(settings.STATIC_URL), url
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url
