from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Load the demo organisation 'demo' with projects, users (officer, engineer, auditor) and a year of runs."

    def handle(self, *args: object, **options: object) -> None:
        from demo.loader import demo_load

        try:
            lines = demo_load()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for line in lines:
            self.stdout.write(line)
        self.stdout.write(
            "Demo logins (password 'demo'): officer, controller (a second officer, for four-eyes approvals), "
            "engineer, auditor"
        )
