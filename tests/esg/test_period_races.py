"""Period close races (issue 13, item 4): closes and submissions serialise on the period row.

The concurrency tests run two threads, each with its own PostgreSQL connection. A barrier holds each
operation between its check and its write, which is where the unlocked code interleaved: without the lock
both threads reach the barrier and both write; with it, one waits on the row lock, the barrier times out,
and the waiting thread checks the state after the other has committed. On SQLite (one writer at a time,
no row locks to test) they skip. The 409 answers are tested on any database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from esg import services
from esg.models import MetricValue, PeriodStatus, ReportingPeriod, ValueStatus
from esg.periods import period_parse
from greenesg.accounts.models import AuditLog, Organisation

Q3 = period_parse("2026-Q3")
BARRIER_TIMEOUT = 2.0  # long enough for both threads to arrive when nothing blocks one of them

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="row-lock races need PostgreSQL (set DATABASE_URL=postgres://…); SQLite runs one writer at a time",
)


def _pause_after(barrier: threading.Barrier, real: Callable[..., Any]) -> Callable[..., Any]:
    """`real`, then wait for the other thread (or the timeout when the other one is blocked on a lock)."""

    def paused(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return result

    return paused


def _run_both(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in two threads, each on its own connection; returns each call's result or exception."""
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _submit(org: Organisation, user: User, value: str) -> Callable[[], object]:
    return lambda: services.metric_values_submit(
        organisation=org, actor=user, period=Q3, cells={"S1-6.leavers": value}, source="api"
    )


def _close(org: Organisation, user: User) -> Callable[[], object]:
    return lambda: services.period_close(organisation=org, period=Q3, actor=user)


def _conflicts(results: list[object]) -> int:
    return sum(isinstance(r, services.EsgConflict) for r in results)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_close_and_submission_end_in_exactly_one_of_them(
    org: Organisation, officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)
    # The submission pauses after its open check, the close after counting pending values.
    monkeypatch.setattr(services, "values_validate", _pause_after(barrier, services.values_validate))
    monkeypatch.setattr(services, "_pending_count", _pause_after(barrier, services._pending_count))

    results = _run_both(_submit(org, officer, "3"), _close(org, officer))

    assert _conflicts(results) == 1, results
    closed = ReportingPeriod.objects.filter(organisation=org, period=Q3.key, status=PeriodStatus.CLOSED).exists()
    submitted = MetricValue.objects.filter(organisation=org, period=Q3.key, status=ValueStatus.SUBMITTED).exists()
    assert closed != submitted  # never a closed period holding a submitted value


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_closes_close_once(
    org: Organisation, officer: User, second_officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)
    monkeypatch.setattr(services, "_pending_count", _pause_after(barrier, services._pending_count))

    results = _run_both(_close(org, officer), _close(org, second_officer))

    assert _conflicts(results) == 1, results
    assert AuditLog.objects.filter(organisation=org, action="esg.period.close").count() == 1
    assert ReportingPeriod.objects.get(organisation=org, period=Q3.key).status == PeriodStatus.CLOSED


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_of_one_metric_are_serialised(
    org: Organisation, officer: User, second_officer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    barrier = threading.Barrier(2, timeout=BARRIER_TIMEOUT)
    monkeypatch.setattr(services, "values_validate", _pause_after(barrier, services.values_validate))

    results = _run_both(_submit(org, officer, "3"), _submit(org, second_officer, "4"))

    assert all(isinstance(r, list) and len(r) == 1 for r in results), results  # no IntegrityError
    value = MetricValue.objects.get(organisation=org, metric_code="S1-6.leavers", period=Q3.key)
    assert value.value in (Decimal(3), Decimal(4)) and value.status == ValueStatus.SUBMITTED
    actions = sorted(
        AuditLog.objects.filter(organisation=org, object_type="esg_value").values_list("action", flat=True)
    )
    assert actions == ["esg.value.create", "esg.value.update"]  # the second saw the first one's row


# ------------------------------------------------------------------------------------------ 409 answers


@pytest.mark.django_db
def test_closing_a_closed_period_is_a_409_with_one_audit_entry(officer_client: Client, org: Organisation) -> None:
    assert officer_client.post("/o/acme/esg/2026-Q3/close/", {"reason": ""}).status_code == 302
    response = officer_client.post("/o/acme/esg/2026-Q3/close/", {"reason": ""})
    assert response.status_code == 409
    assert "2026-Q3 is closed" in response.content.decode()
    assert AuditLog.objects.filter(organisation=org, action="esg.period.close").count() == 1


@pytest.mark.django_db
def test_closing_with_values_awaiting_approval_is_a_409(officer_client: Client, org: Organisation) -> None:
    officer_client.post("/o/acme/esg/2026-Q3/enter/", {"S1-6.leavers": "3", "evidence": "HR", "comment": ""})
    assert MetricValue.objects.filter(status=ValueStatus.SUBMITTED).exists()
    response = officer_client.post("/o/acme/esg/2026-Q3/close/", {"reason": ""})
    assert response.status_code == 409 and "await approval" in response.content.decode()
    assert not ReportingPeriod.objects.filter(status=PeriodStatus.CLOSED).exists()


@pytest.mark.django_db
def test_submitting_into_a_closed_year_is_a_409_on_the_page_and_the_api(
    officer_client: Client, org: Organisation
) -> None:
    assert officer_client.post("/o/acme/esg/2026/close/", {"reason": ""}).status_code == 302
    response = officer_client.post("/o/acme/esg/2026-Q3/enter/", {"S1-6.leavers": "3", "evidence": "", "comment": ""})
    assert response.status_code == 409 and "Period 2026 is closed" in response.content.decode()
    api = officer_client.post(
        "/api/v1/esg/acme/values",
        {"period": "2026-Q3", "values": {"S1-6.leavers": 3}},
        content_type="application/json",
    )
    assert api.status_code == 409 and "2026 is closed" in api.json()["error"]["message"]
    assert not MetricValue.objects.exists()


@pytest.mark.django_db
def test_closing_twice_through_the_api_is_a_409(officer_client: Client, org: Organisation) -> None:
    url = "/api/v1/esg/acme/periods/2026-Q3/close"
    assert officer_client.post(url, {}, content_type="application/json").status_code == 200
    response = officer_client.post(url, {}, content_type="application/json")
    assert response.status_code == 409 and "closed" in response.json()["error"]["message"]
    assert AuditLog.objects.filter(organisation=org, action="esg.period.close").count() == 1


@pytest.mark.django_db
def test_the_close_page_rejects_outsiders_and_anonymous_users(
    outsider_client: Client, client: Client, org: Organisation
) -> None:
    assert outsider_client.post("/o/acme/esg/2026-Q3/close/", {"reason": ""}).status_code == 404
    assert client.post("/o/acme/esg/2026-Q3/close/", {"reason": ""}).status_code == 302  # to the login page
    assert not ReportingPeriod.objects.exists()


@pytest.mark.django_db
def test_invalid_close_and_reopen_requests_change_nothing(officer_client: Client, org: Organisation) -> None:
    assert officer_client.post("/o/acme/esg/2026-Q9/close/", {"reason": ""}).status_code == 404  # no such quarter
    assert not ReportingPeriod.objects.exists()
    officer_client.post("/o/acme/esg/2026-Q3/close/", {"reason": ""})
    response = officer_client.post("/o/acme/esg/2026-Q3/reopen/", {"reason": "no"})  # shorter than 5 characters
    assert response.status_code == 409 and "needs a reason" in response.content.decode()
    assert ReportingPeriod.objects.get(period="2026-Q3").status == PeriodStatus.CLOSED
