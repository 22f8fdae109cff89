"""Token scopes and token-use audit fields.

Tokens created before scopes existed could import, read the project's imports, summary and runs, and
call the CI gate. They keep exactly that: every existing row gets all three scopes, so no CI pipeline
breaks on upgrade. Only tokens created afterwards start with the narrower default (ingest + ci-gate).
"""

from django.db import migrations, models

import greenesg.accounts.models


def _all_scopes() -> list[str]:
    return ["ingest", "read", "ci-gate"]


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        # Step 1: add the column with every scope, which fills the rows that exist now.
        migrations.AddField(
            model_name="apitoken",
            name="scopes",
            field=models.JSONField(default=_all_scopes, help_text="names from TokenScope"),
        ),
        # Step 2: new rows default to what the CI client needs.
        migrations.AlterField(
            model_name="apitoken",
            name="scopes",
            field=models.JSONField(
                default=greenesg.accounts.models.token_scopes_default, help_text="names from TokenScope"
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="last_used_ip",
            field=models.GenericIPAddressField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="use_count",
            field=models.PositiveBigIntegerField(default=0),
        ),
    ]
