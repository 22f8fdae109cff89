"""API representations of import jobs and row errors. Explicit fields only (docs/security.md §3)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from ingestion.models import ImportJob, JobStatus, RowError

# Rows in the file are unknown until the end of the read, so progress is told by stage.
STAGE_PROGRESS = {"": 0, "claimed": 5, "reading": 30, "estimating": 70, "writing": 85, "done": 100, "failed": 100}


def job_progress_percent(job: ImportJob) -> int:
    if job.status in {JobStatus.DONE, JobStatus.FAILED}:
        return 100
    if job.status == JobStatus.PENDING:
        return 0
    return STAGE_PROGRESS.get(job.stage, 10)


def job_api_path(job: ImportJob) -> str | None:
    if job.project is None:
        return None
    return reverse("api-import-detail", args=[job.organisation.slug, job.project.slug, job.pk])


class ImportJobSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="This job in the API.")
    page_url = serializers.SerializerMethodField(help_text="The job's result page in the web app.")
    errors_url = serializers.SerializerMethodField(help_text="The rejected rows of this job, paged.")
    progress = serializers.SerializerMethodField(help_text="Estimated completion in percent, by stage.")

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "url",
            "page_url",
            "errors_url",
            "kind",
            "origin",
            "original_name",
            "size_bytes",
            "sha256",
            "status",
            "stage",
            "progress",
            "rows_processed",
            "rows_read",
            "records_new",
            "records_updated",
            "records_unchanged",
            "rows_rejected",
            "detected_format",
            "error_message",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def _absolute(self, path: str | None) -> str | None:
        request = self.context.get("request")
        if path is None or request is None:
            return path
        return request.build_absolute_uri(path)

    def get_url(self, job: ImportJob) -> str | None:
        return self._absolute(job_api_path(job))

    def get_page_url(self, job: ImportJob) -> str | None:
        return self._absolute(reverse("import-detail", args=[job.organisation.slug, job.pk]))

    def get_errors_url(self, job: ImportJob) -> str | None:
        if job.project is None:
            return None
        return self._absolute(reverse("api-import-errors", args=[job.organisation.slug, job.project.slug, job.pk]))

    def get_progress(self, job: ImportJob) -> int:
        return job_progress_percent(job)


class ImportJobSubmitSerializer(ImportJobSerializer):
    already_imported = serializers.SerializerMethodField(
        help_text="True when the same content was imported before: this is that earlier job, nothing changed."
    )

    class Meta(ImportJobSerializer.Meta):
        fields = [*ImportJobSerializer.Meta.fields, "already_imported"]
        read_only_fields = fields

    def get_already_imported(self, job: ImportJob) -> bool:
        return bool(self.context.get("already_imported", False))


class RowErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = RowError
        fields = ["row", "column", "code", "message", "raw_value"]
        read_only_fields = fields


class LiveRecordResponseSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    already_imported = serializers.BooleanField()


# The one error shape of the API (greenesg.api.error_body), as a raw schema: a serializer here would
# clash with reports' identical "Error" component until one shared serializer lives in greenesg/api.py.


UPLOAD_REQUEST_SCHEMA: dict[str, Any] = {
    "multipart/form-data": {
        "type": "object",
        "properties": {"file": {"type": "string", "format": "binary", "description": "emissions.csv"}},
        "required": ["file"],
    },
    "text/csv": {"type": "string", "format": "binary", "description": "The CSV file as the raw body."},
}
