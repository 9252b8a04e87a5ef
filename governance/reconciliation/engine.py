"""The reconciliation engine: stream a kind's records, fetch their leaves in chunks, compare.

A record kind (see `kinds`) says which rows to read, which leaves record them (by ledger
idempotency key) and, field by field, what the leaf says the shown value must be. The engine
reads the rows with one streamed query, fetches the leaves of each chunk of rows with one
more query (never one per row), decodes each leaf once and compares.

Leaves are parsed with the standard library's C JSON parser: the log check (`ledger.integrity`)
already proves every stored leaf is RFC 8785 canonical JSON, and a canonical leaf parses to the
same value either way.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet

from ledger.models import Entry
from model_ledger_verify import canonical

Row = Mapping[str, Any]
# Rows read per chunk, and so leaves fetched per query: large enough that the per-query cost
# vanishes, small enough that an IN list of this many keys stays well within every backend's
# parameter limit (SQLite: 32,766) even for kinds with two leaves per record.
CHUNK = 2_000
# A stored value longer than this is shown by its SHA-256, not in full.
SHOWN_LENGTH = 80
ABSENT = object()
ACTOR = "@actor"


def rfc3339(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def iso_date(day: date | None) -> str | None:
    return day.isoformat() if day else None


def user_actor(username: str | None) -> str:
    return f"user:{username}" if username else "system"


@dataclass(frozen=True)
class Leaf:
    """A ledger entry that records (part of) a record.

    `key` returns the entry's idempotency key for a row, or None when the row has no such
    entry to look for; `required` says whether its absence is a mismatch.
    """

    name: str
    key: Callable[[Row], str | None]
    required: Callable[[Row], bool] = lambda row: True


@dataclass(frozen=True)
class Field:
    """A field as the API, console or a report shows it, and where its leaf states it.

    `value` turns the stored row into the leaf's form (an RFC 3339 string for a datetime, a
    username for a user…). `path` is a member of the leaf's `data`, or ACTOR for the envelope's
    actor. A leaf written before the field was bound lacks the member: that leaf does not bind
    it, and the field is not compared against it. `default` is what the field must hold when
    the leaf is absent and not required (a version with no status change is `registered`).
    """

    name: str
    leaf: str
    path: str
    value: Callable[[Row], Any]
    default: Any = ABSENT


@dataclass(frozen=True)
class Kind:
    """One kind of governance record and how it reconciles with its leaves."""

    name: str
    model: type[Model]
    columns: tuple[str, ...]
    natural_key: Callable[[Row], str]
    leaves: tuple[Leaf, ...]
    fields: tuple[Field, ...]
    annotations: Callable[[], dict[str, Any]] = dict
    # Checks that do not fit a field map: (row, decoded leaves by name, context) -> facts.
    more: Callable[[Row, dict[str, dict | None], Any], Iterable[Fact]] | None = None
    # Read once per run before the rows (e.g. leaves no record points at), given the queryset
    # being checked (None: the whole table); passed to `more`.
    context: Callable[[QuerySet | None], Any] = lambda queryset: None
    # On PostgreSQL, a whole-table pass: (progress) -> (rows read, ids to check exactly).
    fast: Callable[[Callable[[int], None] | None], tuple[int, list[int]]] | None = None

    @property
    def table(self) -> str:
        return self.model._meta.db_table


@dataclass(frozen=True)
class Fact:
    """One field of one record compared with its leaf."""

    field: str
    ok: bool
    seq: int | None
    stored: Any = None
    ledger: Any = ABSENT
    # Where the leaf states the value: "actor" or "data.<member>"; None when the fact is derived
    # (a payload opening a commitment, a state implied by later leaves) rather than stated.
    member: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field, "ok": self.ok, "seq": self.seq}
        if not self.ok:
            out["stored"] = shown(self.stored)
            out["stored_sha256"] = value_sha256(self.stored)
            if self.ledger is not ABSENT:
                out["ledger"] = shown(self.ledger)
        return out


@dataclass(frozen=True)
class Mismatch:
    """A record that differs from its leaves: the line `verify_ledger` prints for it."""

    table: str
    kind: str
    record: str
    field: str
    stored: Any
    seq: int | None
    ledger: Any = ABSENT

    def line(self) -> str:
        if self.field == "row":
            return f"{self.table}: {self.record}: no row, but ledger seq {self.seq} records it (deleted)"
        where = f"{self.table}: {self.record}: {self.field}"
        if self.seq is None:
            return f"{where}: stored {shown(self.stored)} but no ledger entry records it"
        said = "" if self.ledger is ABSENT else f", which says {shown(self.ledger)}"
        return f"{where}: stored {shown(self.stored)} contradicts ledger seq {self.seq}{said}"

    def as_dict(self) -> dict[str, Any]:
        out = {
            "table": self.table,
            "kind": self.kind,
            "record": self.record,
            "field": self.field,
            "stored": shown(self.stored),
            "stored_sha256": value_sha256(self.stored),
            "seq": self.seq,
        }
        if self.ledger is not ABSENT:
            out["ledger"] = shown(self.ledger)
        return out


def value_sha256(value: Any) -> str:
    """Return the hex SHA-256 of a value's canonical JSON (its repr when JSON cannot hold it)."""
    try:
        data = canonical.dumps(value)
    except (canonical.CanonicalError, TypeError):
        data = repr(value).encode()
    return hashlib.sha256(data).hexdigest()


