"""The authorisation matrix over every URL pattern of the app (docs/security.md §2).

Patterns are discovered from the URLconf, so a new page or endpoint is covered the day it is added:
anonymous users never see data (login redirect or 401/403), outsiders and engineers of other
projects get 404, and no persona ever causes a server error.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from greenesg.accounts.models import Membership
from greenesg.footprint.models import LedgerEntry
from ingestion import storage
from ingestion.codecarbon.synthetic import generate_csv
from ingestion.jobs import import_job_submit
from ingestion.models import ImportJob
from ingestion.process import import_job_process
from tests.site_map import url_fill, url_patterns

pytestmark = pytest.mark.django_db

# Reachable without logging in, by design (the probes answer ok/unready and name no tenant data;
# docs/operations.md).
PUBLIC = {"login", "api-schema", "api-docs", "api-redoc"}
# Token in the path, no session (codecarbon's live output); POST only.
TOKEN_IN_PATH = {"api-live-record"}
# Guarded by the caller's address or a scrape token, not by a session (tests/test_observability.py); no tenant data.
OPERATOR_ENDPOINTS = {"metrics"}
# Liveness and readiness probes: unauthenticated by design, they name components only (tests/test_health.py).
PROBES = {"healthz", "readyz"}


def _values(project_slug: str, objects: dict[str, str]) -> dict[str, str]:
    return {
        "org_slug": "acme",
        "project_slug": project_slug,
        "experiment": "_none",
        "period": "2026-Q3",
        "action": "approve",
        "code": "S1-6.headcount",
        "fmt": "pdf",
        "section": "targets",
        **objects,
    }


@pytest.fixture
def objects(project, officer, engineer, auditor, outsider, project_token) -> dict[str, str]:
    content = generate_csv(runs=3, start=dt.datetime(2026, 7, 1), days=5)  # noqa: DTZ001 - host local time
    submission = import_job_submit(
        project=project,
        kind="codecarbon",
        origin="cli",
        stored=storage.store_chunks([content]),
        original_name="e.csv",
        enqueue=False,
    )
    import_job_process(job_id=str(submission.job.pk))
    job = ImportJob.objects.get(pk=submission.job.pk)
    entry = LedgerEntry.objects.filter(project=project).first()
    assert entry is not None
    return {
        "job_id": str(job.pk),
        "pk": str(entry.pk),
        "run_id": entry.run_id,
        "token": "ges_ci_0_unknown",
        "token_id": str(project.tokens.first().pk),
        "membership_id": str(Membership.objects.get(user=engineer).pk),
    }


def _urls(project_slug: str, objects: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    for route, name in url_patterns():
        if route.startswith("admin/") or name in PUBLIC | TOKEN_IN_PATH | OPERATOR_ENDPOINTS | PROBES or name == "home":
            continue
        if "project_slug" not in route and project_slug != "ml":
            continue
        url = url_fill(route, _values(project_slug, objects))
        if url is not None:
            found.append((name, url))
    return found


def test_every_pattern_is_covered(objects) -> None:
    skipped = [
        name
        for route, name in url_patterns()
        if not route.startswith("admin/") and url_fill(route, _values("ml", objects)) is None
    ]
    assert skipped == [], f"add values for these patterns' parameters: {skipped}"


def test_anonymous_users_never_see_data(client: Client, objects) -> None:
    for name, url in _urls("ml", objects):
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code in {401, 403, 405}, (name, url, response.status_code)
        else:
            assert response.status_code in {302, 405}, (name, url, response.status_code)
            if response.status_code == 302:
                assert "/login/" in response["Location"], (name, url)


def test_outsiders_get_404_for_another_organisations_urls(outsider_client: Client, objects) -> None:
    for name, url in _urls("ml", objects):
        if "acme" not in url:
            continue  # not organisation-scoped (e.g. region advice): nothing of acme's to hide
        response = outsider_client.get(url)
        assert response.status_code in {404, 405}, (name, url, response.status_code)


def test_engineers_get_404_for_projects_they_are_not_members_of(engineer_client: Client, objects) -> None:
    for name, url in _urls("web", objects):
        response = engineer_client.get(url)
        assert response.status_code in {403, 404, 405}, (name, url, response.status_code)
        if "project_slug" in url or "/p/web/" in url or "/projects/acme/web/" in url:
            assert response.status_code in {404, 405}, (name, url, response.status_code)


@pytest.mark.parametrize("persona", ["officer_client", "engineer_client", "auditor_client"])
def test_no_page_fails_for_members(persona: str, request, objects) -> None:
    client: Client = request.getfixturevalue(persona)
    for name, url in _urls("ml", objects):
        response = client.get(url)
        assert response.status_code < 500, (persona, name, url, response.status_code)


def test_a_project_token_reaches_only_its_own_project(client: Client, objects, project_token, other_project) -> None:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {project_token}"}
    for name, url in _urls("web", objects):
        if url.startswith("/api/v1/projects/acme/web/"):
            # 404 for the other project, or 403 where the token's scope excludes the route anyway.
            assert client.get(url, **headers).status_code in {403, 404, 405}, (name, url)


def test_a_token_without_the_read_scope_reads_nothing_of_its_own_project(client: Client, objects, project, officer):
    from greenesg.accounts.services import api_token_create

    raw = api_token_create(project=project, name="write only", created_by=officer, scopes=["ingest"]).raw
    for name, url in _urls("ml", objects):
        if url.startswith("/api/v1/"):
            response = client.get(url, HTTP_AUTHORIZATION=f"Bearer {raw}")
            assert response.status_code in {403, 405}, (name, url, response.status_code)
