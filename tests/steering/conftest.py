"""Steering fixtures: ledger rows written directly (with their rollup), a frozen "today", a local HTTP server."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from greenesg.accounts.models import Project
from greenesg.footprint import ledger
from greenesg.footprint.models import LedgerEntry

TODAY = dt.date(2026, 11, 10)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    # Budgets are judged against "today" (UTC); freeze it instead of depending on the calendar.
    monkeypatch.setattr("steering.selectors.today_utc", lambda: TODAY)
    return TODAY


@pytest.fixture
def registry(db) -> None:
    """The seeded factor registry. A transactional test elsewhere flushes the migration's seed, so re-seed then."""
    from greenesg.footprint.factor_seed import seed_factor_sets
    from greenesg.footprint.models import EmissionFactor, EmissionFactorSet
    from greenesg.footprint.services import factor_sets_load

    if not EmissionFactor.objects.exists():
        factor_sets_load(seed_factor_sets(), set_model=EmissionFactorSet, factor_model=EmissionFactor)


def add_run(
    project: Project,
    *,
    day: dt.date,
    kg: float,
    kwh: float = 1.0,
    run_id: str | None = None,
    provider: str = "aws",
    region: str = "us-east-1",
    kg_market: float | None = None,
    job: Any = None,
    project_name: str = "",
    embodied: float = 0.0,
    in_inventory: bool = True,
) -> LedgerEntry:
    run_id = run_id or f"run-{LedgerEntry.objects.count() + 1}"
    end = dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)
    entry = LedgerEntry.objects.create(
        organisation=project.organisation,
        project=project,
        natural_key=f"cc:run:{project.pk}:{run_id}",
        source="codecarbon",
        period_start=end - dt.timedelta(hours=1),
        period_end=end,
        day=day,
        run_id=run_id,
        provider=provider,
        region=region,
        service="codecarbon",
        duration_s=3600.0,
        energy_it_kwh=kwh,
        energy_facility_kwh=kwh,
        kgco2e_location=kg,
        kgco2e_market=kg if kg_market is None else kg_market,
        kgco2e_embodied=embodied,
        scope=3,
        category="1.1",
        method="measured",
        in_inventory=in_inventory,
        import_job=job,
        attributes={"project_name": project_name} if project_name else {},
    )
    ledger.rollup_refresh(
        organisation_id=project.organisation_id, project_ids=[project.pk], first_day=day, last_day=day
    )
    return entry


@dataclass
class FakeServer:
    url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def http_server() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], tuple[int, Any]]], FakeServer]]:
    """Start a threaded HTTP server on 127.0.0.1 whose answer comes from a function of the request."""
    servers: list[ThreadingHTTPServer] = []

    def start(answer: Callable[[BaseHTTPRequestHandler], tuple[int, Any]]) -> FakeServer:
        record: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                record.append({"method": self.command, "path": self.path, "headers": headers, "body": body})
                status, payload = answer(self)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return FakeServer(url=f"http://127.0.0.1:{server.server_address[1]}", requests=record)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
