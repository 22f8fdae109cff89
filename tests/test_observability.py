"""Request ids in every log line, JSON logs, and the Prometheus endpoint (issue 13, item 10)."""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from django.test import Client

from greenesg import observability
from ingestion.models import ImportJob, JobStatus


def _json_logger(stream: io.StringIO) -> logging.Logger:
    from django.conf import settings

    config = {
        **settings.LOGGING,
        "handlers": {
            "capture": {
                "class": "logging.StreamHandler",
                "stream": stream,
                "filters": ["hide_tokens", "context"],
                "formatter": "json",
            }
        },
        "root": {"handlers": [], "level": "WARNING"},
        "loggers": {"greenesg.test": {"handlers": ["capture"], "level": "INFO", "propagate": False}},
    }
    logging.config.dictConfig(config)
    return logging.getLogger("greenesg.test")


def test_a_request_gets_an_id_that_the_response_and_its_log_lines_carry(client: Client) -> None:
    response = client.get("/login/")
    assert len(response["X-Request-ID"]) == 32
    response = client.get("/login/", HTTP_X_REQUEST_ID="edge-7f3a9c01")
    assert response["X-Request-ID"] == "edge-7f3a9c01"
    # An id that would break a log line or be unbounded is replaced, not trusted.
    response = client.get("/login/", HTTP_X_REQUEST_ID="bad id forged=1")
    assert response["X-Request-ID"] != "bad id forged=1" and len(response["X-Request-ID"]) == 32

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.addFilter(observability.ContextFilter())
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="edge-404-0001")
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 404
    assert [record.request_id for record in records] == ["edge-404-0001"]  # type: ignore[attr-defined]


def test_json_logs_carry_the_request_and_job_ids() -> None:
    stream = io.StringIO()
    log = _json_logger(stream)
    token = observability.request_id_var.set("req-12345678")
    observability.task_context_bind(task_id="t-1", args=("7f0c6a52-1f43-4d0b-9a63-4b1c2f2d9e11",))
    try:
        log.info("imported %s rows with ges_ci_abc_secretvalue", 12)
    finally:
        observability.request_id_var.reset(token)
        observability.task_context_clear()
    line = json.loads(stream.getvalue().strip())
    assert line["message"] == "imported 12 rows with ges_ci_…(hidden)"
    assert line["request_id"] == "req-12345678"
    assert line["task_id"] == "t-1"
    assert line["job_id"] == "7f0c6a52-1f43-4d0b-9a63-4b1c2f2d9e11"
    assert line["level"] == "INFO" and line["logger"] == "greenesg.test"


def test_a_job_id_keyword_is_bound_too() -> None:
    observability.task_context_bind(task_id="t-2", kwargs={"job_id": "abc"})
    assert observability.job_id_var.get() == "abc"
    observability.task_context_clear()
    assert observability.job_id_var.get() == ""


@pytest.mark.django_db
def test_metrics_show_import_jobs_queues_and_view_latency_to_loopback(client: Client, project) -> None:
    for status in (JobStatus.DONE, JobStatus.DONE, JobStatus.FAILED):
        ImportJob.objects.create(
            organisation=project.organisation,
            project=project,
            kind="codecarbon",
            origin="api",
            original_name="e.csv",
            sha256=f"{status}{ImportJob.objects.count()}".ljust(64, "0"),
            status=status,
        )
    client.get("/login/")
    response = client.get("/metrics")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'greenesg_import_jobs{kind="codecarbon",status="done"} 2.0' in body
    assert 'greenesg_import_jobs{kind="codecarbon",status="failed"} 1.0' in body
    assert "django_http_requests_latency_seconds_by_view_method" in body
    assert "greenesg_import_job_duration_seconds" in body


@pytest.mark.django_db
def test_metrics_are_hidden_from_other_addresses_unless_they_bring_the_token(client: Client, settings) -> None:
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    ok = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-secret")
    assert ok.status_code == 200


def test_queue_lengths_are_empty_without_a_redis_broker(settings) -> None:
    settings.CELERY_BROKER_URL = "filesystem://"
    assert observability.queue_lengths() == {}
