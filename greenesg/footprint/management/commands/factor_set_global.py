"""Publish a new version of a global emission-factor set: a platform administrator's command.

Organisations change factors for themselves through four-eyes approval (their own sets override the global
ones); a global set changes every organisation's future figures, so only the operator of the installation may do
it, from the command line:

    python manage.py factor_set_global --name grid-owid --kind grid_country --source "OWID 2025" factors.csv

The CSV has the columns zone, vintage_year, g_co2e_per_kwh and optionally label and source.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from greenesg.footprint.models import FactorKind
from greenesg.footprint.services import global_factor_set_publish

logger = logging.getLogger(__name__)


def _rows(path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, raw in enumerate(csv.DictReader(handle), start=2):
            try:
                rows.append(
                    {
                        "zone": raw["zone"].strip(),
                        "vintage_year": int(raw["vintage_year"]),
                        "g_co2e_per_kwh": float(raw["g_co2e_per_kwh"]),
                        "label": (raw.get("label") or "").strip(),
                        "source": (raw.get("source") or "").strip(),
                    }
                )
            except (KeyError, TypeError, ValueError) as exc:
                message = f"{path.name}, line {number}: zone, vintage_year and g_co2e_per_kwh needed ({exc})"
                raise CommandError(message) from exc
            if not rows[-1]["zone"] or rows[-1]["g_co2e_per_kwh"] < 0:
                raise CommandError(f"{path.name}, line {number}: an empty zone or a negative factor")
    return rows


class Command(BaseCommand):
    help = "Publish a new version of a global emission-factor set (platform administrators only)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("csv", help="zone,vintage_year,g_co2e_per_kwh[,label,source]")
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=[k for k, _ in FactorKind.choices])
        parser.add_argument("--source", required=True)
        parser.add_argument("--source-url", default="")
        parser.add_argument("--notes", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["csv"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        rows = _rows(path)
        factor_set = global_factor_set_publish(
            name=options["name"],
            kind=options["kind"],
            source=options["source"],
            factors=rows,
            source_url=options["source_url"],
            notes=options["notes"],
        )
        logger.warning("global factor set %s published with %d factors", factor_set.label, len(rows))
        self.stdout.write(f"{factor_set.label} active, {len(rows)} factors.")
