"""Synchronous imports from the command line:

    python manage.py ingest codecarbon PATH... --project ORG/PROJECT [--create]
    python manage.py ingest billing PATH... --org ORG [--create]      (format detected from the header)

Each file becomes an import job like an upload's, processed right here instead of by a worker, and
the result is printed. Exit status: 0 when every file was imported (or already was), 1 when a file
was refused or rows were rejected.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from greenesg.accounts.management.commands.create_token import project_from_label
from greenesg.accounts.models import Project
from greenesg.accounts.services import organisation_get_or_create, project_get_or_create
from ingestion import storage
from ingestion.forms import content_problem, name_problem, stored_head
from ingestion.models import ImportJob, JobKind, JobOrigin, JobStatus

MAX_ERROR_LINES = 20
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")


class Command(BaseCommand):
    help = "Import files synchronously and print the result of each."

    def add_arguments(self, parser: CommandParser) -> None:
        sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")
        codecarbon = sources.add_parser("codecarbon", help="codecarbon emissions.csv, task files and .bak files")
        codecarbon.add_argument("paths", nargs="+", metavar="PATH")
        codecarbon.add_argument("--project", required=True, metavar="ORG/PROJECT")
        codecarbon.add_argument("--create", action="store_true", help="Create the organisation and project if missing.")
        billing = sources.add_parser(
            "billing", help="cloud billing exports: AWS CUR (legacy, 2.0), GCP, Azure, FOCUS, provider carbon exports"
        )
        billing.add_argument("paths", nargs="+", metavar="PATH")
        billing.add_argument("--org", required=True, metavar="ORG")
        billing.add_argument("--create", action="store_true", help="Create the organisation if missing.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["source"] == "billing":
            from ingestion.billing.cli import billing_ingest_cli

            code = billing_ingest_cli(
                options["paths"], org=options["org"], create=options["create"], stdout=self.stdout
            )
            if code:
                raise CommandError("a billing file was refused or rows were rejected", returncode=code)
            return
        project = self._project(options["project"], create=options["create"])
        refused = rejected = 0
        for raw_path in options["paths"]:
            ok, rows_rejected = self._import_one(Path(raw_path), project)
            refused += not ok
            rejected += rows_rejected
        if refused or rejected:
            raise CommandError(f"{refused} file(s) refused, {rejected} row(s) rejected", returncode=1)

    def _project(self, label: str, *, create: bool) -> Project:
        if not create:
            return project_from_label(label)
        org_slug, sep, project_slug = label.partition("/")
        if not sep or not SLUG.fullmatch(org_slug) or not SLUG.fullmatch(project_slug):
            raise CommandError(f"Give the project as ORG/PROJECT (slugs), not {label!r}.")
        organisation = organisation_get_or_create(slug=org_slug, actor_label="cli")
        return project_get_or_create(organisation=organisation, slug=project_slug)

    def _import_one(self, path: Path, project: Project) -> tuple[bool, int]:
        """Import one file; returns (accepted, rows rejected)."""
        from ingestion.jobs import import_job_submit
        from ingestion.process import import_job_process

        problem = name_problem(path.name) or (None if path.is_file() else "no such file")
        if problem is None:
            problem = content_problem(stored_head(path))
        if problem:
            self.stdout.write(f"{path.name}: refused: {problem}")
            return False, 0
        try:
            stored = storage.store_path(path)
        except storage.UploadTooLarge as exc:
            self.stdout.write(f"{path.name}: refused: {exc}")
            return False, 0
        submission = import_job_submit(
            project=project,
            kind=JobKind.CODECARBON,
            origin=JobOrigin.CLI,
            stored=stored,
            original_name=path.name,
            enqueue=False,
        )
        job = submission.job
        if not submission.created:
            self.stdout.write(
                f"{path.name}: already imported (job {job.pk}, {job.get_status_display().lower()}); nothing changed"
            )
            return True, 0
        import_job_process(job_id=str(job.pk))
        job.refresh_from_db()
        self._report(path.name, job)
        if job.status != JobStatus.DONE:
            return False, 0
        return True, job.rows_rejected

    def _report(self, name: str, job: ImportJob) -> None:
        if job.status != JobStatus.DONE:
            self.stdout.write(f"{name}: refused ({job.get_status_display().lower()}): {job.error_message}")
            return
        self.stdout.write(
            f"{name}: {job.get_status_display().lower()}: {job.rows_read} rows read, runs {job.records_new} new / "
            f"{job.records_updated} updated / {job.records_unchanged} unchanged, {job.rows_rejected} rows rejected"
        )
        for error in job.row_errors.all()[:MAX_ERROR_LINES]:
            value = f" ({error.raw_value!r})" if error.raw_value else ""
            self.stdout.write(f"  line {error.row}, column {error.column or '-'}: {error.message}{value}")
        if job.rows_rejected > MAX_ERROR_LINES:
            self.stdout.write(f"  … and {job.rows_rejected - MAX_ERROR_LINES} more")
