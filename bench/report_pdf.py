"""Benchmark: time to generate the quarterly ESRS E1 PDF for an organisation with 50 projects and a year of data.

    python bench/report_pdf.py [--projects 50] [--rows 10000,100000,1000000] [--repeat 3]

Runs on the configured database (DATABASE_URL; SQLite by default; migrate first). For each ledger size, seeds
organisation "bench-esrs" (replaced each time) with a year of codecarbon-like Scope 2 rows and cloud Scope 3 rows
spread over the projects (one run per project and day, each copied in SQL up to the size), refreshes the rollups
over the year (timed apart: an import pays this for the days it touches), then times the quarterly
report by stage: inputs snapshot (the SQL over the report rollup, docs/esrs.md),
facts, HTML, PDF (WeasyPrint), the first call and the best of `--repeat`. Target: under 5 s; the printed stages
show which part grows with the ledger.
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
    """A year of `runs_per_day` runs per project and day (so projects x 365 x runs_per_day ledger rows)."""
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
                end = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC) + dt.timedelta(
                    minutes=30 + r * (23 * 60 // runs_per_day)
                )
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
                        flags=["timezone_assumed"] if r % 4 == 3 else [],
                    )
                )
                if len(rows) >= 20_000:  # bounded memory at a million rows
                    LedgerEntry.objects.bulk_create(rows, batch_size=5000)
                    rows = []
            day += dt.timedelta(days=1)
    LedgerEntry.objects.bulk_create(rows, batch_size=5000)
    return org


def stages(org: Organisation, period: object) -> tuple[float, float, float, float, int, float]:
    """(inputs, facts, html, pdf) seconds, the PDF's size and this process's CPU seconds for the whole.

    The CPU seconds do not count the database server's work, nor time spent waiting for a busy CPU, so on a
    shared machine they show what the render itself costs."""
    from reports.esrs import facts, render

    cpu = time.process_time()
    t0 = time.perf_counter()
    inputs = report_selectors.report_inputs(organisation=org, period=period, restates=None, reason="")  # type: ignore[arg-type]
    t1 = time.perf_counter()
    computed = facts.compute(inputs)
    t2 = time.perf_counter()
    built = report_services.Built(inputs=inputs, computed=computed)
    built.meta = report_services.report_meta(None, built.inputs)
    html = render.render_html(render.report_context(built.inputs, built.computed, built.meta))
    t3 = time.perf_counter()
    pdf = render.render_pdf(html)
    t4 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, t4 - t3, len(pdf), time.process_time() - cpu


def multiply(org: Organisation, copies: int) -> None:
    """Each seeded row `copies` times more (PostgreSQL, one INSERT ... SELECT): a million rows in seconds where
    bulk_create took minutes. The copies keep every column (whatever the ledger holds) but their natural key."""
    from django.db import connection

    if copies <= 1:
        return
    if connection.vendor != "postgresql":
        raise SystemExit("--rows above one run per project and day needs PostgreSQL")
    table = LedgerEntry._meta.db_table
    columns = [f.column for f in LedgerEntry._meta.concrete_fields if f.column != "id"]
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    picked = ", ".join(
        "natural_key || ':' || k" if c == "natural_key" else f"t.{connection.ops.quote_name(c)}" for c in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quoted}) SELECT {picked} FROM {table} t "  # noqa: S608 - model names only
            f"CROSS JOIN generate_series(2, %s) AS k WHERE t.organisation_id = %s",
            [copies, org.pk],
        )
        cursor.execute(f"ANALYZE {table}")


def rollups_build(org: Organisation, year: int) -> float:
    """Seconds to refresh the rollups over the seeded year, as an import's last step does for the days it touched
    (the seed writes the ledger directly, and the report reads whole months from the report rollup)."""
    from django.db import transaction

    from greenesg.footprint.ledger import rollup_refresh

    started = time.perf_counter()
    with transaction.atomic():
        rollup_refresh(
            organisation_id=org.pk,
            project_ids=list(org.projects.values_list("pk", flat=True)),
            first_day=dt.date(year, 1, 1),
            last_day=dt.date(year, 12, 31),
        )
    return time.perf_counter() - started


def measure(projects: int, rows: int, year: int, repeat: int) -> None:
    started = time.perf_counter()
    org = seed(projects, 1, year)
    multiply(org, round(rows / (projects * 365)))
    records = LedgerEntry.objects.filter(organisation=org).count()
    seeded = time.perf_counter() - started
    rolled = rollups_build(org, year)
    period = report_selectors.report_period_parse(organisation=org, text=f"{year}-Q4")
    timings = [stages(org, period) for _ in range(repeat)]
    first, best = timings[0], min(timings, key=lambda t: sum(t[:4]))
    print(
        f"{records:>9,} ledger rows ({projects} projects, seeded in {seeded:5.1f} s, rollups {rolled:5.1f} s) | "
        f"quarterly PDF {year}-Q4: "
        f"first {sum(first[:4]):5.2f} s, best {sum(best[:4]):5.2f} s = inputs {best[0]:5.2f} + facts {best[1]:4.2f} "
        f"+ html {best[2]:4.2f} + pdf {best[3]:4.2f} s (CPU of this process {best[5]:5.2f} s), "
        f"{best[4] / 1024:.0f} KiB | load average {os.getloadavg()[0]:.1f} | target < 5 s",
        flush=True,
    )
    Organisation.objects.filter(slug="bench-esrs").delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--rows", default="10000,100000,1000000", help="ledger sizes, comma-separated")
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from django.db import connection

    print(f"database: {connection.vendor}")
    for rows in (int(r) for r in args.rows.split(",")):
        measure(args.projects, rows, args.year, args.repeat)


if __name__ == "__main__":
    main()
