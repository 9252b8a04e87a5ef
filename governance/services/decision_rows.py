"""Writing a batch's decision and payload rows without model instances, and finding those logged.

A batch of 1,000 decisions built as `Decision` and `DecisionPayload` instances and written with
`bulk_create` spent most of its CPU in Django's per-field preparation and in quoting 17,000
values into two INSERT statements client-side. Here the rows are tuples: on PostgreSQL they go
by COPY (ids reserved first from the tables' own sequence, so each payload can name its
decision), elsewhere by `executemany`, with the decisions' ids read back in one query.

Only the decision log calls this, inside its own transaction; a unique violation (a concurrent
batch with the same decision ids) surfaces as Django's IntegrityError, as `bulk_create`'s did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from django.db import connection

from governance.models import Decision, DecisionPayload

# The columns written, in the order of the tuples the caller builds (without the id).
DECISION_COLUMNS = (
    "model_id",
    "version_id",
    "decision_id",
    "occurred_at",
    "input_sha256",
    "output_label",
    "output_score",
    "reasons",
    "mode",
    "reviewer",
    "overridden",
    "override_reason",
    "final_label",
    "payload_commitment",
    "posted_by_id",
    "posted_at",
    "ledger_key",
)
PAYLOAD_COLUMNS = ("decision_id", "subject_ref", "input_snapshot", "salt")
_REASONS, _OCCURRED, _POSTED = (DECISION_COLUMNS.index(name) for name in ("reasons", "occurred_at", "posted_at"))


def json_text(value: Any) -> str | None:
    """JSON text for a json/jsonb column (None is SQL NULL, as JSONField writes it)."""
    return None if value is None else orjson.dumps(value).decode()


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _names(columns: Sequence[str]) -> str:
    return ", ".join(connection.ops.quote_name(column) for column in columns)


def rows_insert(decisions: list[tuple[Any, ...]], payloads: list[tuple[Any, ...]]) -> None:
    """Insert decision rows and their payload rows (payload tuples without the decision id).

    The JSON columns come as JSON text (`json_text`) and times as aware datetimes.
    """
    if not decisions:
        return
    if connection.vendor == "postgresql":
        _copy(decisions, payloads)
    else:
        _execute_many(decisions, payloads)


def _copy(decisions: list[tuple[Any, ...]], payloads: list[tuple[Any, ...]]) -> None:
    table = _table(Decision)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Decision._meta.db_table, len(decisions)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        raw = cursor.cursor
        with raw.copy(f"COPY {table} (id, {_names(DECISION_COLUMNS)}) FROM STDIN") as copy:
            for pk, row in zip(ids, decisions, strict=True):
                copy.write_row((pk, *row))
        with raw.copy(f"COPY {_table(DecisionPayload)} ({_names(PAYLOAD_COLUMNS)}) FROM STDIN") as copy:
            for pk, row in zip(ids, payloads, strict=True):
                copy.write_row((pk, *row))


# The columns `rows_logged` returns after the decision id: what a resend must match.
LOGGED_COLUMNS = ("ledger_key", "version_id", "occurred_at", "input_sha256", "output_label", "output_score")
# One probe of the (model, decision id) unique index per id. Not `decision_id IN (...)`: where
# statistics are missing or stale the planner reads that as a scan of the model's index and then
# filters every decision the model ever logged (110-290 ms per batch at 130,000 decisions, where
# the probes took 9 ms under the same load). LIMIT 1 keeps the subquery from being flattened
# into a join, which would give the planner that choice again.
_LOGGED_SQL = (
    "SELECT k.decision_id, d.* FROM unnest(%s::text[]) AS k(decision_id) CROSS JOIN LATERAL "
    "(SELECT {columns} FROM {table} WHERE model_id = %s AND decision_id = k.decision_id LIMIT 1) AS d"
)


def rows_logged(model_id: int, decision_ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """Return {decision id: LOGGED_COLUMNS values} for those of `decision_ids` the model logged."""
    if not decision_ids:
        return {}
    if connection.vendor != "postgresql":
        rows = Decision.objects.filter(model_id=model_id, decision_id__in=decision_ids)
        return {row[0]: row[1:] for row in rows.values_list("decision_id", *LOGGED_COLUMNS)}
    sql = _LOGGED_SQL.format(columns=_names(LOGGED_COLUMNS), table=_table(Decision))
    with connection.cursor() as cursor:
        cursor.execute(sql, [decision_ids, model_id])
        return {row[0]: row[1:] for row in cursor.fetchall()}


def _adapted(row: tuple[Any, ...]) -> tuple[Any, ...]:
    adapt = connection.ops.adapt_datetimefield_value
    values: list[Any] = list(row)
    for index in (_OCCURRED, _POSTED):
        value: datetime = values[index]
        values[index] = adapt(value)
    return tuple(values)


def _execute_many(decisions: list[tuple[Any, ...]], payloads: list[tuple[Any, ...]]) -> None:
    marks = ", ".join(["%s"] * len(DECISION_COLUMNS))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_table(Decision)} ({_names(DECISION_COLUMNS)}) VALUES ({marks})",  # noqa: S608
            [_adapted(row) for row in decisions],
        )
    model_id = decisions[0][0]
    ids = dict(
        Decision.objects.filter(model_id=model_id, decision_id__in=[row[2] for row in decisions]).values_list(
            "decision_id", "pk"
        )
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {_table(DecisionPayload)} ({_names(PAYLOAD_COLUMNS)}) VALUES (%s, %s, %s, %s)",  # noqa: S608
            [(ids[row[2]], *payload) for row, payload in zip(decisions, payloads, strict=True)],
        )
