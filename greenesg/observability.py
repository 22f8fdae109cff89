"""Logs an operator can follow and metrics a scraper can read (docs/operations.md §10).

- Every log line carries the request id (from a proxy's `X-Request-ID`, or a new one, echoed in the response)
  and, in a worker, the Celery task id and the import job id; `LOG_FORMAT=json` writes one JSON object per line.
- `/metrics` exposes Prometheus metrics: django-prometheus' request latency per view (the dashboards among
  them) plus the import jobs by kind and status, their durations and the queue lengths, read at scrape time from
  PostgreSQL and Redis so every web and worker process agrees. It answers only to the addresses in
  `METRICS_ALLOWED_IPS` or to `Authorization: Bearer <METRICS_TOKEN>`; anyone else gets a 404.
"""

from __future__ import annotations

import contextvars
import hmac
import ipaddress
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.http import Http404, HttpRequest, HttpResponse

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")
task_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("task_id", default="")
job_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("job_id", default="")

# A proxy's request id is reused only when it looks like one: it goes into every log line.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get("X-Request-ID", "")
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        # Not reset on the way out: Django logs 4xx/5xx responses after the middleware chain returns. The id is
        # cleared when the response is closed (request_finished) and replaced by the next request's.
        request_id_var.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def request_id_clear(**_: Any) -> None:
    request_id_var.set("")


request_finished.connect(request_id_clear, dispatch_uid="greenesg.observability.request_id_clear")


class ContextFilter(logging.Filter):
    """Adds request_id, task_id and job_id to every record (empty strings outside a request or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id, job_id = request_id_var.get(), job_id_var.get()
        record.request_id = request_id
        record.task_id = task_id_var.get()
        record.job_id = job_id
        # The text format shows only the ids that exist, so start-up lines stay short.
        parts = [f"{key}={value}" for key, value in (("req", request_id), ("job", job_id)) if value]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return True


def task_context_bind(task_id: str | None = None, args: Any = None, kwargs: Any = None, **_: Any) -> None:
    """Celery task_prerun: the import tasks take the job id as their first argument or as `job_id`."""
    task_id_var.set(task_id or "")
    job_id = (kwargs or {}).get("job_id") or ""
    if not job_id and args and isinstance(args[0], str) and len(args[0]) == 36:
        job_id = args[0]
    job_id_var.set(str(job_id))


def task_context_clear(**_: Any) -> None:
    task_id_var.set("")
    job_id_var.set("")


def _metrics_allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].strip(), token):
        return True
    try:
        # The scraper talks to the process directly, not through the proxy: REMOTE_ADDR is the peer.
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(net, strict=False) for net in settings.METRICS_ALLOWED_IPS)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _metrics_allowed(request):
        raise Http404
    from django_prometheus.exports import ExportToDjangoView

    metrics_register()
    return ExportToDjangoView(request)


class ImportJobsCollector:
    """Import jobs and queues as gauges, computed from the database and the broker at scrape time."""

    def collect(self) -> Iterator[Any]:
        from django.db.models import Count, F, Sum
        from prometheus_client.core import GaugeMetricFamily, SummaryMetricFamily

        from ingestion.models import ImportJob

        jobs = GaugeMetricFamily("greenesg_import_jobs", "Import jobs by kind and status.", labels=["kind", "status"])
        durations = SummaryMetricFamily(
            "greenesg_import_job_duration_seconds", "Wall time of finished import jobs.", labels=["kind", "status"]
        )
        try:
            for row in ImportJob.objects.values("kind", "status").annotate(n=Count("id")).order_by():
                jobs.add_metric([row["kind"], row["status"]], row["n"])
            finished = (
                ImportJob.objects.filter(started_at__isnull=False, finished_at__isnull=False)
                .values("kind", "status")
                .annotate(n=Count("id"), total=Sum(F("finished_at") - F("started_at")))
                .order_by()
            )
            for row in finished:
                total = row["total"].total_seconds() if row["total"] is not None else 0.0
                durations.add_metric([row["kind"], row["status"]], count_value=row["n"], sum_value=total)
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database is away
            logging.getLogger(__name__).warning("import job metrics unavailable: database not reachable")
        yield jobs
        yield durations

        queues = GaugeMetricFamily("greenesg_queue_length", "Messages waiting per Celery queue.", labels=["queue"])
        for name, length in queue_lengths().items():
            queues.add_metric([name], length)
        yield queues


def queue_lengths() -> dict[str, int]:
    """Waiting messages per queue on a Redis broker (a Redis list per queue); empty for other brokers."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return {}
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        return {name: int(client.llen(name)) for name in settings.CELERY_QUEUE_NAMES}
    except redis.RedisError:
        logging.getLogger(__name__).warning("queue metrics unavailable: broker not reachable")
        return {}


_registered = False


def metrics_register() -> None:
    """Register the collector once per process (AppConfig.ready may run more than once in tests)."""
    global _registered
    if _registered:
        return
    from prometheus_client import REGISTRY

    REGISTRY.register(ImportJobsCollector())
    _registered = True
