"""DRF authentication with a project token in `Authorization: Bearer …`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from greenesg.accounts.models import ApiToken
from greenesg.accounts.tokens import token_authenticate


class TokenUser(AnonymousUser):
    """The principal of a token request: authenticated, but only for its own project."""

    def __init__(self, token: ApiToken) -> None:
        self.token = token

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    def __str__(self) -> str:
        return f"token {self.token.prefix}"


class ProjectTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[TokenUser, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, raw = header.partition(" ")
        if keyword != self.keyword or not raw.strip():
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <project token>'.")
        token = token_authenticate(request, raw.strip())
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return TokenUser(token), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ProjectTokenScheme(OpenApiAuthenticationExtension):
    """Documents `Authorization: Bearer <project token>` in the OpenAPI schema."""

    target_class = "greenesg.accounts.authentication.ProjectTokenAuthentication"
    name = "projectToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A project token (ges_ci_…), created on the project's token page or with "
            "`manage.py create_token ORG/PROJECT`.",
        }
