"""`python manage.py advise --org ORG [--project P] [--json]`: run the efficiency advisor and print its findings."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from greenesg.accounts.models import Organisation
from steering.recommendations import recommendation_list, recommendation_payload, recommendations_refresh


class Command(BaseCommand):
    help = "Run the efficiency advisor over an organisation's projects and print the recommendations."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--project", help="one project slug (default: every project)")
        parser.add_argument("--json", action="store_true", help="print the API's JSON objects")
        parser.add_argument("--no-refresh", action="store_true", help="print what is stored without re-running")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(f"No organisation {options['org']!r}.")
        projects = organisation.projects.order_by("slug")
        if options["project"]:
            projects = projects.filter(slug=options["project"])
            if not projects.exists():
                raise CommandError(f"No project {options['project']!r} in {organisation.slug}.")
        payloads = []
        for project in projects:
            if not options["no_refresh"]:
                recommendations_refresh(project=project)
            payloads += [recommendation_payload(item) for item in recommendation_list(project=project)]
        payloads.sort(key=lambda p: -p["saving_per_month"]["kgco2e_location"])
        if options["json"]:
            self.stdout.write(json.dumps({"organisation": organisation.slug, "recommendations": payloads}, indent=2))
            return
        if not payloads:
            self.stdout.write("No recommendations.")
            return
        for p in payloads:
            saving = p["saving_per_month"]
            cost = f", {saving['cost']:.2f} {saving['currency']}" if saving["cost"] is not None else ""
            self.stdout.write(
                f"[{p['status']}] {p['project']}: {p['title']}\n"
                f"    saves {saving['kgco2e_location']:.3g} kgCO2e ({saving['kgco2e_market']:.3g} market-based), "
                f"{saving['kwh']:.3g} kWh{cost} per month\n    → {p['action']}"
            )
