"""`python manage.py create_token ORG/PROJECT [--name NAME]`: print a new project token for automation.

Only the token goes to stdout, so `TOKEN=$(python manage.py create_token acme/ml)` captures it.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from greenesg.accounts.models import Project
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

    def handle(self, *args: Any, **options: Any) -> None:
        project = project_from_label(options["project"])
        new = api_token_create(project=project, name=options["name"][:100], created_by=None)
        self.stdout.write(new.raw)
        # A note for humans on stderr, unstyled (stderr defaults to the error colour).
        self.stderr.write(f"Token {new.token.prefix}… created for {project}; it is not shown again.", style_func=str)
