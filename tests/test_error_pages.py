"""Styled 403/404/500 pages with navigation; 403 says why; each client error is one log line (issue 14 item 14)."""

from __future__ import annotations

import logging

import pytest
from bs4 import BeautifulSoup
from django.test import RequestFactory
from django.urls import reverse

from greenesg import views


def _page(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


@pytest.mark.django_db
def test_a_missing_page_is_the_styled_404_with_navigation(officer_client):
    response = officer_client.get("/no-such-page/")
    page = _page(response)
    assert response.status_code == 404
    assert page.find("link", rel="stylesheet")["href"].endswith("css/app.css")
    assert page.select_one("header.topbar a.brand")["href"] == reverse("home")
    assert page.select_one("header nav a[href='/api/v1/docs/']") and page.select_one("main a[href='/']")
    assert "Not found" in page.h1.text


@pytest.mark.django_db
def test_anonymous_visitors_get_the_styled_404_too(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and _page(response).select_one("header.topbar a.brand")


@pytest.mark.django_db
def test_a_403_says_why_on_the_styled_page(auditor_client):
    response = auditor_client.get(reverse("esrs-settings", args=["acme"]))
    page = _page(response)
    assert response.status_code == 403
    assert page.select_one("header.topbar a.brand") and "Not allowed" in page.h1.text
    assert (
        page.select_one("#reason").text.strip()
        == "Only officers enter report settings and generate or sign reports; auditors read them."
    )


@pytest.mark.django_db
def test_a_403_without_a_reason_still_explains(auditor):
    response = views.permission_denied(RequestFactory().get("/o/acme/x/"), exception=None)
    assert response.status_code == 403 and b"Your role does not allow this" in response.content


@pytest.mark.django_db
def test_api_paths_keep_the_json_error_shape(officer_client):
    response = officer_client.get("/api/v1/no-such-endpoint")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_the_500_page_needs_no_database_and_no_context():
    # No django_db mark: any query would fail the test (the DB may be what is down).
    response = views.server_error(RequestFactory().get("/o/acme/"))
    page = _page(response)
    assert response.status_code == 500
    assert page.find("link", rel="stylesheet")["href"].endswith("css/app.css")
    assert page.select_one("a.brand")["href"] == "/" and "Server error" in page.h1.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "url", "status"),
    [("officer_client", "/no-such-page/", 404), ("auditor_client", "/o/acme/esrs/settings/", 403)],
)
def test_each_client_error_is_logged_once_without_a_traceback(request, caplog, persona, url, status):
    client = request.getfixturevalue(persona)
    with caplog.at_level(logging.INFO):
        assert client.get(url).status_code == status
    records = [r for r in caplog.records if r.name.startswith("django")]
    assert len(records) == 1, records
    assert records[0].name == "django.request" and records[0].levelno == logging.WARNING
    assert url in records[0].getMessage() and records[0].exc_info is None and records[0].exc_text is None


def test_server_errors_keep_their_traceback():
    from greenesg.logging import ClientErrorsWithoutTraceback

    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        exc_info = sys.exc_info()
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), exc_info)
    record.status_code = 500
    assert ClientErrorsWithoutTraceback().filter(record) and record.exc_info == exc_info


def test_the_development_server_does_not_repeat_client_errors():
    # django.request has logged the 403/404 with its path; the request line would say it a second time.
    server = logging.getLogger("django.server")

    def line(status: int) -> logging.LogRecord:
        record = logging.LogRecord(
            "django.server", logging.WARNING, __file__, 1, '"GET /x HTTP/1.1" %s', (status,), None
        )
        record.status_code = status
        return record

    assert not server.filter(line(404)) and not server.filter(line(403))
    assert server.filter(line(200)) and server.filter(line(500))


@pytest.mark.django_db
def test_a_failed_csrf_check_is_the_styled_page_with_advice(caplog):
    from django.test import Client

    with caplog.at_level(logging.INFO):
        response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x", "password": "y"})
    page = _page(response)
    assert response.status_code == 403 and page.select_one("header.topbar a.brand")
    assert "Reload the page and send the form again." in page.select_one("#reason").text
    records = [r for r in caplog.records if r.name.startswith("django")]
    assert len(records) == 1 and records[0].exc_info is None
