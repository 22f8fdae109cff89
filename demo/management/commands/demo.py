from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Load the demo organisation 'demo': users for each role, a year of codecarbon runs and cloud billing, "
        "targets, budgets, ESG values, a signed ESRS report and its restated draft, approvals waiting. "
        "A second run adds nothing."
    )

    def handle(self, *args: object, **options: object) -> None:
        from demo.loader import demo_load
        from demo.logins import DEMO_LOGINS, DEMO_PASSWORD
        from reports.esrs.services import ReportError

        try:
            lines = demo_load()
        except (ImproperlyConfigured, ReportError) as exc:
            # Production mode, or a report that failed to render (WeasyPrint without its Pango libraries, see the
            # README): one line that says why, not a traceback. What was loaded before stays; a rerun goes on.
            raise CommandError(str(exc)) from exc
        for line in lines:
            self.stdout.write(line)
        names = ", ".join(name for name, _ in DEMO_LOGINS)
        self.stdout.write(f"Demo logins (password '{DEMO_PASSWORD}'): {names}")
