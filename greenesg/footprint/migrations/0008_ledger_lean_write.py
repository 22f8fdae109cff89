"""A leaner ledger write (issue 15 items 1-2): no ANALYZE statistics on the per-run `attributes` JSON, and the
experiment index without its period_end column.

Evidence (PostgreSQL 15 on the shared 2-core machine, numbers from the same session, two runs each):

- `attributes` averages 850 of the row's 1,358 bytes (pg_column_size). ANALYZE of the ledger, run after each large
  import (ledger.ledger_analyze), took 1.43-1.68 s on 670,000 rows; with no statistics on that column 0.98-1.00 s.
  No query filters, joins or groups on `attributes` (readers take keys of one run's JSON, the model-tag search
  matches text in it), so the planner never uses its statistics. On SQLite this step does nothing.
- Moving `attributes` out of the hot row at the storage level does not work for this table: PostgreSQL toasts a row
  only when it exceeds TOAST_TUPLE_THRESHOLD (about 2 KB, fixed at compile time); `toast_tuple_target` only sets how
  far a row already being toasted is shrunk. With toast_tuple_target = 128 and attributes STORAGE EXTERNAL, MAIN
  or EXTENDED (lz4), 200,000 ledger rows still took 278 MB of heap, as with the defaults. Only a side table shrinks
  the row; it is left for later (every reader of attributes would change).
- ledger_project_experiment was (project, experiment, period_end). Its users filter on project and experiment: the
  runs table of one experiment (reports/dashboards/selectors/footprint.py run_list), the engineer view and the
  recommendations' scope (steering/recommendations.py); none reads period_end through it (EXPLAIN ANALYZE on a
  500,000-run project: bitmap scan on (project, experiment), then a top-N sort on "period_end DESC NULLS LAST, id
  DESC", which the index order cannot give). With period_end each new row landed at a random leaf; without it,
  rows of one experiment append in heap order (btree ties sort by row address). 200,000 ledger rows into a table
  with only this index: 4.50-9.67 s with period_end, 3.01-3.59 s without, 2.06-2.42 s with no index; the index is
  about a tenth of its former size (1.3 MB for 200,000 rows).
- The other indexes stay, each read by a page or a hook: the unique natural key (upsert, classification, task
  rule), ledger_project_day (project pages, rollup refresh, double counting), ledger_org_day (records page, ESRS
  sources), ledger_job_row (the budget check after every import looks up the job's runs in a project: 0.4 ms
  through it for a small job in a 500,000-run project, where a scan of the project took 1.1-3.5 s; the records
  search by job). Its inserts are appends (one job, rising source_row): in one run 200,000 rows took 6.76 s into a
  table with all six indexes and 6.83 s with five.
"""

from django.db import migrations, models

TABLE = "footprint_ledgerentry"


def statistics_off(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN attributes SET STATISTICS 0")


def statistics_default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN attributes SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_token_scopes_and_use"),
        ("footprint", "0007_report_rollup"),
        ("ingestion", "0003_import_file_retention"),
    ]

    operations = [
        migrations.RunPython(statistics_off, statistics_default),
        migrations.RemoveIndex(model_name="ledgerentry", name="ledger_project_experiment"),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["project", "experiment"], name="ledger_project_experiment"),
        ),
    ]
