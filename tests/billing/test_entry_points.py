"""Upload page, rules pages, reconciliation and dashboard per role; the API; the CLI; `footprint --json`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from greenesg.accounts.models import AuditLog
from greenesg.footprint.models import LedgerEntry
from ingestion.billing.cli import billing_ingest_cli
from ingestion.models import AttributionRule, BillingDelivery, ImportJob, JobStatus
from tests.billing.conftest import cur_row, cur_text, import_file

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "billing"
HOSTILE = "<img src=x onerror=alert(1)>"


def upload(client: Client, capture, text: str | None = None, name: str = "cur.csv") -> object:
    body = SimpleUploadedFile(name, (text or cur_text([cur_row()])).encode(), content_type="text/csv")
    with capture(execute=True):
        return client.post(reverse("billing-home", args=["acme"]), {"file": body})


# ---------------------------------------------------------------------------------------------- upload page


@pytest.mark.django_db
def test_an_officer_uploads_and_lands_on_the_job_page(officer_client, org, django_capture_on_commit_callbacks):
    response = upload(officer_client, django_capture_on_commit_callbacks)

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("import-detail", args=["acme", job.pk])
    assert (job.status, job.kind, job.project, job.created_by.username) == (JobStatus.DONE, "billing", None, "olivia")
    assert LedgerEntry.objects.filter(source="billing").count() == 1
    page = officer_client.get(response["Location"])
    assert page.status_code == 200 and b"Done" in page.content


@pytest.mark.django_db
def test_uploading_the_same_file_again_says_already_imported(officer_client, org, django_capture_on_commit_callbacks):
    upload(officer_client, django_capture_on_commit_callbacks)
    response = upload(officer_client, django_capture_on_commit_callbacks)

    assert ImportJob.objects.count() == 1
    page = officer_client.get(response["Location"])
    assert b"already imported" in page.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"), [("engineer_client", 403), ("auditor_client", 403), ("outsider_client", 404)]
)
def test_only_officers_upload(request, persona, status, org, django_capture_on_commit_callbacks):
    response = upload(request.getfixturevalue(persona), django_capture_on_commit_callbacks)

    assert response.status_code == status
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_anonymous_upload_goes_to_login(client, org, django_capture_on_commit_callbacks):
    response = upload(client, django_capture_on_commit_callbacks)
    assert response.status_code == 302 and "/login" in response["Location"]
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_file_that_is_not_a_billing_export_is_refused_at_the_form(
    officer_client, org, django_capture_on_commit_callbacks
):
    response = upload(officer_client, django_capture_on_commit_callbacks, text="x", name="report.pdf")
    assert response.status_code == 400 and b"ending in .csv" in response.content
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_bad_file_shows_the_readers_message_on_the_job_page(officer_client, org, django_capture_on_commit_callbacks):
    response = upload(officer_client, django_capture_on_commit_callbacks, text="a,b\n1,2\n")
    job = ImportJob.objects.get()
    assert job.status == JobStatus.FAILED
    page = officer_client.get(response["Location"])
    assert b"not a recognised billing or carbon export" in page.content
    assert not BillingDelivery.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"),
    [("officer_client", 200), ("auditor_client", 200), ("engineer_client", 403), ("outsider_client", 404)],
)
@pytest.mark.parametrize("name", ["billing-home", "billing-rules", "billing-reconciliation", "billing-dashboard"])
def test_billing_pages_per_role(request, org, officer, persona, status, name):
    import_file(org, FIXTURES / "cur_legacy.csv")
    response = request.getfixturevalue(persona).get(reverse(name, args=["acme"]))
    assert response.status_code == status


@pytest.mark.django_db
def test_the_deliveries_list_shows_active_and_superseded(officer_client, org, write_cur):
    import_file(org, write_cur([cur_row(cost=1.0)]))
    import_file(org, write_cur([cur_row(cost=2.0)]))
    page = officer_client.get(reverse("billing-home", args=["acme"])).content.decode()
    assert page.count('data-status="active"') == 1 and page.count('data-status="superseded"') == 1


@pytest.mark.django_db
def test_the_dashboard_shows_the_unallocated_bucket_and_escapes_names(officer_client, org, write_cur):
    import_file(org, write_cur([cur_row(cost=1.0, service=HOSTILE)]))
    page = officer_client.get(reverse("billing-dashboard", args=["acme"])).content.decode()

    assert 'id="billing-unallocated-kg"' in page and "Unallocated" in page
    assert HOSTILE not in page
    figure = page.split('id="fig-service" type="application/json">', 1)[1].split("</script>", 1)[0]
    assert "<img" not in json.loads(figure)["data"][0]["x"][0]


# ---------------------------------------------------------------------------------------------- rules pages


def rule_post(**fields: str) -> dict[str, str]:
    return {
        "provider": "",
        "match_field": "tag",
        "tag_key": "team",
        "match_value": "ml",
        "targets": "ml=60, web=40",
        "note": "",
        **fields,
    }


@pytest.mark.django_db
def test_an_officer_creates_edits_moves_and_deletes_rules(officer_client, org, project, other_project, write_cur):
    import_file(org, write_cur([cur_row(cost=10.0, team="ml")]))
    url = reverse("billing-rules", args=["acme"])

    assert officer_client.post(url, rule_post()).status_code == 302
    rule = AttributionRule.objects.get()
    assert sorted(LedgerEntry.objects.filter(source="billing").values_list("cost", flat=True)) == [4.0, 6.0]
    edit = reverse("billing-rule-edit", args=["acme", rule.pk])
    assert officer_client.get(edit).status_code == 200
    assert officer_client.post(edit, rule_post(targets="web")).status_code == 302
    assert list(LedgerEntry.objects.filter(source="billing").values_list("project_id", flat=True)) == [other_project.pk]
    officer_client.post(url, rule_post(match_field="account", match_value="*", tag_key="", targets="ml"))
    second = AttributionRule.objects.exclude(pk=rule.pk).get()
    assert (
        officer_client.post(reverse("billing-rule-move", args=["acme", second.pk]), {"direction": "up"}).status_code
        == 302
    )
    assert list(LedgerEntry.objects.filter(source="billing").values_list("project_id", flat=True)) == [project.pk]
    assert officer_client.post(reverse("billing-rule-delete", args=["acme", second.pk])).status_code == 302
    assert AttributionRule.objects.count() == 1
    assert AuditLog.objects.filter(object_type="attribution_rule").count() == 5


@pytest.mark.django_db
def test_rule_form_errors_are_400(officer_client, org, project):
    response = officer_client.post(reverse("billing-rules", args=["acme"]), rule_post(targets="nope", tag_key=""))
    assert response.status_code == 400
    assert b"no project with the slug" in response.content and b"tag key" in response.content
    assert not AttributionRule.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"), [("auditor_client", 403), ("engineer_client", 403), ("outsider_client", 404)]
)
def test_only_officers_write_rules(request, org, project, other_project, persona, status):
    response = request.getfixturevalue(persona).post(reverse("billing-rules", args=["acme"]), rule_post())
    assert response.status_code == status
    assert not AttributionRule.objects.exists()


@pytest.mark.django_db
def test_the_reconciliation_page_lists_gaps(auditor_client, org):
    import_file(org, FIXTURES / "gcp_billing.csv")
    import_file(org, FIXTURES / "gcp_carbon.csv")
    page = auditor_client.get(reverse("billing-reconciliation", args=["acme"])).content.decode()
    assert "Compute Engine" in page and "Unallocated" in page and " %</data>" in page


# ---------------------------------------------------------------------------------------------- API


def api_post(client: Client, org_slug: str = "acme", text: str | None = None, **extra: str) -> object:
    body = (text or cur_text([cur_row()])).encode()
    return client.post(
        reverse("api-billing-imports", args=[org_slug]),
        data=body,
        content_type="application/gzip" if body[:2] == b"\x1f\x8b" else "text/csv",
        HTTP_CONTENT_DISPOSITION='attachment; filename="cur.csv"',
        **extra,
    )


@pytest.mark.django_db
def test_the_api_imports_for_an_officer_and_answers_200_for_a_repeat(
    officer_client, org, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = api_post(officer_client)
    assert first.status_code == 202, first.content
    body = first.json()
    assert body["kind"] == "billing" and body["already_imported"] is False
    assert first["Location"].endswith(f"/api/v1/orgs/acme/billing/imports/{body['id']}")
    detail = officer_client.get(first["Location"]).json()
    assert detail["status"] == "done" and detail["totals"]["deliveries"] == 1

    again = api_post(officer_client)
    assert again.status_code == 200 and again.json()["already_imported"] is True
    assert officer_client.get(reverse("api-billing-imports", args=["acme"])).json()["count"] == 1


@pytest.mark.django_db
def test_the_api_takes_multipart_too(officer_client, org, django_capture_on_commit_callbacks):
    upload_file = SimpleUploadedFile("cur.csv", cur_text([cur_row()]).encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(reverse("api-billing-imports", args=["acme"]), {"file": upload_file})
    assert response.status_code == 202


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"),
    [("engineer_client", 403), ("auditor_client", 403), ("outsider_client", 404), ("client", 401)],
)
def test_the_api_refuses_non_officers(request, org, persona, status):
    response = api_post(request.getfixturevalue(persona))
    assert response.status_code == status
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_a_project_token_cannot_import_billing(client, org, project_token):
    response = api_post(client, HTTP_AUTHORIZATION=f"Bearer {project_token}")
    assert response.status_code == 403
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_the_api_refuses_a_wrong_file_name(officer_client, org):
    response = officer_client.post(
        reverse("api-billing-imports", args=["acme"]),
        data=b"a,b\n",
        content_type="text/csv",
        HTTP_CONTENT_DISPOSITION='attachment; filename="x.exe"',
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


# ---------------------------------------------------------------------------------------------- CLI


@pytest.mark.django_db
def test_the_cli_imports_reports_and_is_idempotent(org, write_cur):
    path = write_cur([cur_row()])
    out = io.StringIO()
    assert billing_ingest_cli([str(path)], org="acme", create=False, stdout=out) == 0
    assert "done (aws_cur_legacy)" in out.getvalue() and "aws 111122223333 2024-01 (active)" in out.getvalue()

    again = io.StringIO()
    assert billing_ingest_cli([str(path)], org="acme", create=False, stdout=again) == 0
    assert "already imported" in again.getvalue()


@pytest.mark.django_db
def test_the_cli_exits_1_on_a_refused_file_or_unknown_org(org, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    out = io.StringIO()
    assert billing_ingest_cli([str(bad)], org="acme", create=False, stdout=out) == 1
    assert "refused" in out.getvalue()
    assert billing_ingest_cli([str(bad)], org="nope", create=False, stdout=io.StringIO()) == 1


@pytest.mark.django_db
def test_the_cli_creates_the_organisation_on_request(db, write_cur):
    out = io.StringIO()
    assert billing_ingest_cli([str(write_cur([cur_row()]))], org="newco", create=True, stdout=out) == 0
    assert BillingDelivery.objects.get().organisation.slug == "newco"


@pytest.mark.django_db
def test_footprint_json_counts_billing_rows(org, write_cur):
    import_file(org, write_cur([cur_row()]))
    out = io.StringIO()
    call_command("footprint", "--org", "acme", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    text = json.dumps(summary)
    assert "scope3" in text
    kg = LedgerEntry.objects.get(source="billing").kgco2e_location
    assert any(abs(v - kg) < 1e-12 for v in _numbers(summary))


def _numbers(value: object) -> list[float]:
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return [float(value)] if isinstance(value, int | float) and not isinstance(value, bool) else []
