"""Browsing the log: entries newest first, narrowed by event type, subject and time.

Leaves are stored as exact canonical bytes (RFC 8785), so an envelope field is found by its
exact bytes (`"type":"decision.logged"`) without parsing a leaf; a match inside `data` is
possible in principle, so callers parse the leaves they show and check the envelope again
(`matches`). Times come from `ts`, which the sequencer stamps when it appends a batch, so it
never decreases along `seq`: a time range is a range of sequence numbers, found by bisection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import BinaryField, Func, IntegerField, QuerySet, Value

from ledger.models import Entry
from ledger.selectors import EXPORT_CHUNK, tree_size
from model_ledger_verify import leaf as leaf_format


class _BytesPosition(Func):
    """1-based position of `needle` in the bytes of `haystack`, 0 when absent."""

    function = "INSTR"  # SQLite: INSTR(haystack, needle) works on blobs.
    output_field = IntegerField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        haystack, needle = self.source_expressions
        h_sql, h_params = compiler.compile(haystack)
        n_sql, n_params = compiler.compile(needle)
        return f"POSITION({n_sql} IN {h_sql})", [*n_params, *h_params]


@dataclass(frozen=True)
class EntryFilters:
    type: str = ""
    subject: str = ""
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def _field_bytes(name: str, value: str) -> bytes:
    return f'"{name}":'.encode() + json.dumps(value, ensure_ascii=False).encode()


def _ts_at(seq: int) -> str:
    leaf = Entry.objects.filter(seq=seq).values_list("leaf", flat=True).first()
    return json.loads(bytes(leaf)).get("ts", "") if leaf is not None else ""


def first_seq_at(moment: datetime, size: int) -> int:
    """Return the first sequence number whose `ts` is at or after `moment` (`size` if none)."""
    wanted = leaf_format.timestamp(moment)
    low, high = 0, size
    while low < high:
        middle = (low + high) // 2
        if _ts_at(middle) < wanted:
            low = middle + 1
        else:
            high = middle
    return low


def entry_search(f: EntryFilters) -> QuerySet[Entry]:
    """Return the entries matching `f`, newest first (a queryset: page it, or stream it)."""
    size = tree_size()
    queryset = Entry.objects.filter(seq__lt=size)
    if f.since is not None:
        queryset = queryset.filter(seq__gte=first_seq_at(f.since, size))
    if f.until is not None:
        queryset = queryset.filter(seq__lt=first_seq_at(f.until, size))
    for name, value in (("type", f.type), ("subject", f.subject)):
        if value:
            needle = Value(_field_bytes(name, value), output_field=BinaryField())
            queryset = queryset.annotate(**{f"_{name}_at": _BytesPosition("leaf", needle)}).filter(
                **{f"_{name}_at__gt": 0}
            )
    return queryset.order_by("-seq")


def envelope(entry: Entry) -> dict[str, Any]:
    """Return the envelope of an entry's leaf (seq, ts, type, subject, actor) and its leaf hash."""
    event = json.loads(bytes(entry.leaf))
    return {
        "seq": entry.seq,
        "ts": event.get("ts", ""),
        "type": event.get("type", ""),
        "subject": event.get("subject", ""),
        "actor": event.get("actor", ""),
        "leaf_hash": bytes(entry.leaf_hash).hex(),
    }


def matches(row: dict[str, Any], f: EntryFilters) -> bool:
    """Whether a parsed envelope really has the type and subject asked for (not only its data)."""
    return (not f.type or row["type"] == f.type) and (not f.subject or row["subject"] == f.subject)


def entry_rows(queryset: QuerySet[Entry], f: EntryFilters) -> Iterator[dict[str, Any]]:
    """Yield the envelopes of `queryset`'s entries that match `f`, in bounded chunks (exports)."""
    for entry in queryset.only("seq", "leaf", "leaf_hash").iterator(chunk_size=EXPORT_CHUNK):
        row = envelope(entry)
        if matches(row, f):
            yield row
