"""Budget services: thresholds sent once (email + webhook), target derivation, model tags, region moves."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail

from greenesg.accounts.models import AuditLog, Project
from steering import budget, services
from steering.models import (
    Budget,
    BudgetNotification,
    BudgetOrigin,
    OrgTarget,
    ProjectSteering,
    RegionMove,
    RunModel,
)
from steering.tasks import budget_check_task
from tests.steering.conftest import add_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry")]
NOV = budget.period_parse("2026-11")


def _budget(project: Project, kg: float = 10.0, **kwargs) -> Budget:
    return services.budget_set(project=project, period=NOV, kg=kg, actor=None, actor_label="test", **kwargs)


def test_budget_set_replaces_and_audits_before_and_after(project: Project, officer) -> None:
    _budget(project, 10.0)
    services.budget_set(project=project, period=NOV, kg=12.0, basis="market", run_limit_kg=1.0, actor=officer)
    item = Budget.objects.get(project=project)
    assert (item.kg, item.basis, item.run_limit_kg) == (12.0, "market", 1.0)
    entry = AuditLog.objects.filter(action="budget.update").get()
    assert entry.before["kg"] == 10.0 and entry.after["kg"] == 12.0 and entry.actor_label == "olivia"


def test_each_threshold_is_sent_once_by_email_and_webhook(
    project: Project, officer, engineer, http_server, settings
) -> None:
    hook = http_server(lambda handler: (200, {"ok": True}))
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]  # the loopback listener stands in for a public receiver
    ProjectSteering.objects.create(project=project, webhook_url=hook.url + "/hook")
    _budget(project, 10.0)
    add_run(project, day=dt.date(2026, 11, 2), kg=5.5)  # 55 %
    assert [n.threshold for n in services.budget_check_after_import(project_id=project.pk)] == [50]
    assert services.budget_check_after_import(project_id=project.pk) == []  # already sent
    add_run(project, day=dt.date(2026, 11, 3), kg=5.0)  # 105 %: 80 and 100 are new
    budget_check_task.delay(project.pk)
    budget_check_task.delay(project.pk)
    notes = BudgetNotification.objects.order_by("threshold")
    assert [(n.threshold, n.status) for n in notes] == [(50, "done"), (80, "done"), (100, "done")]
    assert len(mail.outbox) == 3
    assert sorted(mail.outbox[0].to) == ["erin@example.org", "olivia@example.org"]
    assert "50%" in mail.outbox[0].subject
    bodies = [json.loads(r["body"]) for r in hook.requests]
    assert [b["threshold_percent"] for b in bodies] == [50, 80, 100]
    assert bodies[2]["used_kg"] == pytest.approx(10.5) and bodies[2]["verdict"] == "fail"


def test_a_failing_webhook_is_recorded_and_not_resent(project: Project, officer, http_server, settings) -> None:
    hook = http_server(lambda handler: (500, {"error": "down"}))
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    ProjectSteering.objects.create(project=project, webhook_url=hook.url)
    _budget(project, 1.0)
    add_run(project, day=dt.date(2026, 11, 2), kg=0.6)
    services.budget_check_after_import(project_id=project.pk)
    services.budget_check_after_import(project_id=project.pk)
    note = BudgetNotification.objects.get()
    assert note.status == "failed" and note.webhook_status == "failed: HTTP 500"
    assert len(hook.requests) == 1 and len(mail.outbox) == 1


def test_only_in_inventory_records_of_the_period_count(project: Project) -> None:
    _budget(project, 10.0)
    add_run(project, day=dt.date(2026, 11, 2), kg=4.0, in_inventory=False)
    add_run(project, day=dt.date(2026, 10, 31), kg=9.0)
    assert services.budget_check_after_import(project_id=project.pk) == []


def test_checking_a_missing_project_does_nothing(db) -> None:
    assert services.budget_check_after_import(project_id=987654) == []


def test_budgets_derive_from_the_target_by_base_year_share(
    org, project: Project, other_project: Project, officer
) -> None:
    add_run(project, day=dt.date(2024, 5, 1), kg=300.0)
    add_run(other_project, day=dt.date(2024, 6, 1), kg=100.0)
    _budget_keep = services.budget_set(
        project=project, period=budget.period_parse("2027-Q4"), kg=1.0, run_limit_kg=0.5, actor=officer
    )
    services.org_target_save(
        organisation=org,
        base_year=2024,
        base_year_kg=1000.0,
        target_year=2030,
        reduction_pct=42.0,
        basis="location",
        split="share",
        shares={},
        actor=officer,
    )
    from greenesg.accounts.access import org_access_for_user

    access = org_access_for_user(officer, "acme")
    made = services.budgets_from_target(access=access, period=budget.period_parse("2027-Q4"), actor=officer)
    allowance = 790.0 * 92 / 365  # 2027 is half way: −21 %, then Q4's share of the year
    by_project = {b.project.slug: b for b in made}
    assert by_project["ml"].kg == pytest.approx(allowance * 0.75)
    assert by_project["web"].kg == pytest.approx(allowance * 0.25)
    assert by_project["ml"].origin == BudgetOrigin.TARGET and by_project["ml"].run_limit_kg == 0.5
    assert _budget_keep.pk == by_project["ml"].pk


def test_manual_split_and_missing_target(org, project: Project, other_project: Project, officer) -> None:
    from greenesg.accounts.access import org_access_for_user

    access = org_access_for_user(officer, "acme")
    with pytest.raises(services.SteeringError, match="target first"):
        services.budgets_from_target(access=access, period=budget.period_parse("2026"), actor=officer)
    services.org_target_save(
        organisation=org,
        base_year=2025,
        base_year_kg=365.0,
        target_year=2026,
        reduction_pct=50.0,
        basis="location",
        split="manual",
        shares={project: 60.0, other_project: 20.0},
        actor=officer,
    )
    made = services.budgets_from_target(access=access, period=budget.period_parse("2026"), actor=officer)
    assert {b.project.slug: round(b.kg, 6) for b in made} == {"ml": 136.875, "web": 45.625}  # 182.5 × 3/4, × 1/4
    assert OrgTarget.objects.get().shares.count() == 2
    assert AuditLog.objects.filter(action="target.save").exists()


def test_model_tags_are_parsed_from_run_names_once_and_never_override_the_api(project: Project) -> None:
    add_run(project, day=dt.date(2026, 11, 2), kg=1.0, run_id="r1", project_name="model=resnet50;accuracy=0.91")
    add_run(project, day=dt.date(2026, 11, 2), kg=1.0, run_id="r2", project_name="model=tiny;val_loss=0.3")
    add_run(project, day=dt.date(2026, 11, 2), kg=1.0, run_id="r3", project_name="plain name")
    services.run_model_set(
        project=project,
        run_id="r1",
        model="resnet18",
        metric_name="accuracy",
        metric_value=0.88,
        higher_is_better=True,
        actor=None,
        actor_label="token x",
    )
    assert services.run_models_sync_from_naming(project=project) == 1
    assert services.run_models_sync_from_naming(project=project) == 0
    tags = {t.run_id: t for t in RunModel.objects.all()}
    assert tags["r1"].model == "resnet18" and tags["r1"].source == "api"
    assert (tags["r2"].model, tags["r2"].higher_is_better, tags["r2"].source) == ("tiny", False, "naming")
    assert "r3" not in tags


def test_a_region_move_records_avoided_kg_apart_from_the_inventory(project: Project, officer) -> None:
    add_run(project, day=dt.date(2026, 11, 2), kg=0.088, kwh=10.0, region="eu-north-1")
    move = services.region_move_record(
        project=project,
        provider="aws",
        from_region="us-east-1",
        to_region="eu-north-1",
        period=NOV,
        note="moved",
        actor=officer,
    )
    # 10 kWh × (379.069 − 8.8) g/kWh (eGRID2020 SERC, EEA) = 3.70269 kg avoided; the ledger keeps its 0.088 kg.
    assert move.energy_kwh == 10.0 and move.avoided_kg == pytest.approx(3.70269)
    assert RegionMove.objects.count() == 1 and AuditLog.objects.filter(action="advice.followed").exists()
    with pytest.raises(services.SteeringError, match="not-a-region"):
        services.region_move_record(
            project=project,
            provider="aws",
            from_region="not-a-region",
            to_region="eu-north-1",
            period=NOV,
            note="",
            actor=officer,
        )


def test_unit_counts_csv_is_validated_line_by_line(project: Project) -> None:
    assert (
        services.unit_counts_import(project=project, content=b"period,count\n2026-10,100\n2026-11,250\n", actor=None)
        == 2
    )
    with pytest.raises(services.SteeringError, match="line 2"):
        services.unit_counts_parse_csv(b"2026-10,1\n2026-13,5\n")
    with pytest.raises(services.SteeringError, match="greater than zero"):
        services.unit_counts_parse_csv(b"2026-10,0\n")


def test_the_budget_check_keeps_its_registered_task_name_after_the_app_moved() -> None:
    # Messages already queued in Redis carry the old dotted name; a new name would leave them unroutable.
    assert budget_check_task.name == "greenesg.steering.tasks.budget_check_task"
