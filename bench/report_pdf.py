"""Benchmark: time to generate the quarterly ESRS E1 PDF for an organisation with 50 projects and a year of data.

    python bench/report_pdf.py [--projects 50] [--runs-per-day 4] [--repeat 3]

Runs on the configured database (DATABASE_URL; SQLite by default; migrate first). Seeds organisation
"bench-esrs" (replaced on each run) with a year of codecarbon-like Scope 2 rows and cloud Scope 3 rows per
project, then times inputs snapshot → facts → HTML → PDF for the last quarter. Target: under 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greenesg.settings")

import django  # noqa: E402

django.setup()

from greenesg.accounts.models import Organisation, Project  # noqa: E402
from greenesg.footprint.models import LedgerEntry  # noqa: E402
from reports.esrs import selectors as report_selectors  # noqa: E402
from reports.esrs import services as report_services  # noqa: E402
from reports.models import QuarterRevenue, ReportingSettings  # noqa: E402

REGIONS = [
    ("aws", "eu-west-1", "IRL"),
    ("aws", "us-east-1", "USA"),
    ("gcp", "europe-west1", "BEL"),
    ("azure", "westeurope", "NLD"),
]


def seed(projects: int, runs_per_day: int, year: int) -> Organisation:
    Organisation.objects.filter(slug="bench-esrs").delete()
    org = Organisation.objects.create(slug="bench-esrs", name="Bench ESRS")
    ReportingSettings.objects.create(
        organisation=org,
        legal_name="Bench ESRS SE",
        lei="5299000J2N45DDNE4Y28",
        base_year=year - 2,
        base_scope1_t=1,
        base_scope2_location_t=50,
        base_scope2_market_t=60,
        base_scope3_t=200,
    )
    for q in range(1, 5):
        QuarterRevenue.objects.create(organisation=org, fiscal_year=year, quarter=q, revenue_used=5_000_000)
    rng = random.Random(7)
    rows = []
    for p in range(projects):
        project = Project.objects.create(organisation=org, slug=f"p{p}", name=f"Project {p}")
        provider, region, country = REGIONS[p % len(REGIONS)]
        day = dt.date(year, 1, 1)
        while day.year == year:
            for r in range(runs_per_day):
                end = dt.datetime.combine(day, dt.time(r * 5, 30), tzinfo=dt.UTC)
                kwh = rng.uniform(0.5, 20)
                own = r % 2 == 0
                rows.append(
                    LedgerEntry(
                        organisation=org,
                        project=project,
                        natural_key=f"b:{p}:{day}:{r}",
                        source="codecarbon",
                        period_start=end - dt.timedelta(hours=1),
                        period_end=end,
                        day=day,
                        duration_s=3600,
                        run_id=f"{p}-{day}-{r}",
                        country_iso="FRA" if own else country,
                        provider="" if own else provider,
                        region="" if own else region,
                        energy_it_kwh=kwh,
                        energy_facility_kwh=kwh * 1.3,
                        kgco2e_location=kwh * 0.06,
                        kgco2e_market=kwh * 0.07,
                        scope=2 if own else 3,
                        category="" if own else "1.1",
                        method="measured",
                        factor_version="bench-grid@v1",
                        flags=["timezone_assumed"] if r == 3 else [],
                    )
                )
            day += dt.timedelta(days=1)
    LedgerEntry.objects.bulk_create(rows, batch_size=5000)
    return org


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--runs-per-day", type=int, default=4)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    org = seed(args.projects, args.runs_per_day, args.year)
    records = LedgerEntry.objects.filter(organisation=org).count()
    print(f"seeded {records} ledger records for {args.projects} projects in {time.perf_counter() - started:.1f} s")
    period = report_selectors.report_period_parse(organisation=org, text=f"{args.year}-Q4")
    timings = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        built = report_services.report_build(organisation=org, period=period)
        t1 = time.perf_counter()
        built.meta = report_services.report_meta(None, built.inputs)
        pdf = report_services.report_document(built, "pdf")
        t2 = time.perf_counter()
        timings.append((t2 - t0, t1 - t0, t2 - t1, len(pdf)))
    best = min(timings)
    print(
        f"quarterly PDF {args.year}-Q4: best {best[0]:.2f} s (inputs + facts {best[1]:.2f} s, render {best[2]:.2f} s), "
        f"{best[3] / 1024:.0f} KiB; all runs: {', '.join(f'{t[0]:.2f}' for t in timings)} s; target < 5 s"
    )
    Organisation.objects.filter(slug="bench-esrs").delete()


if __name__ == "__main__":
    main()
