"""The audit-log page and its CSV: readable changes, object links, filters, pagination, per role."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from greenesg.accounts.models import AuditLog, Organisation, Project
from greenesg.accounts.services import audit_log_write
from steering.models import Budget

pytestmark = pytest.mark.django_db

URL = "/o/acme/audit/"


def _entry(org: Organisation, at: dt.datetime | None = None, **fields: object) -> AuditLog:
    entry = audit_log_write(organisation=org, actor=None, **fields)  # type: ignore[arg-type]
    if at is not None:  # `at` is auto_now_add: set it afterwards to place entries on given days
        AuditLog.objects.filter(pk=entry.pk).update(at=at)
    return entry


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


@pytest.fixture
def log(org: Organisation, project: Project, officer: User) -> dict[str, AuditLog]:
    budget = Budget.objects.create(project=project, period="2026-Q3", kg=100)
    return {
        "project": _entry(
            org,
            dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC),
            action="project.update",
            object_type="project",
            object_id=str(project.pk),
            before={"name": "ML", "site_pue": 1.2, "meta": {"owner": "a"}},
            after={"name": "ML platform", "site_pue": 1.2, "meta": {"owner": "b"}},
            actor_label="olivia",
        ),
        "budget": _entry(
            org,
            dt.datetime(2026, 3, 2, 23, 59, tzinfo=dt.UTC),
            action="budget.update",
            object_type="budget",
            object_id=str(budget.pk),
            before={"kg": 80.0},
            after={"kg": 100.0},
            actor_label="erin",
        ),
        "report": _entry(
            org,
            dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC),
            action="report.sign",
            object_type="esrs_report",
            object_id="7",
            after={"status": "signed"},
            actor_label="olivia",
            reason="=cmd|' /C calc'!A0",
        ),
        "rule": _entry(
            org,
            dt.datetime(2026, 3, 4, tzinfo=dt.UTC),
            action="attribution_rule.delete",
            object_type="attribution_rule",
            object_id="3",
            before={"pattern": "team-*"},
            actor_label="olivia",
        ),
    }


def test_the_page_shows_who_when_what_and_field_changes(auditor_client: Client, log, project: Project) -> None:
    response = auditor_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "2026-03-01 09:00:00" in body and "olivia" in body and "project.update" in body
    assert "<code>name</code>: ML → ML platform" in body
    assert "<code>meta.owner</code>: a → b" in body
    assert "site_pue" not in body  # unchanged fields are left out
    assert "<code>kg</code>: 80.0 → 100.0" in body
    assert "{&#x27;" not in body and "{'" not in body  # never a Python dict repr


def test_objects_link_to_their_pages_and_deleted_ones_do_not(auditor_client: Client, log, project: Project) -> None:
    body = auditor_client.get(URL).content.decode()
    assert f'href="/o/acme/p/ml/">project {project.pk}</a>' in body
    assert f'href="/o/acme/p/ml/budget/">budget {log["budget"].object_id}</a>' in body
    assert 'href="/o/acme/esrs/7/">esrs_report 7</a>' in body
    assert "attribution_rule 3" in body and "/billing/rules/3/" not in body


def test_links_never_point_into_another_organisation(
    auditor_client: Client, org: Organisation, foreign_project: Project
) -> None:
    # A logged id that is another organisation's project must not be resolved into a link.
    _entry(org, action="project.update", object_type="project", object_id=str(foreign_project.pk), after={"a": 1})
    body = auditor_client.get(URL).content.decode()
    assert f"project {foreign_project.pk}" in body
    assert f"/p/{foreign_project.slug}/" not in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("user=erin", {"budget"}),
        ("action=report.sign", {"report"}),
        ("object_type=project", {"project"}),
        ("date_from=2026-03-02&date_to=2026-03-02", {"budget"}),  # the whole UTC day, up to 23:59
        ("date_from=2026-03-03", {"report", "rule"}),
        ("date_to=2026-03-01", {"project"}),
        ("user=olivia&object_type=esrs_report", {"report"}),
        ("user=audrey", set()),  # a member who did nothing: an empty page, not an error
    ],
)
def test_filters_narrow_the_page(auditor_client: Client, log, query: str, expected: set[str]) -> None:
    response = auditor_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    shown = {name for name, entry in log.items() if f">{entry.action}</code>" in response.content.decode()}
    assert shown == expected


@pytest.mark.parametrize(
    "query",
    [
        "user=nobody",
        "action=drop.table",
        "object_type=unknown",
        "date_from=2026-13-01",
        "date_to=yesterday",
        "date_from=2026-03-05&date_to=2026-03-01",
        "page=0",
        "page=abc",
        "format=xlsx",
    ],
)
def test_bad_filters_are_a_400_with_a_message(auditor_client: Client, log, query: str) -> None:
    response = auditor_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert 'id="filter-errors"' in response.content.decode()
    assert "project.update</code>" not in response.content.decode()  # no data on a refused filter


def test_pages_keep_the_filters(auditor_client: Client, org: Organisation) -> None:
    for n in range(55):
        _entry(org, action="token.create", object_type="api_token", object_id=str(n), actor_label="olivia")
    _entry(org, action="project.create", object_type="project", object_id="1", actor_label="olivia")
    first = auditor_client.get(f"{URL}?action=token.create").content.decode()
    assert "Page 1 of 2" in first
    assert 'href="?action=token.create&amp;page=2"' in first
    second = auditor_client.get(f"{URL}?action=token.create&page=2").content.decode()
    assert second.count(">token.create</code>") == 5 and "project.create</code>" not in second


def test_anonymous_users_are_sent_to_login(client: Client, log) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(f"{URL}?format=csv").status_code == 302


def test_outsiders_get_404(outsider_client: Client, log) -> None:
    assert outsider_client.get(URL).status_code == 404
    assert outsider_client.get(f"{URL}?format=csv").status_code == 404


def test_engineers_lack_the_capability(engineer_client: Client, log) -> None:
    assert engineer_client.get(URL).status_code == 403
    assert engineer_client.get(f"{URL}?format=csv&user=erin").status_code == 403


def test_officers_read_it_too(officer_client: Client, log) -> None:
    assert officer_client.get(URL).status_code == 200


def test_the_csv_applies_the_filters(auditor_client: Client, log) -> None:
    rows = _csv(auditor_client.get(f"{URL}?format=csv&user=olivia&date_from=2026-03-01&date_to=2026-03-03"))
    assert rows[0] == ["at_utc", "actor", "action", "object_type", "object_id", "changes", "before", "after", "reason"]
    assert [row[2] for row in rows[1:]] == ["report.sign", "project.update"]


def test_the_csv_has_readable_changes_and_json_snapshots(auditor_client: Client, log) -> None:
    rows = _csv(auditor_client.get(f"{URL}?format=csv&object_type=project"))
    (row,) = rows[1:]
    assert row[0] == "2026-03-01T09:00:00+00:00"
    assert row[5] == "meta.owner: a → b; name: ML → ML platform"  # alphabetical on every database
    assert json.loads(row[6]) == {"name": "ML", "site_pue": 1.2, "meta": {"owner": "a"}}
    assert json.loads(row[7])["name"] == "ML platform"


def test_the_csv_is_formula_safe(auditor_client: Client, log) -> None:
    response = auditor_client.get(f"{URL}?format=csv&action=report.sign")
    assert response["Content-Disposition"].startswith("attachment")
    (row,) = _csv(response)[1:]
    assert row[8] == "'=cmd|' /C calc'!A0"
    assert not [cell for r in _csv(auditor_client.get(f"{URL}?format=csv")) for cell in r if cell.startswith("=")]


@pytest.mark.parametrize(
    ("object_type", "object_id", "url_name"),
    [
        ("esrs_report", "7", "esrs-report-detail"),
        ("import_job", "0b7c6f0e-5a51-4c54-9a2e-3c1f1d2b7e10", "import-detail"),
        ("esg_value", "2026-Q3/S1-6.headcount", "esg-metric"),
        ("attribution_rule", "3", "billing-rule-edit"),
        ("factor_set", "grid@v2", "esg-factor-requests"),
        ("residualmixfactor", "4", "esrs-settings-section"),
        ("reportingsettings", "1", "esrs-settings"),
        ("scope3screening", "2", "esrs-screening"),
        ("other_activity_import", "5", "esrs-other-import-detail"),
        ("membership", "9", "org-members"),
        ("org_target", "1", "steering-org-target"),
    ],
)
def test_each_logged_object_type_links_to_a_page_that_exists(
    org: Organisation, object_type: str, object_id: str, url_name: str
) -> None:
    from django.urls import resolve

    from greenesg.accounts.selectors import audit_object_links

    entry = _entry(org, action=f"{object_type}.update", object_type=object_type, object_id=object_id)
    url = audit_object_links(organisation=org, entries=[entry])[entry.pk]
    assert url.startswith("/o/acme/") and resolve(url).url_name == url_name


def test_an_id_the_page_cannot_take_gets_no_link(org: Organisation) -> None:
    from greenesg.accounts.selectors import audit_object_links

    entry = _entry(org, action="import.create", object_type="import_job", object_id="not-a-uuid")
    odd = _entry(org, action="x.update", object_type="never_heard_of", object_id="1")
    assert audit_object_links(organisation=org, entries=[entry, odd]) == {}


def test_the_page_costs_a_fixed_number_of_queries(
    auditor_client: Client, org: Organisation, project: Project, django_assert_max_num_queries
) -> None:
    budgets = [Budget.objects.create(project=project, period=f"2026-{m:02d}", kg=1) for m in range(1, 13)]
    for budget in budgets:
        _entry(org, action="budget.update", object_type="budget", object_id=str(budget.pk), after={"kg": 1})
        _entry(org, action="project.update", object_type="project", object_id=str(project.pk), after={"a": 1})
    with django_assert_max_num_queries(14):
        body = auditor_client.get(URL).content.decode()
    assert body.count('href="/o/acme/p/ml/budget/"') == 12
