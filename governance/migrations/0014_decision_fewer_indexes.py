"""Three indexes fewer on governance_decision, each written for every decision logged.

`model_id` and `version_id` alone are prefixes of the unique (model_id, decision_id) index and
of gov_decision_version_time_idx, which serve the same lookups. The `varchar_pattern_ops` copy
of the ledger_key index that PostgreSQL gets for a unique CharField serves only LIKE prefix
searches, and nothing searches decisions by a ledger_key prefix (equality uses the unique index).
"""

import django.db.models.deletion
from django.db import migrations, models

# The name Django gave the LIKE index when it created the unique ledger_key column.
LIKE_INDEX = "governance_decision_ledger_key_1d975359_like"


def drop_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {LIKE_INDEX}")


def create_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {LIKE_INDEX} ON governance_decision (ledger_key varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0013_annex_iv_reports"),
    ]

    operations = [
        migrations.AlterField(
            model_name="decision",
            name="model",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="decisions",
                to="governance.registeredmodel",
            ),
        ),
        migrations.AlterField(
            model_name="decision",
            name="version",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="decisions",
                to="governance.modelversion",
            ),
        ),
        migrations.RunPython(drop_like_index, create_like_index, elidable=False),
    ]
