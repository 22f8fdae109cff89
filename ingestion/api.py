"""Import API: CI posts emissions files with a project token, polls the job, reads its rejected rows;
codecarbon's HTTP output posts live records to a token URL.

Bodies are streamed to private storage while hashing (docs/security.md §5); the size cap holds while
streaming, and project access is settled before the body is read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.http import parse_header_parameters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, parsers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from greenesg.accounts.models import ApiToken, Project, TokenScope
from greenesg.accounts.scopes import token_scope_require
from greenesg.accounts.tokens import token_authenticate
from greenesg.api import ErrorSerializer, LengthRequired, api_project_access
from greenesg.http import session_user
from ingestion import storage
from ingestion.forms import LimitedUploadHandler, content_problem, display_name, name_problem, stored_head
from ingestion.models import IdempotencyKey, ImportJob, JobKind, JobOrigin, RowError
from ingestion.serializers import (
    UPLOAD_REQUEST_SCHEMA,
    ImportJobSerializer,
    ImportJobSubmitSerializer,
    LiveRecordResponseSerializer,
    RowErrorSerializer,
    job_api_path,
)
from ingestion.storage import StoredFile, UploadTooLarge

log = logging.getLogger(__name__)

# codecarbon's HTTP output posts one record of 39 short fields: a few KB. Anything larger is not it.
LIVE_MAX_BYTES = 64 * 1024
RAW_CHUNK_BYTES = 256 * 1024
DEFAULT_RAW_NAME = "emissions.csv"
MAX_IDEMPOTENCY_KEY = 200
# Integers beyond 2**53 lose precision as floats and a 401-digit one overflows them: no codecarbon
# field (seconds, kWh, kg, counts) comes near, so a number of such magnitude is a broken or hostile record.
MAX_LIVE_NUMBER = 2**53
# Any flat object codecarbon sends is taken (its fields vary by version), but an empty one is no record.
LIVE_RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "additionalProperties": {
        "anyOf": [
            {"type": "string", "pattern": "^[^\\x00]*$"},
            {"type": "number", "minimum": -MAX_LIVE_NUMBER, "maximum": MAX_LIVE_NUMBER},
            {"type": "boolean"},
        ],
        "nullable": True,
    },
    "description": "One codecarbon emissions record, as its HTTPOutput posts it: field names to plain values "
    "(no NUL character in names or texts).",
}

_ERROR_TEXT = {
    400: "Invalid request (error shape).",
    401: "No, invalid, expired or revoked token.",
    403: "Your role cannot do this (auditors are read-only).",
    404: "No such project or job, or not yours.",
    409: "Idempotency-Key reused with a different body.",
    411: "No Content-Length (chunked bodies are not accepted).",
    413: "Body larger than the upload limit.",
    415: "Unsupported Content-Type.",
    429: "Too many requests.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_TEXT[code]) for code in codes}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is larger than the limit."
    default_code = "too_large"


class IdempotencyConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This Idempotency-Key was already used with a different body."
    default_code = "conflict"


class ApiUploadHandler(LimitedUploadHandler):
    """The byte-counting handler, answering with the API's 413 wherever the body happens to be parsed."""

    def handle_raw_input(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().handle_raw_input(*args, **kwargs)
        except UploadTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from exc

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        try:
            return super().receive_data_chunk(raw_data, start)
        except UploadTooLarge as exc:
            raise PayloadTooLarge(str(exc)) from exc


class RawBody:
    """A request body left unread by the parser, so the view can stream it to storage."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def chunks(self) -> Iterator[bytes]:
        while chunk := self.stream.read(RAW_CHUNK_BYTES):
            yield chunk


class CsvBodyParser(parsers.BaseParser):
    media_type = "text/csv"

    # The view streams the body itself (not the Mapping the stub expects a parser to return).
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> RawBody:  # type: ignore[override]
        return RawBody(stream)


class LiveJSONParser(parsers.BaseParser):
    """JSON capped at LIVE_MAX_BYTES. DRF's JSONParser would first read the body up to 2.5 MB."""

    media_type = "application/json"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        body = stream.read(LIVE_MAX_BYTES + 1)
        if len(body) > LIVE_MAX_BYTES:
            raise PayloadTooLarge(f"A live record is at most {LIVE_MAX_BYTES:,} bytes.")
        try:
            return json.loads(
                body.decode("utf-8"), parse_constant=_reject_constant, parse_int=_bounded_int, parse_float=_finite_float
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise exceptions.ParseError(f"JSON parse error: {exc}") from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 16 or abs(int(text)) > MAX_LIVE_NUMBER:
        raise ValueError(f"the number {text[:20]}… is out of range")
    return int(text)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number) or abs(number) > MAX_LIVE_NUMBER:
        raise ValueError(f"the number {text[:20]} is out of range")
    return number


class ProjectScopedRateThrottle(ScopedRateThrottle):
    """Counts per token: every token principal is an anonymous-like user without a pk.

    Fails open: the counter lives in the cache, and refusing every CI upload because the cache is
    unreachable would be worse than not counting for a while (the request is authenticated already).
    """

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:  # noqa: BLE001 - any cache failure (Redis, a file cache's disk): let it through
            log.warning("ingest throttle: cache unavailable, not limiting", exc_info=True)
            return True

    def get_cache_key(self, request: Request, view: APIView) -> str:
        if isinstance(request.auth, ApiToken):
            ident: Any = f"token{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = request.user.pk
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _is_chunked(request: Request) -> bool:
    return "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def request_content_length(request: Request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


# ---------------------------------------------------------------------------------------------- imports


class StreamedUploadMixin:
    """For import endpoints: bodies stream to disk under the byte cap, and only POSTs are throttled."""

    throttle_scope = "ingest"

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Installed before anything (session CSRF check included) can parse a multipart body.
        request.upload_handlers = [ApiUploadHandler(request), TemporaryFileUploadHandler(request)]
        return super().initialize_request(request, *args, **kwargs)  # type: ignore[misc]

    def get_throttles(self) -> list[BaseThrottle]:
        return [ProjectScopedRateThrottle()] if self.request.method == "POST" else []  # type: ignore[attr-defined]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        # Django reads a body up to Content-Length, so a chunked one (no length) arrives empty and would
        # surface as a misleading "no file" 400: name the real problem instead. (No length and no
        # chunking is simply an empty body, RFC 9110 §6.3.)
        if request.method == "POST" and _is_chunked(request):
            raise LengthRequired()


class ProjectImportsView(StreamedUploadMixin, generics.ListAPIView):
    serializer_class = ImportJobSerializer
    parser_classes = [parsers.MultiPartParser, CsvBodyParser]

    def get_queryset(self) -> Any:
        project = api_project_access(self.request, self.kwargs["org_slug"], self.kwargs["project_slug"])
        return ImportJob.objects.filter(project=project).select_related("project", "organisation")

    @extend_schema(
        summary="List the project's imports",
        tags=["imports"],
        responses={200: ImportJobSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Import a codecarbon file",
        tags=["imports"],
        description=(
            "Send the file as multipart field `file`, or as the raw body with `Content-Type: text/csv` "
            '(optionally `Content-Disposition: attachment; filename="emissions.csv"`). A new import answers '
            "202 with the job and a `Location` header; poll the job URL. The same content imported before "
            "answers 200 with `already_imported: true` and the earlier job. With an `Idempotency-Key`, a "
            "retry with the same body replays the job (200); the same key with another body is a 409."
        ),
        request=UPLOAD_REQUEST_SCHEMA,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Any unique string per logical request (max 200 characters), e.g. the CI job id.",
            )
        ],
        responses={
            202: OpenApiResponse(ImportJobSubmitSerializer, description="New import queued."),
            200: OpenApiResponse(ImportJobSubmitSerializer, description="Already imported, or a replay."),
            **error_responses(400, 401, 403, 404, 409, 411, 413, 415, 429),
        },
    )
    def post(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = api_project_access(request, org_slug, project_slug, write=True)
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise exceptions.ValidationError({"Idempotency-Key": f"at most {MAX_IDEMPOTENCY_KEY} characters"})
        stored, name = _receive_file(request)
        problem = content_problem(stored_head(stored.absolute_path))
        if problem:
            storage.discard(stored.relative_path)
            raise exceptions.ValidationError({"file": problem})
        return _submit(request, project, stored, name, key)


def _receive_file(request: Request) -> tuple[StoredFile, str]:
    """Stream the upload (multipart part or raw text/csv body) to storage; never read it whole."""
    if request_content_length(request) > settings.MAX_UPLOAD_BYTES + (64 * 1024):
        raise PayloadTooLarge(f"The file is larger than the limit of {settings.MAX_UPLOAD_BYTES:,} bytes.")
    data = request.data
    if isinstance(data, RawBody):
        _, params = parse_header_parameters(request.headers.get("Content-Disposition", ""))
        name, chunks = display_name(params.get("filename", "")) or DEFAULT_RAW_NAME, data.chunks()
    else:
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError(
                {"file": "Send the file as multipart field 'file' or as a text/csv request body."}
            )
        name, chunks = display_name(upload.name or ""), upload.chunks()
    problem = name_problem(name)
    if problem:
        raise exceptions.ValidationError({"file": problem})
    try:
        return storage.store_chunks(chunks), name
    except UploadTooLarge as exc:
        raise PayloadTooLarge(f"The {exc}.") from exc


def _submit(request: Request, project: Project, stored: StoredFile, name: str, key: str) -> Response:
    """Create the job; with an Idempotency-Key, record it in the same transaction.

    A concurrent request with the same key loses on the key's unique constraint: its transaction
    (job included) rolls back and it replays the winner's job, so one key never makes two jobs.
    """
    from ingestion.jobs import import_job_submit  # keeps the parsing stack off URL loading

    if key:
        earlier = IdempotencyKey.objects.filter(project=project, key=key).select_related("job").first()
        if earlier is not None:
            storage.discard(stored.relative_path)
            return _replay(request, earlier, stored.sha256)
    try:
        with transaction.atomic():
            submission = import_job_submit(
                project=project,
                kind=JobKind.CODECARBON,
                origin=JobOrigin.API,
                stored=stored,
                original_name=name,
                created_by=session_user(request) if not isinstance(request.auth, ApiToken) else None,
                token=request.auth if isinstance(request.auth, ApiToken) else None,
            )
            if key:
                IdempotencyKey.objects.create(project=project, key=key, request_hash=stored.sha256, job=submission.job)
    except IntegrityError:
        storage.discard(stored.relative_path)
        if not key:
            raise
        earlier = IdempotencyKey.objects.select_related("job").get(project=project, key=key)
        return _replay(request, earlier, stored.sha256)
    return _job_response(request, submission.job, created=submission.created)


def _replay(request: Request, earlier: IdempotencyKey, request_hash: str) -> Response:
    if earlier.request_hash != request_hash:
        raise IdempotencyConflict()
    job = ImportJob.objects.select_related("project", "organisation").get(pk=earlier.job_id)
    response = _job_response(request, job, created=False, already_imported=False)
    response["Idempotent-Replayed"] = "true"
    return response


def _job_response(request: Request, job: ImportJob, *, created: bool, already_imported: bool | None = None) -> Response:
    context = {"request": request, "already_imported": (not created) if already_imported is None else already_imported}
    body = ImportJobSubmitSerializer(job, context=context).data
    response = Response(body, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)
    path = job_api_path(job)
    if path:
        response["Location"] = request.build_absolute_uri(path)
    return response


class ImportDetailView(APIView):
    token_ci_gate = True  # tools/greenesg-ci polls its import here (scope ci-gate)

    @extend_schema(
        summary="One import: status, progress and counts",
        tags=["imports"],
        responses={200: ImportJobSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, org_slug: str, project_slug: str, job_id: Any) -> Response:
        job = _get_job(request, org_slug, project_slug, job_id)
        return Response(ImportJobSerializer(job, context={"request": request}).data)


class ImportErrorsView(generics.ListAPIView):
    serializer_class = RowErrorSerializer

    def get_queryset(self) -> Any:
        job = _get_job(self.request, self.kwargs["org_slug"], self.kwargs["project_slug"], self.kwargs["job_id"])
        return RowError.objects.filter(job=job).order_by("row", "id")

    @extend_schema(
        summary="Rejected rows of an import (line, column, reason, raw value)",
        tags=["imports"],
        responses={200: RowErrorSerializer(many=True), **error_responses(401, 404)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


def _get_job(request: Request, org_slug: str, project_slug: str, job_id: Any) -> ImportJob:
    project = api_project_access(request, org_slug, project_slug)
    job = ImportJob.objects.select_related("project", "organisation").filter(project=project, pk=job_id).first()
    if job is None:
        raise exceptions.NotFound("Not found.")
    return job


# ---------------------------------------------------------------------------------------------- live


class LiveRecordView(APIView):
    """codecarbon's `emissions_endpoint`: it sends no auth header, so the token is the last path segment."""

    authentication_classes: list[Any] = []  # no session, hence no CSRF: the token is the credential
    permission_classes = [AllowAny]
    parser_classes = [LiveJSONParser]
    throttle_classes = [ScopedRateThrottle]  # per client IP, before the token is even looked up
    throttle_scope = "live"

    @extend_schema(
        summary="Receive one cumulative codecarbon record (HTTPOutput)",
        description=(
            "Set codecarbon's `emissions_endpoint` to this URL. Each flush posts the cumulative record of "
            "the run; a later record of the same run replaces the earlier one. Always 201 on success, also "
            "for an exact repeat (`already_imported: true`), since codecarbon treats anything else as an "
            "error. An unknown or revoked token is a 404."
        ),
        request={"application/json": LIVE_RECORD_SCHEMA},
        tags=["live"],
        responses={201: LiveRecordResponseSerializer, **error_responses(400, 404, 413, 415, 429)},
        examples=[
            OpenApiExample(
                "record",
                request_only=True,
                value={
                    "timestamp": "2026-11-26T17:16:22",
                    "project_name": "training",
                    "run_id": "869595a9-7f97-4f6c-bdea-b854a62f3c00",
                    "duration": 5.0,
                    "emissions": 2.1e-06,
                    "energy_consumed": 3.8e-05,
                    "country_iso_code": "FRA",
                    "on_cloud": "N",
                    "codecarbon_version": "3.3.2",
                },
            )
        ],
    )
    def post(self, request: Request, token: str) -> Response:
        from ingestion.jobs import import_job_submit

        api_token = token_authenticate(request, token)  # 429 after repeated bad tokens from this client
        if api_token is None:
            raise exceptions.NotFound("Not found.")  # never say whether a token exists
        token_scope_require(api_token, [TokenScope.INGEST.value])
        if request_content_length(request) > LIVE_MAX_BYTES:
            raise PayloadTooLarge(f"A live record is at most {LIVE_MAX_BYTES:,} bytes.")
        payload = request.data
        if not isinstance(payload, dict) or not payload:
            raise exceptions.ParseError("The body must be a JSON object: one codecarbon emissions record.")
        if any("\x00" in text for key, value in payload.items() for text in (key, value) if isinstance(text, str)):
            # PostgreSQL's jsonb refuses \u0000: such a record could not even be queued (a 500 before).
            raise exceptions.ParseError("A codecarbon record contains no NUL characters.")
        if any(isinstance(value, dict | list) for value in payload.values()):
            raise exceptions.ParseError(
                "A codecarbon record is flat: every field is a string, number, boolean or null."
            )
        # Canonical form, so the same record re-sent (or re-serialised in another key order) is one job.
        canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        submission = import_job_submit(
            project=api_token.project,
            kind=JobKind.CODECARBON_LIVE,
            origin=JobOrigin.LIVE,
            stored=None,
            original_name=_live_name(payload),
            token=api_token,
            payload=payload,
            sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        )
        job = submission.job
        body = {"id": str(job.pk), "status": job.status, "already_imported": not submission.created}
        return Response(body, status=status.HTTP_201_CREATED)


def _live_name(payload: dict[str, Any]) -> str:
    run_id = str(payload.get("run_id") or "?")[:64]
    duration = payload.get("duration")
    suffix = f" at {duration:.0f} s" if isinstance(duration, int | float) else ""
    return f"live record of run {run_id}{suffix}"
