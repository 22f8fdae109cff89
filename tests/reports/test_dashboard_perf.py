"""Dashboards at the floor (issue 15 item 4): the project scope without model instances, single-flight cache
fills, the overview warmed after an import, gzip, and the project search box that replaced the 1,000-option select.
"""

from __future__ import annotations

import gzip
import threading
import time
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from greenesg.accounts.access import org_access_for_user
from greenesg.accounts.models import Membership, Project
from greenesg.footprint.ledger import dashboard_generation
from greenesg.middleware import TextGZipMiddleware
from ingestion.hooks import ImportPublished, after_import_hooks
from reports.apps import overview_warm_after_import_hook
from reports.dashboards import cache as dashboard_cache
from reports.dashboards import views
from reports.dashboards.filters import DashboardFilter, InvalidFilter
from reports.dashboards.selectors.rollups import PROJECT_SEARCH_LIMIT, ProjectRef, project_scope

pytestmark = pytest.mark.django_db


def _scope(user, **filters: Any):
    return project_scope(access=org_access_for_user(user, "acme"), flt=DashboardFilter(**filters))


# --- scope resolution -----------------------------------------------------------------------------------


def test_an_officer_sees_the_whole_organisation_and_any_project_or_team(officer, project, other_project) -> None:
    whole = _scope(officer)
    assert whole.ids is None and whole.unallocated
    assert [p.slug for p in whole.projects] == ["ml", "web"]  # by name
    assert all(isinstance(p, ProjectRef) for p in whole.projects)
    one = _scope(officer, projects=("web",))
    assert one.ids == (other_project.id,) and not one.unallocated
    assert _scope(officer, projects=("_unallocated",)).unallocated
    assert _scope(officer, team="data SCIENCE").ids == (project.id,)


def test_an_engineer_is_scoped_to_their_projects_with_the_same_messages(engineer, project, other_project) -> None:
    own = _scope(engineer)
    assert own.ids == (project.id,) and not own.unallocated
    assert [p.slug for p in own.projects] == ["ml"]
    with pytest.raises(InvalidFilter, match=r"^project 'web' is not a project you can see\.$"):
        _scope(engineer, projects=("web",))  # exists, but another team's
    with pytest.raises(InvalidFilter, match=r"^project 'nope' is not a project you can see\.$"):
        _scope(engineer, projects=("nope",))
    with pytest.raises(InvalidFilter, match=r"^project '_unallocated' is not a project you can see\.$"):
        _scope(engineer, projects=("_unallocated",))
    with pytest.raises(InvalidFilter, match=r"^no project you can see belongs to team 'Commerce'\.$"):
        _scope(engineer, team="Commerce")


def test_an_engineer_removed_from_a_project_loses_it_at_once_though_the_list_is_cached(engineer, project) -> None:
    assert _scope(engineer, projects=("ml",)).ids == (project.id,)  # the org's project list is now cached
    Membership.objects.get(user=engineer).projects.remove(project)
    with pytest.raises(InvalidFilter):
        _scope(engineer, projects=("ml",))
    assert _scope(engineer).ids == ()


def test_a_project_newer_than_the_cached_list_is_found(officer, engineer, project) -> None:
    _scope(officer)  # caches the list; bulk_create sends no signal, so nothing bumps the generation
    (new,) = Project.objects.bulk_create([Project(organisation=project.organisation, slug="new", name="New")])
    assert _scope(officer, projects=("new",)).ids == (new.id,)
    Membership.objects.get(user=engineer).projects.add(new)
    assert {p.slug for p in _scope(engineer).projects} == {"ml", "new"}


def test_saving_a_project_bumps_the_dashboard_generation(officer, project, django_capture_on_commit_callbacks) -> None:
    assert [p.name for p in _scope(officer).projects] == ["ML platform"]
    before = dashboard_generation(project.organisation_id)
    with django_capture_on_commit_callbacks(execute=True):
        project.name = "Machine learning"
        project.save()
    assert dashboard_generation(project.organisation_id) == before + 1
    assert [p.name for p in _scope(officer).projects] == ["Machine learning"]


def test_a_cached_overview_builds_no_project_rows(officer_client: Client, ledger) -> None:
    assert officer_client.get("/o/acme/").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert officer_client.get("/o/acme/").status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "accounts_project" in q["sql"]]


def _main(html: bytes) -> bytes:
    # The page around <main> carries a per-render CSRF token (the log-out form); the body must match exactly.
    return html[html.index(b"<main") : html.index(b"</main>")]


