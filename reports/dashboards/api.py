"""Reports API: the footprint summary used by CI and scripts, and the paged list of a project's runs.

Both accept a project token (`Authorization: Bearer …`, its own project only) or a session; any
other project is 404. The summary is the same object `manage.py footprint --json` prints. The
organisation's summary is for officers and auditors (session) only.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from greenesg.accounts.access import Capability, org_access_for_user
from greenesg.accounts.models import ApiToken
from greenesg.api import ErrorSerializer, api_project_access
from reports.dashboards.filters import DashboardFilter
from reports.dashboards.selectors import footprint as selectors
from reports.dashboards.serializers import DAY_PATTERN, FootprintSummarySerializer, PeriodQuerySerializer, RunSerializer

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "start", OpenApiTypes.DATE, pattern=DAY_PATTERN, description="First UTC day (YYYY-MM-DD, 1970–2999), inclusive."
    ),
    OpenApiParameter(
        "end", OpenApiTypes.DATE, pattern=DAY_PATTERN, description="Last UTC day (YYYY-MM-DD, 1970–2999), inclusive."
    ),
]
ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid start or end."),
    401: OpenApiResponse(ErrorSerializer, description="No or invalid credentials."),
    404: OpenApiResponse(ErrorSerializer, description="No such project, or not yours."),
}


def _period(request: Request) -> DashboardFilter:
    query = PeriodQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)  # → 400 in the API error shape
    return DashboardFilter(start=query.validated_data.get("start"), end=query.validated_data.get("end"))


class ProjectSummaryView(APIView):
    @extend_schema(
        operation_id="project_summary",
        summary="Footprint summary of a project",
        description="Inventory totals for the period (UTC days of each record's end, both ends included): "
        "codecarbon runs, IT and facility energy, location- and market-based kgCO2e and water, overall and "
        "per scope/category. `manage.py footprint --project ORG/PROJECT --json` prints the same object.",
        parameters=PERIOD_PARAMETERS,
        responses={200: FootprintSummarySerializer, **ERROR_RESPONSES},
        tags=["reports"],
    )
    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = api_project_access(request, org_slug, project_slug)
        flt = _period(request)
        summary = selectors.footprint_summary(
            organisation=project.organisation, project=project, start=flt.start, end=flt.end
        )
        return Response(summary)


class OrgSummaryView(APIView):
    @extend_schema(
        operation_id="org_summary",
        summary="Footprint summary of an organisation",
        description="The project summary's object for the whole organisation (projects and the unallocated "
        "billing bucket), for officers and auditors (session). `manage.py footprint --org ORG --json` prints the "
        "same object; its location- and market-based totals equal the overview's and the ESRS report's.",
        parameters=PERIOD_PARAMETERS,
        responses={
            200: FootprintSummarySerializer,
            **ERROR_RESPONSES,
            403: OpenApiResponse(ErrorSerializer, description="A project token, or an engineer."),
            404: OpenApiResponse(ErrorSerializer, description="No such organisation, or not yours."),
        },
        tags=["reports"],
    )
    def get(self, request: Request, org_slug: str) -> Response:
        if isinstance(request.auth, ApiToken):
            raise exceptions.PermissionDenied("A project token reads its own project's summary only.")
        access = org_access_for_user(request.user, org_slug)
        if not access.can(Capability.VIEW_WHOLE_ORG):
            # Engineers see their projects' summaries; an organisation total would include other teams' data.
            raise exceptions.PermissionDenied("Only officers and auditors read the organisation's summary.")
        flt = _period(request)
        return Response(selectors.footprint_summary(organisation=access.organisation, start=flt.start, end=flt.end))


class ProjectRunsView(ListAPIView):
    serializer_class = RunSerializer

    @extend_schema(
        operation_id="project_runs",
        summary="codecarbon runs of a project",
        description="One item per run (its last cumulative row), newest first; `in_inventory` is false for a run "
        "another source already counts. Paged with `page` and `page_size` (max 500).",
        parameters=PERIOD_PARAMETERS,
        responses={200: RunSerializer(many=True), **ERROR_RESPONSES},
        tags=["reports"],
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        project = api_project_access(self.request, self.kwargs["org_slug"], self.kwargs["project_slug"])
        return selectors.run_list(project=project, flt=_period(self.request), sort="-end")
