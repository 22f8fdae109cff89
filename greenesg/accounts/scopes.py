"""What a project token may do, decided in one place for every token-authenticated endpoint.

Writes need `ingest`; reads need `read`, except on views that set `token_ci_gate = True` (the import
job a pipeline polls and the budget verdict), which `ci-gate` may read too. A token aimed at another
project's URL is 404 before its scopes are looked at, so the answer never hints at what exists.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from greenesg.accounts.models import ApiToken, TokenScope

SCOPE_NAMES = [scope.value for scope in TokenScope]


def scopes_accepted(*, method: str, view: Any) -> list[str]:
    """The scopes any one of which lets a token make this request."""
    if method not in SAFE_METHODS:
        return [TokenScope.INGEST.value]
    if getattr(view, "token_ci_gate", False):
        return [TokenScope.READ.value, TokenScope.CI_GATE.value]
    return [TokenScope.READ.value]


def token_scope_require(token: ApiToken, accepted: list[str]) -> None:
    """403 in the API's error shape unless the token holds one of the accepted scopes."""
    if not any(token.has_scope(scope) for scope in accepted):
        names = " or ".join(f"'{scope}'" for scope in accepted)
        raise exceptions.PermissionDenied(f"This token lacks the {names} scope for this request.")


class TokenScopePermission(BasePermission):
    """Installed in DEFAULT_PERMISSION_CLASSES; session requests pass through untouched."""

    def has_permission(self, request: Request, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            return True
        kwargs = getattr(view, "kwargs", {}) or {}
        org_slug, project_slug = kwargs.get("org_slug"), kwargs.get("project_slug")
        project = token.project
        if project_slug is not None and (project.slug, project.organisation.slug) != (project_slug, org_slug):
            raise exceptions.NotFound("Not found.")
        token_scope_require(token, scopes_accepted(method=request.method or "GET", view=view))
        return True