def shown(value: Any) -> str:
    """Return a value as a mismatch line shows it: in full when short, else by its hash."""
    if isinstance(value, (bytes, memoryview)):
        return f"<{len(value)} bytes, sha256 {hashlib.sha256(bytes(value)).hexdigest()}>"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if len(text) <= SHOWN_LENGTH:
        return text
    return f"<sha256 {value_sha256(value)}>"


def _decode(leaf: bytes | memoryview) -> dict[str, Any]:
    return json.loads(bytes(leaf))


def _values(kind: Kind, queryset: QuerySet | None) -> QuerySet:
    qs = kind.model.objects.all() if queryset is None else queryset
    qs = qs.annotate(**kind.annotations()) if kind.annotations() else qs
    return qs.order_by("pk").values(*kind.columns)


def _rows(kind: Kind, queryset: QuerySet | None) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in _values(kind, queryset).iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _leaves_for(kind: Kind, rows: list[dict[str, Any]]) -> tuple[list[list[str | None]], dict[str, bytes]]:
    keys = [[leaf.key(row) for leaf in kind.leaves] for row in rows]
    wanted = {key for per_row in keys for key in per_row if key is not None}
    found = dict(Entry.objects.filter(idempotency_key__in=wanted).values_list("idempotency_key", "leaf"))
    return keys, found


def check_row(
    kind: Kind, row: Row, leaves: dict[str, dict | None], context: Any = None, *, all_facts: bool = False
) -> list[Fact]:
    """Return the facts of one row: only the failing ones unless `all_facts`."""
    facts: list[Fact] = []
    for spec in kind.leaves:
        if leaves[spec.name] is None and spec.required(row):
            facts.append(Fact(f"{spec.name} entry", False, None, stored=spec.key(row)))
    for spec in kind.fields:
        leaf = leaves[spec.leaf]
        stored = spec.value(row)
        if leaf is None:
            if spec.default is not ABSENT:
                ok = stored == spec.default
                if all_facts or not ok:
                    facts.append(Fact(spec.name, ok, None, stored, spec.default))
            continue
        said = leaf["actor"] if spec.path == ACTOR else leaf["data"].get(spec.path, ABSENT)
        if said is ABSENT:
            continue
        ok = stored == said
        if all_facts or not ok:
            member = "actor" if spec.path == ACTOR else f"data.{spec.path}"
            facts.append(Fact(spec.name, ok, leaf["seq"], stored, said, member))
    if kind.more is not None:
        facts.extend(f for f in kind.more(row, leaves, context) if all_facts or not f.ok)
    return facts


def _mismatches(kind: Kind, row: Row, facts: list[Fact]) -> list[Mismatch]:
    record = kind.natural_key(row)
    return [Mismatch(kind.table, kind.name, record, f.field, f.stored, f.seq, f.ledger) for f in facts]


