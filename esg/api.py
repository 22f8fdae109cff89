"""ESG API: the catalogue, metric values per period (GET/POST, approve/reject), period close/reopen,
accessibility reports and dataset/model review records posted by CI, project scorecards, and
factor-set change requests.

Organisation data needs a session user (officers write, auditors read; engineers 403, outsiders 404).
Project tokens carry only the ingest scope, so with a token only the two CI routes of their own
project accept a POST; every other route answers 403 to a token.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from esg import selectors, services
from esg.accessibility import ReportError
from esg.catalogue import catalogue
from esg.models import AccessibilityReport, FactorSetChangeRequest, MetricValue, ModelReview
from esg.periods import InvalidPeriod, Period, period_current, period_parse
from greenesg.accounts.access import Capability, OrgAccess, org_access_for_user
from greenesg.accounts.models import ApiToken, Project
from greenesg.api import StrictJSONTypes, api_project_access, error_body
from greenesg.footprint.models import FactorKind
from greenesg.http import session_user

# Lighthouse reports embed screenshots and run to several MB; DRF's JSON parser stops at 2.5 MB.
REPORT_MAX_BYTES = 12 * 1024 * 1024
PERIOD_PARAM = OpenApiParameter("period", str, description="2026 or 2026-Q3 (default: last complete quarter)")


class ReportTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The report is larger than the limit."
    default_code = "too_large"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class RawJSONParser(parsers.BaseParser):
    """Hands the view the raw bytes (capped), so the report's SHA-256 is that of the exact body."""

    media_type = "application/json"

    # The view wants the exact bytes (not the Mapping the stub expects a parser to return).
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> bytes:  # type: ignore[override]
        body = stream.read(REPORT_MAX_BYTES + 1) if stream is not None else b""
        if len(body) > REPORT_MAX_BYTES:
            raise ReportTooLarge(f"A report is at most {REPORT_MAX_BYTES // 2**20} MB.")
        return body


def _no_token(request: Request) -> None:
    if isinstance(request.auth, ApiToken):
        raise exceptions.PermissionDenied("Project tokens may only post accessibility reports and review records.")


def _org(request: Request, org_slug: str, *, write: Capability | None = None) -> OrgAccess:
    _no_token(request)
    access = org_access_for_user(request.user, org_slug)
    if not access.can(Capability.VIEW_ESG) or (write is not None and not access.can(write)):
        raise exceptions.PermissionDenied("Officers write organisation ESG data; auditors read it.")
    return access


def _period(value: str | None, *, ytd: bool = False) -> Period:
    try:
        return period_parse(value, ytd=ytd) if value else period_current(timezone.localdate())
    except InvalidPeriod as exc:
        raise exceptions.ValidationError({"period": [str(exc)]}) from exc


def _invalid(errors: list[Any]) -> Response:
    return Response(
        error_body(400, "Some values are invalid; nothing was stored.", details=[e.as_dict() for e in errors]),
        status=400,
    )


# ------------------------------------------------------------------------------------------ catalogue


