"""A report requested while the broker refuses messages: the officer gets the page (no 500), and the reconciler
publishes the generation once the broker is back (issue 13 item 2, reports side)."""

from __future__ import annotations

import pytest
from django.test import Client
from kombu.exceptions import OperationalError

from reports.esrs import services as report_services
from reports.models import Report, ReportStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_report_requested_while_the_broker_is_down_is_created_and_published_later(
    acme, officer, monkeypatch, settings
) -> None:
    from reports.tasks import report_generate

    def broker_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    client = Client()
    client.force_login(officer)
    monkeypatch.setattr(report_generate, "delay", broker_down)
    response = client.post("/o/acme/esrs/", {"period": "2026-Q2"})
    assert response.status_code in (200, 302), response.status_code
    report = Report.objects.get()
    assert (report.status, report.stage) == (ReportStatus.DRAFT, "queued")

    monkeypatch.undo()
    settings.IMPORT_STALE_PENDING_SECONDS = 0
    assert report_services.report_queue_reconcile() == [report.pk]  # eager in tests: generated right away
    report.refresh_from_db()
    assert report.status == ReportStatus.READY, report.error_message
    assert report_services.report_queue_reconcile() == []
