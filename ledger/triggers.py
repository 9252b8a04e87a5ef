"""Append-only enforcement in the database: triggers that refuse UPDATE, DELETE and TRUNCATE.

Installed by migrations 0002, 0003 (which swapped nodes for tiles) and 0006 (witnesses'
cosignatures: a cosignature once received is evidence, never edited). They stop mistakes and
ordinary database roles; a superuser can still disable them, which is why checkpoints are
signed and verifiable offline.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper

APPEND_ONLY_TABLES = ("ledger_entry", "ledger_tile", "ledger_checkpoint", "ledger_cosignature")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
"""


def _statements(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
            f"CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
        ]
    if vendor == "sqlite":
        # SQLite has no TRUNCATE; its DELETE without WHERE still fires row triggers here because
        # the truncate optimisation is disabled for tables with triggers.
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only: UPDATE refused');"
            " END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, 'ledger table {table} is append-only: DELETE refused');"
            " END",
        ]
    raise NotImplementedError(f"No append-only triggers for the {vendor} database backend.")


def install(connection: BaseDatabaseWrapper, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> None:
    """Create the append-only triggers (idempotent)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_FUNCTION)
        for table in tables:
            for statement in _statements(connection.vendor, table):
                cursor.execute(statement)


def uninstall(connection: BaseDatabaseWrapper, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> None:
    """Drop the triggers (for reversing the migration, and for test database teardown)."""
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            else:
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
        if connection.vendor == "postgresql" and tables == APPEND_ONLY_TABLES:
            cursor.execute("DROP FUNCTION IF EXISTS ledger_refuse_change()")
