"""/healthz (liveness, no I/O) and /readyz (database, broker, storage; 503 naming what failed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import OperationalError


def test_healthz_answers_anonymously_without_touching_anything(client, monkeypatch) -> None:
    # No django_db mark: pytest-django fails any database access; the readiness checks must not run either.
    from greenesg import health

    def must_not_run() -> None:
        raise AssertionError("liveness must not check dependencies")

    monkeypatch.setattr(health, "CHECKS", dict.fromkeys(health.CHECKS, must_not_run))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_is_ready_when_database_broker_and_storage_answer(client, settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "storage": "ok"},
        "failed": [],
    }
    assert list(tmp_path.iterdir()) == []  # the probe file is gone


@pytest.mark.django_db
def test_readyz_names_a_database_that_does_not_answer(client, monkeypatch, settings, tmp_path: Path) -> None:
    from django.db.backends.base.base import BaseDatabaseWrapper

    settings.MEDIA_ROOT = tmp_path

    def refused(self):
        raise OperationalError("could not connect to server: Connection refused (db.internal:5432)")

    monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refused)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["database"]
    assert b"db.internal" not in response.content  # the reason goes to the log, not to anonymous callers


@pytest.mark.django_db
def test_readyz_names_a_broker_that_does_not_answer(client, settings, tmp_path: Path, monkeypatch) -> None:
    from greenesg.celery import app

    settings.MEDIA_ROOT = tmp_path
    previous = app.conf.broker_url
    # Celery reads CELERY_BROKER_URL from the environment before its configuration (CI sets it): change both.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    try:
        response = client.get("/readyz")
    finally:
        app.conf.broker_url = previous
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "failed", "storage": "ok"}


@pytest.mark.django_db
def test_readyz_names_storage_that_cannot_be_written(client, settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "unmounted-volume"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and response.json()["failed"] == ["storage"]


def test_the_probes_refuse_writes(client) -> None:
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_production_does_not_redirect_the_probes_to_https(tmp_path: Path) -> None:
    from tests.test_settings import SETUP, STRONG_KEY, _run

    code = SETUP + (
        "; from django.test import Client; c = Client(SERVER_NAME='localhost');"
        " print(c.get('/healthz').status_code, c.get('/readyz').status_code, c.get('/login/').status_code)"
    )
    result = _run(
        code,
        GREENESG_MODE="production",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="localhost",
        GREENESG_VAR_DIR=str(tmp_path),
        MEDIA_ROOT=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    healthz, readyz, login = result.stdout.split()[-3:]
    assert healthz == "200" and login == "301"
    assert readyz in {"200", "503"}  # not redirected; the fresh SQLite file has no tables, which is fine here


@pytest.mark.django_db
def test_readyz_checks_the_imports_storage_when_it_has_a_volume_of_its_own(client, settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "imports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "shared-imports-volume-not-mounted")},
        },
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failed"] == ["storage"]
