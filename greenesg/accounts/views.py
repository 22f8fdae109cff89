from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from greenesg.accounts.access import Capability, ProjectAccess, memberships_for_user, project_access_for_request
from greenesg.accounts.forms import TokenCreateForm
from greenesg.accounts.models import ApiToken
from greenesg.accounts.selectors import demo_logins_shown
from greenesg.accounts.services import api_token_create, api_token_revoke
from greenesg.accounts.tokens import NewToken
from greenesg.http import AuthedHttpRequest


class LoginView(auth_views.LoginView):
    """Django's login form; in demo mode the page also lists the demo logins (accounts/selectors.py)."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "demo": demo_logins_shown()}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(memberships_for_user(request.user))
    if len(memberships) == 1:
        return redirect("org-overview", memberships[0].organisation.slug)
    return render(request, "accounts/home.html", {"memberships": memberships})


def _get_project_for_user(request: HttpRequest, org_slug: str, project_slug: str) -> ProjectAccess:
    return project_access_for_request(request, org_slug, project_slug)


def _get_project_for_token_admin(request: HttpRequest, org_slug: str, project_slug: str) -> ProjectAccess:
    access = _get_project_for_user(request, org_slug, project_slug)  # 404 to outsiders before any 403
    if not access.can(Capability.MANAGE_TOKENS):
        raise PermissionDenied("Your role cannot create or revoke tokens.")
    return access


@login_required
@require_http_methods(["GET", "POST"])
def project_tokens(request: AuthedHttpRequest, org_slug: str, project_slug: str) -> HttpResponse:
    if request.method == "POST":
        access = _get_project_for_token_admin(request, org_slug, project_slug)
        form = TokenCreateForm(request.POST)
        new_token = None
        if form.is_valid():
            new_token = api_token_create(
                project=access.project,
                name=form.cleaned_data["name"],
                created_by=request.user,
                scopes=form.cleaned_data["scopes"],
            )
            form = TokenCreateForm()
        return _tokens_page(request, access, form, new_token=new_token, status=200 if new_token else 400)
    access = _get_project_for_user(request, org_slug, project_slug)
    return _tokens_page(request, access, TokenCreateForm())


@login_required
@require_POST
def project_token_revoke(request: AuthedHttpRequest, org_slug: str, project_slug: str, token_id: int) -> HttpResponse:
    access = _get_project_for_token_admin(request, org_slug, project_slug)
    token = get_object_or_404(
        ApiToken.objects.select_related("project__organisation"), project=access.project, pk=token_id
    )
    api_token_revoke(token=token, revoked_by=request.user)
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) is revoked; requests using it now fail.")
    return redirect("project-tokens", org_slug, project_slug)


def _tokens_page(
    request: HttpRequest,
    access: ProjectAccess,
    form: TokenCreateForm,
    *,
    new_token: NewToken | None = None,
    status: int = 200,
) -> HttpResponse:
    project, organisation = access.project, access.project.organisation
    context: dict[str, Any] = {
        "organisation": organisation,
        "project": project,
        "form": form,
        "can_manage": access.can(Capability.MANAGE_TOKENS),
        "tokens": project.tokens.select_related("created_by"),
        "new_token": new_token,
        "imports_url": request.build_absolute_uri(
            reverse("api-project-imports", args=[organisation.slug, project.slug])
        ),
        "breadcrumbs": [
            {"label": organisation.name, "url": _url_or_none("org-overview", organisation.slug)},
            {"label": project.name, "url": _url_or_none("project-detail", organisation.slug, project.slug)},
            {"label": "API tokens"},
        ],
    }
    if new_token is not None:
        context["live_url"] = request.build_absolute_uri(reverse("api-live-record", args=[new_token.raw]))
    response = render(request, "accounts/project_tokens.html", context, status=status)
    if new_token is not None:
        # The raw token is on this page only: keep it out of every cache.
        response["Cache-Control"] = "no-store"
    return response


def _url_or_none(name: str, *args: Any) -> str | None:
    # Organisation and project pages live in the reports app; stay usable if a name is missing.
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None
