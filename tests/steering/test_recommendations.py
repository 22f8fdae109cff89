"""The efficiency advisor end to end: ledger → recommendations, status and audit, proof, pages, API, CLI, CI gate."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from greenesg.accounts.models import AuditLog, Project
from greenesg.footprint.models import LedgerEntry
from steering import budget, recommendations, services
from steering.models import ProjectSteering, Recommendation, RecommendationStatus
from tests.steering.conftest import add_run

pytestmark = pytest.mark.django_db

MONTH = 30.4375


def _idle_runs(project: Project, *, first: dt.date, n: int = 4, kg: float = 2.0, cpu: float = 4.0) -> list[LedgerEntry]:
    entries = []
    for i in range(n):
        entry = add_run(project, day=first + dt.timedelta(days=i), kg=kg, kwh=5.0, kg_market=kg / 2)
        entry.experiment = "nightly-etl"
        entry.attributes = {"cpu_utilization_percent": cpu, "cpu_energy_kwh": 4.0, "ram_energy_kwh": 1.0}
        entry.save()
        entries.append(entry)
    return entries


def test_refresh_opens_one_recommendation_per_subject_with_a_hand_computed_saving(project: Project) -> None:
    _idle_runs(project, first=dt.date(2026, 11, 1))  # four idle runs on 4 days of data
    [item] = recommendations.recommendations_refresh(project=project)
    assert (item.detector, item.subject, item.status) == ("idle_runs", "nightly-etl", RecommendationStatus.OPEN)
    # 4 runs × 5 kWh over a 4-day window, per month: 20 × 30.4375 / 4.
    assert item.saving_kwh_month == pytest.approx(20 * MONTH / 4)
    assert item.saving_kg_location_month == pytest.approx(8 * MONTH / 4)
    assert item.saving_kg_market_month == pytest.approx(4 * MONTH / 4)
    assert len(item.evidence_entry_ids) == 4

    again = recommendations.recommendations_refresh(project=project)
    assert [r.pk for r in again] == [item.pk]  # updated, not duplicated
    assert Recommendation.objects.count() == 1


def test_a_dismissed_subject_is_not_reopened_and_a_stale_open_one_goes(project: Project, engineer) -> None:
    entries = _idle_runs(project, first=dt.date(2026, 11, 1))
    [item] = recommendations.recommendations_refresh(project=project)
    with pytest.raises(recommendations.RecommendationError, match="Say why"):
        recommendations.recommendation_status_set(recommendation=item, status="dismissed", reason="", actor=engineer)
    recommendations.recommendation_status_set(
        recommendation=item, status="dismissed", reason="needed for the nightly backup window", actor=engineer
    )
    assert recommendations.recommendations_refresh(project=project) == []
    assert Recommendation.objects.get().status == RecommendationStatus.DISMISSED

    Recommendation.objects.all().delete()
    recommendations.recommendations_refresh(project=project)
    for entry in entries:  # the runs got busy: the open recommendation no longer holds
        entry.attributes = {**entry.attributes, "cpu_utilization_percent": 70.0}
        entry.save()
    assert recommendations.recommendations_refresh(project=project) == []
    assert not Recommendation.objects.exists()


def test_status_changes_are_audited_and_follow_the_lifecycle(project: Project, engineer) -> None:
    _idle_runs(project, first=dt.date(2026, 11, 1))
    [item] = recommendations.recommendations_refresh(project=project)
    item = recommendations.recommendation_status_set(recommendation=item, status="accepted", reason="", actor=engineer)
    item = recommendations.recommendation_status_set(
        recommendation=item, status="done", reason="moved to a queue", actor=engineer
    )
    assert item.done_at is not None
    with pytest.raises(recommendations.RecommendationError, match="cannot become"):
        recommendations.recommendation_status_set(recommendation=item, status="open", reason="", actor=engineer)
    actions = list(
        AuditLog.objects.filter(object_type="recommendation").order_by("pk").values_list("action", flat=True)
    )
    assert actions == ["recommendation.accepted", "recommendation.done"]


def test_the_proof_compares_runs_before_and_after_done(project: Project, engineer) -> None:
    for i, kg in enumerate([10.0, 12.0, 11.0, 13.0]):
        entry = add_run(project, day=dt.date(2026, 10, 1) + dt.timedelta(days=i), kg=kg)
        LedgerEntry.objects.filter(pk=entry.pk).update(experiment="serve")
    for i, kg in enumerate([6.0, 7.0, 5.0, 6.0]):
        entry = add_run(project, day=dt.date(2026, 10, 20) + dt.timedelta(days=i), kg=kg)
        LedgerEntry.objects.filter(pk=entry.pk).update(experiment="serve")
    item = Recommendation.objects.create(
        project=project,
        detector="gpu_underuse",
        subject="serve",
        title="GPU",
        action="batch",
        method="m",
        saving_kwh_month=1,
        saving_kg_location_month=1,
        saving_kg_market_month=1,
        window_start=dt.date(2026, 9, 1),
        window_end=dt.date(2026, 10, 10),
    )
    item.done_at = timezone.make_aware(dt.datetime(2026, 10, 15, 12, 0), dt.UTC)
    item.status = RecommendationStatus.DONE
    item.save()
    realised = recommendations.recommendation_realised(recommendation=item)
    assert realised is not None and realised.unit == "run"
    assert (realised.n_before, realised.n_after, realised.reduction) == (4, 4, 5.5)
    assert realised.ci_low == pytest.approx(4.00302, abs=1e-5)
    # 5.5 kg less per run × 4 runs in the 8 days observed after (Oct 15 → Oct 23), per month.
    assert recommendations.realised_per_month(recommendation=item, realised=realised) == pytest.approx(
        5.5 * 4 * MONTH / 8
    )


# ---------------------------------------------------------------------------------------------- pages


def _url(project: Project, suffix: str = "") -> str:
    return f"/o/{project.organisation.slug}/p/{project.slug}/savings/{suffix}"


def test_the_engineer_sees_acts_and_follows_the_evidence(engineer_client: Client, project: Project) -> None:
    entries = _idle_runs(project, first=dt.date(2026, 11, 1))
    response = engineer_client.post(_url(project, "refresh/"))
    assert response.status_code == 302
    page = engineer_client.get(_url(project)).content.decode()
    item = Recommendation.objects.get()
    assert item.title in page and "Mark done" in page
    assert f"/o/acme/p/ml/records/{entries[0].pk}/" in page  # the evidence is linked
    response = engineer_client.post(_url(project, f"{item.pk}/status/"), {"status": "done", "reason": "queued now"})
    assert response.status_code == 302
    assert Recommendation.objects.get().status == RecommendationStatus.DONE


def test_anonymous_outsider_auditor_and_invalid_input(
    client: Client,
    outsider_client: Client,
    auditor_client: Client,
    engineer_client: Client,
    project: Project,
    other_project: Project,
) -> None:
    _idle_runs(project, first=dt.date(2026, 11, 1))
    [item] = recommendations.recommendations_refresh(project=project)
    assert client.get(_url(project))["Location"].startswith("/login/")
    assert outsider_client.get(_url(project)).status_code == 404
    assert outsider_client.get("/o/acme/savings/").status_code == 404
    assert engineer_client.get(_url(other_project)).status_code == 404  # not her project
    assert auditor_client.get(_url(project)).status_code == 200
    assert auditor_client.post(_url(project, f"{item.pk}/status/"), {"status": "done"}).status_code == 403
    assert engineer_client.post(_url(project, f"{item.pk}/status/"), {"status": "nonsense"}).status_code == 400
    assert engineer_client.post(_url(project, "999999/status/"), {"status": "done"}).status_code == 404
    assert engineer_client.get("/o/acme/savings/?status=nonsense").status_code == 400


def test_officers_see_the_organisation_sorted_by_saving_engineers_only_theirs(
    officer_client: Client, engineer_client: Client, project: Project, other_project: Project
) -> None:
    _idle_runs(project, first=dt.date(2026, 11, 1), kg=1.0)
    _idle_runs(other_project, first=dt.date(2026, 11, 1), kg=3.0)
    for p in (project, other_project):
        recommendations.recommendations_refresh(project=p)
    page = officer_client.get("/o/acme/savings/").content.decode()
    assert page.index(other_project.name) < page.index(project.name)  # larger saving first
    assert other_project.name not in engineer_client.get("/o/acme/savings/").content.decode()


# ---------------------------------------------------------------------------------------------- API, CLI, CI gate


def test_the_api_lists_recommendations_with_their_saving(
    engineer_client: Client, outsider_client: Client, project: Project
) -> None:
    _idle_runs(project, first=dt.date(2026, 11, 1))
    recommendations.recommendations_refresh(project=project)
    url = f"/api/v1/projects/acme/{project.slug}/recommendations"
    body = engineer_client.get(url).json()
    [rec] = body["recommendations"]
    assert rec["detector"] == "idle_runs" and rec["status"] == "open"
    assert rec["saving_per_month"]["kgco2e_location"] == pytest.approx(8 * MONTH / 4)
    assert engineer_client.get(url, {"status": "done"}).json()["recommendations"] == []
    assert engineer_client.get(url, {"status": "bogus"}).status_code == 400
    assert outsider_client.get(url).status_code == 404


def test_advise_prints_json_and_text(project: Project) -> None:
    _idle_runs(project, first=dt.date(2026, 11, 1))
    out = StringIO()
    call_command("advise", "--org", "acme", "--json", stdout=out)
    payload = json.loads(out.getvalue())
    assert [r["detector"] for r in payload["recommendations"]] == ["idle_runs"]
    out = StringIO()
    call_command("advise", "--org", "acme", "--no-refresh", stdout=out)
    assert "[open] " in out.getvalue() and "kgCO2e" in out.getvalue()


def test_the_ci_gate_prints_the_top_open_recommendation_when_the_budget_is_at_risk(
    client: Client, project: Project, project_token: str
) -> None:
    _idle_runs(project, first=dt.date(2026, 11, 1), kg=2.0)  # 8 kg in November
    recommendations.recommendations_refresh(project=project)
    services.budget_set(
        project=project,
        period=budget.period_parse("2026-11"),
        kg=5.0,
        run_limit_kg=None,
        actor=None,
        actor_label="test",
    )
    body = client.get(
        f"/api/v1/projects/acme/{project.slug}/budget",
        {"period": "2026-11"},
        HTTP_AUTHORIZATION=f"Bearer {project_token}",
    ).json()
    assert body["verdict"] == "fail"
    assert body["top_recommendation"]["title"].startswith("4 of 4 runs of nightly-etl were idle")
    services.budget_set(
        project=project,
        period=budget.period_parse("2026-11"),
        kg=5000.0,
        run_limit_kg=None,
        actor=None,
        actor_label="test",
    )
    body = client.get(
        f"/api/v1/projects/acme/{project.slug}/budget",
        {"period": "2026-11"},
        HTTP_AUTHORIZATION=f"Bearer {project_token}",
    ).json()
    assert body["verdict"] == "pass" and body["top_recommendation"] is None


def test_non_production_setting_is_stored(project: Project) -> None:
    ProjectSteering.objects.create(project=project, non_production=True, quality_tolerance_percent=2.5)
    inputs = recommendations.advisor_inputs(project=project)
    assert inputs is None  # no data yet
    add_run(project, day=dt.date(2026, 11, 1), kg=1.0)
    inputs = recommendations.advisor_inputs(project=project)
    assert inputs is not None and inputs.non_production and inputs.tolerance == pytest.approx(0.025)
