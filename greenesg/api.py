"""API conventions shared by every endpoint: JSON errors with one shape, paging, scoped fetches."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions, pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from greenesg.accounts.access import Capability, ProjectAccess, project_access_for_user
from greenesg.accounts.models import ApiToken, Project

_CODES = {
    400: "invalid",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    411: "length_required",
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
    """Page numbers from 1 and sizes from 1 to 500, checked as the schema declares them.

    DRF quietly falls back to the default size for `page_size=null` or `0`; a client that asked for
    something else should hear that it was not understood (400). A page past the end stays a 404.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    last_page_strings = ()

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not _whole_number(raw) or not 1 <= int(raw) <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]}
            )
        return int(raw)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        raw = request.query_params.get(self.page_query_param)
        if raw is not None:
            if not _whole_number(raw) or int(raw) < 1:
                raise exceptions.ValidationError({self.page_query_param: ["A whole number from 1."]})
            if len(raw) > MAX_PAGE_DIGITS:
                raise exceptions.NotFound("Invalid page.")  # past the end of any list we could hold
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.page_query_param: {"minimum": 1}, self.page_size_query_param: {"minimum": 1, "maximum": 500}}
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


MAX_PAGE_DIGITS = 12


def _whole_number(raw: str) -> bool:
    # str.isdigit() alone also takes other scripts' digits ("²", "٣"), which int() may refuse.
    return raw.isascii() and raw.isdigit() and len(raw) <= 4000


class StrictJSONTypes:
    # Serializer mixin: JSON values must have the type the schema gives them. DRF converts freely
    # (0 → False, "1.5" → 1.5, 7 → "7"), so a mistyped value would be stored as something the client
    # never sent, and the schema would promise a type the view does not check. (A comment, not a
    # docstring: drf-spectacular would copy a docstring into every request schema.)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            wrong = {
                name: [f"Must be {kind}."]
                for name, field in self.fields.items()  # type: ignore[attr-defined]
                if name in data and data[name] is not None and (kind := _json_type_problem(field, data[name]))
            }
            if wrong:
                raise serializers.ValidationError(wrong)
        return super().to_internal_value(data)  # type: ignore[misc]


def _json_type_problem(field: serializers.Field, value: Any) -> str:
    if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
        return "true or false"
    if isinstance(field, serializers.IntegerField) and (isinstance(value, bool) or not isinstance(value, int)):
        return "a whole number"
    if isinstance(field, serializers.FloatField) and (isinstance(value, bool) or not isinstance(value, int | float)):
        return "a number"
    if isinstance(field, serializers.CharField) and not isinstance(value, str):
        return "a string"
    return ""


class LengthRequired(exceptions.APIException):
    status_code = 411
    default_detail = "Send the body with a Content-Length header; chunked uploads are not accepted."
    default_code = "length_required"


def api_project_access(request: Request, org_slug: str, project_slug: str, *, write: bool = False) -> Project:
    """Resolve the project for a token or a session user; other projects are 404, never 403."""
    if isinstance(request.auth, ApiToken):
        project = request.auth.project
        if project.slug != project_slug or project.organisation.slug != org_slug:
            raise exceptions.NotFound("Not found.")
        return project
    access: ProjectAccess = project_access_for_user(request.user, org_slug, project_slug)
    if write and not access.can(Capability.WRITE_PROJECT_DATA):
        raise exceptions.PermissionDenied("Your role cannot import into this project.")
    return access.project


# ---------------------------------------------------------------------------------------------- schema

_GENERIC_ERRORS = {
    400: "Invalid parameters or body (error shape).",
    401: "No, invalid, expired or revoked credentials.",
    403: "Authenticated, but this token or role may not do this (scope, role, CSRF).",
    404: "No such object, or not visible to you.",
    429: "Too many requests (rate limit, or repeated bad tokens).",
}
_METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _needs_credentials(operation: dict[str, Any]) -> bool:
    security = operation.get("security") or []
    return bool(security) and all(requirement for requirement in security)


def _require_non_empty_body(operation: dict[str, Any]) -> None:
    # A body schema that demands content (minProperties) makes no sense as an optional body.
    body = operation.get("requestBody")
    if body and not body.get("required"):
        schemas = [media.get("schema", {}) for media in body.get("content", {}).values()]
        if any(schema.get("minProperties") for schema in schemas):
            body["required"] = True


def _no_nul_in_request_strings(components: dict[str, Any]) -> None:
    # DRF's CharField refuses NUL ("Null characters are not allowed"), which PostgreSQL text cannot hold;
    # the request schemas say so, or a client (and schemathesis) would take NUL for a valid character.
    for name, component in components.items():
        if not name.endswith("Request"):
            continue
        for field in component.get("properties", {}).values():
            if field.get("type") == "string" and not ({"format", "pattern", "enum"} & set(field)):
                # minLength 1 is DRF's allow_blank=False, which also refuses whitespace only (it strips).
                field["pattern"] = NOT_BLANK_PATTERN if field.get("minLength") else NO_NUL_PATTERN


def schema_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: every operation documents the error answers any endpoint can give.

    Authentication, roles and token scopes, scoped 404s and throttles live in shared code, not in the
    views, so listing them per view would drift; responses a view documents itself are kept as they are.
    """
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_SCHEMA)
    _no_nul_in_request_strings(components)
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            _require_non_empty_body(operation)
            responses = operation.setdefault("responses", {})
            for code, description in _GENERIC_ERRORS.items():
                if code == 401 and not _needs_credentials(operation):
                    continue
                responses.setdefault(str(code), {"description": description, "content": content})
    return result


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Stable, machine-readable: not_found, invalid, …"},
                "message": {"type": "string", "description": "For a person: what was wrong."},
                "details": {"description": "Per-field or per-row problems, or null.", "nullable": True},
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}
# The message an error of this status usually carries, for the docs' example when none was recorded.
_EXAMPLE_MESSAGES = {
    400: "The request is invalid.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    405: 'Method "DELETE" not allowed.',
    409: "The request conflicts with the current state of the object.",
    411: LengthRequired.default_detail,
    413: "The file is larger than the upload limit.",
    415: 'Unsupported media type "application/json" in request.',
    429: "Request was throttled. Expected available in 60 seconds.",
}
EXAMPLES_FILE = Path(__file__).resolve().parent / "api_examples.json"


@cache
def _recorded_examples() -> dict[str, Any]:
    return {key: value for key, value in json.loads(EXAMPLES_FILE.read_text()).items() if not key.startswith("_")}


def schema_examples(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook (after schema_error_responses): a real example for every JSON answer and body.

    Without one, Swagger UI and Redoc invent samples from the schema, which for our free-form objects read
    {"property1": null}. Recorded examples come from api_examples.json; error answers without a recorded one
    get the error shape with the usual message of their status.
    """
    recorded = _recorded_examples()
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            entry = recorded.get(f"{method.upper()} {path}", {})
            body = operation.get("requestBody", {}).get("content", {})
            if "request" in entry:
                for media in body.values():
                    media["example"] = entry["request"]
            for code, response in operation.get("responses", {}).items():
                example = entry.get("responses", {}).get(code)
                if example is None and code.isdigit() and int(code) >= 400:
                    example = error_body(int(code), _EXAMPLE_MESSAGES.get(int(code), "The request failed."))
                if example is None:
                    continue
                for media_type, media in response.get("content", {}).items():
                    if media_type.endswith("json"):
                        media.setdefault("example", example)
    return result
