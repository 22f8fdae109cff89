"""`manage.py budget set ORG/PROJECT --period 2026-Q4 --kg N [--basis location|market] [--run-limit-kg N]`
and `manage.py budget show ORG/PROJECT [--period P] [--json]`."""

from __future__ import annotations

import json
import math
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from greenesg.accounts.models import Project
from steering import budget
from steering.models import Basis


class Command(BaseCommand):
    help = "Set or show a project's carbon budget for a period."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        set_parser = sub.add_parser("set", help="create or replace the budget of a period")
        set_parser.add_argument("project", help="ORG/PROJECT")
        set_parser.add_argument("--period", required=True, help="2026, 2026-Q4 or 2026-11")
        set_parser.add_argument("--kg", required=True, type=float, help="budget in kgCO2e")
        set_parser.add_argument("--basis", choices=list(Basis.values), default=Basis.LOCATION)
        set_parser.add_argument("--run-limit-kg", type=float, default=None, help="per-run limit for the CI gate")
        show_parser = sub.add_parser("show", help="budget, used, remaining, projection and verdict")
        show_parser.add_argument("project", help="ORG/PROJECT")
        show_parser.add_argument("--period", default="", help="default: the budget covering today")
        show_parser.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        from steering import selectors, services

        project = _project(options["project"])
        if options["action"] == "set":
            period = _period(options["period"])
            for name in ("kg", "run_limit_kg"):
                value = options[name]
                if value is not None and (not math.isfinite(value) or value < 0):
                    raise CommandError(f"--{name.replace('_', '-')} must be a finite number of at least 0")
            saved = services.budget_set(
                project=project,
                period=period,
                kg=options["kg"],
                basis=options["basis"],
                run_limit_kg=options["run_limit_kg"],
                actor=None,
                actor_label="cli",
            )
            self.stdout.write(f"{project} {saved.period}: budget {saved.kg:g} kgCO2e ({saved.basis}-based) saved")
            return
        today = selectors.today_utc()
        item = (
            selectors.budget_get(project=project, period=_period(options["period"]))
            if options["period"]
            else selectors.budget_current(project=project, today=today)
        )
        if item is None:
            raise CommandError(f"{project} has no budget for {options['period'] or 'today'}")
        status = selectors.budget_status_for(item=item, today=today)
        if options["json"]:
            from steering.api import budget_payload

            self.stdout.write(json.dumps(budget_payload(item, status, budget.period_parse(item.period), None)))
            return
        share = f" ({status.used_percent:.0f} %)" if status.used_percent is not None else ""
        self.stdout.write(
            f"{project} {item.period} [{item.basis}]: budget {status.budget_kg:,.3f} kg, used {status.used_kg:,.3f} kg"
            f"{share}, remaining {status.remaining_kg:,.3f} kg, projected {status.projected_kg:,.3f} kg, "
            f"verdict {status.verdict}"
        )


def _project(value: str) -> Project:
    org_slug, sep, project_slug = value.partition("/")
    if not sep:
        raise CommandError("give the project as ORG/PROJECT")
    project = (
        Project.objects.select_related("organisation").filter(organisation__slug=org_slug, slug=project_slug).first()
    )
    if project is None:
        raise CommandError(f"no project {value}")
    return project


def _period(value: str) -> budget.Period:
    try:
        return budget.period_parse(value)
    except budget.InvalidPeriod as exc:
        raise CommandError(str(exc)) from exc
