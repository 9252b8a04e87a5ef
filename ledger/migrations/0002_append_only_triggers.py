"""Make entries, nodes and checkpoints append-only in the database (ledger.triggers)."""

from django.db import migrations

from ledger import triggers

# The tables as they were at this migration (0003 replaced ledger_node by ledger_tile).
TABLES = ("ledger_entry", "ledger_node", "ledger_checkpoint")


def install(apps, schema_editor):
    triggers.install(schema_editor.connection, TABLES)


def uninstall(apps, schema_editor):
    triggers.uninstall(schema_editor.connection, TABLES)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
