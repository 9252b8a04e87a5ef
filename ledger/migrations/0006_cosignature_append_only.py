"""Make the witnesses' cosignatures append-only in the database, as the log's own tables are."""

from django.db import migrations

from ledger import triggers

TABLES = ("ledger_cosignature",)


def install(apps, schema_editor):
    triggers.install(schema_editor.connection, TABLES)


def uninstall(apps, schema_editor):
    triggers.uninstall(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0005_entry_key_prefix_index"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