def test_a_cached_overview_reads_neither_the_overview_nor_the_project_list(
    officer_client: Client, ledger, monkeypatch
) -> None:
    first = officer_client.get("/o/acme/")  # renders and caches the body

    def not_on_a_hit(**kwargs: Any) -> None:
        raise AssertionError("a cached overview needs neither the figures nor the project list")

    monkeypatch.setattr(views.rollup_selectors, "org_overview_data", not_on_a_hit)
    monkeypatch.setattr(views.rollup_selectors, "visible_project_refs", not_on_a_hit)
    monkeypatch.setattr(views.rollup_selectors, "project_scope", not_on_a_hit)
    again = officer_client.get("/o/acme/")
    assert again.status_code == 200
    assert _main(again.content) == _main(first.content)
    assert b"kpi-kgco2e_location" in again.content
    for script in (b"/static/js/filters.js", b"/static/js/plotly.min.js", b"/static/js/charts.js"):
        assert script in again.content


def test_a_cached_hit_reads_the_body_from_the_cache_once(officer_client: Client, ledger, monkeypatch) -> None:
    officer_client.get("/o/acme/")
    from django.core.cache import caches

    backend = caches["default"]  # the object behind the `cache` proxy, in this thread
    reads: list[str] = []
    real_get = backend.get
    monkeypatch.setattr(backend, "get", lambda key, *a, **k: reads.append(key) or real_get(key, *a, **k))
    assert officer_client.get("/o/acme/").status_code == 200
    assert len([key for key in reads if "dashboard-body" in key]) == 1
    # The generation, then the body; the session (greenesg/accounts/sessions.py) and the navigation badges
    # (greenesg/accounts/nav_badges.py, one MGET in Redis) are read through the cache too, each once.
    dashboard = [key for key in reads if not key.startswith(("django.contrib.sessions", "nav-badges:"))]
    assert len(dashboard) <= 2, reads


def test_a_cached_overview_reads_the_membership_once_for_the_view_and_the_navigation(
    officer_client: Client, ledger
) -> None:
    officer_client.get("/o/acme/")
    with CaptureQueriesContext(connection) as queries:
        response = officer_client.get("/o/acme/")
    assert len([q for q in queries.captured_queries if 'FROM "accounts_membership"' in q["sql"]]) == 1
    assert b'aria-current="page">Overview' in response.content  # the navigation is still there


@pytest.mark.parametrize(
    "url",
    [
        "/o/acme/p/ml/",
        "/o/acme/records/?project=ml",
        "/o/acme/data-quality/",
        "/o/acme/budgets/",
        "/o/acme/esg/",
        "/o/acme/p/ml/imports/",
    ],
)
def test_a_page_reads_the_membership_once_for_the_view_and_the_navigation(
    officer_client: Client, ledger, url: str
) -> None:
    assert officer_client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = officer_client.get(url)
    assert response.status_code == 200
    assert len([q for q in queries.captured_queries if 'FROM "accounts_membership"' in q["sql"]]) == 1
    assert b">Overview</a>" in response.content  # the navigation is still there


