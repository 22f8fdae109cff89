"""`session_user`: the typed narrowing of a DRF request's user that API views pass to services as actor."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from greenesg.accounts.authentication import TokenUser
from greenesg.accounts.models import ApiToken
from greenesg.http import session_user


def _request_as(user) -> Request:
    request = Request(APIRequestFactory().post("/api/v1/"))
    request.user = user
    return request


def test_it_returns_the_signed_in_user_itself(officer):
    assert session_user(_request_as(officer)) is officer


@pytest.mark.parametrize("principal", ["token", "anonymous"])
def test_it_refuses_a_principal_that_is_no_user(principal, project):
    user = (
        TokenUser(ApiToken(project=project, name="ci", prefix="abcd1234")) if principal == "token" else AnonymousUser()
    )

    with pytest.raises(exceptions.PermissionDenied):
        session_user(_request_as(user))
