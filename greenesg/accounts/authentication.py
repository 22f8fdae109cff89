"""DRF authentication with a project token in `Authorization: Bearer …`."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from greenesg.accounts.models import ApiToken
from greenesg.accounts.tokens import token_lookup


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
        token = token_lookup(raw.strip())
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return TokenUser(token), token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