def test_a_cached_project_page_reads_no_project_list_for_its_filter_form(
    officer_client: Client, ledger, other_project, monkeypatch
) -> None:
    overview = officer_client.get("/o/acme/")  # renders and caches the bodies and the form's choices
    first = officer_client.get("/o/acme/p/ml/")
    for team in (b'<option value="Commerce">', b'<option value="Data science">'):
        assert team in overview.content

    def not_on_a_hit(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a whole-organisation reader's filter form comes from one cached entry")

    monkeypatch.setattr(views.rollup_selectors, "org_project_refs", not_on_a_hit)
    again = officer_client.get("/o/acme/p/ml/")
    assert again.status_code == 200
    assert b"kpi-kgco2e_location" in again.content and b"kpi-kgco2e_location" in first.content
    assert b'<option value="aws">aws</option>' in again.content  # the form's choices, from the cached entry


def test_the_filter_form_offers_each_reader_the_teams_of_the_projects_they_see(
    officer_client: Client, engineer_client: Client, ledger
) -> None:
    for _ in range(2):  # a miss, then a hit of the cached choices
        officer = officer_client.get("/o/acme/").content
        engineer = engineer_client.get("/o/acme/").content
        assert b'<option value="Commerce">' in officer and b'<option value="Data science">' in officer
        assert b'<option value="Data science">' in engineer and b'<option value="Commerce">' not in engineer
        assert b'<option value="eu-west-1"' in officer and b'<option value="eu-west-1"' in engineer


def test_a_cached_empty_overview_loads_no_chart_scripts(officer_client: Client, org, project) -> None:
    for _ in range(2):  # a miss, then a hit
        response = officer_client.get("/o/acme/")
        assert b"No data yet" in response.content
        assert b"plotly.min.js" not in response.content and b"/static/js/filters.js" in response.content


def test_a_cached_overview_still_checks_an_engineers_project_filter(
    engineer_client: Client, engineer, ledger, project
) -> None:
    assert engineer_client.get("/o/acme/?project=ml").status_code == 200
    assert engineer_client.get("/o/acme/?project=ml").status_code == 200  # a hit
    assert engineer_client.get("/o/acme/?project=web").status_code == 400  # another team's: refused, hit or not
    Membership.objects.get(user=engineer).projects.remove(project)
    assert engineer_client.get("/o/acme/?project=ml").status_code == 400  # removed: the cached body is not served


# --- single flight --------------------------------------------------------------------------------------


def _concurrently(count: int, call) -> list[Any]:
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        results[i] = call()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_concurrent_misses_compute_once() -> None:
    calls: list[int] = []

    def compute() -> dict[str, int]:
        calls.append(1)
        time.sleep(0.3)
        return {"kg": 42}

    results = _concurrently(2, lambda: dashboard_cache.single_flight("sf:once", compute, version=3))
    assert results == [{"kg": 42}, {"kg": 42}]
    assert len(calls) == 1


def test_a_waiter_computes_itself_when_the_lock_holder_is_slow(monkeypatch) -> None:
    monkeypatch.setattr(dashboard_cache, "WAIT_SECONDS", 0.1)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        time.sleep(0.5)
        return 7

    started = time.monotonic()
    assert _concurrently(2, lambda: dashboard_cache.single_flight("sf:slow", compute)) == [7, 7]
    assert len(calls) == 2
    assert time.monotonic() - started < 1.0  # the waiter did not wait for the holder's lock to expire


def test_a_waiter_computes_at_once_when_the_lock_holder_fails() -> None:
    cache.add("lock:sf:failed", 1)  # a holder that has the lock …
    cache.delete("lock:sf:failed")  # … and lost it (an exception releases it in `finally`)
    assert dashboard_cache.single_flight("sf:failed", lambda: 5) == 5

    def failing() -> int:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError):
        dashboard_cache.single_flight("sf:failed2", failing)
    assert cache.get("lock:sf:failed2") is None  # released: the next caller computes without waiting


def test_a_cached_none_is_a_hit() -> None:
    calls: list[int] = []
    for _ in range(2):
        dashboard_cache.single_flight("sf:none", lambda: calls.append(1))
    assert len(calls) == 1


def test_a_viewer_waits_for_the_body_another_request_is_rendering(
    officer_client: Client, officer, ledger, monkeypatch
) -> None:
    context = views._overview_context(org_access_for_user(officer, "acme"), DashboardFilter())
    key = views._body_cache_key(context)
    assert cache.add(f"lock:{key}", 1)  # another request is rendering this body …

    def finish() -> None:  # … and stores it a moment later (cache only: no database in this thread)
        time.sleep(0.3)
        cache.set(key, "<p id=rendered-by-the-other-request></p>")
        cache.delete(f"lock:{key}")

    holder = threading.Thread(target=finish)
    holder.start()
    built: list[int] = []
    real = views._overview_parts
    monkeypatch.setattr(views, "_overview_parts", lambda *a, **k: built.append(1) or real(*a, **k))
    try:
        response = officer_client.get("/o/acme/")
    finally:
        holder.join()
    assert response.status_code == 200
    assert b"rendered-by-the-other-request" in response.content
    assert built == []


# --- warm after import ----------------------------------------------------------------------------------


def test_the_default_overview_is_warm_for_officers_and_auditors_after_an_import(
    officer_client: Client, auditor_client: Client, ledger, org, project, monkeypatch
) -> None:
    assert overview_warm_after_import_hook in after_import_hooks
    overview_warm_after_import_hook(ImportPublished(organisation_id=org.id, project_id=project.id, kind="codecarbon"))
    built: list[int] = []
    real = views._overview_parts
    monkeypatch.setattr(views, "_overview_parts", lambda *a, **k: built.append(1) or real(*a, **k))
    for client in (officer_client, auditor_client):
        response = client.get("/o/acme/")
        assert response.status_code == 200
        assert b"kpi-kgco2e_location" in response.content
    assert built == []
    assert b"Auditor" in auditor_client.get("/o/acme/").content  # each role's own body (the subtitle names it)


