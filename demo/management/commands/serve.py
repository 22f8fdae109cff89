"""`manage.py serve`: the development server as `make run` starts it, with one line instead of Django's banner.

runserver prints "Performing system checks…", the check result, the date, the Django version, the settings
module, the URL, how to quit and a warning about production servers. A newcomer needs the URL (once), how to pick
another port and how to stop. System-check errors still stop the server; static files stay with WhiteNoise
(whitenoise.runserver_nostatic does the same for runserver).
"""

from __future__ import annotations

from typing import Any

from django.contrib.staticfiles.management.commands.runserver import Command as RunserverCommand
from django.core.management.base import CommandParser


def serve_banner(url: str) -> str:
    return f"GreenESG is running at {url}  (another port: make run PORT=8080 · stop: Ctrl-C)"


class Command(RunserverCommand):
    help = "The development server with a one-line start message (what `make run` starts)."
    # Set by runserver's handle() (django-stubs does not declare them).
    addr: str
    _raw_ipv6: bool

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(use_static_handler=False)

    def inner_run(self, *args: Any, **options: Any) -> None:
        if not options["skip_checks"]:
            # Errors still stop the server; "System check identified no issues" is not news.
            self.check(display_num_errors=False)
        super().inner_run(*args, **{**options, "skip_checks": True})

    def on_bind(self, server_port: int) -> None:
        host = f"[{self.addr}]" if self._raw_ipv6 else ("0.0.0.0" if self.addr == "0" else self.addr)  # noqa: S104
        self.stdout.write(serve_banner(f"{self.protocol}://{host}:{server_port}/"))
