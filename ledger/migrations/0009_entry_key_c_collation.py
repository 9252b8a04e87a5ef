"""The entry key under the "C" collation on PostgreSQL, and no separate prefix index.

Reconciliation reads a few leaves by key prefix (`leaves.by_prefix`, `LIKE 'role.granted:%'`).
Migration 0005 served that with a `varchar_pattern_ops` twin of the unique key index, which
doubled the space the keys take in indexes (about 120 bytes per entry on a log grown by
random keys). A B-tree under the "C" collation serves a `LIKE 'prefix%'` itself, so the column
takes that collation (the unique index is rebuilt with it, the rows are not rewritten) and the
twin goes. Keys are compared for equality everywhere else, which no collation changes; nothing
orders by them. SQLite compares bytes already and had neither index.
"""

from django.db import migrations

INDEX = "ledger_entry_key_prefix"


def to_c_collation(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute('ALTER TABLE ledger_entry ALTER COLUMN idempotency_key TYPE varchar(200) COLLATE "C"')
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


def to_default_collation(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'ALTER TABLE ledger_entry ALTER COLUMN idempotency_key TYPE varchar(200) COLLATE "default"'
        )
        schema_editor.execute(f"CREATE INDEX {INDEX} ON ledger_entry (idempotency_key varchar_pattern_ops)")


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0008_witness_alert_refused"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveIndex(model_name="entry", name=INDEX)],
            database_operations=[migrations.RunPython(to_c_collation, to_default_collation)],
        ),
    ]
