"""Governance controls: four-eyes approval, period locking and reopening, audit-log completeness,
imports all or nothing, factor-set change requests."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from esg import services
from esg.models import ChangeStatus, MetricValue, ValueStatus
from esg.periods import period_parse
from esg.selectors import metric_rows, value_history
from greenesg.accounts.models import AuditLog
from greenesg.footprint.models import EmissionFactorSet, FactorSetStatus
from tests.esg.conftest import GOOD_Q3

pytestmark = pytest.mark.django_db
Q3 = period_parse("2026-Q3")


def _submit(org, user, cells=None, period=Q3):
    return services.metric_values_submit(
        organisation=org, actor=user, period=period, cells=cells or GOOD_Q3, source="test"
    )


def _value(org, code="S1-6.headcount", period="2026-Q3") -> MetricValue:
    return MetricValue.objects.get(organisation=org, metric_code=code, period=period)


def test_submitted_values_wait_for_approval_and_computed_rates_follow(org, officer) -> None:
    _submit(org, officer)
    rows = {row.code: row for row in metric_rows(org, Q3)}
    assert rows["S1-6.headcount"].status == "submitted"
    assert rows["S1-14.accident_rate"].value == pytest.approx(12.5)  # 2 × 1e6 / 160,000
    assert rows["S1-14.accident_rate"].status == "submitted"
    assert rows["S1-16.gender_pay_gap"].value == pytest.approx(12.5)
    assert rows["S1-16.remuneration_ratio"].value == pytest.approx(5.0)
    assert rows["S1-6.turnover_rate"].value == pytest.approx(5.0)
    assert rows["S1-8.collective_bargaining_coverage"].status == "missing"


def test_the_submitter_can_never_approve_their_own_value(org, officer, second_officer) -> None:
    _submit(org, officer)
    value = _value(org)
    with pytest.raises(PermissionDenied, match="four-eyes"):
        services.metric_value_approve(value=value, actor=officer)
    services.metric_value_approve(value=value, actor=second_officer)
    value.refresh_from_db()
    assert (value.status, value.approved_by) == (ValueStatus.APPROVED, second_officer)


def test_the_database_refuses_self_approval_too(org, officer) -> None:
    _submit(org, officer)
    with pytest.raises(IntegrityError), transaction.atomic():
        MetricValue.objects.filter(organisation=org).update(approved_by=officer, status="approved")


def test_only_officers_enter_and_approve(org, officer, engineer, auditor) -> None:
    for user in (engineer, auditor):
        with pytest.raises(PermissionDenied):
            _submit(org, user)
    _submit(org, officer)
    with pytest.raises(PermissionDenied):
        services.metric_value_approve(value=_value(org), actor=auditor)


def test_a_changed_approved_value_needs_approval_again(org, officer, second_officer) -> None:
    _submit(org, officer)
    services.metric_value_approve(value=_value(org), actor=second_officer)
    # the approver edits the figure: now the original submitter must be the one to approve
    _submit(org, second_officer, {"S1-6.headcount": "101", "S1-6.headcount_male": "60"})
    value = _value(org)
    assert value.status == ValueStatus.SUBMITTED and value.approved_by is None
    with pytest.raises(PermissionDenied):
        services.metric_value_approve(value=value, actor=second_officer)
    services.metric_value_approve(value=value, actor=officer)


def test_resubmitting_the_same_value_changes_nothing(org, officer, second_officer) -> None:
    _submit(org, officer)
    services.metric_value_approve(value=_value(org), actor=second_officer)
    assert _submit(org, officer) == []
    assert _value(org).status == ValueStatus.APPROVED


def test_rejection_needs_a_reason_and_an_approval_is_final(org, officer, second_officer) -> None:
    _submit(org, officer)
    with pytest.raises(services.EsgConflict, match="reason"):
        services.metric_value_reject(value=_value(org), actor=second_officer, reason="")
    services.metric_value_reject(value=_value(org), actor=second_officer, reason="Does not match payroll")
    rows = {row.code: row for row in metric_rows(org, Q3)}
    assert rows["S1-6.headcount"].status == "missing" and "Does not match payroll" in rows["S1-6.headcount"].note
    with pytest.raises(services.EsgConflict, match="Only submitted"):
        services.metric_value_approve(value=_value(org), actor=second_officer)


def test_a_stale_approval_is_refused(org, officer, second_officer) -> None:
    _submit(org, officer)
    seen = _value(org)
    _submit(org, officer, {"S1-6.headcount": "101", "S1-6.headcount_male": "60"})
    with pytest.raises(services.EsgConflict, match="changed"):
        services.metric_value_approve(value=seen, actor=second_officer)


def test_invalid_values_store_nothing(org, officer) -> None:
    with pytest.raises(services.InvalidValues) as caught:
        _submit(org, officer, {**GOOD_Q3, "S1-6.headcount_male": "58"})
    assert caught.value.errors[0].code == "S1-6.headcount"
    assert not MetricValue.objects.exists()


def test_a_closed_period_locks_its_values_until_reopened_with_a_reason(org, officer, second_officer) -> None:
    _submit(org, officer)
    with pytest.raises(services.EsgConflict, match="await approval"):
        services.period_close(organisation=org, period=Q3, actor=officer)
    for value in MetricValue.objects.filter(organisation=org):
        services.metric_value_approve(value=value, actor=second_officer)
    services.period_close(organisation=org, period=Q3, actor=officer, reason="Q3 signed off")
    with pytest.raises(services.EsgConflict, match="closed"):
        _submit(org, officer, {"S1-8.collective_bargaining_coverage": "30"})
    with pytest.raises(services.EsgConflict, match="closed"):
        services.metric_value_delete(value=_value(org), actor=officer, reason="mistake in HR data")
    with pytest.raises(services.EsgConflict, match="reason"):
        services.period_reopen(organisation=org, period=Q3, actor=officer, reason=" ")
    services.period_reopen(organisation=org, period=Q3, actor=officer, reason="Late HR correction")
    _submit(org, officer, {"S1-8.collective_bargaining_coverage": "30"})
    entry = AuditLog.objects.get(action="esg.period.reopen")
    assert (entry.reason, entry.before, entry.after) == ("Late HR correction", {"status": "closed"}, {"status": "open"})


def test_closing_a_year_locks_its_quarters(org, officer) -> None:
    services.period_close(organisation=org, period=period_parse("2026"), actor=officer)
    with pytest.raises(services.EsgConflict, match="2026 is closed"):
        _submit(org, officer)
    with pytest.raises(services.EsgConflict, match="reopen the year"):
        services.period_reopen(organisation=org, period=Q3, actor=officer, reason="quarter fix")


def test_imports_are_all_or_nothing_and_audited_either_way(org, officer) -> None:
    bad = b"period,S1-6.headcount,S1-6.leavers\n2026-Q2,100,4\n2026-Q3,100,x\n"
    outcome = services.metric_values_import(organisation=org, actor=officer, name="hr.csv", file=io.BytesIO(bad))
    assert not outcome.ok and [(e.row, e.code) for e in outcome.errors] == [(3, "S1-6.leavers")]
    assert not MetricValue.objects.exists()
    assert AuditLog.objects.get(action="esg.import.refuse").after["errors"] == 1
    good = b"period,S1-6.headcount,S1-6.leavers\n2026-Q2,100,4\n2026-Q3,100,5\n"
    outcome = services.metric_values_import(organisation=org, actor=officer, name="hr.csv", file=io.BytesIO(good))
    assert outcome.ok and outcome.written == 4
    assert "sha256" in _value(org, "S1-6.leavers").evidence


def test_an_ap_ledger_import_submits_days_to_pay(org, officer) -> None:
    data = b"invoice_date,payment_date,amount\n2026-07-01,2026-07-31,100\n2026-07-01,2026-07-21,900\n"
    outcome = services.metric_values_import(
        organisation=org, actor=officer, name="ap.csv", file=io.BytesIO(data), kind="ap_ledger", period=Q3
    )
    assert outcome.ok
    value = _value(org, "G1-6.avg_days_to_pay")
    assert float(value.value) == 25.0 and value.source == "ap_ledger"  # (30 + 20) / 2, per invoice
    assert "amount-weighted mean 21.0 days" in value.evidence  # (30·100 + 20·900) / 1000


def _factor_change(org, officer, name="test-grid"):
    return services.factor_set_change_submit(
        organisation=org,
        actor=officer,
        name=name,
        kind="grid_country",
        source="Test agency 2026",
        factors=[{"zone": "FRA", "vintage_year": 2026, "g_co2e_per_kwh": 21.7}],
        reason="New vintage published",
    )


def test_a_factor_set_change_waits_for_a_second_officer(org, officer, second_officer) -> None:
    # The global set of the same name stays active: an organisation's change is an override of its own (issue 12).
    global_set = EmissionFactorSet.objects.create(name="test-grid", version=1, kind="grid_country", source="v1")
    first = _factor_change(org, officer)
    services.factor_set_change_approve(request=first, actor=second_officer, reason="Checked against source")
    change = _factor_change(org, officer)
    assert change.factor_set.version == 2 and change.factor_set.status == FactorSetStatus.PENDING
    assert change.factor_set.organisation_id == org.pk
    with pytest.raises(PermissionDenied, match="four-eyes"):
        services.factor_set_change_approve(request=change, actor=officer)
    services.factor_set_change_approve(request=change, actor=second_officer, reason="Checked against source")
    old = first.factor_set
    for item in (global_set, old, change.factor_set):
        item.refresh_from_db()
    assert (old.status, change.factor_set.status, change.status) == ("superseded", "active", ChangeStatus.APPROVED)
    assert global_set.status == "active"
    with pytest.raises(services.EsgConflict, match="already approved"):
        services.factor_set_change_reject(request=change, actor=second_officer, reason="too late now")


def test_a_rejected_factor_set_is_never_activated(org, officer, second_officer) -> None:
    change = _factor_change(org, officer)
    services.factor_set_change_reject(request=change, actor=second_officer, reason="Wrong vintage year")
    change.factor_set.refresh_from_db()
    assert change.factor_set.status == FactorSetStatus.PENDING and change.status == ChangeStatus.REJECTED


def test_every_write_service_leaves_an_audit_entry(org, officer, second_officer, project) -> None:
    """Walk each write path and check that it adds exactly the expected audit action."""

    def expect(action, call):
        before = AuditLog.objects.filter(action=action).count()
        call()
        assert AuditLog.objects.filter(action=action).count() > before, action

    expect("esg.value.create", lambda: _submit(org, officer))
    expect("esg.value.update", lambda: _submit(org, officer, {"S1-6.headcount": "101", "S1-6.headcount_male": "60"}))
    expect("esg.value.approve", lambda: services.metric_value_approve(value=_value(org), actor=second_officer))
    expect(
        "esg.value.reject",
        lambda: services.metric_value_reject(
            value=_value(org, "S1-6.leavers"), actor=second_officer, reason="wrong leavers"
        ),
    )
    expect(
        "esg.value.delete",
        lambda: services.metric_value_delete(value=_value(org, "S1-6.leavers"), actor=officer, reason="entered twice"),
    )
    for value in MetricValue.objects.filter(status="submitted"):
        services.metric_value_approve(value=value, actor=second_officer)
    expect("esg.period.close", lambda: services.period_close(organisation=org, period=Q3, actor=officer))
    expect(
        "esg.period.reopen",
        lambda: services.period_reopen(organisation=org, period=Q3, actor=officer, reason="correction"),
    )
    expect(
        "esg.import",
        lambda: services.metric_values_import(
            organisation=org, actor=officer, name="x.csv", file=io.BytesIO(b"period,S1-17.fines_eur\n2026,0\n")
        ),
    )
    expect(
        "esg.import.refuse",
        lambda: services.metric_values_import(
            organisation=org, actor=officer, name="x.csv", file=io.BytesIO(b"nonsense")
        ),
    )
    expect(
        "esg.settings.update",
        lambda: services.esg_settings_update(organisation=org, actor=officer, approved_regions=["eu-north-1"]),
    )
    expect(
        "esg.accessibility.create",
        lambda: services.accessibility_report_record(
            project=project,
            actor=None,
            actor_label="token ci",
            body=b'{"url": "https://x.test/", "timestamp": "2026-07-01T00:00:00Z", "violations": [], "passes": []}',
        ),
    )
    expect(
        "esg.review.create",
        lambda: services.model_review_record(
            project=project, actor=officer, actor_label="olivia", subject="ds", reviewed=False
        ),
    )
    change = _factor_change(org, officer, name="audit-grid")
    assert AuditLog.objects.filter(action="factor_set.change.submit").exists()
    expect(
        "factor_set.change.approve", lambda: services.factor_set_change_approve(request=change, actor=second_officer)
    )
    other = _factor_change(org, officer, name="audit-grid-2")
    expect(
        "factor_set.change.reject",
        lambda: services.factor_set_change_reject(request=other, actor=second_officer, reason="not needed"),
    )
    entries = AuditLog.objects.filter(organisation=org)
    assert all(e.actor_label for e in entries)


def test_value_history_shows_before_and_after(org, officer, second_officer) -> None:
    _submit(org, officer)
    services.metric_value_approve(value=_value(org), actor=second_officer)
    history = list(value_history(org, "2026-Q3", "S1-6.headcount").order_by("at", "id"))
    assert [e.action for e in history] == ["esg.value.create", "esg.value.approve"]
    assert history[1].before["status"] == "submitted" and history[1].after["status"] == "approved"
    assert history[1].actor_label == "otto"
