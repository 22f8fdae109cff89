"""Browser pages for imports: upload, job result with live progress, downloads, the project's import list.

Every object is fetched through `_get_project_for_user` / `_get_job_for_user`, which answer 404 to
outsiders and non-members (docs/security.md §2).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from greenesg.accounts.access import Capability, ProjectAccess, org_access_for_request, project_access_for_request
from greenesg.accounts.models import Organisation, Project
from greenesg.http import AuthedHttpRequest
from greenesg.lib.csv_safe import safe_csv_response
from greenesg.lib.downloads import attachment_response
from ingestion import storage
from ingestion.forms import LimitedUploadHandler, UploadForm, display_name
from ingestion.models import ImportJob, JobKind, JobOrigin
from ingestion.retention import retention_notice
from ingestion.serializers import job_progress_percent
from ingestion.storage import UploadTooLarge

IMPORTS_PER_PAGE = 25
ERRORS_ON_PAGE = 200


# ---------------------------------------------------------------------------------------------- scoped fetches


def _get_project_for_user(request: HttpRequest, org_slug: str, project_slug: str) -> ProjectAccess:
    return project_access_for_request(request, org_slug, project_slug)


def _get_project_for_ingest(request: HttpRequest, org_slug: str, project_slug: str) -> ProjectAccess:
    access = _get_project_for_user(request, org_slug, project_slug)  # 404 first: never reveal existence
    if not access.can(Capability.WRITE_PROJECT_DATA):
        raise PermissionDenied("Your role cannot import into this project.")
    return access


def _get_job_for_user(request: HttpRequest, org_slug: str, job_id: uuid.UUID) -> ImportJob:
    org = org_access_for_request(request, org_slug)
    jobs = ImportJob.objects.select_related("project", "organisation").filter(organisation=org.organisation)
    if not org.can(Capability.VIEW_WHOLE_ORG):
        jobs = jobs.filter(project__in=org.visible_projects())
    job = jobs.filter(pk=job_id).first()
    if job is None:
        raise Http404("No such import")
    return job


def _url_or_none(name: str, *args: Any) -> str | None:
    # The organisation and project pages belong to the reports app; stay usable if a name is missing.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _crumbs(organisation: Organisation, project: Project | None, *tail: dict[str, Any]) -> list[dict[str, Any]]:
    crumbs = [{"label": organisation.name, "url": _url_or_none("org-overview", organisation.slug)}]
    if project is not None:
        url = _url_or_none("project-detail", organisation.slug, project.slug) or reverse(
            "project-imports", args=[organisation.slug, project.slug]
        )
        crumbs.append({"label": project.name, "url": url})
    return [*crumbs, *tail]


# ---------------------------------------------------------------------------------------------- upload


@csrf_exempt  # CSRF is checked by _upload_post, once our upload handlers are installed (Django docs)
@login_required
@require_http_methods(["GET", "POST"])
def project_upload(request: AuthedHttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    # Membership and role are checked before a byte of the body is read (docs/security.md §5).
    access = _get_project_for_ingest(request, org_slug, project_slug)
    if request.method != "POST":
        return _upload_page(request, access, UploadForm())
    request.upload_handlers = [LimitedUploadHandler(request), TemporaryFileUploadHandler(request)]
    try:
        return _upload_post(request, access)
    except UploadTooLarge as exc:
        return _upload_page(request, access, UploadForm(), too_large=str(exc), status=413)


@csrf_protect
def _upload_post(request: AuthedHttpRequest, access: ProjectAccess) -> HttpResponse:
    from ingestion.jobs import import_job_submit  # keeps the parsing stack off URL loading

    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _upload_page(request, access, form, status=400)
    upload = form.cleaned_data["file"]
    stored = storage.store_chunks(upload.chunks())  # streamed and hashed; the cap applies again here
    submission = import_job_submit(
        project=access.project,
        kind=JobKind.CODECARBON,
        origin=JobOrigin.UPLOAD,
        stored=stored,
        original_name=display_name(upload.name),
        created_by=request.user,
    )
    job = submission.job
    if not submission.created:
        messages.info(
            request,
            f"This file was already imported on {job.created_at:%Y-%m-%d %H:%M} UTC; "
            "nothing was changed. Here is that import.",
        )
    return redirect("import-detail", access.project.organisation.slug, job.pk)


def _upload_page(
    request: HttpRequest, access: ProjectAccess, form: UploadForm, *, too_large: str = "", status: int = 200
) -> HttpResponse:
    organisation, project = access.project.organisation, access.project
    context = {
        "organisation": organisation,
        "project": project,
        "form": form,
        "too_large": too_large,
        "breadcrumbs": _crumbs(organisation, project, {"label": "Upload"}),
    }
    return render(request, "ingestion/upload.html", context, status=status)


# ---------------------------------------------------------------------------------------------- job pages


@login_required
@require_GET
def import_detail(request: HttpRequest, org_slug: str, job_id: uuid.UUID) -> HttpResponse:
    job = _get_job_for_user(request, org_slug, job_id)
    errors = list(job.row_errors.all()[:ERRORS_ON_PAGE])
    context = {
        "job": job,
        "organisation": job.organisation,
        "project": job.project,
        "row_errors": errors,
        "more_errors": max(job.rows_rejected - len(errors), 0),
        "progress": job_progress_percent(job),
        "runs_url": _job_runs_url(job),
        "breadcrumbs": _crumbs(job.organisation, job.project, {"label": f"Import of {job.original_name}"}),
    }
    return render(request, "ingestion/import_detail.html", context)


def _job_runs_url(job: ImportJob) -> str | None:
    """The project's runs table narrowed to the runs this job created or updated (ledger rows keep the job
    that last wrote them), or None when the job wrote no runs."""
    if job.project is None or job.kind == JobKind.BILLING or not (job.records_new or job.records_updated):
        return None
    url = _url_or_none("project-detail", job.organisation.slug, job.project.slug)
    return f"{url}?job={job.pk}#runs-heading" if url else None


@login_required
@require_GET
def import_status(request: HttpRequest, org_slug: str, job_id: uuid.UUID) -> JsonResponse:
    job = _get_job_for_user(request, org_slug, job_id)
    response = JsonResponse(
        {
            "id": str(job.pk),
            "status": job.status,
            "status_display": job.get_status_display(),
            "stage": job.stage,
            "finished": job.is_finished,
            "progress": job_progress_percent(job),
            "rows_processed": job.rows_processed,
            "rows_read": job.rows_read,
            "rows_rejected": job.rows_rejected,
            "records_new": job.records_new,
            "records_updated": job.records_updated,
            "records_unchanged": job.records_unchanged,
            "error_message": job.error_message,
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def import_rejected_csv(request: HttpRequest, org_slug: str, job_id: uuid.UUID) -> HttpResponseBase:
    job = _get_job_for_user(request, org_slug, job_id)
    rows = job.row_errors.values_list("row", "column", "code", "message", "raw_value").iterator()
    stem = job.original_name.rsplit(".", 1)[0] or "import"
    return safe_csv_response(f"{stem}-rejected-rows.csv", ["line", "column", "code", "reason", "raw_value"], rows)


@login_required
@require_GET
def import_file(request: HttpRequest, org_slug: str, job_id: uuid.UUID) -> HttpResponseBase:
    job = _get_job_for_user(request, org_slug, job_id)
    if job.file_deleted_at is not None:
        return HttpResponse(retention_notice(job), status=410, content_type="text/plain; charset=utf-8")
    path = Path(storage.open_stored(job.stored_path)) if job.stored_path else None
    if path is None or not path.is_file():
        raise Http404("The original file is not stored for this import")
    # Never inline: the bytes are whatever the uploader sent (docs/security.md §5).
    return attachment_response(
        path.open("rb"), filename=job.original_name or "import.csv", content_type="application/octet-stream"
    )


@login_required
@require_GET
def project_imports(request: HttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    access = _get_project_for_user(request, org_slug, project_slug)
    jobs = ImportJob.objects.filter(project=access.project).select_related("created_by", "token")
    page = Paginator(jobs, IMPORTS_PER_PAGE).get_page(request.GET.get("page"))
    organisation, project = access.project.organisation, access.project
    context = {
        "organisation": organisation,
        "project": project,
        "page": page,
        "can_ingest": access.can(Capability.WRITE_PROJECT_DATA),
        "breadcrumbs": _crumbs(organisation, project, {"label": "Imports"}),
    }
    return render(request, "ingestion/project_imports.html", context)
