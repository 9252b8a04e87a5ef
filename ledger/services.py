"""Writes to the log: submit an event, integrate the queue (the sequencer), sign a checkpoint.

The write path (DESIGN.md): a domain service calls `submit` inside its own transaction; after
commit the sequencer turns queued submissions into entries under the tree-state row lock; the
signer publishes checkpoints that it has first proved consistent with the last one it signed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger import keys, selectors, tasks
from ledger.errors import EventRejected, NotInLog, SigningRefused
from ledger.models import Checkpoint, Entry, Node, Submission, TreeState
from model_ledger_verify import canonical, merkle, notes
from model_ledger_verify import leaf as leaf_format

# An event's canonical size limit. Leaves are evidence, not storage: bulky or personal content
# belongs in domain rows and enters the leaf as a hash.
MAX_EVENT_BYTES = 64 * 1024
# Submissions sequenced per transaction: large enough to amortise the lock and the commit,
# small enough to keep each transaction well under 100 ms, which bounds submit-to-entry latency.
INTEGRATE_BATCH_SIZE = 2_000

ENVELOPE_FIELDS = frozenset({"type", "actor", "subject", "idempotency_key", "data"})
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_KEY_RE = re.compile(r"^[\x21-\x7e]{1,200}$")


@dataclass(frozen=True)
class SubmitResult:
    """What `submit` did: `entry` is set when the key was already in the log."""

    idempotency_key: str
    created: bool
    entry: Entry | None


def _text(name: str, value: object, *, limit: int) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return [f"{name} must be a non-empty string."]
    if len(value) > limit:
        return [f"{name} must be at most {limit} characters."]
    if any(ch in value for ch in "\r\n\t\x00"):
        return [f"{name} must be a single line without control characters."]
    try:
        canonical.dumps(value)
    except canonical.CanonicalError as exc:
        return [f"{name}: {exc}"]
    return []


def _validate(type: str, actor: str, subject: str, idempotency_key: str, data: Any) -> bytes:
    errors: dict[str, list[str]] = {}
    if not isinstance(type, str) or not _TYPE_RE.match(type) or len(type) > 64:
        errors["type"] = ["type must be a dotted lowercase name such as `model.registered`."]
    for name, value, limit in (("actor", actor, 200), ("subject", subject, 200)):
        if problems := _text(name, value, limit=limit):
            errors[name] = problems
    if not isinstance(idempotency_key, str) or not _KEY_RE.match(idempotency_key):
        errors["idempotency_key"] = ["idempotency_key must be 1 to 200 printable ASCII characters without spaces."]
    if not isinstance(data, Mapping):
        errors["data"] = ["data must be a JSON object."]
    if errors:
        raise EventRejected("The event is not valid; nothing was written.", errors=errors)
    try:
        data_bytes = canonical.dumps(dict(data))
    except canonical.CanonicalError as exc:
        raise EventRejected(f"The event's data cannot be logged: {exc}", errors={"data": [str(exc)]}) from None
    size = len(data_bytes) + sum(len(s.encode()) for s in (type, actor, subject, idempotency_key))
    if size > MAX_EVENT_BYTES:
        raise EventRejected(
            f"The event is {size} bytes; the limit is {MAX_EVENT_BYTES} bytes. Store bulky "
            "content in its own record and log its SHA-256 instead.",
            errors={"data": [f"Event too large ({size} > {MAX_EVENT_BYTES} bytes)."]},
        )
    return data_bytes


@transaction.atomic
def submit(*, type: str, actor: str, subject: str, idempotency_key: str, data: Mapping[str, Any]) -> SubmitResult:
    """Queue an event for the log inside the caller's transaction and return what happened.

    A key already in the log or the queue writes nothing and returns the original. Raise
    EventRejected (nothing written) for a malformed, oversized or float-carrying event.
    """
    data_bytes = _validate(type, actor, subject, idempotency_key, data)
    existing = Entry.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return SubmitResult(idempotency_key, created=False, entry=existing)
    try:
        with transaction.atomic():
            Submission.objects.create(
                idempotency_key=idempotency_key,
                type=type,
                actor=actor,
                subject=subject,
                data=data_bytes,
                submitted_at=timezone.now(),
            )
    except IntegrityError:
        # The same key is already queued (a retry racing the original): nothing new to write.
        return SubmitResult(idempotency_key, created=False, entry=None)
    _integrate_after_commit()
    return SubmitResult(idempotency_key, created=True, entry=None)


def _integrate_after_commit() -> None:
    """Ask for the sequencer once per outermost transaction, however many events it submits.

    Not `delay_on_commit`: the hook must be one callable, so a transaction queues it once, and
    `tasks.request_integration` debounces the enqueue per process (at thousands of commits a
    second, one task per commit would flood the broker for no more work done).
    """
    connection = transaction.get_connection()
    # run_on_commit holds (savepoint ids, callable, robust) for the pending transaction.
    if any(item[1] is tasks.request_integration for item in connection.run_on_commit):
        return
    transaction.on_commit(tasks.request_integration)


@transaction.atomic
def submit_many(events: list[Mapping[str, Any]]) -> list[SubmitResult]:
    """Queue many events at once (one query to find known keys, one bulk insert).

    Each event is an envelope mapping as for `submit`; the same rules apply to each, and a
    rejected event rejects the whole call before anything is written.
    """
    prepared = []
    for index, event in enumerate(events):
        try:
            prepared.append(
                (
                    event,
                    _validate(
                        event["type"],
                        event["actor"],
                        event["subject"],
                        event["idempotency_key"],
                        event["data"],
                    ),
                )
            )
        except EventRejected as exc:
            raise EventRejected(f"Event {index}: {exc.message}", errors={str(index): exc.errors}) from None
    keys = [event["idempotency_key"] for event, _ in prepared]
    logged = {e.idempotency_key: e for e in Entry.objects.filter(idempotency_key__in=keys)}
    queued = set(Submission.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True))
    now = timezone.now()
    results, new = [], []
    for event, data_bytes in prepared:
        key = event["idempotency_key"]
        if key in logged or key in queued:
            results.append(SubmitResult(key, created=False, entry=logged.get(key)))
            continue
        queued.add(key)
        new.append(
            Submission(
                idempotency_key=key,
                type=event["type"],
                actor=event["actor"],
                subject=event["subject"],
                data=data_bytes,
                submitted_at=now,
            )
        )
        results.append(SubmitResult(key, created=True, entry=None))
    if new:
        # A concurrent retry may queue the same key first; its row is as good as ours.
        Submission.objects.bulk_create(new, ignore_conflicts=True)
        _integrate_after_commit()
    return results


def entries_wait(keys: list[str], *, attempts: int = 50) -> dict[str, Entry]:
    """Integrate in-process until every key is in the log; return {key: entry}.

    Call after the submitting transaction committed. Raise NotInLog if a key never arrives
    (it was never submitted, or its transaction rolled back).
    """
    found: dict[str, Entry] = {}
    wanted = list(dict.fromkeys(keys))
    for _ in range(attempts):
        missing = [key for key in wanted if key not in found]
        for chunk_start in range(0, len(missing), 1000):
            chunk = missing[chunk_start : chunk_start + 1000]
            found.update((e.idempotency_key, e) for e in Entry.objects.filter(idempotency_key__in=chunk))
        if len(found) == len(wanted):
            return found
        tree_integrate_all()
    raise NotInLog(f"{len(wanted) - len(found)} submitted events never reached the log.")


def submit_envelope(envelope: Mapping[str, Any]) -> SubmitResult:
    """Submit an event given as one mapping; refuse unknown or missing envelope fields."""
    if not isinstance(envelope, Mapping):
        raise EventRejected("An event must be a JSON object.")
    unknown = sorted(set(envelope) - ENVELOPE_FIELDS)
    missing = sorted(ENVELOPE_FIELDS - set(envelope))
    if unknown or missing:
        errors = {name: ["Unknown field."] for name in unknown}
        errors.update({name: ["This field is required."] for name in missing})
        raise EventRejected("The event's fields are not the envelope's fields.", errors=errors)
    return submit(**{name: envelope[name] for name in ENVELOPE_FIELDS})


def _tree_state_locked() -> TreeState:
    state = TreeState.objects.select_for_update().filter(pk=TreeState.SINGLETON).first()
    if state is None:
        TreeState.objects.get_or_create(
            pk=TreeState.SINGLETON,
            defaults={"root": merkle.EMPTY_ROOT, "updated_at": timezone.now()},
        )
        state = TreeState.objects.select_for_update().get(pk=TreeState.SINGLETON)
    return state


def _insert_rows(entries: list[tuple[int, bytes, bytes, str]], nodes: list[tuple[int, int, bytes]]) -> None:
    """Insert entries and nodes with plain parameterised statements.

    The sequencer's hot path: building model instances and compiling bulk inserts cost more
    than hashing, so rows go straight to executemany (pipelined by psycopg on PostgreSQL).
    """
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    # Only model metadata is interpolated; every value is a bound parameter.
    entry_sql = (
        f"INSERT INTO {quote(Entry._meta.db_table)} "  # noqa: S608
        f"({quote('seq')}, {quote('leaf')}, {quote('leaf_hash')}, {quote('idempotency_key')}) VALUES (%s, %s, %s, %s)"
    )
    node_sql = (
        f"INSERT INTO {quote(Node._meta.db_table)} ({quote('level')}, {quote('index')}, {quote('hash')}) "  # noqa: S608
        "VALUES (%s, %s, %s)"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams every row in one round trip: an order of magnitude above INSERTs.
            raw = cursor.cursor
            table, columns = quote(Entry._meta.db_table), "(seq, leaf, leaf_hash, idempotency_key)"
            with raw.copy(f"COPY {table} {columns} FROM STDIN") as copy:
                for row in entries:
                    copy.write_row(row)
            with raw.copy(f'COPY {quote(Node._meta.db_table)} (level, "index", hash) FROM STDIN') as copy:
                for row in nodes:
                    copy.write_row(row)
            return
        if entries:
            cursor.executemany(entry_sql, entries)
        if nodes:
            cursor.executemany(node_sql, nodes)


@transaction.atomic
def tree_integrate(*, batch_size: int = INTEGRATE_BATCH_SIZE) -> int:
    """Sequence up to `batch_size` queued submissions into the log; return how many.

    Holds the tree-state row lock for the whole transaction, so concurrent calls take turns and
    each starts from the size the previous one committed: the tree cannot fork and seq has no gaps.
    """
    state = _tree_state_locked()
    queued = list(
        Submission.objects.order_by("id").values_list("id", "idempotency_key", "type", "actor", "subject", "data")[
            :batch_size
        ]
    )
    if not queued:
        return 0
    already = set(
        Entry.objects.filter(idempotency_key__in=[row[1] for row in queued]).values_list("idempotency_key", flat=True)
    )
    frontier = bytes(state.frontier)
    compact = merkle.CompactRange(state.size, [frontier[i : i + 32] for i in range(0, len(frontier), 32)])
    origin = settings.LEDGER_ORIGIN
    ts = leaf_format.timestamp(timezone.now())
    entries: list[tuple[int, bytes, bytes, str]] = []
    nodes: list[tuple[int, int, bytes]] = []
    for _id, key, type_, actor, subject, data in queued:
        if key in already:
            continue
        already.add(key)
        seq = compact.size
        leaf = leaf_format.encode(
            origin=origin,
            seq=seq,
            ts=ts,
            type=type_,
            actor=actor,
            subject=subject,
            idempotency_key=key,
            data=bytes(data),
        )
        lh = merkle.leaf_hash(leaf)
        entries.append((seq, leaf, lh, key))
        for level, index, digest in compact.append(lh):
            if level:
                nodes.append((level, index, digest))
    _insert_rows(entries, nodes)
    Submission.objects.filter(id__in=[row[0] for row in queued]).delete()
    state.size = compact.size
    state.frontier = b"".join(compact.hashes)
    state.root = compact.root()
    state.updated_at = timezone.now()
    state.save(update_fields=["size", "frontier", "root", "updated_at"])
    return len(entries)


def tree_integrate_all(*, batch_size: int = INTEGRATE_BATCH_SIZE) -> int:
    """Integrate until the queue is empty; return the number of entries added."""
    total = 0
    while True:
        added = tree_integrate(batch_size=batch_size)
        total += added
        if not added and not Submission.objects.exists():
            return total


@transaction.atomic
def checkpoint_sign() -> Checkpoint:
    """Sign the current (size, root) unless the latest checkpoint already covers it; return it.

    Before signing, prove with stored nodes that the new root extends the last signed root
    (RFC 9162 §2.1.4); raise SigningRefused rather than ever sign a fork, or a second root for
    a size that already has one.
    """
    state = _tree_state_locked()
    size, root = state.size, bytes(state.root)
    last = Checkpoint.objects.order_by("-size").first()
    if last is not None:
        if last.size == size:
            if bytes(last.root) != root:
                raise SigningRefused(f"A different root was already signed for size {size}.")
            return last
        if last.size > size:
            raise SigningRefused(f"The tree has {size} entries but size {last.size} was already signed.")
        proof = selectors.consistency_proof(last.size, size, checkpoint_bound=False)
        try:
            merkle.verify_consistency(last.size, size, bytes(last.root), root, proof)
        except merkle.ProofError as exc:
            raise SigningRefused(
                f"The tree at size {size} is not consistent with the checkpoint at size "
                f"{last.size}: {exc}. Refusing to sign a fork."
            ) from None
    signer = keys.active_signer()
    key_row, replaced = keys.signing_key_register(signer)
    if replaced is not None:
        submit(
            type="key.rotated",
            actor="system",
            subject=f"key:{key_row.key_id}",
            idempotency_key=f"key.rotated:{replaced.key_id}:{key_row.key_id}",
            data={"previous": replaced.verifier_key, "current": key_row.verifier_key},
        )
    body = notes.Checkpoint(origin=settings.LEDGER_ORIGIN, size=size, root=root)
    return Checkpoint.objects.create(
        size=size,
        root=root,
        note=notes.sign_checkpoint(body, signer),
        key=key_row,
        signed_at=timezone.now(),
    )