class CatalogueView(APIView):
    @extend_schema(summary="The ESG metric catalogue", tags=["esg"], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        _no_token(request)
        cat = catalogue()
        return Response(
            {
                "metrics": [
                    {
                        "code": m.code,
                        "pillar": m.pillar,
                        "level": m.level,
                        "name": m.name,
                        "unit": m.unit,
                        "type": m.type,
                        "source": m.source,
                        "required": m.required,
                        "rules": m.rules,
                        "formula": m.formula or None,
                        "inputs": list(m.inputs),
                        "reference": m.reference,
                        "definition": m.definition,
                    }
                    for m in cat.metrics.values()
                ]
            }
        )


# --------------------------------------------------------------------------------------------- values


class ValuesIn(StrictJSONTypes, serializers.Serializer):
    period = serializers.CharField(max_length=7)
    values = serializers.DictField(child=serializers.JSONField(), allow_empty=False)
    evidence = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")


class ValuesView(APIView):
    @extend_schema(
        summary="Every organisation metric for a period",
        tags=["esg"],
        parameters=[PERIOD_PARAM],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, org_slug: str) -> Response:
        access = _org(request, org_slug)
        period = _period(request.query_params.get("period"), ytd=True)
        rows = selectors.metric_rows(access.organisation, period)
        lock = selectors.period_lock_row(access.organisation, period)
        return Response(
            {
                "organisation": org_slug,
                "period": period.key,
                "closed": lock is not None,
                "completeness": {k: v for k, v in selectors.completeness(rows).items() if k != "missing"},
                "metrics": [row.as_dict() | {"id": row.record.pk if row.record else None} for row in rows],
            }
        )

    @extend_schema(
        summary="Submit entered values for a period (all or nothing)",
        tags=["esg"],
        request=ValuesIn,
        responses={201: OpenApiTypes.OBJECT, 400: OpenApiTypes.OBJECT, 409: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        access = _org(request, org_slug, write=Capability.MANAGE_ESG)
        body = ValuesIn(data=request.data)
        body.is_valid(raise_exception=True)
        period = _period(body.validated_data["period"])
        try:
            written = services.metric_values_submit(
                organisation=access.organisation,
                actor=session_user(request),
                period=period,
                cells=body.validated_data["values"],
                source="api",
                evidence=body.validated_data["evidence"],
                comment=body.validated_data["comment"],
            )
        except services.InvalidValues as exc:
            return _invalid(exc.errors)
        except services.EsgConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response({"period": period.key, "submitted": [v.snapshot() | {"id": v.pk} for v in written]}, status=201)


class ValueDecisionView(APIView):
    @extend_schema(
        summary="Approve or reject a submitted value (four-eyes)",
        operation_id="esg_value_decide",
        tags=["esg"],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, org_slug: str, pk: int, action: str) -> Response:
        access = _org(request, org_slug, write=Capability.APPROVE_VALUES)
        value = get_object_or_404(MetricValue, pk=pk, organisation=access.organisation)
        reason = str((request.data or {}).get("reason", "")) if isinstance(request.data, dict) else ""
        try:
            if action == "approve":
                value = services.metric_value_approve(value=value, actor=session_user(request))
            else:
                value = services.metric_value_reject(value=value, actor=session_user(request), reason=reason)
        except services.EsgConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response(value.snapshot() | {"id": value.pk})


class PeriodActionView(APIView):
    @extend_schema(
        summary="Close or reopen a period (reopen needs a reason)",
        operation_id="esg_period_action",
        tags=["esg"],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, org_slug: str, period: str, action: str) -> Response:
        access = _org(request, org_slug, write=Capability.MANAGE_ESG)
        the_period = _period(period)
        reason = str(request.data.get("reason", "")) if isinstance(request.data, dict) else ""
        service = services.period_close if action == "close" else services.period_reopen
        try:
            row = service(
                organisation=access.organisation, period=the_period, actor=session_user(request), reason=reason
            )
        except services.EsgConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response({"period": row.period, "status": row.status, "reason": row.reason})


# ------------------------------------------------------------------------------------------- projects


def _ci_project(request: Request, org_slug: str, project_slug: str, *, write: bool) -> Project:
    """Token (own project only) or session; reading needs a session user, writing an officer/engineer."""
    if not write:
        _no_token(request)
    return api_project_access(request, org_slug, project_slug, write=write)


def _actor(request: Request) -> tuple[Any, str]:
    if isinstance(request.auth, ApiToken):
        return None, f"token {request.auth.name} ({request.auth.prefix})"
    return request.user, request.user.get_username()


def _report_dict(report: AccessibilityReport) -> dict[str, Any]:
    return {
        "id": report.pk,
        "tool": report.tool,
        "tool_version": report.tool_version,
        "url": report.url,
        "tested_at": report.tested_at.isoformat(),
        "score": report.score,
        "violations": {
            "critical": report.critical,
            "serious": report.serious,
            "moderate": report.moderate,
            "minor": report.minor,
            "unknown": report.unknown_impact,
        },
        "violation_nodes": report.violation_nodes,
        "passes": report.passes,
        "failing_rules": report.failing_rules,
    }


class AccessibilityReportsView(APIView):
    parser_classes = [RawJSONParser]

    @extend_schema(summary="The project's accessibility reports", tags=["esg"], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = _ci_project(request, org_slug, project_slug, write=False)
        return Response({"reports": [_report_dict(r) for r in project.accessibility_reports.all()[:100]]})

    @extend_schema(
        summary="Post an axe-core or Lighthouse JSON report (CI, project token)",
        tags=["esg"],
        request={"application/json": OpenApiTypes.OBJECT},
        responses={201: OpenApiTypes.OBJECT, 200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = _ci_project(request, org_slug, project_slug, write=True)
        actor, label = _actor(request)
        body = request.data if isinstance(request.data, bytes) else b""
        try:
            reports, created = services.accessibility_report_record(
                project=project, body=body, actor=actor, actor_label=label
            )
        except ReportError as exc:
            raise exceptions.ValidationError({"report": [str(exc)]}) from exc
        return Response(
            {"created": created, "reports": [_report_dict(r) for r in reports]}, status=201 if created else 200
        )


class ReviewIn(StrictJSONTypes, serializers.Serializer):
    subject = serializers.CharField(max_length=200)
    reviewed = serializers.BooleanField()
    reviewed_on = serializers.DateField(required=False, allow_null=True, default=None)
    model_card_url = serializers.URLField(required=False, allow_blank=True, max_length=500, default="")
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["reviewed"] and not attrs.get("reviewed_on"):
            raise serializers.ValidationError({"reviewed_on": "A completed review needs its date."})
        return attrs


def _review_dict(review: ModelReview) -> dict[str, Any]:
    return {
        "id": review.pk,
        "subject": review.subject,
        "reviewed": review.reviewed,
        "reviewed_on": review.reviewed_on.isoformat() if review.reviewed_on else None,
        "model_card_url": review.model_card_url,
        "notes": review.notes,
        "recorded_by": review.recorded_by,
        "created_at": review.created_at.isoformat(),
    }


class ModelReviewsView(APIView):
    @extend_schema(
        summary="The project's dataset/model review records", tags=["esg"], responses={200: OpenApiTypes.OBJECT}
    )
    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = _ci_project(request, org_slug, project_slug, write=False)
        return Response({"reviews": [_review_dict(r) for r in project.model_reviews.all()[:100]]})

    @extend_schema(
        summary="Record a dataset/model review", tags=["esg"], request=ReviewIn, responses={201: OpenApiTypes.OBJECT}
    )
    def post(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = _ci_project(request, org_slug, project_slug, write=True)
        body = ReviewIn(data=request.data)
        body.is_valid(raise_exception=True)
        actor, label = _actor(request)
        review = services.model_review_record(project=project, actor=actor, actor_label=label, **body.validated_data)
        return Response(_review_dict(review), status=201)


class ScorecardView(APIView):
    @extend_schema(
        summary="The project's ESG scorecard for a period",
        tags=["esg"],
        parameters=[PERIOD_PARAM],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, org_slug: str, project_slug: str) -> Response:
        project = _ci_project(request, org_slug, project_slug, write=False)
        period = _period(request.query_params.get("period"), ytd=True)
        card = selectors.project_scorecard(project, period)
        return Response(
            {
                "project": str(project),
                "period": period.key,
                "metrics": selectors.project_scorecard_rows(card),
                "method_shares": card.method_shares,
                "region_kg": card.region_kg,
            }
        )


# ------------------------------------------------------------------------------- factor-set changes


class FactorIn(StrictJSONTypes, serializers.Serializer):
    zone = serializers.CharField(max_length=80)
    vintage_year = serializers.IntegerField(min_value=1990, max_value=2100)
    g_co2e_per_kwh = serializers.FloatField(min_value=0, max_value=3000)
    # `label` and `source` shadow Field attributes in the stubs only: DRF's metaclass takes declared fields
    # off the class (djangorestframework-stubs issue 158), and the JSON names are part of the API.
    label = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")  # type: ignore[assignment]
    method = serializers.ChoiceField(choices=["location", "market"], default="location")
    source = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")  # type: ignore[assignment]


class FactorSetChangeIn(StrictJSONTypes, serializers.Serializer):
    name = serializers.CharField(max_length=100)
    # A plain string, validated below: a second "kind" enum would collide in the schema's enum names.
    kind = serializers.CharField(max_length=20, help_text=f"one of {', '.join(FactorKind.values)}")
    source = serializers.CharField(max_length=300)  # type: ignore[assignment]  # as FactorIn.source
    source_url = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(min_length=services.MIN_REASON, max_length=2000)
    factors = FactorIn(many=True, allow_empty=False)

    def validate_kind(self, value: str) -> str:
        if value not in FactorKind.values:
            raise serializers.ValidationError(f"Must be one of {', '.join(FactorKind.values)}.")
        return value


def _change_dict(change: FactorSetChangeRequest) -> dict[str, Any]:
    return {
        "id": change.pk,
        "factor_set": change.factor_set.label,
        "set_status": change.factor_set.status,
        "status": change.status,
        "reason": change.reason,
        "requested_by": change.requested_by.get_username() if change.requested_by else None,
        "decided_by": change.decided_by.get_username() if change.decided_by else None,
        "decision_reason": change.decision_reason,
    }


class FactorSetChangesView(APIView):
    @extend_schema(summary="Factor-set change requests", tags=["esg"], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, org_slug: str) -> Response:
        access = _org(request, org_slug)
        return Response({"requests": [_change_dict(c) for c in selectors.factor_change_requests(access.organisation)]})

    @extend_schema(
        summary="Propose a new factor-set version (pending until another officer approves)",
        tags=["esg"],
        request=FactorSetChangeIn,
        responses={201: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, org_slug: str) -> Response:
        access = _org(request, org_slug, write=Capability.MANAGE_FACTORS)
        body = FactorSetChangeIn(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            change = services.factor_set_change_submit(
                organisation=access.organisation, actor=session_user(request), **body.validated_data
            )
        except services.EsgConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response(_change_dict(change), status=201)


class FactorSetDecisionView(APIView):
    @extend_schema(
        summary="Approve or reject a factor-set change (four-eyes)",
        operation_id="esg_factor_set_change_decide",
        tags=["esg"],
        request=OpenApiTypes.OBJECT,
        responses={200: OpenApiTypes.OBJECT},
    )
    def post(self, request: Request, org_slug: str, pk: int, action: str) -> Response:
        access = _org(request, org_slug, write=Capability.MANAGE_FACTORS)
        change = get_object_or_404(FactorSetChangeRequest, pk=pk, organisation=access.organisation)
        reason = str(request.data.get("reason", "")) if isinstance(request.data, dict) else ""
        service = services.factor_set_change_approve if action == "approve" else services.factor_set_change_reject
        try:
            change = service(request=change, actor=session_user(request), reason=reason)
        except services.EsgConflict as exc:
            raise Conflict(str(exc)) from exc
        return Response(_change_dict(change))
