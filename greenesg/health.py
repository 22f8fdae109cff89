"""Liveness and readiness endpoints for load balancers, compose and Kubernetes (docs/operations.md §10).

``/healthz`` answers as long as the process serves requests and touches nothing else: a database or
Redis outage must not make an orchestrator restart healthy web processes. ``/readyz`` checks what a
request needs — the database, the broker that carries import and report jobs, and the file storage
uploads and reports are written to — and answers 503 naming the failed ones. Both are unauthenticated, so they
name the component and never the error (which could show host names); the error goes to the log.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

log = logging.getLogger(__name__)


def _database() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    from greenesg.celery import app

    # One connection attempt, no retry loop: kombu's redis transport pings Redis when the channel opens;
    # the embedded filesystem transport checks its folders.
    with app.connection_for_read() as connection:
        connection.ensure_connection(max_retries=1)
        connection.default_channel  # noqa: B018 - opening the channel is the check


def _writable(folder: Path) -> None:
    # Write and remove a probe file: a read-only or vanished (NFS) volume fails here, not on the next upload.
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".readyz-"):
        pass


def _storage() -> None:
    # MEDIA_ROOT holds report files and evidence; the "imports" storage holds uploads waiting for a worker
    # (a folder, by default under MEDIA_ROOT, or an object store).
    _writable(Path(settings.MEDIA_ROOT))
    imports = storages["imports"]
    if isinstance(imports, FileSystemStorage):
        _writable(Path(imports.location))
    else:
        imports.exists(".readyz")  # one request: the object store answers (no write, probes are frequent)


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "broker": _broker, "storage": _storage}


def readiness_check() -> dict[str, bool]:
    """Run every check; True where the component answered."""
    results: dict[str, bool] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception:  # noqa: BLE001 - any failure means "not ready"; the log keeps the reason
            log.warning("readiness: %s unavailable", name, exc_info=True)
            results[name] = False
        else:
            results[name] = True
    return results


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    results = readiness_check()
    failed = [name for name, ok in results.items() if not ok]
    body = {
        "status": "unavailable" if failed else "ready",
        "checks": {name: "ok" if ok else "failed" for name, ok in results.items()},
        "failed": failed,
    }
    return JsonResponse(body, status=503 if failed else 200)
