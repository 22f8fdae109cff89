"""`manage.py esg --org ORG --period P [--json]`: every metric of the period with value, unit, status
(missing, submitted, approved; "computed" for figures derived from the footprint ledger) and source.
`manage.py footprint` stays the climate summary."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from esg.periods import InvalidPeriod, period_parse
from esg.selectors import completeness, metric_rows, period_lock_row, project_scorecard, project_scorecard_rows
from greenesg.accounts.models import Organisation


class Command(BaseCommand):
    help = "ESG metrics of one organisation and period (E from the ledger, S and G as entered and approved)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="organisation slug")
        parser.add_argument("--period", required=True, help="2026, 2026-Q3 or 2026-YTD")
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument("--projects", action="store_true", help="add each project's scorecard")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(f"No organisation {options['org']!r}.")
        try:
            period = period_parse(options["period"], ytd=True)
        except InvalidPeriod as exc:
            raise CommandError(str(exc)) from exc
        rows = metric_rows(organisation, period)
        done = completeness(rows)
        result: dict[str, Any] = {
            "organisation": organisation.slug,
            "period": period.key,
            "closed": period_lock_row(organisation, period) is not None,
            "completeness": {
                "required": done["required"],
                "present": done["present"],
                "missing": [row.code for row in done["missing"]],
            },
            "metrics": [row.as_dict() for row in rows],
        }
        if options["projects"]:
            result["projects"] = {
                p.slug: project_scorecard_rows(project_scorecard(p, period)) for p in organisation.projects.all()
            }
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2, default=str))
            return
        self.stdout.write(f"{organisation.name} · {period.key} · {done['present']}/{done['required']} required present")
        for row in rows:
            value = "–" if row.value is None else f"{row.value:,.4g}"
            self.stdout.write(f"{row.code:45} {value:>14} {row.metric.unit:16} {row.status:10} {row.source}")
