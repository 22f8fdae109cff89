"""Redis goes away in the middle of an import and comes back: the worker must reconnect on its own.

The worker runs the way production runs it (gossip, mingle, embedded beat with the reconciler) against
a Redis of its own on another port, which the test kills with SIGKILL and starts again. Both the
interrupted import and an upload made after the outage must finish without anyone restarting anything.
"""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from greenesg.accounts.models import Organisation, Project
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.codecarbon.synthetic import generate_csv
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob, JobStatus
from tests.integration.conftest import REPO, wait_for, worker_env

pytestmark = pytest.mark.integration

REDIS_PORT = 6390


class OwnRedis:
    """A throw-away redis-server with append-only persistence, as compose.yaml runs it."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=10, what=f"redis-server on port {self.port}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)  # a crash, not a clean shutdown
        self.proc.wait(timeout=10)

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture
def own_redis(real_services, tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("needs the redis-server binary to run a Redis the test may kill")
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", REDIS_PORT)) == 0:
            pytest.skip(f"port {REDIS_PORT} is taken; the test needs a Redis of its own there")
    (tmp_path / "redis").mkdir()
    server = OwnRedis(tmp_path / "redis", REDIS_PORT)
    server.start()

    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.proc.terminate()
        server.proc.wait(timeout=10)


@pytest.fixture
def production_worker(own_redis: OwnRedis, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start(**extra: str) -> subprocess.Popen:
        log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 - closed with the process
        # The flags of tools/run.sh and compose.yaml: gossip, mingle and the embedded beat stay on.
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "greenesg",
                "worker",
                "-Q",
                "ingest",
                "-B",
                "--schedule",
                str(tmp_path / "celerybeat-schedule"),
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
            ],
            cwd=REPO,
            env=worker_env(CELERY_BROKER_URL=own_redis.url, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _submit(project: Project, content: bytes, broker_url: str) -> ImportJob:
    """Create the job as an upload does and publish its message to the worker's own Redis."""
    from kombu import Connection

    from ingestion.tasks import import_job_process_task

    stored = storage.store_chunks([content])
    job = import_job_submit(
        project=project, kind="codecarbon", origin="api", stored=stored, original_name="emissions.csv", enqueue=False
    ).job
    with Connection(broker_url) as connection:
        import_job_process_task.apply_async(args=[str(job.pk)], connection=connection)
    return job


def _finished(job_id: object) -> bool:
    return ImportJob.objects.get(pk=job_id).is_finished


def test_the_worker_survives_a_redis_crash_mid_import_and_both_imports_finish(
    own_redis: OwnRedis, production_worker, tmp_path: Path
) -> None:
    marker = tmp_path / "barrier"
    marker.write_text("hold")
    worker = production_worker(IMPORT_TEST_BARRIER=f"1:{marker}", IMPORT_LEASE_SECONDS="3")
    org = Organisation.objects.create(slug="outage", name="Outage test")
    first_project = Project.objects.create(organisation=org, slug="first", name="First")
    first = _submit(first_project, generate_csv(runs=40, start=dt.datetime(2026, 3, 1), days=5), own_redis.url)

    pid_file = Path(str(marker) + ".pid")
    wait_for(pid_file.exists, timeout=60, what="the worker to be in the middle of the first import")
    own_redis.kill()
    time.sleep(2)  # the worker notices the lost connection while Redis is down
    pid_file.unlink()
    marker.unlink()
    own_redis.start()
    time.sleep(3)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert worker.poll() is None, f"the worker exited after the broker connection was lost:\n{log[-3000:]}"

    second_project = Project.objects.create(organisation=org, slug="second", name="Second")
    second = _submit(second_project, generate_csv(runs=25, start=dt.datetime(2026, 4, 1), days=5), own_redis.url)

    # The second import arrives through the reconnected consumer; the first one is re-published by the
    # reconciler (beat, every minute) once its lease has expired, or redelivered by Redis.
    try:
        wait_for(lambda: _finished(second.pk), timeout=60, what="the upload made after the outage")
        wait_for(lambda: _finished(first.pk), timeout=100, what="the import interrupted by the outage")
    except AssertionError as exc:
        log = (tmp_path / "worker.log").read_text(errors="replace")
        raise AssertionError(f"{exc}; worker alive: {worker.poll() is None}; log:\n{log[-4000:]}") from None
    for job, project, runs in ((first, first_project, 40), (second, second_project, 25)):
        job.refresh_from_db()
        assert job.status == JobStatus.DONE, job.error_message
        assert LedgerEntry.objects.filter(project=project).count() == runs
    assert worker.poll() is None
