"""Error handlers: JSON under /api/, our styled pages elsewhere (templates/403.html, 404.html, 500.html)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from greenesg.api import api_not_found, api_server_error, json_error

DEFAULT_FORBIDDEN = "Your role does not allow this. Ask an officer of the organisation if you need it."


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The views' PermissionDenied messages are written for the person ("Only officers …"); outsiders never
    # get here (they get 404), so the reason tells nothing about objects they cannot see.
    reason = str(exception or "") or DEFAULT_FORBIDDEN
    if request.path.startswith("/api/"):
        return json_error(403, reason)
    return render(request, "403.html", {"reason": reason}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_server_error(request)
    # No request context: its processors query the database, which may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render())
