"""Request types that say who is signed in, so `request.user` reaches services as a `User`.

Django types `request.user` as `User | AnonymousUser`; behind `@login_required` it is always a `User`, which
`AuthedHttpRequest` states for the type checker (the pattern django-stubs documents). DRF requests may also
carry a project token's `TokenUser`, so API views narrow with `session_user` once tokens have been refused.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.request import Request


class AuthedHttpRequest(HttpRequest):
    """The request of a `@login_required` view: the middleware has put a signed-in `User` on it."""

    user: User


def session_user(request: Request) -> User:
    """The signed-in user of an API request whose scoped fetch has already refused project tokens.

    A token's principal is a `TokenUser` (no row in the user table), so it can never be an actor or author.
    """
    user = request.user
    if not isinstance(user, User):
        raise exceptions.PermissionDenied("This needs a signed-in user, not a project token.")
    return user
