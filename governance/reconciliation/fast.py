"""The fast path for decisions on PostgreSQL: one streamed join, one byte comparison per row.

Decisions are the one table that grows without bound, so reconciling them must keep pace with
a million rows. This reads each decision with its model, version, poster, payload and leaf in
one server-side cursor, rebuilds the leaf's expected head (actor and data) from the row with the
ledger's own RFC 8785 encoder (`canonical.dumps`), and checks that the stored leaf starts with it
and that the payload opens the salted commitment. Where the head cannot match (a leaf written
before `posted_at` was bound, a value the encoder refuses), the row only becomes a suspect: every
suspect goes through the exact path (`engine.reconcile_kind`), which alone reports mismatches. A row that passes here
is one whose leaf begins with exactly these bytes, so nothing is passed that the exact path
would fail.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterator

import orjson
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from governance.models import Decision, DecisionPayload, ModelVersion, RegisteredModel
from ledger.models import Entry
from model_ledger_verify import canonical

CHUNK = 5_000
_loads = orjson.loads


def _dumps(value: object) -> bytes:
    """The value's RFC 8785 bytes (the ledger's own encoder); b"" where it refuses the value, which
    then matches no leaf and makes the row a suspect for the exact path."""
    try:
        return canonical.dumps(value)
    except canonical.CanonicalError:
        return b""


def _stamp_sql(column: str) -> str:
    """RFC 3339 text as `datetime.isoformat` writes it for UTC (`Z`; no fraction when zero),
    formatted by the server: it spares parsing and re-formatting two datetimes per row."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN extract(microseconds FROM {column})::bigint % 1000000 = 0 "
        f"""THEN to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') """
        f"""ELSE to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END"""
    )


def _sql() -> str:
    q = connection.ops.quote_name
    d, m, v = (q(Decision._meta.db_table), q(RegisteredModel._meta.db_table), q(ModelVersion._meta.db_table))
    u, p, e = (q(get_user_model()._meta.db_table), q(DecisionPayload._meta.db_table), q(Entry._meta.db_table))
    return f"""
        SELECT d.id, e.leaf, d.decision_id, m.slug, v.version, {_stamp_sql("d.occurred_at")}, d.input_sha256,
               d.output_label, d.output_score, d.reasons, d.mode, d.reviewer, d.overridden,
               d.override_reason, d.final_label, d.payload_commitment, u.username, {_stamp_sql("d.posted_at")},
               p.subject_ref, p.input_snapshot, p.salt, p.erased_at, p.id
          FROM {d} d
          JOIN {m} m ON m.id = d.model_id
          JOIN {v} v ON v.id = d.version_id
          JOIN {u} u ON u.id = d.posted_by_id
          LEFT JOIN {p} p ON p.decision_id = d.id
          LEFT JOIN {e} e ON e.idempotency_key = d.ledger_key
    """  # noqa: S608 — table names from model metadata, quoted; no input


def _json(value: object) -> object:
    # Django reads jsonb as text (JSONField decodes it); a raw cursor sees that text.
    return _loads(value) if isinstance(value, str) else value


def _prefetched(cursor) -> Iterator[list[tuple]]:
    """Yield the cursor's chunks, the next one fetched by a thread while this one is checked.

    The server computes and sends a chunk while the caller hashes the last (the driver releases
    the interpreter lock while it waits on the socket), so the two cores work at once.
    """
    chunks: queue.Queue = queue.Queue(maxsize=2)
    failure: list[BaseException] = []

    def fetch() -> None:
        try:
            while rows := cursor.fetchmany(CHUNK):
                chunks.put(rows)
        except BaseException as exc:
            failure.append(exc)
        finally:
            chunks.put(None)

    fetcher = threading.Thread(target=fetch, name="reconcile-fetch", daemon=True)
    fetcher.start()
    try:
        while (rows := chunks.get()) is not None:
            yield rows
    finally:
        while fetcher.is_alive():  # a caller that stopped early: drain so the thread can end
            if chunks.get() is None:
                break
        fetcher.join()
    if failure:
        raise failure[0]


def decision_suspects(progress: Callable[[int], None] | None = None) -> tuple[int, list[int]]:
    """Return (decisions read, ids of those the fast path could not confirm)."""
    count, suspects = 0, []
    with transaction.atomic():
        cursor = connection.chunked_cursor()
        cursor.execute(_sql())
        for rows in _prefetched(cursor):
            for row in rows:
                (pk, leaf, decision_id, slug, version, occurred_at, input_sha256, output_label, output_score) = row[:9]
                (reasons, mode, reviewer, overridden, override_reason, final_label, commitment) = row[9:16]
                (username, posted_at, subject_ref, snapshot, salt, erased_at, payload_id) = row[16:]
                if leaf is None or payload_id is None or erased_at is not None:
                    suspects.append(pk)
                    continue
                data = {
                    "decision_id": decision_id,
                    "final_label": final_label,
                    "input_sha256": input_sha256,
                    "mode": mode,
                    "model": slug,
                    "occurred_at": occurred_at,
                    "output_label": output_label,
                    "output_score": output_score,
                    "override_reason": override_reason,
                    "overridden": overridden,
                    "payload_commitment": commitment,
                    "posted_at": posted_at,
                    "reasons": _json(reasons),
                    "reviewer": reviewer,
                    "version": version,
                }
                head = b'{"actor":' + _dumps("user:" + username) + b',"data":' + _dumps(data) + b',"idempotency_key":'
                payload = _dumps({"input_snapshot": _json(snapshot), "subject_ref": subject_ref})
                if not bytes(leaf).startswith(head) or hashlib.sha256(bytes(salt) + payload).hexdigest() != commitment:
                    suspects.append(pk)
            count += len(rows)
            if progress is not None:
                progress(len(rows))
        cursor.close()
    return count, suspects
