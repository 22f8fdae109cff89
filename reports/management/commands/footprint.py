"""`manage.py footprint`: the footprint summary of an organisation or a project, for scripts and CI.

    manage.py footprint --org ORG [--start YYYY-MM-DD] [--end YYYY-MM-DD] [--json]
    manage.py footprint --project ORG/PROJECT [--start …] [--end …] --json

With --json it prints exactly the object of `GET /api/v1/projects/<org>/<project>/summary` (with --org alone,
of `GET /api/v1/orgs/<org>/summary`). Its figures come from the one totals route
(reports/dashboards/selectors/totals.py), so location- and market-based totals equal the overview's and the ESRS
report's for the same period.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from greenesg.accounts.models import Organisation, Project
from reports.dashboards.filters import InvalidFilter, parse_date
from reports.dashboards.selectors.footprint import footprint_summary


def _target(org_slug: str | None, project_ref: str | None) -> tuple[Organisation, Project | None]:
    project_slug = None
    if project_ref:
        org_part, slash, project_slug = project_ref.rpartition("/")
        if slash:
            if org_slug and org_part != org_slug:
                raise CommandError(f"--project {project_ref} is not in --org {org_slug}.")
            org_slug = org_part
        if not org_slug or not project_slug:
            raise CommandError("Give the project as ORG/PROJECT (or --org ORG --project PROJECT).")
    if not org_slug:
        raise CommandError("Give --org ORG or --project ORG/PROJECT.")
    organisation = Organisation.objects.filter(slug=org_slug).first()
    if organisation is None:
        raise CommandError(f"Unknown organisation {org_slug!r}.")
    if project_slug is None:
        return organisation, None
    project = Project.objects.filter(organisation=organisation, slug=project_slug).first()
    if project is None:
        raise CommandError(f"Unknown project {org_slug}/{project_slug}.")
    return organisation, project


class Command(BaseCommand):
    help = "Print the footprint summary (runs, energy, kgCO2e, water, per scope) of an organisation or project."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", help="Organisation slug")
        parser.add_argument("--project", help="ORG/PROJECT (or a project slug together with --org)")
        parser.add_argument("--start", help="First UTC day, YYYY-MM-DD (inclusive)")
        parser.add_argument("--end", help="Last UTC day, YYYY-MM-DD (inclusive)")
        parser.add_argument("--json", action="store_true", help="Print the summary API's JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation, project = _target(options["org"], options["project"])
        try:
            start = parse_date(options["start"], name="--start")
            end = parse_date(options["end"], name="--end")
            summary = footprint_summary(organisation=organisation, project=project, start=start, end=end)
        except InvalidFilter as error:
            raise CommandError(str(error)) from None
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2, sort_keys=True))
            return
        self.stdout.write(self._table(summary))

    def _table(self, summary: dict[str, Any]) -> str:
        target = summary["organisation"] + (f"/{summary['project']}" if summary["project"] else "")
        period = f"{summary['start'] or 'beginning'} to {summary['end'] or 'today'}"
        lines = [f"Footprint of {target}, {period} (UTC days)", ""]
        header = f"{'':<24}{'runs':>8}{'kWh IT':>14}{'kWh facility':>14}{'kgCO2e loc.':>14}{'kgCO2e mkt.':>14}"
        lines.append(header)
        rows = [*summary["by_scope"].items(), ("total", summary)]
        for name, values in rows:
            lines.append(
                f"{name:<24}{values['runs']:>8}{values['energy_kwh_it']:>14.3f}{values['energy_kwh_facility']:>14.3f}"
                f"{values['kgco2e_location']:>14.3f}{values['kgco2e_market']:>14.3f}"
            )
        return "\n".join(lines)