def reconcile_kind(
    kind: Kind, queryset: QuerySet | None = None, *, progress: Callable[[int], None] | None = None
) -> tuple[int, list[Mismatch]]:
    """Return (records checked, mismatches) for every row of `kind` (or of `queryset`)."""
    if queryset is None and kind.fast is not None and connection.vendor == "postgresql":
        count, suspects = kind.fast(progress)
        found = []
        for start in range(0, len(suspects), CHUNK):
            subset = kind.model.objects.filter(pk__in=suspects[start : start + CHUNK])
            found += reconcile_kind(kind, subset)[1]
        return count, found
    count, found = 0, []
    context = kind.context(queryset)
    for rows in _rows(kind, queryset):
        keys, leaves = _leaves_for(kind, rows)
        names = [spec.name for spec in kind.leaves]
        for row, row_keys in zip(rows, keys, strict=True):
            decoded = {
                name: _decode(leaves[key]) if key is not None and key in leaves else None
                for name, key in zip(names, row_keys, strict=True)
            }
            facts = check_row(kind, row, decoded, context)
            if facts:
                found.extend(_mismatches(kind, row, facts))
        count += len(rows)
        if progress is not None:
            progress(len(rows))
    return count, found


def record_facts(kind: Kind, queryset: QuerySet) -> list[tuple[Row, list[Fact]]]:
    """Return every fact of each row of `queryset` (a handful: API and console reads)."""
    out = []
    context = kind.context(queryset)
    for rows in _rows(kind, queryset):
        keys, leaves = _leaves_for(kind, rows)
        for row, row_keys in zip(rows, keys, strict=True):
            decoded = {
                spec.name: _decode(leaves[key]) if key is not None and key in leaves else None
                for spec, key in zip(kind.leaves, row_keys, strict=True)
            }
            out.append((row, check_row(kind, row, decoded, context, all_facts=True)))
    return out


def records_facts(queries: Iterable[tuple[Kind, QuerySet]]) -> list[list[tuple[Row, list[Fact]]]]:
    """Return, for each (kind, queryset), every fact of each of its rows, as `record_facts` does.

    For the few records of one report: each queryset is read whole (no streaming cursor) and
    the leaves of all of them come from one query, CHUNK keys at a time.
    """
    read = []
    for kind, queryset in queries:
        rows = list(_values(kind, queryset))
        read.append((kind, queryset, rows, [[leaf.key(row) for leaf in kind.leaves] for row in rows]))
    wanted = sorted({key for *_, keys in read for per_row in keys for key in per_row if key is not None})
    leaves: dict[str, bytes] = {}
    for start in range(0, len(wanted), CHUNK):
        subset = wanted[start : start + CHUNK]
        leaves.update(Entry.objects.filter(idempotency_key__in=subset).values_list("idempotency_key", "leaf"))
    out = []
    for kind, queryset, rows, keys in read:
        context = kind.context(queryset)
        facts = []
        for row, row_keys in zip(rows, keys, strict=True):
            decoded = {
                spec.name: _decode(leaves[key]) if key is not None and key in leaves else None
                for spec, key in zip(kind.leaves, row_keys, strict=True)
            }
            facts.append((row, check_row(kind, row, decoded, context, all_facts=True)))
        out.append(facts)
    return out


def first_failing(kind: Kind, rows: Iterable[tuple[Row, list[Fact]]]) -> Mismatch | None:
    """Return the first failing fact of `rows` (from `record_facts`) as a Mismatch, or None."""
    for row, facts in rows:
        failing = [fact for fact in facts if not fact.ok]
        if failing:
            return _mismatches(kind, row, failing)[0]
    return None


def bound(
    name: str, *, column: str | None = None, path: str | None = None, leaf: str = "recorded", **kw: Any
) -> Field:
    """Return a field compared as stored (after `convert`, if given) with a member of a leaf."""
    convert = kw.pop("convert", None)
    source = column or name

    def value(row: Row) -> Any:
        stored = row[source]
        return convert(stored) if convert is not None else stored

    return Field(name, leaf, path or name, value, **kw)


def moment(name: str, **kw: Any) -> Field:
    """Return a datetime field, which leaves state as RFC 3339 UTC strings."""
    return bound(name, convert=rfc3339, **kw)


def actor(name: str, column: str, *, leaf: str = "recorded") -> Field:
    """Return a "who did it" field, which a leaf states as its envelope's actor."""
    return Field(name, leaf, ACTOR, lambda row: user_actor(row[column]))


def by_key(column: str = "ledger_key") -> Callable[[Row], str | None]:
    return lambda row: row[column] or None


def by_pattern(pattern: str, column: str = "pk") -> Callable[[Row], str | None]:
    """Return a key function for leaves keyed by a record's id: `pattern` holds one `{}`."""
    return lambda row: pattern.format(row[column]) if row[column] is not None else None
