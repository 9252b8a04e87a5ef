"""A prefix index on the entry key, PostgreSQL only.

Reconciliation reads the leaves no record points at by key prefix (`leaves.by_prefix`:
`model.validation_updated:` for the model kind's validation dates, `role.granted:` and
`role.revoked:` for role memberships, `access.granted:` and `access.revoked:` for permissions),
i.e. `WHERE idempotency_key LIKE 'model.validation_updated:%'`. The unique key index serves
that only under the "C" collation; this varchar_pattern_ops index serves it under any, so
`verify_ledger` no longer scans the whole log for those few leaves. SQLite's LIKE needs no index.
"""

from django.db import migrations, models

INDEX = "ledger_entry_key_prefix"


def create_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX {INDEX} ON ledger_entry (idempotency_key varchar_pattern_ops)")


def drop_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_witness_cosignatures"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="entry",
                    index=models.Index(fields=["idempotency_key"], name=INDEX, opclasses=["varchar_pattern_ops"]),
                ),
            ],
            database_operations=[migrations.RunPython(create_prefix_index, drop_prefix_index)],
        ),
    ]
