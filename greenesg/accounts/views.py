from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from greenesg.accounts.access import memberships_for_user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(memberships_for_user(request.user))
    if len(memberships) == 1:
        return redirect("org-overview", memberships[0].organisation.slug)
    return render(request, "accounts/home.html", {"memberships": memberships})
