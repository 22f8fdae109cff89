"""Integration tests need the real services: PostgreSQL, Redis and a Celery worker subprocess.

On a newcomer's machine (SQLite, embedded broker) they skip with the reason; on CI
(GREENESG_REQUIRE_SERVICES=1) a missing service is a failure, not a skip.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


def _missing_services() -> str | None:
    if connection.vendor != "postgresql":
        return "needs PostgreSQL (set DATABASE_URL=postgres://…); the embedded default is SQLite"
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        return "needs Redis (set CELERY_BROKER_URL=redis://…); the embedded default is a filesystem broker"
    try:
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no usable Redis"
        return f"Redis at {settings.CELERY_BROKER_URL} is not reachable: {exc}"
    return None


@pytest.fixture
def real_services(transactional_db) -> None:
    reason = _missing_services()
    if reason:
        if os.environ.get("GREENESG_REQUIRE_SERVICES") == "1":
            pytest.fail(f"GREENESG_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    from greenesg.celery import app

    app.conf.task_always_eager = False
    import redis

    # A clean queue per test: leftovers of an earlier run must not be delivered to this worker.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()


def worker_env(**extra: str) -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    env.update(extra)
    return env


@pytest.fixture
def start_worker(real_services, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start(cwd: Path = REPO, **extra: str) -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(started)}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "greenesg",
                "worker",
                "-P",
                "prefork",
                "-c",
                "1",
                "--prefetch-multiplier",
                "1",
                "--without-mingle",
                "--without-gossip",
                "-Q",
                "ingest",
                "--loglevel",
                "INFO",
            ],
            cwd=cwd,
            env=worker_env(PYTHONPATH=str(REPO), **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
