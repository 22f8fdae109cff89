"""`python manage.py report --org ORG --period 2026-Q3|2026-YTD|2026 --format pdf|xlsx|csv|json|ixbrl --out PATH`.

Writes the same documents as the UI from the live ledger (a "live extract": not stored, not signed).
`--report ID` writes a stored report's frozen document instead, checked against its SHA-256.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

FORMATS = ("pdf", "xlsx", "csv", "json", "ixbrl", "html", "lineage", "inputs")


class Command(BaseCommand):
    help = "Write the ESRS E1 report of an organisation for a period (PDF, XLSX, CSV, JSON or iXBRL)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="Organisation slug.")
        parser.add_argument("--period", help="2026-Q3, 2026-YTD or 2026 (fiscal).")
        parser.add_argument("--format", default="pdf", choices=FORMATS)
        parser.add_argument("--out", required=True, help="Output file ('-' for standard output).")
        parser.add_argument("--report", type=int, help="Write a stored report's frozen document instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        from greenesg.accounts.models import Organisation
        from reports.esrs import selectors as report_selectors
        from reports.esrs import services as report_services
        from reports.esrs.periods import InvalidPeriod
        from reports.models import Report

        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(f"No organisation {options['org']!r}.")
        fmt = options["format"]
        if options["report"]:
            report = Report.objects.filter(organisation=organisation, pk=options["report"]).first()
            artifact = report.artifacts.filter(format=fmt).first() if report else None
            if artifact is None:
                raise CommandError(f"Report {options['report']} has no stored {fmt} document.")
            data = report_services.artifact_verify(artifact)
        else:
            if not options["period"]:
                raise CommandError("--period is required (or --report).")
            if fmt == "xlsx" and not report_services.xlsx_available():
                raise CommandError("XLSX needs the xlsxwriter package (not installed).")
            try:
                period = report_selectors.report_period_parse(organisation=organisation, text=options["period"])
            except InvalidPeriod as exc:
                raise CommandError(str(exc)) from exc
            built = report_services.report_build(organisation=organisation, period=period)
            built.meta = report_services.report_meta(None, built.inputs)
            data = report_services.report_document(built, fmt)
        if options["out"] == "-":
            buffer = getattr(self.stdout, "buffer", None)  # OutputWrapper passes attributes on to its stream
            buffer.write(data) if buffer is not None else self.stdout.write(data.decode())
            return
        Path(options["out"]).write_bytes(data)
        self.stderr.write(f"wrote {len(data)} bytes to {options['out']}")
