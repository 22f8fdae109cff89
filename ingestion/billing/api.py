"""Billing imports API at organisation level: `POST /api/v1/orgs/<org>/billing/imports` (officer session).

Project tokens are for codecarbon and cannot import billing data (a billing export spans the organisation).
The body is streamed to storage while hashing, exactly as the codecarbon endpoint does; the format is
detected by the worker from the header.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.http import parse_header_parameters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, parsers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from greenesg.accounts.access import Capability, OrgAccess, org_access_for_user
from greenesg.accounts.models import ApiToken
from greenesg.http import session_user
from ingestion import storage
from ingestion.api import (
    PayloadTooLarge,
    RawBody,
    StreamedUploadMixin,
    error_responses,
    request_content_length,
)
from ingestion.forms import display_name, stored_head
from ingestion.models import ImportJob, JobKind, JobOrigin
from ingestion.serializers import ImportJobSerializer, ImportJobSubmitSerializer
from ingestion.storage import StoredFile, UploadTooLarge

DEFAULT_RAW_NAME = "billing.csv"

BILLING_UPLOAD_SCHEMA: dict[str, Any] = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary", "description": "A billing or carbon export"}},
        "required": ["file"],
    },
    "application/octet-stream": {
        "type": "string",
        "format": "binary",
        "description": "The file as the raw body (.csv, .csv.gz, .zip or .parquet).",
    },
}


class RawBillingParser(parsers.BaseParser):
    """Any non-multipart body (text/csv, application/gzip, application/zip …) is left for streaming."""

    media_type = "*/*"

    # The view streams the body itself (not the Mapping the stub expects a parser to return).
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> RawBody:  # type: ignore[override]
        return RawBody(stream)


def api_org_access(request: Request, org_slug: str, *, write: bool = False) -> OrgAccess:
    """Officers (and, for reads, auditors) of the organisation; outsiders 404, project tokens 403."""
    if isinstance(request.auth, ApiToken):
        raise exceptions.PermissionDenied("Project tokens import codecarbon files only; billing needs an officer.")
    access = org_access_for_user(request.user, org_slug)
    if not access.can(Capability.VIEW_WHOLE_ORG) or (write and not access.can(Capability.MANAGE_BILLING)):
        raise exceptions.PermissionDenied("Only officers import billing data (auditors read it).")
    return access


def _billing_job_payload(request: Request, job: ImportJob, *, created: bool) -> Response:
    body = ImportJobSubmitSerializer(job, context={"request": request, "already_imported": not created}).data
    body["url"] = request.build_absolute_uri(reverse("api-billing-import-detail", args=[job.organisation.slug, job.pk]))
    response = Response(body, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)
    response["Location"] = body["url"]
    return response


class BillingImportsView(StreamedUploadMixin, generics.ListAPIView):
    serializer_class = ImportJobSerializer
    parser_classes = [parsers.MultiPartParser, RawBillingParser]

    def get_queryset(self) -> Any:
        access = api_org_access(self.request, self.kwargs["org_slug"])
        return ImportJob.objects.filter(organisation=access.organisation, kind=JobKind.BILLING).select_related(
            "organisation", "project"
        )

    @extend_schema(
        summary="List the organisation's billing imports",
        tags=["billing"],
        responses={200: ImportJobSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Import a cloud billing or provider carbon export",
        tags=["billing"],
        description=(
            "Officers only (session). Send the file as multipart field `file`, or as the raw body "
            '(`Content-Disposition: attachment; filename="cur.csv.gz"`). The format (AWS CUR legacy or 2.0, GCP, '
            "Azure, FOCUS, provider carbon exports) is detected from the header. 202 with the job for a new "
            "import; 200 with `already_imported: true` for content imported before."
        ),
        request=BILLING_UPLOAD_SCHEMA,
        responses={
            202: OpenApiResponse(ImportJobSubmitSerializer, description="New import queued."),
            200: OpenApiResponse(ImportJobSubmitSerializer, description="Already imported."),
            **error_responses(400, 401, 403, 404, 411, 413, 429),
        },
    )
    def post(self, request: Request, org_slug: str) -> Response:
        from ingestion.billing.pipeline import billing_job_submit, billing_upload_problem

        access = api_org_access(request, org_slug, write=True)
        stored, name = _receive_billing_file(request)
        problem = billing_upload_problem(name, stored_head(stored.absolute_path))
        if problem:
            storage.discard(stored.relative_path)
            raise exceptions.ValidationError({"file": problem})
        submission = billing_job_submit(
            organisation=access.organisation,
            origin=JobOrigin.API,
            stored=stored,
            original_name=name,
            created_by=session_user(request),
        )
        return _billing_job_payload(request, submission.job, created=submission.created)


def _receive_billing_file(request: Request) -> tuple[StoredFile, str]:
    if request_content_length(request) > settings.MAX_UPLOAD_BYTES + (64 * 1024):
        raise PayloadTooLarge(f"The file is larger than the limit of {settings.MAX_UPLOAD_BYTES:,} bytes.")
    data = request.data
    if isinstance(data, RawBody):
        _, params = parse_header_parameters(request.headers.get("Content-Disposition", ""))
        name, chunks = display_name(params.get("filename", "")) or DEFAULT_RAW_NAME, data.chunks()
    else:
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": "Send the file as multipart field 'file' or as the raw body."})
        name, chunks = display_name(upload.name or ""), upload.chunks()
    try:
        return storage.store_chunks(chunks), name
    except UploadTooLarge as exc:
        raise PayloadTooLarge(f"The {exc}.") from exc


class BillingImportDetailView(APIView):
    @extend_schema(
        summary="One billing import: status, progress and counts",
        tags=["billing"],
        responses={200: ImportJobSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, org_slug: str, job_id: Any) -> Response:
        access = api_org_access(request, org_slug)
        job = ImportJob.objects.filter(organisation=access.organisation, kind=JobKind.BILLING, pk=job_id).first()
        if job is None:
            raise exceptions.NotFound("Not found.")
        body = ImportJobSerializer(job, context={"request": request}).data
        body["totals"] = job.totals
        return Response(body)
