"""Steering pages: happy paths, the permission matrix (officer, engineer member and non-member, auditor,
anonymous, outsider) and invalid input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from greenesg.accounts.models import AuditLog, Project
from steering import budget, services
from steering.models import Budget, OrgTarget, ProjectSteering, RegionMove, UnitCount
from tests.steering.conftest import add_run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("registry")]

READ_PAGES = ["/o/acme/p/ml/budget/", "/o/acme/p/ml/advice/", "/o/acme/p/ml/sci/", "/o/acme/p/ml/models/"]
OFFICER_PAGES = ["/o/acme/p/ml/budget/edit/", "/o/acme/p/ml/budget/settings/", "/o/acme/budgets/target/"]


@pytest.fixture
def data(project: Project, other_project: Project) -> Project:
    services.budget_set(project=project, period=budget.period_parse("2026-11"), kg=10.0, actor=None)
    add_run(project, day=dt.date(2026, 11, 2), kg=3.0, kwh=8.0, run_id="r1", project_name="model=a;accuracy=0.8")
    add_run(project, day=dt.date(2026, 11, 4), kg=5.0, kwh=13.0, run_id="r2", project_name="model=b;accuracy=0.7")
    services.run_models_sync_from_naming(project=project)
    return project


@pytest.mark.parametrize("url", [*READ_PAGES, "/o/acme/budgets/"])
def test_members_auditors_and_officers_read_the_pages(
    officer_client: Client, engineer_client: Client, auditor_client: Client, data: Project, url: str
) -> None:
    for client in (officer_client, engineer_client, auditor_client):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", [*READ_PAGES, *OFFICER_PAGES, "/o/acme/budgets/"])
def test_outsiders_get_404_and_anonymous_users_go_to_login(
    outsider_client: Client, client: Client, data: Project, url: str
) -> None:
    assert outsider_client.get(url).status_code == 404
    response = client.get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.parametrize("url", [page.replace("/p/ml/", "/p/web/") for page in READ_PAGES])
def test_engineers_get_404_on_projects_they_are_not_members_of(
    engineer_client: Client, data: Project, url: str
) -> None:
    assert engineer_client.get(url).status_code == 404


@pytest.mark.parametrize("url", OFFICER_PAGES)
def test_engineers_and_auditors_cannot_open_officer_forms(
    engineer_client: Client, auditor_client: Client, data: Project, url: str
) -> None:
    assert engineer_client.get(url).status_code == 403
    assert auditor_client.get(url).status_code == 403
    assert auditor_client.post(url, {"period": "2026-12", "kg": "1"}).status_code == 403


def test_the_budget_page_shows_use_projection_and_the_burn_down(officer_client: Client, data: Project) -> None:
    response = officer_client.get("/o/acme/p/ml/budget/")
    page = response.content.decode()
    assert 'id="kpi-used" value="8.0"' in page and 'id="kpi-projected" value="24.0"' in page  # 8 kg in 10/30 days
    assert 'id="fig-budget"' in page and "steering_budget.js" in page and "<script>" not in page
    assert response.context["status"].verdict == "pass"


def test_an_officer_sets_a_budget_through_the_form(officer_client: Client, data: Project) -> None:
    response = officer_client.post(
        "/o/acme/p/ml/budget/edit/", {"period": "2026-q4", "kg": "30", "basis": "market", "run_limit_kg": ""}
    )
    assert response.status_code == 302 and response["Location"].endswith("?period=2026-Q4")
    item = Budget.objects.get(project=data, period="2026-Q4")
    assert (item.kg, item.basis, item.run_limit_kg) == (30.0, "market", None)
    assert AuditLog.objects.filter(action="budget.create", actor_label="olivia").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("period", "2026-13", "month must be"), ("kg", "-5", "greater than or equal"), ("kg", "nan", "Enter a number")],
)
def test_invalid_budget_forms_are_a_400_with_the_reason(
    officer_client: Client, data: Project, field: str, value: str, message: str
) -> None:
    form = {"period": "2026-12", "kg": "5", "basis": "location", field: value}
    response = officer_client.post("/o/acme/p/ml/budget/edit/", form)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Budget.objects.filter(period="2026-12").exists()


def test_bad_period_parameters_are_a_400(officer_client: Client, data: Project) -> None:
    assert officer_client.get("/o/acme/p/ml/budget/?period=soon").status_code == 400
    assert officer_client.get("/o/acme/budgets/?period=2026-Q9").status_code == 400


def test_the_org_budget_table_lists_visible_projects(
    officer_client: Client, engineer_client: Client, data: Project
) -> None:
    rows = officer_client.get("/o/acme/budgets/?period=2026-11").context["rows"]
    assert [(r.project.slug, r.status.used_kg if r.status else None) for r in rows] == [("ml", 8.0), ("web", None)]
    assert [r.project.slug for r in engineer_client.get("/o/acme/budgets/?period=2026-11").context["rows"]] == ["ml"]


def test_an_officer_sets_the_target_and_derives_budgets(
    officer_client: Client, engineer_client: Client, data: Project
) -> None:
    form = {
        "base_year": "2026",
        "base_year_kg": "365",
        "target_year": "2030",
        "reduction_pct": "40",
        "basis": "location",
        "split": "share",
    }
    assert officer_client.post("/o/acme/budgets/target/", form).status_code == 302
    assert OrgTarget.objects.get().reduction_pct == 40
    assert engineer_client.post("/o/acme/budgets/target/apply/", {"period": "2026-12"}).status_code == 403
    response = officer_client.post("/o/acme/budgets/target/apply/", {"period": "2026-12"})
    assert response.status_code == 302
    # 2026 is the base year: 365 kg × 31/365 = 31 kg for December, all to ml (the only project with base-year kg).
    assert Budget.objects.get(period="2026-12").kg == pytest.approx(31.0)
    bad = officer_client.post("/o/acme/budgets/target/", {**form, "target_year": "2020"})
    assert bad.status_code == 400 and "after the base year" in bad.content.decode()


def test_steering_settings_save_the_webhook_and_unit(officer_client: Client, data: Project) -> None:
    response = officer_client.post(
        "/o/acme/p/ml/budget/settings/", {"webhook_url": "https://hooks.example/x", "functional_unit": "training run"}
    )
    assert response.status_code == 302
    assert ProjectSteering.objects.get(project=data).functional_unit == "training run"
    assert officer_client.post("/o/acme/p/ml/budget/settings/", {"webhook_url": "not a url"}).status_code == 400


def test_sci_counts_by_form_and_csv_and_auditors_are_read_only(
    engineer_client: Client, auditor_client: Client, data: Project
) -> None:
    assert engineer_client.post("/o/acme/p/ml/sci/", {"period": "2026-11", "count": "4"}).status_code == 302
    upload = SimpleUploadedFile("units.csv", b"period,count\n2026-10,2\n", content_type="text/csv")
    assert engineer_client.post("/o/acme/p/ml/sci/", {"file": upload}).status_code == 302
    assert UnitCount.objects.count() == 2
    page = engineer_client.get("/o/acme/p/ml/sci/")
    november = next(p for p in page.context["points"] if p["period"] == "2026-11")
    assert november["result"].sci_kg_per_unit == pytest.approx(2.0)  # (21 kWh × 8/21 kg/kWh + 0) / 4
    assert "never added to scope totals" in page.content.decode()
    bad = SimpleUploadedFile("units.csv", b"2026-10,zero\n", content_type="text/csv")
    response = engineer_client.post("/o/acme/p/ml/sci/", {"file": bad})
    assert response.status_code == 400 and "line 1" in response.content.decode()
    assert auditor_client.post("/o/acme/p/ml/sci/", {"period": "2026-11", "count": "9"}).status_code == 403


def test_region_advice_shows_the_same_runs_elsewhere_and_records_moves(
    engineer_client: Client, auditor_client: Client, data: Project
) -> None:
    page = engineer_client.get("/o/acme/p/ml/advice/?period=2026-11")
    row = page.context["comparison"][0]
    assert (row["provider"], row["region"], row["energy_kwh"]) == ("aws", "us-east-1", 21.0)
    cleanest = row["alternatives"][0]
    assert cleanest.kg == pytest.approx(21.0 * cleanest.g_co2e_per_kwh / 1000)
    move = {"provider": "aws", "from_region": "us-east-1", "to_region": "eu-north-1", "period": "2026-11"}
    assert auditor_client.post("/o/acme/p/ml/advice/", move).status_code == 403
    assert engineer_client.post("/o/acme/p/ml/advice/", move).status_code == 302
    assert RegionMove.objects.get().energy_kwh == 0.0  # no runs in eu-north-1 yet: nothing avoided
    bad = engineer_client.post("/o/acme/p/ml/advice/", {**move, "to_region": "atlantis-1"})
    assert bad.status_code == 400 and "atlantis-1" in bad.content.decode()


def test_the_models_page_flags_dominated_runs(engineer_client: Client, data: Project) -> None:
    rows = {r["run_id"]: r for r in engineer_client.get("/o/acme/p/ml/models/").context["rows"]}
    assert rows["r1"]["on_front"] and not rows["r2"]["on_front"] and rows["r2"]["dominated_by"] == "r1"


def test_user_strings_are_escaped_in_figures(engineer_client: Client, data: Project) -> None:
    services.run_model_set(
        project=data,
        run_id="r2",
        model="<img src=x onerror=alert(1)>",
        metric_name="accuracy",
        metric_value=0.9,
        higher_is_better=True,
        actor=None,
        actor_label="t",
    )
    figure = engineer_client.get("/o/acme/p/ml/models/").context["figure"]
    assert "&lt;img" in str(figure["data"]) and "<img" not in str(figure["data"])


def test_the_sci_page_says_what_each_role_can_do_without_pointing_to_pages_they_cannot_open(
    engineer_client: Client, officer_client: Client, auditor_client: Client, data: Project
) -> None:
    engineer_page = engineer_client.get("/o/acme/p/ml/sci/").content.decode()
    assert "Notifications" not in engineer_page  # the old hint pointed engineers at an officer-only form
    assert "an officer of Acme Software names it" in engineer_page
    assert "Post how many units" in engineer_page
    assert "/o/acme/p/ml/budget/settings/" not in engineer_page
    officer_page = officer_client.get("/o/acme/p/ml/sci/").content.decode()
    assert "/o/acme/p/ml/budget/settings/" in officer_page
    auditor_page = auditor_client.get("/o/acme/p/ml/sci/").content.decode()
    assert "the project's engineers and officers post the unit counts" in auditor_page
    ProjectSteering.objects.create(project=data, functional_unit="training run")
    assert "names it" not in engineer_client.get("/o/acme/p/ml/sci/").content.decode()
