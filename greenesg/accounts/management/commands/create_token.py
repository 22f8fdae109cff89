"""`python manage.py create_token ORG/PROJECT [--name NAME] [--scope S ...]`: print a new project token.

Without --scope the token gets ingest + ci-gate, what tools/greenesg-ci needs; add `--scope read` for
scripts that read imports, the summary or runs.

Only the token goes to stdout, so `TOKEN=$(python manage.py create_token acme/ml)` captures it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from greenesg.accounts.models import Project, TokenScope
from greenesg.accounts.services import api_token_create


def project_from_label(label: str) -> Project:
    org_slug, sep, project_slug = label.partition("/")
    if not sep or not org_slug or not project_slug or "/" in project_slug:
        raise CommandError(f"Give the project as ORG/PROJECT (slugs), not {label!r}.")
    project = (
        Project.objects.select_related("organisation").filter(organisation__slug=org_slug, slug=project_slug).first()
    )
    if project is None:
        raise CommandError(f"No project {label!r}: check the organisation and project slugs.")
    return project


class Command(BaseCommand):
    help = "Create an API token for one project and print it (shown once, stored hashed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", metavar="ORG/PROJECT")
        parser.add_argument("--name", default="created from the command line", help="Label shown in the UI.")
        parser.add_argument(
            "--scope",
            action="append",
            choices=TokenScope.values,
            dest="scopes",
            help="Repeat for several; default: ingest and ci-gate (what the CI gate client needs).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_label(options["project"])
        new = api_token_create(
            project=project, name=options["name"][:100], created_by=None, scopes=options["scopes"] or None
        )
        self.stdout.write(new.raw)
        # A note for humans on stderr, unstyled (stderr defaults to the error colour).
        scopes = ", ".join(new.token.scopes)
        self.stderr.write(
            f"Token {new.token.prefix}… ({scopes}) created for {project}; it is not shown again.", style_func=str
        )