def test_the_warm_up_never_fails_an_import(org, project, monkeypatch, caplog) -> None:
    def broken(**kwargs: Any) -> int:
        raise RuntimeError("template error")

    monkeypatch.setattr(views, "overview_body_warm", broken)
    overview_warm_after_import_hook(ImportPublished(organisation_id=org.id, project_id=project.id, kind="codecarbon"))
    assert "overview warm-up after import failed" in caplog.text


def test_the_import_only_queues_the_warm_up_on_the_reports_queue(org, project, ledger, monkeypatch) -> None:
    """The import's hook enqueues; the render happens in the reports worker, outside the import's time to DONE."""
    from reports.dashboards import tasks

    rendered: list[int] = []
    queued: list[int] = []
    monkeypatch.setattr(views, "overview_body_warm", lambda **kwargs: rendered.append(kwargs["organisation_id"]))
    monkeypatch.setattr(tasks.overview_body_warm, "delay", lambda organisation_id: queued.append(organisation_id))
    overview_warm_after_import_hook(ImportPublished(organisation_id=org.id, project_id=project.id, kind="codecarbon"))
    assert queued == [org.id]
    assert rendered == []
    assert tasks.overview_body_warm.queue == "reports"


def test_one_warm_up_per_import_however_many_projects_it_touched(
    org, project, other_project, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    from greenesg.footprint.ledger import dashboard_generation_bump
    from reports.dashboards import tasks

    queued: list[int] = []
    monkeypatch.setattr(tasks.overview_body_warm, "delay", lambda organisation_id: queued.append(organisation_id))
    for touched in (project, other_project):
        overview_warm_after_import_hook(ImportPublished(organisation_id=org.id, project_id=touched.id, kind="aws"))
    assert queued == [org.id]
    with django_capture_on_commit_callbacks(execute=True):
        dashboard_generation_bump(org.id)  # the next import
    overview_warm_after_import_hook(ImportPublished(organisation_id=org.id, project_id=project.id, kind="aws"))
    assert queued == [org.id, org.id]


def test_the_warm_up_task_renders_the_default_overview(officer_client: Client, org, ledger, monkeypatch) -> None:
    from reports.dashboards import tasks

    tasks.overview_body_warm(org.id)
    built: list[int] = []
    real = views._overview_parts
    monkeypatch.setattr(views, "_overview_parts", lambda *a, **k: built.append(1) or real(*a, **k))
    assert officer_client.get("/o/acme/").status_code == 200
    assert built == []
    tasks.overview_body_warm(org.id + 1000)  # an organisation deleted since: nothing to do, no error


def _billing_import(org, tmp_path, rows: list[dict[str, str]]) -> None:
    from tests.billing.conftest import cur_text, import_file

    path = tmp_path / "cur.csv"
    path.write_text(cur_text(rows), encoding="utf-8")
    assert import_file(org, path).status == "done"


def test_a_billing_import_publishes_the_after_import_event_for_each_project_it_touched(
    org, project, other_project, officer, monkeypatch, tmp_path, django_capture_on_commit_callbacks
) -> None:
    from ingestion import hooks
    from ingestion.billing.rules import attribution_rule_create
    from tests.billing.conftest import cur_row

    data = {"provider": "", "note": "", "match_field": "tag", "tag_key": "team", "match_value": "ml"}
    attribution_rule_create(organisation=org, actor=officer, data={**data, "targets": ((project.pk, 100.0),)})
    seen: list[ImportPublished] = []
    monkeypatch.setattr(hooks, "after_import_hooks", [seen.append])
    with django_capture_on_commit_callbacks(execute=True):
        _billing_import(org, tmp_path, [cur_row(cost=3.0, team="ml"), cur_row("USE1-BoxUsage:m5.large", cost=1.0)])
    # The untagged line stays unallocated: its event names no project (other_project was not touched).
    assert seen == [
        ImportPublished(organisation_id=org.id, project_id=project.pk, kind="billing"),
        ImportPublished(organisation_id=org.id, project_id=None, kind="billing"),
    ]


def test_the_overview_is_warm_after_a_billing_import(
    officer_client: Client, org, ledger, monkeypatch, tmp_path, django_capture_on_commit_callbacks
) -> None:
    from tests.billing.conftest import cur_row

    assert officer_client.get("/o/acme/").status_code == 200  # cached before the import …
    with django_capture_on_commit_callbacks(execute=True):
        _billing_import(org, tmp_path, [cur_row(cost=3.0)])  # … which bumps the generation on commit
    built: list[int] = []
    real = views._overview_parts
    monkeypatch.setattr(views, "_overview_parts", lambda *a, **k: built.append(1) or real(*a, **k))
    assert officer_client.get("/o/acme/").status_code == 200
    assert built == []  # the reports task (eager in tests) rendered it after the import


# --- compression ----------------------------------------------------------------------------------------


def test_html_pages_are_gzipped(officer_client: Client, ledger) -> None:
    response = officer_client.get("/o/acme/", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response["Vary"]
    html = gzip.decompress(response.content)
    assert b"<html" in html and len(response.content) < len(html) / 2


def _through_gzip(response: HttpResponse | StreamingHttpResponse) -> HttpResponse | StreamingHttpResponse:
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip")
    return TextGZipMiddleware(lambda r: response).process_response(request, response)  # type: ignore[return-value]


def test_compressed_downloads_and_api_json_are_not_compressed() -> None:
    for content_type in ("application/pdf", "application/octet-stream", "application/zip", "application/json"):
        response = _through_gzip(HttpResponse(b"x" * 5000, content_type=content_type))
        assert not response.has_header("Content-Encoding"), content_type
        assert response.content == b"x" * 5000


def test_a_streamed_csv_is_compressed_once() -> None:
    rows = [b"a,b\n"] + [b"1,2\n"] * 500
    response = _through_gzip(StreamingHttpResponse(iter(rows), content_type="text/csv; charset=utf-8"))
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(b"".join(response.streaming_content)) == b"".join(rows)


# --- project search -------------------------------------------------------------------------------------


def test_the_filter_form_has_a_search_box_not_a_project_select(officer_client: Client, ledger) -> None:
    html = officer_client.get("/o/acme/?project=ml").content.decode()
    assert '<select name="project"' not in html
    assert 'name="project" value="ml"' in html
    assert '<option value="web">Web shop</option>' in html  # a small organisation's projects are listed inline


def test_a_large_organisation_gets_the_search_endpoint_instead_of_an_inline_list(
    officer_client: Client, org, ledger
) -> None:
    Project.objects.bulk_create([Project(organisation=org, slug=f"p{i:03}", name=f"Project {i:03}") for i in range(60)])
    cache.clear()
    html = officer_client.get("/o/acme/").content.decode()
    assert 'data-project-search="/o/acme/projects/search/"' in html
    assert "Project 059" not in html


def test_search_finds_the_readers_projects(officer_client: Client, project, other_project) -> None:
    response = officer_client.get("/o/acme/projects/search/", {"q": "SHOP"})
    assert response.status_code == 200
    assert response.json() == {"results": [{"slug": "web", "name": "Web shop", "team": "Commerce"}]}
    by_team = officer_client.get("/o/acme/projects/search/", {"q": "data sci"}).json()["results"]
    assert [p["slug"] for p in by_team] == ["ml"]


def test_search_returns_at_most_twenty(officer_client: Client, org) -> None:
    Project.objects.bulk_create([Project(organisation=org, slug=f"p{i:03}", name=f"Project {i:03}") for i in range(30)])
    results = officer_client.get("/o/acme/projects/search/", {"q": "project"}).json()["results"]
    assert len(results) == PROJECT_SEARCH_LIMIT
    assert results[0]["slug"] == "p000"


def test_an_engineer_finds_only_their_own_projects(engineer_client: Client, project, other_project) -> None:
    assert engineer_client.get("/o/acme/projects/search/", {"q": "web"}).json() == {"results": []}
    everything = engineer_client.get("/o/acme/projects/search/").json()["results"]
    assert [p["slug"] for p in everything] == ["ml"]


def test_search_anonymous_and_outsider(client: Client, outsider_client: Client, project) -> None:
    anonymous = client.get("/o/acme/projects/search/", {"q": "ml"})
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert outsider_client.get("/o/acme/projects/search/", {"q": "ml"}).status_code == 404


@pytest.mark.parametrize("text", ["x" * 101, "ml\x00"])
def test_search_refuses_bad_input(officer_client: Client, project, text: str) -> None:
    response = officer_client.get("/o/acme/projects/search/", {"q": text})
    assert response.status_code == 400
    assert "q must be at most 100 characters" in response.json()["error"]


def test_search_accepts_only_get(officer_client: Client, project) -> None:
    assert officer_client.post("/o/acme/projects/search/", {"q": "ml"}).status_code == 405
