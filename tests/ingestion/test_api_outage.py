"""The import API while Redis is down: a cache that raises and a broker that refuses the message.

Neither may turn an upload into a 500: the throttle lets token uploads through, and a job that was created
is answered 202 and left PENDING for the reconciler to publish once the broker is back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kombu.exceptions import OperationalError

from greenesg.cache import cache_outage_reset
from ingestion.models import ImportJob, JobStatus

IMPORTS = "/api/v1/projects/acme/ml/imports"
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every cache call raises ConnectionError


@pytest.fixture
def small_file(sample_dir: Path) -> bytes:
    return b"".join((sample_dir / "emissions_codecarbon_3.3.2.csv").read_bytes().splitlines(keepends=True)[:3])


@pytest.fixture
def redis_cache_down(settings):
    settings.CACHES = {"default": {"BACKEND": "greenesg.cache.DegradingRedisCache", "LOCATION": DEAD_REDIS}}
    cache_outage_reset()
    yield
    cache_outage_reset()


def _post(client, body: bytes, token: str):
    return client.post(IMPORTS, data=body, content_type="text/csv", HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.mark.django_db(transaction=True)
def test_an_upload_is_accepted_and_imported_while_the_cache_is_down(
    client, project_token, small_file, redis_cache_down
):
    response = _post(client, small_file, project_token)

    assert response.status_code == 202, response.content
    job = ImportJob.objects.get()
    assert job.status == JobStatus.DONE, job.error_message  # eager worker; its generation bump degrades too


def test_the_throttle_fails_open_for_a_token_when_the_cache_raises(client, project_token, small_file, monkeypatch):
    from django.core.cache.backends.locmem import LocMemCache

    def broken(*args, **kwargs):
        raise OSError("cache volume unavailable")  # e.g. the file cache on a full or missing disk

    monkeypatch.setattr(LocMemCache, "get", broken)
    monkeypatch.setattr(LocMemCache, "set", broken)
    response = _post(client, small_file, project_token)

    assert response.status_code == 202, response.content
    assert ImportJob.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_created_job_is_answered_202_when_the_broker_refuses_the_message(
    client, project_token, small_file, monkeypatch, settings
):
    from ingestion.jobs import import_job_reconcile
    from ingestion.tasks import import_job_process_task

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(import_job_process_task, "delay", broker_down)
    response = _post(client, small_file, project_token)

    assert response.status_code == 202, response.content
    job = ImportJob.objects.get()
    assert response.json()["id"] == str(job.pk)
    assert job.status == JobStatus.PENDING  # nothing lost: the reconciler publishes it again

    monkeypatch.undo()
    settings.IMPORT_STALE_PENDING_SECONDS = 0
    assert import_job_reconcile() == [str(job.pk)]
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error_message
