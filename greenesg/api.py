"""API conventions shared by every endpoint: JSON errors with one shape, paging, scoped fetches."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from greenesg.accounts.access import ProjectAccess, project_access_for_user
from greenesg.accounts.models import ApiToken, Project

_CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
}


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(allow_null=True)


class ErrorSerializer(serializers.Serializer):
    """The error shape every endpoint documents and returns."""

    error = ErrorDetailSerializer()


def error_body(status: int, message: str, *, code: str | None = None, details: Any = None) -> dict[str, Any]:
    """The one error shape of the API: {"error": {"code", "message", "details"}}."""
    return {"error": {"code": code or _CODES.get(status, "error"), "message": message, "details": details}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    if isinstance(exc, exceptions.APIException) and isinstance(data, dict) and "detail" in data:
        message, details = str(data["detail"]), None
    else:
        message, details = "The request is invalid.", data
    code = getattr(exc, "default_code", None) if response.status_code not in _CODES else None
    response.data = error_body(response.status_code, message, code=code, details=details)
    return response


def json_error(status: int, message: str, *, code: str | None = None, details: Any = None) -> JsonResponse:
    return JsonResponse(error_body(status, message, code=code, details=details), status=status)


def api_not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return json_error(404, "Not found.")


def api_server_error(request: HttpRequest) -> JsonResponse:
    return json_error(500, "Internal server error.", code="server_error")


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def api_project_access(request: Request, org_slug: str, project_slug: str, *, write: bool = False) -> Project:
    """Resolve the project for a token or a session user; other projects are 404, never 403."""
    if isinstance(request.auth, ApiToken):
        project = request.auth.project
        if project.slug != project_slug or project.organisation.slug != org_slug:
            raise exceptions.NotFound("Not found.")
        return project
    access: ProjectAccess = project_access_for_user(request.user, org_slug, project_slug)
    if write and not access.can_ingest:
        raise exceptions.PermissionDenied("Your role cannot import into this project.")
    return access.project
